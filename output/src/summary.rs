//! The run summary: every figure averaged over replications with a Student-t
//! 95% confidence interval. Serialised as `summary.json`.
//!
//! Stable keys (never renamed, only added to): `schema_version`, `scenario`,
//! `seed`, `replications`, `simulated_seconds`, `requests` (`arrived`,
//! `completed`, `failed`, `rejected`), `latency_ms` (`mean`, `p50`, `p90`,
//! `p95`, `p99`, `p999`, `max`), `tiers.<name>` (`utilization`,
//! `queue_wait_ms`, `queue_length`). Every estimated figure is
//! `{"estimate": x, "ci95": [lo, hi]}`. Added by the autoscaling issue:
//! `cost_usd` (`total`, `per_hour`, `per_million_requests`, `tiers.<name>`,
//! `traffic`, `series`), `slos.<name>` (`met`, `replications_breached`,
//! `breach_minutes`, `first_breach_s`, `budget_consumed`) and
//! `scaling.<tier>` (`actions`, `scale_outs`, `scale_ins`, `peak`, `final`).
//! Added by the capacity check: `capacity_check` (see [`crate::capacity`]).
//! Added by the latency breakdown: `classes.<name>.breakdown` (see
//! [`crate::breakdown`]) and `tiers.<name>.latency_ms` (per visit).
//! Added by the cost lines: `cost_usd.peak_per_hour`,
//! `cost_usd.tiers.<name>.purchase` and `.lines`, `cost_usd.load_balancer`,
//! `cost_usd.traffic.cross_region`, `cost_usd.cross_region_transfer` and
//! `cost_usd.series.load_balancer` (see [`crate::sections`]).
//! Added by the case studies: `expectations` and `assumptions` (see
//! [`crate::claims`]), only when the scenario declares them.
//! Only in the summary of a run stopped before its end: `interrupted`,
//! `interrupted_by`, `replications_requested`, `completed_replications`.
//! Only `engine` may differ between two runs with the same seed.

use indexmap::IndexMap;
use serde::Serialize;
use sim_engine::{Estimate, LatencyHistogram};

use capsim_models::{ClientCounts, ReplicationResult, RequestCounts, RunDescription};

use crate::breakdown::BreakdownPart;
use crate::capacity::CapacitySummary;
use crate::claims::{AssumptionRow, Judged};
use crate::sections::{self, CostSummary, ScalingSummary, SloSummary};

pub const SCHEMA_VERSION: u32 = 1;

/// The latency percentiles reported everywhere, as (key, quantile).
pub const LATENCY_QUANTILES: [(&str, f64); 5] = [
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub scenario: String,
    pub description: String,
    pub seed: u64,
    pub replications: u64,
    /// Only in the summary of a run stopped before its end: `interrupted`
    /// (true), why, and which replications every figure covers.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<Interruption>,
    /// Simulated time per replication, warm-up included.
    pub simulated_seconds: f64,
    pub warmup_seconds: f64,
    /// The measured window, what the statistics cover: simulated minus warm-up.
    pub measured_seconds: f64,
    /// Requests created in the measured window, per replication.
    pub requests: Requests,
    /// End-to-end latency over all classes.
    pub latency_ms: Latency,
    /// Completed requests per second of the measured window.
    pub throughput_per_s: Estimate,
    pub classes: IndexMap<String, ClassSummary>,
    pub tiers: IndexMap<String, TierSummary>,
    /// USD in the measured window.
    pub cost_usd: CostSummary,
    /// Service-level objectives, in scenario order.
    pub slos: IndexMap<String, SloSummary>,
    /// Tiers with autoscaling (counts over the whole run, warm-up included).
    pub scaling: IndexMap<String, ScalingSummary>,
    /// With regions: the users of each region (every class together).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub regions: IndexMap<String, RegionSummary>,
    /// The scenario's offered load per resource by the operational laws,
    /// before any simulation.
    pub capacity_check: CapacitySummary,
    /// The source document's expectations, each judged on this run (only
    /// when the scenario declares some; see [`crate::claims`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<Judged>,
    /// Inputs the source document does not give, with their values here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<AssumptionRow>,
    pub engine: Engine,
}

/// What the figures of a stopped run cover. Its replications are those
/// that finished, which need not be the first ones (several run at once),
/// so the figures can differ from a clean run of as many replications.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interruption {
    /// Always true: the key a script tests.
    pub interrupted: bool,
    /// What stopped the run, e.g. `cancelled` (Ctrl-C or SIGTERM).
    pub interrupted_by: String,
    /// The replications the scenario asked for.
    pub replications_requested: u64,
    /// The indices (from 0) of the replications that finished, in order
    /// (with windows: that finished the windows reported).
    pub completed_replications: Vec<u64>,
    /// With windows: the windows the scenario asked for (each replication
    /// reports the first ones, as many as every kept one finished).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows_requested: Option<u32>,
}

impl Interruption {
    pub fn new(by: &str, requested: u64, completed: Vec<u64>) -> Interruption {
        Interruption {
            interrupted: true,
            interrupted_by: by.to_string(),
            replications_requested: requested,
            completed_replications: completed,
            windows_requested: None,
        }
    }
}

/// The users of one region: what they asked, how long they waited, and
/// which regions served them.
#[derive(Clone, Debug, Serialize)]
pub struct RegionSummary {
    /// Fraction of the users (the scenario's `share`).
    pub share: f64,
    pub utc_offset_hours: f64,
    pub requests: Requests,
    pub latency_ms: Latency,
    /// Fraction of their attempts routed to each region (nearest usable
    /// first, so anything but their own region is failover or distance).
    pub served_by: IndexMap<String, Estimate>,
}

/// Client requests (transactions) per replication:
/// `arrived = completed + failed + rejected + in_flight`, and what clients
/// did besides: attempts they gave up on, retries, and attempts the servers
/// finished for nobody.
#[derive(Clone, Debug, Serialize)]
pub struct Requests {
    pub arrived: Estimate,
    pub completed: Estimate,
    pub failed: Estimate,
    pub rejected: Estimate,
    pub in_flight: Estimate,
    pub timed_out: Estimate,
    pub retries: Estimate,
    pub wasted: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub mean: Estimate,
    pub p50: Estimate,
    pub p90: Estimate,
    pub p95: Estimate,
    pub p99: Estimate,
    pub p999: Estimate,
    pub max: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClassSummary {
    pub requests: Requests,
    pub latency_ms: Latency,
    /// Where its answered requests' time went (see [`crate::breakdown`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<BreakdownPart>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TierSummary {
    pub kind: String,
    /// The tier's figures in the model's fixed order (`utilization`,
    /// `queue_wait_ms`, `queue_length`, then kind-specific ones).
    #[serde(flatten)]
    pub metrics: IndexMap<String, Estimate>,
    /// The time of a request's visit (a tier the routes visit), as the
    /// tier's latency series counts it (see `capsim_models::results::TierResult::visits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Latency>,
    /// Per unit (API instance, cache shard, database node), when the kind has
    /// units.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub units: IndexMap<String, IndexMap<String, Estimate>>,
}

/// How the run went as a computation. Differs between runs; nothing else does.
#[derive(Clone, Debug, Serialize)]
pub struct Engine {
    pub events: u64,
    pub wall_seconds: f64,
    pub events_per_second: f64,
    pub threads: usize,
    pub version: String,
}

/// What the summary needs to know about the run besides its results.
pub struct RunInfo<'a> {
    pub run: &'a RunDescription,
    pub scenario: &'a str,
    pub description: &'a str,
    pub seed: u64,
    pub simulated_seconds: f64,
    pub warmup_seconds: f64,
    pub wall_seconds: f64,
    pub threads: usize,
}

fn estimate_of<T>(items: &[T], f: impl Fn(&T) -> f64) -> Estimate {
    let xs: Vec<f64> = items.iter().map(f).collect();
    Estimate::from_samples(&xs)
}

fn requests_of(counts: &[(RequestCounts, ClientCounts)]) -> Requests {
    Requests {
        arrived: estimate_of(counts, |c| c.0.arrived as f64),
        completed: estimate_of(counts, |c| c.0.completed as f64),
        failed: estimate_of(counts, |c| c.0.failed as f64),
        rejected: estimate_of(counts, |c| c.0.rejected as f64),
        in_flight: estimate_of(counts, |c| c.0.in_flight as f64),
        timed_out: estimate_of(counts, |c| c.1.timed_out as f64),
        retries: estimate_of(counts, |c| c.1.retries as f64),
        wasted: estimate_of(counts, |c| c.1.wasted as f64),
    }
}

fn latency_of(hists: &[LatencyHistogram]) -> Latency {
    let q = |p: f64| estimate_of(hists, |h| h.quantile_ms(p));
    Latency {
        mean: estimate_of(hists, |h| h.mean_ms()),
        p50: q(0.50),
        p90: q(0.90),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: estimate_of(hists, |h| h.max_ms()),
    }
}

/// Per region of users: every class of theirs together.
fn regions_of(
    run: &RunDescription,
    results: &[ReplicationResult],
) -> IndexMap<String, RegionSummary> {
    let mut out = IndexMap::new();
    let regions = &run.regions;
    for (ri, region) in regions.iter().enumerate() {
        let mine = |r: &ReplicationResult| -> Vec<usize> {
            (0..r.classes.len())
                .filter(|&k| r.classes[k].region == Some(ri as u16))
                .collect()
        };
        let mut counts = Vec::with_capacity(results.len());
        let mut hists = Vec::with_capacity(results.len());
        let mut served: Vec<Vec<f64>> = Vec::with_capacity(results.len());
        for r in results {
            let (mut rc_, mut cc) = (RequestCounts::default(), ClientCounts::default());
            let mut h = LatencyHistogram::new();
            let mut by = vec![0u64; regions.len()];
            for k in mine(r) {
                let c = &r.classes[k];
                rc_.add(&c.counts);
                cc.add(&c.client);
                h.merge(&c.latency);
                for (j, n) in c.served_by.iter().enumerate() {
                    by[j] += n;
                }
            }
            let total = by.iter().sum::<u64>().max(1) as f64;
            served.push(by.iter().map(|&n| n as f64 / total).collect());
            counts.push((rc_, cc));
            hists.push(h);
        }
        let served_by = regions
            .iter()
            .enumerate()
            .map(|(j, s)| (s.name.clone(), estimate_of(&served, |v| v[j])))
            .collect();
        out.insert(
            region.name.clone(),
            RegionSummary {
                share: region.share,
                utc_offset_hours: region.utc_offset_s as f64 / 3600.0,
                requests: requests_of(&counts),
                latency_ms: latency_of(&hists),
                served_by,
            },
        );
    }
    out
}

/// Per class: its requests and latency.
fn classes_of(results: &[ReplicationResult]) -> IndexMap<String, ClassSummary> {
    let mut classes = IndexMap::new();
    let Some(first) = results.first() else {
        return classes;
    };
    for (i, c) in first.classes.iter().enumerate() {
        let counts: Vec<(RequestCounts, ClientCounts)> = results
            .iter()
            .map(|r| (r.classes[i].counts, r.classes[i].client))
            .collect();
        let hists: Vec<LatencyHistogram> = results
            .iter()
            .map(|r| r.classes[i].latency.clone())
            .collect();
        classes.insert(
            c.name.clone(),
            ClassSummary {
                requests: requests_of(&counts),
                latency_ms: latency_of(&hists),
                breakdown: crate::breakdown::class_breakdown(results, i),
            },
        );
    }
    classes
}

/// Per tier: its kind, its figures and each unit's figures.
fn tiers_of(results: &[ReplicationResult]) -> IndexMap<String, TierSummary> {
    let mut tiers = IndexMap::new();
    let Some(first) = results.first() else {
        return tiers;
    };
    for (i, t) in first.tiers.iter().enumerate() {
        let metrics = t
            .metrics
            .iter()
            .enumerate()
            .map(|(j, f)| {
                (
                    f.name.to_string(),
                    estimate_of(results, |r| r.tiers[i].metrics[j].value),
                )
            })
            .collect();
        tiers.insert(
            t.name.clone(),
            TierSummary {
                kind: t.kind.label().to_string(),
                metrics,
                latency_ms: t.visits.as_ref().map(|_| {
                    let hists: Vec<LatencyHistogram> = results
                        .iter()
                        .map(|r| r.tiers[i].visits.clone().unwrap_or_default())
                        .collect();
                    latency_of(&hists)
                }),
                units: units_of(results, i),
            },
        );
    }
    tiers
}

/// Tier `i`'s units, each with its figures. Autoscaling gives replications
/// different numbers of units: list every unit any replication had (units
/// are numbered in order), each averaged over the replications that had it.
fn units_of(
    results: &[ReplicationResult],
    i: usize,
) -> IndexMap<String, IndexMap<String, Estimate>> {
    let widest = results
        .iter()
        .map(|r| &r.tiers[i].units)
        .max_by_key(|u| u.len())
        .unwrap_or(&results[0].tiers[i].units);
    widest
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            let m = unit
                .metrics
                .iter()
                .enumerate()
                .map(|(j, f)| {
                    (
                        f.name.to_string(),
                        estimate_of(results, |r| {
                            r.tiers[i]
                                .units
                                .get(u)
                                .and_then(|unit| unit.metrics.get(j))
                                .map_or(f64::NAN, |m| m.value)
                        }),
                    )
                })
                .collect();
            (unit.name.clone(), m)
        })
        .collect()
}

impl Summary {
    /// Reduces replication results (in replication order) to the summary.
    pub fn new(info: &RunInfo<'_>, results: &[ReplicationResult]) -> Summary {
        let totals: Vec<(RequestCounts, ClientCounts)> = results
            .iter()
            .map(|r| (r.totals(), r.client_totals()))
            .collect();
        let latency: Vec<LatencyHistogram> = results.iter().map(|r| r.latency()).collect();
        let measured_seconds = info.simulated_seconds - info.warmup_seconds;
        let events: u64 = results.iter().map(|r| r.events).sum();
        Summary {
            schema_version: SCHEMA_VERSION,
            scenario: info.scenario.to_string(),
            description: info.description.to_string(),
            seed: info.seed,
            replications: results.len() as u64,
            interruption: None,
            simulated_seconds: info.simulated_seconds,
            warmup_seconds: info.warmup_seconds,
            measured_seconds,
            requests: requests_of(&totals),
            latency_ms: latency_of(&latency),
            throughput_per_s: estimate_of(&totals, |c| c.0.completed as f64 / measured_seconds),
            classes: classes_of(results),
            tiers: tiers_of(results),
            cost_usd: sections::cost(info.run, results, measured_seconds),
            slos: sections::slos(info.run, results),
            scaling: sections::scaling(results),
            regions: regions_of(info.run, results),
            capacity_check: CapacitySummary::new(&info.run.capacity),
            expectations: Vec::new(),
            assumptions: Vec::new(),
            engine: Engine {
                events,
                wall_seconds: info.wall_seconds,
                events_per_second: if info.wall_seconds > 0.0 {
                    events as f64 / info.wall_seconds
                } else {
                    0.0
                },
                threads: info.threads,
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
        }
    }

    /// Judges the scenario's expectations on these figures (for a run of
    /// `variant`) and records its assumptions.
    pub fn judge(
        &mut self,
        expectations: &[capsim_models::Expectation],
        assumptions: &[capsim_models::Assumption],
        variant: Option<&str>,
    ) {
        (self.expectations, self.assumptions) =
            crate::claims::claims_of(&*self, expectations, assumptions, variant);
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a summary always serialises");
        out.push(b'\n');
        out
    }

    /// Whether every objective held in every replication (true when there
    /// are none).
    pub fn slos_met(&self) -> bool {
        self.slos.values().all(|s| s.met)
    }
}

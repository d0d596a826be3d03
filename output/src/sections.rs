//! The summary's cost, SLO and scaling sections.

use indexmap::IndexMap;
use serde::Serialize;
use sim_engine::Estimate;

use capsim_models::{Objective, ObjectiveDescription, ReplicationResult, RunDescription};

use crate::csv_series::layout;

fn estimate_of<T>(items: &[T], f: impl Fn(&T) -> f64) -> Estimate {
    let xs: Vec<f64> = items.iter().map(f).collect();
    Estimate::from_samples(&xs)
}

/// What the run cost in the measured window, USD per replication.
#[derive(Clone, Debug, Serialize)]
pub struct CostSummary {
    pub total: Estimate,
    /// Total over measured hours.
    pub per_hour: Estimate,
    /// Total per million completed requests (per replication, then averaged).
    pub per_million_requests: Estimate,
    pub tiers: IndexMap<String, TierCost>,
    pub traffic: TrafficSummary,
    pub series: CostSeries,
}

#[derive(Clone, Debug, Serialize)]
pub struct TierCost {
    /// The instance type, "custom", or "unpriced".
    pub priced_as: String,
    /// List price of a unit, USD per hour (0 when unpriced).
    pub list_price_per_hour: f64,
    pub total: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrafficSummary {
    pub cdn: Estimate,
    pub egress: Estimate,
}

/// USD per interval over the whole run (warm-up included), the mean over
/// replications.
#[derive(Clone, Debug, Serialize)]
pub struct CostSeries {
    pub interval_seconds: f64,
    pub total: Vec<f64>,
    pub tiers: IndexMap<String, Vec<f64>>,
    pub traffic: Vec<f64>,
}

fn mean_series<'a>(series: impl Iterator<Item = &'a [f64]>, n: usize) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for s in series {
        if out.len() < s.len() {
            out.resize(s.len(), 0.0);
        }
        for (o, x) in out.iter_mut().zip(s) {
            *o += x;
        }
    }
    for o in &mut out {
        *o /= n.max(1) as f64;
    }
    out
}

pub fn cost(
    run: &RunDescription,
    results: &[ReplicationResult],
    measured_seconds: f64,
) -> CostSummary {
    let n = results.len();
    let mut tiers = IndexMap::new();
    let mut tier_series = IndexMap::new();
    for (i, t) in layout(results).0.iter().enumerate() {
        let (priced_as, price) = match &t.list_price {
            Some(p) => (p.label.clone(), p.per_hour),
            None => ("unpriced".to_string(), 0.0),
        };
        tiers.insert(
            t.name.clone(),
            TierCost {
                priced_as,
                list_price_per_hour: price,
                total: estimate_of(results, |r| r.tiers[i].metric("cost_usd").unwrap_or(0.0)),
            },
        );
        tier_series.insert(
            t.name.clone(),
            mean_series(
                results.iter().filter_map(|r| r.tiers[i].series("cost_usd")),
                n,
            ),
        );
    }
    let traffic = mean_series(results.iter().map(|r| r.traffic.series.as_slice()), n);
    let mut total = traffic.clone();
    for s in tier_series.values() {
        if total.len() < s.len() {
            total.resize(s.len(), 0.0);
        }
        for (o, x) in total.iter_mut().zip(s) {
            *o += x;
        }
    }
    CostSummary {
        total: estimate_of(results, |r| r.cost_usd()),
        per_hour: estimate_of(results, |r| r.cost_usd() / (measured_seconds / 3600.0)),
        per_million_requests: estimate_of(results, |r| {
            let done = r.totals().completed;
            if done == 0 {
                f64::NAN
            } else {
                r.cost_usd() / done as f64 * 1e6
            }
        }),
        tiers,
        traffic: TrafficSummary {
            cdn: estimate_of(results, |r| r.traffic.cdn_usd),
            egress: estimate_of(results, |r| r.traffic.egress_usd),
        },
        series: CostSeries {
            interval_seconds: run.series_interval.as_secs_f64(),
            total,
            tiers: tier_series,
            traffic,
        },
    }
}

/// One objective's verdict over all replications.
#[derive(Clone, Debug, Serialize)]
pub struct SloSummary {
    /// In words, e.g. "p95 latency ≤ 200ms in every 1m window".
    pub objective: String,
    /// The objective in numbers: `latency` (or `queue_latency`) with
    /// `percentile` and `threshold_ms`, `error_rate` with `max`, or
    /// `availability` with `target`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Requests of users in this region only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub window_seconds: f64,
    /// No window breached in any replication.
    pub met: bool,
    pub replications_breached: u64,
    pub breach_windows: Estimate,
    pub breach_minutes: Estimate,
    /// Over the replications that breached: the earliest start of a first
    /// breaching window, and the median of them. Absent when none breached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_breach_s: Option<FirstBreach>,
    /// Bad events over the bad events the objective allows over the
    /// measured window (1 = the whole error budget).
    pub budget_consumed: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct FirstBreach {
    pub earliest: f64,
    pub median: f64,
}

/// The objective in words.
pub fn describe(s: &ObjectiveDescription) -> String {
    let what = describe_objective(s);
    match (&s.class, &s.region) {
        (Some(c), Some(r)) => format!("{what} ({c} requests of users in {r})"),
        (None, Some(r)) => format!("{what} (users in {r})"),
        _ => what,
    }
}

fn describe_objective(s: &ObjectiveDescription) -> String {
    let slo_window = s.window;
    match &s.objective {
        Objective::Latency {
            quantile,
            threshold,
        } => format!(
            "p{} latency ≤ {threshold} in every {slo_window} window",
            capsim_models::quantile_label(*quantile)
        ),
        Objective::QueueLatency {
            quantile,
            threshold,
        } => format!(
            "p{} queue latency ≤ {threshold} in every {slo_window} window",
            capsim_models::quantile_label(*quantile)
        ),
        Objective::ErrorRate { max } => {
            format!("error rate ≤ {}% in every {slo_window} window", max * 100.0)
        }
        Objective::Availability { target } => {
            format!(
                "availability ≥ {}% in every {slo_window} window",
                target * 100.0
            )
        }
    }
}

pub fn slos(run: &RunDescription, results: &[ReplicationResult]) -> IndexMap<String, SloSummary> {
    let mut out = IndexMap::new();
    for (i, s) in run.objectives.iter().enumerate() {
        let breached = results.iter().filter(|r| !r.slos[i].met()).count() as u64;
        let mut firsts: Vec<f64> = results
            .iter()
            .filter_map(|r| r.slos[i].first_breach_s)
            .collect();
        firsts.sort_by(f64::total_cmp);
        let first_breach_s = (!firsts.is_empty()).then(|| FirstBreach {
            earliest: firsts[0],
            median: if firsts.len() % 2 == 1 {
                firsts[firsts.len() / 2]
            } else {
                (firsts[firsts.len() / 2 - 1] + firsts[firsts.len() / 2]) / 2.0
            },
        });
        out.insert(
            s.name.clone(),
            SloSummary {
                objective: describe(s),
                kind: match s.objective {
                    Objective::Latency { .. } => "latency",
                    Objective::QueueLatency { .. } => "queue_latency",
                    Objective::ErrorRate { .. } => "error_rate",
                    Objective::Availability { .. } => "availability",
                },
                percentile: match s.objective {
                    Objective::Latency { quantile, .. }
                    | Objective::QueueLatency { quantile, .. } => Some(quantile * 100.0),
                    _ => None,
                },
                threshold_ms: match s.objective {
                    Objective::Latency { threshold, .. }
                    | Objective::QueueLatency { threshold, .. } => Some(threshold.as_millis_f64()),
                    _ => None,
                },
                max: match s.objective {
                    Objective::ErrorRate { max } => Some(max),
                    _ => None,
                },
                target: match s.objective {
                    Objective::Availability { target } => Some(target),
                    _ => None,
                },
                class: s.class.clone(),
                region: s.region.clone(),
                tier: s.tier.clone(),
                window_seconds: s.window.as_secs_f64(),
                met: breached == 0,
                replications_breached: breached,
                breach_windows: estimate_of(results, |r| r.slos[i].breach_windows as f64),
                breach_minutes: estimate_of(results, |r| r.slos[i].breach_minutes),
                first_breach_s,
                budget_consumed: estimate_of(results, |r| r.slos[i].budget_consumed),
            },
        );
    }
    out
}

/// How a scaling tier's capacity moved, per replication.
#[derive(Clone, Debug, Serialize)]
pub struct ScalingSummary {
    /// What the counts count: instances, workers, replicas or shards.
    pub units: String,
    pub min: u32,
    pub max: u32,
    pub initial: u32,
    pub actions: Estimate,
    pub scale_outs: Estimate,
    pub scale_ins: Estimate,
    /// Largest and last desired count.
    pub peak: Estimate,
    #[serde(rename = "final")]
    pub final_: Estimate,
}

pub fn scaling(results: &[ReplicationResult]) -> IndexMap<String, ScalingSummary> {
    let mut out = IndexMap::new();
    for (i, t) in layout(results).0.iter().enumerate() {
        let Some(s) = t.scaling else {
            continue;
        };
        let initial = s.initial;
        let tier = i as u16;
        fn events(r: &ReplicationResult, tier: u16) -> Vec<&capsim_models::ScalingEvent> {
            r.scaling.iter().filter(|e| e.tier == tier).collect()
        }
        out.insert(
            t.name.clone(),
            ScalingSummary {
                units: s.noun.many.to_string(),
                min: s.min,
                max: s.max,
                initial,
                actions: estimate_of(results, |r| events(r, tier).len() as f64),
                scale_outs: estimate_of(results, |r| {
                    events(r, tier).iter().filter(|e| e.to > e.from).count() as f64
                }),
                scale_ins: estimate_of(results, |r| {
                    events(r, tier).iter().filter(|e| e.to < e.from).count() as f64
                }),
                peak: estimate_of(results, |r| {
                    events(r, tier).iter().map(|e| e.to).fold(initial, u32::max) as f64
                }),
                final_: estimate_of(results, |r| {
                    events(r, tier).last().map_or(initial, |e| e.to) as f64
                }),
            },
        );
    }
    out
}

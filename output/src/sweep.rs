//! Sweeps: each point's key figures per replication, and the sweep's
//! aggregation into `sweep.csv`, `pareto.csv` and `sweep.json`.
//!
//! ```text
//!   plan (sweep-plan.json) ─┐
//!   point results ──► PointRecord (points/NNNNN.json) ──► SweepReport ──► sweep.csv
//!                     per replication, written when                      pareto.csv
//!                     the point finishes                                 sweep.json, plots
//! ```
//!
//! The report is a pure function of the plan and the point files, so a
//! sharded sweep merged afterwards writes exactly what an unsharded one does.
//! Every point runs replication `j` with the same random streams (common
//! random numbers), so its difference to the baseline is estimated from
//! paired per-replication differences.

use std::fmt::Write as _;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_engine::Estimate;
use sim_engine::special::student_t_quantile;

use capsim_models::description::LatencyObjective;
use capsim_models::windows::Chain;
use capsim_models::{ClientCounts, ReplicationResult, RequestCounts, SweepPlan, SweepWindows};
use sim_engine::{LatencyHistogram, SimDuration};

use crate::table::fmt_num;

pub const SWEEP_SCHEMA_VERSION: u32 = 2;

/// FNV-1a, 64 bits: a stable fingerprint of sweep files (not a security
/// hash).
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The latency figures a sweep can optimise for.
pub const METRICS: [&str; 6] = ["mean", "p50", "p90", "p95", "p99", "p999"];

/// The figure key of a latency metric (`p99` → `latency_p99_ms`).
pub fn metric_key(metric: &str) -> Result<String, String> {
    if METRICS.contains(&metric) {
        Ok(format!("latency_{metric}_ms"))
    } else {
        Err(format!(
            "`{metric}` is not a latency figure: use one of {}",
            METRICS.join(", ")
        ))
    }
}

/// One point's figures per replication: `points/NNNNN.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRecord {
    pub schema_version: u32,
    /// The identity of the plan the point belongs to (see
    /// `capsim_runner::sweep::identity`).
    pub plan: String,
    pub index: usize,
    pub values: Vec<String>,
    /// Names of the figures, in the order of each replication's row.
    pub figures: Vec<String>,
    /// One row per replication, in replication order; `null` where a
    /// replication has no value (no request completed).
    pub replications: Vec<Vec<Option<f64>>>,
    /// FNV-1a 64 of the fields above (their compact JSON), set by
    /// [`PointRecord::to_json`]: a point file edited or damaged after it was
    /// written is caught when a resume or a merge reads it back.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub checksum: String,
}

impl PointRecord {
    /// Point `index` of `plan` (whose identity is `identity`): `figures`
    /// named, a row of them per replication.
    pub fn new(
        plan: &SweepPlan,
        identity: &str,
        index: usize,
        figures: Vec<String>,
        replications: Vec<Vec<Option<f64>>>,
    ) -> PointRecord {
        PointRecord {
            schema_version: SWEEP_SCHEMA_VERSION,
            plan: identity.to_string(),
            index,
            values: plan.points[index].clone(),
            figures,
            replications,
            checksum: String::new(),
        }
    }

    /// The file's bytes, with the checksum of the record.
    pub fn to_json(&self) -> Vec<u8> {
        let record = PointRecord {
            checksum: self.expected_checksum(),
            ..self.clone()
        };
        let mut out = serde_json::to_vec_pretty(&record).expect("a point always serialises");
        out.push(b'\n');
        out
    }

    pub fn from_json(bytes: &[u8]) -> Result<PointRecord, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a capsim sweep point: {e}"))
    }

    /// Whether the checksum read with the record is that of its contents.
    /// Floats read back exactly (serde_json's `float_roundtrip`), so an
    /// untouched file always matches.
    pub fn checksum_matches(&self) -> bool {
        !self.checksum.is_empty() && self.checksum == self.expected_checksum()
    }

    fn expected_checksum(&self) -> String {
        let bare = PointRecord {
            checksum: String::new(),
            ..self.clone()
        };
        let bytes = serde_json::to_vec(&bare).expect("a point always serialises");
        format!("{:016x}", fnv64(&bytes))
    }

    /// The per-replication values of `figure` (NaN where missing).
    pub fn samples(&self, figure: &str) -> Vec<f64> {
        match self.figures.iter().position(|f| f == figure) {
            Some(i) => self
                .replications
                .iter()
                .map(|r| r.get(i).copied().flatten().unwrap_or(f64::NAN))
                .collect(),
            None => vec![f64::NAN; self.replications.len()],
        }
    }
}

/// The figures every point has, in the order of each replication's row
/// (objectives' and scaled tiers' follow).
const POINT_FIGURES: [&str; 18] = [
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "throughput_per_s",
    "arrived",
    "completed",
    "failed",
    "rejected",
    "timed_out",
    "retries",
    "error_rate",
    "cost_usd",
    "cost_per_hour_usd",
    "breach_minutes",
    "slos_breached",
];

/// What one replication's row of a point is made of: a run of one horizon,
/// or a chain of windows taken together.
struct Reading {
    latency: LatencyHistogram,
    totals: RequestCounts,
    client: ClientCounts,
    measured_s: f64,
    cost_usd: f64,
    /// Per objective: breach minutes, held, share of the error budget used.
    slos: Vec<(f64, bool, f64)>,
    /// Per autoscaled tier, the most units it had.
    peaks: Vec<u32>,
}

impl Reading {
    fn of_run(r: &ReplicationResult) -> Reading {
        let peaks = r
            .tiers
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.scaling.map(|s| (i, s.initial)))
            .map(|(i, initial)| {
                r.scaling
                    .iter()
                    .filter(|e| usize::from(e.tier) == i)
                    .map(|e| e.to)
                    .fold(initial, u32::max)
            })
            .collect();
        Reading {
            latency: r.latency(),
            totals: r.totals(),
            client: r.client_totals(),
            measured_s: r.measured.as_secs_f64(),
            cost_usd: r.cost_usd(),
            slos: r
                .slos
                .iter()
                .map(|s| (s.breach_minutes, s.met(), s.budget_consumed))
                .collect(),
            peaks,
        }
    }

    /// The windows of a chain as one: their requests, cost and breach
    /// minutes added, an objective held if it held in every window, the
    /// budget used the windows' mean (they are equally long), a tier's peak
    /// its most in any window.
    fn of_chain(c: &Chain) -> Reading {
        let w0 = &c.windows[0];
        let mut totals = RequestCounts::default();
        let mut client = ClientCounts::default();
        for w in &c.windows {
            totals.add(&w.counts);
            client.add(&w.client);
        }
        let n = c.windows.len() as f64;
        let slos = (0..w0.breach_minutes.len())
            .map(|o| {
                (
                    c.windows.iter().map(|w| w.breach_minutes[o]).sum(),
                    c.windows.iter().all(|w| w.slo_met[o]),
                    c.windows.iter().map(|w| w.budget_consumed[o]).sum::<f64>() / n,
                )
            })
            .collect();
        let peaks = (0..w0.tiers.len())
            .filter(|&t| w0.tiers[t].units.is_some())
            .map(|t| {
                c.windows
                    .iter()
                    .filter_map(|w| w.tiers[t].units.map(|u| u.peak))
                    .fold(0, u32::max)
            })
            .collect();
        Reading {
            latency: c.latency.clone(),
            totals,
            client,
            measured_s: c.windows.iter().map(|w| w.measured_s).sum(),
            cost_usd: c.windows.iter().map(|w| w.cost_usd).sum(),
            slos,
            peaks,
        }
    }

    fn row(&self) -> Vec<Option<f64>> {
        let finite = |x: f64| x.is_finite().then_some(x);
        let (latency, totals) = (&self.latency, &self.totals);
        let mut row = vec![
            finite(latency.mean_ms()),
            finite(latency.quantile_ms(0.50)),
            finite(latency.quantile_ms(0.90)),
            finite(latency.quantile_ms(0.95)),
            finite(latency.quantile_ms(0.99)),
            finite(latency.quantile_ms(0.999)),
            finite(totals.completed as f64 / self.measured_s),
            Some(totals.arrived as f64),
            Some(totals.completed as f64),
            Some(totals.failed as f64),
            Some(totals.rejected as f64),
            Some(self.client.timed_out as f64),
            Some(self.client.retries as f64),
            totals.error_rate(),
            Some(self.cost_usd),
            finite(self.cost_usd / (self.measured_s / 3600.0)),
            Some(self.slos.iter().map(|s| s.0).sum()),
            Some(self.slos.iter().filter(|s| !s.1).count() as f64),
        ];
        for &(minutes, met, budget) in &self.slos {
            row.push(Some(minutes));
            row.push(Some(if met { 0.0 } else { 1.0 }));
            row.push(finite(budget));
        }
        row.extend(self.peaks.iter().map(|&p| Some(f64::from(p))));
        row
    }
}

/// The figure names of a point's rows: [`POINT_FIGURES`], then each
/// objective's and each autoscaled tier's.
fn figure_names<'a>(
    objectives: impl Iterator<Item = &'a str>,
    scaled: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut figures: Vec<String> = POINT_FIGURES.iter().map(|s| s.to_string()).collect();
    for name in objectives {
        figures.push(format!("slo:{name}:breach_minutes"));
        figures.push(format!("slo:{name}:breached"));
        figures.push(format!("slo:{name}:budget_used"));
    }
    for tier in scaled {
        figures.push(format!("peak:{tier}"));
    }
    figures
}

/// A point's key figures, per replication. `identity` is the plan's
/// identity, computed once per sweep (it hashes every point).
/// Objectives and tiers are named as the first replication names them
/// (every replication has the same).
pub fn point_record(
    plan: &SweepPlan,
    identity: &str,
    index: usize,
    results: &[ReplicationResult],
) -> PointRecord {
    let (slos, tiers) = results
        .first()
        .map_or((&[][..], &[][..]), |r| (&r.slos[..], &r.tiers[..]));
    let figures = figure_names(
        slos.iter().map(|s| s.name.as_str()),
        tiers
            .iter()
            .filter(|t| t.scaling.is_some())
            .map(|t| t.name.as_str()),
    );
    let replications = results.iter().map(|r| Reading::of_run(r).row()).collect();
    PointRecord::new(plan, identity, index, figures, replications)
}

/// A point of a sweep of a scenario run in windows: per replication, its
/// chain of windows taken together (latency over every window's measured
/// requests, totals added; see [`Reading::of_chain`]), then the windows in
/// which some objective breached, and per window (numbered as in
/// `windows.csv`, from 0) its breach minutes and cost per hour.
/// `objectives` names the scenario's objectives in order.
pub fn chain_point_record(
    plan: &SweepPlan,
    identity: &str,
    index: usize,
    objectives: &[String],
    chains: &[Chain],
) -> PointRecord {
    let tiers = chains.first().map_or(&[][..], |c| &c.windows[0].tiers[..]);
    let mut figures = figure_names(
        objectives.iter().map(String::as_str),
        tiers
            .iter()
            .filter(|t| t.units.is_some())
            .map(|t| t.name.as_str()),
    );
    figures.push("breaching_windows".into());
    let windows = chains.first().map_or(0, |c| c.windows.len());
    for k in 0..windows {
        figures.push(format!("window:{k}:breach_minutes"));
        figures.push(format!("window:{k}:cost_per_hour_usd"));
    }
    let replications = chains
        .iter()
        .map(|c| {
            let mut row = Reading::of_chain(c).row();
            let breaching = c
                .windows
                .iter()
                .filter(|w| w.breach_minutes.iter().any(|&m| m > 0.0))
                .count();
            row.push(Some(breaching as f64));
            for w in &c.windows {
                row.push(Some(w.breach_minutes.iter().sum()));
                let per_hour = w.cost_usd / (w.measured_s / 3600.0);
                row.push(per_hour.is_finite().then_some(per_hour));
            }
            row
        })
        .collect();
    PointRecord::new(plan, identity, index, figures, replications)
}

/// A difference to the baseline: the mean of the paired per-replication
/// differences with its Student-t 95% interval, and the interval an
/// unpaired (Welch) comparison of the two means would give.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    pub estimate: f64,
    pub ci95: [f64; 2],
    pub unpaired_ci95: [f64; 2],
}

impl Diff {
    pub fn of(point: &[f64], baseline: &[f64]) -> Diff {
        let pairs: Vec<(f64, f64)> = point
            .iter()
            .zip(baseline)
            .map(|(&a, &b)| (a, b))
            .filter(|(a, b)| !a.is_nan() && !b.is_nan())
            .collect();
        // A pair that differs only in the last bits of its terms (a cost
        // summed in another order, 0.1 + 0.2 against 0.3) is equal.
        let d: Vec<f64> = pairs
            .iter()
            .map(|&(a, b)| {
                if (a - b).abs() <= a.abs().max(b.abs()) * 1e-12 {
                    0.0
                } else {
                    a - b
                }
            })
            .collect();
        let mut paired = Estimate::from_samples(&d);
        // Differences that cancel leave rounding noise (-4.5e-14), not an
        // effect: no mean can be resolved below the terms' own rounding.
        let scale = d.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if paired.estimate.abs() <= scale * 1e-12 {
            paired.estimate = 0.0;
        }
        let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let b: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        Diff {
            estimate: paired.estimate,
            ci95: paired.ci95,
            unpaired_ci95: welch(&a, &b),
        }
    }

    pub fn half_width(&self) -> f64 {
        (self.ci95[1] - self.ci95[0]) / 2.0
    }

    pub fn unpaired_half_width(&self) -> f64 {
        (self.unpaired_ci95[1] - self.unpaired_ci95[0]) / 2.0
    }
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Welch's 95% interval for mean(a) − mean(b), treating them as independent.
pub(crate) fn welch(a: &[f64], b: &[f64]) -> [f64; 2] {
    if a.len() < 2 || b.len() < 2 {
        return [f64::NAN, f64::NAN];
    }
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    let d = ma - mb;
    if se2 == 0.0 {
        return [d, d];
    }
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    let half = student_t_quantile(0.975, df) * se2.sqrt();
    [d - half, d + half]
}

/// A point of the report.
#[derive(Clone, Debug, Serialize)]
pub struct PointSummary {
    pub index: usize,
    pub baseline: bool,
    /// Parameter path → value, as a person reads it.
    pub values: IndexMap<String, String>,
    pub figures: IndexMap<String, Estimate>,
    /// Difference to the baseline, per figure.
    pub vs_baseline: IndexMap<String, Diff>,
    /// No objective was breached in any replication (true when there are none).
    pub meets_slos: bool,
    pub replications_breaching: u64,
    pub pareto: bool,
}

/// What a sweep found.
#[derive(Clone, Debug, Serialize)]
pub struct SweepReport {
    pub schema_version: u32,
    pub scenario: String,
    pub seed: u64,
    pub replications: u64,
    pub sample: String,
    /// The latency figure of the Pareto front and the verdicts.
    pub metric: String,
    pub params: Vec<String>,
    /// The end-to-end latency objectives (drawn on the Pareto plot).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub latency_objectives: Vec<LatencyObjective>,
    /// Of a scenario run in `[windows]`: the chain each point ran; its
    /// figures are the chain's windows taken together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<SweepWindows>,
    pub objectives: Vec<String>,
    /// Points on the Pareto front of cost, the metric and breach minutes
    /// (all minimised), by increasing cost.
    pub pareto: Vec<usize>,
    /// The cheapest point that meets every objective, if any does.
    pub cheapest_meeting_slos: Option<usize>,
    pub points: Vec<PointSummary>,
}

/// The records by point index; an error names points outside the plan or
/// not done.
fn in_plan_order<'a>(
    plan: &SweepPlan,
    records: &'a [PointRecord],
) -> Result<Vec<&'a PointRecord>, String> {
    let mut by_index: Vec<Option<&PointRecord>> = vec![None; plan.points.len()];
    for r in records {
        match by_index.get_mut(r.index) {
            Some(slot) => *slot = Some(r),
            None => return Err(format!("point {} is not in the plan", r.index)),
        }
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_none())
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!("points not done: {}", missing.join(", ")));
    }
    Ok(by_index.into_iter().flatten().collect())
}

impl PointSummary {
    /// One point's estimates and its paired differences to `base`.
    fn of(plan: &SweepPlan, r: &PointRecord, base: &PointRecord) -> PointSummary {
        let figures = r
            .figures
            .iter()
            .map(|f| (f.clone(), Estimate::from_samples(&r.samples(f))))
            .collect();
        let vs_baseline = r
            .figures
            .iter()
            .map(|f| (f.clone(), Diff::of(&r.samples(f), &base.samples(f))))
            .collect();
        let breaching = r.samples("slos_breached");
        let replications_breaching = breaching.iter().filter(|&&x| x > 0.0).count() as u64;
        PointSummary {
            index: r.index,
            baseline: r.index == 0,
            values: plan
                .params
                .iter()
                .zip(&r.values)
                .map(|(p, v)| (p.clone(), display_value(v)))
                .collect(),
            figures,
            vs_baseline,
            meets_slos: replications_breaching == 0,
            replications_breaching,
            pareto: false,
        }
    }

    /// A figure's estimate, NaN if the point lacks it.
    fn estimate(&self, figure: &str) -> f64 {
        self.figures.get(figure).map_or(f64::NAN, |e| e.estimate)
    }
}

/// The points no other point beats on cost, `metric` and breach minutes
/// (all minimised, all finite), by increasing cost.
fn pareto_front(points: &[PointSummary], metric: &str) -> Vec<usize> {
    // The three minimised figures of every point, looked up once (the front
    // compares every pair of points).
    let minimised: Vec<Option<[f64; 3]>> = points
        .iter()
        .map(|p| {
            let o = [
                p.estimate("cost_usd"),
                p.estimate(metric),
                p.estimate("breach_minutes"),
            ];
            o.iter().all(|x| x.is_finite()).then_some(o)
        })
        .collect();
    let mut pareto: Vec<usize> = (0..points.len())
        .filter(|&i| {
            minimised[i].is_some_and(|a| {
                !minimised.iter().flatten().any(|b| {
                    b.iter().zip(&a).all(|(x, y)| x <= y) && b.iter().zip(&a).any(|(x, y)| x < y)
                })
            })
        })
        .collect();
    pareto.sort_by(|&i, &j| {
        points[i]
            .estimate("cost_usd")
            .total_cmp(&points[j].estimate("cost_usd"))
            .then(i.cmp(&j))
    });
    pareto
}

/// Figures with a difference column in `sweep.csv` (besides the metric).
const DIFF_COLUMNS: [&str; 2] = ["cost_usd", "breach_minutes"];

impl SweepReport {
    /// Aggregates the point records (one per point of `plan`, in any order).
    pub fn new(plan: &SweepPlan, records: &[PointRecord]) -> Result<SweepReport, String> {
        let metric = metric_key(&plan.metric)?;
        let records = in_plan_order(plan, records)?;
        let base = records[0];
        let objectives: Vec<String> = base
            .figures
            .iter()
            .filter_map(|f| f.strip_prefix("slo:")?.strip_suffix(":breached"))
            .map(str::to_string)
            .collect();
        let mut points: Vec<PointSummary> = records
            .iter()
            .map(|r| PointSummary::of(plan, r, base))
            .collect();
        let pareto = pareto_front(&points, &metric);
        for &i in &pareto {
            points[i].pareto = true;
        }
        let cheapest_meeting_slos = points
            .iter()
            .filter(|p| p.meets_slos && p.estimate("cost_usd").is_finite())
            .min_by(|a, b| {
                a.estimate("cost_usd")
                    .total_cmp(&b.estimate("cost_usd"))
                    .then(a.index.cmp(&b.index))
            })
            .map(|p| p.index);
        Ok(SweepReport {
            schema_version: SWEEP_SCHEMA_VERSION,
            scenario: plan.scenario.clone(),
            seed: plan.seed,
            replications: plan.replications,
            sample: plan.sample.clone(),
            metric: plan.metric.clone(),
            params: plan.params.clone(),
            latency_objectives: plan.latency_objectives.clone(),
            windows: plan.windows,
            objectives,
            pareto,
            cheapest_meeting_slos,
            points,
        })
    }

    /// The figure key of the chosen latency metric.
    pub fn metric_key(&self) -> String {
        format!("latency_{}_ms", self.metric)
    }

    /// `sweep.json`: the whole report, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a report always serialises");
        out.push(b'\n');
        out
    }

    fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = vec!["point".into()];
        h.extend(self.params.iter().cloned());
        for c in [
            "baseline",
            "meets_slos",
            "pareto",
            "replications",
            "replications_breaching",
        ] {
            h.push(c.into());
        }
        let metric = self.metric_key();
        for f in std::iter::once(metric.as_str()).chain(DIFF_COLUMNS) {
            for s in ["", "_lo", "_hi"] {
                h.push(format!("vs_baseline_{f}{s}"));
            }
        }
        for f in self.figure_keys() {
            for s in ["", "_lo", "_hi"] {
                h.push(format!("{f}{s}"));
            }
        }
        h
    }

    /// Every point's figures, in the order they first appear: points can
    /// differ (a region that does not serve has no tiers to report).
    fn figure_keys(&self) -> Vec<&str> {
        let mut keys: indexmap::IndexSet<&str> = indexmap::IndexSet::new();
        for p in &self.points {
            keys.extend(p.figures.keys().map(String::as_str));
        }
        keys.into_iter().collect()
    }

    fn row(&self, p: &PointSummary) -> Vec<String> {
        let num = |x: f64| {
            if x.is_finite() {
                x.to_string()
            } else {
                String::new()
            }
        };
        let mut row = vec![p.index.to_string()];
        row.extend(p.values.values().cloned());
        row.push(p.baseline.to_string());
        row.push(p.meets_slos.to_string());
        row.push(p.pareto.to_string());
        row.push(self.replications.to_string());
        row.push(p.replications_breaching.to_string());
        let metric = self.metric_key();
        for f in std::iter::once(metric.as_str()).chain(DIFF_COLUMNS) {
            match p.vs_baseline.get(f) {
                Some(d) => row.extend([num(d.estimate), num(d.ci95[0]), num(d.ci95[1])]),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        for f in self.figure_keys() {
            match p.figures.get(f) {
                Some(e) => row.extend([num(e.estimate), num(e.ci95[0]), num(e.ci95[1])]),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        row
    }

    fn csv_of<'a>(&self, points: impl Iterator<Item = &'a PointSummary>) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.header())
            .expect("writing to memory cannot fail");
        for p in points {
            w.write_record(self.row(p))
                .expect("writing to memory cannot fail");
        }
        w.into_inner().expect("writing to memory cannot fail")
    }

    /// `sweep.csv`: one row per point, the baseline first.
    pub fn sweep_csv(&self) -> Vec<u8> {
        self.csv_of(self.points.iter())
    }

    /// `pareto.csv`: the points of the Pareto front, cheapest first.
    pub fn pareto_csv(&self) -> Vec<u8> {
        self.csv_of(self.pareto.iter().map(|&i| &self.points[i]))
    }

    /// The terminal view: the baseline, the Pareto front and the cheapest
    /// point meeting every objective (every point when there are few).
    pub fn table(&self, plan: &SweepPlan) -> String {
        let all = self.points.len() <= 24;
        let shown: Vec<&PointSummary> = self
            .points
            .iter()
            .filter(|p| {
                all || p.baseline || p.pareto || Some(p.index) == self.cheapest_meeting_slos
            })
            .collect();
        let rows: Vec<Vec<String>> = shown.iter().map(|p| self.table_row(p)).collect();
        let mut out = format!(
            "{}: {} points × {} replications ({}), seed {}; differences to the baseline are paired (same traffic per replication), 95% CI\n",
            self.scenario,
            self.points.len(),
            self.replications,
            self.sample,
            self.seed
        );
        if let Some(w) = &self.windows {
            let _ = writeln!(
                out,
                "each replication of a point is a chain of {} windows of {} every {}: latency over every window's measured requests, cost and breach minutes added (per window in sweep.csv)",
                w.count,
                SimDuration::from_secs_f64(w.window_s),
                SimDuration::from_secs_f64(w.every_s)
            );
        }
        out.push('\n');
        out.push_str(&self.aligned(&self.table_header(), &rows));
        if !all {
            let _ = writeln!(
                out,
                "({} more points in sweep.csv; shown: the baseline, the Pareto front and the cheapest meeting every objective)",
                self.points.len() - shown.len()
            );
        }
        let _ = writeln!(
            out,
            "* on the Pareto front of cost, {} and breach minutes ({} points)",
            self.metric,
            self.pareto.len()
        );
        out.push('\n');
        out.push_str(&self.verdict(plan));
        out
    }

    /// The terminal table's column names: the point, each parameter's short
    /// path, then the metric, cost, breach minutes and SLOs.
    fn table_header(&self) -> Vec<String> {
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(self.params.iter().map(|p| short_path(p)));
        header.extend(
            [
                &format!("{} ms", self.metric),
                "vs baseline",
                "cost $",
                "vs baseline",
                "breach min",
                "SLOs",
            ]
            .map(|s| s.to_string()),
        );
        header
    }

    /// One point's row of the terminal table.
    fn table_row(&self, p: &PointSummary) -> Vec<String> {
        let metric = self.metric_key();
        let nan = Estimate {
            estimate: f64::NAN,
            ci95: [f64::NAN; 2],
        };
        let mut marks = String::new();
        if p.baseline {
            marks.push_str(" (baseline)");
        }
        if p.pareto {
            marks.push('*');
        }
        let mut row = vec![format!("{}{marks}", p.index)];
        row.extend(p.values.values().map(|v| {
            if v.is_empty() {
                "(default)".to_string()
            } else {
                v.clone()
            }
        }));
        let fig = |f: &str| p.figures.get(f).unwrap_or(&nan);
        // The baseline's difference to itself says nothing.
        let vs_baseline = |f: &str| {
            if p.baseline {
                String::new()
            } else {
                paired_diff(p.vs_baseline.get(f))
            }
        };
        row.push(plus_minus(fig(&metric)));
        row.push(vs_baseline(&metric));
        row.push(plus_minus(fig("cost_usd")));
        row.push(vs_baseline("cost_usd"));
        row.push(fmt_num(fig("breach_minutes").estimate));
        row.push(if self.objectives.is_empty() {
            "–".into()
        } else if p.meets_slos {
            "met".into()
        } else {
            format!(
                "breached ({}/{})",
                p.replications_breaching, self.replications
            )
        });
        row
    }

    /// The header and rows in aligned columns: the point and parameters
    /// left-aligned, the figures right-aligned.
    fn aligned(&self, header: &[String], rows: &[Vec<String>]) -> String {
        crate::table::aligned(header, rows, |i| i <= self.params.len())
    }

    /// The sentence on the cheapest point meeting every objective.
    pub fn verdict(&self, plan: &SweepPlan) -> String {
        let metric = self.metric_key();
        match self.cheapest_meeting_slos {
            Some(i) => {
                let p = &self.points[i];
                let what = if p.baseline {
                    "the baseline (the scenario as written)".to_string()
                } else {
                    p.values
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let cost = &p.figures["cost_usd"];
                let lat = &p.figures[&metric];
                let head = if self.objectives.is_empty() {
                    "cheapest point (the scenario has no objectives)"
                } else {
                    "cheapest point meeting every objective"
                };
                format!(
                    "{head}: {i}, {what}: ${} ± {} per replication, {} {} ± {} ms\n  reproduce: {}\n",
                    fmt_num(cost.estimate),
                    fmt_num((cost.ci95[1] - cost.ci95[0]) / 2.0),
                    self.metric,
                    fmt_num(lat.estimate),
                    fmt_num((lat.ci95[1] - lat.ci95[0]) / 2.0),
                    plan.run_command(i)
                )
            }
            None => format!(
                "no point meets every objective ({}) in all {} replications\n",
                self.objectives.join(", "),
                self.replications
            ),
        }
    }
}

/// "estimate ± half-width", or the estimate alone when it has no interval.
fn plus_minus(e: &Estimate) -> String {
    let half = (e.ci95[1] - e.ci95[0]) / 2.0;
    if half.is_finite() {
        format!("{} ± {}", fmt_num(e.estimate), fmt_num(half))
    } else {
        fmt_num(e.estimate)
    }
}

/// A paired difference to the baseline: "+estimate [lo, hi]", or "–".
fn paired_diff(d: Option<&Diff>) -> String {
    match d {
        Some(d) if d.estimate.is_finite() => format!(
            "{}{} [{}, {}]",
            if d.estimate > 0.0 { "+" } else { "" },
            fmt_num(d.estimate),
            fmt_num(d.ci95[0]),
            fmt_num(d.ci95[1])
        ),
        _ => "–".into(),
    }
}

/// The last two segments of a long path, for narrow table headers.
fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.split('.').collect();
    if parts.len() <= 2 {
        p.to_string()
    } else {
        format!("…{}", parts[parts.len() - 2..].join("."))
    }
}

/// A value text as a person reads it: strings without their TOML quotes.
pub fn display_value(text: &str) -> String {
    let t = text.trim();
    if t.len() >= 2
        && t.starts_with('"')
        && t.ends_with('"')
        && let Ok(s) = serde_json::from_str::<String>(t)
    {
        return s;
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(points: usize) -> SweepPlan {
        SweepPlan {
            schema_version: SWEEP_SCHEMA_VERSION,
            scenario: "s".into(),
            source: "s".into(),
            scenario_fnv64: "0".into(),
            sets: vec![],
            seed: 1,
            replications: 3,
            sample: "grid".into(),
            metric: "p99".into(),
            params: vec!["a".into()],
            latency_objectives: Vec::new(),
            windows: None,
            points: (0..points).map(|i| vec![i.to_string()]).collect(),
        }
    }

    fn record(
        plan: &SweepPlan,
        index: usize,
        cost: [f64; 3],
        p99: [f64; 3],
        breach: [f64; 3],
    ) -> PointRecord {
        PointRecord {
            schema_version: SWEEP_SCHEMA_VERSION,
            plan: "test-plan".into(),
            index,
            values: plan.points[index].clone(),
            figures: vec![
                "cost_usd".into(),
                "latency_p99_ms".into(),
                "breach_minutes".into(),
                "slos_breached".into(),
                "slo:fast:breached".into(),
            ],
            replications: (0..3)
                .map(|j| {
                    let b = if breach[j] > 0.0 { 1.0 } else { 0.0 };
                    vec![
                        Some(cost[j]),
                        Some(p99[j]),
                        Some(breach[j]),
                        Some(b),
                        Some(b),
                    ]
                })
                .collect(),
            checksum: String::new(),
        }
    }

    #[test]
    fn point_files_carry_a_checksum_of_their_contents() {
        let plan = plan(2);
        let rec = record(&plan, 1, [1.0, 2.0, 3.0], [0.1, 1e-7, 123.456], [0.0; 3]);
        let bytes = rec.to_json();
        let back = PointRecord::from_json(&bytes).unwrap();
        assert!(back.checksum_matches());
        assert_eq!(back.to_json(), bytes);

        let mut edited = back.clone();
        edited.replications[0][1] = Some(0.2);
        assert!(!edited.checksum_matches());
        edited.values[0] = "9".into();
        edited.replications[0][1] = Some(0.1);
        assert!(!edited.checksum_matches());
        // Written without one (an earlier capsim): nothing to match.
        assert!(!rec.checksum_matches());
    }

    #[test]
    fn pareto_front_and_cheapest_meeting_slos() {
        let plan = plan(5);
        let recs = vec![
            // baseline: cheap but breaching
            record(
                &plan,
                0,
                [1.0, 1.0, 1.0],
                [900.0, 950.0, 920.0],
                [3.0, 2.0, 4.0],
            ),
            // dominated by 2: dearer and slower, same breaches (none)
            record(&plan, 1, [3.0, 3.0, 3.0], [300.0, 310.0, 305.0], [0.0; 3]),
            // meets, cheapest meeting
            record(&plan, 2, [2.0, 2.0, 2.0], [200.0, 210.0, 205.0], [0.0; 3]),
            // dearest, fastest: on the front
            record(&plan, 3, [4.0, 4.0, 4.0], [100.0, 100.0, 100.0], [0.0; 3]),
            // breaches in one replication
            record(
                &plan,
                4,
                [1.5, 1.5, 1.5],
                [400.0, 420.0, 410.0],
                [0.0, 1.0, 0.0],
            ),
        ];
        let r = SweepReport::new(&plan, &recs).unwrap();
        assert_eq!(r.pareto, vec![0, 4, 2, 3]);
        assert_eq!(r.cheapest_meeting_slos, Some(2));
        assert!(!r.points[1].pareto);
        assert_eq!(r.points[4].replications_breaching, 1);
        assert_eq!(r.objectives, vec!["fast".to_string()]);
        // Differences to the baseline are paired.
        let d = &r.points[2].vs_baseline["latency_p99_ms"];
        assert!((d.estimate - (205.0 - 923.333_333_333_333_3)).abs() < 1e-9);
        let csv = String::from_utf8(r.pareto_csv()).unwrap();
        let firsts: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(firsts, ["0", "4", "2", "3"]);
        // Missing points are an error, not a silent gap.
        assert!(SweepReport::new(&plan, &recs[..4]).is_err());
    }

    #[test]
    fn points_with_figures_others_lack_keep_every_csv_row_as_long_as_the_header() {
        // A point where a region serves nothing has no figures of its tiers
        // (`--param regions.X.serves=true,false`): sweep.csv once panicked.
        let plan = plan(2);
        let base = record(&plan, 0, [1.0; 3], [100.0; 3], [0.0; 3]);
        let mut more = record(&plan, 1, [2.0; 3], [90.0; 3], [0.0; 3]);
        more.figures.push("util:api@ap-south".into());
        for r in &mut more.replications {
            r.push(Some(0.5));
        }
        let r = SweepReport::new(&plan, &[base, more]).unwrap();
        let csv = String::from_utf8(r.sweep_csv()).unwrap();
        let widths: Vec<usize> = csv.lines().map(|l| l.split(',').count()).collect();
        assert_eq!(widths.len(), 3);
        assert!(widths.iter().all(|&w| w == widths[0]), "{csv}");
        assert!(
            csv.lines().next().unwrap().contains("util:api@ap-south"),
            "{csv}"
        );
        assert!(csv.lines().nth(1).unwrap().ends_with(",,,"), "{csv}");
    }

    #[test]
    fn paired_differences_cancel_shared_noise() {
        // Both points see the same large replication-to-replication swings.
        let noise = [100.0, 300.0, 150.0, 400.0, 250.0];
        let base: Vec<f64> = noise.to_vec();
        let point: Vec<f64> = noise
            .iter()
            .zip([9.0, 11.0, 10.0, 12.0, 8.0])
            .map(|(n, e)| n + e)
            .collect();
        let d = Diff::of(&point, &base);
        assert!((d.estimate - 10.0).abs() < 1e-9);
        assert!(d.half_width() < 3.0, "{d:?}");
        assert!(d.unpaired_half_width() > 100.0, "{d:?}");
        // Differences that cancel are zero, not rounding noise.
        let d = Diff::of(
            &[0.1 + 0.2, 0.3, 0.7, 0.7 - 0.4],
            &[0.3, 0.1 + 0.2, 0.7 - 0.4, 0.7],
        );
        assert_eq!(d.estimate, 0.0, "{d:?}");
        // Pairs equal but for rounding are equal: no interval either.
        let d = Diff::of(&[0.1 + 0.2, 0.1 + 0.2], &[0.3, 0.3]);
        assert_eq!((d.estimate, d.ci95), (0.0, [0.0, 0.0]), "{d:?}");
    }

    #[test]
    fn reproduce_commands_quote_what_the_shell_would_split() {
        let mut p = plan(2);
        p.sets = vec!["simulation.duration=2h".into()];
        p.params = vec!["scenario.description".into()];
        p.points[1] = vec![r#""a b""#.into()];
        assert_eq!(
            p.run_command(1),
            r#"capsim run s --set simulation.duration=2h --set 'scenario.description="a b"' --seed 1 --replications 3"#
        );
        assert_eq!(display_value(r#""a b""#), "a b");
        assert_eq!(display_value("5m"), "5m");
    }
}

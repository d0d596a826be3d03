//! `timeseries.csv` and `latency.csv`: the run over time, and each class's
//! and tier's latency distribution, for plots, notebooks and spreadsheets.
//!
//! `timeseries.csv` has one row per interval per tier, per class, per region
//! of users (with regions) and for all classes together (`scope` = `tier`,
//! `class`, `region`, `all`), over the whole run,
//! warm-up included. Every row carries the scenario name and seed. Each value
//! is the mean over replications of that interval's value (latency: the mean
//! of the replications' interval percentiles); an empty cell means the figure
//! does not apply to the row or nothing happened in the interval. Columns, in
//! this order:
//!
//! | column | meaning |
//! |---|---|
//! | `scenario`, `seed` | the run |
//! | `time_s` | start of the interval, seconds since the start of the run |
//! | `scope`, `name`, `kind` | `tier` + tier name + its kind; `class` + class name + `class`; `region` + region name + `region` (its users' classes together); `all` + `all` + `all` |
//! | `arrivals_per_s` | tiers: work offered (requests, commands, queries, jobs); classes: requests arriving |
//! | `completed_per_s` | tiers: work finished; classes: requests answered |
//! | `errors_per_s` | tiers: work failed or rejected; classes: requests that failed for good |
//! | `units` | tiers: units in service (instances, workers, shards, database nodes, station servers), time-averaged |
//! | `utilization_pct` | tiers: busy capacity / capacity in service |
//! | `queue_length` | tiers: work waiting, time-averaged |
//! | `latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms` | tiers: time at the tier (API: balancer to leaving the instance; cache, station: command or visit; database: query incl. connection wait; workers: enqueue to done); classes and all: end to end |
//! | `cost_usd_per_h` | tiers: the tier's cost rate; all: every tier, the load balancers and traffic |
//! | `memory_pct` | only when an API tier models memory: memory in use / memory in service |
//! | `cpu_credit_balance` | only when an API tier models CPU credits: mean balance per instance in service |
//!
//! `latency.csv` has the percentiles 1 to 99, then 99.5, 99.9, 99.95 and
//! 99.99, pooled over the replications' measured windows, of each class's
//! end-to-end latency (`scope` = `class`), all classes' together (`all`),
//! then each tier's visit time (`tier`, the histogram behind `summary.json`'s
//! `tiers.<name>.latency_ms`; tiers no route visits have none). Pooled, so no
//! CI: `summary.json` has the percentiles with their CIs.

use std::fmt::Write;

use capsim_models::{
    ClassResult, Noun, ReplicationResult, RunDescription, ServingCount, TierResult,
};
use sim_engine::LatencyHistogram;

pub const TIMESERIES_HEADER: &str = "scenario,seed,time_s,scope,name,kind,arrivals_per_s,completed_per_s,errors_per_s,units,utilization_pct,queue_length,latency_p50_ms,latency_p95_ms,latency_p99_ms,cost_usd_per_h";

/// Columns after `cost_usd_per_h`, present only when a tier of the run has
/// the figure: (column, the tier series it shows, scale).
pub const OPTIONAL_COLUMNS: &[(&str, &str, f64)] = &[
    ("memory_pct", "memory_utilization", 100.0),
    ("cpu_credit_balance", "cpu_credit_balance", 1.0),
];

pub const LATENCY_HEADER: &str = "scenario,seed,scope,name,percentile,latency_ms";

/// The percentiles of `latency.csv`.
pub fn latency_percentiles() -> Vec<f64> {
    let mut p: Vec<f64> = (1..=99).map(f64::from).collect();
    p.extend([99.5, 99.9, 99.95, 99.99]);
    p
}

/// A CSV number: six significant digits, no exponent for ordinary sizes,
/// empty for NaN.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = 6 - 1 - x.abs().log10().floor() as i32;
    let decimals = digits.clamp(0, 12) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Mean over replications of each interval, ignoring NaN (NaN if all are).
fn mean_series<'a>(series: impl Iterator<Item = &'a [f64]>, len: usize) -> Vec<f64> {
    let mut sum = vec![0.0; len];
    let mut n = vec![0u32; len];
    for s in series {
        for (i, &x) in s.iter().enumerate().take(len) {
            if x.is_finite() {
                sum[i] += x;
                n[i] += 1;
            }
        }
    }
    sum.iter()
        .zip(&n)
        .map(|(s, &k)| if k == 0 { f64::NAN } else { s / k as f64 })
        .collect()
}

fn named<'a>(series: &'a [(&'static str, Vec<f64>)], name: &str) -> Option<&'a [f64]> {
    series
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_slice())
}

/// Which entity a row of the time series describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Tier,
    Class,
    /// With regions: the users of a region (all their classes).
    Region,
    All,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Scope::Tier => "tier",
            Scope::Class => "class",
            Scope::Region => "region",
            Scope::All => "all",
        }
    }
}

/// The value columns of `timeseries.csv`, in header order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    ArrivalsPerS,
    CompletedPerS,
    ErrorsPerS,
    Units,
    UtilizationPct,
    QueueLength,
    LatencyP50Ms,
    LatencyP95Ms,
    LatencyP99Ms,
    CostUsdPerH,
}

/// One entity's series: a value per interval for each column (NaN: does
/// not apply, or nothing happened).
#[derive(Clone, Debug)]
pub struct SeriesRow {
    pub scope: Scope,
    pub name: String,
    pub kind: String,
    /// What a tier's units in service are called (`None` for rows that
    /// are not tiers, and tiers without units).
    pub units: Option<Noun>,
    pub columns: Vec<Vec<f64>>,
}

impl SeriesRow {
    pub fn col(&self, c: Col) -> &[f64] {
        &self.columns[c as usize]
    }
}

/// The run over time, the mean over replications of every interval: what
/// `timeseries.csv` holds and the plots draw.
#[derive(Clone, Debug)]
pub struct TimeSeries {
    pub interval_s: f64,
    /// Simulated time per replication (the last interval may be shorter).
    pub horizon_s: f64,
    pub len: usize,
    /// Tiers in scenario order, then classes, then regions, then `all`.
    pub rows: Vec<SeriesRow>,
    /// The optional columns the rows carry after the fixed ones, in
    /// [`OPTIONAL_COLUMNS`] order.
    pub optional: Vec<&'static str>,
}

impl TimeSeries {
    /// Start of interval `i`, seconds since the start of the run.
    pub fn time_s(&self, i: usize) -> f64 {
        i as f64 * self.interval_s
    }

    pub fn of(&self, scope: Scope) -> impl Iterator<Item = &SeriesRow> {
        self.rows.iter().filter(move |r| r.scope == scope)
    }

    pub fn all(&self) -> &SeriesRow {
        self.rows
            .iter()
            .find(|r| r.scope == Scope::All)
            .expect("the series always has an `all` row")
    }
}

/// The tiers and classes of a run, as its first replication names them
/// (every replication has the same).
pub(crate) fn layout(results: &[ReplicationResult]) -> (&[TierResult], &[ClassResult]) {
    results
        .first()
        .map_or((&[], &[]), |r| (&r.tiers[..], &r.classes[..]))
}

/// The per-interval means of every tier, class, region of users and all
/// classes.
pub fn time_series(run: &RunDescription, results: &[ReplicationResult]) -> TimeSeries {
    let interval = run.series_interval.as_secs_f64();
    let len = run
        .horizon
        .as_nanos()
        .div_ceil(run.series_interval.as_nanos()) as usize;
    let (tiers, classes) = layout(results);
    let optional: Vec<(&'static str, &'static str, f64)> = OPTIONAL_COLUMNS
        .iter()
        .copied()
        .filter(|(_, series, _)| tiers.iter().any(|t| named(&t.series, series).is_some()))
        .collect();
    let means = Means {
        results,
        len,
        interval,
    };
    let mut rows: Vec<SeriesRow> = Vec::new();
    for (t, tier) in tiers.iter().enumerate() {
        let mut row = means.tier_row(t, tier);
        for (_, series, scale) in &optional {
            let s = means.mean(&|r: &ReplicationResult| named(&r.tiers[t].series, series));
            row.columns.push(s.iter().map(|x| x * scale).collect());
        }
        rows.push(row);
    }
    for (c, class) in classes.iter().enumerate() {
        rows.push(means.class_row(c, class));
    }
    for (ri, region) in run.regions.iter().enumerate() {
        let class_rows = &rows[tiers.len()..];
        let row = means.region_row(ri, &region.name, classes, class_rows);
        rows.push(row);
    }
    let all = means.all_row(&rows, tiers.len());
    rows.push(all);
    for row in &mut rows[tiers.len()..] {
        row.columns
            .extend(optional.iter().map(|_| vec![f64::NAN; len]));
    }
    TimeSeries {
        interval_s: interval,
        horizon_s: run.horizon.as_secs_f64(),
        len,
        rows,
        optional: optional.iter().map(|(c, _, _)| *c).collect(),
    }
}

/// Per-interval means over the replications, and the rows made of them.
struct Means<'a> {
    results: &'a [ReplicationResult],
    /// Intervals in the run.
    len: usize,
    /// Seconds per interval.
    interval: f64,
}

impl Means<'_> {
    /// Mean over replications of a series picked from each.
    fn mean(&self, pick: &dyn Fn(&ReplicationResult) -> Option<&[f64]>) -> Vec<f64> {
        mean_series(self.results.iter().filter_map(pick), self.len)
    }

    /// Counts per interval as rates per second.
    fn per_s(&self, v: Vec<f64>) -> Vec<f64> {
        v.iter().map(|x| x / self.interval).collect()
    }

    /// USD per interval as USD per hour.
    fn per_h(&self, v: Vec<f64>) -> Vec<f64> {
        v.iter().map(|x| x * 3600.0 / self.interval).collect()
    }

    fn nan(&self) -> Vec<f64> {
        vec![f64::NAN; self.len]
    }

    /// Tier `t`: its work, units, utilisation, queue, latency and cost rate.
    fn tier_row(&self, t: usize, tier: &TierResult) -> SeriesRow {
        let s = |name: &str| self.mean(&|r: &ReplicationResult| named(&r.tiers[t].series, name));
        let units = match tier.serving.map(|u| u.count) {
            Some(ServingCount::Series(name)) => s(name),
            Some(ServingCount::Fixed(n)) => vec![f64::from(n); self.len],
            None => self.nan(),
        };
        let cost = s("cost_usd");
        SeriesRow {
            scope: Scope::Tier,
            name: tier.name.clone(),
            kind: tier.kind.label().to_string(),
            units: tier.serving.map(|u| u.noun),
            columns: vec![
                self.per_s(s("arrivals")),
                self.per_s(s("completed")),
                self.per_s(s("errors")),
                units,
                s("utilization").iter().map(|u| u * 100.0).collect(),
                s("queue_length"),
                s("latency_p50_ms"),
                s("latency_p95_ms"),
                s("latency_p99_ms"),
                // A CDN's bill is traffic, in the `all` row.
                if tier.kind.vocabulary().own_bill {
                    self.per_h(cost)
                } else {
                    self.nan()
                },
            ],
        }
    }

    /// Class `c`: its requests and end-to-end latency.
    fn class_row(&self, c: usize, class: &ClassResult) -> SeriesRow {
        let counts = |pick: fn(&capsim_models::ClassSeries) -> &Vec<f64>| {
            self.per_s(self.mean(&|r: &ReplicationResult| Some(pick(&r.classes[c].series))))
        };
        let lat = |name: &str| {
            self.mean(&|r: &ReplicationResult| named(&r.classes[c].latency_series, name))
        };
        SeriesRow {
            scope: Scope::Class,
            name: class.name.clone(),
            kind: "class".into(),
            units: None,
            columns: request_columns(
                [
                    counts(|s| &s.arrivals),
                    counts(|s| &s.completed),
                    counts(|s| &s.failed),
                ],
                lat,
                self.nan(),
            ),
        }
    }

    /// Region `ri`'s users: the sums of their classes' rows (`class_rows`,
    /// in the order of `classes`), their pooled latency.
    fn region_row(
        &self,
        ri: usize,
        name: &str,
        classes: &[ClassResult],
        class_rows: &[SeriesRow],
    ) -> SeriesRow {
        let mine: Vec<usize> = (0..classes.len())
            .filter(|&c| classes[c].region == Some(ri as u16))
            .collect();
        let sum_of = |col: usize| sum_column(mine.iter().map(|&c| &class_rows[c]), col, self.len);
        let lat = |name: &str| {
            self.mean(&|r: &ReplicationResult| {
                r.region_latency_series.get(ri).and_then(|s| named(s, name))
            })
        };
        SeriesRow {
            scope: Scope::Region,
            name: name.to_string(),
            kind: "region".into(),
            units: None,
            columns: request_columns([sum_of(0), sum_of(1), sum_of(2)], lat, self.nan()),
        }
    }

    /// All classes: sums of the class rows among `rows`, pooled latency, the
    /// whole bill of the `tiers` tiers and traffic.
    fn all_row(&self, rows: &[SeriesRow], tiers: usize) -> SeriesRow {
        let classes = rows.iter().filter(|r| r.scope == Scope::Class);
        let sum_of = |col: usize| sum_column(classes.clone(), col, self.len);
        let lat = |name: &str| self.mean(&|r: &ReplicationResult| named(&r.latency_series, name));
        let columns = request_columns(
            [sum_of(0), sum_of(1), sum_of(2)],
            lat,
            self.total_cost(tiers),
        );
        SeriesRow {
            scope: Scope::All,
            name: "all".into(),
            kind: "all".into(),
            units: None,
            columns,
        }
    }

    /// The whole bill per interval as USD per hour: traffic, the load
    /// balancers and every tier's cost (empty cells count 0).
    fn total_cost(&self, tiers: usize) -> Vec<f64> {
        let traffic = self.mean(&|r: &ReplicationResult| Some(r.traffic.series.as_slice()));
        let lb = self.mean(&|r: &ReplicationResult| Some(r.load_balancers.series.as_slice()));
        let mut total: Vec<f64> = traffic
            .iter()
            .zip(&lb)
            .map(|(x, y)| {
                let f = |v: &f64| if v.is_finite() { *v } else { 0.0 };
                f(x) + f(y)
            })
            .collect();
        for t in 0..tiers {
            let tier = self.mean(&|r: &ReplicationResult| named(&r.tiers[t].series, "cost_usd"));
            for (a, b) in total.iter_mut().zip(&tier) {
                if b.is_finite() {
                    *a += b;
                }
            }
        }
        self.per_h(total)
    }
}

/// The columns of a row of requests (a class, a region's users, all):
/// arrivals, completed and errors per second, no units, utilisation or
/// queue, the latency percentiles from `lat`, and `cost`.
fn request_columns(
    [arrivals, completed, errors]: [Vec<f64>; 3],
    lat: impl Fn(&str) -> Vec<f64>,
    cost: Vec<f64>,
) -> Vec<Vec<f64>> {
    let nan = vec![f64::NAN; arrivals.len()];
    vec![
        arrivals,
        completed,
        errors,
        nan.clone(),
        nan.clone(),
        nan,
        lat("latency_p50_ms"),
        lat("latency_p95_ms"),
        lat("latency_p99_ms"),
        cost,
    ]
}

/// Per interval, the sum of column `col` over `rows` (empty cells count 0).
fn sum_column<'a>(
    rows: impl Iterator<Item = &'a SeriesRow> + Clone,
    col: usize,
    len: usize,
) -> Vec<f64> {
    (0..len)
        .map(|i| {
            rows.clone()
                .map(|r| r.columns[col][i])
                .filter(|x| x.is_finite())
                .sum()
        })
        .collect()
}

/// The CSV bytes of `timeseries.csv`.
pub fn timeseries_csv(ts: &TimeSeries, scenario: &str, seed: u64) -> Vec<u8> {
    let mut out = String::with_capacity(ts.len * ts.rows.len() * 120 + 256);
    out.push_str(TIMESERIES_HEADER);
    for c in &ts.optional {
        out.push(',');
        out.push_str(c);
    }
    out.push('\n');
    let scenario = csv_field(scenario);
    for i in 0..ts.len {
        let time_s = num(ts.time_s(i));
        for row in &ts.rows {
            // The columns after `kind`, in header order.
            let _ = write!(
                out,
                "{scenario},{seed},{time_s},{},{},{}",
                row.scope.label(),
                csv_field(&row.name),
                row.kind
            );
            for col in &row.columns {
                let _ = write!(out, ",{}", num(col[i]));
            }
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Quotes a field if it needs it (names are plain, but be safe).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV bytes of `latency.csv`.
pub fn latency_csv(scenario: &str, seed: u64, results: &[ReplicationResult]) -> Vec<u8> {
    let percentiles = latency_percentiles();
    let mut out = String::new();
    out.push_str(LATENCY_HEADER);
    out.push('\n');
    let scenario = csv_field(scenario);
    let (classes, all) = pooled_latency(results);
    let quantiles: Vec<f64> = percentiles.iter().map(|p| p / 100.0).collect();
    let write_rows = |out: &mut String, scope: Scope, name: &str, h: &LatencyHistogram| {
        for (&p, v) in percentiles.iter().zip(h.quantiles_ms(&quantiles)) {
            let _ = writeln!(
                out,
                "{scenario},{seed},{},{},{},{}",
                scope.label(),
                csv_field(name),
                num(p),
                num(v)
            );
        }
    };
    for (name, h) in &classes {
        write_rows(&mut out, Scope::Class, name, h);
    }
    write_rows(&mut out, Scope::All, "all", &all);
    for (name, h) in &pooled_visits(results) {
        write_rows(&mut out, Scope::Tier, name, h);
    }
    out.into_bytes()
}

/// Each class's end-to-end latency pooled over the replications' measured
/// windows, in scenario order, and all classes together.
pub fn pooled_latency(
    results: &[ReplicationResult],
) -> (Vec<(String, LatencyHistogram)>, LatencyHistogram) {
    let mut all = LatencyHistogram::new();
    let classes = layout(results)
        .1
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let mut pooled = LatencyHistogram::new();
            for r in results {
                pooled.merge(&r.classes[c].latency);
            }
            all.merge(&pooled);
            (class.name.clone(), pooled)
        })
        .collect();
    (classes, all)
}

/// Each visited tier's visit times ([`TierResult::visits`]) pooled over the
/// replications' measured windows, in scenario order; tiers no route visits
/// are left out, as `summary.json` leaves out their `latency_ms`.
pub fn pooled_visits(results: &[ReplicationResult]) -> Vec<(String, LatencyHistogram)> {
    layout(results)
        .0
        .iter()
        .enumerate()
        .filter(|(_, tier)| tier.visits.is_some())
        .map(|(t, tier)| {
            let mut pooled = LatencyHistogram::new();
            for h in results.iter().filter_map(|r| r.tiers[t].visits.as_ref()) {
                pooled.merge(h);
            }
            (tier.name.clone(), pooled)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_six_significant_digits() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(1234.5678), "1234.57");
        assert_eq!(num(0.020_833_333), "0.0208333");
        assert_eq!(num(60.0), "60");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(1_234_567.0), "1234567");
    }

    #[test]
    fn means_skip_missing_values() {
        let a = [1.0, f64::NAN, f64::NAN];
        let b = [3.0, 4.0, f64::NAN];
        let m = mean_series([&a[..], &b[..]].into_iter(), 3);
        assert_eq!(m[0], 2.0);
        assert_eq!(m[1], 4.0);
        assert!(m[2].is_nan());
    }
}

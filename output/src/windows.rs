//! The report of a long horizon run as windows: one row per window (a week,
//! say) with the capacity the policies chose, latency, objectives and cost,
//! each a mean over replications with its 95% CI; and the triggers: every
//! change of a tier's capacity, with the window and time it happened in.
//!
//! Files: `windows.csv` (a row per window), `windows.json` (the same, the
//! scaling events and the plan), `report.md` (what breaks first and when,
//! and the table), `plots/windows.{png,svg}`.
//!
//! A window here is one slice of the long horizon, simulated as a run of
//! its own; it is neither an objective's evaluation window (`slo.window`)
//! nor a run's measured window (after its warm-up).

use std::fmt::Write as _;

use capsim_models::RunDescription;
use capsim_models::windows::{WindowPlan, WindowRun};
use indexmap::IndexMap;
use serde::Serialize;
use sim_engine::{Estimate, SimDuration};

use crate::csv_series::num;
use crate::summary::SCHEMA_VERSION;

#[derive(Clone, Debug, Serialize)]
pub struct TierUnits {
    /// What autoscaling counts (a database's replicas, not its primary).
    pub unit: &'static str,
    pub start: Estimate,
    pub end: Estimate,
    pub peak: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowSummary {
    pub window: u32,
    /// Seconds from the start of the long horizon to the window's start.
    pub start_s: f64,
    /// The window's start as a date and time (UTC), from `simulation.start`.
    pub start_utc: String,
    pub offered_per_s: f64,
    pub throughput_per_s: Estimate,
    pub latency_ms: IndexMap<&'static str, Estimate>,
    pub error_rate: Estimate,
    pub cost_usd: Estimate,
    pub cost_per_hour_usd: Estimate,
    /// Per objective.
    pub breach_minutes: IndexMap<String, Estimate>,
    /// Replications in which some objective breached in this window.
    pub replications_breaching: u64,
    /// Per autoscaled tier.
    pub units: IndexMap<String, TierUnits>,
    /// Per tier, selected metrics (utilisation, hit ratio, lag, ...).
    pub metrics: TierMetrics,
}

/// A change of capacity in replication 0.
#[derive(Clone, Debug, Serialize)]
pub struct Trigger {
    pub window: u32,
    /// Seconds into the window.
    pub at_s: f64,
    pub tier: String,
    pub from: u32,
    pub to: u32,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowsReport {
    pub schema_version: u32,
    pub scenario: String,
    pub seed: u64,
    pub replications: u64,
    /// Only in the report of a run stopped before its end: `interrupted`
    /// (true), why, and the replications and windows it covers.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<crate::Interruption>,
    pub every_s: f64,
    pub offset_s: f64,
    pub window_s: f64,
    pub warmup_s: f64,
    pub windows: Vec<WindowSummary>,
    /// Every capacity change of replication 0, in order (the other
    /// replications' are summarised by the units columns).
    pub triggers: Vec<Trigger>,
    /// Per tier: the first window in which its capacity went above the
    /// scenario's (replication 0).
    pub first_growth: IndexMap<String, u32>,
    /// The source document's expectations, judged on these windows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<crate::claims::Judged>,
    /// Inputs the source document does not give.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<crate::claims::AssumptionRow>,
}

/// Metrics kept per tier in the window report, when the tier has them.
const TIER_METRICS: &[&str] = &[
    "utilization",
    "hit_ratio",
    "replication_lag_ms",
    "pool_wait_ms",
    "queue_length",
    "queue_depth_max",
    "job_latency_ms",
];

/// The estimate over replications of `f` of each one's window `k`.
fn across(runs: &[Vec<WindowRun>], k: usize, f: &dyn Fn(&WindowRun) -> f64) -> Estimate {
    let xs: Vec<f64> = runs.iter().map(|r| f(&r[k])).collect();
    Estimate::from_samples(&xs)
}

/// The window's error rate (0 if no request ended).
fn error_rate(r: &WindowRun) -> f64 {
    r.counts.error_rate().unwrap_or(0.0)
}

impl WindowSummary {
    /// Window `k` of every replication in `runs`, summarised.
    fn of(run: &RunDescription, runs: &[Vec<WindowRun>], k: usize, start_unix_s: i64) -> Self {
        let est = |f: &dyn Fn(&WindowRun) -> f64| across(runs, k, f);
        // Replication 0's window k: what every replication shares.
        let rep0 = &runs[0][k];
        let mut latency_ms = IndexMap::new();
        latency_ms.insert("mean", est(&|r| r.latency_mean_ms));
        latency_ms.insert("p50", est(&|r| r.latency_p50_ms));
        latency_ms.insert("p95", est(&|r| r.latency_p95_ms));
        latency_ms.insert("p99", est(&|r| r.latency_p99_ms));
        let mut breach_minutes = IndexMap::new();
        for (i, slo) in run.objectives.iter().enumerate() {
            breach_minutes.insert(slo.name.clone(), est(&|r| r.breach_minutes[i]));
        }
        let (units, metrics) = tiers_of(runs, k);
        WindowSummary {
            window: k as u32,
            start_s: rep0.start_s,
            start_utc: utc(start_unix_s + rep0.start_s as i64),
            offered_per_s: rep0.offered_per_s,
            throughput_per_s: est(&|r| r.throughput_per_s),
            latency_ms,
            error_rate: est(&error_rate),
            cost_usd: est(&|r| r.cost_usd),
            cost_per_hour_usd: est(&|r| r.cost_usd / (r.measured_s / 3600.0)),
            breach_minutes,
            replications_breaching: runs
                .iter()
                .filter(|r| r[k].breach_minutes.iter().any(|&m| m > 0.0))
                .count() as u64,
            units,
            metrics,
        }
    }
}

/// Per tier, its selected metrics' estimates.
type TierMetrics = IndexMap<String, IndexMap<&'static str, Estimate>>;

/// Per tier in window `k`: the units of autoscaled tiers, and the
/// [`TIER_METRICS`] each tier has.
fn tiers_of(runs: &[Vec<WindowRun>], k: usize) -> (IndexMap<String, TierUnits>, TierMetrics) {
    let est = |f: &dyn Fn(&WindowRun) -> f64| across(runs, k, f);
    let mut units = IndexMap::new();
    let mut metrics = IndexMap::new();
    for (i, t) in runs[0][k].tiers.iter().enumerate() {
        if let Some(u0) = t.units {
            let span = |f: fn(&capsim_models::windows::UnitSpan) -> u32| {
                est(&|r| r.tiers[i].units.map_or(f64::NAN, |s| f(&s) as f64))
            };
            units.insert(
                t.name.clone(),
                TierUnits {
                    unit: u0.noun.many,
                    start: span(|s| s.start),
                    end: span(|s| s.end),
                    peak: span(|s| s.peak),
                },
            );
        }
        let mut m = IndexMap::new();
        for &name in TIER_METRICS {
            if capsim_models::figure(&t.metrics, name).is_some() {
                let e =
                    est(&|r| capsim_models::figure(&r.tiers[i].metrics, name).unwrap_or(f64::NAN));
                m.insert(name, e);
            }
        }
        if !m.is_empty() {
            metrics.insert(t.name.clone(), m);
        }
    }
    (units, metrics)
}

/// Every capacity change in the first `n` windows of replication 0, and
/// per tier the first window where it grew beyond the scenario's count.
fn triggers_of(runs: &[Vec<WindowRun>], n: usize) -> (Vec<Trigger>, IndexMap<String, u32>) {
    let mut triggers = Vec::new();
    let mut first_growth = IndexMap::new();
    let Some(r0) = runs.first() else {
        return (triggers, first_growth);
    };
    for w in r0.iter().take(n) {
        for e in &w.scaling {
            let t = e.tier as usize;
            let tier = w.tiers[t].name.clone();
            // The scenario's count: where the first window started.
            let initial = r0[0].tiers[t].units.map(|u| u.start);
            if initial.is_some_and(|i| e.to > i) && !first_growth.contains_key(&tier) {
                first_growth.insert(tier.clone(), w.window);
            }
            triggers.push(Trigger {
                window: w.window,
                at_s: e.at.as_nanos() as f64 / 1e9,
                tier,
                from: e.from,
                to: e.to,
                reason: e.reason.clone(),
            });
        }
    }
    (triggers, first_growth)
}

impl WindowsReport {
    /// `runs[j]` are replication j's windows in order; windows beyond the
    /// shortest replication's (an interrupted run) are left out.
    pub fn new(
        run: &RunDescription,
        plan: &WindowPlan,
        scenario: &str,
        seed: u64,
        start_unix_s: i64,
        runs: &[Vec<WindowRun>],
    ) -> WindowsReport {
        let n_windows = runs.iter().map(Vec::len).min().unwrap_or(0);
        let windows = (0..n_windows)
            .map(|k| WindowSummary::of(run, runs, k, start_unix_s))
            .collect();
        let (triggers, first_growth) = triggers_of(runs, n_windows);
        WindowsReport {
            schema_version: SCHEMA_VERSION,
            scenario: scenario.to_string(),
            seed,
            replications: runs.len() as u64,
            interruption: None,
            every_s: plan.every.as_secs_f64(),
            offset_s: plan.offset.as_secs_f64(),
            window_s: run.horizon.as_secs_f64(),
            warmup_s: run.warmup.as_secs_f64(),
            windows,
            triggers,
            first_growth,
            expectations: Vec::new(),
            assumptions: Vec::new(),
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
        let mut out = serde_json::to_vec_pretty(self).expect("a report always serialises");
        out.push(b'\n');
        out
    }

    /// `report.md`: what breaks first over the long horizon and when, the
    /// busiest tier there, when capacity first grew, the table of windows
    /// and the plot.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let r = self.replications;
        let _ = writeln!(
            out,
            "# {}: {} windows of {} every {}\n",
            self.scenario,
            self.windows.len(),
            SimDuration::from_secs_f64(self.window_s),
            SimDuration::from_secs_f64(self.every_s)
        );
        if let Some(i) = &self.interruption {
            let _ = writeln!(
                out,
                "**Interrupted** ({}): these figures cover the windows and replications that finished.\n",
                i.interrupted_by
            );
        }
        crate::claims::report_section(&mut out, &self.expectations, &self.assumptions);
        let _ = writeln!(out, "## What breaks first\n");
        let busiest = |w: &WindowSummary| {
            w.metrics
                .iter()
                .filter_map(|(t, m)| m.get("utilization").map(|u| (t, u)))
                .max_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate))
                .map(|(t, u)| {
                    format!(
                        "the busiest tier is {t} at {:.1}% utilisation (± {:.1})",
                        100.0 * u.estimate,
                        100.0 * u.half_width()
                    )
                })
        };
        match self.windows.iter().find(|w| w.replications_breaching > 0) {
            Some(w) => {
                let names: Vec<String> = w
                    .breach_minutes
                    .iter()
                    .filter(|(_, e)| e.estimate > 0.0)
                    .map(|(n, e)| {
                        format!(
                            "{n} ({:.1} ± {:.1} breach minutes)",
                            e.estimate,
                            e.half_width()
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "Window {} (starting {}, {:.0} requests/s offered) is the first where an objective breaches, in {}/{r} replications: {}.",
                    w.window,
                    w.start_utc,
                    w.offered_per_s,
                    w.replications_breaching,
                    names.join(", ")
                );
                if let Some(b) = busiest(w) {
                    let _ = writeln!(out, "There {b}.");
                }
            }
            None if self.windows.iter().any(|w| !w.breach_minutes.is_empty()) => {
                let _ = writeln!(
                    out,
                    "Every objective holds in every window, in all {r} replications."
                );
                if let Some(b) = self.windows.last().and_then(busiest) {
                    let _ = writeln!(out, "In the last window {b}.");
                }
            }
            None => {
                let _ = writeln!(out, "The scenario has no objectives.");
            }
        }
        if !self.first_growth.is_empty() {
            let _ = writeln!(out);
            for (tier, k) in &self.first_growth {
                let _ = writeln!(
                    out,
                    "- {tier} first grew beyond the scenario's capacity in window {k} (starting {}).",
                    self.windows[*k as usize].start_utc
                );
            }
        }
        let _ = writeln!(
            out,
            "\n## Windows\n\nEach window is simulated as a run of its own; ± is the 95% CI half-width over replications.\n\n```text\n{}```\n",
            self.table(20)
        );
        let _ = writeln!(out, "![windows](plots/windows.png)");
        out
    }

    /// Did any objective breach in any window of any replication?
    pub fn breached(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in &self.windows {
            for (name, e) in &w.breach_minutes {
                if e.estimate > 0.0 && !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    /// One row per window; estimates with `_lo` / `_hi` CI columns.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut header: Vec<String> = [
            "scenario",
            "seed",
            "window",
            "start_s",
            "start_utc",
            "offered_per_s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut est_cols: Vec<String> = vec!["throughput_per_s".into()];
        if let Some(w) = self.windows.first() {
            for k in w.latency_ms.keys() {
                est_cols.push(format!("latency_{k}_ms"));
            }
            est_cols.push("error_rate".into());
            est_cols.push("cost_usd".into());
            est_cols.push("cost_per_hour_usd".into());
            for name in w.breach_minutes.keys() {
                est_cols.push(format!("slo:{name}:breach_minutes"));
            }
            for (tier, u) in &w.units {
                for part in ["start", "end", "peak"] {
                    est_cols.push(format!("{tier}:{}_{part}", u.unit));
                }
            }
            for (tier, m) in &w.metrics {
                for k in m.keys() {
                    est_cols.push(format!("{tier}:{k}"));
                }
            }
        }
        for c in &est_cols {
            header.push(c.clone());
            header.push(format!("{c}_lo"));
            header.push(format!("{c}_hi"));
        }
        header.push("replications_breaching".into());
        let mut wtr = csv::Writer::from_writer(Vec::new());
        wtr.write_record(&header).expect("in memory");
        for w in &self.windows {
            let mut row = vec![
                self.scenario.clone(),
                self.seed.to_string(),
                w.window.to_string(),
                num(w.start_s),
                w.start_utc.clone(),
                num(w.offered_per_s),
            ];
            let mut ests: Vec<Estimate> = vec![w.throughput_per_s];
            ests.extend(w.latency_ms.values().copied());
            ests.push(w.error_rate);
            ests.push(w.cost_usd);
            ests.push(w.cost_per_hour_usd);
            ests.extend(w.breach_minutes.values().copied());
            for u in w.units.values() {
                ests.extend([u.start, u.end, u.peak]);
            }
            for m in w.metrics.values() {
                ests.extend(m.values().copied());
            }
            for e in ests {
                row.push(num(e.estimate));
                row.push(num(e.ci95[0]));
                row.push(num(e.ci95[1]));
            }
            row.push(w.replications_breaching.to_string());
            wtr.write_record(&row).expect("in memory");
        }
        wtr.into_inner().expect("in memory")
    }

    /// The terminal table: a line per window, then the capacity changes.
    pub fn table(&self, max_triggers: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} windows of {} every {} ({} warm-up each) · seed {} · {} replications · ± is the 95% CI half-width",
            self.scenario,
            self.windows.len(),
            SimDuration::from_secs_f64(self.window_s),
            SimDuration::from_secs_f64(self.every_s),
            SimDuration::from_secs_f64(self.warmup_s),
            self.seed,
            self.replications
        );
        let Some(first) = self.windows.first() else {
            return out;
        };
        let mut rows = vec![table_header(first)];
        rows.extend(self.windows.iter().map(|w| self.table_row(w)));
        grid(&rows, &mut out);
        if !self.first_growth.is_empty() {
            let _ = writeln!(out);
            for (tier, k) in &self.first_growth {
                let _ = writeln!(
                    out,
                    "{tier} first grew beyond the scenario's capacity in window {k} (starting {})",
                    self.windows[*k as usize].start_utc
                );
            }
        }
        if !self.triggers.is_empty() && max_triggers > 0 {
            self.trigger_lines(max_triggers, &mut out);
        }
        if !self.expectations.is_empty() {
            out.push('\n');
            crate::claims::table_section(&mut out, &self.expectations);
        }
        out
    }

    /// One window's line of the terminal table.
    fn table_row(&self, w: &WindowSummary) -> Vec<String> {
        let mut row = vec![
            w.window.to_string(),
            w.start_utc
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string(),
            format!("{:.0}", w.offered_per_s),
        ];
        for u in w.units.values() {
            row.push(format!(
                "{:.1} → {:.1} (max {:.1})",
                u.start.estimate, u.end.estimate, u.peak.estimate
            ));
        }
        row.push(pm(&w.latency_ms["p95"], 1));
        row.push(pm(&w.latency_ms["p99"], 1));
        row.push(format!("{:.2}%", 100.0 * w.error_rate.estimate));
        row.push(format!("{:.2}", w.cost_per_hour_usd.estimate));
        if !w.breach_minutes.is_empty() {
            let total: f64 = w.breach_minutes.values().map(|e| e.estimate).sum();
            row.push(if total > 0.0 {
                format!(
                    "{total:.1} ({}/{})",
                    w.replications_breaching, self.replications
                )
            } else {
                "0".into()
            });
        }
        row
    }

    /// The capacity changes of replication 0, at most `max` of them.
    fn trigger_lines(&self, max: usize, out: &mut String) {
        let _ = writeln!(
            out,
            "\ncapacity changes in replication 0 ({} in all{}):",
            self.triggers.len(),
            if self.triggers.len() > max {
                format!(", first {max} shown; all in windows.json")
            } else {
                String::new()
            }
        );
        for t in self.triggers.iter().take(max) {
            let _ = writeln!(
                out,
                "  window {:>3} +{:<8} {} {} → {}: {}",
                t.window,
                SimDuration::from_secs_f64(t.at_s).to_string(),
                t.tier,
                t.from,
                t.to,
                t.reason
            );
        }
    }
}

/// The terminal table's column names; the tiers' and objectives' columns
/// as the first window has them.
fn table_header(first: &WindowSummary) -> Vec<String> {
    let mut header = vec![
        "window".to_string(),
        "starts (UTC)".into(),
        "offered/s".into(),
    ];
    for (tier, u) in &first.units {
        header.push(format!("{tier} {}", u.unit));
    }
    header.extend([
        "p95 ms".into(),
        "p99 ms".into(),
        "errors".into(),
        "$/hour".into(),
    ]);
    if !first.breach_minutes.is_empty() {
        header.push("breach min".into());
    }
    header
}

fn pm(e: &Estimate, decimals: usize) -> String {
    if !e.estimate.is_finite() {
        return "-".into();
    }
    let half = (e.ci95[1] - e.ci95[0]) / 2.0;
    if half.is_finite() && half > 0.0 {
        format!("{:.decimals$} ± {:.decimals$}", e.estimate, half)
    } else {
        format!("{:.decimals$}", e.estimate)
    }
}

fn grid(rows: &[Vec<String>], out: &mut String) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let pad = " ".repeat(widths[i] - c.chars().count());
            if i < 2 {
                line.push_str(c);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(c);
            }
            line.push_str("   ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (inside jiff's range, years
/// -9999 to 9999, which the scenario builder checks for a run's end).
pub fn utc(unix_s: i64) -> String {
    let at = jiff::Timestamp::from_second(unix_s).unwrap_or(if unix_s < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

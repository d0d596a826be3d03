//! The terminal summary: aligned columns, every figure with its 95% CI
//! half-width on the line below it.

use std::fmt::Write;

use sim_engine::Estimate;

use crate::summary::{Latency, Summary};

/// Formats a figure with a precision that suits its size. NaN (no data) is "–".
pub fn fmt_num(x: f64) -> String {
    fmt_with(x, decimals_for(x))
}

fn decimals_for(x: f64) -> usize {
    let a = x.abs();
    if !a.is_finite() || a >= 10_000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a == 0.0 {
        0
    } else if a >= 1.0 {
        2
    } else if a >= 0.01 {
        3
    } else {
        // Three significant digits for small values.
        (-(a.log10().floor()) as usize) + 2
    }
}

fn fmt_with(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "–".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    let s = format!("{x:.decimals$}");
    group_thousands(&s)
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map(|r| ("-", r)).unwrap_or(("", s));
    let (int, frac) = rest
        .split_once('.')
        .map(|(i, f)| (i, Some(f)))
        .unwrap_or((rest, None));
    if int.len() <= 4 {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// The estimate and "±half-width" at the estimate's precision.
pub(crate) fn est_cells(e: &Estimate, scale: f64) -> (String, String) {
    let x = e.estimate * scale;
    let d = decimals_for(x);
    let half = e.half_width() * scale;
    let ci = if half.is_nan() {
        String::new()
    } else if half > 0.0
        && fmt_with(half, d)
            .trim_start_matches(['0', '.', ','])
            .is_empty()
    {
        // Too small for the estimate's precision: one significant digit, at
        // most three decimals beyond the estimate's (anything smaller is
        // rounding noise between replications, shown as ±0).
        let dh = (decimals_for(half).max(d) - 1).min(d + 3);
        let s = fmt_with(half, dh);
        if s.trim_start_matches(['0', '.', ',']).is_empty() {
            "±0".to_string()
        } else {
            format!("±{s}")
        }
    } else {
        format!("±{}", fmt_with(half, d))
    };
    (fmt_with(x, d), ci)
}

/// A grid of cells: the first column left-aligned, the rest right-aligned.
pub(crate) struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    pub(crate) fn new(header: &[&str]) -> Self {
        Grid {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// One entity: a row of estimates and a row of half-widths beneath.
    pub(crate) fn push_estimates(&mut self, label: &str, cells: &[(String, String)]) {
        let mut a = vec![format!("  {label}")];
        let mut b = vec![String::new()];
        for (v, ci) in cells {
            a.push(v.clone());
            b.push(ci.clone());
        }
        self.rows.push(a);
        if b.iter().any(|c| !c.is_empty()) {
            self.rows.push(b);
        }
    }

    pub(crate) fn render(&self, out: &mut String) {
        let cols = self.header.len();
        let mut widths = vec![0usize; cols];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                if i == 0 {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str("   ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

fn latency_cells(l: &Latency) -> Vec<(String, String)> {
    [&l.mean, &l.p50, &l.p90, &l.p95, &l.p99, &l.p999, &l.max]
        .iter()
        .map(|e| est_cells(e, 1.0))
        .collect()
}

fn seconds_label(s: f64) -> String {
    sim_engine::SimDuration::from_secs_f64(s).to_string()
}

/// A cell with no interval beneath it.
pub(crate) fn plain(text: impl Into<String>) -> (String, String) {
    (text.into(), String::new())
}

/// Renders the summary as the terminal table: a header, then one grid per
/// section (requests, latency, regions, tiers, where the time goes,
/// autoscaling, cost, SLOs); regions and the last four appear only when the
/// run has something to show in them.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    header(&mut out, s);
    requests(&mut out, s);
    out.push('\n');
    latency(&mut out, s);
    out.push('\n');
    if !s.regions.is_empty() {
        regions(&mut out, s);
        out.push('\n');
    }
    tiers(&mut out, s);
    if s.classes.values().any(|c| !c.breakdown.is_empty()) {
        out.push('\n');
        crate::breakdown::table_lines(&mut out, s);
    }
    if !s.scaling.is_empty() {
        out.push('\n');
        scaling(&mut out, s);
    }
    let c = &s.cost_usd;
    if c.tiers.values().any(|t| t.priced_as != "unpriced") || c.total.estimate > 0.0 {
        out.push('\n');
        cost(&mut out, s);
    }
    if !s.slos.is_empty() {
        out.push('\n');
        slos(&mut out, s);
    }
    if !s.expectations.is_empty() {
        out.push('\n');
        crate::claims::table_section(&mut out, &s.expectations);
    }
    out
}

/// The scenario, its seed, replications and horizon, and what ± means.
fn header(out: &mut String, s: &Summary) {
    let _ = writeln!(out, "{}: {}", s.scenario, s.description);
    let _ = writeln!(
        out,
        "seed {} · {} replications · {} simulated each ({} warm-up) · ± is the 95% CI half-width",
        s.seed,
        s.replications,
        seconds_label(s.simulated_seconds),
        seconds_label(s.warmup_seconds),
    );
    out.push('\n');
}

/// Request counts per replication, per class (when there are several) and
/// for all classes.
fn requests(out: &mut String, s: &Summary) {
    let mut g = Grid::new(&[
        "requests per replication",
        "arrived",
        "completed",
        "failed",
        "rejected",
        "in flight",
        "throughput /s",
    ]);
    let req_cells = |r: &crate::summary::Requests, tput: Option<&Estimate>| {
        let mut v: Vec<(String, String)> = [
            &r.arrived,
            &r.completed,
            &r.failed,
            &r.rejected,
            &r.in_flight,
        ]
        .iter()
        .map(|e| est_cells(e, 1.0))
        .collect();
        v.push(tput.map(|t| est_cells(t, 1.0)).unwrap_or_default());
        v
    };
    if s.classes.len() > 1 {
        for (name, c) in &s.classes {
            g.push_estimates(name, &req_cells(&c.requests, None));
        }
    }
    g.push_estimates(
        "all classes",
        &req_cells(&s.requests, Some(&s.throughput_per_s)),
    );
    g.render(out);
}

/// Latency percentiles per class (when there are several) and for all.
fn latency(out: &mut String, s: &Summary) {
    let mut g = Grid::new(&[
        "latency (ms)",
        "mean",
        "p50",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "max",
    ]);
    if s.classes.len() > 1 {
        for (name, c) in &s.classes {
            g.push_estimates(name, &latency_cells(&c.latency_ms));
        }
    }
    g.push_estimates("all classes", &latency_cells(&s.latency_ms));
    g.render(out);
}

/// Users by region: what they sent, lost and waited, and which regions
/// served them.
fn regions(out: &mut String, s: &Summary) {
    let mut g = Grid::new(&[
        "users by region",
        "arrived",
        "failed + rejected",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "served by (% of attempts)",
    ]);
    for (name, r) in &s.regions {
        let served: Vec<String> = r
            .served_by
            .iter()
            .filter(|(_, e)| e.estimate >= 0.0005)
            .map(|(k, e)| format!("{k} {}", fmt_with(e.estimate * 100.0, 1)))
            .collect();
        let lost_cell = if r.requests.rejected.estimate == 0.0 {
            est_cells(&r.requests.failed, 1.0)
        } else {
            // Two estimates' sum: no interval of its own.
            let lost = r.requests.failed.estimate + r.requests.rejected.estimate;
            plain(fmt_num(lost))
        };
        g.push_estimates(
            name,
            &[
                est_cells(&r.requests.arrived, 1.0),
                lost_cell,
                est_cells(&r.latency_ms.p50, 1.0),
                est_cells(&r.latency_ms.p95, 1.0),
                est_cells(&r.latency_ms.p99, 1.0),
                plain(served.join(", ")),
            ],
        );
    }
    g.render(out);
}

/// Each tier's kind, utilisation, queueing and throughput.
fn tiers(out: &mut String, s: &Summary) {
    let mut g = Grid::new(&[
        "tiers",
        "kind",
        "utilization %",
        "queue wait ms",
        "queue length",
        "throughput /s",
        "visit p99 ms",
    ]);
    for (name, t) in &s.tiers {
        let get = |k: &str, scale: f64| {
            t.metrics
                .get(k)
                .map(|e| est_cells(e, scale))
                .unwrap_or_default()
        };
        let mut cells = vec![plain(t.kind.clone())];
        cells.push(get("utilization", 100.0));
        cells.push(get("queue_wait_ms", 1.0));
        cells.push(get("queue_length", 1.0));
        cells.push(get("throughput_per_s", 1.0));
        cells.push(
            t.latency_ms
                .as_ref()
                .map(|l| est_cells(&l.p99, 1.0))
                .unwrap_or_default(),
        );
        g.push_estimates(name, &cells);
    }
    g.render(out);
}

/// Each scaled tier's bounds, actions and unit counts.
fn scaling(out: &mut String, s: &Summary) {
    let mut g = Grid::new(&[
        "autoscaling",
        "units",
        "min–max",
        "start",
        "actions",
        "outs",
        "ins",
        "peak",
        "end",
    ]);
    for (name, a) in &s.scaling {
        g.push_estimates(
            name,
            &[
                plain(a.units.clone()),
                plain(format!("{}–{}", a.min, a.max)),
                plain(a.initial.to_string()),
                est_cells(&a.actions, 1.0),
                est_cells(&a.scale_outs, 1.0),
                est_cells(&a.scale_ins, 1.0),
                est_cells(&a.peak, 1.0),
                est_cells(&a.final_, 1.0),
            ],
        );
    }
    g.render(out);
}

/// The bill, line by line so that each multiplies out (mean units × hours
/// × USD per unit-hour + top-ups = USD), with its share; the total; the
/// mean and peak cost per hour and the cost per million requests.
fn cost(out: &mut String, s: &Summary) {
    let c = &s.cost_usd;
    let mut g = Grid::new(&[
        "cost (USD, measured window)",
        "priced as",
        "units",
        "× h",
        "× $/unit-h",
        "+ top-ups",
        "= USD",
        "share %",
    ]);
    let total = c.total.estimate;
    let share = |x: f64| {
        if total > 0.0 {
            fmt_num(100.0 * x / total)
        } else {
            "–".into()
        }
    };
    let (rows, blends) = crate::sections::cost_rows(c);
    let opt = |x: Option<f64>, f: fn(f64) -> String| plain(x.map(f).unwrap_or_default());
    for r in &rows {
        g.push_estimates(
            &r.item,
            &[
                plain(r.priced_as.clone()),
                r.units
                    .as_ref()
                    .map_or_else(|| plain(""), |e| est_cells(e, 1.0)),
                opt(r.hours, fmt_num),
                opt(r.rate, crate::sections::fmt_price),
                r.top_ups
                    .as_ref()
                    .map_or_else(|| plain(""), |e| est_cells(e, 1.0)),
                est_cells(&r.usd, 1.0),
                plain(share(r.usd.estimate)),
            ],
        );
    }
    let blank = || plain("");
    g.push_estimates(
        "total",
        &[
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            est_cells(&c.total, 1.0),
            blank(),
        ],
    );
    g.render(out);
    for b in &blends {
        let _ = writeln!(out, "  {b}");
    }
    let (ph, ph_ci) = est_cells(&c.per_hour, 1.0);
    let (pk, pk_ci) = est_cells(&c.peak_per_hour, 1.0);
    let (pm, pm_ci) = est_cells(&c.per_million_requests, 1.0);
    let _ = writeln!(
        out,
        "  USD per hour: mean {ph} {ph_ci}, peak {pk} {pk_ci} · USD per million completed requests {pm} {pm_ci}"
    );
}

/// Each SLO's verdict, breaches and error budget, then its objective.
fn slos(out: &mut String, s: &Summary) {
    let mut g = Grid::new(&[
        "SLOs",
        "verdict",
        "reps breached",
        "breach min",
        "first breach",
        "budget used %",
    ]);
    for (name, o) in &s.slos {
        let first_breach = o
            .first_breach_s
            .as_ref()
            .map(|f| seconds_label(f.earliest))
            .unwrap_or_else(|| "–".into());
        g.push_estimates(
            name,
            &[
                plain(if o.met { "met" } else { "BREACHED" }),
                plain(format!("{}/{}", o.replications_breached, s.replications)),
                est_cells(&o.breach_minutes, 1.0),
                plain(first_breach),
                est_cells(&o.budget_consumed, 100.0),
            ],
        );
    }
    g.render(out);
    for (name, o) in &s.slos {
        let _ = writeln!(out, "  {name}: {}", o.objective);
    }
}

/// The scaling actions of one replication, at most `limit` of them.
pub fn scaling_timeline(r: &capsim_models::ReplicationResult, limit: usize) -> String {
    let mut out = String::new();
    if r.scaling.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "scaling actions of replication {} ({} in all)",
        r.replication + 1,
        r.scaling.len()
    );
    for e in r.scaling.iter().take(limit) {
        let _ = writeln!(
            out,
            "  {:>10}  {:<12} {:>4} → {:<4} {}",
            seconds_label(e.at.as_secs_f64()),
            r.tiers[e.tier as usize].name,
            e.from,
            e.to,
            e.reason
        );
    }
    if r.scaling.len() > limit {
        let _ = writeln!(
            out,
            "  … {} more (all replications' actions are in events.csv with --out)",
            r.scaling.len() - limit
        );
    }
    out
}

/// `header` and `rows` in columns two spaces apart: a column for which
/// `left(i)` holds is left-aligned (names), the others right-aligned
/// (figures); trailing spaces trimmed.
pub fn aligned(header: &[String], rows: &[Vec<String>], left: impl Fn(usize) -> bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = " ".repeat(w - c.chars().count());
            if left(i) {
                s.push_str(c);
                s.push_str(&pad);
            } else {
                s.push_str(&pad);
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// `header` and `rows` as a Markdown table.
pub fn markdown(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|", header.join(" | "));
    out.push_str(&"---|".repeat(header.len()));
    out.push('\n');
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_by_magnitude() {
        assert_eq!(fmt_num(939_577.5), "939,578");
        assert_eq!(fmt_num(1668.24), "1668.2");
        assert_eq!(fmt_num(12_345.0), "12,345");
        assert_eq!(fmt_num(9.0), "9.00");
        assert_eq!(fmt_num(0.5), "0.500");
        assert_eq!(fmt_num(0.001_234), "0.00123");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(-2_500_000.0), "-2,500,000");
        assert_eq!(fmt_num(f64::NAN), "–");
    }

    #[test]
    fn half_width_uses_the_estimate_precision() {
        let e = Estimate {
            estimate: 1668.24,
            ci95: [1663.1, 1673.38],
        };
        assert_eq!(est_cells(&e, 1.0), ("1668.2".into(), "±5.1".into()));
        let tiny = Estimate {
            estimate: 8.994,
            ci95: [8.9895, 8.9985],
        };
        assert_eq!(est_cells(&tiny, 1.0), ("8.99".into(), "±0.0045".into()));
        let zero = Estimate {
            estimate: 0.0,
            ci95: [0.0, 0.0],
        };
        assert_eq!(est_cells(&zero, 1.0), ("0".into(), "±0".into()));
        let noise = Estimate {
            estimate: 0.323,
            ci95: [0.323 - 6.5e-17, 0.323 + 6.5e-17],
        };
        assert_eq!(est_cells(&noise, 1.0), ("0.323".into(), "±0".into()));
        let small = Estimate {
            estimate: 1.11,
            ci95: [1.11 - 0.00049, 1.11 + 0.00049],
        };
        assert_eq!(est_cells(&small, 1.0), ("1.11".into(), "±0.00049".into()));
    }
}

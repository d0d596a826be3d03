//! `report.md`: a one-page review document of a run (scenario, verdicts, key
//! figures with their confidence intervals, per class and per tier, the
//! scaling timeline, cost, and the plots embedded), to paste into a design
//! review or render on a code host.

use std::fmt::Write;

use capsim_models::ReplicationResult;
use sim_engine::{Estimate, SimDuration};

use crate::summary::Summary;
use crate::table::{est_cells, fmt_num};

/// The plots `report.md` embeds, as (file stem, caption).
pub const PLOTS: [(&str, &str); 5] = [
    (
        "timeline",
        "Traffic, units in service and latency over time",
    ),
    ("latency_cdf", "Latency distribution per class"),
    ("cost", "Cost per tier"),
    ("utilization", "Utilisation per tier"),
    ("breakdown", "Where the time goes per class"),
];

/// "x ± h" with the precision of the terminal table.
fn est(e: &Estimate) -> String {
    est_scaled(e, 1.0)
}

fn est_scaled(e: &Estimate, scale: f64) -> String {
    let (v, ci) = est_cells(e, scale);
    if ci.is_empty() {
        v
    } else {
        format!("{v} {ci}")
    }
}

fn duration(seconds: f64) -> String {
    SimDuration::from_secs_f64(seconds).to_string()
}

/// Escapes the characters that would break a table cell.
pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The bytes of `report.md`.
pub fn report_md(s: &Summary, results: &[ReplicationResult]) -> Vec<u8> {
    let mut o = String::new();
    let _ = writeln!(o, "# Capacity review: {}\n", s.scenario);
    if !s.description.is_empty() {
        let _ = writeln!(o, "{}\n", s.description);
    }
    let _ = writeln!(
        o,
        "Seed {} · {} replications of {} simulated ({} warm-up, not measured) · \
         capsim {} · figures are means over replications with the 95% confidence \
         interval half-width (±).\n",
        s.seed,
        s.replications,
        duration(s.simulated_seconds),
        duration(s.warmup_seconds),
        s.engine.version,
    );
    if let Some(i) = &s.interruption {
        let _ = writeln!(
            o,
            "> **Interrupted ({}): only {} of {} replications finished** (indices {}); \
             every figure below covers those alone. Run again to complete it.\n",
            i.interrupted_by,
            i.completed_replications.len(),
            i.replications_requested,
            ranges(&i.completed_replications)
        );
    }

    verdict(&mut o, s);
    crate::claims::report_section(&mut o, &s.expectations, &s.assumptions);
    crate::capacity::report_section(&mut o, &s.capacity_check);
    key_figures(&mut o, s);
    per_class(&mut o, s);
    per_tier(&mut o, s);
    crate::breakdown::report_section(&mut o, s);
    scaling(&mut o, s, results);
    cost(&mut o, s);
    plots(&mut o);
    o.into_bytes()
}

/// Sorted indices as runs: `0–11, 25, 27–30`.
fn ranges(indices: &[u64]) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &i in indices {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == i => *last = i,
            _ => runs.push((i, i)),
        }
    }
    runs.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Verdict first: what a reviewer reads.
fn verdict(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "## Verdict\n");
    if s.slos.is_empty() {
        let _ = writeln!(
            o,
            "No objectives are defined (add `[[slos]]` to the scenario to judge the run).\n"
        );
    } else {
        let breached: Vec<&String> = s
            .slos
            .iter()
            .filter(|(_, v)| !v.met)
            .map(|(n, _)| n)
            .collect();
        if breached.is_empty() {
            let _ = writeln!(
                o,
                "**All {} objectives met** in every window of every replication.\n",
                s.slos.len()
            );
        } else {
            let _ = writeln!(
                o,
                "**{} of {} objectives breached**: {}.\n",
                breached.len(),
                s.slos.len(),
                breached
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(
            o,
            "| objective | definition | verdict | replications breached | breach minutes | first breach | error budget used |"
        );
        let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|");
        for (name, v) in &s.slos {
            // The objective's words name a region's users already
            // (`sections::describe`).
            let scope = match (&v.class, &v.region, &v.tier) {
                (_, Some(_), _) => String::new(),
                (Some(c), None, _) => format!(" (class {c})"),
                (None, None, Some(t)) => format!(" (tier {t})"),
                (None, None, None) => String::new(),
            };
            let _ = writeln!(
                o,
                "| {} | {}{} | {} | {} of {} | {} | {} | {}% |",
                cell(name),
                cell(&v.objective),
                cell(&scope),
                if v.met { "met" } else { "**BREACHED**" },
                v.replications_breached,
                s.replications,
                est(&v.breach_minutes),
                v.first_breach_s
                    .as_ref()
                    .map(|f| format!("{} (median {})", duration(f.earliest), duration(f.median)))
                    .unwrap_or_else(|| "–".into()),
                est_scaled(&v.budget_consumed, 100.0),
            );
        }
        o.push('\n');
    }
}

fn key_figures(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "## Key figures\n");
    let _ = writeln!(
        o,
        "Per replication, over the measured {}.\n",
        duration(s.measured_seconds)
    );
    let _ = writeln!(o, "| figure | value |");
    let _ = writeln!(o, "|---|---:|");
    let r = &s.requests;
    let l = &s.latency_ms;
    let c = &s.cost_usd;
    let rows: Vec<(&str, String)> = vec![
        ("requests arrived", est(&r.arrived)),
        ("requests completed", est(&r.completed)),
        ("requests failed", est(&r.failed)),
        ("requests rejected", est(&r.rejected)),
        ("client timeouts", est(&r.timed_out)),
        ("retries", est(&r.retries)),
        ("throughput (completed/s)", est(&s.throughput_per_s)),
        ("latency p50 (ms)", est(&l.p50)),
        ("latency p95 (ms)", est(&l.p95)),
        ("latency p99 (ms)", est(&l.p99)),
        ("latency p99.9 (ms)", est(&l.p999)),
        ("cost (USD)", est(&c.total)),
        ("cost per hour, mean (USD)", est(&c.per_hour)),
        ("cost per hour, peak interval (USD)", est(&c.peak_per_hour)),
        (
            "cost per million completed requests (USD)",
            est(&c.per_million_requests),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "| {k} | {v} |");
    }
    o.push('\n');
}

fn per_class(o: &mut String, s: &Summary) {
    if s.classes.len() > 1 {
        let _ = writeln!(o, "### Per class\n");
        let _ = writeln!(
            o,
            "| class | completed | failed + rejected | p50 ms | p95 ms | p99 ms | p99.9 ms |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for (name, cl) in &s.classes {
            let bad = cl.requests.failed.estimate + cl.requests.rejected.estimate;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(name),
                est(&cl.requests.completed),
                fmt_num(bad),
                est(&cl.latency_ms.p50),
                est(&cl.latency_ms.p95),
                est(&cl.latency_ms.p99),
                est(&cl.latency_ms.p999),
            );
        }
        o.push('\n');
    }
}

fn per_tier(o: &mut String, s: &Summary) {
    let _ = writeln!(o, "### Per tier\n");
    let _ = writeln!(
        o,
        "| tier | kind | utilisation % | queue wait ms | queue length | throughput /s | visit p50 ms | visit p99 ms |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (name, t) in &s.tiers {
        let get = |k: &str, scale: f64| {
            t.metrics
                .get(k)
                .map(|e| est_scaled(e, scale))
                .unwrap_or_else(|| "–".into())
        };
        let visit = |q: fn(&crate::summary::Latency) -> &Estimate| {
            t.latency_ms
                .as_ref()
                .map(|l| est(q(l)))
                .unwrap_or_else(|| "–".into())
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(name),
            t.kind,
            get("utilization", 100.0),
            get("queue_wait_ms", 1.0),
            get("queue_length", 1.0),
            get("throughput_per_s", 1.0),
            visit(|l| &l.p50),
            visit(|l| &l.p99),
        );
    }
    let _ = writeln!(
        o,
        "\nA visit is a request's time at the tier, as its `latency_p99_ms` series \
         counts it: an API from the balancer until the request leaves the instance \
         (its calls included), a cache command or database query from its arrival \
         until it is answered (the network round trip excluded: see where the time \
         goes).\n"
    );
}

fn scaling(o: &mut String, s: &Summary, results: &[ReplicationResult]) {
    let _ = writeln!(o, "## Scaling timeline\n");
    if s.scaling.is_empty() {
        let _ = writeln!(o, "No tier autoscales in this scenario.\n");
    } else {
        let _ = writeln!(
            o,
            "| tier | units | min–max | start | actions | scale-outs | scale-ins | peak | end |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (name, a) in &s.scaling {
            let _ = writeln!(
                o,
                "| {} | {} | {}–{} | {} | {} | {} | {} | {} | {} |",
                cell(name),
                a.units,
                a.min,
                a.max,
                a.initial,
                est(&a.actions),
                est(&a.scale_outs),
                est(&a.scale_ins),
                est(&a.peak),
                est(&a.final_),
            );
        }
        o.push('\n');
        if let Some(first) = results.first() {
            const LIMIT: usize = 20;
            if first.scaling.is_empty() {
                let _ = writeln!(o, "Replication 1 took no scaling action.\n");
            } else {
                let _ = writeln!(
                    o,
                    "Actions of replication 1 ({} in all; every replication's are in `events.csv`):\n",
                    first.scaling.len()
                );
                let _ = writeln!(o, "| time | tier | from | to | reason |");
                let _ = writeln!(o, "|---:|---|---:|---:|---|");
                for e in first.scaling.iter().take(LIMIT) {
                    let _ = writeln!(
                        o,
                        "| {} | {} | {} | {} | {} |",
                        duration(e.at.as_secs_f64()),
                        cell(&first.tiers[e.tier as usize].name),
                        e.from,
                        e.to,
                        cell(&e.reason)
                    );
                }
                if first.scaling.len() > LIMIT {
                    let _ = writeln!(o, "\n… and {} more.", first.scaling.len() - LIMIT);
                }
                o.push('\n');
            }
        }
    }
}

fn cost(o: &mut String, s: &Summary) {
    let c = &s.cost_usd;
    let _ = writeln!(o, "## Cost\n");
    let priced: Vec<_> = c
        .tiers
        .iter()
        .filter(|(_, t)| t.priced_as != "unpriced")
        .collect();
    if priced.is_empty() && c.total.estimate == 0.0 {
        let _ = writeln!(
            o,
            "No tier has a price: give tiers an `instance_type` from `capsim catalogue` to cost the run.\n"
        );
    } else {
        let total = c.total.estimate;
        let share = |x: f64| {
            if total > 0.0 {
                format!("{:.1}", 100.0 * x / total)
            } else {
                "–".into()
            }
        };
        let _ = writeln!(
            o,
            "Each line multiplies out: mean units × hours × USD per unit-hour + top-ups \
             (billing minimums and partial hours of units that terminated) = USD.\n"
        );
        let _ = writeln!(
            o,
            "| item | priced as | mean units | hours | USD per unit-hour | top-ups (USD) | USD | share % |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|");
        let (rows, blends) = crate::sections::cost_rows(c);
        let opt = |x: Option<&Estimate>| x.map(est).unwrap_or_default();
        for r in &rows {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&r.item),
                cell(&r.priced_as),
                opt(r.units.as_ref()),
                r.hours.map(fmt_num).unwrap_or_default(),
                r.rate.map(crate::sections::fmt_price).unwrap_or_default(),
                opt(r.top_ups.as_ref()),
                est(&r.usd),
                share(r.usd.estimate)
            );
        }
        let _ = writeln!(o, "| **total** | | | | | | **{}** | 100 |\n", est(&c.total));
        for b in &blends {
            let _ = writeln!(o, "* {}", cell(b));
        }
        let _ = writeln!(
            o,
            "{}Cost per hour: mean {}, peak {} (the costliest interval of the measured window).",
            if blends.is_empty() { "" } else { "\n" },
            est(&c.per_hour),
            est(&c.peak_per_hour)
        );
        o.push('\n');
    }
}

fn plots(o: &mut String) {
    let _ = writeln!(o, "## Plots\n");
    for (stem, caption) in PLOTS {
        let _ = writeln!(
            o,
            "### {caption}\n\n![{caption}](plots/{stem}.png)\n\n([SVG](plots/{stem}.svg))\n"
        );
    }
    let _ = writeln!(
        o,
        "Data: `summary.json` (every figure with its CI), `timeseries.csv` (per interval), \
         `latency.csv` (per-class and per-tier percentiles), `events.csv` (scaling actions, failures, \
         breaching windows), `replications.csv` (every figure per replication, for \
         `capsim compare`); see docs/outputs.md."
    );
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn replication_indices_print_as_runs() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0–2, 5, 7–8");
        assert_eq!(ranges(&[3]), "3");
        assert_eq!(ranges(&[]), "");
    }
}

//! Where the time goes: each class's latency split into parts per tier
//! (queueing, pool wait, service, network) and the time before a retried
//! request's answered attempt, as means over every answered request and
//! over the slowest 1% (the requests above p99). In `summary.json`
//! (`classes.<name>.breakdown`), the terminal table, report.md and the
//! `breakdown` plot.

use std::fmt::Write;

use serde::Serialize;
use sim_engine::Estimate;

use capsim_models::ReplicationResult;

use crate::summary::Summary;
use crate::table::{est_cells, fmt_num};

/// One part of a class's latency, over replications.
#[derive(Clone, Debug, Serialize)]
pub struct BreakdownPart {
    /// The tier it was spent at; absent for `retry` (before the answered
    /// attempt), `delay` (the route's delay steps) and `network` at no tier
    /// (the users' trip to the region serving them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// `queue`, `pool_wait`, `service`, `network`, `retry` or `delay`.
    pub part: &'static str,
    /// Mean over every answered request, ms.
    pub mean_ms: Estimate,
    /// Its share of the mean latency (0 to 1).
    pub share: Estimate,
    /// Mean over the slowest 1% of answered requests, ms.
    pub p99_tail_mean_ms: Estimate,
    /// Its share of the slowest 1%'s mean latency (0 to 1).
    pub p99_tail_share: Estimate,
}

impl BreakdownPart {
    /// How a reader names it: `api queue`, `users' network`, `retries`.
    pub fn label(&self) -> String {
        part_label(self.tier.as_deref(), self.part)
    }
}

/// How a reader names a part at a tier (or at none).
pub fn part_label(tier: Option<&str>, part: &str) -> String {
    match (tier, part) {
        (Some(t), p) => format!("{t} {}", p.replace('_', " ")),
        (None, "network") => "users' network".into(),
        (None, "retry") => "retries".into(),
        (None, "delay") => "delay steps".into(),
        (None, p) => p.into(),
    }
}

/// Class `i`'s parts over `results`: every part its route can spend time
/// on, tiers in route order, then the parts at no tier.
pub fn class_breakdown(results: &[ReplicationResult], i: usize) -> Vec<BreakdownPart> {
    let Some(first) = results.first() else {
        return Vec::new();
    };
    let b = &first.classes[i].breakdown;
    let per_rep = |f: &dyn Fn(&capsim_models::results::Breakdown) -> Vec<f64>| -> Vec<Vec<f64>> {
        results.iter().map(|r| f(&r.classes[i].breakdown)).collect()
    };
    let means = per_rep(&|b| b.mean_ms.clone());
    let tails = per_rep(&|b| b.tail_mean_ms.clone());
    let shares = |v: &[Vec<f64>]| -> Vec<Vec<f64>> {
        v.iter()
            .map(|row| {
                let total: f64 = row.iter().filter(|x| x.is_finite()).sum();
                row.iter()
                    .map(|x| if total > 0.0 { x / total } else { f64::NAN })
                    .collect()
            })
            .collect()
    };
    let (mean_shares, tail_shares) = (shares(&means), shares(&tails));
    let est = |v: &[Vec<f64>], k: usize| {
        let xs: Vec<f64> = v.iter().map(|row| row[k]).collect();
        Estimate::from_samples(&xs)
    };
    let part = |k: usize| {
        let c = b.components[k];
        BreakdownPart {
            tier: c.tier.map(|t| first.tiers[t as usize].name.clone()),
            part: c.part.label(),
            mean_ms: est(&means, k),
            share: est(&mean_shares, k),
            p99_tail_mean_ms: est(&tails, k),
            p99_tail_share: est(&tail_shares, k),
        }
    };
    let at_tiers = (0..b.components.len()).filter(|&k| b.components[k].tier.is_some());
    let elsewhere = (0..b.components.len()).filter(|&k| b.components[k].tier.is_none());
    at_tiers.chain(elsewhere).map(part).collect()
}

/// The `top` largest parts by `share` as `label 41%`, largest first.
fn top(parts: &[BreakdownPart], share: impl Fn(&BreakdownPart) -> f64, top: usize) -> String {
    let mut v: Vec<(&BreakdownPart, f64)> = parts
        .iter()
        .map(|p| (p, share(p)))
        .filter(|(_, s)| s.is_finite() && *s > 0.0)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.iter()
        .take(top)
        .map(|(p, s)| format!("{} {:.0}%", p.label(), 100.0 * s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The terminal table's lines: per class, its three largest parts on
/// average and in the slowest 1%.
pub fn table_lines(out: &mut String, s: &Summary) {
    let rows: Vec<(&String, String, String)> = s
        .classes
        .iter()
        .filter(|(_, c)| !c.breakdown.is_empty())
        .map(|(name, c)| {
            (
                name,
                top(&c.breakdown, |p| p.share.estimate, 3),
                top(&c.breakdown, |p| p.p99_tail_share.estimate, 3),
            )
        })
        .filter(|(_, m, t)| !m.is_empty() || !t.is_empty())
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Where the time goes (largest parts: mean | slowest 1%)"
    );
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    for (name, m, t) in rows {
        let _ = writeln!(out, "  {name:<width$}  {m} | {t}");
    }
}

fn est(e: &Estimate, scale: f64) -> String {
    let (v, ci) = est_cells(e, scale);
    if ci.is_empty() {
        v
    } else {
        format!("{v} {ci}")
    }
}

/// report.md's section: per class, every part with its CI.
pub fn report_section(o: &mut String, s: &Summary) {
    let classes: Vec<_> = s
        .classes
        .iter()
        .filter(|(_, c)| !c.breakdown.is_empty())
        .collect();
    if classes.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Where the time goes\n");
    let _ = writeln!(
        o,
        "Each answered request's latency split into the time it queued, waited for a \
         pooled connection, was served and spent on the network at each tier, and (for \
         a retried request) the time before its answered attempt. Means over every \
         answered request, and over the slowest 1% (the requests above p99), which \
         is where a p99 objective is lost. Each column of shares adds up to 100%.\n"
    );
    for (name, c) in classes {
        let _ = writeln!(
            o,
            "**{}** (mean {} ms, p99 {} ms): largest in the slowest 1%: {}.\n",
            crate::report::cell(name),
            fmt_num(c.latency_ms.mean.estimate),
            fmt_num(c.latency_ms.p99.estimate),
            top(&c.breakdown, |p| p.p99_tail_share.estimate, 3)
        );
        let _ = writeln!(
            o,
            "| where | mean ms | share % | slowest 1%: mean ms | share % |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|");
        for p in &c.breakdown {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                crate::report::cell(&p.label()),
                est(&p.mean_ms, 1.0),
                est(&p.share, 100.0),
                est(&p.p99_tail_mean_ms, 1.0),
                est(&p.p99_tail_share, 100.0),
            );
        }
        o.push('\n');
    }
}

/// The `breakdown` plot: per class, its mean and its slowest 1% as bars of
/// 100%, stacked by part (one colour per part across classes).
pub(crate) struct BreakdownPlot<'a> {
    pub(crate) summary: &'a Summary,
}

/// One bar: its caption and its (part label, share) segments.
struct Bar {
    caption: String,
    segments: Vec<(String, f64)>,
}

impl BreakdownPlot<'_> {
    fn bars(&self) -> Vec<Bar> {
        let mut bars = Vec::new();
        for (name, c) in &self.summary.classes {
            if c.breakdown.is_empty() {
                continue;
            }
            let of = |share: fn(&BreakdownPart) -> f64| {
                c.breakdown
                    .iter()
                    .map(|p| (p.label(), share(p)))
                    .filter(|(_, s)| s.is_finite() && *s > 0.0)
                    .collect()
            };
            bars.push(Bar {
                caption: format!("{name}: mean, {} ms", fmt_num(c.latency_ms.mean.estimate)),
                segments: of(|p| p.share.estimate),
            });
            bars.push(Bar {
                caption: format!(
                    "{name}: slowest 1% (over p99 {} ms)",
                    fmt_num(c.latency_ms.p99.estimate)
                ),
                segments: of(|p| p.p99_tail_share.estimate),
            });
        }
        bars
    }

    /// The height the plot needs for its bars and its legend.
    pub(crate) fn height(&self) -> u32 {
        let bars = self.bars();
        let labels = labels(&bars).len() as u32;
        (170 + 56 * bars.len() as u32)
            .max(90 + 24 * labels)
            .max(500)
    }
}

/// Every part label of `bars`, in order of first appearance.
fn labels(bars: &[Bar]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (l, _) in bars.iter().flat_map(|b| &b.segments) {
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    out
}

/// The colour of part `i`: the palette, then its lighter shades.
fn part_color(i: usize) -> plotters::style::RGBColor {
    let c = crate::plots::color(i);
    let light = |v: u8| v + (255 - v) / 2;
    if (i / 10) % 2 == 1 {
        plotters::style::RGBColor(light(c.0), light(c.1), light(c.2))
    } else {
        c
    }
}

impl crate::plots::Draw for BreakdownPlot<'_> {
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ) -> crate::plots::DrawResult {
        use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
        use plotters::prelude::*;
        use plotters::style::text_anchor::{HPos, Pos, VPos};

        use crate::plots::{Legend, Mark, caption_font, err, label_font, page, with_legend};

        let body = page(root, &self.summary.scenario, "where the time goes")?;
        let bars = self.bars();
        let labels = labels(&bars);
        let (area, side) = with_legend(&body);
        let n = bars.len().max(1) as i32;
        // Bars about 40 px thick, however few.
        let row_px = area.dim_in_pixel().1.saturating_sub(150) / n as u32;
        let margin = (row_px.saturating_sub(40) / 2).max(8);
        // The first class's bars on top.
        let row = |i: usize| n - 1 - i as i32;
        let mut chart = ChartBuilder::on(&area)
            .caption(
                "share of the latency per part, mean over replications",
                caption_font(),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(330)
            .build_cartesian_2d(0.0..100.0, (0..n - 1).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("share of the latency (%)")
            .y_labels(bars.len())
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => bars
                    .get((n - 1 - *i) as usize)
                    .map(|b| b.caption.clone())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .label_style(label_font())
            .axis_desc_style(label_font())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let inside = label_font().pos(Pos::new(HPos::Center, VPos::Center));
        for (i, bar) in bars.iter().enumerate() {
            let mut x = 0.0;
            for (label, share) in &bar.segments {
                let w = 100.0 * share;
                let k = labels.iter().position(|l| l == label).unwrap_or(0);
                let (y0, y1) = (SegmentValue::Exact(row(i)), SegmentValue::Exact(row(i) + 1));
                let mut r = Rectangle::new([(x, y0), (x + w, y1)], part_color(k).filled());
                r.set_margin(margin, margin, 0, 0);
                chart.draw_series(std::iter::once(r)).map_err(err)?;
                if w >= 7.0 {
                    let at = (x + w / 2.0, SegmentValue::CenterOf(row(i)));
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!("{w:.0}%"),
                            at,
                            inside.clone(),
                        )))
                        .map_err(err)?;
                }
                x += w;
            }
        }
        let mut legend = Legend::default();
        for (k, l) in labels.iter().enumerate() {
            legend.push(l.clone(), Mark::Swatch(part_color(k).filled()));
        }
        legend.draw(&side)
    }
}

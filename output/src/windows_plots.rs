//! The plot of a long horizon run, `plots/windows.{png,svg}`: three panels
//! over the windows — the capacity each autoscaled tier ended the window
//! with (and its most, dashed), p95 and p99 latency with 95% CI whiskers
//! (windows where an objective breached shaded red), and the cost per hour.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::fs::OutputFile;
use crate::plots::{
    BREACH, Draw, DrawResult, Legend, Mark, caption_font, color, err, label_font, money, page,
    register_bundled_font, render, tick, with_legend,
};
use crate::windows::WindowsReport;

pub fn plots(report: &WindowsReport) -> Result<Vec<OutputFile>, String> {
    register_bundled_font();
    let mut files = Vec::with_capacity(2);
    if !report.windows.is_empty() {
        render(
            &mut files,
            "windows",
            (1400, 1200),
            &LongHorizonPlot { report },
        )?;
    }
    Ok(files)
}

/// The long horizon's windows side by side (a "window" here is one slice of
/// the long horizon, not an objective's evaluation window).
struct LongHorizonPlot<'a> {
    report: &'a WindowsReport,
}

fn max_of(v: impl Iterator<Item = f64>) -> f64 {
    v.filter(|x| x.is_finite()).fold(0.0, f64::max)
}

type Panel<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// One panel over the windows: its caption, a y axis from 0 to `y_top`
/// labelled `y_desc` with `y_label`, and its mesh drawn.
fn panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    x_range: std::ops::Range<f64>,
    y_top: f64,
    y_desc: &str,
    y_label: fn(f64) -> String,
) -> Result<Panel<'a, DB>, String> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, caption_font())
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, 0.0..y_top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("window")
        .y_desc(y_desc)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| y_label(*v))
        .label_style(label_font())
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

impl Draw for LongHorizonPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let body = page(
            root,
            &r.scenario,
            &format!(
                "{} windows, one per {}",
                r.windows.len(),
                sim_engine::SimDuration::from_secs_f64(r.every_s)
            ),
        )?;
        let panels = body.split_evenly((3, 1));
        self.capacity_panel(&panels[0])?;
        self.latency_panel(&panels[1])?;
        self.cost_panel(&panels[2])
    }
}

impl LongHorizonPlot<'_> {
    /// The x axis: window k is centred on k.
    fn x_range(&self) -> std::ops::Range<f64> {
        let n = self.report.windows.len() as f64;
        -0.5..(n - 0.5).max(0.5)
    }

    /// `f` of each window index, as points (k, f(k)).
    fn xs(&self, f: &dyn Fn(usize) -> f64) -> Vec<(f64, f64)> {
        (0..self.report.windows.len())
            .map(|k| (k as f64, f(k)))
            .collect()
    }

    /// Each autoscaled tier's units at each window's end and its most.
    fn capacity_panel<DB: DrawingBackend>(
        &self,
        panel_area: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let r = self.report;
        let (area, legend_area) = with_legend(panel_area);
        let mut legend = Legend::default();
        let top = max_of(
            r.windows
                .iter()
                .flat_map(|w| w.units.values().map(|u| u.peak.estimate)),
        );
        let mut chart = panel(
            &area,
            "capacity at each window's end (solid) and its most (dashed); mean over replications",
            self.x_range(),
            (top * 1.15).max(1.0),
            "units",
            tick,
        )?;
        if let Some(first) = r.windows.first() {
            for (i, (tier, u)) in first.units.iter().enumerate() {
                let c = color(i);
                let end = self.xs(&|k| r.windows[k].units[tier].end.estimate);
                let peak = self.xs(&|k| r.windows[k].units[tier].peak.estimate);
                chart
                    .draw_series(LineSeries::new(end, c.stroke_width(3)))
                    .map_err(err)?;
                chart
                    .draw_series(DashedLineSeries::new(peak, 8, 6, c.stroke_width(2)))
                    .map_err(err)?;
                legend.push(format!("{tier} {}", u.unit), Mark::Line(c));
            }
        }
        legend.draw(&legend_area)
    }

    /// p95 and p99 latency with CI whiskers, windows where an objective
    /// breached shaded by the share of replications breaching.
    fn latency_panel<DB: DrawingBackend>(&self, panel_area: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let (area, legend_area) = with_legend(panel_area);
        let mut legend = Legend::default();
        let top = max_of(r.windows.iter().map(|w| w.latency_ms["p99"].ci95[1])).max(max_of(
            r.windows.iter().map(|w| w.latency_ms["p99"].estimate),
        ));
        let y_top = (top * 1.15).max(1.0);
        let mut chart = panel(
            &area,
            "end-to-end latency, 95% CI whiskers; red: an objective breached in the window",
            self.x_range(),
            y_top,
            "ms",
            tick,
        )?;
        for (k, w) in r.windows.iter().enumerate() {
            if w.replications_breaching > 0 {
                let share = w.replications_breaching as f64 / r.replications.max(1) as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(k as f64 - 0.5, 0.0), (k as f64 + 0.5, y_top)],
                        BREACH.mix(0.08 + 0.25 * share).filled(),
                    )))
                    .map_err(err)?;
            }
        }
        for (i, q) in ["p95", "p99"].iter().enumerate() {
            let c = color(i);
            for (k, w) in r.windows.iter().enumerate() {
                let e = &w.latency_ms[*q];
                if e.ci95[0].is_finite() && e.ci95[1].is_finite() {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(k as f64, e.ci95[0]), (k as f64, e.ci95[1])],
                            c.mix(0.6).stroke_width(2),
                        )))
                        .map_err(err)?;
                }
            }
            chart
                .draw_series(LineSeries::new(
                    self.xs(&|k| r.windows[k].latency_ms[*q].estimate),
                    c.stroke_width(3),
                ))
                .map_err(err)?;
            legend.push(format!("{q} latency"), Mark::Line(c));
        }
        if r.windows.iter().any(|w| w.replications_breaching > 0) {
            legend.push("objective breached", Mark::Swatch(BREACH.mix(0.3).filled()));
        }
        legend.draw(&legend_area)
    }

    /// The cost per hour during each window.
    fn cost_panel<DB: DrawingBackend>(&self, panel_area: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let (area, legend_area) = with_legend(panel_area);
        let mut legend = Legend::default();
        let top = max_of(r.windows.iter().map(|w| w.cost_per_hour_usd.estimate));
        let mut chart = panel(
            &area,
            "cost per hour during the window",
            self.x_range(),
            (top * 1.15).max(0.01),
            "USD per hour",
            money,
        )?;
        let c = color(2);
        chart
            .draw_series(LineSeries::new(
                self.xs(&|k| r.windows[k].cost_per_hour_usd.estimate),
                c.stroke_width(3),
            ))
            .map_err(err)?;
        legend.push("USD per hour", Mark::Line(c));
        legend.draw(&legend_area)
    }
}

//! The plots of a sweep, PNG and SVG like a run's:
//!
//! * `sweep_pareto`: cost against the chosen latency figure, one marker per
//!   point with its 95% CIs as whiskers, green where every objective held and
//!   red where one was breached; the cost–latency Pareto front as a staircase;
//!   the baseline and the cheapest point meeting every objective labelled;
//! * `sweep_heatmap` (grids over exactly two parameters): the latency figure
//!   and the cost over the grid, breaching cells outlined in red.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue, SegmentedCoord};
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::fs::OutputFile;
use crate::plots::{
    BREACH, Draw, DrawResult, Legend, Mark, caption_font, err, label_font, log_ticks, money, page,
    register_bundled_font, render, tick, with_legend,
};
use capsim_models::SweepPlan;

use crate::sweep::{PointSummary, SweepReport};

const MEETS: RGBColor = RGBColor(44, 160, 44);
const FRONT: RGBColor = RGBColor(31, 119, 180);
const WHISKER: RGBColor = RGBColor(150, 150, 150);
const OBJECTIVE: RGBColor = RGBColor(90, 90, 90);

/// The latency objectives on the plotted figure (a p99 objective when the
/// sweep's metric is p99): label and threshold in ms.
fn objective_lines(r: &SweepReport) -> Vec<(String, f64)> {
    let Some(q) = r.metric.strip_prefix('p').and_then(|d| {
        // p50 → 0.5, p999 → 0.999.
        format!("0.{d}").parse::<f64>().ok()
    }) else {
        return Vec::new();
    };
    r.latency_objectives
        .iter()
        .filter(|o| (o.quantile - q).abs() < 1e-9)
        .map(|o| (format!("objective {}", o.name), o.threshold_ms))
        .collect()
}

/// The sweep's plot files under `plots/`.
pub fn plots(report: &SweepReport, plan: &SweepPlan) -> Result<Vec<OutputFile>, String> {
    register_bundled_font();
    let mut files = Vec::with_capacity(4);
    render(&mut files, "sweep_pareto", (1400, 900), &Pareto { report })?;
    if let Some(h) = Heatmap::new(report, plan) {
        let (w, hgt) = h.size();
        render(&mut files, "sweep_heatmap", (w, hgt), &h)?;
    }
    Ok(files)
}

fn estimate(p: &PointSummary, figure: &str) -> (f64, [f64; 2]) {
    p.figures
        .get(figure)
        .map_or((f64::NAN, [f64::NAN; 2]), |e| (e.estimate, e.ci95))
}

/// Points not dominated on (cost, latency) alone, by increasing cost.
fn front_2d(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(c, l)| c.is_finite() && l.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        if out.last().is_none_or(|last| p.1 < last.1) {
            out.push(p);
        }
    }
    out
}

struct Pareto<'a> {
    report: &'a SweepReport,
}

impl Draw for Pareto<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let metric = r.metric_key();
        let body = page(
            root,
            &r.scenario,
            &format!("cost vs {} over {} sweep points", r.metric, r.points.len()),
        )?;
        let (area, legend_area) = with_legend(&body);

        let pts: Vec<(f64, [f64; 2], f64, [f64; 2])> = r
            .points
            .iter()
            .map(|p| {
                let (c, cci) = estimate(p, "cost_usd");
                let (l, lci) = estimate(p, &metric);
                (c, cci, l, lci)
            })
            .collect();
        let finite = |x: &f64| x.is_finite();
        let xs: Vec<f64> = pts
            .iter()
            .flat_map(|p| [p.0, p.1[0], p.1[1]])
            .filter(finite)
            .collect();
        let ys: Vec<f64> = pts
            .iter()
            .flat_map(|p| [p.2, p.3[0], p.3[1]])
            .chain(objective_lines(r).into_iter().map(|(_, ms)| ms))
            .filter(|y| y.is_finite() && *y > 0.0)
            .collect();
        let (x_lo, x_hi) = padded(&xs, 0.0, 1.0);
        let (y_min, y_max) = match (
            ys.iter().copied().reduce(f64::min),
            ys.iter().copied().reduce(f64::max),
        ) {
            (Some(a), Some(b)) => (a, b),
            _ => (1.0, 1000.0),
        };
        let caption = format!(
            "each point: mean of {} replications with 95% CI whiskers; same traffic at every point",
            r.replications
        );
        let y_desc = format!("{} end-to-end latency (ms)", r.metric);
        if y_max / y_min > 30.0 {
            let (lo, hi) = (y_min / 1.3, y_max * 1.3);
            let mut chart = ChartBuilder::on(&area)
                .caption(caption, caption_font())
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(80)
                .build_cartesian_2d(
                    x_lo..x_hi,
                    (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
                )
                .map_err(err)?;
            mesh(&mut chart, &format!("{y_desc}, log scale"))?;
            self.scatter(&mut chart, &pts, &legend_area)
        } else {
            let (lo, hi) = padded(&ys, 0.0, 10.0);
            let mut chart = ChartBuilder::on(&area)
                .caption(caption, caption_font())
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(80)
                .build_cartesian_2d(x_lo..x_hi, lo.max(0.0)..hi)
                .map_err(err)?;
            mesh(&mut chart, &y_desc)?;
            self.scatter(&mut chart, &pts, &legend_area)
        }
    }
}

/// The range of `v` with 6% padding each side (`fallback` when empty).
fn padded(v: &[f64], fallback_lo: f64, fallback_hi: f64) -> (f64, f64) {
    let lo = v.iter().copied().reduce(f64::min);
    let hi = v.iter().copied().reduce(f64::max);
    match (lo, hi) {
        (Some(a), Some(b)) if b > a => {
            let pad = (b - a) * 0.06;
            (a - pad, b + pad)
        }
        (Some(a), Some(_)) => {
            let pad = (a.abs() * 0.1).max(1e-3);
            (a - pad, a + pad)
        }
        _ => (fallback_lo, fallback_hi),
    }
}

fn mesh<DB: DrawingBackend, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    y_desc: &str,
) -> DrawResult
where
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("cost per replication over the measured window (USD)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| money(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style(label_font())
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)
}

impl Pareto<'_> {
    fn scatter<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
        pts: &[(f64, [f64; 2], f64, [f64; 2])],
        legend_area: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        let r = self.report;
        let ok = |p: &(f64, [f64; 2], f64, [f64; 2])| p.0.is_finite() && p.2.is_finite();
        // Whiskers first, under the markers.
        for p in pts.iter().filter(|p| ok(p)) {
            if p.1[0].is_finite() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.1[0], p.2), (p.1[1], p.2)],
                        WHISKER.stroke_width(1),
                    )))
                    .map_err(err)?;
            }
            if p.3[0].is_finite() && p.3[0] > 0.0 {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.0, p.3[0]), (p.0, p.3[1])],
                        WHISKER.stroke_width(1),
                    )))
                    .map_err(err)?;
            }
        }
        // The cost–latency front as a staircase.
        let front = front_2d(&pts.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>());
        let mut stairs = Vec::with_capacity(front.len() * 2);
        for (i, &(c, l)) in front.iter().enumerate() {
            if i > 0 {
                stairs.push((c, front[i - 1].1));
            }
            stairs.push((c, l));
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                stairs,
                FRONT.stroke_width(2),
            )))
            .map_err(err)?;

        let (x_lo, x_hi) = (chart.x_range().start, chart.x_range().end);
        for (_, ms) in objective_lines(r) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x_lo, ms), (x_hi, ms)],
                    10,
                    6,
                    OBJECTIVE.stroke_width(2),
                ))
                .map_err(err)?;
        }

        let label_points = r.points.len() <= 40;
        let small = label_font().pos(Pos::new(HPos::Left, VPos::Bottom));
        // Points with the same figures (e.g. a grid point equal to the
        // baseline) share one label.
        let mut labels: Vec<((f64, f64), Vec<String>, bool)> = Vec::new();
        for (p, s) in pts.iter().zip(&r.points) {
            if !ok(p) {
                continue;
            }
            let at = (p.0, p.2);
            let text = if s.baseline {
                "baseline".to_string()
            } else if Some(s.index) == r.cheapest_meeting_slos {
                // The paired difference says what the cheaper point saves
                // or costs, beyond the overlap of the whiskers.
                match s.vs_baseline.get("cost_usd") {
                    Some(d) if d.estimate.is_finite() => format!(
                        "{} (cheapest meeting SLOs): {}{} [{}, {}] vs baseline",
                        s.index,
                        if d.estimate >= 0.0 { "+$" } else { "−$" },
                        money(d.estimate.abs()).trim_start_matches('$'),
                        money(d.ci95[0]),
                        money(d.ci95[1])
                    ),
                    _ => format!("{} (cheapest meeting SLOs)", s.index),
                }
            } else if label_points {
                s.index.to_string()
            } else {
                continue;
            };
            let cheapest = Some(s.index) == r.cheapest_meeting_slos;
            match labels.iter_mut().find(|l| l.0 == at) {
                Some(l) => {
                    l.1.push(text);
                    l.2 |= cheapest;
                }
                None => labels.push((at, vec![text], cheapest)),
            }
        }
        for (p, s) in pts.iter().zip(&r.points) {
            if !ok(p) {
                continue;
            }
            let at = (p.0, p.2);
            if s.meets_slos {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 6, MEETS.filled())))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(std::iter::once(Cross::new(at, 6, BREACH.stroke_width(3))))
                    .map_err(err)?;
            }
            if s.baseline {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 11, BLACK.stroke_width(2))))
                    .map_err(err)?;
            }
            if Some(s.index) == r.cheapest_meeting_slos {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 15, MEETS.stroke_width(3))))
                    .map_err(err)?;
            }
        }
        for (at, texts, cheapest) in labels {
            // The cheapest point's label goes below it, clear of its neighbours.
            let (offset, style) = if cheapest {
                ((10, 14), label_font().pos(Pos::new(HPos::Left, VPos::Top)))
            } else {
                ((9, -7), small.clone())
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(at) + Text::new(texts.join(", "), offset, style),
                ))
                .map_err(err)?;
        }

        let mut legend = Legend::default();
        if r.objectives.is_empty() {
            legend.push(
                "point (no objectives defined)",
                Mark::Swatch(MEETS.filled()),
            );
        } else {
            legend.push("every objective held", Mark::Swatch(MEETS.filled()));
            legend.push("an objective breached", Mark::Swatch(BREACH.filled()));
        }
        legend.push(
            format!("Pareto front: cost vs {}", r.metric),
            Mark::Line(FRONT),
        );
        for (name, _) in objective_lines(r) {
            legend.push(name, Mark::Dashed(OBJECTIVE));
        }
        legend.push("95% confidence intervals", Mark::Line(WHISKER));
        legend.push("ringed black: the baseline", Mark::Line(BLACK));
        if r.cheapest_meeting_slos.is_some() {
            legend.push("ringed green: cheapest meeting", Mark::Line(MEETS));
            legend.push("   every objective", Mark::Line(WHITE));
        }
        legend.draw(legend_area)?;
        let note = label_font().pos(Pos::new(HPos::Left, VPos::Top));
        let (_, h) = legend_area.dim_in_pixel();
        let lines = [
            format!(
                "{} points × {} replications",
                r.points.len(),
                r.replications
            ),
            format!("sampling: {}", r.sample),
            format!("seed {}", r.seed),
            "numbers: points in sweep.csv".to_string(),
        ];
        for (i, l) in lines.iter().enumerate() {
            legend_area
                .draw(&Text::new(
                    l.clone(),
                    (8, h as i32 - 120 + 22 * i as i32),
                    note.clone(),
                ))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Two panels over a two-parameter grid: the latency figure and the cost.
struct Heatmap<'a> {
    report: &'a SweepReport,
    x_path: String,
    y_path: String,
    x_levels: Vec<String>,
    y_levels: Vec<String>,
    /// (x level, y level, point) for every point but the baseline.
    cells: Vec<(usize, usize, &'a PointSummary)>,
}

impl<'a> Heatmap<'a> {
    fn new(report: &'a SweepReport, plan: &SweepPlan) -> Option<Heatmap<'a>> {
        if plan.params.len() != 2 || plan.sample != "grid" {
            return None;
        }
        let mut x_levels: Vec<String> = Vec::new();
        let mut y_levels: Vec<String> = Vec::new();
        for p in &report.points[1..] {
            let x = p.values[0].clone();
            let y = p.values[1].clone();
            if !x_levels.contains(&x) {
                x_levels.push(x);
            }
            if !y_levels.contains(&y) {
                y_levels.push(y);
            }
        }
        let cells = report.points[1..]
            .iter()
            .map(|p| {
                let xi = x_levels.iter().position(|v| *v == p.values[0]);
                let yi = y_levels.iter().position(|v| *v == p.values[1]);
                (xi.unwrap_or(0), yi.unwrap_or(0), p)
            })
            .collect();
        Some(Heatmap {
            report,
            x_path: plan.params[0].clone(),
            y_path: plan.params[1].clone(),
            x_levels,
            y_levels,
            cells,
        })
    }

    fn size(&self) -> (u32, u32) {
        let w = (2 * (260 + 90 * self.x_levels.len() as u32)).clamp(1200, 2400);
        let h = (260 + 56 * self.y_levels.len() as u32).clamp(560, 1600);
        (w, h)
    }

    /// One figure over the grid: a cell per point coloured by its value
    /// (`log_colours`: on a log scale when the values span more than 3x),
    /// breaching points outlined, each labelled with `fmt` of its value.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        figure: &str,
        fmt: impl Fn(f64) -> String,
        log_colours: bool,
    ) -> DrawResult {
        let values: Vec<f64> = self
            .cells
            .iter()
            .map(|(_, _, p)| estimate(p, figure).0)
            .collect();
        let lo = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::min)
            .unwrap_or(0.0);
        let hi = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::max)
            .unwrap_or(1.0);
        let (w, _) = area.dim_in_pixel();
        let (area, bar) = area.split_horizontally(w.saturating_sub(COLOUR_BAR));
        let mut chart = self.grid_chart(&area, title)?;
        // A few slow points should not wash out the rest: latency colours
        // follow the logarithm when the values span more than 3x.
        let log = log_colours && lo > 0.0 && hi / lo > 3.0;
        colour_bar(&bar, lo, hi, log, &fmt)?;
        let shade = |v: f64| {
            if hi <= lo {
                0.5
            } else if log {
                (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
            } else {
                (v - lo) / (hi - lo)
            }
        };
        let corners = |x0: i32, y0: i32| {
            [
                (SegmentValue::Exact(x0), SegmentValue::Exact(y0)),
                (SegmentValue::Exact(x0 + 1), SegmentValue::Exact(y0 + 1)),
            ]
        };
        // Fills, then white borders, then red outlines on top of both.
        for pass in 0..3 {
            for (&(xi, yi, p), &v) in self.cells.iter().zip(&values) {
                let style = match pass {
                    0 if v.is_finite() => viridis(shade(v)).filled(),
                    0 => RGBColor(220, 220, 220).filled(),
                    1 => WHITE.stroke_width(2),
                    _ if !p.meets_slos => BREACH.stroke_width(5),
                    _ => continue,
                };
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        corners(xi as i32, yi as i32),
                        style,
                    )))
                    .map_err(err)?;
            }
        }
        let center = label_font().pos(Pos::new(HPos::Center, VPos::Center));
        for (&(xi, yi, p), &v) in self.cells.iter().zip(&values) {
            let (x0, y0) = (xi as i32, yi as i32);
            let t = shade(v);
            let light = v.is_finite() && t < 0.6;
            let ink = if light { WHITE } else { BLACK };
            let mut text = fmt(v);
            if Some(p.index) == self.report.cheapest_meeting_slos {
                text.push_str(" ★");
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(x0), SegmentValue::CenterOf(y0)),
                    center.clone().color(&ink),
                )))
                .map_err(err)?;
        }
        Ok(())
    }

    /// The grid's chart: a segment per level of each parameter, labelled
    /// with the levels, no mesh.
    fn grid_chart<'b, DB: DrawingBackend>(
        &self,
        area: &'b DrawingArea<DB, Shift>,
        title: &str,
    ) -> Result<GridChart<'b, DB>, String> {
        let (nx, ny) = (self.x_levels.len(), self.y_levels.len());
        let mut chart = ChartBuilder::on(area)
            .caption(title, caption_font())
            .margin(16)
            .margin_right(30)
            .x_label_area_size(60)
            .y_label_area_size(110)
            .build_cartesian_2d(
                (0..nx as i32 - 1).into_segmented(),
                (0..ny as i32 - 1).into_segmented(),
            )
            .map_err(err)?;
        let level = |levels: &[String], v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                levels.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .x_desc(self.x_path.as_str())
            .y_desc(self.y_path.as_str())
            .x_label_formatter(&|v| level(&self.x_levels, v))
            .y_label_formatter(&|v| level(&self.y_levels, v))
            .label_style(label_font())
            .axis_desc_style(label_font())
            .draw()
            .map_err(err)?;
        Ok(chart)
    }
}

/// A chart with a segment per level of each of the two parameters.
type GridChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<SegmentedCoord<RangedCoordi32>, SegmentedCoord<RangedCoordi32>>,
>;

impl Draw for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let body = page(root, &r.scenario, "sweep over two parameters")?;
        let (_, h) = body.dim_in_pixel();
        let (panels, foot) = body.split_vertically(h.saturating_sub(36));
        let (left, right) = panels.split_horizontally(panels.dim_in_pixel().0 / 2);
        self.panel(
            &left,
            &format!(
                "{} latency (ms), mean of {} replications",
                r.metric, r.replications
            ),
            &r.metric_key(),
            |v| if v.is_finite() { tick(v) } else { "–".into() },
            true,
        )?;
        self.panel(
            &right,
            "cost per replication (USD)",
            "cost_usd",
            |v| {
                if v.is_finite() {
                    money(v)
                } else {
                    "–".into()
                }
            },
            false,
        )?;
        let mut note = String::from("darker = lower");
        if !r.objectives.is_empty() {
            note.push_str("; red outline: an objective breached in some replication");
        }
        if r.cheapest_meeting_slos.is_some_and(|i| i > 0) {
            note.push_str("; ★ the cheapest point meeting every objective");
        }
        foot.draw(&Text::new(
            note,
            (20, 8),
            label_font().pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)
    }
}

/// Width of the colour bar beside each heatmap panel.
const COLOUR_BAR: u32 = 120;

/// The scale of a heatmap panel: viridis from `lo` (bottom) to `hi` (top),
/// on a log scale if `log`, with the values at both ends and the middle.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    log: bool,
    fmt: &impl Fn(f64) -> String,
) -> DrawResult {
    let (_, h) = area.dim_in_pixel();
    // Aligned with the grid: below the caption, above the x labels.
    let (top, bottom) = (60, h as i32 - 76);
    if bottom <= top + 10 {
        return Ok(());
    }
    let (x0, x1) = (10, 34);
    let steps = 64;
    for i in 0..steps {
        let t0 = i as f64 / steps as f64;
        let t1 = (i + 1) as f64 / steps as f64;
        let y = |t: f64| bottom - ((bottom - top) as f64 * t).round() as i32;
        area.draw(&Rectangle::new(
            [(x0, y(t1)), (x1, y(t0))],
            viridis((t0 + t1) / 2.0).filled(),
        ))
        .map_err(err)?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))
    .map_err(err)?;
    let at = |t: f64| {
        if log {
            (lo.ln() + t * (hi.ln() - lo.ln())).exp()
        } else {
            lo + t * (hi - lo)
        }
    };
    let style = label_font().pos(Pos::new(HPos::Left, VPos::Center));
    for t in [0.0, 0.5, 1.0] {
        let y = bottom - ((bottom - top) as f64 * t).round() as i32;
        area.draw(&Text::new(fmt(at(t)), (x1 + 6, y), style.clone()))
            .map_err(err)?;
    }
    if log {
        area.draw(&Text::new(
            "log scale",
            (x0, bottom + 18),
            label_font().pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// The viridis colour map at `t` in [0, 1] (piecewise linear over 6 stops).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 6] = [
        (68, 1, 84),
        (65, 68, 135),
        (42, 120, 142),
        (34, 168, 132),
        (122, 209, 81),
        (253, 231, 37),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2d_front_keeps_only_undominated_points() {
        let f = front_2d(&[
            (3.0, 100.0),
            (1.0, 500.0),
            (2.0, 200.0),
            (2.5, 250.0),
            (f64::NAN, 1.0),
        ]);
        assert_eq!(f, vec![(1.0, 500.0), (2.0, 200.0), (3.0, 100.0)]);
    }

    #[test]
    fn viridis_runs_dark_to_light() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        let lum = |c: RGBColor| 0.3 * c.0 as f64 + 0.59 * c.1 as f64 + 0.11 * c.2 as f64;
        assert!(lum(viridis(0.3)) < lum(viridis(0.7)));
    }
}

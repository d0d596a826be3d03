//! The plots of a run, each drawn once into PNG and once into SVG with the
//! same code, text set in the bundled DejaVu Sans (no system fonts needed):
//!
//! * `timeline`: arrival rate, units in service per tier and p95/p99 latency
//!   over time, with each latency objective's threshold, then a panel per
//!   objective of what it judges (the bad share of each window against the
//!   share allowed); the windows where an objective was breached are shaded
//!   by the share of replications breaching, on the panels that show it;
//! * `latency_cdf`: each class's latency distribution pooled over
//!   replications, as a CDF and as a tail (1 − CDF), on log axes;
//! * `cost`: cost rate per tier stacked over time, and each tier's total over
//!   the measured window with its 95% CI;
//! * `utilization`: utilisation per tier over time;
//! * `breakdown`: where each class's time goes, on average and in its
//!   slowest 1%, as bars of 100% stacked by part.
//!
//! Time series are the per-interval means over replications
//! ([`crate::TimeSeries`], the same numbers as `timeseries.csv`).

use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue, SegmentedCoord};
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use capsim_models::{Objective, ReplicationResult, RunDescription};

use crate::csv_series::{Col, Scope, SeriesRow, TimeSeries, pooled_latency};
use crate::fs::OutputFile;
use crate::summary::Summary;

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font once per process.
pub(crate) fn register_bundled_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a known-good TrueType file compiled into the binary.
        if register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            unreachable!("the bundled DejaVu Sans is a valid font");
        }
    });
}

/// Tableau 10: distinct, colour-blind friendly enough, prints well.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(crate) const BREACH: RGBColor = RGBColor(214, 39, 40);
const WARMUP: RGBColor = RGBColor(160, 160, 160);

/// Everything the plots draw from.
pub struct PlotInput<'a> {
    pub run: &'a RunDescription,
    pub summary: &'a Summary,
    pub series: &'a TimeSeries,
    pub results: &'a [ReplicationResult],
}

/// The plot files, PNG and SVG of each, under `plots/`.
pub fn plots(input: &PlotInput) -> Result<Vec<OutputFile>, String> {
    register_bundled_font();
    let mut files = Vec::with_capacity(8);
    let height = 1050 + 330 * objective_panels(input.run) as u32;
    render(&mut files, "timeline", (1400, height), &Timeline { input })?;
    render(
        &mut files,
        "latency_cdf",
        (1200, 560),
        &LatencyCdf::new(input),
    )?;
    render(&mut files, "cost", (1400, 900), &CostPlot { input })?;
    render(
        &mut files,
        "utilization",
        (1400, 560),
        &Utilization { input },
    )?;
    let breakdown = crate::breakdown::BreakdownPlot {
        summary: input.summary,
    };
    render(
        &mut files,
        "breakdown",
        (1400, breakdown.height()),
        &breakdown,
    )?;
    Ok(files)
}

pub(crate) type DrawResult = Result<(), String>;

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing a plot failed: {e:?}")
}

/// A plot, drawn the same way on any backend.
pub(crate) trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Draws `plot` into `plots/NAME.svg` and `plots/NAME.png`.
pub(crate) fn render<P: Draw>(
    files: &mut Vec<OutputFile>,
    name: &str,
    (w, h): (u32, u32),
    plot: &P,
) -> DrawResult {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(err)?;
    }
    files.push(OutputFile {
        relative: format!("plots/{name}.png").into(),
        bytes: encode_png(&rgb, w, h)?,
    });
    files.push(OutputFile {
        relative: format!("plots/{name}.svg").into(),
        bytes: svg.into_bytes(),
    });
    Ok(())
}

pub(crate) fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // The fast mode (fdeflate) gives files about twice the size of the
    // balanced mode's (a run's four PNGs: ~450 KB instead of ~220 KB) with
    // an eighth of the work: ~90 M instructions instead of ~760 M, paid by
    // every run with `--out`. The pixels are the same.
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().map_err(err)?;
    writer.write_image_data(rgb).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Shared pieces

/// Seconds shown in the unit that suits the run's length.
#[derive(Clone, Copy)]
struct TimeAxis {
    per: f64,
    unit: &'static str,
    max: f64,
}

impl TimeAxis {
    fn new(horizon_s: f64) -> Self {
        let (per, unit) = if horizon_s <= 3.0 * 3600.0 {
            (60.0, "min")
        } else if horizon_s <= 3.0 * 86_400.0 {
            (3600.0, "h")
        } else {
            (86_400.0, "days")
        };
        TimeAxis {
            per,
            unit,
            max: horizon_s / per,
        }
    }

    fn of(input: &PlotInput) -> Self {
        TimeAxis::new(input.series.horizon_s)
    }

    fn at(&self, seconds: f64) -> f64 {
        seconds / self.per
    }

    fn label(&self) -> String {
        format!("time since start ({})", self.unit)
    }
}

/// The points of a series at interval midpoints, split where a value is
/// missing so lines do not bridge gaps.
fn segments(ts: &TimeSeries, axis: TimeAxis, values: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        if v.is_finite() {
            cur.push((axis.at(ts.time_s(i) + ts.interval_s / 2.0), v));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The largest finite value, or `floor` if there is none or it is smaller.
fn max_finite<'a>(values: impl IntoIterator<Item = &'a f64>, floor: f64) -> f64 {
    values
        .into_iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(floor, f64::max)
}

fn min_positive<'a>(values: impl IntoIterator<Item = &'a f64>) -> Option<f64> {
    values
        .into_iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .reduce(f64::min)
}

pub(crate) fn title_font() -> TextStyle<'static> {
    (FONT, 26).into_font().color(&BLACK)
}

pub(crate) fn caption_font() -> TextStyle<'static> {
    (FONT, 19).into_font().color(&BLACK)
}

pub(crate) fn label_font() -> TextStyle<'static> {
    (FONT, 15).into_font().color(&BLACK)
}

/// Clears the page and sets its title, "SCENARIO: WHAT"; returns the area
/// below the title.
pub(crate) fn page<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scenario: &str,
    what: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(err)?;
    root.titled(&format!("{scenario}: {what}"), title_font())
        .map_err(err)
}

/// Number formatting for ticks: no trailing noise, thousands readable.
pub(crate) fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6).replace(".0M", "M")
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.4}"))
    }
}

pub(crate) fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The shaded span of an objective's evaluation window that breached: (from,
/// to) in axis units and the share of replications that breached it.
struct Breach {
    from: f64,
    to: f64,
    share: f64,
}

/// The evaluation windows that breached of the objectives `which` keeps,
/// by share of replications.
fn breaches(input: &PlotInput, axis: TimeAxis, which: &dyn Fn(usize) -> bool) -> Vec<Breach> {
    let reps = input.results.len().max(1) as f64;
    let mut out = Vec::new();
    for (i, slo) in input.run.objectives.iter().enumerate() {
        if !which(i) {
            continue;
        }
        let slo_window_s = slo.window.as_secs_f64();
        let mut starts: Vec<f64> = input
            .results
            .iter()
            .flat_map(|r| r.slos[i].breach_starts_s.iter().copied())
            .collect();
        starts.sort_by(f64::total_cmp);
        for chunk in starts.chunk_by(|a, b| a == b) {
            out.push(Breach {
                from: axis.at(chunk[0]),
                to: axis.at(chunk[0] + slo_window_s),
                share: chunk.len() as f64 / reps,
            });
        }
    }
    out
}

fn breach_style(share: f64) -> ShapeStyle {
    BREACH.mix(0.06 + 0.22 * share).filled()
}

/// What a legend entry shows.
#[derive(Clone, Copy)]
pub(crate) enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    Swatch(ShapeStyle),
}

/// A legend drawn in its own column beside a chart, so it never hides data.
#[derive(Default)]
pub(crate) struct Legend {
    pub(crate) entries: Vec<(String, Mark)>,
    /// Explain the warm-up and breach shading (once per figure).
    pub(crate) shading: bool,
}

/// Width of the legend column beside time charts.
pub(crate) const LEGEND_COLUMN: u32 = 320;

impl Legend {
    pub(crate) fn push(&mut self, label: impl Into<String>, mark: Mark) {
        self.entries.push((label.into(), mark));
    }

    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let style = label_font().pos(Pos::new(HPos::Left, VPos::Center));
        for (i, (label, mark)) in self.entries.iter().enumerate() {
            let (x, y) = (6, 46 + 24 * i as i32);
            match *mark {
                Mark::Line(c) => area
                    .draw(&PathElement::new(
                        vec![(x, y), (x + 28, y)],
                        c.stroke_width(3),
                    ))
                    .map_err(err)?,
                Mark::Dashed(c) => {
                    for dx in [0, 18] {
                        area.draw(&PathElement::new(
                            vec![(x + dx, y), (x + dx + 10, y)],
                            c.stroke_width(3),
                        ))
                        .map_err(err)?;
                    }
                }
                Mark::Swatch(st) => area
                    .draw(&Rectangle::new([(x, y - 7), (x + 28, y + 7)], st))
                    .map_err(err)?,
            }
            area.draw(&Text::new(label.clone(), (x + 38, y), style.clone()))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Splits a panel into the chart and its legend column.
pub(crate) fn with_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let w = area.dim_in_pixel().0;
    area.split_horizontally(w.saturating_sub(LEGEND_COLUMN))
}

type TimeChart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;

/// A chart over the run's time with its mesh drawn, the warm-up shaded and
/// the windows where an objective was breached shaded by the share of
/// replications that breached them.
fn time_chart<'a, DB, Y>(
    area: &'a DrawingArea<DB, Shift>,
    input: &PlotInput,
    y: Y,
    caption: &str,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    legend: &mut Legend,
) -> Result<TimeChart<'a, DB, Y::CoordDescType>, String>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    time_chart_of(area, input, y, caption, y_desc, y_fmt, legend, &|_| true)
}

/// [`time_chart`] shading only the breaches of the objectives `which`
/// keeps (by index): a panel shows the breaches of what it draws.
#[allow(clippy::too_many_arguments)]
fn time_chart_of<'a, DB, Y>(
    area: &'a DrawingArea<DB, Shift>,
    input: &PlotInput,
    y: Y,
    caption: &str,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    legend: &mut Legend,
    which: &dyn Fn(usize) -> bool,
) -> Result<TimeChart<'a, DB, Y::CoordDescType>, String>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let axis = TimeAxis::of(input);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, caption_font())
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(78)
        .build_cartesian_2d(0.0..axis.max, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(axis.label())
        .y_desc(y_desc)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(y_fmt)
        .label_style(label_font())
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    let range = chart.y_range();
    let (y0, y1) = (range.start, range.end);
    let warmup = axis.at(input.run.warmup.as_secs_f64());
    if warmup > 0.0 {
        let style = WARMUP.mix(0.15).filled();
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y0), (warmup, y1)],
                style,
            )))
            .map_err(err)?;
        if legend.shading {
            let swatch = Mark::Swatch(WARMUP.mix(0.3).filled());
            legend.push("warm-up (not measured)", swatch);
        }
    }
    let spans = breaches(input, axis, which);
    if !spans.is_empty() {
        chart
            .draw_series(
                spans
                    .iter()
                    .map(|b| Rectangle::new([(b.from, y0), (b.to, y1)], breach_style(b.share))),
            )
            .map_err(err)?;
        if legend.shading {
            legend.push("objective breached", Mark::Swatch(breach_style(1.0)));
        }
    }
    Ok(chart)
}

fn draw_line<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut TimeChart<'_, DB, Y>,
    ts: &TimeSeries,
    values: &[f64],
    c: RGBColor,
    label: &str,
    legend: &mut Legend,
) -> DrawResult {
    let axis = TimeAxis::new(ts.horizon_s);
    let segs = segments(ts, axis, values);
    for seg in &segs {
        chart
            .draw_series(LineSeries::new(seg.iter().copied(), c.stroke_width(2)))
            .map_err(err)?;
    }
    if !segs.is_empty() {
        legend.push(label, Mark::Line(c));
    }
    Ok(())
}

fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .label_font(label_font())
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .margin(8)
        .draw()
        .map_err(err)
}

fn legend_line(c: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))
}

/// Ticks at 1, 2 and 5 times the powers of ten within `lo..hi` (only the
/// powers of ten when the range spans many decades).
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    let mantissas: &[f64] = if last - first > 5 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    for e in first..=last {
        for m in mantissas {
            let v = m * 10f64.powi(e);
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// timeline

/// Objectives with a panel of their own on the timeline (the first few; the
/// rest are in summary.json and events.csv).
const OBJECTIVE_PANELS: usize = 4;

fn objective_panels(run: &RunDescription) -> usize {
    run.objectives.len().min(OBJECTIVE_PANELS)
}

struct Timeline<'a> {
    input: &'a PlotInput<'a>,
}

/// Tiers that count units in service (all but the CDN).
fn counted_tiers(ts: &TimeSeries) -> Vec<&SeriesRow> {
    ts.of(Scope::Tier)
        .filter(|r| r.col(Col::Units).iter().any(|v| v.is_finite()))
        .collect()
}

impl Draw for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let body = page(
            root,
            &self.input.summary.scenario,
            "traffic, capacity and latency",
        )?;
        let shown = objective_panels(self.input.run);
        let panels = body.split_evenly((3 + shown, 1));
        self.arrivals_panel(&panels[0])?;
        self.units_panel(&panels[1])?;
        self.latency_panel(&panels[2])?;
        for i in 0..shown {
            self.objective_panel(&panels[3 + i], i)?;
        }
        Ok(())
    }
}

impl Timeline<'_> {
    /// Arrival rate of all classes, and of each class when there are several
    /// (with regions: of each region's users instead, as classes are per
    /// region too, too many to tell apart).
    fn arrivals_panel<DB: DrawingBackend>(&self, panel: &DrawingArea<DB, Shift>) -> DrawResult {
        let input = self.input;
        let ts = input.series;
        let (area, side) = with_legend(panel);
        let mut legend = Legend {
            shading: true,
            ..Legend::default()
        };
        let regions: Vec<&SeriesRow> = ts.of(Scope::Region).collect();
        let classes: Vec<&SeriesRow> = if regions.is_empty() {
            ts.of(Scope::Class).collect()
        } else {
            regions
        };
        let all = ts.all();
        let ymax = max_finite(all.col(Col::ArrivalsPerS), 1.0) * 1.15;
        let mut chart = time_chart(
            &area,
            input,
            0.0..ymax,
            "arrival rate",
            "requests/s",
            &|v| tick(*v),
            &mut legend,
        )?;
        if classes.len() > 1 {
            for (i, c) in classes.iter().enumerate() {
                let v = c.col(Col::ArrivalsPerS);
                draw_line(&mut chart, ts, v, color(i), &c.name, &mut legend)?;
            }
        }
        let v = all.col(Col::ArrivalsPerS);
        draw_line(&mut chart, ts, v, BLACK, "all classes", &mut legend)?;
        legend.draw(&side)
    }

    /// Units in service per tier, each named by its kind's noun.
    fn units_panel<DB: DrawingBackend>(&self, panel: &DrawingArea<DB, Shift>) -> DrawResult {
        let input = self.input;
        let ts = input.series;
        let (area, side) = with_legend(panel);
        let mut legend = Legend::default();
        let tiers = counted_tiers(ts);
        let umax = tiers
            .iter()
            .map(|t| max_finite(t.col(Col::Units), 1.0))
            .fold(1.0, f64::max)
            .ceil()
            + 1.0;
        let mut chart = time_chart(
            &area,
            input,
            0.0..umax,
            "units in service per tier",
            "units (time-averaged)",
            // Units are whole: no label at fractional ticks.
            &|v| {
                if v.fract() == 0.0 {
                    tick(*v)
                } else {
                    String::new()
                }
            },
            &mut legend,
        )?;
        for (i, t) in tiers.iter().enumerate() {
            let noun = t.units.map_or("units", |n| n.many);
            let values = t.col(Col::Units);
            // A tier whose line lies on an earlier one's is drawn dashed
            // over it, and says so, rather than hiding it.
            let same = tiers[..i].iter().find(|u| {
                u.col(Col::Units)
                    .iter()
                    .zip(values)
                    .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
            });
            match same {
                None => {
                    let label = format!("{} ({noun})", t.name);
                    draw_line(&mut chart, ts, values, color(i), &label, &mut legend)?;
                }
                Some(u) => {
                    let label = format!("{} ({noun}), same as {}", t.name, u.name);
                    let axis = TimeAxis::new(ts.horizon_s);
                    for seg in segments(ts, axis, values) {
                        chart
                            .draw_series(DashedLineSeries::new(seg, 9, 9, color(i).stroke_width(3)))
                            .map_err(err)?;
                    }
                    legend.push(label, Mark::Dashed(color(i)));
                }
            }
        }
        if tiers.is_empty() {
            legend.push("no tier with units", Mark::Swatch(WHITE.filled()));
        }
        legend.draw(&side)?;
        Ok(())
    }

    /// End-to-end latency with each latency objective's threshold, on a log
    /// scale when the lines span more than a factor of 30.
    fn latency_panel<DB: DrawingBackend>(&self, panel: &DrawingArea<DB, Shift>) -> DrawResult {
        let input = self.input;
        let ts = input.series;
        let (area, side) = with_legend(panel);
        let mut legend = Legend::default();
        let regions: Vec<&SeriesRow> = ts.of(Scope::Region).collect();
        let lines = LatencyLines::new(ts, &regions, input.run);
        let (lo, hi) = lines.range();
        let caption = if regions.is_empty() {
            "end-to-end latency, all classes"
        } else {
            "end-to-end latency: all classes and each region's users"
        };
        let fmt = |v: &f64| tick(*v);
        // Only the end-to-end latency objectives' breaches: the others have
        // their own panels below.
        let latency =
            |i: usize| matches!(input.run.objectives[i].objective, Objective::Latency { .. });
        if hi / lo > 30.0 {
            let (lo, hi) = (lo * 0.8, hi * 1.25);
            let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
            let mut chart = time_chart_of(
                &area,
                input,
                y,
                caption,
                "ms (log scale)",
                &fmt,
                &mut legend,
                &latency,
            )?;
            lines.draw(&mut chart, ts, &mut legend)?;
        } else {
            let mut chart = time_chart_of(
                &area,
                input,
                0.0..hi * 1.15,
                caption,
                "ms",
                &fmt,
                &mut legend,
                &latency,
            )?;
            lines.draw(&mut chart, ts, &mut legend)?;
        }
        legend.draw(&side)?;
        Ok(())
    }

    /// What objective `i` judges in each of its windows, averaged over
    /// replications: the share of its events that were bad, against the
    /// share it allows, with its own breaches shaded.
    fn objective_panel<DB: DrawingBackend>(
        &self,
        panel: &DrawingArea<DB, Shift>,
        i: usize,
    ) -> DrawResult {
        let input = self.input;
        let slo = &input.run.objectives[i];
        let axis = TimeAxis::of(input);
        let (area, side) = with_legend(panel);
        let mut legend = Legend::default();
        let window_s = slo.window.as_secs_f64();
        // Mean bad share per window start over the replications that had
        // events in it.
        let mut by_start: std::collections::BTreeMap<u64, (f64, u32)> = Default::default();
        for r in input.results {
            for &(start, bad) in &r.slos[i].window_bad_share {
                let e = by_start.entry((start * 1e3).round() as u64).or_default();
                e.0 += bad * 100.0;
                e.1 += 1;
            }
        }
        let windows: Vec<(f64, f64)> = by_start
            .iter()
            .map(|(&ms, &(sum, n))| (ms as f64 / 1e3, sum / n as f64))
            .collect();
        let allowed = slo.objective.budget() * 100.0;
        let top = windows.iter().map(|w| w.1).fold(allowed, f64::max);
        let what = match slo.objective {
            Objective::Latency { threshold, .. } => format!("requests slower than {threshold}"),
            Objective::QueueLatency { threshold, .. } => {
                format!("jobs waiting longer than {threshold}")
            }
            Objective::ErrorRate { .. } => "requests failed or rejected".into(),
            Objective::Availability { .. } => "requests not answered".into(),
        };
        let mut scope = Vec::new();
        if let Some(c) = &slo.class {
            scope.push(format!("class {c}"));
        }
        if let Some(r) = &slo.region {
            scope.push(format!("region {r}"));
        }
        if let Some(t) = &slo.tier {
            scope.push(format!("tier {t}"));
        }
        let caption = format!(
            "objective {}: {what}{}, per {} window",
            slo.name,
            if scope.is_empty() {
                String::new()
            } else {
                format!(" ({})", scope.join(", "))
            },
            slo.window
        );
        let only = |j: usize| j == i;
        let steps = |floor: f64| -> Vec<Vec<(f64, f64)>> {
            // A flat step per window; a window without events is a gap.
            let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
            let mut last_end = f64::NAN;
            for &(start, v) in &windows {
                let v = v.max(floor);
                let (a, b) = (axis.at(start), axis.at(start + window_s).min(axis.max));
                if (start - last_end).abs() > 1e-6 || out.is_empty() {
                    out.push(Vec::new());
                }
                let seg = out.last_mut().expect("pushed");
                seg.push((a, v));
                seg.push((b, v));
                last_end = start + window_s;
            }
            out
        };
        let fmt = |v: &f64| format!("{}%", tick(*v));
        if allowed > 0.0 && top / allowed > 30.0 {
            // Shares span decades (1% allowed, 60% in an overload): log
            // scale, with shares below a tenth of the allowed drawn there.
            let floor = allowed / 10.0;
            let hi = (top * 1.5).min(150.0);
            let y = (floor..hi)
                .log_scale()
                .with_key_points(log_ticks(floor, hi));
            let mut chart = time_chart_of(
                &area,
                input,
                y,
                &caption,
                "% of events (log scale)",
                &fmt,
                &mut legend,
                &only,
            )?;
            draw_shares(
                &mut chart,
                &steps(floor),
                allowed.max(floor),
                axis.max,
                allowed,
                &mut legend,
            )?;
            legend.push(
                format!("(below {}%: drawn at it)", tick(floor)),
                Mark::Swatch(WHITE.filled()),
            );
        } else {
            let hi = (top * 1.25).max(allowed * 2.0).max(1e-3);
            let mut chart = time_chart_of(
                &area,
                input,
                0.0..hi,
                &caption,
                "% of events",
                &fmt,
                &mut legend,
                &only,
            )?;
            draw_shares(
                &mut chart,
                &steps(0.0),
                allowed,
                axis.max,
                allowed,
                &mut legend,
            )?;
        }
        legend.push(
            "breached (darker: more replications)",
            Mark::Swatch(breach_style(1.0)),
        );
        legend.draw(&side)
    }
}

/// An objective panel's lines: the bad share per window (steps) and the
/// share allowed, drawn at `line` (the allowed share, or the floor of a log
/// axis).
fn draw_shares<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut TimeChart<'_, DB, Y>,
    steps: &[Vec<(f64, f64)>],
    line: f64,
    x_max: f64,
    allowed: f64,
    legend: &mut Legend,
) -> DrawResult {
    for seg in steps {
        chart
            .draw_series(LineSeries::new(seg.iter().copied(), BLACK.stroke_width(2)))
            .map_err(err)?;
    }
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, line), (x_max, line)],
            10,
            6,
            BREACH.stroke_width(2),
        ))
        .map_err(err)?;
    legend.push("bad share, mean over replications", Mark::Line(BLACK));
    legend.push(format!("allowed: {}%", tick(allowed)), Mark::Dashed(BREACH));
    Ok(())
}

/// Each latency objective's threshold (ms) with its legend label.
fn latency_thresholds(run: &RunDescription) -> Vec<(String, f64)> {
    run.objectives
        .iter()
        .filter_map(|s| match s.objective {
            Objective::Latency {
                quantile,
                threshold,
            }
            | Objective::QueueLatency {
                quantile,
                threshold,
            } => {
                let q = capsim_models::quantile_label(quantile);
                // A derived name already says it: "p95-under-200ms".
                let label = if s.name.starts_with(&format!("p{q}-under-")) {
                    s.name.clone()
                } else {
                    format!("{}: p{q} ≤ {threshold}", s.name)
                };
                Some((label, threshold.as_secs_f64() * 1000.0))
            }
            _ => None,
        })
        .collect()
}

/// The latency panel's lines: p95 and p99 of all classes, each region's
/// users' p95, and each latency objective's threshold (dashed).
struct LatencyLines<'a> {
    p95: &'a [f64],
    p99: &'a [f64],
    per_region: Vec<(String, &'a [f64])>,
    thresholds: Vec<(String, f64)>,
}

impl<'a> LatencyLines<'a> {
    fn new(ts: &'a TimeSeries, regions: &[&'a SeriesRow], run: &RunDescription) -> Self {
        let all = ts.all();
        let per_region = regions
            .iter()
            .map(|r| {
                (
                    format!("p95, users in {}", r.name),
                    r.col(Col::LatencyP95Ms),
                )
            })
            .collect();
        LatencyLines {
            p95: all.col(Col::LatencyP95Ms),
            p99: all.col(Col::LatencyP99Ms),
            per_region,
            thresholds: latency_thresholds(run),
        }
    }

    /// The lowest positive and the highest value of the lines and thresholds
    /// (at least 1 ms at the top; 0.1 ms at the bottom when nothing is positive).
    fn range(&self) -> (f64, f64) {
        let thresholds = || self.thresholds.iter().map(|t| &t.1);
        let hi = max_finite(self.p99.iter().chain(thresholds()), 1.0);
        let lo = min_positive(self.p95.iter().chain(thresholds())).unwrap_or(0.1);
        let hi = self
            .per_region
            .iter()
            .map(|(_, v)| max_finite(v.iter(), 1.0))
            .fold(hi, f64::max);
        let lo = self
            .per_region
            .iter()
            .filter_map(|(_, v)| min_positive(v.iter()))
            .fold(lo, f64::min);
        (lo, hi)
    }

    fn draw<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
        &self,
        chart: &mut TimeChart<'_, DB, Y>,
        ts: &TimeSeries,
        legend: &mut Legend,
    ) -> DrawResult {
        draw_line(chart, ts, self.p95, color(0), "p95", legend)?;
        draw_line(chart, ts, self.p99, color(3), "p99", legend)?;
        for (i, (label, v)) in self.per_region.iter().enumerate() {
            draw_line(chart, ts, v, color(5 + i), label, legend)?;
        }
        let axis = TimeAxis::new(ts.horizon_s);
        for (i, (label, ms)) in self.thresholds.iter().enumerate() {
            let c = if i == 0 { BLACK } else { color(4 + i) };
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, *ms), (axis.max, *ms)],
                    10,
                    6,
                    c.stroke_width(2),
                ))
                .map_err(err)?;
            legend.push(label.clone(), Mark::Dashed(c));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// latency_cdf

struct LatencyCdf<'a> {
    scenario: &'a str,
    /// (class, latency ms at each of `PROBS`), classes with data only.
    curves: Vec<(String, Vec<f64>)>,
    probs: Vec<f64>,
}

impl<'a> LatencyCdf<'a> {
    fn new(input: &'a PlotInput<'a>) -> Self {
        let mut probs: Vec<f64> = (1..1000).map(|k| k as f64 / 1000.0).collect();
        probs.extend([0.9995, 0.9999]);
        let (mut hists, all) = pooled_latency(input.results);
        if hists.len() > 1 {
            hists.push(("all classes".into(), all));
        }
        let curves = hists
            .into_iter()
            .filter(|(_, h)| h.count() > 0)
            .map(|(name, h)| {
                let q = h.quantiles_ms(&probs);
                (name, q)
            })
            .collect();
        LatencyCdf {
            scenario: &input.summary.scenario,
            curves,
            probs,
        }
    }
}

/// A chart with latency (ms) on a log x axis.
type LatencyChart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, Y>>;

impl Draw for LatencyCdf<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let body = page(root, self.scenario, "latency distribution per class")?;
        let (left, right) = body.split_horizontally(600);
        let (lo, hi) = self.latency_range();
        let mut cdf = cdf_chart(&left, lo, hi)?;
        let mut tail = tail_chart(&right, lo, hi)?;
        for (i, (name, q)) in self.curves.iter().enumerate() {
            let c = if name == "all classes" {
                BLACK
            } else {
                color(i)
            };
            let pts: Vec<(f64, f64)> = q
                .iter()
                .zip(&self.probs)
                .filter(|(x, _)| x.is_finite() && **x > 0.0)
                .map(|(&x, &p)| (x, p))
                .collect();
            cdf.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(legend_line(c));
            tail.draw_series(LineSeries::new(
                pts.iter().map(|&(x, p)| (x, (1.0 - p).max(1e-4))),
                c.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(legend_line(c));
        }
        tail_references(&mut tail, lo, hi)?;
        if self.curves.is_empty() {
            cdf.draw_series(std::iter::once(Text::new(
                "no request completed in the measured window",
                (lo * 2.0, 0.5),
                label_font(),
            )))
            .map_err(err)?;
        } else {
            draw_legend(&mut cdf, SeriesLabelPosition::LowerRight)?;
            draw_legend(&mut tail, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

impl LatencyCdf<'_> {
    /// The latency axis: the curves' range with some room (0.1 to 1000 ms
    /// when no request completed).
    fn latency_range(&self) -> (f64, f64) {
        let lo = self
            .curves
            .iter()
            .filter_map(|(_, q)| min_positive(q))
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .curves
            .iter()
            .map(|(_, q)| max_finite(q, 0.0))
            .fold(0.0, f64::max);
        if lo.is_finite() && hi > 0.0 {
            (lo * 0.8, hi * 1.25)
        } else {
            (0.1, 1000.0)
        }
    }
}

/// The CDF chart: share of requests (linear) against latency (log).
fn cdf_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
) -> Result<LatencyChart<'_, DB, RangedCoordf64>, String> {
    let mut cdf = ChartBuilder::on(area)
        .caption("CDF: share of requests at most x", caption_font())
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            0.0..1.0,
        )
        .map_err(err)?;
    cdf.configure_mesh()
        .x_desc("end-to-end latency (ms, log scale)")
        .y_desc("fraction of requests")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style(label_font())
        .axis_desc_style(label_font())
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    Ok(cdf)
}

/// The tail chart: share of requests slower than x, both axes log.
fn tail_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
) -> Result<LatencyChart<'_, DB, WithKeyPoints<LogCoord<f64>>>, String> {
    let mut tail = ChartBuilder::on(area)
        .caption("tail: share of requests slower than x", caption_font())
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            (1e-4..1.0)
                .log_scale()
                .with_key_points(vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0]),
        )
        .map_err(err)?;
    tail.configure_mesh()
        .x_desc("end-to-end latency (ms, log scale)")
        .y_desc("1 − CDF (log scale)")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| {
            // Powers of ten as percentages read best: 1%, 0.1%, …
            trim(format!("{:.4}", v * 100.0)) + "%"
        })
        .label_style(label_font())
        .axis_desc_style(label_font())
        .draw()
        .map_err(err)?;
    Ok(tail)
}

/// Dashed reference lines at the p99 and p99.9 tail shares.
fn tail_references<DB: DrawingBackend>(
    tail: &mut LatencyChart<'_, DB, WithKeyPoints<LogCoord<f64>>>,
    lo: f64,
    hi: f64,
) -> DrawResult {
    for (p, label) in [(0.01, "p99"), (0.001, "p99.9")] {
        tail.draw_series(DashedLineSeries::new(
            [(lo, p), (hi, p)],
            6,
            6,
            RGBColor(150, 150, 150).stroke_width(1),
        ))
        .map_err(err)?;
        tail.draw_series(std::iter::once(Text::new(
            label,
            (lo * 1.15, p * 1.05),
            label_font().pos(Pos::new(HPos::Left, VPos::Bottom)),
        )))
        .map_err(err)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// cost

struct CostPlot<'a> {
    input: &'a PlotInput<'a>,
}

impl Draw for CostPlot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let body = page(root, &self.input.summary.scenario, "cost per tier")?;
        let (top, bottom) = body.split_vertically(470);
        self.rate_panel(&top)?;
        self.totals_panel(&bottom)
    }
}

/// One bar of the totals panel: its label, USD and 95% CI.
struct Bar {
    label: String,
    usd: f64,
    ci95: [f64; 2],
}

impl Bar {
    /// The top of the bar or its whisker, whichever is higher.
    fn top(&self) -> f64 {
        finite_or_zero(self.ci95[1]).max(self.usd)
    }
}

impl CostPlot<'_> {
    /// The cost rate's layers (USD per hour per interval), bottom first:
    /// priced tiers in scenario order, the load balancers, then traffic
    /// (whatever of the total the others do not account for) if there is
    /// any.
    fn layers(&self) -> Vec<(String, Vec<f64>)> {
        let ts = self.input.series;
        let s = self.input.summary;
        let mut layers: Vec<(String, Vec<f64>)> = Vec::new();
        for row in ts.of(Scope::Tier) {
            let priced = s
                .cost_usd
                .tiers
                .get(&row.name)
                .is_some_and(|t| t.priced_as != "unpriced");
            if priced {
                let v = row.col(Col::CostUsdPerH).iter().map(|x| finite_or_zero(*x));
                layers.push((row.name.clone(), v.collect()));
            }
        }
        // The load balancers' series is USD per interval: per hour, as the
        // rows'.
        let per_h = 3600.0 / s.cost_usd.series.interval_seconds.max(f64::MIN_POSITIVE);
        let lb: Vec<f64> = (0..ts.len)
            .map(|i| {
                let usd = s.cost_usd.series.load_balancer.get(i).copied();
                finite_or_zero(usd.unwrap_or(0.0) * per_h)
            })
            .collect();
        if lb.iter().any(|x| *x > 1e-12) {
            layers.push(("load balancers".into(), lb));
        }
        let total = ts.all().col(Col::CostUsdPerH);
        let traffic: Vec<f64> = (0..ts.len)
            .map(|i| {
                let tiers: f64 = layers.iter().map(|(_, v)| v[i]).sum();
                (finite_or_zero(total[i]) - tiers).max(0.0)
            })
            .collect();
        if traffic.iter().any(|x| *x > 1e-12) {
            layers.push(("traffic (CDN, egress, cross-region)".into(), traffic));
        }
        layers
    }

    /// The cost rate over time, stacked by tier.
    fn rate_panel<DB: DrawingBackend>(&self, panel: &DrawingArea<DB, Shift>) -> DrawResult {
        let input = self.input;
        let ts = input.series;
        let axis = TimeAxis::of(input);
        let layers = self.layers();
        let mut cumulative: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
        for (_, v) in &layers {
            let below = cumulative.last().cloned().unwrap_or(vec![0.0; ts.len]);
            cumulative.push(below.iter().zip(v).map(|(a, b)| a + b).collect());
        }
        let ymax = cumulative
            .last()
            .map_or(1.0, |top| max_finite(top, 0.0))
            .max(1e-3)
            * 1.2;
        let (area, side) = with_legend(panel);
        let mut legend = Legend {
            shading: true,
            ..Legend::default()
        };
        let mut chart = time_chart(
            &area,
            input,
            0.0..ymax,
            "cost rate, stacked by tier",
            "USD per hour",
            &|v| format!("${}", tick(*v)),
            &mut legend,
        )?;
        // Highest layer first, so each lower one paints over it; the legend
        // lists them top to bottom as they are stacked.
        for (k, (name, _)) in layers.iter().enumerate().rev() {
            let c = color(k);
            let pts: Vec<(f64, f64)> = cumulative[k]
                .iter()
                .enumerate()
                .map(|(i, &v)| (axis.at(ts.time_s(i) + ts.interval_s / 2.0), v))
                .collect();
            chart
                .draw_series(AreaSeries::new(pts, 0.0, c.mix(0.75)).border_style(c.stroke_width(1)))
                .map_err(err)?;
            legend.push(name.clone(), Mark::Swatch(c.mix(0.75).filled()));
        }
        if layers.is_empty() {
            legend.push("no tier has a price", Mark::Swatch(WHITE.filled()));
        }
        legend.draw(&side)
    }

    /// The totals' bars: each priced tier, the load balancers, each kind of
    /// traffic with a cost, and the total last.
    fn bars(&self) -> Vec<Bar> {
        let cost = &self.input.summary.cost_usd;
        let mut bars: Vec<Bar> = cost
            .tiers
            .iter()
            .filter(|(_, t)| t.priced_as != "unpriced")
            .map(|(n, t)| Bar {
                label: format!("{n} ({})", t.priced_as),
                usd: t.total.estimate,
                ci95: t.total.ci95,
            })
            .collect();
        for (label, e) in [
            ("load balancers", &cost.load_balancer.total),
            ("CDN traffic", &cost.traffic.cdn),
            ("egress traffic", &cost.traffic.egress),
            ("cross-region traffic", &cost.traffic.cross_region),
        ] {
            if e.estimate > 0.0 {
                bars.push(Bar {
                    label: label.into(),
                    usd: e.estimate,
                    ci95: e.ci95,
                });
            }
        }
        bars.push(Bar {
            label: "total".into(),
            usd: cost.total.estimate,
            ci95: cost.total.ci95,
        });
        bars
    }

    /// Totals over the measured window, one bar each with its CI whisker.
    fn totals_panel<DB: DrawingBackend>(&self, panel: &DrawingArea<DB, Shift>) -> DrawResult {
        let bars = self.bars();
        let vmax = bars.iter().map(Bar::top).fold(0.0, f64::max).max(1e-3) * 1.2;
        let n = bars.len() as i32;
        let caption = format!(
            "total per replication over the measured {} (whiskers: 95% CI)",
            sim_engine::SimDuration::from_secs_f64(self.input.summary.measured_seconds)
        );
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, caption_font())
            .margin(12)
            .margin_right(LEGEND_COLUMN)
            .x_label_area_size(44)
            .y_label_area_size(78)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..vmax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc("USD")
            .x_labels(bars.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => bars
                    .get(*i as usize)
                    .map(|b| b.label.clone())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .y_label_formatter(&|v| format!("${}", tick(*v)))
            .label_style(label_font())
            .axis_desc_style(label_font())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        draw_bars(&mut chart, &bars, vmax)
    }
}

/// The bars (the total in dark grey), their CI whiskers and their USD
/// labels above them.
fn draw_bars<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>>,
    bars: &[Bar],
    vmax: f64,
) -> DrawResult {
    let last = bars.len() - 1;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let c = if i == last {
                RGBColor(60, 60, 60)
            } else {
                color(i)
            };
            let (from, to) = (
                SegmentValue::Exact(i as i32),
                SegmentValue::Exact(i as i32 + 1),
            );
            let mut r = Rectangle::new([(from, 0.0), (to, b.usd)], c.mix(0.8).filled());
            r.set_margin(0, 0, 18, 18);
            r
        }))
        .map_err(err)?;
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| b.ci95[0].is_finite() && b.ci95[1] > b.ci95[0])
                .map(|(i, b)| {
                    let x = SegmentValue::CenterOf(i as i32);
                    PathElement::new(
                        vec![(x.clone(), b.ci95[0]), (x, b.ci95[1])],
                        BLACK.stroke_width(2),
                    )
                }),
        )
        .map_err(err)?;
    let above = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let at = (SegmentValue::CenterOf(i as i32), b.top() + vmax * 0.03);
            Text::new(format!("${}", money(b.usd)), at, above.clone())
        }))
        .map_err(err)?;
    Ok(())
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

pub(crate) fn money(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

// ---------------------------------------------------------------------------
// utilization

struct Utilization<'a> {
    input: &'a PlotInput<'a>,
}

impl Draw for Utilization<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let input = self.input;
        let ts = input.series;
        let body = page(root, &input.summary.scenario, "utilisation per tier")?;
        let (area, side) = with_legend(&body);
        let mut legend = Legend {
            shading: true,
            ..Legend::default()
        };
        let mut chart = time_chart(
            &area,
            input,
            0.0..105.0,
            "busy capacity over capacity in service, mean over replications",
            "utilisation (%)",
            &|v| format!("{v:.0}%"),
            &mut legend,
        )?;
        let tiers = ts
            .of(Scope::Tier)
            .filter(|t| t.col(Col::UtilizationPct).iter().any(|v| v.is_finite()));
        for (i, t) in tiers.enumerate() {
            let label = format!("{} ({})", t.name, t.kind);
            let v = t.col(Col::UtilizationPct);
            draw_line(&mut chart, ts, v, color(i), &label, &mut legend)?;
        }
        legend.draw(&side)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast encoder is lossless: a raster of flat areas and lines, as in
    /// a plot, and of noise, which compresses worst, decodes to itself.
    #[test]
    fn png_encoding_round_trips() {
        let (w, h) = (301u32, 97u32);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        let mut x = 0x9e37_79b9_u32;
        for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
            let (col, row) = (i as u32 % w, i as u32 / w);
            if row % 10 == 0 || col == row {
                px.copy_from_slice(&[20, 60, 200]);
            } else if col > 200 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                px.copy_from_slice(&x.to_le_bytes()[..3]);
            }
        }
        let bytes = encode_png(&rgb, w, h).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes))
            .read_info()
            .unwrap();
        let mut out = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut out).unwrap();
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert!(out[..info.buffer_size()] == rgb[..], "pixels differ");
    }
}

//! What `capsim sensitivity` found: each input's effect on the chosen
//! latency figure and on cost, ranked; as a terminal table,
//! `sensitivity.json`, `sensitivity.csv`, `report.md` and
//! `plots/tornado.{png,svg}`. Made from a one-at-a-time sweep's report, so
//! an unsharded run and a merge of shards write the same files.

use std::fmt::Write;

use capsim_models::SweepPlan;
use capsim_models::description::ONE_AT_A_TIME;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;
use sim_engine::{Estimate, parse_duration};

use crate::fs::OutputFile;
use crate::plots::{
    Draw, DrawResult, Legend, Mark, caption_font, err, label_font, page, register_bundled_font,
    render, tick, with_legend,
};
use crate::sweep::{Diff, PointSummary, SweepReport, display_value};
use crate::table::{aligned, fmt_num, markdown};

pub const SENSITIVITY_SCHEMA_VERSION: u32 = 1;

/// Whether `plan` is a sensitivity analysis.
pub fn is_sensitivity(plan: &SweepPlan) -> bool {
    plan.sample.starts_with(ONE_AT_A_TIME)
}

/// One side of an input: the value it was moved to, and what moved.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    pub point: usize,
    pub value: String,
    /// The relative change of the input (−0.1 for −10%; a whole number
    /// rounds, so it can differ from the asked fraction).
    pub change: f64,
    /// Paired difference to the baseline of the latency figure (ms).
    pub metric: Diff,
    /// ... and of the cost per replication (USD).
    pub cost: Diff,
    /// Replications that breached an objective.
    pub breaching: u64,
}

/// An input and its two sides.
#[derive(Clone, Debug, Serialize)]
pub struct Effect {
    pub input: String,
    pub value: String,
    pub down: Option<Side>,
    pub up: Option<Side>,
    /// The larger of the two sides' effects on the metric, in ms, scaled
    /// to the asked fraction (a whole number moved by 1 of 3 is a 33%
    /// change: its effect counts a third as much per 10%). The ranking key;
    /// NaN if neither side ran.
    pub swing_ms: f64,
    /// The same on cost, in USD.
    pub swing_usd: f64,
    /// Whether a side's paired interval on the metric excludes zero.
    pub significant: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SensitivityReport {
    pub schema_version: u32,
    pub scenario: String,
    pub seed: u64,
    pub replications: u64,
    /// The fraction asked for (0.1 for ±10%).
    pub fraction: f64,
    pub metric: String,
    pub baseline_metric_ms: Estimate,
    pub baseline_cost_usd: Estimate,
    /// By decreasing effect on the metric.
    pub inputs: Vec<Effect>,
    /// The same inputs' order by effect on cost.
    pub by_cost: Vec<String>,
    /// Per objective (`[[slos]]`, scenario order): the inputs by their
    /// effect on its error budget used.
    pub objectives: Vec<ObjectiveEffect>,
}

/// How the inputs move one objective: its error budget used over the
/// measured period (bad events / the bad events it allows; 1 = all of it),
/// a continuous figure for how near it is to breaching, whichever kind of
/// objective it is and whichever classes it names.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveEffect {
    pub objective: String,
    pub baseline_budget_used: Estimate,
    /// Inputs that moved it, by decreasing effect (the larger side's,
    /// scaled to the asked fraction as for the latency figure).
    pub ranked: Vec<ObjectiveInput>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveInput {
    pub input: String,
    pub value: String,
    /// The side with the larger effect: the input's relative change and the
    /// paired difference of the budget used (fraction of the budget).
    pub change: f64,
    pub budget_used: Diff,
    /// Whether that side's paired interval excludes zero.
    pub significant: bool,
}

impl ObjectiveEffect {
    fn of(name: &str, fraction: f64, inputs: &[Effect], report: &SweepReport) -> ObjectiveEffect {
        let key = format!("slo:{name}:budget_used");
        let diff = |side: &Side| {
            report
                .points
                .iter()
                .find(|p| p.index == side.point)
                .and_then(|p| p.vs_baseline.get(&key))
                .cloned()
        };
        let mut ranked: Vec<(f64, ObjectiveInput)> = inputs
            .iter()
            .filter_map(|e| {
                e.down
                    .iter()
                    .chain(e.up.iter())
                    .filter_map(|s| {
                        let d = diff(s)?;
                        let scaled = (d.estimate * fraction / s.change).abs();
                        scaled.is_finite().then_some((scaled, s, d))
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .filter(|(scaled, _, _)| *scaled > 0.0)
                    .map(|(scaled, s, d)| {
                        let significant = d.ci95[0] > 0.0 || d.ci95[1] < 0.0;
                        (
                            scaled,
                            ObjectiveInput {
                                input: e.input.clone(),
                                value: e.value.clone(),
                                change: s.change,
                                budget_used: d,
                                significant,
                            },
                        )
                    })
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let base = report.points[0]
            .figures
            .get(&key)
            .cloned()
            .unwrap_or(Estimate {
                estimate: f64::NAN,
                ci95: [f64::NAN; 2],
            });
        ObjectiveEffect {
            objective: name.to_string(),
            baseline_budget_used: base,
            ranked: ranked.into_iter().map(|(_, i)| i).collect(),
        }
    }

    /// The answer for this objective, in a line.
    fn line(&self) -> String {
        let base = &self.baseline_budget_used;
        let head = format!(
            "most influential on objective {} (error budget used {}% ± {}):",
            self.objective,
            fmt_num(100.0 * base.estimate),
            fmt_num(100.0 * base.half_width())
        );
        match self.ranked.first() {
            None => format!("{head} no input moves it"),
            Some(top) => format!(
                "{head} {} ({}): {} moves it by {} points [{}, {}], to {}%{}",
                top.input,
                top.value,
                pct(top.change),
                signed(100.0 * top.budget_used.estimate),
                fmt_num(100.0 * top.budget_used.ci95[0]),
                fmt_num(100.0 * top.budget_used.ci95[1]),
                fmt_num(100.0 * (base.estimate + top.budget_used.estimate)),
                if top.significant {
                    ""
                } else {
                    " (within the noise: no input moves it beyond)"
                }
            ),
        }
    }
}

/// A value text as a number (durations in ns), to tell a side's direction.
fn numeric(text: &str) -> Option<f64> {
    let t = display_value(text);
    t.parse::<f64>()
        .ok()
        .or_else(|| parse_duration(&t).ok().map(|d| d.as_nanos() as f64))
}

impl SensitivityReport {
    /// From a one-at-a-time sweep: each point other than the baseline
    /// moves one input.
    pub fn new(plan: &SweepPlan, report: &SweepReport) -> SensitivityReport {
        let fraction = plan
            .sample
            .strip_prefix(ONE_AT_A_TIME)
            .and_then(|f| f.strip_prefix(':'))
            .and_then(|f| f.parse().ok())
            .unwrap_or(f64::NAN);
        let metric = report.metric_key();
        let base = &report.points[0];
        let nan = Estimate {
            estimate: f64::NAN,
            ci95: [f64::NAN; 2],
        };
        let mut inputs: Vec<Effect> = plan
            .params
            .iter()
            .zip(&plan.points[0])
            .map(|(p, v)| Effect {
                input: p.clone(),
                value: display_value(v),
                down: None,
                up: None,
                swing_ms: f64::NAN,
                swing_usd: f64::NAN,
                significant: false,
            })
            .collect();
        for p in &report.points[1..] {
            let values = &plan.points[p.index];
            let Some(j) = values.iter().zip(&plan.points[0]).position(|(a, b)| a != b) else {
                continue;
            };
            let (Some(x0), Some(x1)) = (numeric(&plan.points[0][j]), numeric(&values[j])) else {
                continue;
            };
            let side = side(p, &values[j], (x1 - x0) / x0, &metric);
            if x1 < x0 {
                inputs[j].down = Some(side);
            } else {
                inputs[j].up = Some(side);
            }
        }
        for e in &mut inputs {
            let sides = || e.down.iter().chain(e.up.iter());
            let scaled = |s: &Side, d: &Diff| (d.estimate * fraction / s.change).abs();
            e.swing_ms = sides()
                .map(|s| scaled(s, &s.metric))
                .filter(|x| x.is_finite())
                .reduce(f64::max)
                .unwrap_or(f64::NAN);
            e.swing_usd = sides()
                .map(|s| scaled(s, &s.cost))
                .filter(|x| x.is_finite())
                .reduce(f64::max)
                .unwrap_or(f64::NAN);
            e.significant = sides().any(|s| s.metric.ci95[0] > 0.0 || s.metric.ci95[1] < 0.0);
        }
        let order = |key: fn(&Effect) -> f64| {
            move |a: &Effect, b: &Effect| {
                let (x, y) = (key(a), key(b));
                // NaN (no side ran) last, then larger first.
                y.is_nan().cmp(&x.is_nan()).reverse().then(y.total_cmp(&x))
            }
        };
        let objectives = base
            .figures
            .keys()
            .filter_map(|f| f.strip_prefix("slo:")?.strip_suffix(":budget_used"))
            .map(|name| ObjectiveEffect::of(name, fraction, &inputs, report))
            .collect();
        let mut by_cost = inputs.clone();
        by_cost.sort_by(order(|e| e.swing_usd));
        inputs.sort_by(order(|e| e.swing_ms));
        SensitivityReport {
            schema_version: SENSITIVITY_SCHEMA_VERSION,
            scenario: report.scenario.clone(),
            seed: report.seed,
            replications: report.replications,
            fraction,
            metric: report.metric.clone(),
            baseline_metric_ms: base.figures.get(&metric).cloned().unwrap_or(nan),
            baseline_cost_usd: base.figures.get("cost_usd").cloned().unwrap_or(nan),
            by_cost: by_cost.into_iter().map(|e| e.input).collect(),
            objectives,
            inputs,
        }
    }

    /// The answer in a sentence or two.
    pub fn conclusion(&self) -> String {
        let mut out = String::new();
        let Some(top) = self.inputs.first().filter(|e| e.swing_ms.is_finite()) else {
            return "no input could be moved\n".into();
        };
        let strongest = top
            .down
            .iter()
            .chain(top.up.iter())
            .max_by(|a, b| a.metric.estimate.abs().total_cmp(&b.metric.estimate.abs()))
            .expect("a finite swing has a side");
        let base = self.baseline_metric_ms.estimate;
        let _ = writeln!(
            out,
            "most influential on {}: {} ({}): {} moves {} by {} ms [{}, {}] ({} of {} ms)",
            self.metric,
            top.input,
            top.value,
            pct(strongest.change),
            self.metric,
            signed(strongest.metric.estimate),
            fmt_num(strongest.metric.ci95[0]),
            fmt_num(strongest.metric.ci95[1]),
            pct(strongest.metric.estimate / base),
            fmt_num(base)
        );
        let quiet: Vec<&str> = self
            .inputs
            .iter()
            .filter(|e| !e.significant)
            .map(|e| e.input.as_str())
            .collect();
        let _ = write!(
            out,
            "{} of {} inputs move {} beyond noise (a side's paired 95% interval excludes zero)",
            self.inputs.len() - quiet.len(),
            self.inputs.len(),
            self.metric,
        );
        let _ = match quiet.len() {
            0 => writeln!(out),
            1..=5 => writeln!(out, "; not: {}", quiet.join(", ")),
            n => writeln!(out, "; {n} do not"),
        };
        for o in &self.objectives {
            let _ = writeln!(out, "{}", o.line());
        }
        if let Some(c) = self.by_cost.first() {
            let e = self
                .inputs
                .iter()
                .find(|e| &e.input == c)
                .expect("same inputs");
            if e.swing_usd.is_finite() && e.swing_usd > 0.0 {
                let _ = writeln!(
                    out,
                    "most influential on cost: {} (up to ${} per replication, of ${})",
                    c,
                    fmt_num(e.swing_usd),
                    fmt_num(self.baseline_cost_usd.estimate)
                );
            }
        }
        out
    }

    fn rows(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let header = vec![
            "rank".to_string(),
            "input".into(),
            "value".into(),
            format!("down: {} ms", self.metric),
            format!("up: {} ms", self.metric),
            "down: cost $".into(),
            "up: cost $".into(),
        ];
        let cell = |s: &Option<Side>, f: fn(&Side) -> &Diff| match s {
            Some(side) => {
                let d = f(side);
                format!(
                    "{} {} [{}, {}]",
                    pct(side.change),
                    signed(d.estimate),
                    fmt_num(d.ci95[0]),
                    fmt_num(d.ci95[1])
                )
            }
            None => "not run".into(),
        };
        let rows = self
            .inputs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    format!("{}{}", i + 1, if e.significant { "*" } else { "" }),
                    e.input.clone(),
                    e.value.clone(),
                    cell(&e.down, |s| &s.metric),
                    cell(&e.up, |s| &s.metric),
                    cell(&e.down, |s| &s.cost),
                    cell(&e.up, |s| &s.cost),
                ]
            })
            .collect();
        (header, rows)
    }

    /// The terminal view: the `shown` most influential inputs.
    pub fn table(&self, shown: usize) -> String {
        let by = pct(self.fraction).trim_start_matches('+').to_string();
        let mut out = format!(
            "{}: sensitivity of {} and cost to each input moved by ±{by} alone, {} replications, seed {}; differences to the baseline ({} {} ms, ${}) are paired (same traffic), 95% CI; ranked by the larger side's effect per ±{by} of the input\n\n",
            self.scenario,
            self.metric,
            self.replications,
            self.seed,
            self.metric,
            fmt_num(self.baseline_metric_ms.estimate),
            fmt_num(self.baseline_cost_usd.estimate)
        );
        let (header, mut rows) = self.rows();
        let more = rows.len().saturating_sub(shown);
        rows.truncate(shown);
        out.push_str(&aligned(&header, &rows, |i| i <= 2));
        if more > 0 {
            let _ = writeln!(out, "({more} more inputs in sensitivity.csv)");
        }
        let _ = writeln!(out, "* the paired interval of a side excludes zero\n");
        out.push_str(&self.conclusion());
        out
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a report always serialises");
        out.push(b'\n');
        out
    }

    /// `sensitivity.csv`: one row per input, in rank order.
    pub fn csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let m = &self.metric;
        let header: Vec<String> = vec![
            "rank".into(),
            "input".into(),
            "value".into(),
            "down_value".into(),
            "down_change".into(),
            format!("down_{m}_ms_diff"),
            format!("down_{m}_ms_diff_lo"),
            format!("down_{m}_ms_diff_hi"),
            "down_cost_usd_diff".into(),
            "up_value".into(),
            "up_change".into(),
            format!("up_{m}_ms_diff"),
            format!("up_{m}_ms_diff_lo"),
            format!("up_{m}_ms_diff_hi"),
            "up_cost_usd_diff".into(),
            "significant".into(),
        ];
        w.write_record(&header).expect("writing to memory");
        let side = |s: &Option<Side>| -> Vec<String> {
            match s {
                Some(s) => vec![
                    s.value.clone(),
                    s.change.to_string(),
                    s.metric.estimate.to_string(),
                    s.metric.ci95[0].to_string(),
                    s.metric.ci95[1].to_string(),
                    s.cost.estimate.to_string(),
                ],
                None => vec![String::new(); 6],
            }
        };
        for (i, e) in self.inputs.iter().enumerate() {
            let mut row = vec![(i + 1).to_string(), e.input.clone(), e.value.clone()];
            row.extend(side(&e.down));
            row.extend(side(&e.up));
            row.push(e.significant.to_string());
            w.write_record(&row).expect("writing to memory");
        }
        w.into_inner().expect("writing to memory")
    }

    /// `report.md`: the answer, the ranking and the tornado plot.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# {}: sensitivity\n\nWhich inputs matter? Each input of the scenario was moved by ±{} alone (whole numbers by at least one), and the scenario run with the same {} replications and seed {} as the baseline: replication j sees the same traffic at every point, so each difference to the baseline has a paired 95% interval. Baseline: {} {} ± {} ms, cost ${} per replication.\n\n## Answer\n\n",
            self.scenario,
            pct(self.fraction).trim_start_matches('+'),
            self.replications,
            self.seed,
            self.metric,
            fmt_num(self.baseline_metric_ms.estimate),
            fmt_num(self.baseline_metric_ms.half_width()),
            fmt_num(self.baseline_cost_usd.estimate)
        );
        for l in self.conclusion().lines() {
            let _ = writeln!(out, "{l}\n");
        }
        out.push_str("![tornado](plots/tornado.png)\n\n## Every input\n\n");
        let (header, rows) = self.rows();
        out.push_str(&markdown(&header, &rows));
        out.push_str(
            "\n`*`: a side's paired interval excludes zero. One at a time means no interactions: two inputs that matter only together show up in neither row. See docs/explain.md.\n",
        );
        out
    }
}

fn side(p: &PointSummary, value: &str, change: f64, metric: &str) -> Side {
    let diff = |f: &str| {
        p.vs_baseline.get(f).cloned().unwrap_or(Diff {
            estimate: f64::NAN,
            ci95: [f64::NAN; 2],
            unpaired_ci95: [f64::NAN; 2],
        })
    };
    Side {
        point: p.index,
        value: display_value(value),
        change,
        metric: diff(metric),
        cost: diff("cost_usd"),
        breaching: p.replications_breaching,
    }
}

/// A relative change as a percentage: `+10%`, `-33.3%`.
fn pct(x: f64) -> String {
    let p = x * 100.0;
    let mut t = format!("{p:.1}");
    if t.ends_with(".0") {
        t.truncate(t.len() - 2);
    }
    format!("{}{t}%", if p > 0.0 { "+" } else { "" })
}

fn signed(x: f64) -> String {
    format!("{}{}", if x > 0.0 { "+" } else { "" }, fmt_num(x))
}

/// The files of a one-at-a-time sweep (none for another sweep).
pub fn files(report: &SweepReport, plan: &SweepPlan) -> Result<Vec<OutputFile>, String> {
    if !is_sensitivity(plan) {
        return Ok(Vec::new());
    }
    let s = SensitivityReport::new(plan, report);
    let mut files = vec![
        OutputFile {
            relative: "sensitivity.json".into(),
            bytes: s.to_json(),
        },
        OutputFile {
            relative: "sensitivity.csv".into(),
            bytes: s.csv(),
        },
        OutputFile {
            relative: "report.md".into(),
            bytes: s.markdown().into_bytes(),
        },
    ];
    register_bundled_font();
    let shown = s.inputs.len().clamp(1, TORNADO_ROWS);
    render(
        &mut files,
        "tornado",
        (1400, 200 + 44 * shown as u32),
        &Tornado { report: &s },
    )?;
    Ok(files)
}

const TORNADO_ROWS: usize = 20;
const DOWN: RGBColor = RGBColor(31, 119, 180);
const UP: RGBColor = RGBColor(255, 127, 14);
const WHISKER: RGBColor = RGBColor(60, 60, 60);

struct Tornado<'a> {
    report: &'a SensitivityReport,
}

impl Draw for Tornado<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let body = page(
            root,
            &r.scenario,
            &format!(
                "what moves {} (±{} per input)",
                r.metric,
                pct(r.fraction).trim_start_matches('+')
            ),
        )?;
        let (area, legend_area) = with_legend(&body);
        let rows: Vec<&Effect> = r
            .inputs
            .iter()
            .filter(|e| e.swing_ms.is_finite())
            .take(TORNADO_ROWS)
            .collect();
        let n = rows.len().max(1) as f64;
        let extent = rows
            .iter()
            .flat_map(|e| e.down.iter().chain(e.up.iter()))
            .flat_map(|s| {
                [
                    s.metric.ci95[0].abs(),
                    s.metric.ci95[1].abs(),
                    s.metric.estimate.abs(),
                ]
            })
            .filter(|x| x.is_finite())
            .fold(1e-9, f64::max)
            * 1.1;
        let labels: Vec<String> = rows
            .iter()
            .map(|e| format!("{} = {}", e.input, e.value))
            .collect();
        let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10);
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!(
                    "change of {} from the baseline ({} ms), mean of {} paired replications with 95% CI; largest first",
                    r.metric,
                    fmt_num(r.baseline_metric_ms.estimate),
                    r.replications
                ),
                caption_font(),
            )
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size((label_width as u32 * 8 + 20).min(560))
            // Row i sits at y = n − 1 − i, so the axis labels whole numbers.
            .build_cartesian_2d(-extent..extent, -0.5..n - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("Δ {} (ms)", r.metric))
            .x_label_formatter(&|v| tick(*v))
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|y| {
                let i = (n - 1.0 - y).round();
                if (y - y.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .label_style(label_font())
            .axis_desc_style(label_font())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n - 0.5)],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
        for (i, e) in rows.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            for (side, colour, dy) in [(&e.down, DOWN, 0.16), (&e.up, UP, -0.16)] {
                let Some(s) = side else { continue };
                let d = s.metric.estimate;
                if !d.is_finite() {
                    continue;
                }
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(0.0, y + dy - 0.14), (d, y + dy + 0.14)],
                        colour.filled(),
                    )))
                    .map_err(err)?;
                if s.metric.ci95[0].is_finite() {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(s.metric.ci95[0], y + dy), (s.metric.ci95[1], y + dy)],
                            WHISKER.stroke_width(2),
                        )))
                        .map_err(err)?;
                }
            }
        }
        let by = pct(r.fraction).trim_start_matches('+').to_string();
        let mut legend = Legend::default();
        legend.push(
            format!("input −{by} (whole numbers: −1 at least)"),
            Mark::Swatch(DOWN.filled()),
        );
        legend.push(
            format!("input +{by} (whole numbers: +1 at least)"),
            Mark::Swatch(UP.filled()),
        );
        legend.push("95% CI of the difference", Mark::Line(WHISKER));
        legend.draw(&legend_area)
    }
}

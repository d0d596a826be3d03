//! What `capsim headroom` found: its probes, the bracket, what breaks
//! first; as a terminal table, `headroom.json`, `headroom.csv`,
//! `report.md` and `plots/headroom.{png,svg}`.

use std::fmt::Write;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde::Serialize;
use sim_engine::Estimate;

use crate::fs::OutputFile;
use crate::plots::{
    BREACH, Draw, DrawResult, Legend, Mark, caption_font, err, label_font, log_ticks, page,
    register_bundled_font, render, tick, with_legend,
};
use crate::sweep::PointRecord;
use crate::table::{aligned, fmt_num, markdown};

pub const HEADROOM_SCHEMA_VERSION: u32 = 1;

/// Whose traffic the search scales.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Traffic {
    All,
    Class(String),
    Region(String),
}

impl Traffic {
    /// The scenario field the search sets.
    pub fn path(&self) -> String {
        match self {
            Traffic::All => "workload.multiplier".into(),
            Traffic::Class(c) => format!("classes.{c}.multiplier"),
            Traffic::Region(r) => format!("regions.{r}.multiplier"),
        }
    }

    fn describe(&self) -> String {
        match self {
            Traffic::All => "every class's traffic".into(),
            Traffic::Class(c) => format!("class {c}'s traffic"),
            Traffic::Region(r) => format!("the traffic of region {r}'s users"),
        }
    }
}

impl Serialize for Traffic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&match self {
            Traffic::All => "all".to_string(),
            Traffic::Class(c) => format!("class:{c}"),
            Traffic::Region(r) => format!("region:{r}"),
        })
    }
}

/// Where the operational laws put saturation, before any probe.
#[derive(Clone, Debug, Serialize)]
pub struct Saturation {
    /// The resource whose utilisation bound at the peak reaches 100% first
    /// (`pg primary cores`, `api`), against what it can reach (autoscaling
    /// maximum).
    pub resource: String,
    pub multiplier: f64,
}

/// One probe: the scenario at one traffic multiplier, every replication.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    pub multiplier: f64,
    pub replications: u64,
    /// Replications that breached at least one objective.
    pub breaching: u64,
    /// Per objective (scenario order): replications that breached it.
    pub objectives: Vec<(String, u64)>,
    pub latency_ms: Estimate,
    pub throughput_per_s: Estimate,
    pub error_rate: Estimate,
    pub cost_usd: Estimate,
    /// Each tier's utilisation (tiers that have one), scenario order.
    pub utilization: Vec<(String, Estimate)>,
    /// Per end-to-end latency objective: where the time of the slowest 1%
    /// of its classes' requests went, as shares (0 to 1) of it, largest
    /// first.
    pub slowest: Vec<(String, Vec<(String, Estimate)>)>,
    /// Per tier that rejects or fails requests: how many it did, per
    /// replication (scenario order).
    pub errors_at: Vec<(String, Estimate)>,
    /// Requests whose client gave up waiting, per replication.
    pub timed_out: Estimate,
}

impl Probe {
    /// A probe from its record (figures per replication); `metric` is the
    /// latency figure key (`latency_p99_ms`).
    pub fn of(multiplier: f64, r: &PointRecord, metric: &str) -> Probe {
        let est = |f: &str| Estimate::from_samples(&r.samples(f));
        let objectives = r
            .figures
            .iter()
            .filter_map(|f| f.strip_prefix("slo:")?.strip_suffix(":breached"))
            .map(|name| {
                let n = r
                    .samples(&format!("slo:{name}:breached"))
                    .iter()
                    .filter(|&&x| x > 0.0)
                    .count() as u64;
                (name.to_string(), n)
            })
            .collect();
        let utilization = r
            .figures
            .iter()
            .filter_map(|f| f.strip_prefix("util:"))
            .map(|t| (t.to_string(), est(&format!("util:{t}"))))
            .collect();
        let mut slowest: Vec<(String, Vec<(String, Estimate)>)> = Vec::new();
        for f in &r.figures {
            let Some((obj, part)) = f.strip_prefix("tail:").and_then(|t| t.split_once(':')) else {
                continue;
            };
            let e = est(f);
            match slowest.iter_mut().find(|(o, _)| o == obj) {
                Some((_, parts)) => parts.push((part.to_string(), e)),
                None => slowest.push((obj.to_string(), vec![(part.to_string(), e)])),
            }
        }
        for (_, parts) in &mut slowest {
            parts.retain(|(_, e)| e.estimate.is_finite() && e.estimate > 0.0);
            parts.sort_by(|a, b| b.1.estimate.total_cmp(&a.1.estimate));
        }
        Probe {
            multiplier,
            replications: r.replications.len() as u64,
            breaching: r
                .samples("slos_breached")
                .iter()
                .filter(|&&x| x > 0.0)
                .count() as u64,
            objectives,
            latency_ms: est(metric),
            throughput_per_s: est("throughput_per_s"),
            error_rate: est("error_rate"),
            cost_usd: est("cost_usd"),
            utilization,
            slowest,
            errors_at: r
                .figures
                .iter()
                .filter_map(|f| f.strip_prefix("errs:"))
                .map(|t| (t.to_string(), est(&format!("errs:{t}"))))
                .collect(),
            timed_out: est("timed_out"),
        }
    }

    /// Where the errors came from: each tier's rejected and failed
    /// requests and the client timeouts, largest first, `api 1,234 (96%)`.
    pub fn error_sources(&self) -> Option<String> {
        let mut v: Vec<(String, f64)> = self
            .errors_at
            .iter()
            .map(|(t, e)| (t.clone(), e.estimate))
            .chain(std::iter::once((
                "client timeouts".to_string(),
                self.timed_out.estimate,
            )))
            .filter(|(_, n)| n.is_finite() && *n > 0.0)
            .collect();
        let total: f64 = v.iter().map(|(_, n)| n).sum();
        (total > 0.0).then(|| {
            v.sort_by(|a, b| b.1.total_cmp(&a.1));
            v.iter()
                .take(3)
                .map(|(t, n)| format!("{t} {} ({:.0}%)", fmt_num(*n), 100.0 * n / total))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// Where the slowest 1% of `objective`'s requests spent their time:
    /// the three largest parts, `host queue 67%, …`.
    pub fn slowest_parts(&self, objective: &str) -> Option<String> {
        let (_, parts) = self.slowest.iter().find(|(o, _)| o == objective)?;
        (!parts.is_empty()).then(|| {
            parts
                .iter()
                .take(3)
                .map(|(l, e)| format!("{l} {:.0}%", 100.0 * e.estimate))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// The tier with the highest mean utilisation.
    pub fn busiest(&self) -> Option<&(String, Estimate)> {
        self.utilization
            .iter()
            .filter(|(_, e)| e.estimate.is_finite())
            .max_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate))
    }

    fn verdict(&self) -> String {
        if self.breaching == 0 {
            "held".into()
        } else {
            format!("breached {}/{}", self.breaching, self.replications)
        }
    }
}

/// The search's result.
#[derive(Clone, Debug, Serialize)]
pub struct HeadroomReport {
    pub schema_version: u32,
    pub scenario: String,
    pub seed: u64,
    pub replications: u64,
    pub traffic: Traffic,
    /// The field the probes set, and its value in the scenario.
    pub field: String,
    pub field_base: f64,
    pub step: f64,
    pub max: f64,
    /// The latency figure shown (`p99`, …).
    pub metric: String,
    pub objectives: Vec<String>,
    /// The scenario's mean offered rate over its horizon (all classes), at ×1.
    pub base_rate_per_s: f64,
    /// End-to-end latency objectives: name and threshold (ms), for the plot.
    pub latency_objectives: Vec<(String, f64)>,
    /// Error-rate and availability objectives, whose breach the report
    /// explains by where errors came from.
    pub error_objectives: Vec<String>,
    /// By increasing multiplier.
    pub probes: Vec<Probe>,
    /// The largest multiplier up to which every probe held in every
    /// replication (`None`: it breaches at the smallest tried).
    pub holds_up_to: Option<f64>,
    /// The smallest multiplier where a replication breached.
    pub first_breach: Option<f64>,
    /// The smallest multiplier where every replication breached.
    pub breaks_from: Option<f64>,
    /// Objectives breached at `first_breach`, most replications first.
    pub breaks_first: Vec<(String, u64)>,
    /// The busiest tier at `first_breach` (else at the largest probe).
    pub busiest_tier: Option<(String, Estimate)>,
    /// The capacity check's saturation point, for comparison.
    pub laws: Option<Saturation>,
    /// False if a probe held above one that breached: more traffic helped
    /// somewhere (autoscaling that reacts to load can do that), so the
    /// bracket assumes what the probes contradict.
    pub monotone: bool,
    /// `capsim run` of the scenario as searched, without the multiplier.
    pub reproduce: String,
}

impl HeadroomReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scenario: &str,
        seed: u64,
        replications: u64,
        traffic: Traffic,
        field_base: f64,
        step: f64,
        max: f64,
        metric: &str,
        base_rate_per_s: f64,
        latency_objectives: Vec<(String, f64)>,
        error_objectives: Vec<String>,
        probes: Vec<Probe>,
        laws: Option<Saturation>,
        reproduce: String,
    ) -> HeadroomReport {
        let objectives = probes
            .first()
            .map(|p| p.objectives.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default();
        let first = probes.iter().position(|p| p.breaching > 0);
        let holds_up_to = match first {
            Some(0) => None,
            Some(i) => Some(probes[i - 1].multiplier),
            None => probes.last().map(|p| p.multiplier),
        };
        let first_breach = first.map(|i| probes[i].multiplier);
        let breaks_from = probes
            .iter()
            .find(|p| p.breaching == p.replications)
            .map(|p| p.multiplier);
        let monotone = first.is_none_or(|i| probes[i..].iter().all(|p| p.breaching > 0))
            && probes
                .windows(2)
                .all(|w| w[0].breaching < w[0].replications || w[1].breaching == w[1].replications);
        let at = first.or(probes.len().checked_sub(1));
        let mut breaks_first: Vec<(String, u64)> = first
            .map(|i| {
                probes[i]
                    .objectives
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        breaks_first.sort_by_key(|b| std::cmp::Reverse(b.1));
        let busiest_tier = at.and_then(|i| probes[i].busiest().cloned());
        HeadroomReport {
            schema_version: HEADROOM_SCHEMA_VERSION,
            scenario: scenario.to_string(),
            seed,
            replications,
            field: traffic.path(),
            traffic,
            field_base,
            step,
            max,
            metric: metric.to_string(),
            objectives,
            base_rate_per_s,
            latency_objectives,
            error_objectives,
            probes,
            holds_up_to,
            first_breach,
            breaks_from,
            breaks_first,
            busiest_tier,
            laws,
            monotone,
            reproduce,
        }
    }

    /// `capsim run` at multiplier `m`.
    pub fn run_command(&self, m: f64) -> String {
        format!(
            "{} --set {}={} --seed {} --replications {}",
            self.reproduce,
            self.field,
            self.field_base * m,
            self.seed,
            self.replications
        )
    }

    /// The answer in sentences: the bracket, what breaks first and where.
    pub fn conclusion(&self) -> String {
        let r = self.replications;
        let mut out = String::new();
        let x = |m: f64| format!("×{m}");
        match (self.holds_up_to, self.first_breach) {
            (Some(h), None) => {
                let _ = writeln!(
                    out,
                    "every objective holds up to {} (the largest multiplier tried) in all {r} replications: the headroom is at least {}; raise --max to look further",
                    x(h),
                    x(h)
                );
            }
            (None, Some(f)) => {
                let _ = writeln!(
                    out,
                    "an objective breaches already at {}, the smallest multiplier tried (--step)",
                    x(f)
                );
                if f <= 0.5 {
                    let _ = writeln!(
                        out,
                        "  at that little traffic it is not a matter of capacity: a fixed part of the requests' time (a network trip, a service time, a delay) breaks it at any load"
                    );
                }
            }
            (Some(h), Some(f)) => {
                let upper = match self.breaks_from {
                    Some(b) if b > f => format!(
                        "from {} some replications breach, from {} all {r} do",
                        x(f),
                        x(b)
                    ),
                    Some(b) => format!("from {} all {r} replications breach", x(b)),
                    None => format!(
                        "from {} some replications breach (none of the multipliers tried breached in all {r})",
                        x(f)
                    ),
                };
                let _ = writeln!(
                    out,
                    "headroom: every objective holds up to {} in all {r} replications; {upper}",
                    x(h)
                );
                if self.base_rate_per_s > 0.0 && self.traffic == Traffic::All {
                    let _ = writeln!(
                        out,
                        "  that is a mean offered load of {} req/s held, against {} req/s as written",
                        fmt_num(self.base_rate_per_s * h),
                        fmt_num(self.base_rate_per_s)
                    );
                }
            }
            (None, None) => {}
        }
        if !self.breaks_first.is_empty() {
            let names: Vec<String> = self
                .breaks_first
                .iter()
                .map(|(n, k)| format!("{n} ({k}/{r} replications)"))
                .collect();
            let _ = writeln!(
                out,
                "breaks first: {} at {}",
                names.join(", "),
                x(self.first_breach.unwrap_or(f64::NAN))
            );
        }
        if let Some((t, u)) = &self.busiest_tier {
            let _ = writeln!(
                out,
                "busiest tier there: {t} at {}% utilisation (± {})",
                fmt_num(u.estimate * 100.0),
                fmt_num(u.half_width() * 100.0)
            );
        }
        if let Some(w) = self.breaks_first_in() {
            let _ = writeln!(out, "{w}");
        }
        if let Some(s) = &self.laws {
            let _ = writeln!(
                out,
                "by the operational laws (no queueing, no autoscaling lag): {} reaches 100% of what it can reach at the peak at ×{}",
                s.resource,
                fmt_num(s.multiplier)
            );
        }
        if !self.monotone {
            let _ = writeln!(
                out,
                "note: the verdicts are not monotone in traffic (a probe held above one that breached), so the bracket is only as good as that assumption; see the table"
            );
        }
        if let Some(f) = self.first_breach {
            let _ = writeln!(out, "  reproduce: {}", self.run_command(f));
        }
        out
    }

    /// For a latency objective that breaks first, where its slowest
    /// requests' time went at the first breaching probe.
    fn breaks_first_in(&self) -> Option<String> {
        let f = self.first_breach?;
        let p = self.probes.iter().find(|p| p.multiplier == f)?;
        let lines: Vec<String> = self
            .breaks_first
            .iter()
            .filter_map(|(o, _)| {
                if self.error_objectives.contains(o) {
                    return p.error_sources().map(|e| {
                        format!("where {o}'s errors come from there, requests per replication: {e}")
                    });
                }
                p.slowest_parts(o).map(|parts| {
                    format!(
                        "where the slowest 1% of {o}'s requests spend their time there: {parts}"
                    )
                })
            })
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn rows(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut header: Vec<String> = vec![
            "multiplier".into(),
            "completed /s".into(),
            format!("{} ms", self.metric),
            "errors %".into(),
            "verdict".into(),
        ];
        header.extend(self.objectives.iter().cloned());
        header.push("busiest tier".into());
        let pm = |e: &Estimate, scale: f64| {
            let half = e.half_width() * scale;
            if half.is_finite() {
                format!("{} ± {}", fmt_num(e.estimate * scale), fmt_num(half))
            } else {
                fmt_num(e.estimate * scale)
            }
        };
        let rows = self
            .probes
            .iter()
            .map(|p| {
                let mut row = vec![
                    format!("×{}", p.multiplier),
                    fmt_num(p.throughput_per_s.estimate),
                    pm(&p.latency_ms, 1.0),
                    pm(&p.error_rate, 100.0),
                    p.verdict(),
                ];
                row.extend(p.objectives.iter().map(|(_, n)| {
                    if *n == 0 {
                        "met".to_string()
                    } else {
                        format!("{n}/{}", p.replications)
                    }
                }));
                row.push(p.busiest().map_or("–".into(), |(t, u)| {
                    format!("{t} {}%", fmt_num(u.estimate * 100.0))
                }));
                row
            })
            .collect();
        (header, rows)
    }

    /// The terminal view.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{}: headroom of {} ({} × m), {} replications per probe, seed {}, step {}; every probe sees the same traffic streams (common random numbers)\n\n",
            self.scenario,
            self.traffic.describe(),
            self.field,
            self.replications,
            self.seed,
            self.step
        );
        let (header, rows) = self.rows();
        let last = header.len() - 1;
        out.push_str(&aligned(&header, &rows, |i| i == 0 || i == last));
        out.push('\n');
        out.push_str(&self.conclusion());
        out
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a report always serialises");
        out.push(b'\n');
        out
    }

    /// `headroom.csv`: one row per probe.
    pub fn csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = [
            "multiplier",
            "field_value",
            "replications",
            "breaching",
            "throughput_per_s",
            "latency_ms",
            "latency_ms_lo",
            "latency_ms_hi",
            "error_rate",
            "cost_usd",
        ]
        .map(String::from)
        .to_vec();
        header[5] = format!("latency_{}_ms", self.metric);
        header[6] = format!("latency_{}_ms_lo", self.metric);
        header[7] = format!("latency_{}_ms_hi", self.metric);
        header.extend(self.objectives.iter().map(|o| format!("breached:{o}")));
        if let Some(p) = self.probes.first() {
            header.extend(p.utilization.iter().map(|(t, _)| format!("util:{t}")));
        }
        w.write_record(&header).expect("writing to memory");
        for p in &self.probes {
            let mut row = vec![
                p.multiplier.to_string(),
                (self.field_base * p.multiplier).to_string(),
                p.replications.to_string(),
                p.breaching.to_string(),
                p.throughput_per_s.estimate.to_string(),
                p.latency_ms.estimate.to_string(),
                p.latency_ms.ci95[0].to_string(),
                p.latency_ms.ci95[1].to_string(),
                p.error_rate.estimate.to_string(),
                p.cost_usd.estimate.to_string(),
            ];
            row.extend(p.objectives.iter().map(|(_, n)| n.to_string()));
            row.extend(p.utilization.iter().map(|(_, u)| u.estimate.to_string()));
            w.write_record(&row).expect("writing to memory");
        }
        w.into_inner().expect("writing to memory")
    }

    /// `report.md`: the answer, the probes and the plot.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# {}: headroom\n\nHow far can {} grow before an objective breaks? Each probe runs the scenario with `{}` at m × its value ({}), {} replications with seed {}: replication j sees the same random streams at every m, so the verdicts move together. A probe *holds* when no replication breached any objective.\n\n",
            self.scenario,
            self.traffic.describe(),
            self.field,
            fmt_num(self.field_base),
            self.replications,
            self.seed
        );
        out.push_str("## Answer\n\n");
        for l in self.conclusion().lines() {
            let _ = writeln!(out, "{}", l.trim_start());
            out.push('\n');
        }
        out.push_str("## Probes\n\n");
        let (header, rows) = self.rows();
        out.push_str(&markdown(&header, &rows));
        let _ = writeln!(
            out,
            "\n![{} against the traffic multiplier](plots/headroom.png)\n",
            self.metric
        );
        let _ = writeln!(
            out,
            "The search grows the multiplier from ×1 (doubling toward where the operational laws put saturation, by half past it) until every replication breaches, or halves it until none does, then bisects on a grid of {} twice: for the last multiplier where no replication breaches and the first where all do. Between the two, whether an objective holds depends on the replication: that is the uncertainty of a finite run, not a point to read off. See docs/explain.md.",
            self.step
        );
        out
    }
}

/// The files of a search: the report, and (apart, as drawing can fail) its
/// plot.
pub fn files(report: &HeadroomReport) -> (Vec<OutputFile>, Result<Vec<OutputFile>, String>) {
    let files = vec![
        OutputFile {
            relative: "headroom.json".into(),
            bytes: report.to_json(),
        },
        OutputFile {
            relative: "headroom.csv".into(),
            bytes: report.csv(),
        },
        OutputFile {
            relative: "report.md".into(),
            bytes: report.markdown().into_bytes(),
        },
    ];
    register_bundled_font();
    let mut plots = Vec::with_capacity(2);
    let drawn = render(&mut plots, "headroom", (1400, 800), &Plot { report }).map(|_| plots);
    (files, drawn)
}

const HELD: RGBColor = RGBColor(44, 160, 44);
const MIXED: RGBColor = RGBColor(255, 127, 14);
const WHISKER: RGBColor = RGBColor(150, 150, 150);
const OBJECTIVE: RGBColor = RGBColor(90, 90, 90);

struct Plot<'a> {
    report: &'a HeadroomReport,
}

impl Draw for Plot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.report;
        let body = page(
            root,
            &r.scenario,
            &format!("{} latency against traffic (×{})", r.metric, r.field),
        )?;
        let (area, legend_area) = with_legend(&body);
        let x_hi = r.probes.iter().map(|p| p.multiplier).fold(1.0, f64::max) * 1.05;
        let ys: Vec<f64> = r
            .probes
            .iter()
            .flat_map(|p| {
                [
                    p.latency_ms.estimate,
                    p.latency_ms.ci95[0],
                    p.latency_ms.ci95[1],
                ]
            })
            .chain(r.latency_objectives.iter().map(|o| o.1))
            .filter(|y| y.is_finite() && *y > 0.0)
            .collect();
        let y_min = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let y_max = ys.iter().copied().fold(0.0, f64::max);
        let caption = format!(
            "each probe: mean of {} replications, 95% CI whiskers; colour: replications that breached an objective",
            r.replications
        );
        let y_desc = format!("{} end-to-end latency (ms)", r.metric);
        if y_min.is_finite() && y_max / y_min > 30.0 {
            let (lo, hi) = (y_min / 1.3, y_max * 1.3);
            let mut chart = ChartBuilder::on(&area)
                .caption(caption, caption_font())
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(80)
                .build_cartesian_2d(
                    0.0..x_hi,
                    (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
                )
                .map_err(err)?;
            self.body(&mut chart, &format!("{y_desc}, log scale"), lo, hi)?;
        } else {
            let hi = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
            let mut chart = ChartBuilder::on(&area)
                .caption(caption, caption_font())
                .margin(16)
                .x_label_area_size(50)
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..x_hi, 0.0..hi)
                .map_err(err)?;
            self.body(&mut chart, &y_desc, 0.0, hi)?;
        }
        let mut legend = Legend::default();
        legend.push("every replication held", Mark::Swatch(HELD.filled()));
        legend.push("some replications breached", Mark::Swatch(MIXED.filled()));
        legend.push("every replication breached", Mark::Swatch(BREACH.filled()));
        legend.push("uncertain zone", Mark::Swatch(MIXED.mix(0.15).filled()));
        for (name, _) in &r.latency_objectives {
            legend.push(name.clone(), Mark::Dashed(OBJECTIVE));
        }
        legend.draw(&legend_area)
    }
}

impl Plot<'_> {
    /// Mesh, uncertain zone, objectives, whiskers and markers.
    fn body<DB: DrawingBackend, Y>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
        y_desc: &str,
        y_lo: f64,
        y_hi: f64,
    ) -> DrawResult
    where
        Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        let r = self.report;
        chart
            .configure_mesh()
            .x_desc("traffic multiplier")
            .y_desc(y_desc)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(label_font())
            .axis_desc_style(label_font())
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        // The uncertain zone: from the last multiplier that held to the first
        // where every replication breached.
        if let (Some(h), Some(b)) = (r.holds_up_to, r.breaks_from.or(r.first_breach)) {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(h, y_lo), (b, y_hi)],
                    MIXED.mix(0.15).filled(),
                )))
                .map_err(err)?;
        }
        let x_hi = chart.x_range().end;
        for (_, ms) in &r.latency_objectives {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, *ms), (x_hi, *ms)],
                    10,
                    6,
                    OBJECTIVE.stroke_width(2),
                ))
                .map_err(err)?;
        }
        let pts: Vec<&Probe> = r
            .probes
            .iter()
            .filter(|p| p.latency_ms.estimate.is_finite() && p.latency_ms.estimate > 0.0)
            .collect();
        for p in &pts {
            let e = &p.latency_ms;
            if e.ci95[0].is_finite() {
                let lo = e.ci95[0].max(y_lo);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p.multiplier, lo), (p.multiplier, e.ci95[1])],
                        WHISKER.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        chart
            .draw_series(pts.iter().map(|p| {
                let c = if p.breaching == 0 {
                    HELD
                } else if p.breaching < p.replications {
                    MIXED
                } else {
                    BREACH
                };
                Circle::new((p.multiplier, p.latency_ms.estimate), 6, c.filled())
            }))
            .map_err(err)?;
        Ok(())
    }
}

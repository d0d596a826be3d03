//! Two runs side by side (`capsim compare A B`): every figure of each, the
//! difference B − A and its 95% interval, as a terminal table, a markdown
//! table for a pull request, or JSON.
//!
//! ```text
//!   ReplicationTable A ─┐  same seed and replications: paired (sweep::Diff, as a sweep's points)
//!   ReplicationTable B ─┴► Comparison ──► table / markdown / JSON
//!                           otherwise: Welch's unpaired interval, and why
//! ```
//!
//! Replication `j` of two runs with one seed saw the same random streams
//! (common random numbers), so the per-replication differences cancel the
//! noise both runs share; that is the interval a sweep gives a point
//! against its baseline, and the same code.

use std::fmt::Write as _;

use serde::Serialize;
use sim_engine::Estimate;

use crate::replications::ReplicationTable;
use crate::sweep::{Diff, welch};
use crate::table::fmt_num;

pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// One side of a comparison: where it came from and its figures.
#[derive(Clone, Debug)]
pub struct Side {
    /// A run directory, or the scenario with its variant and overrides.
    pub source: String,
    pub table: ReplicationTable,
}

/// What the output says of a side.
#[derive(Clone, Debug, Serialize)]
pub struct SideInfo {
    pub source: String,
    pub scenario: String,
    pub seed: u64,
    /// The replications' indices (from 0).
    pub replications: Vec<u64>,
}

/// One figure of both sides and their difference.
#[derive(Clone, Debug, Serialize)]
pub struct FigureDiff {
    /// The figure's path in `summary.json` (see `replications.csv`).
    pub figure: String,
    pub a: Estimate,
    pub b: Estimate,
    /// B − A: its estimate and 95% interval, paired or not as the
    /// comparison says.
    pub difference: Estimate,
    /// The interval excludes 0.
    pub significant: bool,
}

/// The whole comparison: `capsim compare --json`.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub schema_version: u32,
    pub a: SideInfo,
    pub b: SideInfo,
    /// Whether the differences are paired by replication.
    pub paired: bool,
    /// Why they are paired or not, in words.
    pub pairing: String,
    /// The figures both sides have, A's order first.
    pub figures: Vec<FigureDiff>,
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
}

/// `b − a`, paired by replication (same indices, in the same order) or
/// unpaired (Welch) over each side's values.
pub fn difference(b: &[f64], a: &[f64], paired: bool) -> Estimate {
    if paired {
        let d = Diff::of(b, a);
        return Estimate {
            estimate: d.estimate,
            ci95: d.ci95,
        };
    }
    let clean = |x: &[f64]| -> Vec<f64> { x.iter().copied().filter(|v| !v.is_nan()).collect() };
    let (b, a) = (clean(b), clean(a));
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    Estimate {
        estimate: mean(&b) - mean(&a),
        ci95: welch(&b, &a),
    }
}

impl Comparison {
    /// Compares `b` against `a`. An error when no figure is in both.
    pub fn new(a: &Side, b: &Side) -> Result<Comparison, String> {
        let (ta, tb) = (&a.table, &b.table);
        let (paired, pairing) = if ta.seed != tb.seed {
            (
                false,
                format!(
                    "unpaired (Welch): the seeds differ (A {}, B {}); runs pair only with the same seed and replications",
                    ta.seed, tb.seed
                ),
            )
        } else if ta.replications != tb.replications {
            (
                false,
                format!(
                    "unpaired (Welch): the replications differ (A {}, B {}); runs pair only with the same seed and replications",
                    span(&ta.replications),
                    span(&tb.replications)
                ),
            )
        } else {
            (
                true,
                format!(
                    "paired by replication: seed {} and replications {} on both sides (common random numbers)",
                    ta.seed,
                    span(&ta.replications)
                ),
            )
        };
        let mut figures = Vec::new();
        let mut only_in_a = Vec::new();
        for (f, name) in ta.figures.iter().enumerate() {
            let Some(xb) = tb.samples(name) else {
                only_in_a.push(name.clone());
                continue;
            };
            let xa = &ta.values[f];
            let difference = difference(xb, xa, paired);
            figures.push(FigureDiff {
                figure: name.clone(),
                a: Estimate::from_samples(xa),
                b: Estimate::from_samples(xb),
                significant: difference.ci95[0] > 0.0 || difference.ci95[1] < 0.0,
                difference,
            });
        }
        let only_in_b: Vec<String> = tb
            .figures
            .iter()
            .filter(|f| ta.samples(f).is_none())
            .cloned()
            .collect();
        if figures.is_empty() {
            return Err(format!(
                "A ({}) and B ({}) have no figure in common: nothing to compare",
                a.source, b.source
            ));
        }
        let info = |s: &Side| SideInfo {
            source: s.source.clone(),
            scenario: s.table.scenario.clone(),
            seed: s.table.seed,
            replications: s.table.replications.clone(),
        };
        Ok(Comparison {
            schema_version: COMPARE_SCHEMA_VERSION,
            a: info(a),
            b: info(b),
            paired,
            pairing,
            figures,
            only_in_a,
            only_in_b,
        })
    }

    /// The comparison as JSON, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a comparison always serialises");
        out.push(b'\n');
        out
    }

    /// The figures a table shows, by section: with `all`, every one; else
    /// the key figures of each, and not those that are 0 on both sides.
    fn shown(&self, all: bool) -> Vec<(&FigureDiff, Label)> {
        // One class's figures are those of all classes: shown once.
        let mut classes: Vec<&str> = self
            .figures
            .iter()
            .filter_map(|f| f.figure.strip_prefix("classes.")?.split('.').next())
            .collect();
        classes.dedup();
        let one_class = classes.len() == 1;
        let mut shown: Vec<(&FigureDiff, Label)> = self
            .figures
            .iter()
            .filter(|f| {
                all || (key_figure(&f.figure)
                    && !(one_class && f.figure.starts_with("classes."))
                    && !(f.a.estimate == 0.0
                        && f.b.estimate == 0.0
                        && f.a.half_width() == 0.0
                        && f.b.half_width() == 0.0))
            })
            .map(|f| (f, label(&f.figure)))
            .collect();
        // Stable: within a section, the summary's order.
        shown.sort_by_key(|(_, l)| SECTIONS.iter().position(|s| *s == l.0));
        shown
    }

    fn cells(&self, f: &FigureDiff) -> [String; 4] {
        let n = |s: &SideInfo| s.replications.len();
        let (a, b) = if f.figure.ends_with(".breached") {
            (verdict(&f.a, n(&self.a)), verdict(&f.b, n(&self.b)))
        } else {
            (plus_minus(&f.a), plus_minus(&f.b))
        };
        let d = &f.difference;
        let diff = if d.estimate.is_finite() {
            format!(
                "{}{}",
                if d.estimate > 0.0 { "+" } else { "" },
                fmt_num(d.estimate)
            )
        } else {
            "–".into()
        };
        let ci = if d.ci95.iter().all(|x| x.is_finite()) {
            format!("[{}, {}]", fmt_num(d.ci95[0]), fmt_num(d.ci95[1]))
        } else {
            String::new()
        };
        [a, b, diff, ci]
    }

    fn heading(&self) -> String {
        let side = |s: &SideInfo| {
            let n = s.replications.len();
            format!(
                "{} (seed {}, {n} replication{}; {})",
                s.scenario,
                s.seed,
                if n == 1 { "" } else { "s" },
                s.source
            )
        };
        format!("A = {}\nB = {}", side(&self.a), side(&self.b))
    }

    /// What the table left out, and the figures one side lacks.
    fn footnotes(&self, shown: usize, code: &str) -> String {
        let mut out = String::new();
        let hidden = self.figures.len() - shown;
        if hidden > 0 {
            let _ = writeln!(
                out,
                "{hidden} more figures (per unit, retries, 0 on both sides, ...) with {code}all or {code}json"
            );
        }
        for (side, list) in [("A", &self.only_in_a), ("B", &self.only_in_b)] {
            if !list.is_empty() {
                // By what they belong to (a unit, a class, ...): one name each.
                let mut owners: Vec<&str> = list
                    .iter()
                    .map(|f| f.rsplit_once('.').map_or(f.as_str(), |(o, _)| o))
                    .collect();
                owners.dedup();
                let _ = writeln!(
                    out,
                    "only in {side} ({} figure{}): {}",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" },
                    owners.join(", ")
                );
            }
        }
        out
    }

    /// The terminal table: a section per kind of figure, each figure on
    /// one line; `*` marks a difference whose interval excludes 0.
    pub fn table(&self, all: bool) -> String {
        let mut out = format!(
            "{}\ndifferences B − A, {}; 95% CI, * excludes 0\n",
            self.heading(),
            self.pairing
        );
        let shown = self.shown(all);
        let entity_width = shown
            .iter()
            .map(|(_, l)| l.1.chars().count())
            .max()
            .unwrap_or(0);
        let mut blocks: Vec<(&str, Vec<Vec<String>>)> = Vec::new();
        let mut last_entity = "";
        for (f, (sec, entity, name)) in &shown {
            if blocks.last().is_none_or(|b| b.0 != *sec) {
                blocks.push((sec, Vec::new()));
                last_entity = "";
            }
            // An entity's name once, on its first line.
            let who = if entity.as_str() == last_entity {
                ""
            } else {
                entity.as_str()
            };
            last_entity = entity;
            let pad = entity_width - who.chars().count();
            let [a, b, d, ci] = self.cells(f);
            let mark = if f.significant { "*" } else { "" };
            let row = vec![
                format!("  {who}{}  {name}", " ".repeat(pad)),
                a,
                b,
                d,
                ci,
                mark.into(),
            ];
            blocks.last_mut().expect("pushed above").1.push(row);
        }
        let header = ["", "A", "B", "B − A", "95% CI", ""].map(String::from);
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for (title, rows) in &blocks {
            widths[0] = widths[0].max(title.chars().count());
            for r in rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        for (title, rows) in &blocks {
            out.push('\n');
            let mut head = header.clone();
            head[0] = title.to_string();
            out.push_str(&aligned(&head, &widths));
            for r in rows {
                out.push_str(&aligned(r, &widths));
            }
        }
        let notes = self.footnotes(shown.len(), "--");
        if !notes.is_empty() {
            out.push('\n');
            out.push_str(&notes);
        }
        out
    }

    /// A markdown table for a pull request: the same figures as the
    /// terminal table, a difference whose interval excludes 0 in bold.
    pub fn markdown(&self, all: bool) -> String {
        let cell = |s: &str| s.replace('|', "\\|");
        let mut out = String::from("### capsim compare\n\n");
        for (k, s) in [("A", &self.a), ("B", &self.b)] {
            let n = s.replications.len();
            let _ = writeln!(
                out,
                "- **{k}**: `{}`, seed {}, {n} replication{} ({})",
                cell(&s.scenario),
                s.seed,
                if n == 1 { "" } else { "s" },
                cell(&s.source)
            );
        }
        let _ = writeln!(
            out,
            "\nDifferences B − A, {}; 95% CI; **bold**: the CI excludes 0.\n",
            self.pairing
        );
        out.push_str("| figure | | A | B | B − A | 95% CI |\n|---|---|--:|--:|--:|--:|\n");
        let shown = self.shown(all);
        for (f, (sec, entity, name)) in &shown {
            let [a, b, d, ci] = self.cells(f);
            let d = if f.significant { format!("**{d}**") } else { d };
            let _ = writeln!(
                out,
                "| {} · {} | {} | {} | {} | {d} | {ci} |",
                cell(sec),
                cell(entity),
                cell(name),
                cell(&a),
                cell(&b)
            );
        }
        let notes = self.footnotes(shown.len(), "--");
        if !notes.is_empty() {
            out.push('\n');
            for l in notes.lines() {
                let _ = writeln!(out, "{}  ", cell(l));
            }
        }
        out
    }
}

/// First and last index, or the count when they are not a run of indices.
fn span(reps: &[u64]) -> String {
    match (reps.first(), reps.last()) {
        (Some(f), Some(l)) if (l - f) as usize + 1 == reps.len() => {
            if f == l {
                format!("{f}")
            } else {
                format!("{f}–{l}")
            }
        }
        _ => format!("{} of them", reps.len()),
    }
}

/// A row: the first cell left-aligned, the others right-aligned.
fn aligned(cells: &[String], widths: &[usize]) -> String {
    let mut s = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        let pad = w - c.chars().count();
        if i == 0 {
            s.push_str(c);
            s.push_str(&" ".repeat(pad));
        } else {
            s.push_str("   ");
            s.push_str(&" ".repeat(pad));
            s.push_str(c);
        }
    }
    s.trim_end().to_string() + "\n"
}

/// "estimate ± half-width", or the estimate alone without an interval.
fn plus_minus(e: &Estimate) -> String {
    let half = e.half_width();
    if half.is_finite() {
        format!("{} ± {}", fmt_num(e.estimate), fmt_num(half))
    } else {
        fmt_num(e.estimate)
    }
}

/// An objective's verdict from the share of replications that breached it.
fn verdict(share: &Estimate, n: usize) -> String {
    if !share.estimate.is_finite() {
        return "–".into();
    }
    let k = (share.estimate * n as f64).round() as usize;
    if k == 0 {
        "met".into()
    } else {
        format!("breached {k}/{n}")
    }
}

/// The figures a table shows by default: what a reviewer looks at first.
fn key_figure(path: &str) -> bool {
    let p: Vec<&str> = path.split('.').collect();
    const REQUESTS: [&str; 5] = ["arrived", "completed", "failed", "rejected", "timed_out"];
    match p.as_slice() {
        ["requests", k] => REQUESTS.contains(k),
        ["throughput_per_s"] | ["latency_ms", _] => true,
        ["classes" | "regions", _, "latency_ms", _] => true,
        ["classes" | "regions", _, "requests", k] => REQUESTS.contains(k),
        // A tier's cost is in the cost section.
        ["tiers", _, k] => *k != "cost_usd",
        [
            "cost_usd",
            "total" | "per_hour" | "peak_per_hour" | "per_million_requests",
        ] => true,
        ["cost_usd", "tiers", _, "total"] | ["cost_usd", "traffic", _] => true,
        ["cost_usd", "load_balancer", "total"] => true,
        ["slos", _, "breached" | "breach_minutes" | "budget_consumed"] => true,
        ["scaling", _, "peak" | "actions"] => true,
        _ => false,
    }
}

/// A figure's section, entity (class, tier, ...) and name in the tables.
type Label = (&'static str, String, String);

/// The tables' sections, in order.
const SECTIONS: [&str; 9] = [
    "requests per replication",
    "latency (ms)",
    "regions",
    "tiers",
    "units",
    "scaling",
    "cost (USD)",
    "objectives",
    "other",
];

fn label(path: &str) -> Label {
    let p: Vec<&str> = path.split('.').collect();
    let s = |x: &str| x.to_string();
    let requests = "requests per replication";
    let latency = "latency (ms)";
    match p.as_slice() {
        ["requests", k] => (requests, s("all classes"), s(k)),
        ["throughput_per_s"] => (requests, s("all classes"), s("throughput /s")),
        ["latency_ms", k] => (latency, s("all classes"), s(k)),
        ["classes", c, "latency_ms", k] => (latency, s(c), s(k)),
        ["classes", c, "requests", k] => (requests, s(c), s(k)),
        ["regions", r, "latency_ms", k] => (latency, format!("users in {r}"), s(k)),
        ["regions", r, "requests", k] => (requests, format!("users in {r}"), s(k)),
        ["regions", r, rest @ ..] => ("regions", format!("users in {r}"), rest.join(".")),
        ["tiers", t, "units", u, rest @ ..] => ("units", format!("{t}/{u}"), rest.join(".")),
        ["tiers", t, rest @ ..] => ("tiers", s(t), rest.join(".")),
        ["cost_usd", "tiers", t, rest @ ..] => ("cost (USD)", s(t), rest.join(".")),
        ["cost_usd", "traffic", k] => ("cost (USD)", s("traffic"), s(k)),
        ["cost_usd", "load_balancer", k] => ("cost (USD)", s("load balancers"), s(k)),
        ["cost_usd", rest @ ..] => ("cost (USD)", s("all tiers"), rest.join(".")),
        ["slos", o, rest @ ..] => ("objectives", s(o), rest.join(".")),
        ["scaling", t, rest @ ..] => ("scaling", s(t), rest.join(".")),
        _ => ("other", String::new(), s(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(seed: u64, figures: &[(&str, Vec<f64>)]) -> Side {
        Side {
            source: "test".into(),
            table: ReplicationTable {
                scenario: "s".into(),
                seed,
                replications: (0..figures[0].1.len() as u64).collect(),
                figures: figures.iter().map(|f| f.0.to_string()).collect(),
                values: figures.iter().map(|f| f.1.clone()).collect(),
            },
        }
    }

    #[test]
    fn a_run_against_itself_differs_by_exactly_zero() {
        let x = vec![101.5, 250.25, 99.0, 180.75, 133.0];
        let a = side(7, &[("latency_ms.p99", x.clone())]);
        let c = Comparison::new(&a, &a).unwrap();
        assert!(c.paired);
        let d = &c.figures[0].difference;
        assert_eq!(d.estimate, 0.0);
        assert_eq!(d.ci95, [0.0, 0.0]);
        assert!(!c.figures[0].significant);
    }

    #[test]
    fn a_known_difference_is_recovered_and_pairing_narrows_it() {
        // Large shared swings between replications, a difference of 10 ± 2.
        let noise = [100.0, 300.0, 150.0, 400.0, 250.0, 50.0];
        let a: Vec<f64> = noise.to_vec();
        let b: Vec<f64> = noise
            .iter()
            .zip([9.0, 11.0, 10.0, 12.0, 8.0, 10.0])
            .map(|(n, e)| n + e)
            .collect();
        let sa = side(3, &[("cost_usd.total", a.clone())]);
        let sb = side(3, &[("cost_usd.total", b.clone())]);
        let c = Comparison::new(&sa, &sb).unwrap();
        let d = &c.figures[0].difference;
        assert!((d.estimate - 10.0).abs() < 1e-9, "{d:?}");
        assert!(d.ci95[0] > 7.0 && d.ci95[1] < 13.0, "{d:?}");
        assert!(c.figures[0].significant);
        // Another seed: no pairing, and the shared noise swamps the difference.
        let sb = side(4, &[("cost_usd.total", b)]);
        let c = Comparison::new(&sa, &sb).unwrap();
        assert!(
            !c.paired && c.pairing.contains("seeds differ"),
            "{}",
            c.pairing
        );
        let d = &c.figures[0].difference;
        assert!((d.estimate - 10.0).abs() < 1e-9);
        assert!(!c.figures[0].significant, "{d:?}");
        // An exact shift in every replication is certain.
        let shifted: Vec<f64> = a.iter().map(|x| x + 5.0).collect();
        let c = Comparison::new(&sa, &side(3, &[("cost_usd.total", shifted)])).unwrap();
        assert_eq!(c.figures[0].difference.ci95, [5.0, 5.0]);
        assert!(c.figures[0].significant);
    }

    #[test]
    fn figures_on_one_side_only_are_listed() {
        let a = side(
            1,
            &[
                ("latency_ms.p99", vec![1.0, 2.0]),
                ("tiers.db.utilization", vec![0.5, 0.6]),
            ],
        );
        let b = side(
            1,
            &[
                ("latency_ms.p99", vec![1.0, 2.5]),
                ("tiers.cache.utilization", vec![0.1, 0.2]),
            ],
        );
        let c = Comparison::new(&a, &b).unwrap();
        assert_eq!(c.only_in_a, ["tiers.db.utilization"]);
        assert_eq!(c.only_in_b, ["tiers.cache.utilization"]);
        assert!(c.table(false).contains("only in B (1 figure): tiers.cache"));
        let none = side(1, &[("x", vec![1.0, 2.0])]);
        assert!(Comparison::new(&none, &b).is_err());
    }
}

//! The scenario's expectations judged against its results, and its
//! assumptions: the "the seed says / capsim finds / verdict" table of
//! `report.md`, the terminal table and `summary.json` (`expectations`,
//! `assumptions`; `windows.json` for a run in windows).
//!
//! A result is read from the results file's own JSON by its dotted path, so
//! every figure a run reports can be judged. A figure with a confidence
//! interval agrees when the whole interval meets the bound, disagrees when
//! none of it does, and is undecided when the interval straddles the bound:
//! more replications (or a longer run) decide it.

use std::fmt::Write as _;

use capsim_models::{Assumption, Bound, Expectation};
use serde::Serialize;
use serde_json::Value;
use sim_engine::Estimate;

use crate::report::cell;
use crate::table::{Grid, est_cells, fmt_num};

/// How a result compares with what the document expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole confidence interval meets the bound.
    Agrees,
    /// None of it does.
    Disagrees,
    /// The interval straddles the bound.
    Undecided,
    /// The result is NaN (nothing measured, e.g. no job ran).
    NoData,
    /// An expectation of other runs (a variant, or the scenario without
    /// one): not judged in this run.
    OtherVariant,
    /// The results have no such figure, or it is not a number (or yes/no)
    /// as the bound needs: a mistake in the scenario.
    BadMetric,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Agrees => "agrees",
            Verdict::Disagrees => "DISAGREES",
            Verdict::Undecided => "undecided",
            Verdict::NoData => "no data",
            Verdict::OtherVariant => "other run",
            Verdict::BadMetric => "bad metric",
        }
    }
}

/// What the document expects, as `summary.json` writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expected {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is: Option<bool>,
}

/// The result an expectation was judged on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Found {
    Estimate(Estimate),
    Number(f64),
    Yes(bool),
}

/// One expectation and its verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judged {
    pub claim: String,
    pub source: String,
    pub metric: String,
    pub expected: Expected,
    /// The runs it is judged in (empty: every run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `null` when not judged (another variant's, or no such figure).
    pub found: Option<Found>,
    pub verdict: Verdict,
    /// Why the verdict, in a sentence (which part of the interval meets the
    /// bound, or what is wrong with the metric).
    pub why: String,
    /// Where the expectation is written, for messages (not in the JSON).
    #[serde(skip)]
    pub located: String,
}

/// An assumption as the outputs show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssumptionRow {
    pub input: String,
    pub value: String,
    pub why: String,
}

impl From<&Assumption> for AssumptionRow {
    fn from(a: &Assumption) -> Self {
        AssumptionRow {
            input: a.input.clone(),
            value: a.value.clone(),
            why: a.why.clone(),
        }
    }
}

/// The expectations judged on `results` (a results file serialised to JSON,
/// for a run of `variant`) and the assumptions' rows: what `summary.json`
/// and `windows.json` carry.
pub fn claims_of<T: Serialize>(
    results: &T,
    expectations: &[Expectation],
    assumptions: &[Assumption],
    variant: Option<&str>,
) -> (Vec<Judged>, Vec<AssumptionRow>) {
    let judged = if expectations.is_empty() {
        Vec::new()
    } else {
        let json = serde_json::to_value(results).expect("a results file always serialises");
        judge(&json, expectations, variant)
    };
    (
        judged,
        assumptions.iter().map(AssumptionRow::from).collect(),
    )
}

/// Judges `expectations` against `results` (the results file's JSON) for a
/// run of `variant`.
pub fn judge(results: &Value, expectations: &[Expectation], variant: Option<&str>) -> Vec<Judged> {
    expectations
        .iter()
        .map(|e| {
            let this = variant.unwrap_or("base");
            let (found, verdict, why) = if e.runs.is_empty() || e.runs.iter().any(|r| r == this) {
                judge_one(results, &e.metric, e.bound)
            } else {
                let runs: Vec<String> = e
                    .runs
                    .iter()
                    .map(|r| match r.as_str() {
                        "base" => "the scenario without a variant".to_string(),
                        v => format!("`--variant {v}`"),
                    })
                    .collect();
                (
                    None,
                    Verdict::OtherVariant,
                    format!("judged in a run of {}", runs.join(" or ")),
                )
            };
            Judged {
                claim: e.claim.clone(),
                source: e.source.clone(),
                metric: e.metric.join("."),
                expected: match e.bound {
                    Bound::Range { at_least, at_most } => Expected {
                        at_least,
                        at_most,
                        equals: None,
                        is: None,
                    },
                    Bound::Equals(x) => Expected {
                        at_least: None,
                        at_most: None,
                        equals: Some(x),
                        is: None,
                    },
                    Bound::Is(b) => Expected {
                        at_least: None,
                        at_most: None,
                        equals: None,
                        is: Some(b),
                    },
                },
                runs: e.runs.clone(),
                note: e.note.clone(),
                found,
                verdict,
                why,
                located: e.located.clone(),
            }
        })
        .collect()
}

/// Marks a list index past the end in [`lookup`]'s message.
const OUT_OF_RANGE: &str = "\u{0}";

/// Follows `path` through `root`: object keys, list indices.
fn lookup<'a>(root: &'a Value, path: &[String]) -> Result<&'a Value, String> {
    let mut cur = root;
    for (depth, key) in path.iter().enumerate() {
        let here = path[..depth].join(".");
        let next = match cur {
            Value::Object(m) => m.get(key.as_str()).ok_or_else(|| {
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                if here.is_empty() {
                    format!("the results have no `{key}`")
                } else {
                    format!(
                        "`{here}` has no `{key}` (it has: {})",
                        if keys.is_empty() {
                            "nothing".to_string()
                        } else {
                            keys.join(", ")
                        }
                    )
                }
            })?,
            Value::Array(a) => {
                let i: usize = key.parse().map_err(|_| {
                    format!(
                        "`{here}` is a list of {}: address an entry by its index (0 to {})",
                        a.len(),
                        a.len().saturating_sub(1)
                    )
                })?;
                a.get(i).ok_or_else(|| {
                    format!(
                        "{OUT_OF_RANGE}`{here}` has {} entries in this run, so {i} does not exist",
                        a.len()
                    )
                })?
            }
            _ => return Err(format!("`{here}` is a single value, with no `{key}`")),
        };
        cur = next;
    }
    Ok(cur)
}

/// An estimate as the results write it: `{"estimate": x, "ci95": [lo, hi]}`
/// (`null`s for NaN).
fn as_estimate(v: &Value) -> Option<Estimate> {
    let m = v.as_object()?;
    if m.len() != 2 {
        return None;
    }
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let estimate = num(m.get("estimate")?);
    let ci = m.get("ci95")?.as_array()?;
    Some(Estimate {
        estimate,
        ci95: [num(ci.first()?), num(ci.get(1)?)],
    })
}

fn judge_one(results: &Value, path: &[String], bound: Bound) -> (Option<Found>, Verdict, String) {
    let bad = |why: String| (None, Verdict::BadMetric, why);
    let v = match lookup(results, path) {
        Ok(v) => v,
        // A shorter run than the scenario's (`--set windows.count=5`) has
        // fewer entries: nothing to judge there, not a mistake.
        Err(why) => match why.strip_prefix(OUT_OF_RANGE) {
            Some(why) => return (None, Verdict::NoData, why.to_string()),
            None => return bad(why),
        },
    };
    let metric = path.join(".");
    match (bound, v) {
        (Bound::Is(want), Value::Bool(b)) => {
            let verdict = if *b == want {
                Verdict::Agrees
            } else {
                Verdict::Disagrees
            };
            (Some(Found::Yes(*b)), verdict, format!("{metric} is {b}"))
        }
        (Bound::Is(_), _) => bad(format!(
            "`{metric}` is not a yes/no result: bound it with at_least/at_most or equals"
        )),
        (_, Value::Bool(_)) => bad(format!(
            "`{metric}` is a yes/no result: judge it with is = true or false"
        )),
        (bound, v) => {
            let (found, e) = if let Some(n) = v.as_f64() {
                (
                    Found::Number(n),
                    Estimate {
                        estimate: n,
                        ci95: [n, n],
                    },
                )
            } else if let Some(e) = as_estimate(v) {
                (Found::Estimate(e), e)
            } else if v.is_null() {
                return (
                    None,
                    Verdict::NoData,
                    format!("`{metric}` has no value in this run"),
                );
            } else {
                let what = match v {
                    Value::Object(m) => format!(
                        "a group of figures ({}): pick one",
                        m.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    Value::Array(_) => "a list: pick an entry by its index".to_string(),
                    _ => "not a number".to_string(),
                };
                return bad(format!("`{metric}` is {what}"));
            };
            let (verdict, why) = match bound {
                Bound::Range { at_least, at_most } => range_verdict(e, at_least, at_most),
                Bound::Equals(x) => equals_verdict(e, x),
                Bound::Is(_) => unreachable!("a yes/no bound took the arms above"),
            };
            (Some(found), verdict, why)
        }
    }
}

/// The interval a verdict reads: the 95% CI, or the estimate alone with
/// one replication; `None` when nothing was measured.
fn interval(e: &Estimate) -> Option<(f64, f64, bool)> {
    if e.estimate.is_nan() {
        return None;
    }
    let no_ci = e.ci95[0].is_nan() || e.ci95[1].is_nan();
    Some(if no_ci {
        (e.estimate, e.estimate, true)
    } else {
        (e.ci95[0], e.ci95[1], false)
    })
}

fn nothing_measured() -> (Verdict, String) {
    (Verdict::NoData, "nothing was measured".to_string())
}

/// The verdict of an estimate against inclusive bounds. Without an interval
/// (one replication) the estimate alone decides, and the reason says so.
fn range_verdict(e: Estimate, at_least: Option<f64>, at_most: Option<f64>) -> (Verdict, String) {
    let Some((lo, hi, no_ci)) = interval(&e) else {
        return nothing_measured();
    };
    let meets = at_least.is_none_or(|a| lo >= a) && at_most.is_none_or(|b| hi <= b);
    let misses = at_least.is_some_and(|a| hi < a) || at_most.is_some_and(|b| lo > b);
    let what = if no_ci {
        format!("{} (one replication: no interval)", fmt_num(e.estimate))
    } else if lo == hi {
        format!("{} in every replication", fmt_num(lo))
    } else {
        format!("95% CI [{}, {}]", fmt_num(lo), fmt_num(hi))
    };
    if meets {
        (Verdict::Agrees, format!("{what} within the bound"))
    } else if misses {
        (Verdict::Disagrees, format!("{what} outside the bound"))
    } else {
        (
            Verdict::Undecided,
            format!("{what} straddles the bound: more replications decide it"),
        )
    }
}

/// A bound as written: whole numbers without decimals.
fn bound_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        crate::table::fmt_num(x)
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        fmt_num(x)
    }
}

/// The verdict of an estimate against a value its interval should contain
/// (the test of a simulation against theory, or of a model against an
/// observation).
fn equals_verdict(e: Estimate, x: f64) -> (Verdict, String) {
    let Some((lo, hi, no_ci)) = interval(&e) else {
        return nothing_measured();
    };
    let what = if no_ci {
        format!("{} (one replication: no interval)", fmt_num(e.estimate))
    } else {
        format!("95% CI [{}, {}]", fmt_num(lo), fmt_num(hi))
    };
    if lo <= x && x <= hi {
        (Verdict::Agrees, format!("{what} contains {}", fmt_num(x)))
    } else {
        (
            Verdict::Disagrees,
            format!("{what} does not contain {}", fmt_num(x)),
        )
    }
}

/// The bound as people read it.
pub fn expected_text(x: &Expected) -> String {
    if let Some(v) = x.equals {
        return format!("{} (in the CI)", fmt_num(v));
    }
    match (x.at_least, x.at_most, x.is) {
        (_, _, Some(b)) => format!("{b}"),
        (Some(a), Some(b), None) if a == b => format!("= {}", bound_num(a)),
        (Some(a), Some(b), None) => format!("{} to {}", bound_num(a), bound_num(b)),
        (Some(a), None, None) => format!("≥ {}", bound_num(a)),
        (None, Some(b), None) => format!("≤ {}", bound_num(b)),
        (None, None, None) => String::new(),
    }
}

/// The result found, as people read it.
pub fn found_text(f: &Option<Found>) -> String {
    match f {
        None => "–".to_string(),
        Some(Found::Yes(b)) => b.to_string(),
        Some(Found::Number(n)) => fmt_num(*n),
        Some(Found::Estimate(e)) => {
            let (v, ci) = est_cells(e, 1.0);
            if ci.is_empty() {
                v
            } else {
                format!("{v} {ci}")
            }
        }
    }
}

/// The problems a run's expectations have (a metric the results lack), each
/// with where it is written: bad input, reported after the files are
/// written.
pub fn problems(judged: &[Judged]) -> Vec<String> {
    judged
        .iter()
        .filter(|j| j.verdict == Verdict::BadMetric)
        .map(|j| format!("{}{}", j.located, j.why))
        .collect()
}

/// The expectations the run contradicts, for `--check`.
pub fn contradicted(judged: &[Judged]) -> Vec<String> {
    judged
        .iter()
        .filter(|j| j.verdict == Verdict::Disagrees)
        .map(|j| {
            format!(
                "expectation \"{}\" ({}): {} is {}, expected {}",
                j.claim,
                j.source,
                j.metric,
                found_text(&j.found),
                expected_text(&j.expected)
            )
        })
        .collect()
}

/// `report.md`'s sections: the seed's expectations beside the findings,
/// then the assumptions.
pub fn report_section(o: &mut String, judged: &[Judged], assumptions: &[AssumptionRow]) {
    if !judged.is_empty() {
        let _ = writeln!(o, "## The seed says, capsim finds\n");
        let _ = writeln!(
            o,
            "Each expectation of the scenario's source document, judged on this run: \
             *agrees* when the whole 95% confidence interval meets the bound, \
             *disagrees* when none of it does, *undecided* when the interval straddles it.\n"
        );
        let _ = writeln!(
            o,
            "| The seed says | Source | Figure | Expected | capsim finds | Verdict |"
        );
        let _ = writeln!(o, "|---|---|---|---:|---:|---|");
        for j in judged {
            let figure = match &j.note {
                Some(n) => format!("`{}` ({})", j.metric, n),
                None => format!("`{}`", j.metric),
            };
            let verdict = match j.verdict {
                Verdict::Agrees => "agrees".to_string(),
                Verdict::Disagrees => "**disagrees**".to_string(),
                other => format!("{}: {}", other.label(), j.why),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&j.claim),
                cell(&j.source),
                cell(&figure),
                cell(&expected_text(&j.expected)),
                cell(&found_text(&j.found)),
                cell(&verdict)
            );
        }
        o.push('\n');
    }
    if !assumptions.is_empty() {
        let _ = writeln!(o, "## Assumptions\n");
        let _ = writeln!(
            o,
            "Inputs the source document does not give, with the value this run used and why.\n"
        );
        let _ = writeln!(o, "| Input | Value | Why |");
        let _ = writeln!(o, "|---|---|---|");
        for a in assumptions {
            let _ = writeln!(
                o,
                "| `{}` | `{}` | {} |",
                cell(&a.input),
                cell(&a.value),
                cell(&a.why)
            );
        }
        o.push('\n');
    }
}

/// The terminal table's section: one row per expectation.
pub fn table_section(out: &mut String, judged: &[Judged]) {
    let mut g = Grid::new(&["the seed says", "expected", "capsim finds", "verdict"]);
    for j in judged {
        g.push_estimates(
            &j.claim,
            &[
                (expected_text(&j.expected), String::new()),
                (found_text(&j.found), String::new()),
                (j.verdict.label().to_string(), String::new()),
            ],
        );
    }
    g.render(out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exp(metric: &str, bound: Bound) -> Expectation {
        Expectation {
            claim: "claim".into(),
            source: "seed".into(),
            metric: metric.split('.').map(str::to_string).collect(),
            bound,
            runs: Vec::new(),
            note: None,
            located: "x.toml:3:10: field `expectations[0].metric`: ".into(),
        }
    }

    fn at_most(b: f64) -> Bound {
        Bound::Range {
            at_least: None,
            at_most: Some(b),
        }
    }

    fn results() -> Value {
        json!({
            "latency_ms": {"p95": {"estimate": 190.0, "ci95": [180.0, 200.0]}},
            "one": {"estimate": 250.0, "ci95": [null, null]},
            "slos": {"a": {"met": false}},
            "scaling": {"api": {"peak": {"estimate": 10.0, "ci95": [10.0, 10.0]}}},
            "windows": [{"n": 1.0}, {"n": 2.0}],
            "none": {"estimate": null, "ci95": [null, null]},
        })
    }

    fn verdict(metric: &str, bound: Bound) -> (Verdict, String) {
        let j = judge(&results(), &[exp(metric, bound)], None);
        (j[0].verdict, j[0].why.clone())
    }

    #[test]
    fn the_whole_interval_decides_and_a_straddling_one_is_undecided() {
        assert_eq!(verdict("latency_ms.p95", at_most(200.0)).0, Verdict::Agrees);
        assert_eq!(
            verdict("latency_ms.p95", at_most(170.0)).0,
            Verdict::Disagrees
        );
        let (v, why) = verdict("latency_ms.p95", at_most(195.0));
        assert_eq!(v, Verdict::Undecided);
        assert!(why.contains("[180.0, 200.0]"), "{why}");
        let between = Bound::Range {
            at_least: Some(10.0),
            at_most: Some(10.0),
        };
        assert_eq!(verdict("scaling.api.peak", between).0, Verdict::Agrees);
    }

    #[test]
    fn an_exact_value_agrees_when_the_interval_contains_it() {
        assert_eq!(
            verdict("latency_ms.p95", Bound::Equals(185.0)).0,
            Verdict::Agrees
        );
        let (v, why) = verdict("latency_ms.p95", Bound::Equals(201.0));
        assert_eq!(v, Verdict::Disagrees);
        assert!(why.contains("does not contain 201"), "{why}");
        assert_eq!(
            verdict("slos.a.met", Bound::Equals(1.0)).0,
            Verdict::BadMetric
        );
    }

    #[test]
    fn one_replication_is_judged_on_its_estimate_and_says_so() {
        let (v, why) = verdict("one", at_most(200.0));
        assert_eq!(v, Verdict::Disagrees);
        assert!(why.contains("one replication"), "{why}");
        assert_eq!(verdict("none", at_most(1.0)).0, Verdict::NoData);
    }

    #[test]
    fn yes_no_results_take_is_and_lists_take_indices() {
        assert_eq!(verdict("slos.a.met", Bound::Is(false)).0, Verdict::Agrees);
        assert_eq!(verdict("slos.a.met", Bound::Is(true)).0, Verdict::Disagrees);
        assert_eq!(verdict("windows.1.n", at_most(2.0)).0, Verdict::Agrees);
        let (v, why) = verdict("slos.a.met", at_most(1.0));
        assert_eq!(v, Verdict::BadMetric);
        assert!(why.contains("is = true or false"), "{why}");
    }

    #[test]
    fn a_missing_figure_names_what_exists_where_it_is_written() {
        let j = judge(&results(), &[exp("latency_ms.p96", at_most(1.0))], None);
        let p = problems(&j);
        assert_eq!(
            p,
            [
                "x.toml:3:10: field `expectations[0].metric`: `latency_ms` has no `p96` (it has: p95)"
            ]
        );
        // A list shorter in this run (fewer windows) is no mistake.
        let (v, why) = verdict("windows.7.n", at_most(1.0));
        assert_eq!(v, Verdict::NoData);
        assert_eq!(
            why,
            "`windows` has 2 entries in this run, so 7 does not exist"
        );
        let (_, why) = verdict("latency_ms", at_most(1.0));
        assert!(why.contains("a group of figures (p95)"), "{why}");
    }

    #[test]
    fn another_variants_expectation_is_listed_not_judged() {
        let mut e = exp("latency_ms.p95", at_most(1.0));
        e.runs = vec!["current".into()];
        let j = judge(&results(), std::slice::from_ref(&e), None);
        assert_eq!(j[0].verdict, Verdict::OtherVariant);
        assert!(contradicted(&j).is_empty());
        let j = judge(&results(), &[e], Some("current"));
        assert_eq!(j[0].verdict, Verdict::Disagrees);
        assert_eq!(contradicted(&j).len(), 1);
    }
}

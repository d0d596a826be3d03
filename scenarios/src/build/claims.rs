//! `[[expectations]]` and `[[assumptions]]`: what the source document
//! expects of the results, and the inputs it does not give. Checked here for
//! shape and for names the scenario defines; a metric's last keys are only
//! known once the results exist, so the output crate judges those.

use capsim_models::{Bound, Expectation, PlatformConfig};

use crate::error::FieldPath;
use crate::raw::{RawAssumption, RawExpectation};

use super::tiers::Checks;

/// The name of the run without a variant in an expectation's `runs`.
pub const BASE: &str = "base";

/// The top-level keys of `summary.json` an expectation may read.
pub const SUMMARY_ROOTS: &[&str] = &[
    "simulated_seconds",
    "warmup_seconds",
    "measured_seconds",
    "requests",
    "latency_ms",
    "throughput_per_s",
    "classes",
    "tiers",
    "cost_usd",
    "slos",
    "scaling",
    "regions",
    "capacity_check",
];

/// The top-level keys of `windows.json` an expectation may read.
pub const WINDOWS_ROOTS: &[&str] = &[
    "every_s",
    "offset_s",
    "window_s",
    "warmup_s",
    "windows",
    "triggers",
    "first_growth",
];

/// Builds the expectations; `located` is filled in by the loader, which
/// knows the text.
pub fn build_expectations(
    raw: Vec<RawExpectation>,
    path: &FieldPath,
    platform: &PlatformConfig,
    windowed: bool,
    variants: &[String],
    c: &mut Checks,
) -> Vec<Expectation> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, e) in raw.into_iter().enumerate() {
        let p = path.index(i);
        for (key, text) in [("claim", &e.claim), ("source", &e.source)] {
            if text.trim().is_empty() {
                c.push(p.key(key), "must not be empty");
            }
        }
        let bound = match (e.at_least, e.at_most, e.equals, e.is) {
            (None, None, None, Some(b)) => Some(Bound::Is(b)),
            (None, None, Some(x), None) if x.is_finite() => Some(Bound::Equals(x)),
            (None, None, Some(_), None) => {
                c.push(p.key("equals"), "must be a finite number");
                None
            }
            (None, None, None, None) => {
                c.push(
                    p.clone(),
                    "give the bound the result must meet: at_least, at_most (or both), equals, or is = true/false",
                );
                None
            }
            (lo, hi, None, None) => range(lo, hi, &p, c),
            (_, _, eq, _) => {
                c.push(
                    p.key(if eq.is_some() { "equals" } else { "is" }),
                    "give one kind of bound: at_least/at_most, equals, or is",
                );
                None
            }
        };
        let metric: Vec<String> = e.metric.split('.').map(str::to_string).collect();
        // A variant may rename what another run has (its own objectives):
        // an expectation of some runs only is checked on those, after them.
        let names_here = e.runs.is_empty();
        check_metric(&metric, &p.key("metric"), platform, windowed, names_here, c);
        for (k, v) in e.runs.iter().enumerate() {
            if v == BASE {
                if variants.iter().any(|n| n == BASE) {
                    c.push(
                        p.key("runs").index(k),
                        "`base` names the scenario without a variant, but a variant is also named `base`: rename it",
                    );
                }
            } else if !variants.iter().any(|n| n == v) {
                c.push(
                    p.key("runs").index(k),
                    format!(
                        "no variant `{v}` (runs are `base`, the scenario without a variant{}{})",
                        if variants.is_empty() {
                            ""
                        } else {
                            ", or one of: "
                        },
                        variants.join(", ")
                    ),
                );
            }
        }
        if let Some(bound) = bound {
            out.push(Expectation {
                claim: e.claim,
                source: e.source,
                metric,
                bound,
                runs: e.runs,
                note: e.note,
                located: String::new(),
            });
        }
    }
    out
}

fn range(lo: Option<f64>, hi: Option<f64>, p: &FieldPath, c: &mut Checks) -> Option<Bound> {
    let mut ok = true;
    for (key, v) in [("at_least", lo), ("at_most", hi)] {
        if let Some(v) = v
            && !v.is_finite()
        {
            c.push(p.key(key), "must be a finite number");
            ok = false;
        }
    }
    if let (Some(lo), Some(hi)) = (lo, hi)
        && lo > hi
    {
        c.push(
            p.key("at_most"),
            format!("{hi} is below at_least ({lo}): no result could meet both"),
        );
        ok = false;
    }
    ok.then_some(Bound::Range {
        at_least: lo,
        at_most: hi,
    })
}

/// The metric's first key must be a result, and a name after `classes`,
/// `tiers`, `slos` or `scaling` one the scenario defines (`names_here`: for
/// an expectation of every run).
fn check_metric(
    metric: &[String],
    p: &FieldPath,
    platform: &PlatformConfig,
    windowed: bool,
    names_here: bool,
    c: &mut Checks,
) {
    let (roots, file) = if windowed {
        (WINDOWS_ROOTS, "windows.json")
    } else {
        (SUMMARY_ROOTS, "summary.json")
    };
    if metric.iter().any(String::is_empty) {
        c.push(
            p.clone(),
            "a dotted path of keys into the results, e.g. latency_ms.p95",
        );
        return;
    }
    let root = metric[0].as_str();
    if !roots.contains(&root) {
        c.push(
            p.clone(),
            format!(
                "`{root}` is not a result in {file} (its results: {})",
                roots.join(", ")
            ),
        );
        return;
    }
    if windowed || !names_here {
        return;
    }
    let names: Vec<&str> = match root {
        "classes" => platform.classes.iter().map(|k| k.name.as_str()).collect(),
        "tiers" => platform.tiers.iter().map(|t| t.name.as_str()).collect(),
        "slos" => platform.slos.iter().map(|s| s.name.as_str()).collect(),
        "scaling" => platform
            .tiers
            .iter()
            .filter(|t| t.scaling.is_some())
            .map(|t| t.name.as_str())
            .collect(),
        _ => return,
    };
    match metric.get(1) {
        Some(name) if names.contains(&name.as_str()) => {}
        Some(name) => c.push(
            p.clone(),
            format!(
                "`{root}.{name}`: the scenario has no such entry (it has: {})",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ),
        None => c.push(
            p.clone(),
            format!("`{root}` holds one entry per name: add the name and the figure, e.g. `{root}.{}.…`", names.first().copied().unwrap_or("NAME")),
        ),
    }
}

/// Checks the assumptions' shape; their values are read by the loader from
/// the scenario as written (after overrides).
pub fn check_assumptions(raw: &[RawAssumption], path: &FieldPath, c: &mut Checks) {
    for (i, a) in raw.iter().enumerate() {
        let p = path.index(i);
        if FieldPath::parse(&a.input).is_none() {
            c.push(
                p.key("input"),
                format!(
                    "`{}` is not a field path (e.g. workload.rate_per_s)",
                    a.input
                ),
            );
        }
        if a.why.trim().is_empty() {
            c.push(
                p.key("why"),
                "say why this value: the reason is what makes it an assumption",
            );
        }
    }
}

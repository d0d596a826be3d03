//! `capsim validate`: a scenario checked without running it, with its
//! capacity check and what running it would cost.

use std::fmt::Write as _;

use capsim_models::laws::CapacityCheck;
use capsim_scenarios::{Override, Scenario, Source};

use crate::{Error, budget};

/// The scenario's capacity check: over the long horizon for a chain of
/// windows.
pub fn capacity(s: &Scenario) -> CapacityCheck {
    match &s.windows {
        Some(plan) => capsim_models::laws::capacity_check_windows(&s.platform, plan),
        None => capsim_models::laws::capacity_check(&s.platform),
    }
}

/// What `capsim validate` prints of `s`, loaded from `source` with
/// `overrides` (with none, its variants are checked too), for `threads`
/// worker threads.
pub fn report(
    source: &Source,
    overrides: &[Override],
    s: &Scenario,
    threads: usize,
) -> Result<String, Error> {
    if overrides.is_empty() {
        source.check_variants(s)?;
    }
    let windows = match &s.windows {
        Some(plan) => format!(" in {} windows", plan.count),
        None => String::new(),
    };
    let mut text = format!(
        "{}: valid ({} classes, {} tiers, {} × {} simulated{windows})\n",
        s.name,
        s.platform.classes.len(),
        s.platform.tiers.len(),
        s.replications,
        s.platform.horizon
    );
    text.push_str(&capsim_output::capacity::render(&capacity(s)));
    if !s.expectations.is_empty() || !s.assumptions.is_empty() {
        let _ = writeln!(
            text,
            "declares {} expectation{} of its source (judged after a run: report.md, --check) and {} assumed input{}",
            s.expectations.len(),
            if s.expectations.len() == 1 { "" } else { "s" },
            s.assumptions.len(),
            if s.assumptions.len() == 1 { "" } else { "s" },
        );
    }
    let e = budget::of(s, threads, 1);
    let _ = writeln!(text, "{}", budget::describe(&e, threads));
    match budget::check(s, &e, threads) {
        Err(Error::OverBudget(o)) => {
            let _ = writeln!(
                text,
                "`capsim run` would refuse it: {}\n{}",
                o.reason(),
                o.remedy()
            );
        }
        Err(other) => return Err(other),
        Ok(()) => {}
    }
    Ok(text)
}

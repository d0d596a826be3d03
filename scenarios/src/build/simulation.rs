//! `[simulation]`: run length, warm-up, replications, series interval and
//! the instant the run starts.

use super::tiers::Checks;
use super::{MAX_REPLICATIONS, profile};
use crate::error::FieldPath;
use crate::raw::RawSimulation;

/// Checks the run's settings; returns its start (Unix seconds), the default
/// one if `start` is missing or broken.
pub fn check(sim: &RawSimulation, sp: &FieldPath, c: &mut Checks) -> i64 {
    if sim.duration.is_zero() {
        c.push(sp.key("duration"), "must be longer than zero");
    }
    if sim.warmup >= sim.duration && !sim.duration.is_zero() {
        c.push(
            sp.key("warmup"),
            format!(
                "the warm-up ({}) must be shorter than the duration ({}), which includes it",
                sim.warmup, sim.duration
            ),
        );
    }
    if sim.replications < 2 {
        c.push(
            sp.key("replications"),
            format!(
                "at least 2 replications are needed for a confidence interval (got {})",
                sim.replications
            ),
        );
    } else if sim.replications > MAX_REPLICATIONS {
        c.push(
            sp.key("replications"),
            format!(
                "at most {MAX_REPLICATIONS} replications (got {})",
                sim.replications
            ),
        );
    }
    if sim.interval.is_zero() {
        c.push(sp.key("interval"), "must be longer than zero");
    } else if !sim.duration.is_zero()
        && sim.duration.as_nanos() / sim.interval.as_nanos() > 1_000_000
    {
        c.push(
            sp.key("interval"),
            format!(
                "{} intervals of {} in {}: make the interval longer (at most 1,000,000 per run)",
                sim.duration.as_nanos() / sim.interval.as_nanos(),
                sim.interval,
                sim.duration
            ),
        );
    }
    match &sim.start {
        Some(s) => match profile::parse_instant(s) {
            Some(t) => t,
            None => {
                c.push(
                    sp.key("start"),
                    format!("\"{s}\" is not an RFC 3339 date and time such as \"2026-11-27T00:00:00-05:00\" (without an offset the time is UTC)"),
                );
                profile::DEFAULT_START_S
            }
        },
        None => profile::DEFAULT_START_S,
    }
}

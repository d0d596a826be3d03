//! `[simulation]`: run length, warm-up, replications, series interval and
//! the instant the run starts.

use super::tiers::Checks;
use super::{MAX_REPLICATIONS, profile};
use crate::error::FieldPath;
use crate::raw::RawSimulation;
use capsim_models::windows::WindowPlan;
use sim_engine::SimDuration;

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
    if sim.replications < 1 {
        c.push(
            sp.key("replications"),
            format!("at least 1 replication (got {})", sim.replications),
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

/// The calendar (jiff) knows instants from -9999-01-02 to 9999-12-30 UTC; a
/// day's margin at each end leaves room for any UTC offset of a profile.
fn calendar_range() -> (i64, i64) {
    (
        jiff::Timestamp::MIN.as_second() + 86_400,
        jiff::Timestamp::MAX.as_second() - 86_400,
    )
}

/// Checks that the whole run, every long-horizon window included, lies
/// inside the calendar's range.
pub fn check_span(
    start_s: i64,
    horizon: SimDuration,
    windows: Option<&WindowPlan>,
    sp: &FieldPath,
    c: &mut Checks,
) {
    let span = match windows {
        Some(w) => w.every.as_nanos() as u128 * w.count as u128,
        None => horizon.as_nanos() as u128,
    };
    let (first_s, last_s) = calendar_range();
    let end_s = start_s as i128 + (span / 1_000_000_000) as i128;
    if start_s < first_s || end_s > last_s as i128 {
        c.push(
            sp.key("start"),
            format!(
                "the run must lie between {} and {}, the calendar's range (it would run {} from {})",
                instant(first_s),
                instant(last_s),
                SimDuration::from_nanos(span.min(u64::MAX as u128) as u64),
                instant(start_s),
            ),
        );
    }
}

fn instant(s: i64) -> String {
    jiff::Timestamp::from_second(s).map_or_else(
        |_| format!("{s} s after 1970"),
        |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

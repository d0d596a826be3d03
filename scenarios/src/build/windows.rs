//! `[windows]`: a long horizon run as a chain of windows.

use capsim_models::windows::WindowPlan;
use sim_engine::SimDuration;

use super::MAX_WINDOWS;
use super::tiers::Checks;
use crate::error::FieldPath;
use crate::raw::RawWindows;

/// `[windows]`, if written: its plan (`None` with problems if invalid), and
/// the whole run, every window of it, checked against the calendar.
pub fn plan_run(
    raw: Option<&RawWindows>,
    root: &FieldPath,
    start_s: i64,
    horizon: SimDuration,
    c: &mut Checks,
) -> Option<WindowPlan> {
    let windows = raw.and_then(|w| plan(w, &root.key("windows"), horizon, c));
    super::simulation::check_span(
        start_s,
        horizon,
        windows.as_ref(),
        &root.key("simulation"),
        c,
    );
    windows
}

/// The plan of windows, or `None` (with problems) if it is invalid.
pub fn plan(
    w: &RawWindows,
    p: &FieldPath,
    horizon: SimDuration,
    c: &mut Checks,
) -> Option<WindowPlan> {
    let before = c.0.len();
    if w.every.is_zero() {
        c.push(p.key("every"), "must be longer than zero, e.g. \"1w\"");
    }
    if w.count == 0 || w.count > MAX_WINDOWS {
        c.push(
            p.key("count"),
            format!("from 1 to {MAX_WINDOWS} windows (got {})", w.count),
        );
    }
    let span = (w.every.as_nanos() as u128) * (w.count as u128);
    if span > crate::raw::Duration::MAX.as_nanos() as u128 {
        c.push(
            p.key("every"),
            format!(
                "{} windows of {} span more than 100 years: fewer or shorter windows",
                w.count, w.every
            ),
        );
    } else if !w.every.is_zero() && w.offset + horizon > *w.every {
        c.push(
            p.key("offset"),
            format!(
                "each window ({} from `offset` {}) must end within its period of {}: shorten simulation.duration or the offset",
                horizon, w.offset, w.every
            ),
        );
    }
    (c.0.len() == before).then_some(WindowPlan {
        every: *w.every,
        count: w.count,
        offset: *w.offset,
    })
}

//! The progress bar of a long run: on stderr, only when stderr is a
//! terminal (CI logs and pipes stay clean), only once a run has taken longer
//! than half a second, and gone when the run ends.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use capsim_models::RunControl;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Should a run show a progress bar?
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Draws the simulated time done out of `total_ms` until `finished` is set.
pub fn show(control: &RunControl, total_ms: u64, replications: u64, finished: &AtomicBool) {
    let started = Instant::now();
    let tick = Duration::from_millis(100);
    while started.elapsed() < Duration::from_millis(500) {
        if finished.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(tick);
    }
    let bar = ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(&format!(
        "simulating {replications} replication{} {{wide_bar}} {{percent:>3}}% · about {{eta}} left",
        if replications == 1 { "" } else { "s" }
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    while !finished.load(Ordering::Relaxed) {
        bar.set_position(control.progress_ms.load(Ordering::Relaxed).min(total_ms));
        std::thread::sleep(tick);
    }
    bar.finish_and_clear();
}

/// A bar of sweep points done, with the time left, when [`wanted`]; the
/// caller increments it as points finish and clears it at the end.
pub fn points_bar(quiet: bool, total: u64, already_done: u64) -> Option<ProgressBar> {
    if !wanted(quiet) || total == 0 {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "sweep {wide_bar} {pos}/{len} points · {elapsed} elapsed · about {eta} left",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    // Points resumed from an earlier run are done, but took no time now:
    // start the bar after them so the time left is not underestimated.
    bar.set_position(already_done);
    bar.reset_eta();
    Some(bar)
}

//! A run of a scenario with `[windows]`: a long horizon as a chain of
//! windows (see `capsim_models::windows` and docs/long-horizons.md).

use std::time::Instant;

use capsim_models::windows::{WindowPlan, run_windows};
use capsim_models::{RunControl, RunDescription};
use capsim_output::Interruption as SummaryInterruption;
use capsim_output::export;
use capsim_output::windows::WindowsReport;
use capsim_scenarios::Scenario;

use crate::Error;
use crate::outcome::{Interruption, Outcome, Results, RunOptions, StopReason};

pub(crate) fn execute(
    scenario: &Scenario,
    plan: &WindowPlan,
    opts: &RunOptions,
    control: &RunControl,
) -> Result<Outcome, Error> {
    let platform = &scenario.platform;
    let started = Instant::now();
    let runs = run_windows(
        platform,
        plan,
        scenario.seed,
        scenario.replications,
        opts.threads,
        control,
    )?;
    let completed: Vec<u64> = (0..runs.len() as u64)
        .filter(|&i| runs[i as usize].is_some())
        .collect();
    let mut runs: Vec<_> = runs.into_iter().flatten().collect();
    let wall_seconds = started.elapsed().as_secs_f64();
    // Stopped: keep the windows every finished replication has.
    let windows_done = runs.iter().map(Vec::len).min().unwrap_or(0);
    let interrupted = control.cancelled()
        && (windows_done < plan.count as usize || (runs.len() as u64) < scenario.replications);
    if interrupted {
        if windows_done == 0 {
            return Err(crate::budget::stopped(
                control,
                format!(
                    "no window of {} had finished: nothing written",
                    scenario.name
                ),
            ));
        }
        for r in &mut runs {
            r.truncate(windows_done);
        }
    }
    let events: u64 = runs.iter().flatten().map(|w| w.events).sum();

    let mut report = WindowsReport::new(
        &RunDescription::new(platform),
        plan,
        &scenario.name,
        scenario.seed,
        scenario.start_s,
        &runs,
    );
    report.judge(
        &scenario.expectations,
        &scenario.assumptions,
        scenario.variant.as_deref(),
    );
    let stopped = interrupted.then(|| StopReason::of(control));
    if let Some(reason) = stopped {
        let mut covered = SummaryInterruption::new(reason.key(), scenario.replications, completed);
        covered.windows_requested = Some(plan.count);
        report.interruption = Some(covered);
    }
    let json = report.to_json();
    let written = match &opts.out {
        Some(dir) => crate::outcome::write(dir, &report, &export::windows_formats())?,
        None => Vec::new(),
    };
    let interrupted = stopped.map(|reason| Interruption {
        reason,
        message: format!(
            "the first {windows_done} of {} windows finished in {} replication{}; the outputs cover those (marked \"interrupted\" in windows.json)",
            plan.count,
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        ),
    });
    Ok(Outcome {
        results: Results::Windows(Box::new(report)),
        json,
        written,
        events,
        wall_seconds,
        threads: opts.threads,
        interrupted,
    })
}

//! One run of a scenario: its replications (or, with `[windows]`, its chain
//! of windows), the files it writes, and what the caller prints.

use std::time::Instant;

use capsim_models::{RunControl, RunDescription};
use capsim_output::export::{self, RunResults};
use capsim_output::{Interruption as SummaryInterruption, RunInfo, Summary};
use capsim_scenarios::Scenario;

use crate::Error;

pub use crate::outcome::{Interruption, Outcome, Results, RunOptions, StopReason};

/// Runs `scenario` (refused first if over the budget, unless forced) and
/// writes its files. A stop through `control` keeps what finished:
/// [`Outcome::interrupted`] says what; with nothing finished it is an
/// [`Error::Interrupted`].
pub fn execute(
    scenario: &Scenario,
    opts: &RunOptions,
    control: &RunControl,
) -> Result<Outcome, Error> {
    crate::budget::gate(scenario, opts.threads, 1, opts.force)?;
    crate::budget::arm(control, opts.force)?;
    match &scenario.windows {
        Some(plan) => crate::windows::execute(scenario, plan, opts, control),
        None => replications(scenario, opts, control),
    }
}

fn replications(
    scenario: &Scenario,
    opts: &RunOptions,
    control: &RunControl,
) -> Result<Outcome, Error> {
    let platform = &scenario.platform;
    let started = Instant::now();
    let results = capsim_models::run_replications(
        platform,
        scenario.seed,
        scenario.replications,
        opts.threads,
        control,
    )?;
    let completed: Vec<u64> = (0..results.len() as u64)
        .filter(|&i| results[i as usize].is_some())
        .collect();
    let results: Vec<_> = results.into_iter().flatten().collect();
    let wall_seconds = started.elapsed().as_secs_f64();
    // A stop that came after the last replication finished lost nothing.
    let stopped = (control.cancelled() && (results.len() as u64) < scenario.replications)
        .then(|| StopReason::of(control));
    if stopped.is_some() && results.is_empty() {
        return Err(crate::budget::stopped(
            control,
            format!(
                "no replication of {} had finished: nothing written",
                scenario.name
            ),
        ));
    }

    // What the outputs know of the configuration.
    let run = RunDescription::new(platform);
    let mut summary = Summary::new(
        &RunInfo {
            run: &run,
            scenario: &scenario.name,
            description: &scenario.description,
            seed: scenario.seed,
            simulated_seconds: platform.horizon.as_secs_f64(),
            warmup_seconds: platform.warmup.as_secs_f64(),
            wall_seconds,
            threads: opts.threads,
        },
        &results,
    );
    summary.judge(
        &scenario.expectations,
        &scenario.assumptions,
        scenario.variant.as_deref(),
    );
    if let Some(reason) = stopped {
        summary.interruption = Some(SummaryInterruption::new(
            reason.key(),
            scenario.replications,
            completed,
        ));
    }
    let json = summary.to_json();
    let mut written = Vec::new();
    if let Some(dir) = &opts.out {
        let series = capsim_output::time_series(&run, &results);
        let input = RunResults {
            run: &run,
            summary: &summary,
            series: &series,
            results: &results,
            seed: scenario.seed,
        };
        written = crate::outcome::write(dir, &input, &export::run_formats())?;
    }
    let interrupted = stopped.map(|reason| {
        let wrote = match &opts.out {
            Some(dir) => format!(
                "; the outputs in {} cover those (marked \"interrupted\" in summary.json)",
                dir.display()
            ),
            None => String::new(),
        };
        Interruption {
            reason,
            message: format!(
                "{} of {} replications finished{wrote}; {}",
                results.len(),
                scenario.replications,
                match reason {
                    StopReason::Cancelled =>
                        format!("run again to complete the {}", scenario.replications),
                    StopReason::Budget(_) => "fewer or shorter replications fit".into(),
                }
            ),
        }
    });
    Ok(Outcome {
        events: summary.engine.events,
        results: Results::Run {
            summary: Box::new(summary),
            replications: results,
        },
        json,
        written,
        wall_seconds,
        threads: opts.threads,
        interrupted,
    })
}

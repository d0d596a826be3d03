//! One run of a scenario: its replications (or, with `[windows]`, its chain
//! of windows), the files it writes, and what the caller prints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use capsim_models::run::Overrun;
use capsim_models::{ReplicationResult, RunControl, RunDescription};
use capsim_output::export::{self, Exporter, RunResults};
use capsim_output::windows::WindowsReport;
use capsim_output::{Interruption as SummaryInterruption, OutputFile, RunInfo, Summary};
use capsim_scenarios::Scenario;

use crate::Error;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Worker threads (see [`crate::threads`]).
    pub threads: usize,
    /// Where to write the files; none written without.
    pub out: Option<PathBuf>,
    /// Run even if over the budget, and skip the estimate.
    pub force: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub results: Results,
    /// `summary.json` (or `windows.json`), as written.
    pub json: Vec<u8>,
    /// The files written, in order.
    pub written: Vec<PathBuf>,
    pub events: u64,
    pub wall_seconds: f64,
    pub threads: usize,
    /// Set when the run was stopped before its end: why, and what the
    /// outputs cover.
    pub interrupted: Option<Interruption>,
}

/// Why a run stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Its [`RunControl`] was cancelled: Ctrl-C or SIGTERM in the CLI, or a
    /// library caller.
    Cancelled,
    /// Its budget: more events or memory than the limits allow.
    Budget(Overrun),
}

impl StopReason {
    /// Why the run under `control` stopped, once it has.
    pub fn of(control: &RunControl) -> StopReason {
        control
            .overrun()
            .map_or(StopReason::Cancelled, StopReason::Budget)
    }

    /// Its name in the outputs (`interrupted_by` in `summary.json`).
    pub fn key(self) -> &'static str {
        match self {
            StopReason::Cancelled => "cancelled",
            StopReason::Budget(_) => "budget",
        }
    }
}

/// A run stopped before its end: why, and for people what its outputs
/// cover and how to complete it.
#[derive(Clone, Debug)]
pub struct Interruption {
    pub reason: StopReason,
    pub message: String,
}

/// The results of a run, by its kind.
#[derive(Debug)]
pub enum Results {
    Run {
        summary: Box<Summary>,
        replications: Vec<ReplicationResult>,
    },
    Windows(Box<WindowsReport>),
}

impl Outcome {
    /// The terminal table: the summary and the first replication's scaling
    /// timeline, or the windows' table.
    pub fn table(&self) -> String {
        match &self.results {
            Results::Run {
                summary,
                replications,
            } => {
                let mut text = capsim_output::table::render(summary);
                if let Some(first) = replications.first() {
                    let timeline = capsim_output::table::scaling_timeline(first, 12);
                    if !timeline.is_empty() {
                        text.push('\n');
                        text.push_str(&timeline);
                    }
                }
                text
            }
            Results::Windows(report) => report.table(20),
        }
    }

    /// The objectives breached, each with how many replications (or windows)
    /// breached it.
    pub fn breached(&self) -> Vec<String> {
        match &self.results {
            Results::Run { summary, .. } => summary
                .slos
                .iter()
                .filter(|(_, s)| !s.met)
                .map(|(n, s)| {
                    format!(
                        "{n} ({} of {} replications)",
                        s.replications_breached, summary.replications
                    )
                })
                .collect(),
            Results::Windows(report) => report.breached(),
        }
    }

    /// The interruption as an error, for callers that stop there.
    pub fn interruption(&self) -> Option<Error> {
        self.interrupted.as_ref().map(|i| match i.reason {
            StopReason::Budget(o) => {
                Error::Overrun(format!("{}; {}", crate::budget::overrun(o), i.message))
            }
            StopReason::Cancelled => Error::Interrupted(i.message.clone()),
        })
    }
}

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
        written = write(dir, &input, &export::run_formats())?;
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

/// Makes the files of `results` with `formats` and writes them into `dir`,
/// all or nothing. A format that fails (a plot that cannot be drawn) must
/// not cost the user the data: the other files are written, then its error
/// is returned.
pub(crate) fn write<R: ?Sized>(
    dir: &Path,
    results: &R,
    formats: &[Box<dyn Exporter<R> + '_>],
) -> Result<Vec<PathBuf>, Error> {
    let made = export::export(results, formats);
    let written = write_files(dir, &made.files, "results")?;
    if !made.errors.is_empty() {
        return Err(Error::Export {
            message: made.errors.join("; "),
            dir: dir.to_path_buf(),
        });
    }
    Ok(written)
}

/// Writes `files` into `dir` atomically; `what` names them in an error.
pub(crate) fn write_files(
    dir: &Path,
    files: &[OutputFile],
    what: &str,
) -> Result<Vec<PathBuf>, Error> {
    capsim_output::write_all(dir, files)
        .map_err(Error::io(format!("writing {what} to {}", dir.display())))
}

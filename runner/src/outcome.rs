//! What a run is given and what it produces, for a run of replications and
//! a chain of windows alike: its options, its outcome (and why it stopped
//! early, if it did), and how its files are written.

use std::path::{Path, PathBuf};

use capsim_models::run::Overrun;
use capsim_models::{ReplicationResult, RunControl};
use capsim_output::export::{self, Exporter};
use capsim_output::windows::WindowsReport;
use capsim_output::{OutputFile, Summary};

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

    /// The scenario's expectations as judged on this run.
    pub fn expectations(&self) -> &[capsim_output::claims::Judged] {
        match &self.results {
            Results::Run { summary, .. } => &summary.expectations,
            Results::Windows(report) => &report.expectations,
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
            StopReason::Budget(o) => crate::budget::overrun_error(o, &i.message),
            StopReason::Cancelled => Error::Interrupted(i.message.clone()),
        })
    }
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
    let what = format!("writing results to {}", dir.display());
    let mut staging = capsim_output::Staging::new(dir);
    let errors =
        export::export_staged(results, formats, &mut staging).map_err(Error::io(what.clone()))?;
    let written = staging.commit().map_err(Error::io(what))?;
    if !errors.is_empty() {
        return Err(Error::Export {
            message: errors.join("; "),
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

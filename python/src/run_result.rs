//! A finished run, held in memory: its files are made on demand by the
//! CLI's own exporters, byte for byte what `capsim run --out DIR` writes.

use std::path::PathBuf;

use capsim_models::{ReplicationResult, RunDescription};
use capsim_output::Summary;
use capsim_output::export::{self, RunResults};
use capsim_output::windows::WindowsReport;
use capsim_runner::run::Results;
use capsim_runner::{Outcome, StopReason};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// The files a run's results are made into, without the plots.
pub const RUN_FILES: [&str; 6] = [
    "summary.json",
    "report.md",
    "timeseries.csv",
    "latency.csv",
    "events.csv",
    "replications.csv",
];
pub const WINDOWS_FILES: [&str; 3] = ["windows.json", "windows.csv", "report.md"];

#[pyclass(frozen, module = "capsim._capsim")]
pub struct NativeRun {
    pub run: RunDescription,
    pub seed: u64,
    pub outcome: Outcome,
    pub warnings: Vec<String>,
}

impl NativeRun {
    fn file_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let (run, seed) = (&self.run, self.seed);
        match &self.outcome.results {
            Results::Run {
                summary,
                replications,
            } => Some(match name {
                "summary.json" => self.outcome.json.clone(),
                "report.md" => capsim_output::report::report_md(summary, replications),
                "timeseries.csv" => capsim_output::timeseries_csv(
                    &capsim_output::time_series(run, replications),
                    &run.scenario,
                    seed,
                ),
                "latency.csv" => capsim_output::latency_csv(&run.scenario, seed, replications),
                "events.csv" => capsim_output::events_csv(run, seed, replications),
                "replications.csv" => {
                    capsim_output::replications::ReplicationTable::of(run, summary, replications)
                        .to_csv()
                }
                _ => return None,
            }),
            Results::Windows(report) => Some(match name {
                "windows.json" => self.outcome.json.clone(),
                "windows.csv" => report.to_csv(),
                "report.md" => report.markdown().into_bytes(),
                _ => return None,
            }),
        }
    }

    fn names(&self) -> &'static [&'static str] {
        match self.outcome.results {
            Results::Run { .. } => &RUN_FILES,
            Results::Windows(_) => &WINDOWS_FILES,
        }
    }

    /// Every file `capsim run --out` writes, plots included, into `dir`.
    fn write_all(&self, dir: &std::path::Path) -> Result<Vec<PathBuf>, capsim_runner::Error> {
        let made = match &self.outcome.results {
            Results::Run {
                summary,
                replications,
            } => files_of_run(&self.run, self.seed, summary, replications),
            Results::Windows(report) => files_of_windows(report),
        };
        let written = capsim_output::write_all(dir, &made.files).map_err(|source| {
            capsim_runner::Error::Io {
                context: format!("writing results to {}", dir.display()),
                source,
            }
        })?;
        if !made.errors.is_empty() {
            return Err(capsim_runner::Error::Export {
                message: made.errors.join("; "),
                dir: dir.to_path_buf(),
            });
        }
        Ok(written)
    }
}

fn files_of_run(
    run: &RunDescription,
    seed: u64,
    summary: &Summary,
    results: &[ReplicationResult],
) -> export::Exported {
    let series = capsim_output::time_series(run, results);
    let input = RunResults {
        run,
        summary,
        series: &series,
        results,
        seed,
    };
    export::export(&input, &export::run_formats())
}

fn files_of_windows(report: &WindowsReport) -> export::Exported {
    export::export(report, &export::windows_formats())
}

#[pymethods]
impl NativeRun {
    /// "run" for one horizon of replications, "windows" for a chain of windows.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.outcome.results {
            Results::Run { .. } => "run",
            Results::Windows(_) => "windows",
        }
    }

    /// The names `file` takes.
    #[getter]
    fn files(&self) -> Vec<&'static str> {
        self.names().to_vec()
    }

    /// The bytes of one of the files `capsim run --out` writes (plots aside).
    fn file<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        match py.detach(|| self.file_bytes(name)) {
            Some(bytes) => Ok(PyBytes::new(py, &bytes)),
            None => Err(PyValueError::new_err(format!(
                "no file {name:?} in a {} result (it has {})",
                self.kind(),
                self.names().join(", ")
            ))),
        }
    }

    /// Writes every file `capsim run --out DIR` writes (plots included),
    /// each atomically; returns their paths.
    fn write(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        py.detach(|| self.write_all(&dir))
            .map_err(|e| crate::errors::runner(py, e))
    }

    /// The terminal table `capsim run` prints.
    #[getter]
    fn table(&self) -> String {
        self.outcome.table()
    }

    /// Objectives breached, each with how many replications (or windows)
    /// breached it, as `capsim run --check` names them.
    #[getter]
    fn breached(&self) -> Vec<String> {
        self.outcome.breached()
    }

    #[getter]
    fn events(&self) -> u64 {
        self.outcome.events
    }

    #[getter]
    fn wall_seconds(&self) -> f64 {
        self.outcome.wall_seconds
    }

    #[getter]
    fn threads(&self) -> usize {
        self.outcome.threads
    }

    /// The capacity check's warnings (an overloaded tier), as the CLI prints
    /// them before a run.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Set when the run's budget stopped it before its end: what the results
    /// cover.
    #[getter]
    fn interrupted(&self) -> Option<String> {
        self.outcome.interrupted.as_ref().map(|i| match i.reason {
            StopReason::Budget(o) => {
                capsim_runner::budget::overrun_error(o, &i.message).to_string()
            }
            StopReason::Cancelled => i.message.clone(),
        })
    }
}

//! A finished sweep: its report in memory, its files made on demand by the
//! CLI's exporters (what `capsim sweep --out DIR` writes as sweep.csv,
//! pareto.csv and sweep.json).

use std::path::PathBuf;

use capsim_models::SweepPlan;
use capsim_output::sweep::SweepReport;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub const SWEEP_FILES: [&str; 3] = ["sweep.csv", "pareto.csv", "sweep.json"];

#[pyclass(frozen, module = "capsim._capsim")]
pub struct NativeSweep {
    pub plan: SweepPlan,
    pub report: SweepReport,
    pub wall_seconds: f64,
    pub threads: usize,
    /// The files written, when the sweep ran in a directory.
    pub written: Vec<PathBuf>,
}

#[pymethods]
impl NativeSweep {
    /// The bytes of sweep.csv, pareto.csv or sweep.json.
    fn file<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = match name {
            "sweep.csv" => self.report.sweep_csv(),
            "pareto.csv" => self.report.pareto_csv(),
            "sweep.json" => self.report.to_json(),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "no file {name:?} in a sweep result (it has {})",
                    SWEEP_FILES.join(", ")
                )));
            }
        };
        Ok(PyBytes::new(py, &bytes))
    }

    /// The terminal table `capsim sweep` prints.
    #[getter]
    fn table(&self) -> String {
        self.report.table(&self.plan)
    }

    /// The verdict under the table: the cheapest point meeting every
    /// objective, or why none does.
    #[getter]
    fn verdict(&self) -> String {
        self.report.verdict(&self.plan)
    }

    /// The files written, as `capsim sweep` lists them, when the sweep ran
    /// in a directory (`out`); empty otherwise.
    #[getter]
    fn written(&self) -> Vec<PathBuf> {
        self.written.clone()
    }

    #[getter]
    fn wall_seconds(&self) -> f64 {
        self.wall_seconds
    }

    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }
}

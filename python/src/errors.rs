//! capsim's errors as Python exceptions. The classes are defined in Python
//! (`capsim/_errors.py`, so that `ScenarioError` can also be a
//! `ValueError`); the kind is chosen by the error's variant, and the message
//! is the one the CLI prints after `error: `.

use capsim_scenarios::{Origin, ScenarioError};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// Raises `class` of `capsim._errors` with `args`.
fn raise<'py>(py: Python<'py>, class: &str, args: Bound<'py, PyTuple>) -> PyErr {
    let made = py
        .import("capsim._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(args));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// A scenario that cannot be loaded: `ScenarioError` with its source and
/// every diagnostic (line, column, field, message, the `--set` at fault).
pub fn scenario(py: Python<'_>, e: &ScenarioError) -> PyErr {
    let diagnostics: PyResult<Vec<Bound<'_, PyDict>>> = e
        .diagnostics
        .iter()
        .map(|d| {
            let dict = PyDict::new(py);
            let (line, column, set) = match &d.origin {
                Origin::File { line, column } => (Some(*line), Some(*column), None),
                Origin::Override(raw) => (None, None, Some(raw.as_str())),
                Origin::Unknown => (None, None, None),
            };
            dict.set_item("line", line)?;
            dict.set_item("column", column)?;
            dict.set_item("field", (!d.field.is_empty()).then(|| d.field.to_string()))?;
            dict.set_item("set", set)?;
            dict.set_item("message", &d.message)?;
            Ok(dict)
        })
        .collect();
    match diagnostics {
        Ok(diagnostics) => match (e.to_string(), &e.source, diagnostics).into_pyobject(py) {
            Ok(args) => raise(py, "ScenarioError", args),
            Err(err) => err,
        },
        Err(err) => err,
    }
}

/// Any error of a run or a sweep, by its kind: bad input is
/// `ScenarioError`, over the budget `BudgetError`, interrupted
/// `KeyboardInterrupt`, anything else (files, threads) `RunError`.
pub fn runner(py: Python<'_>, e: capsim_runner::Error) -> PyErr {
    use capsim_runner::Error as E;
    match e {
        E::Scenario(s) => scenario(py, &crate::convert::unlocated(s)),
        E::Input(m) => raise(py, "ScenarioError", one(py, m)),
        E::OverBudget(_) | E::Overrun(_) => raise(py, "BudgetError", one(py, e.to_string())),
        E::Interrupted(m) => PyKeyboardInterrupt::new_err(m),
        E::Io { .. } | E::Export { .. } | E::Threads(_) => {
            raise(py, "RunError", one(py, e.to_string()))
        }
    }
}

fn one(py: Python<'_>, message: String) -> Bound<'_, PyTuple> {
    PyTuple::new(py, [message]).expect("a tuple of one string")
}

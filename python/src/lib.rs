//! `capsim._capsim`, the native half of the Python package: the CLI's
//! library calls (capsim-runner) with Python's arguments, results kept in
//! memory and turned into bytes by the CLI's own exporters on demand.
//! `capsim/__init__.py` wraps it (DataFrames, keyword arguments, `set`
//! values); the functions here take what it passes.
//!
//! ```text
//!   name, path or dict ──load (the CLI's overrides)──► Scenario
//!        ──detach::run (GIL released; Ctrl-C polled)──► runner::run::execute ──► NativeRun
//!        ──sweep::spec/plan ──► in memory, or in a directory as the CLI ──► NativeSweep
//! ```

mod convert;
mod detach;
mod errors;
mod run_result;
mod sweep_result;

use std::path::PathBuf;

use capsim_models::RunDescription;
use capsim_runner::sweep::SweepRequest;
use capsim_runner::{Error, RunOptions};
use capsim_scenarios::{Override, Scenario, Source, library};
use pyo3::prelude::*;

use run_result::NativeRun;
use sweep_result::NativeSweep;

/// A `set` entry: its path, and its value as the text after `=` on the
/// command line (`json` false) or as JSON (`json` true).
type SetEntry = (String, String, bool);

/// `PATH=VALUE` texts, as `--set` takes them.
fn set_texts(sets: Vec<SetEntry>) -> Result<Vec<String>, Error> {
    sets.into_iter()
        .map(|(path, value, json)| {
            if json {
                convert::set_text(&path, &value).map_err(Error::Input)
            } else {
                Ok(format!("{path}={value}"))
            }
        })
        .collect()
}

/// The source of a scenario given as a dict.
fn dict_source(json: &str) -> Result<Source, Error> {
    Ok(Source {
        name: convert::DICT_SOURCE.into(),
        text: convert::scenario_text(json)?,
        dir: None,
    })
}

/// What selects and changes a scenario, as `capsim run` and `validate`
/// take it: a dict with these keys from the Python layer.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Input {
    scenario: Option<String>,
    scenario_json: Option<String>,
    sets: Vec<SetEntry>,
    variant: Option<String>,
    seed: Option<u64>,
    replications: Option<u64>,
    interval: Option<String>,
    window: Option<u32>,
}

impl Input {
    /// Loads the scenario as the CLI's `ScenarioArgs::load` does.
    fn load(self) -> Result<(Source, Vec<Override>, Scenario), Error> {
        let sets = set_texts(self.sets)?;
        let overrides = capsim_runner::overrides(
            &sets,
            self.seed,
            self.replications,
            self.interval.as_deref(),
        )?;
        let (source, applied, scenario) = match (self.scenario, self.scenario_json) {
            (_, Some(json)) => {
                let source = dict_source(&json)?;
                let (all, scenario) = source.load_variant(self.variant.as_deref(), overrides)?;
                (source, all, scenario)
            }
            (Some(name), None) => capsim_runner::load(&name, self.variant.as_deref(), overrides)?,
            (None, None) => return Err(Error::Input("no scenario given".into())),
        };
        let scenario = match self.window {
            Some(_) => scenario.one_window(self.window).map_err(Error::Input)?,
            None => scenario,
        };
        Ok((source, applied, scenario))
    }
}

/// Runs a scenario; see `capsim.run`.
#[pyfunction]
fn run(py: Python<'_>, input: Input, threads: usize, force: bool) -> PyResult<NativeRun> {
    let fail = |e| errors::runner(py, e);
    let threads = capsim_runner::threads(threads).map_err(fail)?;
    let (_, _, scenario) = input.load().map_err(fail)?;
    let warnings = capsim_runner::validate::capacity(&scenario).warnings();
    let opts = RunOptions {
        threads,
        out: None,
        force,
    };
    let outcome = detach::run(py, |control| {
        capsim_runner::run::execute(&scenario, &opts, control)
    })?
    .map_err(fail)?;
    Ok(NativeRun {
        run: RunDescription::new(&scenario.platform),
        seed: scenario.seed,
        outcome,
        warnings,
    })
}

/// Checks a scenario without running it; see `capsim.validate`.
#[pyfunction]
fn validate(py: Python<'_>, input: Input, threads: usize) -> PyResult<String> {
    let fail = |e| errors::runner(py, e);
    let threads = capsim_runner::threads(threads).map_err(fail)?;
    let (source, overrides, s) = input.load().map_err(fail)?;
    capsim_runner::validate::report(&source, &overrides, &s, threads).map_err(fail)
}

/// Runs a sweep; see `capsim.sweep`.
#[pyfunction]
#[pyo3(signature = (scenario, scenario_json, params, sets, sample, variant, seed, replications, metric, threads, out, force))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    scenario: Option<String>,
    scenario_json: Option<String>,
    params: Vec<String>,
    sets: Vec<SetEntry>,
    sample: Option<String>,
    variant: Option<String>,
    seed: Option<u64>,
    replications: Option<u64>,
    metric: Option<String>,
    threads: usize,
    out: Option<PathBuf>,
    force: bool,
) -> PyResult<NativeSweep> {
    let fail = |e| errors::runner(py, e);
    let threads = capsim_runner::threads(threads).map_err(fail)?;
    let mut sets = set_texts(sets).map_err(fail)?;
    let planned = match (scenario, scenario_json) {
        (_, Some(json)) => {
            let source = dict_source(&json).map_err(fail)?;
            // As `sweep::spec` does for a named scenario: the variant's
            // settings first.
            if let Some(v) = &variant {
                let mut all = source.variant_sets(v).map_err(|e| fail(e.into()))?;
                all.append(&mut sets);
                sets = all;
            }
            let spec = capsim_runner::sweep::spec(&SweepRequest {
                scenario: convert::DICT_SOURCE.into(),
                params,
                sets,
                variant: None,
                seed,
                replications,
                metric,
                sample,
            })
            .map_err(fail)?;
            capsim_runner::sweep::plan_source(&spec, source).map_err(fail)?
        }
        (Some(name), None) => {
            let spec = capsim_runner::sweep::spec(&SweepRequest {
                scenario: name,
                params,
                sets,
                variant,
                seed,
                replications,
                metric,
                sample,
            })
            .map_err(fail)?;
            capsim_runner::sweep::plan(&spec).map_err(fail)?
        }
        (None, None) => return Err(fail(Error::Input("no scenario given".into()))),
    };
    let done = detach::run(py, |control| match &out {
        Some(dir) => {
            let o = planned
                .prepare(dir, None, threads, force)?
                .run(control, || {})?;
            // Unsharded: the sweep is whole, so it has its report.
            let Some((report, written)) = o.finished else {
                return Err(Error::Input("the sweep did not finish".into()));
            };
            Ok(NativeSweep {
                plan: o.plan,
                report,
                wall_seconds: o.wall_seconds,
                threads,
                written,
            })
        }
        None => planned
            .run_in_memory(threads, force, control)
            .map(|m| NativeSweep {
                plan: m.plan,
                report: m.report,
                wall_seconds: m.wall_seconds,
                threads: m.threads,
                written: Vec::new(),
            }),
    })?;
    done.map_err(fail)
}

/// A bundled scenario: its name, description, and variants with theirs.
type Bundled = (String, String, Vec<(String, String)>);

/// The bundled scenarios, as `capsim scenarios list` lists them.
#[pyfunction]
fn scenarios(py: Python<'_>) -> PyResult<Vec<Bundled>> {
    library::all()
        .iter()
        .map(|b| {
            let s = capsim_scenarios::load_str(b.name, b.text, &[])
                .map_err(|e| errors::scenario(py, &e))?;
            let variants = s
                .variants
                .iter()
                .map(|v| (v.name.clone(), v.description.clone()))
                .collect();
            Ok((b.name.to_string(), s.description, variants))
        })
        .collect()
}

/// A bundled scenario's file, as `capsim scenarios show NAME` prints it.
#[pyfunction]
fn show(py: Python<'_>, name: &str) -> PyResult<&'static str> {
    match library::find(name) {
        Some(b) => Ok(b.text),
        None => {
            let names: Vec<&str> = library::all().iter().map(|b| b.name).collect();
            Err(errors::runner(
                py,
                Error::Input(format!(
                    "no bundled scenario \"{name}\" (bundled: {})",
                    names.join(", ")
                )),
            ))
        }
    }
}

/// A duration as scenario files write it ("200ms", "1h30m"), in seconds.
#[pyfunction]
fn seconds(text: &str) -> PyResult<f64> {
    sim_engine::parse_duration(text)
        .map(|d| d.as_secs_f64())
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("{text:?}: {e}")))
}

#[pymodule]
fn _capsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(show, m)?)?;
    m.add_function(wrap_pyfunction!(seconds, m)?)?;
    m.add_class::<NativeRun>()?;
    m.add_class::<NativeSweep>()?;
    Ok(())
}

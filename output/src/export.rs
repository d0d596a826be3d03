//! One interface over the formats results are written in: an [`Exporter`]
//! turns one kind of results into files. The formats themselves live one per
//! module (summary, report, csv_series, events, plots, windows, sweep, …);
//! this module lists, per kind of results, which formats a run writes and in
//! what order.
//!
//! ```text
//!   RunResults ──────► summary.json, report.md, timeseries.csv, latency.csv, events.csv,
//!                      replications.csv, plots/
//!   WindowsReport ───► windows.json, windows.csv, plots/
//!   SweepResults ────► sweep.csv, pareto.csv, sweep.json, plots/
//! ```
//!
//! [`export`] runs a list of exporters and keeps going past one that fails
//! (a plot that cannot be drawn), so that the files the others made can
//! still be written and nothing the user asked for is lost to one failure.

use capsim_models::{ReplicationResult, RunDescription, SweepPlan};

use crate::csv_series::TimeSeries;
use crate::fs::OutputFile;
use crate::summary::Summary;
use crate::sweep::SweepReport;
use crate::windows::WindowsReport;

/// A format: files from results of kind `R`, paths relative to the output
/// directory. An error says what could not be made.
pub trait Exporter<R: ?Sized>: Sync {
    fn export(&self, results: &R) -> Result<Vec<OutputFile>, String>;
}

/// What the files of a run are made from.
pub struct RunResults<'a> {
    pub run: &'a RunDescription,
    pub summary: &'a Summary,
    pub series: &'a TimeSeries,
    pub results: &'a [ReplicationResult],
    pub seed: u64,
}

/// What the files of a sweep are made from.
pub struct SweepResults<'a> {
    pub report: &'a SweepReport,
    pub plan: &'a SweepPlan,
}

/// The files every exporter made, and the errors of those that failed.
#[derive(Debug, Default)]
pub struct Exported {
    pub files: Vec<OutputFile>,
    pub errors: Vec<String>,
}

/// Runs `exporters` in order over `results`.
pub fn export<R: ?Sized>(results: &R, exporters: &[Box<dyn Exporter<R> + '_>]) -> Exported {
    let mut out = Exported::default();
    for e in exporters {
        match e.export(results) {
            Ok(files) => out.files.extend(files),
            Err(m) => out.errors.push(m),
        }
    }
    out
}

/// Runs `exporters` in order over `results`, staging each file in
/// `staging` as its exporter makes it (see [`crate::Staging`]): only one
/// exporter's bytes are held at a time. The errors of exporters that
/// failed; an I/O error staging a file stops at once.
pub fn export_staged<R: ?Sized>(
    results: &R,
    exporters: &[Box<dyn Exporter<R> + '_>],
    staging: &mut crate::Staging,
) -> std::io::Result<Vec<String>> {
    let mut errors = Vec::new();
    for e in exporters {
        match e.export(results) {
            Ok(files) => {
                for f in &files {
                    staging.add(f)?;
                }
            }
            Err(m) => errors.push(m),
        }
    }
    Ok(errors)
}

fn one(relative: &str, bytes: Vec<u8>) -> Result<Vec<OutputFile>, String> {
    Ok(vec![OutputFile {
        relative: relative.into(),
        bytes,
    }])
}

/// A format given by a function of the results.
struct Format<R: ?Sized>(fn(&R) -> Result<Vec<OutputFile>, String>);

impl<R: ?Sized> Exporter<R> for Format<R> {
    fn export(&self, results: &R) -> Result<Vec<OutputFile>, String> {
        (self.0)(results)
    }
}

/// The formats of one kind of results, in the order they are written.
pub type Formats<'a, R> = Vec<Box<dyn Exporter<R> + 'a>>;

fn format<'a, R: ?Sized + 'a>(
    f: fn(&R) -> Result<Vec<OutputFile>, String>,
) -> Box<dyn Exporter<R> + 'a> {
    Box::new(Format(f))
}

/// `summary.json`, `report.md`, `timeseries.csv`, `latency.csv`,
/// `events.csv`, `replications.csv` and the plots.
pub fn run_formats<'a>() -> Formats<'a, RunResults<'a>> {
    vec![
        format(|r| one("summary.json", r.summary.to_json())),
        format(|r| one("report.md", crate::report::report_md(r.summary, r.results))),
        format(|r| {
            let csv = crate::timeseries_csv(r.series, &r.run.scenario, r.seed);
            one("timeseries.csv", csv)
        }),
        format(|r| {
            let csv = crate::latency_csv(&r.run.scenario, r.seed, r.results);
            one("latency.csv", csv)
        }),
        format(|r| one("events.csv", crate::events_csv(r.run, r.seed, r.results))),
        format(|r| {
            let table = crate::replications::ReplicationTable::of(r.run, r.summary, r.results);
            one("replications.csv", table.to_csv())
        }),
        format(|r| {
            crate::plots::plots(&crate::plots::PlotInput {
                run: r.run,
                summary: r.summary,
                series: r.series,
                results: r.results,
            })
        }),
    ]
}

/// `windows.json`, `windows.csv` and the plots.
pub fn windows_formats<'a>() -> Formats<'a, WindowsReport> {
    vec![
        format(|r| one("windows.json", r.to_json())),
        format(|r| one("windows.csv", r.to_csv())),
        format(|r| one("report.md", r.markdown().into_bytes())),
        format(crate::windows_plots::plots),
    ]
}

/// `sweep.csv`, `pareto.csv`, `sweep.json` and the plots.
pub fn sweep_formats<'a>() -> Formats<'a, SweepResults<'a>> {
    vec![
        format(|r| one("sweep.csv", r.report.sweep_csv())),
        format(|r| one("pareto.csv", r.report.pareto_csv())),
        format(|r| one("sweep.json", r.report.to_json())),
        format(|r| crate::sweep_plots::plots(r.report, r.plan)),
        // A one-at-a-time sweep is a sensitivity analysis: its ranking too.
        format(|r| crate::sensitivity::files(r.report, r.plan)),
    ]
}

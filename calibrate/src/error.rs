//! What can go wrong, typed: the CLI maps every variant but a failed write
//! to exit code 2 (bad input), and the messages name the file and line.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CalibrateError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: line {line}: {problem}", path.display())]
    Line {
        path: PathBuf,
        line: u64,
        problem: LineProblem,
    },
    #[error("{}: {problem}", path.display())]
    File { path: PathBuf, problem: FileProblem },
    #[error("{0}")]
    Spans(SpansProblem),
    #[error("{} exists: pass --force to replace it", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

impl CalibrateError {
    /// Bad input or usage (exit 2), as opposed to a failed write (exit 3).
    pub fn is_input(&self) -> bool {
        !matches!(self, CalibrateError::Write { .. })
    }
}

/// A line that is not a usable OTLP JSON request.
#[derive(Debug, Error)]
pub enum LineProblem {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error(
        "the file ends in the middle of a JSON object (truncated: was the exporter stopped before it flushed?): {0}"
    )]
    Truncated(String),
    #[error(
        "JSON but not an OTLP ExportTraceServiceRequest (one `{{\"resourceSpans\": [...]}}` per line, the Collector's file exporter format): {0}"
    )]
    NotOtlp(String),
    #[error("span \"{span}\": {field} \"{value}\" is not a hex id of 1 to 32 digits")]
    BadId {
        span: String,
        field: &'static str,
        value: String,
    },
    #[error(
        "span \"{span}\" ends before it starts (start {start} ns, end {end} ns): clocks went backwards"
    )]
    EndBeforeStart { span: String, start: u64, end: u64 },
}

/// A file that is readable but cannot be calibrated from.
#[derive(Debug, Error)]
pub enum FileProblem {
    #[error("empty file: no spans")]
    Empty,
    #[error("no spans in {lines} lines")]
    NoSpans { lines: u64 },
    #[error(
        "{orphans} of {spans} spans have a parent that never appears in the file: spans are missing (sampled out, or another file holds them)"
    )]
    MostlyOrphans { orphans: u64, spans: u64 },
}

/// A problem of the spans taken together.
#[derive(Debug, Error)]
pub enum SpansProblem {
    #[error("no SERVER spans (kind 2) in any input file: nothing to make classes of")]
    NoServerSpans,
    #[error(
        "the SERVER spans span no time (all start at the same instant): cannot derive arrival rates"
    )]
    NoWindow,
    #[error(
        "route \"{route}\" has {n} requests, fewer than --min-samples {min}: too few to fit (lower --min-samples to keep it, or drop its spans)"
    )]
    TooRare { route: String, n: u64, min: u64 },
}

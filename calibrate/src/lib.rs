//! `capsim calibrate`: a commented capsim scenario from OpenTelemetry spans.
//!
//! ```text
//!  spans (OTLP JSON lines) ─▶ ingest (stream, join per trace) ─▶ accumulators
//!        ─▶ fit (MLE + KS) ─▶ scenario TOML (every number cited) ─▶ atomic write
//! ```
//!
//! The span contract and the method are in docs/calibrate.md.

pub mod error;
pub mod fit;
pub mod ingest;
pub mod otlp;
pub mod scenario;
pub mod stats;
pub mod synth;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use error::{CalibrateError, FileProblem, LineProblem, SpansProblem};

/// What to calibrate from, and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub inputs: Vec<PathBuf>,
    /// Scenario name (sanitized to letters, digits and `_`).
    pub name: String,
    /// Fewest requests a route needs; a rarer route is an error.
    pub min_samples: u64,
    /// Draw a progress bar of bytes read (only if stderr is a terminal).
    pub progress: bool,
}

/// The scenario text and what it was made from.
#[derive(Debug)]
pub struct Calibration {
    pub toml: String,
    pub spans: u64,
    pub bytes: u64,
    pub classes: usize,
}

/// Reads every input and renders the scenario. Nothing is written.
pub fn calibrate(opts: &Options) -> Result<Calibration, CalibrateError> {
    let total: u64 = opts
        .inputs
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| {
            // Name the file that could not be opened.
            let path = opts
                .inputs
                .iter()
                .find(|p| std::fs::metadata(p).is_err())
                .cloned()
                .unwrap_or_default();
            CalibrateError::Read { path, source }
        })?
        .iter()
        .sum();
    let bar = (opts.progress && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "calibrating {wide_bar} {binary_bytes}/{binary_total_bytes} · {binary_bytes_per_sec} · about {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    let mut acc = ingest::Acc::new();
    for (i, path) in opts.inputs.iter().enumerate() {
        let r = acc.read_file(path, i, bar.as_ref());
        if r.is_err()
            && let Some(b) = &bar
        {
            b.finish_and_clear();
        }
        r?;
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let name = scenario::sanitize(&opts.name);
    let toml = scenario::render(
        &acc,
        &scenario::Meta {
            name: &name,
            min_samples: opts.min_samples,
            version: env!("CARGO_PKG_VERSION"),
        },
    )
    .map_err(CalibrateError::Spans)?;
    Ok(Calibration {
        toml,
        spans: acc.files.iter().map(|f| f.spans).sum(),
        bytes: total,
        classes: acc.classes.len(),
    })
}

/// Writes `text` to `path` atomically: a temporary file beside it, renamed
/// over it, so an error or a crash never leaves half a scenario. Without
/// `force` an existing file is an error (and the rename will not replace a
/// file created meanwhile).
pub fn write_scenario(path: &Path, text: &str, force: bool) -> Result<(), CalibrateError> {
    if !force && path.exists() {
        return Err(CalibrateError::Exists(path.to_path_buf()));
    }
    let write_err = |source| CalibrateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".capsim-calibrate")
        .tempfile_in(dir)
        .map_err(write_err)?;
    tmp.write_all(text.as_bytes()).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    if force {
        tmp.persist(path).map_err(|e| write_err(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                CalibrateError::Exists(path.to_path_buf())
            } else {
                write_err(e.error)
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn synth(dir: &Path, opts: &synth::SynthOptions) -> Vec<PathBuf> {
        let (a, w) = (dir.join("api.jsonl"), dir.join("worker.jsonl"));
        let mut fa = File::create(&a).unwrap();
        let mut fw = File::create(&w).unwrap();
        synth::write(&mut fa, &mut fw, opts).unwrap();
        vec![a, w]
    }

    fn options(inputs: Vec<PathBuf>) -> Options {
        Options {
            inputs,
            name: "t".into(),
            min_samples: 20,
            progress: false,
        }
    }

    #[test]
    fn recovers_the_synthetic_stack() {
        let dir = tempfile::tempdir().unwrap();
        let o = synth::SynthOptions {
            requests: 4_000,
            loose: true,
            ..Default::default()
        };
        let c = calibrate(&options(synth(dir.path(), &o))).unwrap();
        let t = &c.toml;
        assert_eq!(c.classes, 3);
        // The total rate: 4,000 requests at 50/s.
        let rates: f64 = t
            .lines()
            .filter_map(|l| l.strip_prefix("rate_per_s = "))
            .map(|l| l.split_whitespace().next().unwrap().parse::<f64>().unwrap())
            .sum();
        assert!((rates / 50.0 - 1.0).abs() < 0.05, "{rates}");
        let hit: f64 = t
            .lines()
            .find_map(|l| l.strip_prefix("hit_ratio = "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        assert!((hit - synth::truth::HIT_RATIO).abs() < 0.03, "{hit}");
        assert!(t.contains("on_miss = [{ db = \"postgres\", query = \"select_items\" }, { cache = \"redis\", op = \"set\" }]"));
        assert!(t.contains("{ enqueue = \"workers\", job = \"process_order\" }"));
        assert!(t.contains("concurrency = 4"));
        assert!(t.contains("pool = { size = 10,"));
        // The lognormal CPU of GET /items/{id} comes back as a lognormal.
        assert!(
            t.contains("cpu = { dist = \"lognormal\", mu = -6.2") || t.contains("mu = -6.1"),
            "{t}"
        );
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        write_scenario(&p, "a", false).unwrap();
        assert!(matches!(
            write_scenario(&p, "b", false),
            Err(CalibrateError::Exists(_))
        ));
        write_scenario(&p, "c", true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "c");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}

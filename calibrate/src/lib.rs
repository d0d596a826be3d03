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
    /// Requests run on threads or several cores, not one event loop per
    /// process: no event-loop time is removed from waits, and a request's
    /// CPU is one burst (docs/calibrate.md, "Turns on the event loop").
    pub threaded: bool,
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
    acc.event_loop = !opts.threaded;
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
    let mut builder = tempfile::Builder::new();
    builder.prefix(".capsim-calibrate");
    // tempfile makes private (0600) files; a scenario is an ordinary file, so
    // ask for 0666 and let the umask narrow it as it does for any new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(write_err)?;
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
            threaded: false,
            progress: false,
        }
    }

    /// The classes' rates of a calibrated scenario, summed.
    fn total_rate(t: &str) -> f64 {
        t.lines()
            .filter_map(|l| l.strip_prefix("rate_per_s = "))
            .map(|l| l.split_whitespace().next().unwrap().parse::<f64>().unwrap())
            .sum()
    }

    /// Two requests on one event loop: B runs (2-5 ms) while A's Redis GET
    /// (1-6 ms) is out, so 3 of the GET's 5 ms are loop time, not Redis.
    #[test]
    fn removes_event_loop_time_from_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api-1.jsonl");
        let ms = 1_000_000u64;
        let span = |trace: u64,
                    id: u64,
                    parent: u64,
                    name: &str,
                    kind: u8,
                    a: u64,
                    b: u64,
                    attrs: &str| {
            format!(
                "{{\"traceId\":\"{trace:032x}\",\"spanId\":\"{id:016x}\",\"parentSpanId\":\"{}\",\"name\":\"{name}\",\"kind\":{kind},\"startTimeUnixNano\":\"{a}\",\"endTimeUnixNano\":\"{b}\",\"attributes\":[{attrs}]}}",
                if parent == 0 {
                    String::new()
                } else {
                    format!("{parent:016x}")
                }
            )
        };
        let sattr =
            |k: &str, v: &str| format!("{{\"key\":\"{k}\",\"value\":{{\"stringValue\":\"{v}\"}}}}");
        let mut text = String::new();
        for k in 0..40u64 {
            let t0 = 1_700_000_000_000_000_000 + k * 100 * ms;
            let (ta, tb) = (2 * k + 1, 2 * k + 2);
            let get = format!(
                "{},{},{{\"key\":\"capsim.cache.hit\",\"value\":{{\"boolValue\":true}}}}",
                sattr("db.system.name", "redis"),
                sattr("db.operation.name", "GET")
            );
            let spans = [
                span(
                    ta,
                    10 * ta + 2,
                    10 * ta + 1,
                    "redis GET",
                    3,
                    t0 + ms,
                    t0 + 6 * ms,
                    &get,
                ),
                span(
                    tb,
                    10 * tb + 1,
                    0,
                    "GET /b",
                    2,
                    t0 + 2 * ms,
                    t0 + 5 * ms,
                    &sattr("http.route", "/b"),
                ),
                span(
                    ta,
                    10 * ta + 1,
                    0,
                    "GET /a",
                    2,
                    t0,
                    t0 + 10 * ms,
                    &sattr("http.route", "/a"),
                ),
            ];
            text.push_str(&format!(
                "{{\"resourceSpans\":[{{\"resource\":{{\"attributes\":[{}]}},\"scopeSpans\":[{{\"spans\":[{}]}}]}}]}}\n",
                sattr("service.name", "api"),
                spans.join(",")
            ));
        }
        std::fs::write(&path, text).unwrap();
        let c = calibrate(&options(vec![path.clone()])).unwrap();
        let t = &c.toml;
        assert!(t.contains("over 40 spans (60.0%)"), "{t}");
        // The GET's service: 5 ms minus B's 3 ms.
        assert!(
            t.contains("# get_service: CLIENT span \"redis GET\" duration, n = 40, mean 2.000 ms"),
            "{t}"
        );
        // A's 5 ms of CPU: 1 ms before the GET, 4 ms after it.
        assert!(
            t.contains("self time before the first wait, n = 40, mean 1.000 ms"),
            "{t}"
        );
        assert!(
            t.contains("after the calls return, n = 40, mean 4.000 ms"),
            "{t}"
        );
        // On threads, B's CPU does not hold A's call up: the GET keeps its
        // 5 ms and A's CPU is one burst.
        let c = calibrate(&Options {
            threaded: true,
            ..options(vec![path])
        })
        .unwrap();
        let t = &c.toml;
        assert!(
            t.contains("# get_service: CLIENT span \"redis GET\" duration, n = 40, mean 5.000 ms"),
            "{t}"
        );
        assert!(!t.contains("turn on the event loop"), "{t}");
    }

    #[test]
    fn recovers_the_synthetic_stack() {
        let dir = tempfile::tempdir().unwrap();
        let o = synth::SynthOptions {
            requests: 4_000,
            loose: true,
            ..Default::default()
        };
        // The synthetic requests overlap as on threads (each span is its
        // service time), not as on one event loop.
        let c = calibrate(&Options {
            threaded: true,
            ..options(synth(dir.path(), &o))
        })
        .unwrap();
        let t = &c.toml;
        assert_eq!(c.classes, 3);
        // The total rate: 4,000 requests at 50/s.
        let rates = total_rate(t);
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
        // The lognormal CPU of GET /items/{id} comes back as one lognormal
        // burst with the generator's parameters.
        let first = t
            .lines()
            .skip_while(|l| !l.starts_with("[classes.get_items_id]"))
            .find_map(|l| {
                l.trim()
                    .strip_prefix("{ api = \"api\", cpu = { dist = \"lognormal\", mu = ")
            })
            .expect("a lognormal CPU burst");
        let mu: f64 = first
            .split([',', ' ', '}'])
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let sigma: f64 = first
            .split("sigma = ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (mu0, sigma0) = synth::truth::ITEMS_CPU;
        assert!((mu - mu0).abs() < 0.03, "{mu}");
        assert!((sigma - sigma0).abs() < 0.03, "{sigma}");
        assert!(!t.contains("turn on the event loop"), "{t}");
        assert!(!t.contains("Event-loop time removed"), "{t}");
        assert!(!t.contains("# API processes:"), "{t}");
    }

    /// Spans from two collection periods an hour apart, the processes
    /// restarted in between (new pids): one API process and one worker,
    /// and the rate over the time spans came in, not over the hour. Two
    /// processes sending at the same time are two.
    #[test]
    fn counts_processes_alive_at_once_and_leaves_gaps_out_of_the_rate() {
        let dir = tempfile::tempdir().unwrap();
        let period = |tag: &str, start_ns: u64, seed: u64, pids: (u32, u32)| {
            let o = synth::SynthOptions {
                requests: 1_500,
                start_ns,
                seed,
                pids,
                ..Default::default()
            };
            let (a, w) = (
                dir.path().join(format!("api-{tag}.jsonl")),
                dir.path().join(format!("worker-{tag}.jsonl")),
            );
            synth::write(
                &mut File::create(&a).unwrap(),
                &mut File::create(&w).unwrap(),
                &o,
            )
            .unwrap();
            vec![a, w]
        };
        let t0 = synth::SynthOptions::default().start_ns;
        let hour = 3_600_000_000_000;
        let threaded = |inputs| Options {
            threaded: true,
            ..options(inputs)
        };

        let mut inputs = period("a", t0, 1, (10, 11));
        inputs.extend(period("b", t0 + hour, 2, (20, 21)));
        let t = calibrate(&threaded(inputs)).unwrap().toml;
        assert!(t.contains("cores = 1 "), "{t}");
        assert!(t.contains("workers = 1 "), "{t}");
        assert!(
            t.contains("at once (resource process.pid, 2 in all)"),
            "{t}"
        );
        assert!(
            t.contains("# processes that sent CONSUMER spans at once, 2 in all"),
            "{t}"
        );
        assert!(t.contains("pool = { size = 10,"), "{t}");
        assert!(
            t.contains(
                "s in which no API process sent spans (between collection periods) left out"
            ),
            "{t}"
        );
        // Each period's process on a line of its own: when, how many, and
        // its CPU per request (the synthetic stack's mix: 70% items,
        // 20% orders, 10% health).
        assert!(
            t.contains("# API processes: 2 sent SERVER spans, at most 1 at once;"),
            "{t}"
        );
        let line = |pid: &str| {
            t.lines()
                .find(|l| l.starts_with(&format!("#   - api/{pid}: ")))
                .unwrap_or_else(|| panic!("no line of api/{pid} in {t}"))
        };
        assert!(line("10").starts_with("#   - api/10: 0.0 to "), "{t}");
        assert!(line("20").contains(": 3600."), "{t}");
        let (items, orders, health) = (
            (synth::truth::ITEMS_CPU.0 + synth::truth::ITEMS_CPU.1.powi(2) / 2.0).exp(),
            synth::truth::ORDERS_CPU.0 * synth::truth::ORDERS_CPU.1,
            synth::truth::HEALTH_CPU,
        );
        let [a, b, c] = synth::truth::MIX;
        let mean_ms = 1e3 * (a * items + b * orders + c * health);
        for pid in ["10", "20"] {
            let l = line(pid);
            assert!(l.contains(" 1,500 requests, "), "{l}");
            let ms: f64 = l
                .rsplit(", ")
                .next()
                .unwrap()
                .trim_end_matches(" ms")
                .parse()
                .unwrap();
            assert!(
                (ms / mean_ms - 1.0).abs() < 0.1,
                "{l}: {mean_ms} ms expected"
            );
        }
        // 3,000 requests at 50/s, not over the hour between.
        let rate = total_rate(&t);
        assert!((rate / 50.0 - 1.0).abs() < 0.05, "{rate}");

        // The same two processes' spans over the same minute: two cores,
        // twice the rate, and each process's pool.
        let mut inputs = period("c", t0, 3, (30, 31));
        inputs.extend(period("d", t0, 4, (40, 41)));
        let t = calibrate(&threaded(inputs)).unwrap().toml;
        assert!(t.contains("cores = 2 "), "{t}");
        assert!(t.contains("workers = 2 "), "{t}");
        assert!(!t.contains("in all"), "{t}");
        assert!(
            t.contains("# API processes: 2 sent SERVER spans, at most 2 at once;"),
            "{t}"
        );
        assert!(!t.contains("left out"), "{t}");
        assert!(t.contains("pool = { size = 20,"), "{t}");
        let rate = total_rate(&t);
        assert!((rate / 100.0 - 1.0).abs() < 0.05, "{rate}");
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

    #[cfg(unix)]
    #[test]
    fn a_written_scenario_has_the_mode_of_a_newly_created_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let p = dir.path().join("s.toml");
        write_scenario(&p, "a", false).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), mode(&plain));
    }
}

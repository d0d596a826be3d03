//! The cost estimate (`capsim validate`) against what runs measure, the
//! limits `run` and `sweep` enforce unless `--force`, and `capsim schema`.

use std::process::Command;

use crate::common::{capsim, stderr, stdout};

/// `12.3 M` → 12.3e6.
fn si(number: &str, unit: &str) -> f64 {
    let x: f64 = number.parse().unwrap();
    x * match unit {
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => 1.0,
    }
}

/// The estimated events and memory (MiB) in `validate`'s output.
fn estimated(out: &str) -> (f64, f64) {
    let line = out
        .lines()
        .find(|l| l.starts_with("estimated cost:"))
        .unwrap_or_else(|| panic!("no estimate in: {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = |w: &str| {
        words
            .iter()
            .position(|x| x.trim_end_matches(',') == w)
            .unwrap()
    };
    let e = at("events");
    let events = si(words[e - 2], words[e - 1]);
    let m = at("memory");
    let mib: f64 = words[m + 2].parse().unwrap();
    let mib = if words[m + 3] == "GiB" {
        mib * 1024.0
    } else {
        mib
    };
    (events, mib)
}

/// Events and peak memory (MiB) in `run`'s footer.
fn measured(out: &str) -> (f64, Option<f64>) {
    let line = out.lines().find(|l| l.contains(" events in ")).unwrap();
    let events: f64 = line.split_whitespace().next().unwrap().parse().unwrap();
    let peak = line.split("peak memory ").nth(1).map(|rest| {
        let mut w = rest.split_whitespace();
        let v: f64 = w.next().unwrap().parse().unwrap();
        if w.next().unwrap().starts_with("GiB") {
            v * 1024.0
        } else {
            v
        }
    });
    (events, peak)
}

fn estimate_and_run(args: &[&str]) -> ((f64, f64), (f64, Option<f64>)) {
    estimate_and_run_with(args, &[])
}

/// As [`estimate_and_run`], with `run_only` added to the run's arguments.
fn estimate_and_run_with(args: &[&str], run_only: &[&str]) -> ((f64, f64), (f64, Option<f64>)) {
    let mut v = vec!["validate"];
    v.extend_from_slice(args);
    let o = capsim(&v);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let est = estimated(&stdout(&o));
    let mut v = vec!["run"];
    v.extend_from_slice(args);
    v.extend_from_slice(run_only);
    let o = capsim(&v);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (est, measured(&stdout(&o)))
}

#[test]
fn the_estimate_matches_what_runs_measure() {
    let events_within = |tolerance: f64, args: &[&str]| {
        let ((events, _), (ran, _)) = estimate_and_run(args);
        assert!(
            (events / ran - 1.0).abs() < tolerance,
            "{}: estimated {events} events, ran {ran}",
            args.join(" ")
        );
    };
    // M/M/10: the pilot (a prefix) behaves as the whole run.
    events_within(
        0.05,
        &[
            "mmc-reference",
            "--set",
            "simulation.duration=6h",
            "--replications",
            "4",
            "--set",
            "simulation.warmup=10m",
        ],
    );
    // The full stack with regions: routes, caches, replication.
    events_within(
        0.1,
        &[
            "geo-expansion",
            "--set",
            "simulation.duration=40m",
            "--replications",
            "2",
        ],
    );
    // A 20x spike: most arrival candidates are thinned away before it, and
    // the estimate counts them from the envelope, not from the pilot.
    events_within(0.1, &["recete", "--replications", "2"]);
    // Memory grows with the intervals: 1 s intervals over 30 h, their
    // series kept and written (the estimate counts the outputs).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ((_, mib), (_, peak)) = estimate_and_run_with(
        &[
            "mmc-reference",
            "--set",
            "simulation.interval=1s",
            "--set",
            "simulation.replications=2",
            "--threads",
            "2",
        ],
        &["--out", out.to_str().unwrap()],
    );
    if let Some(peak) = peak {
        assert!(
            mib / peak > 0.7 && mib / peak < 1.6,
            "memory: estimated {mib} MiB, peak {peak} MiB"
        );
    }
}

#[test]
fn run_and_sweep_refuse_a_run_over_the_limits_unless_forced() {
    let with_limit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_capsim"))
            .args(args)
            .env("CAPSIM_MAX_EVENTS", "1e6")
            .output()
            .unwrap()
    };
    // mmc-reference is about 2 M events per replication.
    let o = with_limit(&["run", "mmc-reference", "--replications", "2"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for says in [
        "over the limit of 1.0 M",
        "CAPSIM_MAX_EVENTS",
        "fewer replications (--replications, now 2",
        "simulation.duration (now 1d6h",
        "--force",
    ] {
        assert!(err.contains(says), "says `{says}`: {err}");
    }

    let o = with_limit(&[
        "run",
        "mmc-reference",
        "--replications",
        "2",
        "--set",
        "simulation.duration=2h",
        "--force",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "--force runs it: {}", stderr(&o));

    // validate says so, but succeeds: the scenario is valid.
    let o = with_limit(&["validate", "mmc-reference"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("`capsim run` would refuse it"),
        "{}",
        stdout(&o)
    );

    // A sweep counts its points, and writes nothing when it refuses.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = with_limit(&[
        "sweep",
        "mmc-reference",
        "--param",
        "tiers.servers.servers=10,11,12",
        "--set",
        "simulation.duration=6h",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(!out.exists(), "a refused sweep creates nothing");

    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(["run", "mmc-reference"])
        .env("CAPSIM_MAX_EVENTS", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("CAPSIM_MAX_EVENTS=lots"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn schema_prints_a_draft_07_json_schema() {
    let o = capsim(&["schema"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown keys are errors"
    );
    for table in [
        "scenario",
        "simulation",
        "classes",
        "tiers",
        "slos",
        "regions",
    ] {
        assert!(schema["properties"].get(table).is_some(), "{table}");
    }
}

/// A service time past the clock (e^45 s) used to wrap and report nonsense
/// with exit 0; it is refused at validation, naming the distribution and
/// the field, before anything is written.
#[test]
fn a_service_time_past_the_clock_exits_2_naming_the_field_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = capsim(&[
        "run",
        "tandem",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--set",
        "tiers.frontend.service={ dist = \"lognormal\", mu = 45, sigma = 0.1 }",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for says in [
        "field `tiers.frontend.service`",
        "lognormal",
        "mean",
        "1 year",
    ] {
        assert!(err.contains(says), "says `{says}`: {err}");
    }
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(!out.exists(), "no partial output");
}

/// Counts without a bound used to abort the process (exit 134) allocating
/// for them; each is refused at validation with its limit.
#[test]
fn counts_past_their_limits_exit_2_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (set, says) in [
        ("tiers.api.instances=1000000000", "at most 100000"),
        ("tiers.redis.shards=4000000000", "at most 10000"),
        ("tiers.workers.concurrency=4000000000", "at most 10000"),
    ] {
        let o = capsim(&[
            "run",
            "black-friday",
            "--out",
            out.to_str().unwrap(),
            "--set",
            set,
        ]);
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        let field = set.split('=').next().unwrap();
        let err = stderr(&o);
        assert!(err.contains(&format!("field `{field}`")), "{set}: {err}");
        assert!(err.contains(says), "{set}: {err}");
        assert!(!out.exists(), "{set}: no partial output");
    }
}

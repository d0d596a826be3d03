//! Guards against a wrong answer with exit 0 or a silent loss. Each test
//! asserts the exit code, the message, and that no partial output is left
//! behind.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{capsim, read_json, stderr, stdout};

/// Runs capsim with stdout to `/dev/full` (every write fails with ENOSPC);
/// `None` where there is no `/dev/full` (not Linux).
fn to_full_disk(args: &[&str]) -> Option<Output> {
    let full = File::create("/dev/full").ok()?;
    Some(
        Command::new(env!("CARGO_BIN_EXE_capsim"))
            .args(args)
            .stdout(Stdio::from(full))
            .output()
            .expect("the capsim binary runs"),
    )
}

/// Runs capsim with stdout a pipe whose reader is gone before capsim
/// writes: every write fails with EPIPE.
fn to_closed_pipe(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the capsim binary runs");
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[track_caller]
fn exit(o: &Output, code: i32) -> String {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout {}\nstderr {}",
        stdout(o),
        stderr(o)
    );
    stderr(o)
}

/// Runs capsim with `args`, sends it SIGINT after three seconds (as Ctrl-C
/// would) and waits for it.
fn interrupted(args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    child.wait_with_output().unwrap()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn stdout_on_a_full_disk_fails_with_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep_out = tmp.path().join("sweep");
    let sweep_dir = sweep_out.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", "tandem", "--replications", "2", "--json"],
        vec!["run", "tandem", "--replications", "2"],
        vec![
            "sweep",
            "tandem",
            "--replications",
            "2",
            "--param",
            "tiers.backend.servers=2,3",
            "--json",
            "--out",
            sweep_dir,
        ],
        vec!["catalogue"],
        vec!["schema"],
        vec!["scenarios", "list"],
        vec!["scenarios", "show", "tandem"],
        vec!["validate", "tandem"],
        vec!["--help"],
    ];
    for args in &commands {
        let Some(o) = to_full_disk(args) else {
            return;
        };
        let err = exit(&o, 3);
        assert!(
            err.contains("error: writing to standard output: No space left on device"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // The sweep's own files were complete before its stdout failed: each
    // written whole (atomically), no temporary file left beside them.
    let written = files(&sweep_out);
    assert!(written.iter().all(|f| !f.contains(".tmp")), "{written:?}");
    assert_eq!(
        read_json(&sweep_out.join("sweep.json"))["points"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

/// `capsim ... | head -1`: the reader has what it wanted and closed the
/// pipe. No panic, no error message, and the exit code the command would
/// have had: 0, or 1 for a breached `--check`.
#[test]
fn a_reader_closing_the_pipe_early_is_a_quiet_exit() {
    for args in [
        &["validate", "tandem"][..],
        &["run", "tandem", "--replications", "2"],
        &["run", "tandem", "--replications", "2", "--json"],
        &["scenarios", "list"],
        &["catalogue"],
        &["--version"],
    ] {
        let o = to_closed_pipe(args);
        let err = exit(&o, 0);
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    let o = to_closed_pipe(&["run", "step-policy", "--replications", "2", "--check"]);
    let err = exit(&o, 1);
    assert!(err.contains("check failed: objective breached"), "{err}");
}

#[test]
fn threads_far_beyond_the_cores_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let dir = out.to_str().unwrap();
    for args in [
        &["run", "tandem", "--threads", "100000", "--out", dir][..],
        &[
            "sweep",
            "tandem",
            "--param",
            "tiers.backend.servers=2,3",
            "--threads",
            "100000",
            "--out",
            dir,
        ],
        &["validate", "tandem", "--threads", "100000"],
    ] {
        let err = exit(&capsim(args), 2);
        assert!(
            err.contains("error: --threads 100000: at most ")
                && err.contains("per core")
                && err.contains("0 runs one per core"),
            "{args:?}: {err}"
        );
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
    // 0 is one per core; a few per core are accepted.
    let o = capsim(&["validate", "tandem", "--threads", "0"]);
    exit(&o, 0);
    assert!(stdout(&o).contains("tandem: valid"), "{}", stdout(&o));
    exit(&capsim(&["validate", "tandem", "--threads", "2"]), 0);
}

/// Ctrl-C after some replications finished: exit 130, and the outputs say
/// they cover only those (a clean run's summary has no such keys).
#[test]
fn an_interrupted_run_marks_its_summary_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // About 0.1 s per replication with one thread: some finish before the
    // signal, most do not.
    let o = interrupted(&[
        "run",
        "mmc-reference",
        "--set",
        "simulation.duration=20h",
        "--replications",
        "500",
        "--threads",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = exit(&o, 130);
    assert!(
        err.contains("of 500 replications finished")
            && err.contains("marked \"interrupted\" in summary.json"),
        "{err}"
    );

    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["interrupted"], Value::Bool(true), "{s}");
    assert_eq!(s["interrupted_by"], "cancelled");
    assert_eq!(s["replications_requested"], 500);
    let done: Vec<u64> = s["completed_replications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = s["replications"].as_u64().unwrap();
    assert!((1..500).contains(&n), "{n} replications");
    assert_eq!(done.len() as u64, n);
    assert!(done.windows(2).all(|w| w[0] < w[1]) && done.iter().all(|&i| i < 500));

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains(&format!(
            "**Interrupted (cancelled): only {n} of 500 replications finished**"
        )),
        "{report}"
    );
    let written = files(&out);
    assert!(written.iter().all(|f| !f.contains(".tmp")), "{written:?}");

    // A run that finished has none of these keys.
    let clean = tmp.path().join("clean");
    exit(
        &capsim(&[
            "run",
            "tandem",
            "--replications",
            "2",
            "--quiet",
            "--out",
            clean.to_str().unwrap(),
        ]),
        0,
    );
    let s = read_json(&clean.join("summary.json"));
    for key in [
        "interrupted",
        "interrupted_by",
        "replications_requested",
        "completed_replications",
    ] {
        assert!(s.get(key).is_none(), "{key} in a clean run");
    }
    let report = std::fs::read_to_string(clean.join("report.md")).unwrap();
    assert!(!report.contains("Interrupted"));
}

/// The same for a long horizon in windows: `windows.json` says which
/// replications and how many of the windows it covers.
#[test]
fn an_interrupted_windowed_run_marks_its_windows_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // 13 windows of about a second each per replication, one thread.
    let o = interrupted(&[
        "run",
        "ten-x-growth",
        "--replications",
        "20",
        "--threads",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = exit(&o, 130);
    assert!(
        err.contains("windows finished in")
            && err.contains("marked \"interrupted\" in windows.json"),
        "{err}"
    );
    let w = read_json(&out.join("windows.json"));
    assert_eq!(w["interrupted"], Value::Bool(true), "{w}");
    assert_eq!(w["interrupted_by"], "cancelled");
    assert_eq!(w["replications_requested"], 20);
    assert_eq!(w["windows_requested"], 13);
    let n = w["replications"].as_u64().unwrap();
    assert_eq!(
        w["completed_replications"].as_array().unwrap().len() as u64,
        n
    );
    let windows = w["windows"].as_array().unwrap().len();
    assert!(
        n < 20 || windows < 13,
        "{n} replications of {windows} windows: not interrupted"
    );
    let written = files(&out);
    assert!(written.iter().all(|f| !f.contains(".tmp")), "{written:?}");
}

fn tandem_sweep<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "sweep",
        "tandem",
        "--replications",
        "2",
        "--set",
        "simulation.duration=30m",
        "--param",
        "tiers.backend.servers=2,3,4",
        "--quiet",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_param_given_twice_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut args = tandem_sweep(out.to_str().unwrap(), &[]);
    args.extend(["--param", "tiers.backend.servers=5"]);
    let err = exit(&capsim(&args), 2);
    assert!(
        err.contains("--param tiers.backend.servers: given twice; list every value in one --param"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_point_file_edited_in_one_shard_is_refused_by_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let (s1, s2, merged) = (
        tmp.path().join("s1"),
        tmp.path().join("s2"),
        tmp.path().join("merged"),
    );
    exit(
        &capsim(&tandem_sweep(s1.to_str().unwrap(), &["--shard", "1/2"])),
        0,
    );
    exit(
        &capsim(&tandem_sweep(s2.to_str().unwrap(), &["--shard", "2/2"])),
        0,
    );

    // Point 0 (the baseline) is shard 1's alone: edit one of its figures,
    // keeping the file valid JSON with its checksum.
    let point = s1.join("points/00000.json");
    let mut rec = read_json(&point);
    rec["replications"][0][0] = serde_json::json!(1.5);
    std::fs::write(&point, serde_json::to_vec_pretty(&rec).unwrap()).unwrap();

    let merge = |dirs: &[&Path]| {
        let mut args = vec!["merge"];
        args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
        args.extend(["--out", merged.to_str().unwrap()]);
        capsim(&args)
    };
    let err = exit(&merge(&[&s1, &s2]), 2);
    assert!(
        err.contains(&format!(
            "{}: its contents do not match its checksum",
            point.display()
        )),
        "{err}"
    );
    assert!(!merged.exists(), "merge wrote {:?}", files(&merged));
    // Resuming the shard refuses it too, rather than reusing or replacing it.
    let err = exit(
        &capsim(&tandem_sweep(s1.to_str().unwrap(), &["--shard", "1/2"])),
        2,
    );
    assert!(
        err.contains("its contents do not match its checksum"),
        "{err}"
    );

    // Deleted, the point is run again and the merge goes through.
    std::fs::remove_file(&point).unwrap();
    exit(
        &capsim(&tandem_sweep(s1.to_str().unwrap(), &["--shard", "1/2"])),
        0,
    );
    exit(&merge(&[&s1, &s2]), 0);
    assert!(merged.join("sweep.csv").exists());
}

/// tandem with ten thousand requests a second: its front end serves fifty,
/// so nearly every request waits to the end.
const OVERLOADED: [&str; 4] = [
    "--set",
    "classes.requests.rate_per_s=10000",
    "--set",
    "simulation.warmup=0s",
];

#[test]
fn an_overloaded_run_is_refused_for_the_memory_its_backlog_takes() {
    let mut args = vec!["run", "tandem", "--set", "simulation.duration=6h"];
    args.extend(OVERLOADED);
    let err = exit(&capsim(&args), 2);
    for says in ["CAPSIM_MAX_MEMORY_GIB", "overloaded", "pile up", "--force"] {
        assert!(err.contains(says), "says `{says}`: {err}");
    }
}

#[test]
fn a_forced_overloaded_run_stops_at_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "run",
        "tandem",
        "--set",
        "simulation.duration=1h",
        "--replications",
        "2",
        "--threads",
        "1",
        "--force",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(OVERLOADED);
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(&args)
        .env("CAPSIM_MAX_MEMORY_GIB", "0.25")
        .output()
        .unwrap();
    let err = exit(&o, 2);
    for says in [
        "stopped over the budget",
        "over the limit of 256 MiB (CAPSIM_MAX_MEMORY_GIB)",
        "no replication of tandem had finished: nothing written",
    ] {
        assert!(err.contains(says), "says `{says}`: {err}");
    }
    assert!(!out.exists(), "nothing written");
}

#[test]
fn validate_stays_bounded_for_a_thousandfold_spike() {
    // A thousandfold spike on 1,000 req/s: the thinning draws a million
    // candidates a second from the start, and the pilot stops after a few
    // million events instead of simulating its 50 s.
    let o = capsim(&[
        "validate",
        "black-friday",
        "--set",
        "workload.rate_per_s=1000",
        "--set",
        "workload.profile.multiplier=1000",
    ]);
    exit(&o, 0);
    let out = stdout(&o);
    let pilot = out
        .split("from a pilot of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pilot in {out}"));
    // Uncapped it would be the 65.536 s that hold 50,000 arrivals.
    let (secs, unit) = pilot.split_at(pilot.find(|c: char| !c.is_ascii_digit()).unwrap());
    assert!(
        unit.starts_with('s') && secs.parse::<u32>().unwrap() < 30,
        "a pilot of seconds: {pilot}"
    );
    assert!(out.contains("`capsim run` would refuse it"), "{out}");
}

#[test]
fn a_run_over_its_memory_budget_keeps_the_replications_that_finished() {
    // One-second intervals over 30 h: each replication keeps about 19 MiB
    // of series after it ends (108,000 intervals), so a 100 MiB budget is
    // passed after the first replication and before the tenth (the fifth
    // here).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args([
            "run",
            "mmc-reference",
            "--interval",
            "1s",
            "--replications",
            "10",
            "--threads",
            "1",
            "--force",
            "-q",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("CAPSIM_MAX_MEMORY_GIB", "0.1")
        .output()
        .unwrap();
    let err = exit(&o, 2);
    for says in [
        "stopped over the budget",
        "(CAPSIM_MAX_MEMORY_GIB)",
        "of 10 replications finished",
        "marked \"interrupted\" in summary.json",
    ] {
        assert!(err.contains(says), "says `{says}`: {err}");
    }
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["interrupted"], Value::Bool(true));
    assert_eq!(summary["interrupted_by"], "budget");
    let done = summary["completed_replications"].as_array().unwrap().len();
    assert!((1..10).contains(&done), "{done} replications kept");
    assert_eq!(summary["replications"], done);
    assert!(
        !files(&out).iter().any(|f| f.contains(".tmp")),
        "no temporary file left: {:?}",
        files(&out)
    );
}

/// An interrupted headroom search keeps the probes it finished, and the
/// same command resumes from them.
#[test]
fn an_interrupted_headroom_search_keeps_its_probes_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hr");
    let args = [
        "headroom",
        "step-policy",
        "--replications",
        "2",
        "--set",
        "simulation.duration=2h",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = interrupted(&args);
    let err = exit(&o, 130);
    assert!(
        err.contains("probes done in") && err.contains("run the same command again to resume"),
        "{err}"
    );
    let kept = files(&out);
    assert!(kept.iter().all(|f| !f.contains(".tmp")), "{kept:?}");
    assert!(!out.join("headroom.json").exists());
    let done = kept.iter().filter(|f| f.starts_with("probes")).count();
    let again = capsim(&args);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).contains(&format!(", {done} resumed)")),
        "{done} probes kept: {}",
        stdout(&again)
    );
}

/// A draw in a distribution's far tail, beyond what the clock holds, is cut
/// and the run says how many were, rather than wrapping or staying silent.
#[test]
fn draws_cut_at_the_clocks_limit_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("far-tail.toml");
    std::fs::write(
        &file,
        r#"
[scenario]
name = "far-tail"
[simulation]
duration = "10m"
warmup = "1m"
replications = 2
seed = 5
[classes.web]
rate_per_s = 50
route = [{ delay = { dist = "gamma", shape = 0.01, mean = "365d" } }, "web"]
[tiers.web]
kind = "station"
servers = 4
service = { dist = "exponential", mean = "10ms" }
"#,
    )
    .unwrap();
    let o = capsim(&["run", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("drawn durations were beyond about 146 years"),
        "{err}"
    );
    // Without a far tail, nothing is said.
    let o = capsim(&[
        "run",
        "tandem",
        "--replications",
        "2",
        "--set",
        "simulation.duration=20m",
    ]);
    assert!(!stderr(&o).contains("drawn durations"), "{}", stderr(&o));
}

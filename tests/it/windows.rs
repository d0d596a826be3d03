//! End-to-end: a long horizon run as windows, variants, and replayed
//! traces, through the `capsim` binary.

use serde_json::Value;

use crate::common::{capsim, read_json, stderr};

#[test]
fn a_windowed_run_writes_a_row_per_window_and_its_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("growth");
    let o = capsim(&[
        "run",
        "ten-x-growth",
        "--set",
        "windows.count=4",
        // The seed's expectations name windows up to 12 (week 25): a
        // shorter chain leaves them out.
        "--set",
        "expectations=[]",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("4 windows of 25m every 2w"), "{table}");
    assert!(
        table.contains("2026-01-27 13:40:00"),
        "week 3's window: {table}"
    );
    let csv = std::fs::read_to_string(out.join("windows.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "a header and 4 windows");
    for col in [
        "window",
        "start_utc",
        "latency_p99_ms_lo",
        "api:instances_end",
        "redis:shards_peak_hi",
        "pg:replicas_start",
        "slo:p95-under-200ms:breach_minutes",
    ] {
        assert!(lines[0].split(',').any(|c| c == col), "column {col}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## What breaks first"), "{report}");
    // Week 3: Redis gains a cold shard at the peak, its misses fill the
    // database's pools, and the p95 objective breaches in both replications.
    assert!(
        report.contains("Window 1 (starting 2026-01-27T13:40:00Z, 927 requests/s offered) is the first where an objective breaches, in 2/2 replications")
            && report.contains("There the busiest tier is api"),
        "what breaks first: {report}"
    );
    assert!(report.contains("![windows](plots/windows.png)"), "{report}");
    let json = read_json(&out.join("windows.json"));
    let windows = json["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 4);
    assert_eq!(json["every_s"], 1_209_600.0);
    // Redis outgrows its node by week 3 (window 1) in the bundled story.
    assert_eq!(json["first_growth"]["redis"], 1);
    assert!(windows[3]["offered_per_s"].as_f64() > windows[0]["offered_per_s"].as_f64());
    for f in ["plots/windows.png", "plots/windows.svg"] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 1000, "{f}");
    }
}

#[test]
fn variants_apply_before_set_and_bad_ones_are_named() {
    let o = capsim(&["validate", "black-friday", "--variant", "unprepared"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = capsim(&["run", "black-friday", "--variant", "prepared"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("--variant prepared: no such variant (it has: unprepared, cpu-bound-jobs)"),
        "{}",
        stderr(&o)
    );
    // A --set after the variant wins; an error in a field the variant wrote
    // names the variant.
    let o = capsim(&[
        "validate",
        "product-launch",
        "--variant",
        "before",
        "--set",
        "tiers.api.scaling.max=1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--set tiers.api.scaling.max=1"),
        "{}",
        stderr(&o)
    );
    let o = capsim(&["scenarios", "list"]);
    let list = String::from_utf8_lossy(&o.stdout);
    assert!(list.contains("--variant phase2"), "{list}");
}

#[test]
fn a_replayed_trace_next_to_the_scenario_is_found_and_its_errors_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shop.toml"),
        r#"
[scenario]
name = "shop"
[simulation]
duration = "30m"
replications = 2
[classes.web]
rate_per_s = 5
profile = { kind = "replay", file = "traffic.csv" }
route = ["web"]
[tiers.web]
kind = "station"
servers = 4
service = { dist = "exponential", mean = "10ms" }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("traffic.csv"),
        "timestamp,requests_per_s\n2026-11-27T00:00:00Z,10\n2026-11-27T00:30:00Z,30\n",
    )
    .unwrap();
    let scenario = dir.path().join("shop.toml");
    let o = capsim(&["run", scenario.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    // The trace's mean rate over the run is 20/s: 36,000 arrivals.
    let arrived = s["requests"]["arrived"]["estimate"].as_f64().unwrap();
    assert!(
        (arrived - 36_000.0).abs() < 4.0 * 36_000f64.sqrt(),
        "{arrived}"
    );
    std::fs::write(
        dir.path().join("traffic.csv"),
        "timestamp,requests_per_s\n0,10\n60,-3\n",
    )
    .unwrap();
    let o = capsim(&["run", scenario.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("traffic.csv line 3"), "{e}");
    assert!(e.contains("classes.web.profile.file"), "{e}");
}

/// `--window K` runs one window of a chain alone, as one horizon: the first
/// one gives exactly the chain's first window (its seed, traffic and
/// fleet); headroom and sensitivity take it, and refuse a chain without it.
#[test]
fn one_window_runs_alone_and_the_first_is_the_chains_first() {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("chain");
    let o = capsim(&[
        "run",
        "ten-x-growth",
        "--set",
        "windows.count=2",
        "--set",
        "expectations=[]",
        "--replications",
        "2",
        "--quiet",
        "--out",
        chain.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let w = read_json(&chain.join("windows.json"));
    let o = capsim(&[
        "run",
        "ten-x-growth",
        "--window",
        "1",
        // The expectations are on windows.json, which one window alone
        // does not write.
        "--set",
        "expectations=[]",
        "--replications",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    for (q, alone) in [
        ("mean", &s["latency_ms"]["mean"]),
        ("p99", &s["latency_ms"]["p99"]),
    ] {
        assert_eq!(&w["windows"][0]["latency_ms"][q], alone, "{q}");
    }
    assert_eq!(
        w["windows"][0]["throughput_per_s"], s["throughput_per_s"],
        "throughput"
    );

    // A later window says what it leaves out.
    let o = capsim(&[
        "run",
        "ten-x-growth",
        "--window",
        "3",
        "--set",
        "expectations=[]",
        "--replications",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("note: window 3 runs alone, from the scenario's starting fleet"),
        "{}",
        stderr(&o)
    );

    let refused = |args: &[&str], needle: &str| {
        let o = capsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    };
    let out = dir.path().join("h");
    let out = out.to_str().unwrap();
    refused(
        &["headroom", "ten-x-growth", "--out", out],
        "ten-x-growth runs in [windows] (13 windows of 25m every 2w): choose one with --window K (1 to 13)",
    );
    refused(
        &["sensitivity", "ten-x-growth", "--out", out],
        "choose one with --window K (1 to 13)",
    );
    refused(
        &["headroom", "ten-x-growth", "--window", "14", "--out", out],
        "--window 14: ten-x-growth runs 13 windows, numbered 1 to 13",
    );
    refused(
        &["run", "tandem", "--window", "1"],
        "--window: tandem has no [windows]: it runs one horizon",
    );
    assert!(!dir.path().join("h").join("report.md").exists());

    // Headroom of the first week: its probes run on the window's traffic,
    // and the commands it prints name the scenario's seed and the window.
    // A 6-minute window is too short for the HPA from x3 on, so a probe
    // breaches and its command is printed.
    let o = capsim(&[
        "headroom",
        "ten-x-growth",
        "--window",
        "1",
        "--set",
        "expectations=[]",
        "--set",
        "simulation.duration=6m",
        "--set",
        "simulation.warmup=1m",
        "--replications",
        "2",
        "--step",
        "0.5",
        "--max",
        "4",
        "--out",
        out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("seed 26"), "{text}");
    assert!(
        text.contains("--window 1 --set workload.multiplier="),
        "{text}"
    );
    // Another window's search never reuses these probes.
    refused(
        &[
            "headroom",
            "ten-x-growth",
            "--window",
            "2",
            "--set",
            "expectations=[]",
            "--set",
            "simulation.duration=6m",
            "--set",
            "simulation.warmup=1m",
            "--replications",
            "2",
            "--step",
            "0.5",
            "--max",
            "4",
            "--out",
            out,
        ],
        "it belongs to another headroom search",
    );
}

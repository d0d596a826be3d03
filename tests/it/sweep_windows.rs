//! End-to-end: `capsim sweep` on a scenario run in `[windows]` runs each
//! point as its chain of windows, with the figures `capsim run` gives that
//! chain, whatever the threads or shards.

use std::path::Path;

use serde_json::Value;

use crate::common::{capsim, input_error, ok, read_json};

/// ten-x-growth cut to 3 windows of 10 minutes (the second breaches as
/// written).
const SHORT: [&str; 6] = [
    "--set",
    "windows.count=3",
    "--set",
    "simulation.duration=10m",
    "--set",
    "simulation.warmup=2m",
];

fn sweep(out: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "sweep",
        "ten-x-growth",
        "--param",
        "tiers.pg.replicas=2",
        "--param",
        "tiers.redis.scaling.policies.outgrown.above=1.0",
        "--replications",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(SHORT);
    args.extend(extra);
    ok(&capsim(&args))
}

fn est(v: &Value) -> f64 {
    v["estimate"].as_f64().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn a_sweep_of_a_windowed_scenario_runs_each_point_as_its_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    sweep(&one, &["--threads", "1"]);
    let report = read_json(&one.join("sweep.json"));
    assert_eq!(report["windows"]["count"], 3, "{}", report["windows"]);
    let points = report["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "the baseline and one point");

    for (i, settings) in [
        vec![],
        vec![
            "--set",
            "tiers.pg.replicas=2",
            "--set",
            "tiers.redis.scaling.policies.outgrown.above=1.0",
        ],
    ]
    .iter()
    .enumerate()
    {
        let run = tmp.path().join(format!("run{i}"));
        let mut args = vec![
            "run",
            "ten-x-growth",
            "--replications",
            "2",
            "--quiet",
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend(SHORT);
        args.extend(settings.iter().copied());
        ok(&capsim(&args));
        let chain = read_json(&run.join("windows.json"));
        let windows = chain["windows"].as_array().unwrap();
        assert_eq!(windows.len(), 3);
        let f = &points[i]["figures"];

        // Per window: what `capsim run` reports for it.
        let mut cost = 0.0;
        let (mut in_all, mut in_some) = (0.0, 0.0);
        let mut throughput = 0.0;
        for (k, w) in windows.iter().enumerate() {
            let minutes: f64 = w["breach_minutes"]
                .as_object()
                .unwrap()
                .values()
                .map(est)
                .sum();
            assert!(
                close(est(&f[format!("window:{k}:breach_minutes")]), minutes),
                "point {i} window {k}: {} vs {minutes}",
                f[format!("window:{k}:breach_minutes")]
            );
            assert!(close(
                est(&f[format!("window:{k}:cost_per_hour_usd")]),
                est(&w["cost_per_hour_usd"])
            ));
            cost += est(&w["cost_usd"]);
            let reps = w["replications_breaching"].as_u64().unwrap();
            in_all += f64::from(reps == 2);
            in_some += f64::from(reps > 0);
            throughput += est(&w["throughput_per_s"]) / 3.0;
        }
        // The chain as a whole: costs add; equally long windows average.
        assert!(close(est(&f["cost_usd"]), cost), "point {i}");
        assert!(close(est(&f["throughput_per_s"]), throughput), "point {i}");
        // A window counts in the replications it breaches in.
        let b = est(&f["breaching_windows"]);
        assert!(in_all <= b && b <= in_some, "point {i}: {b}");
        if i == 0 {
            assert!(in_some > 0.0, "the baseline breaches in some window");
            assert!(est(&f["breach_minutes"]) > 0.0);
        }
        for tier in ["api", "redis", "pg"] {
            let peak = windows
                .iter()
                .map(|w| est(&w["units"][tier]["peak"]))
                .fold(0.0, f64::max);
            // Per replication the chain's peak is its windows' most, so
            // the mean of the maxima is at least the most of the means.
            assert!(est(&f[format!("peak:{tier}")]) >= peak, "{tier}");
        }
    }

    // Threads and shards do not change a byte.
    let two = tmp.path().join("two");
    sweep(&two, &["--threads", "2"]);
    let (s1, s2, merged) = (
        tmp.path().join("s1"),
        tmp.path().join("s2"),
        tmp.path().join("merged"),
    );
    sweep(&s1, &["--shard", "1/2"]);
    sweep(&s2, &["--shard", "2/2"]);
    ok(&capsim(&[
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]));
    for dir in [&two, &merged] {
        for file in ["sweep.csv", "sweep.json", "points/00001.json"] {
            assert_eq!(
                std::fs::read(one.join(file)).unwrap(),
                std::fs::read(dir.join(file)).unwrap(),
                "{} differs in {}",
                file,
                dir.display()
            );
        }
    }
    let csv = std::fs::read_to_string(one.join("sweep.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in ["breaching_windows", "window:2:breach_minutes", "peak:pg"] {
        assert!(header.contains(col), "{col} in {header}");
    }
}

#[test]
fn a_sweep_keeps_the_chain_of_windows_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = capsim(&[
        "sweep",
        "ten-x-growth",
        "--param",
        "windows.count=2,3",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = input_error(&o);
    assert!(err.contains("--param windows.count"), "{err}");
    assert!(err.contains("same chain of windows"), "{err}");
    assert!(err.contains("--set"), "says what to do: {err}");
    assert!(!out.exists(), "nothing written: {err}");
}

//! End-to-end tests of `capsim headroom`: the bracket against Erlang C, the
//! report's files, resuming, thread independence, and bad input refused
//! with exit code 2 before anything runs.

use std::path::Path;

use capsim_models::theory::MMc;
use serde_json::Value;

use crate::common::{capsim, input_error, ok, read_json};

/// M/M/4, service 100 ms, 20 req/s (ρ = 0.5 at ×1), and one objective: 99%
/// of the measured hour's requests within 500 ms (a single window).
const MMC: &str = r#"
[scenario]
name = "mmc-p99"
[simulation]
duration = "65m"
warmup = "5m"
replications = 6
seed = 11
[classes.jobs]
rate_per_s = 20
route = ["pool"]
[tiers.pool]
kind = "station"
servers = 4
service = { dist = "exponential", mean = "100ms" }
[[slos]]
percentile = 99
latency = "500ms"
window = "65m"
"#;

fn scenario(dir: &Path) -> String {
    let p = dir.join("mmc-p99.toml");
    std::fs::write(&p, MMC).unwrap();
    p.display().to_string()
}

/// The multiplier at which the M/M/4's 99th percentile sojourn reaches
/// 500 ms (bisection on Erlang C's sojourn distribution).
fn analytic_headroom() -> f64 {
    let p99 = |m: f64| MMc::new(20.0 * m, 10.0, 4).sojourn_quantile(0.99);
    let (mut lo, mut hi) = (1.0, 1.99);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if p99(mid) <= 0.5 { lo = mid } else { hi = mid }
    }
    lo
}

#[test]
fn headroom_brackets_the_erlang_c_answer() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("hr");
    let o = capsim(&[
        "headroom",
        &file,
        "--step",
        "0.05",
        "--max",
        "4",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    ok(&o);
    let r = read_json(&out.join("headroom.json"));
    let exact = analytic_headroom();
    let held = r["holds_up_to"].as_f64().unwrap();
    let broke = r["breaks_from"].as_f64().unwrap();
    assert!(
        held <= exact && exact <= broke,
        "Erlang C says ×{exact:.3}; the search holds to ×{held} and breaks from ×{broke}"
    );
    assert!(
        broke - held <= 0.25,
        "the bracket [{held}, {broke}] is too wide"
    );
    assert_eq!(r["breaks_first"][0][0], "p99-under-500ms");
    assert_eq!(r["busiest_tier"][0], "pool");
    // The search stays cheap: about eight probes for a one-decimal answer.
    let probes = r["probes"].as_array().unwrap();
    assert!(probes.len() <= 10, "{} probes", probes.len());
    // Probes are sorted, and every probe at or below the bracket held.
    let ms: Vec<f64> = probes
        .iter()
        .map(|p| p["multiplier"].as_f64().unwrap())
        .collect();
    assert!(ms.windows(2).all(|w| w[0] < w[1]));
    for p in probes {
        if p["multiplier"].as_f64().unwrap() <= held {
            assert_eq!(p["breaching"], 0);
        }
    }
    for f in [
        "report.md",
        "headroom.csv",
        "plots/headroom.png",
        "plots/headroom.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // Where the slowest requests' time went: at the pool, in shares that
    // add up to one; long services below saturation (exponential service,
    // light queueing at 60% utilisation), queueing far above it.
    for p in probes {
        let parts = &p["slowest"][0];
        assert_eq!(parts[0], "p99-under-500ms");
        let parts = parts[1].as_array().unwrap();
        let total: f64 = parts
            .iter()
            .map(|x| x[1]["estimate"].as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{parts:?}");
        let share = |name: &str| {
            parts
                .iter()
                .find(|x| x[0] == name)
                .map_or(0.0, |x| x[1]["estimate"].as_f64().unwrap())
        };
        let m = p["multiplier"].as_f64().unwrap();
        if m <= 1.0 {
            assert!(share("pool service") > 0.8, "×{m}: {parts:?}");
        }
        if m >= 2.0 {
            assert!(share("pool queue") > 0.9, "×{m}: {parts:?}");
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&format!("holds up to ×{held}")), "{md}");
    assert!(
        md.contains("where the slowest 1% of p99-under-500ms's requests spend their time there: pool service"),
        "{md}"
    );
    let csv = std::fs::read_to_string(out.join("headroom.csv")).unwrap();
    assert_eq!(csv.lines().count(), probes.len() + 1);
}

#[test]
fn a_second_run_resumes_every_probe_and_threads_do_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("hr");
    let args = |threads: &str, out: &Path| {
        vec![
            "headroom".to_string(),
            file.clone(),
            "--replications".into(),
            "3".into(),
            "--set".into(),
            "simulation.duration=20m".into(),
            "--set".into(),
            "slos[0].window=20m".into(),
            "--threads".into(),
            threads.into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let run = |a: Vec<String>| capsim(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let first = ok(&run(args("2", &out)));
    assert!(first.contains("0 resumed"), "{first}");
    let json = std::fs::read(out.join("headroom.json")).unwrap();
    let again = ok(&run(args("2", &out)));
    assert!(again.contains("(0 run,"), "{again}");
    assert_eq!(std::fs::read(out.join("headroom.json")).unwrap(), json);
    let one = dir.path().join("one-thread");
    ok(&run(args("1", &one)));
    assert_eq!(std::fs::read(one.join("headroom.json")).unwrap(), json);
    // Another search in the same directory is refused, not mixed in.
    let mut other = args("2", &out);
    other[3] = "4".into();
    let err = input_error(&run(other));
    assert!(err.contains("another headroom search"), "{err}");
}

#[test]
fn a_class_or_a_region_is_scaled_alone() {
    let dir = tempfile::tempdir().unwrap();
    // The M/M/4 with a second class at half the rate: scaling `jobs` alone
    // (15 of 20 req/s) needs a larger multiplier to reach the same load.
    let two = MMC.replace("rate_per_s = 20", "rate_per_s = 15").replace(
        "[tiers.pool]",
        "[classes.batch]\nrate_per_s = 5\nroute = [\"pool\"]\n[tiers.pool]",
    );
    let file = dir.path().join("two.toml");
    std::fs::write(&file, two).unwrap();
    let f = file.to_str().unwrap();
    let o = capsim(&[
        "headroom", f, "--class", "jobs", "--step", "0.05", "--json", "-q",
    ]);
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(r["traffic"], "class:jobs");
    assert_eq!(r["field"], "classes.jobs.multiplier");
    let held = r["holds_up_to"].as_f64().unwrap();
    // The whole load reaches ×1.21 at about 24.2 req/s: jobs alone gets
    // there at (24.2 - 5) / 15 ≈ 1.28.
    assert!((1.15..=1.45).contains(&held), "{held}");

    let text = r#"
[scenario]
name = "two-regions"
[simulation]
duration = "20m"
warmup = "2m"
replications = 3
[classes.read]
rate_per_s = 40
route = [{ api = "api" }]
[geo]
primary = "a"
regional = ["api"]
rtt.a = { b = "80ms" }
[regions.a]
share = 0.5
user_rtt = "10ms"
[regions.b]
share = 0.5
user_rtt = "10ms"
[tiers.api]
kind = "api"
instances = 1
cores = 1
cpu = { dist = "exponential", mean = "20ms" }
[[slos]]
region = "b"
percentile = 95
latency = "300ms"
window = "18m"
"#;
    let file = dir.path().join("regions.toml");
    std::fs::write(&file, text).unwrap();
    let f = file.to_str().unwrap();
    let o = capsim(&["headroom", f, "--region", "b", "--json", "-q"]);
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(r["field"], "regions.b.multiplier");
    // Region b's API saturates at 50 req/s, 2.5x its 20 req/s.
    let held = r["holds_up_to"].as_f64().unwrap();
    assert!((1.5..2.5).contains(&held), "{held}");
    let o = capsim(&["headroom", f, "--region", "c", "-q"]);
    assert!(input_error(&o).contains("no region named c (regions: a, b)"));
}

#[test]
fn bad_requests_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("never");
    let o = out.to_str().unwrap();
    for (args, expect) in [
        (vec!["headroom", "tandem"], "has none: add [[slos]]"),
        (
            vec!["headroom", &file, "--step", "0.3"],
            "whole number of steps",
        ),
        (vec!["headroom", &file, "--step", "0"], "above 0"),
        (vec!["headroom", &file, "--max", "0.5"], "at least 1"),
        (
            vec!["headroom", &file, "--class", "nope"],
            "no class named nope (classes: jobs)",
        ),
        (vec!["headroom", &file, "--region", "eu"], "has no regions"),
        (
            vec!["headroom", &file, "--metric", "p42"],
            "not a latency figure",
        ),
        (
            vec!["headroom", &file, "--replications", "1"],
            "at least 2 replications",
        ),
        (vec!["headroom", "ten-x-growth"], "[windows]"),
        (
            vec!["headroom", &file, "--set", "workload.multiplier=abc"],
            "multiplier",
        ),
    ] {
        let mut a = args.clone();
        a.extend(["--out", o]);
        let err = input_error(&capsim(&a));
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {o}");
    }
}

/// M/M/1/10 (service 100 ms, room for 10), 5 req/s (ρ = 0.5 at ×1), and an
/// error-rate objective of 1% over the measured hour: an arrival finding
/// the station full is rejected, with probability (1 − ρ)ρ^K / (1 − ρ^(K+1)).
const MM1K: &str = r#"
[scenario]
name = "mm1k-errors"
[simulation]
duration = "65m"
warmup = "5m"
replications = 6
seed = 17
[classes.jobs]
rate_per_s = 5
route = ["box"]
[tiers.box]
kind = "station"
servers = 1
capacity = 10
service = { dist = "exponential", mean = "100ms" }
[[slos]]
name = "errors-under-1pct"
error_rate = 0.01
window = "65m"
"#;

#[test]
fn an_error_rate_breach_is_bracketed_and_traced_to_the_tier_that_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mm1k.toml");
    std::fs::write(&file, MM1K).unwrap();
    let o = capsim(&["headroom", file.to_str().unwrap(), "--json"]);
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    // The ρ at which the blocking probability is 1%, by bisection.
    let blocking = |rho: f64| (1.0 - rho) * rho.powi(10) / (1.0 - rho.powi(11));
    let (mut lo, mut hi) = (0.3, 0.99);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if blocking(mid) < 0.01 {
            lo = mid
        } else {
            hi = mid
        }
    }
    let exact = lo / 0.5;
    let held = r["holds_up_to"].as_f64().unwrap();
    let broke = r["breaks_from"].as_f64().unwrap();
    assert!(
        held <= exact && exact <= broke,
        "M/M/1/K says ×{exact:.3}; the search holds to ×{held} and breaks from ×{broke}"
    );
    assert_eq!(r["breaks_first"][0][0], "errors-under-1pct");
    assert_eq!(r["error_objectives"][0], "errors-under-1pct");
    let text = capsim(&["headroom", file.to_str().unwrap()]);
    let text = ok(&text);
    assert!(
        text.contains(
            "where errors-under-1pct's errors come from there, requests per replication: box "
        ),
        "{text}"
    );
    assert!(text.contains("(100%)"), "{text}");
}

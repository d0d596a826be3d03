//! End-to-end tests of `capsim sensitivity`: a dominant input ranked first,
//! shards merged into the same files, resuming, and bad input refused with
//! exit code 2 before anything runs.

use std::path::Path;

use serde_json::Value;

use crate::common::{capsim, input_error, ok, read_json, stderr};

/// Two stations in tandem: `hot` at ρ = 0.8 (an M/M/1 whose p99 moves a
/// lot with its service time), `cold` at ρ = 0.2.
const TANDEM: &str = r#"
[scenario]
name = "hot-and-cold"
[simulation]
duration = "40m"
warmup = "5m"
replications = 5
seed = 3
[classes.req]
rate_per_s = 8
route = ["hot", "cold"]
[tiers.hot]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "100ms" }
[tiers.cold]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "25ms" }
"#;

fn scenario(dir: &Path) -> String {
    let p = dir.join("hot-and-cold.toml");
    std::fs::write(&p, TANDEM).unwrap();
    p.display().to_string()
}

#[test]
fn the_dominant_input_is_ranked_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("s");
    let o = capsim(&["sensitivity", &file, "--out", out.to_str().unwrap()]);
    let text = ok(&o);
    assert!(
        stderr(&o).contains("not run: tiers.hot.servers = 0: must be at least 1"),
        "{}",
        stderr(&o)
    );
    let r = read_json(&out.join("sensitivity.json"));
    let inputs = r["inputs"].as_array().unwrap();
    let names: Vec<&str> = inputs
        .iter()
        .map(|e| e["input"].as_str().unwrap())
        .collect();
    // Every number and duration of the file but [simulation]; servers are
    // whole numbers (1 cannot go down to 0: a side not run).
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "classes.req.rate_per_s",
            "tiers.cold.servers",
            "tiers.cold.service.mean",
            "tiers.hot.servers",
            "tiers.hot.service.mean",
        ]
    );
    // At ρ = 0.8, +10% of hot's service time is ρ = 0.88: its p99 grows by
    // about half; the same on cold (ρ 0.2 → 0.22) moves p99 by a few ms.
    // The arrival rate moves hot's ρ as much as its service time does, so
    // the two lead; cold's service time is far behind.
    let rank = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(rank("tiers.hot.service.mean") <= 1, "{names:?}");
    assert!(rank("classes.req.rate_per_s") <= 1, "{names:?}");
    assert!(rank("tiers.cold.service.mean") > rank("tiers.hot.service.mean"));
    let hot = &inputs[rank("tiers.hot.service.mean")];
    assert_eq!(hot["value"], "100ms");
    assert_eq!(hot["up"]["value"], "110ms");
    assert!(hot["up"]["metric"]["ci95"][0].as_f64().unwrap() > 0.0);
    assert!(hot["down"]["metric"]["ci95"][1].as_f64().unwrap() < 0.0);
    assert_eq!(hot["significant"], true);
    // A whole number moved by one: hot.servers 1 → 2 (+100%), not down.
    let servers = &inputs[rank("tiers.hot.servers")];
    assert!(servers["down"].is_null());
    assert_eq!(servers["up"]["change"], 1.0);
    assert!(text.contains("most influential on p99:"), "{text}");
    for f in [
        "report.md",
        "sensitivity.csv",
        "plots/tornado.png",
        "plots/tornado.svg",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

/// Two classes on two stations: `search` at ρ = 0.8 dominates the p99 of
/// all requests; the objective is on `checkout` alone, an M/M/1 at ρ = 0.3
/// whose sojourn time is exponential with rate μ − λ = 4.67/s: 2.4% of its
/// requests take over 800 ms, about half of a p95 objective's budget.
const TWO_CLASSES: &str = r#"
[scenario]
name = "two-classes"
[simulation]
duration = "40m"
warmup = "5m"
replications = 5
seed = 5
[classes.search]
rate_per_s = 8
route = ["hot"]
[classes.checkout]
rate_per_s = 2
route = ["small"]
[tiers.hot]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "100ms" }
[tiers.small]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "150ms" }
[[slos]]
name = "checkout-p95"
class = "checkout"
percentile = 95
latency = "800ms"
window = "40m"
"#;

#[test]
fn an_objective_on_one_class_ranks_the_inputs_that_move_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two-classes.toml");
    std::fs::write(&file, TWO_CLASSES).unwrap();
    let out = dir.path().join("s");
    let o = capsim(&[
        "sensitivity",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = ok(&o);
    let r = read_json(&out.join("sensitivity.json"));
    // The p99 of every request is search's: hot's service time or
    // search's rate leads.
    let first = r["inputs"][0]["input"].as_str().unwrap();
    assert!(
        ["tiers.hot.service.mean", "classes.search.rate_per_s"].contains(&first),
        "{first}"
    );
    // The objective is checkout's: small's service time leads (it moves
    // both checkout's utilisation and its time per request), and nothing
    // of search's moves it beyond noise.
    let o = &r["objectives"][0];
    assert_eq!(o["objective"], "checkout-p95");
    let budget = o["baseline_budget_used"]["estimate"].as_f64().unwrap();
    let exact = (-(1.0 / 0.15 - 2.0) * 0.8f64).exp() / 0.05;
    assert!(
        (budget - exact).abs() < 0.25 * exact,
        "budget used {budget}, M/M/1 says {exact}"
    );
    let ranked = o["ranked"].as_array().unwrap();
    assert_eq!(ranked[0]["input"], "tiers.small.service.mean", "{ranked:?}");
    assert_eq!(ranked[0]["significant"], true);
    for i in ranked {
        let name = i["input"].as_str().unwrap();
        if name.contains("hot") || name.contains("search") {
            assert_eq!(i["significant"], false, "{i}");
        }
    }
    assert!(
        text.contains("most influential on objective checkout-p95 (error budget used"),
        "{text}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("most influential on objective checkout-p95"),
        "{md}"
    );
}

#[test]
fn shards_merge_into_the_same_files_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let base = [
        "sensitivity",
        &file,
        "--input",
        "tiers.hot.service.mean",
        "--input",
        "tiers.cold.service.mean",
        "--by",
        "20%",
        "--replications",
        "3",
        "--set",
        "simulation.duration=15m",
    ];
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(extra);
        capsim(&a)
    };
    let whole = dir.path().join("whole");
    let first = ok(&run(&["--out", whole.to_str().unwrap()]));
    assert!(
        first.contains("4 points run (0 resumed)") || first.contains("5 points run (0 resumed)"),
        "{first}"
    );
    let again = ok(&run(&["--out", whole.to_str().unwrap()]));
    assert!(again.contains("0 points run"), "{again}");
    let (a, b, merged) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("m"),
    );
    ok(&run(&["--out", a.to_str().unwrap(), "--shard", "1/2"]));
    ok(&run(&["--out", b.to_str().unwrap(), "--shard", "2/2"]));
    ok(&capsim(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]));
    for f in ["sensitivity.json", "sensitivity.csv", "report.md"] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }
    let r: Value = read_json(&whole.join("sensitivity.json"));
    assert_eq!(r["inputs"][0]["input"], "tiers.hot.service.mean");
    assert_eq!(r["fraction"], 0.2);
}

#[test]
fn bad_requests_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("never");
    let o = out.to_str().unwrap();
    for (args, expect) in [
        (vec!["sensitivity", &file, "--by", "0%"], "above 0%"),
        (vec!["sensitivity", &file, "--by", "150%"], "below 100%"),
        (vec!["sensitivity", &file, "--by", "ten"], "percentage"),
        (
            vec!["sensitivity", &file, "--input", "tiers.hot.capacity"],
            "does not give this field",
        ),
        (
            vec!["sensitivity", &file, "--input", "tiers.hot.kind"],
            "not a number or a duration",
        ),
        (
            vec!["sensitivity", &file, "--metric", "p42"],
            "not a latency figure",
        ),
        (
            vec!["sensitivity", &file, "--replications", "1"],
            "at least 2 replications",
        ),
        (vec!["sensitivity", "ten-x-growth"], "[windows]"),
        (vec!["sensitivity", "no-such-scenario"], "no-such-scenario"),
    ] {
        let mut a = args.clone();
        a.extend(["--out", o]);
        let err = input_error(&capsim(&a));
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {o}");
    }
}

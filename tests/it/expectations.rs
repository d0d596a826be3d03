//! A scenario's `[[expectations]]` and `[[assumptions]]` end to end: the
//! report's "the seed says, capsim finds" table, `--check` failing on a
//! contradicted expectation, a metric the results lack (exit 2 after the
//! files are written), expectations of other runs, and assumed inputs shown
//! with this run's value.

use std::path::Path;

use serde_json::Value;

use crate::common::{capsim, ok, read_json, stderr, stdout};

const TANDEM: &str = include_str!("../../scenarios/library/tandem.toml");

/// The tandem scenario plus `extra`, written to DIR/tandem.toml; a short
/// run (20 simulated minutes, 3 replications) keeps each test quick.
fn scenario(dir: &Path, extra: &str) -> String {
    let text = format!("{TANDEM}\n{extra}").replace("duration = \"2h\"", "duration = \"20m\"");
    let path = dir.join("tandem.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn run(file: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        file,
        "--replications",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--force",
    ];
    args.extend(extra);
    capsim(&args)
}

/// Each assumption's value in the run.
fn assumed(summary: &Value) -> Vec<String> {
    summary["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["value"].as_str().unwrap().to_string())
        .collect()
}

fn verdicts(summary: &Value) -> Vec<String> {
    summary["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["verdict"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_report_puts_the_sources_expectations_beside_what_capsim_finds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // The bundled form (10 replications of 2 hours): the closed forms of the
    // tandem's front end hold inside the CI.
    let table = ok(&capsim(&["run", "tandem", "--out", out.to_str().unwrap()]));
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(verdicts(&summary), ["agrees"; 4]);
    let first = &summary["expectations"][0];
    assert_eq!(first["metric"], "tiers.frontend.latency_ms.mean");
    assert_eq!(first["expected"]["equals"], 50.0);
    let found = &first["found"];
    let (lo, hi) = (
        found["ci95"][0].as_f64().unwrap(),
        found["ci95"][1].as_f64().unwrap(),
    );
    assert!(lo <= 50.0 && 50.0 <= hi, "{found}");
    assert!(
        first["why"].as_str().unwrap().contains("contains 50"),
        "{first}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("## The seed says, capsim finds"),
        "{report}"
    );
    assert!(
        report.contains("| The seed says | Source | Figure | Expected | capsim finds | Verdict |"),
        "{report}"
    );
    assert!(
        report.contains("| front end mean response 50 ms | M/M/1 at ρ = 0.6 | `tiers.frontend.latency_ms.mean` | 50.00 (in the CI) |"),
        "{report}"
    );
    assert!(table.contains("the seed says"), "{table}");
    assert!(
        table.contains("front end utilisation 0.6") && table.contains("agrees"),
        "{table}"
    );
}

#[test]
fn check_fails_on_a_contradicted_expectation_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    // M/M/1 at ρ = 0.6 cannot answer in 40 ms on average.
    let file = scenario(
        dir.path(),
        r#"
[[expectations]]
claim = "front end answers within 40 ms on average"
source = "a hopeful design doc"
metric = "tiers.frontend.latency_ms.mean"
at_most = 40
"#,
    );
    let out = dir.path().join("out");
    // Without --check a contradiction is a finding, not a failure.
    ok(&run(&file, &out, &["--quiet"]));
    let o = run(&file, &out, &["--quiet", "--check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("check failed: the run contradicts expectation \"front end answers within 40 ms on average\" (a hopeful design doc): tiers.frontend.latency_ms.mean is 50."),
        "{err}"
    );
    assert!(err.contains("expected ≤ 40"), "{err}");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(verdicts(&summary)[4], "disagrees");
}

#[test]
fn a_metric_the_results_lack_exits_2_after_writing_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        r#"
[[expectations]]
claim = "p97 under a second"
source = "nowhere"
metric = "tiers.frontend.latency_ms.p97"
at_most = 1000
"#,
    );
    let out = dir.path().join("out");
    let o = run(&file, &out, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = TANDEM.lines().count() + 6;
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{file}:{line}:10: field `expectations[4].metric`: `tiers.frontend.latency_ms` has no `p97` (it has: mean, p50, p90, p95, p99, p999, max)"
        )),
        "{err}"
    );
    // Nothing the user asked for is lost: the files are there, the verdict
    // says what went wrong.
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(verdicts(&summary)[4], "bad_metric");
    assert!(out.join("report.md").exists());
    // A yes/no bound on a number is the same mistake.
    let file = scenario(
        dir.path(),
        r#"
[[expectations]]
claim = "front end busy"
source = "nowhere"
metric = "tiers.frontend.utilization"
is = true
"#,
    );
    let err = stderr(&run(&file, &out, &["--quiet"]));
    assert!(
        err.contains("`tiers.frontend.utilization` is not a yes/no result"),
        "{err}"
    );
}

#[test]
fn expectations_of_other_runs_are_listed_and_assumptions_show_this_runs_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        r#"
[[expectations]]
claim = "at 35 req/s the front end is 70% busy"
source = "the busy variant"
metric = "tiers.frontend.utilization"
at_least = 0.68
at_most = 0.72
runs = ["busy"]

[[assumptions]]
input = "classes.requests.rate_per_s"
why = "a rate that keeps both stations stable"

[[assumptions]]
input = "tiers.backend.capacity"
why = "room for 50"

[variants.busy]
set = ["classes.requests.rate_per_s=35", "tiers.backend={ kind = \"station\", servers = 2, service = { dist = \"lognormal\", mean = \"50ms\", p99 = \"250ms\" } }"]
"#,
    );
    let out = dir.path().join("out");
    ok(&run(&file, &out, &["--quiet"]));
    let summary = read_json(&out.join("summary.json"));
    let busy = &summary["expectations"][4];
    assert_eq!(busy["verdict"], "other_variant");
    assert_eq!(busy["found"], Value::Null);
    assert_eq!(busy["runs"][0], "busy");
    assert_eq!(assumed(&summary), ["30.0", "50"]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("other run: judged in a run of `--variant busy`"),
        "{report}"
    );
    assert!(
        report.contains(
            "| `classes.requests.rate_per_s` | `30.0` | a rate that keeps both stations stable |"
        ),
        "{report}"
    );

    ok(&run(&file, &out, &["--quiet", "--variant", "busy"]));
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["expectations"][4]["verdict"], "agrees");
    // The variant set the rate and took the back end's capacity away.
    assert_eq!(assumed(&summary), ["35", "(not in this run)"]);
}

#[test]
fn check_needs_objectives_or_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let bare = TANDEM
        .split("\n# The front end is an M/M/1")
        .next()
        .unwrap();
    let path = dir.path().join("bare.toml");
    std::fs::write(&path, bare).unwrap();
    let o = capsim(&["run", path.to_str().unwrap(), "--check", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("defines neither: add [[slos]] or [[expectations]]"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn validate_counts_what_a_scenario_declares() {
    let text = ok(&capsim(&["validate", "tandem"]));
    assert!(
        text.contains("declares 4 expectations of its source (judged after a run: report.md, --check) and 0 assumed inputs"),
        "{text}"
    );
}

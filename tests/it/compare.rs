//! End-to-end tests of `capsim compare`: run directories paired and not,
//! scenarios run with common random numbers, and bad input refused with
//! exit code 2 and nothing printed on stdout.

use std::path::Path;

use serde_json::Value;

use crate::common::{capsim, input_error, ok, read_json};

/// `capsim run tandem` with `extra` flags into `dir`.
fn run_into(dir: &Path, extra: &[&str]) {
    let d = dir.to_str().unwrap();
    let o = capsim(&[&["run", "tandem", "--quiet", "--out", d][..], extra].concat());
    ok(&o);
}

fn compare_json(a: &Path, b: &Path) -> Value {
    let o = capsim(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_str(&ok(&o)).unwrap()
}

fn figure<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["figure"] == name)
        .unwrap_or_else(|| panic!("no figure {name}"))
}

#[test]
fn replications_csv_holds_what_the_summary_averages() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    run_into(&a, &["--replications", "3"]);
    let s = read_json(&a.join("summary.json"));
    let csv = std::fs::read_to_string(a.join("replications.csv")).unwrap();
    assert!(csv.starts_with("scenario,seed,replication,figure,value\n"));
    let p99: Vec<f64> = csv
        .lines()
        .filter(|l| l.split(',').nth(3) == Some("latency_ms.p99"))
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(p99.len(), 3);
    let mean = p99.iter().sum::<f64>() / 3.0;
    assert_eq!(Some(mean), s["latency_ms"]["p99"]["estimate"].as_f64());
    assert!(
        csv.lines()
            .any(|l| l.contains(",tiers.backend.utilization,"))
    );
}

#[test]
fn two_run_directories_with_one_seed_pair_by_replication() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    run_into(&a, &["--replications", "3"]);
    run_into(
        &b,
        &["--replications", "3", "--set", "tiers.backend.servers=3"],
    );
    run_into(&c, &["--replications", "3", "--seed", "99"]);

    // A run against itself: every difference exactly 0 ± 0.
    let same = compare_json(&a, &a);
    assert_eq!(same["paired"], true);
    for f in same["figures"].as_array().unwrap() {
        let d = &f["difference"];
        if d["estimate"].is_null() {
            continue;
        }
        assert_eq!(d["estimate"], 0.0, "{f}");
        assert_eq!(d["ci95"], serde_json::json!([0.0, 0.0]), "{f}");
        assert_eq!(f["significant"], false, "{f}");
    }

    // A third server: the back end's utilisation falls by a third, certainly.
    let cmp = compare_json(&a, &b);
    assert_eq!(cmp["paired"], true);
    let u = figure(&cmp, "tiers.backend.utilization");
    let d = u["difference"]["estimate"].as_f64().unwrap();
    assert!((d + 0.25).abs() < 0.01, "{u}");
    assert_eq!(u["significant"], true);
    // The traffic is the same: arrivals do not differ at all.
    let arrived = figure(&cmp, "requests.arrived");
    assert_eq!(arrived["difference"]["ci95"], serde_json::json!([0.0, 0.0]));

    // The table marks it and says how the runs pair.
    let o = capsim(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    let table = ok(&o);
    assert!(table.contains("paired by replication"), "{table}");
    let line = table
        .lines()
        .find(|l| l.contains("utilization") && l.contains("-0.25"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.ends_with('*'), "{line}");

    // Another seed: unpaired, and it says why.
    let cmp = compare_json(&a, &c);
    assert_eq!(cmp["paired"], false);
    assert!(
        cmp["pairing"]
            .as_str()
            .unwrap()
            .contains("unpaired (Welch): the seeds differ (A 7, B 99)"),
        "{}",
        cmp["pairing"]
    );
    let o = capsim(&[
        "compare",
        a.to_str().unwrap(),
        c.to_str().unwrap(),
        "--markdown",
    ]);
    let md = ok(&o);
    assert!(md.starts_with("### capsim compare\n"), "{md}");
    assert!(md.contains("unpaired (Welch)"), "{md}");
    assert!(md.contains("| figure | | A | B | B − A | 95% CI |"), "{md}");
}

#[test]
fn two_scenarios_run_with_common_random_numbers() {
    let o = capsim(&[
        "compare",
        "tandem",
        "tandem",
        "--replications",
        "3",
        "--set-b",
        "tiers.backend.servers=3",
        "--markdown",
    ]);
    let md = ok(&o);
    assert!(md.contains("paired by replication: seed 7"), "{md}");
    assert!(md.contains("tandem --set tiers.backend.servers=3"), "{md}");
    // The latency gain is certain: in bold.
    let p99 = md
        .lines()
        .find(|l| l.starts_with("| latency (ms) · all classes | p99 |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(p99.contains("| **-"), "{p99}");

    // A run directory against a scenario: the scenario runs as the
    // directory's run did (seed, replications), so the two pair.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    run_into(&a, &["--replications", "2", "--seed", "5"]);
    let o = capsim(&["compare", a.to_str().unwrap(), "tandem", "--json"]);
    let cmp: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(cmp["paired"], true, "{}", cmp["pairing"]);
    assert_eq!(cmp["b"]["seed"], 5);
    assert_eq!(
        figure(&cmp, "latency_ms.p99")["difference"]["estimate"],
        0.0
    );
}

#[test]
fn bad_input_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    run_into(&a, &["--replications", "2"]);
    let a_s = a.to_str().unwrap();

    // A directory that does not exist.
    let missing = dir.path().join("nope/");
    let err = input_error(&capsim(&["compare", a_s, missing.to_str().unwrap()]));
    assert!(
        err.contains("B: ") && err.contains("no such run directory or scenario file"),
        "{err}"
    );

    // A directory without summary.json.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = input_error(&capsim(&["compare", empty.to_str().unwrap(), a_s]));
    assert!(
        err.contains("A: ") && err.contains("has no summary.json"),
        "{err}"
    );

    // A damaged summary.json.
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("summary.json"), "{\"scenario\": \"tandem\",").unwrap();
    let err = input_error(&capsim(&["compare", a_s, broken.to_str().unwrap()]));
    assert!(
        err.contains(&format!(
            "{}: not JSON",
            broken.join("summary.json").display()
        )),
        "{err}"
    );

    // summary.json without its replications.csv.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::copy(a.join("summary.json"), partial.join("summary.json")).unwrap();
    let err = input_error(&capsim(&["compare", a_s, partial.to_str().unwrap()]));
    assert!(
        err.contains(&format!(
            "{} is missing",
            partial.join("replications.csv").display()
        )),
        "{err}"
    );

    // A damaged replications.csv: its line and field.
    std::fs::write(
        partial.join("replications.csv"),
        "scenario,seed,replication,figure,value\ntandem,7,0,latency_ms.p99,fast\n",
    )
    .unwrap();
    let err = input_error(&capsim(&["compare", a_s, partial.to_str().unwrap()]));
    assert!(
        err.contains("replications.csv: line 2, field value: `fast` is not a number"),
        "{err}"
    );

    // An unknown scenario, and a bad --set on one side.
    let err = input_error(&capsim(&["compare", a_s, "no-such-scenario"]));
    assert!(
        err.contains("B: ") && err.contains("no-such-scenario"),
        "{err}"
    );
    let err = input_error(&capsim(&[
        "compare",
        "tandem",
        "tandem",
        "--set-a",
        "tiers.nope.servers=3",
    ]));
    assert!(err.contains("A: ") && err.contains("tiers.nope"), "{err}");
}

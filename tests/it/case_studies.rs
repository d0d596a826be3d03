//! The bundled case studies find their verdicts: every scenario built on a
//! seed declares what its seed expects and what it assumes, and a run of it
//! judges every expectation (no metric the results lack) with the verdicts
//! its page in docs/case-studies/ reports. A change to the model or to a
//! scenario that flips a verdict shows here, beside the figure it flipped.

use crate::common::{capsim, ok, read_json, stderr};

/// The theory references: their expectations are closed forms, not a seed's.
const REFERENCES: &[&str] = &["mmc-reference", "tandem"];

#[test]
fn every_case_study_declares_its_seeds_expectations_and_its_assumptions() {
    let list = ok(&capsim(&["scenarios", "list"]));
    let names: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.len() >= 12, "{list}");
    for name in names {
        let text = ok(&capsim(&["validate", name]));
        let line = text
            .lines()
            .find(|l| l.starts_with("declares "))
            .unwrap_or_else(|| panic!("{name} declares no expectations:\n{text}"));
        let count = |after: &str| -> usize {
            let words: Vec<&str> = line.split_whitespace().collect();
            let i = words.iter().position(|w| w.starts_with(after)).unwrap();
            words[i - 1].parse().unwrap()
        };
        assert!(count("expectation") >= 1, "{name}: {line}");
        if !REFERENCES.contains(&name) {
            assert!(count("assumed") >= 1, "{name}: {line}");
        }
    }
}

/// Runs `args` (a bundled scenario and flags) and returns each
/// expectation's (metric, verdict) from the results file.
fn verdicts(args: &[&str]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut all = vec!["run"];
    all.extend(args);
    all.extend(["--quiet", "--out", out.to_str().unwrap()]);
    let o = capsim(&all);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    let path = if out.join("windows.json").exists() {
        out.join("windows.json")
    } else {
        out.join("summary.json")
    };
    let results = read_json(&path);
    results["expectations"]
        .as_array()
        .unwrap_or_else(|| panic!("{args:?} judged no expectations"))
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("metric"), s("verdict"))
        })
        .collect()
}

#[track_caller]
fn judged(args: &[&str], want: &[(&str, &str)]) {
    let got = verdicts(args);
    let got: Vec<(&str, &str)> = got.iter().map(|(m, v)| (m.as_str(), v.as_str())).collect();
    assert_eq!(got, want, "{args:?}");
    assert!(
        got.iter().all(|(_, v)| *v != "bad_metric"),
        "{args:?}: {got:?}"
    );
}

#[test]
fn mmc_reference_agrees_with_erlang_c() {
    judged(
        &["mmc-reference"],
        &[
            ("latency_ms.mean", "agrees"),
            ("tiers.servers.queue_wait_ms", "agrees"),
            ("latency_ms.p95", "agrees"),
            ("latency_ms.p99", "agrees"),
            ("tiers.servers.utilization", "agrees"),
        ],
    );
}

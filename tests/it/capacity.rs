//! The capacity check from the command line: `validate` prints it, `run`
//! warns of an overloaded tier before it starts and records the check in
//! summary.json and report.md.

use crate::common::*;

const OVER: &str = "classes.requests.rate_per_s=120";

#[test]
fn validate_prints_the_check_with_the_bottleneck_marked() {
    let o = capsim(&["validate", "tandem"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("capacity check (operational laws, no simulation): 30 req/s, constant"),
        "{out}"
    );
    let backend = out
        .lines()
        .find(|l| l.trim_start().starts_with("backend"))
        .unwrap_or_else(|| panic!("no backend row in {out}"));
    // Capacity, offered at the mean and the peak, U at the mean and the peak.
    let cells: Vec<&str> = backend
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "backend",
            "station",
            "2 servers",
            "1.5",
            "1.5",
            "75.0",
            "75.0",
            "◀ bottleneck"
        ],
        "{backend}"
    );
    assert!(
        out.contains(
            "bottleneck: backend at 75.0% of 2 servers at the peak; traffic × 1.333 saturates it"
        ),
        "{out}"
    );
    assert!(!out.contains("warning"), "{out}");
}

#[test]
fn validate_warns_of_a_tier_offered_three_times_its_capacity() {
    let o = capsim(&["validate", "tandem", "--set", OVER]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "warning: backend is offered 300% of its capacity at the peak (0s): \
             requests 120/s × 1 visits × 0.05 s = 6 on 2 servers"
        ),
        "{out}"
    );
    assert!(
        out.contains("warning: frontend is offered 240% of its capacity"),
        "{out}"
    );
}

#[test]
fn run_warns_before_it_starts_unless_quiet_and_records_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let args = [
        "run",
        "tandem",
        "--set",
        OVER,
        "--set",
        "simulation.duration=2m",
        "--set",
        "simulation.warmup=30s",
        "--replications",
        "2",
    ];
    let mut with_out: Vec<&str> = args.to_vec();
    with_out.extend(["--out", out.to_str().unwrap()]);
    let o = capsim(&with_out);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(warnings[1].contains("backend is offered 300%"), "{err}");

    let summary = read_json(&out.join("summary.json"));
    let c = &summary["capacity_check"];
    assert_eq!(c["bottleneck"], "backend");
    assert_eq!(c["warnings"].as_array().unwrap().len(), 2);
    let backend = &c["resources"]["backend"];
    assert_eq!(backend["servers"], 2.0);
    assert!((backend["utilization_peak"].as_f64().unwrap() - 3.0).abs() < 1e-9);
    assert_eq!(backend["classes"]["requests"]["visits"], 1.0);
    let m = c["saturation_multiplier"].as_f64().unwrap();
    assert!((m - 1.0 / 3.0).abs() < 1e-9, "{m}");

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("## Capacity check (before running)"),
        "{report}"
    );
    assert!(
        report.contains("* Bottleneck: **backend** (station), U = 300.0%"),
        "{report}"
    );
    assert!(
        report.contains("* **Warning**: backend is offered 300%"),
        "{report}"
    );

    let mut quiet: Vec<&str> = args.to_vec();
    quiet.push("--quiet");
    let o = capsim(&quiet);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "--quiet prints nothing but errors");
}

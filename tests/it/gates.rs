//! End-to-end tests of the CI gates: `sweep --check` exit codes, and the
//! GitHub Actions annotations and step summary of `run --check` and
//! `sweep --check`.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{stderr, stdout};

/// The binary with GitHub Actions' variables set (`summary`: the step
/// summary file) or removed (`None`), as a runner or a laptop has them.
fn capsim_in(summary: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_capsim"));
    c.args(args);
    match summary {
        Some(p) => c
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", p),
        None => c
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY"),
    };
    c.output().expect("the capsim binary runs")
}

/// step-policy over its first 90 minutes (the ramp and the peak's start),
/// 2 replications per point, the baseline and a point per initial
/// instance count in `instances`.
fn sweep_args<'a>(out: &'a str, instances: &'a str) -> Vec<&'a str> {
    vec![
        "sweep",
        "step-policy",
        "--param",
        instances,
        "--set",
        "simulation.duration=90m",
        "--replications",
        "2",
        "--check",
        "--out",
        out,
    ]
}

#[test]
fn sweep_check_exits_1_when_no_point_meets_every_objective() {
    let dir = tempfile::tempdir().unwrap();
    // The seed's policy (3 instances to start) lags the peak and breaches
    // availability; so does starting with 2.
    let out = dir.path().join("none");
    let o = capsim_in(
        None,
        &sweep_args(out.to_str().unwrap(), "tiers.app.instances=2,3"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("check failed: objective breached: availability (at 3 of 3 points)"),
        "{err}"
    );
    assert!(
        stdout(&o).contains("no point meets every objective"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("::error"), "{}", stdout(&o));

    // Starting with 4 keeps up: a point meets them, exit 0, and the table
    // names the cheapest such point.
    let out = dir.path().join("some");
    let o = capsim_in(
        None,
        &sweep_args(out.to_str().unwrap(), "tiers.app.instances=3,4"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("cheapest point meeting every objective: 2"),
        "{}",
        stdout(&o)
    );

    // A check without objectives, or of one shard, is refused before running.
    let o = capsim_in(
        None,
        &[
            "sweep",
            "tandem",
            "--param",
            "tiers.backend.servers=2,3",
            "--check",
            "--out",
            dir.path().join("t").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("defines none"), "{}", stderr(&o));
    let shard = dir.path().join("shard");
    let mut args = sweep_args(shard.to_str().unwrap(), "tiers.app.instances=3,4");
    args.extend(["--shard", "1/2"]);
    let o = capsim_in(None, &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("capsim merge"), "{}", stderr(&o));
    assert!(!shard.join("points").exists());
}

#[test]
fn under_github_actions_checks_annotate_and_write_a_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();

    // run --check: an error per breached objective, on stdout.
    let args = [
        "run",
        "step-policy",
        "--check",
        "--replications",
        "2",
        "--set",
        "simulation.duration=90m",
    ];
    let o = capsim_in(Some(&summary), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].starts_with(
            "::error title=capsim%3A objective availability breached::step-policy: availability ≥ 99.9%25 in every"
        ),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("breached in 2 of 2 replications"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### capsim run `step-policy`: 1 of 2 objectives breached"),
        "{md}"
    );
    assert!(md.contains("| availability |"), "{md}");
    assert!(md.contains("❌ breached | 2/2 |"), "{md}");
    assert!(md.contains("✅ met | 0/2 |"), "{md}");

    // With --json the commands go to stderr; stdout stays JSON.
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let o = capsim_in(Some(&summary), &json_args);
    assert_eq!(o.status.code(), Some(1));
    serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap();
    assert!(stderr(&o).contains("::error title="), "{}", stderr(&o));

    // Outside GitHub Actions: plain text, no commands, no summary.
    let o = capsim_in(None, &args);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stdout(&o).contains("::error"), "{}", stdout(&o));

    // sweep --check that passes: a warning for what the baseline breaches.
    let summary = dir.path().join("sweep-summary.md");
    let out = dir.path().join("sweep");
    let o = capsim_in(
        Some(&summary),
        &sweep_args(out.to_str().unwrap(), "tiers.app.instances=3,4"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0]
            .starts_with("::warning title=capsim sweep%3A the baseline breaches availability::"),
        "{}",
        warnings[0]
    );
    assert!(!text.contains("::error"), "{text}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("### capsim sweep `step-policy`: a point meets every objective"),
        "{md}"
    );
    assert!(
        md.contains("| availability | 1 of 3 | ❌ breached 2/2 |"),
        "{md}"
    );
    assert!(
        md.contains("cheapest point meeting every objective: 2"),
        "{md}"
    );

    // sweep --check that fails: an error per objective some point breaches.
    let out = dir.path().join("sweep-none");
    let o = capsim_in(
        Some(&summary),
        &sweep_args(out.to_str().unwrap(), "tiers.app.instances=2,3"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].contains("availability breached at 3 of 3 points"),
        "{}",
        errors[0]
    );
}

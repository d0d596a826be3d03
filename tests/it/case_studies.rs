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

#[test]
fn tandem_agrees_with_its_closed_forms() {
    judged(
        &["tandem"],
        &[
            ("tiers.frontend.latency_ms.mean", "agrees"),
            ("tiers.frontend.latency_ms.p50", "agrees"),
            ("tiers.frontend.utilization", "agrees"),
            ("tiers.backend.utilization", "agrees"),
        ],
    );
}

#[test]
fn step_policy_meets_the_seeds_thresholds() {
    judged(
        &["step-policy"],
        &[
            ("latency_ms.p95", "agrees"),
            ("scaling.app.peak", "agrees"),
            ("requests.rejected", "agrees"),
        ],
    );
}

#[test]
fn arq_breaches_its_error_alert_at_the_3x_peak_not_at_2x() {
    judged(
        &["arq"],
        &[
            ("latency_ms.p95", "agrees"),
            ("slos.error-rate.met", "disagrees"),
            ("scaling.app.peak", "agrees"),
            ("scaling.app.peak", "other_variant"),
            ("tiers.pg.replication_lag_max_ms", "agrees"),
            ("tiers.pg.pool_utilization", "agrees"),
            ("tiers.pg.latency_ms.p99", "agrees"),
        ],
    );
    judged(
        &["arq", "--variant", "peak-2x"],
        &[
            ("latency_ms.p95", "agrees"),
            ("slos.error-rate.met", "agrees"),
            ("scaling.app.peak", "other_variant"),
            ("scaling.app.peak", "agrees"),
            ("tiers.pg.replication_lag_max_ms", "other_variant"),
            ("tiers.pg.pool_utilization", "agrees"),
            ("tiers.pg.latency_ms.p99", "agrees"),
        ],
    );
}

#[test]
fn greenstack_phases_judge_their_own_targets() {
    let other = "other_variant";
    judged(
        &["greenstack"],
        &[
            ("latency_ms.p95", "agrees"),
            ("tiers.pg.pool_utilization", "agrees"),
            ("throughput_per_s", other),
            ("latency_ms.p95", other),
            ("latency_ms.p95", other),
            ("tiers.parser.job_latency_p95_ms", other),
            ("latency_ms.p95", other),
        ],
    );
    // Phase 1 doubles the throughput (undecided at 5 replications: 29.03
    // against 29.0) but not while cutting latency by 30%.
    judged(
        &["greenstack", "--variant", "phase1"],
        &[
            ("latency_ms.p95", other),
            ("tiers.pg.pool_utilization", other),
            ("throughput_per_s", "undecided"),
            ("latency_ms.p95", "disagrees"),
            ("latency_ms.p95", other),
            ("tiers.parser.job_latency_p95_ms", other),
            ("latency_ms.p95", other),
        ],
    );
    judged(
        &["greenstack", "--variant", "phase2"],
        &[
            ("latency_ms.p95", other),
            ("tiers.pg.pool_utilization", other),
            ("throughput_per_s", other),
            ("latency_ms.p95", other),
            ("latency_ms.p95", "agrees"),
            ("tiers.parser.job_latency_p95_ms", "agrees"),
            ("latency_ms.p95", other),
        ],
    );
}

#[test]
fn fastapi_stage2_meets_its_targets_at_1000_users() {
    judged(
        &["fastapi-stage2"],
        &[
            ("latency_ms.p95", "agrees"),
            ("latency_ms.p99", "agrees"),
            ("slos.error-rate.met", "agrees"),
            ("tiers.celery.queue_depth_max", "agrees"),
            ("tiers.celery.queue_depth_max", "other_variant"),
            ("tiers.api.utilization", "agrees"),
            ("tiers.celery.utilization", "agrees"),
        ],
    );
}

#[test]
#[ignore = "a full case study (about 20 s): run with --include-ignored"]
fn fastapi_stage2_with_the_hpa_reaches_10k_users_but_its_queue_passes_the_seeds_trigger() {
    judged(
        &["fastapi-stage2", "--variant", "hpa-10k"],
        &[
            ("latency_ms.p95", "agrees"),
            ("latency_ms.p99", "agrees"),
            ("slos.error-rate.met", "agrees"),
            ("tiers.celery.queue_depth_max", "disagrees"),
            ("tiers.celery.queue_depth_max", "disagrees"),
            ("tiers.api.utilization", "agrees"),
            ("tiers.celery.utilization", "agrees"),
        ],
    );
}

#[test]
#[ignore = "a full case study (20-40 s): run with --include-ignored"]
fn recete_reaches_the_seeds_fleet_but_breaches_while_the_hpa_catches_up() {
    judged(
        &["recete"],
        &[
            ("latency_ms.p95", "agrees"),
            ("slos.p95-under-200ms.met", "disagrees"),
            ("slos.availability.met", "disagrees"),
            ("tiers.workers.job_latency_ms", "agrees"),
            ("slos.queue-p99-under-1m.met", "agrees"),
            ("tiers.pg.latency_ms.p95", "agrees"),
            ("tiers.pg.pool_timeouts", "agrees"),
            ("scaling.api.peak", "agrees"),
            ("scaling.workers.peak", "agrees"),
            ("tiers.workers.job_latency_p99_ms", "agrees"),
            ("tiers.workers.job_latency_p99_ms", "other_variant"),
        ],
    );
}

#[test]
#[ignore = "a full case study (20-40 s): run with --include-ignored"]
fn black_friday_with_the_seeds_remedies_meets_every_target() {
    judged(
        &["black-friday"],
        &[
            ("latency_ms.p95", "agrees"),
            ("slos.p95-under-200ms.met", "agrees"),
            ("slos.availability.met", "agrees"),
            ("tiers.workers.job_latency_ms", "agrees"),
            ("slos.queue-p99-under-1m.met", "agrees"),
            ("tiers.pg.latency_ms.p95", "agrees"),
            ("tiers.pg.pool_timeouts", "agrees"),
            ("scaling.api.peak", "agrees"),
            ("scaling.workers.peak", "agrees"),
            ("tiers.workers.job_latency_p99_ms", "agrees"),
            ("tiers.workers.job_latency_p99_ms", "other_variant"),
            ("tiers.pg.replication_lag_max_ms", "agrees"),
            ("tiers.pg.reads_replicas", "agrees"),
        ],
    );
}

#[test]
#[ignore = "a full case study (20-40 s): run with --include-ignored"]
fn mercenary_reproduces_the_observed_p99_and_errors_before_projecting() {
    judged(
        &["mercenary"],
        &[
            ("latency_ms.p99", "agrees"),
            ("slos.error-rate.budget_consumed", "agrees"),
            ("latency_ms.p99", "other_variant"),
            ("slos.error-rate.budget_consumed", "other_variant"),
            ("tiers.pg.replication_lag_max_ms", "agrees"),
            ("tiers.pg.utilization", "other_variant"),
        ],
    );
}

#[test]
#[ignore = "a full case study (20-40 s): run with --include-ignored"]
fn product_launch_keeps_p99_but_not_zero_downtime_and_needs_15_instances() {
    judged(
        &["product-launch"],
        &[
            ("latency_ms.p99", "agrees"),
            ("slos.p99-under-800ms.met", "agrees"),
            ("requests.rejected", "disagrees"),
            ("slos.error-rate.met", "disagrees"),
            ("scaling.api.peak", "disagrees"),
            ("latency_ms.p99", "agrees"),
        ],
    );
}

#[test]
fn retry_storm_stays_collapsed_unless_admission_is_limited() {
    judged(
        &["retry-storm"],
        &[
            ("throughput_per_s", "disagrees"),
            ("requests.wasted", "disagrees"),
            ("slos.error-rate.met", "disagrees"),
            ("latency_ms.p99", "disagrees"),
        ],
    );
    judged(
        &["retry-storm", "--variant", "admission-limit"],
        &[
            ("throughput_per_s", "agrees"),
            ("requests.wasted", "agrees"),
            ("slos.error-rate.met", "agrees"),
            ("latency_ms.p99", "agrees"),
        ],
    );
}

#[test]
#[ignore = "a full case study (about a minute): run with --include-ignored"]
fn ten_x_growth_reaches_the_seeds_fleet_but_breaches_in_three_weeks() {
    let mut want = vec![
        ("windows.0.units.api.peak".to_string(), "agrees"),
        ("windows.6.units.api.peak".to_string(), "disagrees"),
        ("windows.12.units.api.peak".to_string(), "agrees"),
        ("windows.12.units.pg.peak".to_string(), "agrees"),
        ("windows.12.units.redis.peak".to_string(), "agrees"),
        (
            "windows.12.metrics.pg.replication_lag_ms".to_string(),
            "agrees",
        ),
    ];
    // p95 breaches in weeks 3, 17 and 23 (windows 1, 8, 11); week 3's
    // error rate straddles the 0.1% bound.
    for k in 0..13 {
        let v = if [1, 8, 11].contains(&k) {
            "disagrees"
        } else {
            "agrees"
        };
        want.push((format!("windows.{k}.breach_minutes.p95-under-200ms"), v));
    }
    for k in 0..13 {
        let v = if k == 1 { "undecided" } else { "agrees" };
        want.push((format!("windows.{k}.error_rate"), v));
    }
    let want: Vec<(&str, &str)> = want.iter().map(|(m, v)| (m.as_str(), *v)).collect();
    judged(&["ten-x-growth"], &want);
}

#[test]
#[ignore = "a full case study (about a minute): run with --include-ignored"]
fn geo_expansion_serves_every_region_but_ap_south_whose_orders_cross() {
    judged(
        &["geo-expansion"],
        &[
            ("latency_ms.p95", "agrees"),
            ("slos.availability.met", "agrees"),
            ("regions.us-east.latency_ms.p95", "agrees"),
            ("regions.eu-central.latency_ms.p95", "agrees"),
            ("regions.ap-south.latency_ms.p95", "disagrees"),
            ("regions.ap-south.served_by.ap-south", "agrees"),
            ("regions.eu-central.served_by.eu-central", "agrees"),
            ("tiers.pg@us-east.latency_ms.p95", "agrees"),
            ("tiers.workers.job_latency_ms", "agrees"),
            ("tiers.workers.queue_wait_ms", "agrees"),
        ],
    );
}

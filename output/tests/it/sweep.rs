//! Sweeps on real simulations: common random numbers make every point see the
//! same traffic, so paired differences to the baseline are tighter than an
//! unpaired comparison; results do not depend on the thread count.

use capsim_models::{PlatformConfig, RunControl, SweepPlan, run_points};
use capsim_output::sweep::{PointRecord, SWEEP_SCHEMA_VERSION, SweepReport, point_record};
use capsim_scenarios::{Override, load_str};

/// M/M/c at 80% (10 servers) against 73% (11 servers).
const MMC: &str = r#"
[scenario]
name = "mmc-sweep"

[simulation]
duration = "2h"
warmup = "10m"
replications = 10
seed = 11

[classes.jobs]
rate_per_s = 8.0
route = ["servers"]

[tiers.servers]
kind = "station"
servers = 10
service = { dist = "exponential", mean = "1s" }
"#;

fn plan_and_platforms(values: &[&str]) -> (SweepPlan, Vec<PlatformConfig>) {
    let base = load_str("mmc", MMC, &[]).unwrap();
    let mut points = vec![vec!["10".to_string()]];
    let mut platforms = vec![base.platform.clone()];
    for v in values {
        points.push(vec![v.to_string()]);
        let ov = Override::parse(&format!("tiers.servers.servers={v}")).unwrap();
        platforms.push(load_str("mmc", MMC, &[ov]).unwrap().platform);
    }
    let plan = SweepPlan {
        schema_version: SWEEP_SCHEMA_VERSION,
        scenario: base.name.clone(),
        source: "mmc".into(),
        scenario_fnv64: "test".into(),
        sets: vec![],
        seed: base.seed,
        replications: base.replications,
        sample: "grid".into(),
        metric: "p99".into(),
        params: vec!["tiers.servers.servers".into()],
        latency_objectives: Vec::new(),
        windows: None,
        points,
    };
    (plan, platforms)
}

fn run(plan: &SweepPlan, platforms: &[PlatformConfig], threads: usize) -> Vec<PointRecord> {
    let skip = vec![false; platforms.len()];
    // The plan's identity is the runner's business; any fixed string will do here.
    let identity = "test-plan";
    run_points(
        platforms,
        plan.seed,
        plan.replications,
        threads,
        &skip,
        &RunControl::default(),
        |i, results| point_record(plan, identity, i, &results),
    )
    .unwrap()
    .into_iter()
    .map(Option::unwrap)
    .collect()
}

#[test]
fn every_point_sees_the_same_traffic_and_paired_intervals_are_narrower() {
    let (plan, platforms) = plan_and_platforms(&["11"]);
    let records = run(&plan, &platforms, 0);
    // Common random numbers: replication j of both points has the same arrivals.
    let arrived: Vec<Vec<f64>> = records.iter().map(|r| r.samples("arrived")).collect();
    assert_eq!(arrived[0], arrived[1]);
    assert!(
        arrived[0].windows(2).any(|w| w[0] != w[1]),
        "replications differ"
    );

    let report = SweepReport::new(&plan, &records).unwrap();
    let point = &report.points[1];
    for figure in ["latency_mean_ms", "latency_p99_ms", "latency_p95_ms"] {
        let d = &point.vs_baseline[figure];
        eprintln!(
            "{figure}: difference {:.3}, paired ±{:.3}, unpaired ±{:.3}",
            d.estimate,
            d.half_width(),
            d.unpaired_half_width()
        );
        // One more server: faster, and the paired interval says so firmly.
        assert!(d.ci95[1] < 0.0, "{figure}: {d:?}");
        assert!(
            d.half_width() < d.unpaired_half_width(),
            "{figure}: paired {d:?} is not narrower than unpaired"
        );
    }
    // For the mean the pairing halves the interval (seed 11: ±9.3 ms against ±17.6 ms).
    let mean = &point.vs_baseline["latency_mean_ms"];
    assert!(
        mean.half_width() < 0.7 * mean.unpaired_half_width(),
        "{mean:?}"
    );
    // The baseline differs from itself by nothing.
    let own = &report.points[0].vs_baseline["latency_p99_ms"];
    assert_eq!((own.estimate, own.ci95), (0.0, [0.0, 0.0]));
}

#[test]
fn sweep_results_do_not_depend_on_the_thread_count() {
    let (plan, platforms) = plan_and_platforms(&["9", "12"]);
    let one: Vec<Vec<u8>> = run(&plan, &platforms, 1)
        .iter()
        .map(PointRecord::to_json)
        .collect();
    let two: Vec<Vec<u8>> = run(&plan, &platforms, 2)
        .iter()
        .map(PointRecord::to_json)
        .collect();
    assert_eq!(one, two);
    // And a point file reads back to the same record, bit for bit.
    let rec = PointRecord::from_json(&one[1]).unwrap();
    assert_eq!(rec.to_json(), one[1]);
}

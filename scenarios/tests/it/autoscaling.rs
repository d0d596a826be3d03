//! Autoscaling end to end: each policy type on a scenario built so that its
//! metric is far from every threshold at every evaluation, so the actions
//! its written semantics (docs/autoscaling.md) predict can be worked out by
//! hand: exact times and sizes, in every replication.

use capsim_models::ReplicationResult;

use crate::common::*;

/// (seconds, from, to) of a tier's scaling actions.
fn actions(r: &ReplicationResult, tier: &str) -> Vec<(f64, u32, u32)> {
    let t = r.tiers.iter().position(|t| t.name == tier).unwrap() as u16;
    r.scaling
        .iter()
        .filter(|e| e.tier == t)
        .map(|e| (e.at.as_secs_f64(), e.from, e.to))
        .collect()
}

#[track_caller]
fn assert_actions(results: &[ReplicationResult], tier: &str, expected: &[(f64, u32, u32)]) {
    for r in results {
        let got = actions(r, tier);
        assert_eq!(
            got,
            expected,
            "replication {}: {:#?}",
            r.replication,
            r.scaling
                .iter()
                .map(|e| format!("{} {}→{} {}", e.at, e.from, e.to, e.reason))
                .collect::<Vec<_>>()
        );
    }
}

const MIN: f64 = 60.0;

#[test]
fn step_policy_waits_for_n_of_m_datapoints_and_respects_its_cooldown() {
    // Two instances of 2 cores, 10 ms of CPU per request: 400 req/s is 100%.
    // 200 req/s (CPU 0.50) until 10 min, then 520 req/s: CPU 1.0 with 2
    // instances (overloaded), 0.867 with 3, 0.65 with 4; from 30 min 200 req/s
    // again: 0.25 with 4, 0.333 with 3. One-minute datapoints.
    //
    // Scale-out: CPU > 0.7 in 3 of the last 5 datapoints, +1, cooldown 5 min.
    //   The datapoints ending at 11, 12 and 13 min breach: +1 at 13 min.
    //   14 to 17 min still breach (0.867) but cool down; at 18 min the
    //   cooldown (5 min since 13) is over: +1. With 4 instances (0.65) the
    //   datapoints stop breaching; at 19 and 20 min 3 of the last 5 still
    //   did, but the tier is cooling down, and by 23 min fewer than 3 did.
    // Scale-in: CPU < 0.3 in 4 of the last 4, -1: the datapoints ending at
    //   31..34 min breach: -1 at 34 min; with 3 instances (0.333) no more.
    let s = scenario(
        r#"
[scenario]
name = "step"
[simulation]
duration = "45m"
replications = 3
seed = 7
[classes.api]
rate_per_s = 200
profile = { kind = "steps", steps = [ { at = "10m", multiplier = 2.6 }, { at = "30m", multiplier = 1.0 } ] }
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 2
cores = 2
[tiers.web.scaling]
min = 2
max = 10
boot = "0s"
warmup = "0s"
[[tiers.web.scaling.policies]]
type = "step"
name = "out"
metric = "cpu"
above = 0.7
evaluation_periods = 5
datapoints = 3
change = 1
cooldown = "5m"
[[tiers.web.scaling.policies]]
type = "step"
name = "in"
metric = "cpu"
below = 0.3
evaluation_periods = 4
change = -1
cooldown = "5m"
"#,
    );
    let results = run(&s);
    assert_actions(
        &results,
        "web",
        &[(13.0 * MIN, 2, 3), (18.0 * MIN, 3, 4), (34.0 * MIN, 4, 3)],
    );
    // The reason names the policy and what it saw.
    let e = &results[0].scaling[0];
    assert!(
        e.reason.starts_with("out: cpu ") && e.reason.contains("in 3 of the last 5 periods"),
        "{}",
        e.reason
    );
}

#[test]
fn step_sizes_follow_the_breach_and_new_instances_serve_after_boot_and_warmup() {
    // As above, but one datapoint suffices and the steps are +1 at the
    // threshold, +100% from 0.25 beyond it. At 11 min CPU is 1.0 (0.3 beyond
    // 0.7): +100% of 2 → 4. The two new instances boot for 90 s and warm up
    // for 30 s: in service from 13 min. Until then the two old ones stay
    // saturated, but the 3-minute cooldown holds the policy back (at 12 and
    // 13 min); from 14 min CPU is 0.65 and nothing breaches.
    let s = scenario(
        r#"
[scenario]
name = "steps"
[simulation]
duration = "20m"
replications = 3
seed = 8
[classes.api]
rate_per_s = 200
profile = { kind = "steps", steps = [ { at = "10m", multiplier = 2.6 } ] }
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 2
cores = 2
[tiers.web.scaling]
min = 2
max = 10
boot = "90s"
warmup = "30s"
[[tiers.web.scaling.policies]]
type = "step"
metric = "cpu"
above = 0.7
steps = [ { beyond = 0, change = 1 }, { beyond = 0.25, change = "100%" } ]
cooldown = "3m"
"#,
    );
    let results = run(&s);
    assert_actions(&results, "web", &[(11.0 * MIN, 2, 4)]);
    for r in &results {
        // Instances in service per minute: 2 until 13 min, then 4.
        let up = tier_series(r, "web", "instances");
        assert_eq!(&up[10..14], &[2.0, 2.0, 2.0, 4.0], "{up:?}");
        // Both launched at 11 min; the old two stay saturated meanwhile.
        for u in &r.tier("web").unwrap().units[2..] {
            let launched = u.metric("launched_s").unwrap();
            assert_eq!(launched, 11.0 * MIN);
        }
        let util = tier_series(r, "web", "utilization");
        assert!(util[11] > 0.99 && util[12] > 0.99, "{util:?}");
    }
}

#[test]
fn target_tracking_applies_the_hpa_rule_with_tolerance_and_stabilisation() {
    // HPA on CPU, target 0.5, tolerance 10%, every 15 s, 5-minute
    // scale-down stabilisation; instances serve at once. 2 instances of 2
    // cores at 10 ms per request.
    //  * 200 req/s: CPU 0.5, ratio 1: no change.
    //  * 10 min: 480 req/s. At 10:15 CPU 1.0 (saturated): ceil(2 × 1.0/0.5)
    //    = 4. At 10:30 CPU 0.6: ceil(4 × 1.2) = 5; then 0.48, within
    //    tolerance: stays 5.
    //  * 20 min: 170 req/s. From 20:15 CPU 0.17: the rule recommends
    //    ceil(5 × 0.34) = 2, but scale-down takes the highest recommendation
    //    of the last 5 minutes, which includes the 5 recommended at 20:00
    //    until it is more than 300 s old: down to 2 at 25:15. With 2, CPU
    //    0.425 (ratio 0.85) recommends ceil(1.7) = 2: no change.
    let s = scenario(
        r#"
[scenario]
name = "hpa"
[simulation]
duration = "30m"
replications = 3
seed = 9
[classes.api]
rate_per_s = 200
profile = { kind = "steps", steps = [ { at = "10m", multiplier = 2.4 }, { at = "20m", multiplier = 0.85 } ] }
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 2
cores = 2
[tiers.web.scaling]
min = 2
max = 10
boot = "0s"
warmup = "0s"
[[tiers.web.scaling.policies]]
type = "target"
metric = "cpu"
target = 0.5
"#,
    );
    let results = run(&s);
    assert_actions(
        &results,
        "web",
        &[(615.0, 2, 4), (630.0, 4, 5), (25.0 * MIN + 15.0, 5, 2)],
    );
}

#[test]
fn target_tracking_settles_at_the_count_theory_predicts_under_a_step_load() {
    // One instance of 2 cores, 10 ms per request; at 5 min the load steps
    // from 100 to 1000 req/s: a = 1000 × 0.010 / 2 = 5 instances' worth of
    // CPU, five times one instance's capacity. The HPA with target 0.6 goes
    // ceil(n × 1.0 / 0.6) while saturated (1 → 2 → 4 → 7) and then to
    // ceil(a / 0.6) = ceil(8.33) = 9, where CPU is 5/9 = 0.556 (ratio 0.93,
    // within tolerance): it settles at 9, whatever the boot time.
    let s = scenario(
        r#"
[scenario]
name = "settle"
[simulation]
duration = "30m"
replications = 4
seed = 10
[classes.api]
rate_per_s = 100
profile = { kind = "steps", steps = [ { at = "5m", multiplier = 10 } ] }
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 2
[tiers.web.scaling]
min = 1
max = 30
boot = "30s"
warmup = "0s"
[[tiers.web.scaling.policies]]
type = "target"
metric = "cpu"
target = 0.6
"#,
    );
    let results = run(&s);
    let theory = (1000.0f64 * 0.010 / 2.0 / 0.6).ceil();
    assert_eq!(theory, 9.0);
    for r in &results {
        let acts = actions(r, "web");
        let last = acts.last().unwrap();
        assert_eq!(last.2 as f64, theory, "{acts:?}");
        // Settled within 3 minutes of the step and never moved again.
        assert!(last.0 <= 8.0 * MIN, "{acts:?}");
        let up = tier_series(r, "web", "instances");
        assert!(up[10..].iter().all(|&n| n == theory), "{up:?}");
        // The path: saturated doubling-ish steps, each ceil(n / 0.6).
        let sizes: Vec<u32> = acts.iter().map(|a| a.2).collect();
        assert_eq!(sizes, vec![2, 4, 7, 9], "{acts:?}");
    }
    // At 9 instances the tier is the M/M/2 of each instance at 0.556.
    let util = est(&results, |r| {
        mean(&tier_series(r, "web", "utilization")[10..])
    });
    assert_covers("utilization at 9 instances", util, 5.0 / 9.0);
}

#[test]
fn workers_scale_on_backlog_per_worker() {
    // 2 workers, one job at a time, 100 ms per job (20 jobs/s); 40 jobs/s
    // arrive. Backlog per worker, one-minute datapoints:
    //  * [0, 1 min]: the backlog grows 20/s, averaging 600: 300 per worker,
    //    below 500.
    //  * [1, 2 min]: averaging 1800: 900 per worker > 500 → +100% at 2 min.
    //  * 4 workers serve exactly the arrival rate: the backlog stays near
    //    2400, 600 per worker > 500 → +100% at 3 min (cooldown 1 min over).
    //  * 8 workers drain it by 4 min; from then the backlog is ~0, below 1
    //    per worker in 3 of 3 datapoints at 7 min → -4 (3 min cooldown).
    let s = scenario(
        r#"
[scenario]
name = "backlog"
[simulation]
duration = "7m30s"
replications = 3
seed = 11
[classes.order]
rate_per_s = 40
route = [ { enqueue = "jobs", job = "work" } ]
[tiers.jobs]
kind = "workers"
workers = 2
queues = { default = {} }
jobs = { work = { queue = "default", service = { dist = "deterministic", value = "100ms" } } }
[tiers.jobs.scaling]
min = 2
max = 16
boot = "0s"
[[tiers.jobs.scaling.policies]]
type = "step"
metric = "backlog_per_worker"
above = 500
change = "100%"
cooldown = "1m"
[[tiers.jobs.scaling.policies]]
type = "step"
metric = "backlog_per_worker"
below = 1
evaluation_periods = 3
change = -4
cooldown = "3m"
"#,
    );
    let results = run(&s);
    assert_actions(
        &results,
        "jobs",
        &[(2.0 * MIN, 2, 4), (3.0 * MIN, 4, 8), (7.0 * MIN, 8, 4)],
    );
}

#[test]
fn scheduled_actions_prewarm_and_release_capacity() {
    // No policies: a schedule raises min and desired to 6 at 5 min (launched
    // at once, in service at 7 min after 90 s boot + 30 s warm-up) and lowers min and
    // max at 15 min, which clamps the 6 to 4.
    let s = scenario(
        r#"
[scenario]
name = "schedule"
[simulation]
duration = "20m"
replications = 2
seed = 12
[classes.api]
rate_per_s = 50
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 2
cores = 2
[tiers.web.scaling]
min = 2
max = 10
boot = "90s"
warmup = "30s"
schedule = [ { at = "5m", min = 6, desired = 6 }, { at = "15m", min = 2, max = 4 } ]
"#,
    );
    let results = run(&s);
    assert_actions(&results, "web", &[(5.0 * MIN, 2, 6), (15.0 * MIN, 6, 4)]);
    for r in &results {
        let up = tier_series(r, "web", "instances");
        assert_eq!(&up[4..8], &[2.0, 2.0, 2.0, 6.0], "{up:?}");
        assert!(r.scaling[0].reason.contains("min 6, desired 6"));
    }
}

#[test]
fn scale_in_drains_in_flight_work_unless_the_drain_times_out() {
    // Requests of 2 s of CPU; the schedule removes two of four instances at
    // 5 min. With a drain timeout of 5 min they finish: nothing fails. With
    // a 100 ms drain timeout the requests still running on them fail.
    let text = |drain: &str| {
        format!(
            r#"
[scenario]
name = "drain"
[simulation]
duration = "8m"
replications = 3
seed = 13
[classes.slow]
rate_per_s = 1.5
route = [ {{ api = "web", cpu = {{ dist = "deterministic", value = "2s" }} }} ]
[tiers.web]
kind = "api"
instances = 4
cores = 2
[tiers.web.scaling]
min = 2
max = 4
drain_timeout = "{drain}"
schedule = [ {{ at = "5m", desired = 2 }} ]
"#
        )
    };
    let patient = run(&scenario(&text("5m")));
    for r in &patient {
        assert_eq!(r.totals().failed, 0);
        assert!(r.totals().is_conserved());
    }
    let hasty = run(&scenario(&text("100ms")));
    let failed: u64 = hasty.iter().map(|r| r.totals().failed).sum();
    // 1.5 req/s × 2 s on 4 instances: about 0.75 running per instance, so
    // some requests run on the two drained ones in most replications.
    assert!(failed > 0, "a 100 ms drain must cut requests off");
    for r in &hasty {
        assert!(r.totals().is_conserved());
    }
}

#[test]
fn read_replica_added_on_read_write_ratio_serves_after_creation_and_catch_up() {
    // 9 reads per write; a replica is added when reads/writes > 4 in a
    // one-minute datapoint, at most 1. Created in 5 min, caught up in 2 min:
    // launched at 1 min, serving reads from 8 min.
    let s = scenario(
        r#"
[scenario]
name = "replica"
[simulation]
duration = "12m"
replications = 2
seed = 14
[classes.read]
rate_per_s = 90
route = [ { db = "pg", query = "read" } ]
[classes.write]
rate_per_s = 10
route = [ { db = "pg", query = "write" } ]
[tiers.pg]
kind = "database"
primary = { cores = 4 }
replicas = 0
read_primary_fraction = 0.0
queries = { read = { kind = "read", cpu = { dist = "exponential", mean = "2ms" } }, write = { kind = "write", cpu = { dist = "exponential", mean = "3ms" } } }
[tiers.pg.scaling]
min = 0
max = 1
boot = "5m"
warmup = "2m"
[[tiers.pg.scaling.policies]]
type = "step"
metric = "read_write_ratio"
above = 4
change = 1
"#,
    );
    let results = run(&s);
    assert_actions(&results, "pg", &[(1.0 * MIN, 0, 1)]);
    for r in &results {
        let replica_reads = unit_metric(r, "pg", "replica-1", "reads");
        // Reads go to the primary while no replica serves; the replica takes
        // them all from 8 min: 4 of the 12 minutes' reads.
        let primary_reads = unit_metric(r, "pg", "primary", "reads");
        let share = replica_reads / (replica_reads + primary_reads);
        assert!((share - 4.0 / 12.0).abs() < 0.02, "replica share {share}");
        // Replicas in service per minute, and utilisation over the cores in
        // service: 0.21 busy cores of 4, then of 8.
        let replicas = tier_series(r, "pg", "replicas");
        assert_eq!(replicas, &[0., 0., 0., 0., 0., 0., 0., 0., 1., 1., 1., 1.]);
        let nodes = tier_series(r, "pg", "nodes");
        assert_eq!(nodes, &[1., 1., 1., 1., 1., 1., 1., 1., 2., 2., 2., 2.]);
        let u = tier_series(r, "pg", "utilization");
        assert!((u[4] - 0.21 / 4.0).abs() < 0.01, "{u:?}");
        assert!((u[10] - 0.21 / 8.0).abs() < 0.01, "{u:?}");
    }
}

#[test]
fn cache_adds_a_shard_when_the_working_set_outgrows_memory() {
    // 3 shards of 4 GB; a 10 GB working set growing 24 GB a day (1 GB an
    // hour): the ratio (10 + t/60 GB) / 12 GB first exceeds 0.86 at the
    // one-minute tick after t = 19.2 min, i.e. 20 min: +1 shard, in service
    // after the default 5 min; then (10 + t/60) / 16 stays below 0.86.
    let s = scenario(
        r#"
[scenario]
name = "shards"
[simulation]
duration = "40m"
replications = 2
seed = 15
[classes.get]
rate_per_s = 200
route = [ { cache = "redis" } ]
[tiers.redis]
kind = "cache"
shards = 3
memory = "4GB"
working_set = "10GB"
growth_per_day = "24GB"
skew = 0.5
[tiers.redis.scaling]
min = 1
max = 8
[[tiers.redis.scaling.policies]]
type = "step"
metric = "dataset_to_memory"
above = 0.86
change = 1
cooldown = "10m"
"#,
    );
    let results = run(&s);
    assert_actions(&results, "redis", &[(20.0 * MIN, 3, 4)]);
    for r in &results {
        let shards = tier_series(r, "redis", "shards");
        assert_eq!(&shards[23..27], &[3.0, 3.0, 4.0, 4.0], "{shards:?}");
        // The warm hit ratio is (memory / working set)^(1 − skew): 0.86^0.5
        // before the shard joins; the new shard starts empty and fills.
        let hits = tier_series(r, "redis", "hit_ratio");
        let before = (12.0f64 / (10.0 + 19.0 / 60.0)).min(1.0).sqrt();
        assert!((hits[18] - before).abs() < 0.02, "{} vs {before}", hits[18]);
    }
}

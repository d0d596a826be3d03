//! Hardware realism of API instances, against known answers: memory
//! (Little's law, Erlang B, target tracking), CPU credits (their
//! arithmetic) and the speed of a vCPU (M/M/c).

use capsim_models::ReplicationResult;

use crate::common::*;

/// Erlang's loss formula B(c, a), by its recursion.
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

fn mmc_memory(workers: u32, per_request: &str) -> Vec<ReplicationResult> {
    run(&scenario(&format!(
        r#"
[scenario]
name = "memory"
[simulation]
duration = "20m"
warmup = "1m"
replications = 8
seed = 33
[classes.api]
rate_per_s = 280
route = [ {{ api = "web", cpu = {{ dist = "exponential", mean = "10ms" }} }} ]
[tiers.web]
kind = "api"
instances = 1
cores = 4
workers = {workers}
backlog = 1000
memory = "1GB"
memory_base = "300MB"
memory_per_request = "{per_request}"
"#
    )))
}

#[test]
fn memory_utilization_is_base_plus_littles_law_occupancy_over_capacity() {
    // M/M/4 with 4 sync workers: the requests admitted are those in
    // service, λ·E[S] = 280 × 0.010 = 2.8 on average (Little), and none is
    // refused for memory (300 MB + 14 × 50 MB fit in 1 GB).
    let results = mmc_memory(4, "50MB");
    let exact = (300.0 + 50.0 * 2.8) / 1024.0;
    assert_covers(
        "memory_utilization",
        est(&results, |r| metric(r, "web", "memory_utilization")),
        exact,
    );
    for r in &results {
        assert_eq!(metric(r, "web", "rejected_memory"), 0.0);
        // The per-interval series averages to the same figure.
        let s = tier_series(r, "web", "memory_utilization");
        assert!(s.iter().all(|x| (0.29..0.7).contains(x)), "{s:?}");
    }
}

#[test]
fn memory_refuses_what_does_not_fit_as_an_erlang_loss_system() {
    // 8 workers but memory for (1024 − 300) / 181 = 4 requests: an arrival
    // finding 4 admitted is refused, so the instance is M/M/4/4 and the
    // refused share is Erlang B(4, 2.8); admitted requests average
    // 2.8 × (1 − B).
    let results = mmc_memory(8, "181MB");
    let b = erlang_b(4, 2.8);
    assert_covers(
        "refused share",
        est(&results, |r| {
            metric(r, "web", "rejected_memory") / metric(r, "web", "offered")
        }),
        b,
    );
    assert_covers(
        "memory_utilization",
        est(&results, |r| metric(r, "web", "memory_utilization")),
        (300.0 + 181.0 * 2.8 * (1.0 - b)) / 1024.0,
    );
    for r in &results {
        // Memory refusals are rejections.
        assert_eq!(
            metric(r, "web", "rejected"),
            metric(r, "web", "rejected_memory")
        );
    }
}

#[test]
fn target_tracking_on_memory_scales_out() {
    // 16 sync workers on 16 cores, 100 ms per request at 60 req/s: 6
    // requests admitted on average, 124 MB + 6 × 60 MB = 484 MB of 1 GB
    // (0.47) on one instance. Target 0.3: ceil(1 × 0.47 / 0.3) = 2 at the
    // first evaluation (15 s); with two instances each holds 3, (124 + 180)
    // / 1024 = 0.297, within the tolerance: no further change.
    let s = scenario(
        r#"
[scenario]
name = "memory-hpa"
[simulation]
duration = "10m"
replications = 3
seed = 34
[classes.api]
rate_per_s = 60
route = [ { api = "web", cpu = { dist = "exponential", mean = "100ms" } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 16
workers = 16
memory = "1GB"
memory_base = "124MB"
memory_per_request = "60MB"
[tiers.web.scaling]
min = 1
max = 4
boot = "0s"
warmup = "0s"
[[tiers.web.scaling.policies]]
type = "target"
metric = "memory"
target = 0.3
"#,
    );
    let results = run(&s);
    for r in &results {
        let acts: Vec<(f64, u32, u32)> = r
            .scaling
            .iter()
            .map(|e| (e.at.as_secs_f64(), e.from, e.to))
            .collect();
        assert_eq!(acts, vec![(15.0, 1, 2)], "{:?}", r.scaling);
        assert!(
            r.scaling[0].reason.contains("memory"),
            "{}",
            r.scaling[0].reason
        );
    }
    assert_covers(
        "memory_utilization with two instances",
        est(&results, |r| metric(r, "web", "memory_utilization")),
        // Time-averages of memory in use (484 MB on one instance for 15 s,
        // 2 × 124 + 360 MB on two after) over time-averaged capacity.
        (15.0 * 484.0 + 585.0 * 608.0) / (1024.0 * (15.0 + 585.0 * 2.0)),
    );
}

fn t3_small(credits: &str) -> Vec<ReplicationResult> {
    t3_small_after(credits, "0s")
}

/// As [`t3_small`], measured after a warm-up of `warmup`.
fn t3_small_after(credits: &str, warmup: &str) -> Vec<ReplicationResult> {
    run(&scenario(&credits_text("t3.small", "", credits, warmup, 4)))
}

/// One instance of `instance_type` (priced by `cost`, a `[cost]` table or
/// nothing) with 30 initial credits, at 100 req/s of 10 ms CPU for 80 min.
fn credits_text(
    instance_type: &str,
    cost: &str,
    credits: &str,
    warmup: &str,
    replications: u32,
) -> String {
    format!(
        r#"
[scenario]
name = "credits"
[simulation]
duration = "80m"
warmup = "{warmup}"
replications = {replications}
seed = 35
{cost}
[classes.api]
rate_per_s = 100
route = [ {{ api = "web", cpu = {{ dist = "exponential", mean = "10ms" }} }} ]
[tiers.web]
kind = "api"
instances = 1
instance_type = "{instance_type}"
credits = "{credits}"
credits_initial = 30
"#
    )
}

// A t3.small (2 vCPUs, baseline 20%) at 100 req/s × 10 ms = one core busy,
// 50% CPU: it spends 60 credits an hour and earns 0.2 × 2 × 60 = 24, a net
// 36 an hour, so 30 initial credits last 30 / 36 h = 50 min.
const EXHAUSTED_MIN: f64 = 30.0 / 36.0 * 60.0;

#[test]
fn a_standard_t3_small_at_half_cpu_runs_out_of_credits_when_the_arithmetic_says_and_is_throttled() {
    let results = t3_small("standard");
    for r in &results {
        let balance = tier_series(r, "web", "cpu_credit_balance");
        // One-minute intervals; the balance is updated on one-minute ticks.
        for k in [10usize, 25, 40] {
            let exact = 30.0 - 36.0 / 60.0 * k as f64;
            assert!(
                (balance[k] - exact).abs() < 0.5,
                "minute {k}: {}",
                balance[k]
            );
        }
        // The last credits go within a tick or two of 50 min: a throttled
        // core saturates once the share it may spend falls to 0.5.
        let first_zero = balance.iter().position(|&b| b == 0.0).unwrap() as f64;
        assert!(
            (EXHAUSTED_MIN..=EXHAUSTED_MIN + 2.0).contains(&first_zero),
            "out of credits at {first_zero} min"
        );
        assert!(balance[first_zero as usize..].iter().all(|&b| b < 0.01));
        // Throttled from the first tick where a minute at full speed would
        // spend more than the balance and the minute's earnings (1.6
        // credits left) to the end.
        let throttled = metric(r, "web", "throttled_s");
        let from = (EXHAUSTED_MIN - 1.6 / 0.6).ceil();
        assert!(
            ((80.0 - from) * 60.0 - throttled).abs() <= 60.0,
            "throttled {throttled} s"
        );
        // Throttled, 50% of demand at a 20% baseline: the cores are
        // saturated and the backlog fills.
        let util = tier_series(r, "web", "utilization");
        let queue = tier_series(r, "web", "queue_length");
        assert!(
            util[70..80].iter().all(|&u| u > 0.99),
            "{:?}",
            &util[70..80]
        );
        assert!(
            queue[20..40].iter().all(|&q| q < 1.0),
            "{:?}",
            &queue[20..40]
        );
        assert!(
            queue[70..80].iter().all(|&q| q > 50.0),
            "{:?}",
            &queue[70..80]
        );
    }
    // CPU actually used: the credits spent, which end at zero: the initial
    // 30 plus 80 min × 0.4 earned, over 80 × 2 core-minutes. It is 50% of
    // the cores until the credits run out, the 20% baseline after:
    // (50 × 0.5 + 30 × 0.2) / 80, the same 0.3875.
    for r in &results {
        let used = metric(r, "web", "cpu_used");
        assert!((used - (30.0 + 80.0 * 0.4) / 160.0).abs() < 1e-9, "{used}");
    }
    assert!(((EXHAUSTED_MIN * 0.5 + (80.0 - EXHAUSTED_MIN) * 0.2) / 80.0 - 0.3875).abs() < 1e-12);
}

#[test]
fn an_unlimited_t3_small_is_never_throttled_and_pays_for_its_surplus_credits() {
    let results = t3_small("unlimited");
    // After 80 min: 30 − 36 × 80 / 60 = −18 credits, at $0.05 per vCPU-hour.
    assert_covers(
        "surplus_credits",
        est(&results, |r| metric(r, "web", "surplus_credits")),
        18.0,
    );
    assert_covers(
        "surplus_credits_usd",
        est(&results, |r| metric(r, "web", "surplus_credits_usd")),
        18.0 * 0.05 / 60.0,
    );
    for r in &results {
        assert_eq!(metric(r, "web", "throttled_s"), 0.0);
        let queue = tier_series(r, "web", "queue_length");
        assert!(queue.iter().all(|&q| q < 1.0), "{queue:?}");
    }
    assert_covers(
        "cpu_used",
        est(&results, |r| metric(r, "web", "cpu_used")),
        0.5,
    );
    // The surplus is a line of the tier's bill: vCPU-hours × $0.05, added
    // to the instance-hours in `cost_usd`.
    for r in &results {
        let bill = r.tiers[0].bill.as_ref().expect("priced");
        let [units, surplus] = &bill.lines[..] else {
            panic!("two lines: {:?}", bill.lines)
        };
        assert_eq!(surplus.name, "surplus_credits");
        assert!((surplus.usd - surplus.unit_hours * 0.05).abs() < 1e-12);
        assert!((surplus.usd - metric(r, "web", "surplus_credits_usd")).abs() < 1e-12);
        assert!((surplus.unit_hours * 60.0 - metric(r, "web", "surplus_credits")).abs() < 1e-9);
        assert!((metric(r, "web", "cost_usd") - units.usd - surplus.usd).abs() < 1e-12);
    }
}

#[test]
fn surplus_credits_are_billed_for_the_measured_window_only() {
    // Measured from 60 min: the balance is 30 − 36 = −6 credits then and
    // −18 at 80 min, so the measured window spent 12 surplus credits (the
    // warm-up's 6 are its own).
    let results = t3_small_after("unlimited", "60m");
    assert_covers(
        "surplus_credits",
        est(&results, |r| metric(r, "web", "surplus_credits")),
        12.0,
    );
    // With a 40-minute warm-up the balance is still 6 at its end: every
    // surplus credit is the measured window's.
    let results = t3_small_after("unlimited", "40m");
    assert_covers(
        "surplus_credits",
        est(&results, |r| metric(r, "web", "surplus_credits")),
        18.0,
    );
}

#[test]
fn a_vcpu_at_half_speed_doubles_every_burst() {
    // 10 ms bursts measured on a core twice as fast: 20 ms here. At 140
    // req/s on 4 cores the pool is M/M/4 with utilisation 140 × 0.020 / 4
    // = 0.7, and the mean burst is 20 ms.
    let s = scenario(
        r#"
[scenario]
name = "speed"
[simulation]
duration = "20m"
warmup = "1m"
replications = 6
seed = 36
[classes.api]
rate_per_s = 140
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 4
workers = 4
backlog = 1000
vcpu_speed = 0.5
"#,
    );
    // The capacity check counts the slower bursts too.
    let check = capsim_models::laws::capacity_check(&s.platform);
    let cores = check
        .resources
        .iter()
        .find(|r| r.label() == "web cores")
        .unwrap();
    assert!((cores.utilization_mean() - 0.7).abs() < 1e-9);
    let results = run(&s);
    assert_covers(
        "utilization",
        est(&results, |r| metric(r, "web", "utilization")),
        0.7,
    );
    assert_covers(
        "in_service",
        est(&results, |r| metric(r, "web", "in_service")),
        140.0 * 0.020,
    );
}

/// An Azure B2s (2 vCPUs, a 20% baseline, no unlimited mode) under the
/// t3.small's load: the same credit arithmetic, in azure-eastus.
fn b2s(credits: &str) -> Result<capsim_scenarios::Scenario, String> {
    // azure-eastus has no CDN or egress prices; no load balancer, to bill
    // the VM alone.
    let cost = "[cost]\ncatalogue = \"azure-eastus\"\nload_balancer_per_hour = 0\ncdn_per_gb = 0\negress_per_gb = 0";
    let text = credits_text("Standard_B2s", cost, credits, "0s", 2);
    capsim_scenarios::load_str("b2s", &text, &[]).map_err(|e| e.to_string())
}

#[test]
fn an_azure_b2s_runs_out_of_credits_as_a_t3_small_does_and_has_no_unlimited_mode() {
    let results = run(&b2s("standard").unwrap());
    for r in &results {
        let balance = tier_series(r, "web", "cpu_credit_balance");
        let first_zero = balance.iter().position(|&b| b == 0.0).unwrap() as f64;
        assert!(
            (EXHAUSTED_MIN..=EXHAUSTED_MIN + 2.0).contains(&first_zero),
            "out of credits at {first_zero} min"
        );
        let used = metric(r, "web", "cpu_used");
        assert!((used - (30.0 + 80.0 * 0.4) / 160.0).abs() < 1e-9, "{used}");
        // Billed at the B2s's list price, $0.0416 an hour, and no surplus.
        let cost = metric(r, "web", "cost_usd");
        assert!((cost - 0.0416 * 80.0 / 60.0).abs() < 1e-9, "{cost}");
    }
    let err = b2s("unlimited").unwrap_err();
    assert!(
        err.contains("tiers.web.credits") && err.contains("no unlimited mode"),
        "{err}"
    );
}

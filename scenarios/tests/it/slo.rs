//! Service-level objectives: windows, breaches and error budgets against
//! known answers (M/M/1 sojourn tails, an outage of known length).

use capsim_models::{ReplicationResult, SloResult};

use crate::common::*;

fn slo<'a>(r: &'a ReplicationResult, name: &str) -> &'a SloResult {
    r.slos
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no objective {name}"))
}

#[test]
fn latency_budget_consumed_matches_the_mm1_tail() {
    // M/M/1 with λ = 8/s and μ = 10/s: the sojourn time is exponential with
    // rate 2/s, so P(T > t) = exp(−2t). With t = ln(20)/2 ≈ 1.498 s, 5% of
    // requests are slower; a p90 objective allows 10%: budget consumed 0.5.
    // A loose objective (p50 ≤ 1 min) never breaches; an impossible one
    // (p99 ≤ 1 µs) breaches in every measured minute, the first at the end
    // of the warm-up.
    let s = scenario(
        r#"
[scenario]
name = "mm1"
[simulation]
duration = "3h"
warmup = "10m"
replications = 10
seed = 31
[classes.req]
rate_per_s = 8
route = [ "q" ]
[tiers.q]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "100ms" }
[[slos]]
name = "tail"
percentile = 90
latency = "1498.6ms"
[[slos]]
name = "loose"
percentile = 50
latency = "1m"
[[slos]]
name = "impossible"
percentile = 99
latency = "1us"
"#,
    );
    let results = run(&s);
    let t = 1.4986f64;
    let theory = (-2.0 * t).exp() / 0.10;
    assert_covers(
        "budget consumed",
        est(&results, |r| slo(r, "tail").budget_consumed),
        theory,
    );
    for r in &results {
        let loose = slo(r, "loose");
        assert!(loose.met() && loose.first_breach_s.is_none());
        assert_eq!(loose.breach_windows, 0);
        let imp = slo(r, "impossible");
        assert!(!imp.met());
        assert_eq!(imp.breach_windows, 170);
        assert_eq!(imp.breach_minutes, 170.0);
        assert_eq!(imp.first_breach_s, Some(600.0));
        // Objectives judge a request in the window where it is answered (as
        // a monitoring system does); the counts cover requests created in
        // the measured period. They differ by the few requests in flight at
        // the edges of the measured period only.
        let completed = r.totals().completed;
        assert!(
            imp.events.abs_diff(completed) <= 10,
            "{} vs {completed}",
            imp.events
        );
    }
}

#[test]
fn an_outage_breaches_availability_in_exactly_its_windows() {
    // One API instance crashes at 10 min and is back at 12 min: requests in
    // flight then and arriving meanwhile fail. With 1-minute windows the
    // windows [10, 11) and [11, 12) breach a 99% availability objective and
    // a 2% error-rate objective; the first breach starts at 600 s.
    let s = scenario(
        r#"
[scenario]
name = "outage"
[simulation]
duration = "30m"
replications = 3
seed = 32
[classes.req]
rate_per_s = 50
route = [ { api = "web", cpu = { dist = "exponential", mean = "5ms" } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 2
[[failures]]
tier = "web"
action = "crash"
at = "10m"
duration = "2m"
[[slos]]
availability = 0.99
[[slos]]
error_rate = 0.02
"#,
    );
    let results = run(&s);
    for r in &results {
        for name in ["availability", "error-rate"] {
            let o = slo(r, name);
            assert_eq!(o.breach_windows, 2, "{name}: {o:?}");
            assert_eq!(o.breach_starts_s, vec![600.0, 660.0]);
            assert_eq!(o.first_breach_s, Some(600.0));
            assert_eq!(o.breach_minutes, 2.0);
            let t = r.totals();
            assert_eq!(o.bad_events, t.failed + t.rejected, "{name}");
            assert_eq!(o.events, t.completed + t.failed + t.rejected);
        }
        // About 2 of 30 minutes failed against 1% allowed: ~6.7 budgets.
        let b = slo(r, "availability").budget_consumed;
        assert!((b - (2.0 / 30.0) / 0.01).abs() < 0.7, "{b}");
    }
}

#[test]
fn queue_latency_objectives_measure_jobs_from_enqueue_to_done() {
    // One worker, exponential 100 ms jobs, 8 jobs/s: the job's time in the
    // system is M/M/1, exponential with rate 2/s: 5% above ln(20)/2.
    let s = scenario(
        r#"
[scenario]
name = "queue"
[simulation]
duration = "3h"
warmup = "10m"
replications = 10
seed = 33
[classes.order]
rate_per_s = 8
route = [ { enqueue = "jobs", job = "work" } ]
[tiers.jobs]
kind = "workers"
workers = 1
queues = { default = {} }
jobs = { work = { queue = "default", service = { dist = "exponential", mean = "100ms" } } }
[[slos]]
tier = "jobs"
percentile = 90
latency = "1498.6ms"
"#,
    );
    let results = run(&s);
    let name = &s.platform.slos[0].name;
    assert_eq!(name, "queue-p90-under-1s498ms600us-jobs");
    assert_covers(
        "queue budget consumed",
        est(&results, |r| slo(r, name).budget_consumed),
        (-2.0 * 1.4986f64).exp() / 0.10,
    );
}

#[test]
fn a_class_objective_counts_only_its_class() {
    let s = scenario(
        r#"
[scenario]
name = "classes"
[simulation]
duration = "20m"
replications = 2
seed = 34
[classes.fast]
rate_per_s = 50
route = [ { api = "web", cpu = { dist = "exponential", mean = "2ms" } } ]
[classes.slow]
rate_per_s = 5
route = [ { api = "web", cpu = { dist = "deterministic", value = "300ms" } } ]
[tiers.web]
kind = "api"
instances = 2
cores = 4
[[slos]]
class = "fast"
percentile = 99
latency = "250ms"
[[slos]]
class = "slow"
percentile = 99
latency = "250ms"
"#,
    );
    let results = run(&s);
    for r in &results {
        let fast = slo(r, "p99-under-250ms-fast");
        let slow = slo(r, "p99-under-250ms-slow");
        assert_eq!(fast.events, r.class("fast").unwrap().counts.completed);
        assert_eq!(slow.events, r.class("slow").unwrap().counts.completed);
        // Every slow request takes at least 300 ms: all bad.
        assert_eq!(slow.bad_events, slow.events);
        assert_eq!(slow.breach_windows, 20);
        assert!(fast.met(), "{fast:?}");
    }
}

//! Behaviour of the web-stack components, each checked on a scenario written
//! as a user would write it (TOML through the real loader) against a known
//! answer: queueing theory, a hand-computed fraction, or a qualitative
//! behaviour that must show (metastable failure, cache warm-up).

use capsim_models::ReplicationResult;
use capsim_models::theory::MMc;

use crate::common::*;

// ---- conservation -------------------------------------------------------

/// Timeouts and retries, a backlog small enough to reject, a database pool
/// small enough to time out, crashes of an instance and a cache shard, and
/// a failing background job.
const TROUBLE: &str = r#"
[scenario]
name = "trouble"
[simulation]
duration = "6m"
warmup = "1m"
replications = 4
seed = 5
[workload]
rate_per_s = 900
profile = { kind = "spike", start = "3m", rise = "5s", plateau = "30s", decay = "5s", multiplier = 2.5 }
[classes.browse]
share = 0.6
timeout = "60ms"
retries = 1
route = [
  { api = "web", cpu = { dist = "exponential", mean = "3ms" } },
  { cache = "redis", on_miss = [ { db = "pg", query = "read" }, { cache = "redis", op = "set" } ] },
]
[classes.buy]
share = 0.4
route = [
  { api = "web", cpu = { dist = "exponential", mean = "4ms" } },
  { branch = [ { p = 0.7, route = [ { db = "pg", query = "read" } ] },
               { p = 0.3, route = [ { db = "pg", query = "write" }, { enqueue = "jobs", job = "mail" } ] } ] },
]
[tiers.web]
kind = "api"
instances = 3
cores = 2
workers = 5
backlog = 40
[tiers.redis]
kind = "cache"
shards = 2
hit_ratio = 0.7
keys = 5000
[tiers.pg]
kind = "database"
primary = { cores = 2 }
replicas = 1
pool = { size = 2, acquire_timeout = "20ms" }
[tiers.pg.queries.read]
kind = "read"
cpu = { dist = "exponential", mean = "2ms" }
[tiers.pg.queries.write]
kind = "write"
cpu = { dist = "exponential", mean = "4ms" }
[tiers.jobs]
kind = "workers"
workers = 2
[tiers.jobs.queues.default]
[tiers.jobs.jobs.mail]
queue = "default"
service = { dist = "exponential", mean = "5ms" }
failure_probability = 0.2
retries = 1
[[failures]]
tier = "web"
unit = 0
action = "crash"
at = "2m"
duration = "30s"
[[failures]]
tier = "redis"
unit = 1
action = "crash"
at = "4m"
duration = "20s"
"#;

#[test]
fn requests_are_conserved_under_every_kind_of_trouble() {
    // Timeouts and retries, a backlog small enough to reject, a database pool
    // small enough to time out, crashes of an instance and a cache shard, and
    // a failing background job: every outcome happens, and per class and
    // replication arrived = completed + failed + rejected + in flight.
    conserved_in_trouble(&scenario(TROUBLE));
}

#[test]
fn requests_are_conserved_when_the_api_shares_its_cores() {
    // The same trouble with processor sharing on the API's cores: the crash
    // drops the bursts in progress, and their requests fail.
    let text = TROUBLE.replace("backlog = 40\n", "backlog = 40\ndiscipline = \"ps\"\n");
    assert_ne!(text, TROUBLE);
    conserved_in_trouble(&scenario(&text));
}

fn conserved_in_trouble(s: &capsim_scenarios::Scenario) {
    let res = run(s);
    let mut totals = capsim_models::RequestCounts::default();
    let mut client = capsim_models::ClientCounts::default();
    for r in &res {
        for c in &r.classes {
            assert!(
                c.counts.is_conserved(),
                "{} in replication {}: {:?}",
                c.name,
                r.replication,
                c.counts
            );
            totals.add(&c.counts);
            client.add(&c.client);
        }
    }
    eprintln!("{totals:?} {client:?}");
    assert!(
        totals.completed > 0 && totals.failed > 0 && totals.rejected > 0,
        "{totals:?}"
    );
    assert!(
        client.timed_out > 0 && client.retries > 0 && client.wasted > 0,
        "{client:?}"
    );
    let errors = |tier: &str| res.iter().map(|r| metric(r, tier, "errors")).sum::<f64>();
    let sum = |tier: &str, m: &str| res.iter().map(|r| metric(r, tier, m)).sum::<f64>();
    eprintln!(
        "web errors {} pg pool timeouts {} redis misses while down {}",
        errors("web"),
        sum("pg", "pool_timeouts"),
        sum("redis", "misses_while_down")
    );
    assert!(
        errors("web") > 0.0,
        "requests on the crashed instance failed"
    );
    assert!(
        sum("pg", "pool_timeouts") > 0.0,
        "queries timed out waiting for a connection"
    );
    // Redis commands take microseconds, so few are in flight at the instant of
    // a crash; while the shard is down, its GETs fall back to misses.
    assert!(sum("redis", "misses_while_down") > 0.0);
    assert!(res.iter().map(|r| metric(r, "jobs", "dead")).sum::<f64>() > 0.0);
    assert!(
        res.iter().all(|r| r.failures.len() == 4),
        "two crashes and two recoveries each"
    );
}

// ---- the API pool is an M/M/c ---------------------------------------------

const MMC_POOL: &str = r#"
[scenario]
name = "pool"
[simulation]
duration = "40m"
warmup = "2m"
replications = 10
seed = 11
[classes.requests]
rate_per_s = 360
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 4
workers = 4
backlog = 1000000
"#;

#[test]
fn a_single_api_pool_matches_mmc_theory() {
    // One instance, 4 cores, exponential 10 ms CPU, 360 req/s: M/M/4 at
    // ρ = 0.9. With 4 workers requests queue for admission; with the default
    // 9 workers up to 9 are admitted and queue for a core, the rest wait for
    // admission: the same FCFS M/M/4 either way (on the same sample path the
    // latencies are identical), with the wait split between the two queues.
    let q = MMc::new(360.0, 100.0, 4);
    let res = run(&scenario(MMC_POOL));
    assert_covers(
        "latency mean ms",
        est(&res, |r| r.latency().mean_ms()),
        q.mean_sojourn() * 1e3,
    );
    assert_covers(
        "latency p95 ms",
        est(&res, |r| r.latency().quantile_ms(0.95)),
        q.sojourn_quantile(0.95) * 1e3,
    );
    assert_covers(
        "latency p99 ms",
        est(&res, |r| r.latency().quantile_ms(0.99)),
        q.sojourn_quantile(0.99) * 1e3,
    );
    assert_covers(
        "admission wait ms",
        est(&res, |r| metric(r, "web", "queue_wait_ms")),
        q.mean_wait() * 1e3,
    );
    assert_covers(
        "utilization",
        est(&res, |r| metric(r, "web", "utilization")),
        q.rho(),
    );

    let more_workers = MMC_POOL.replace("workers = 4\n", "");
    let res = run(&scenario(&more_workers));
    assert_covers(
        "latency mean ms (9 workers)",
        est(&res, |r| r.latency().mean_ms()),
        q.mean_sojourn() * 1e3,
    );
    let total_wait =
        |r: &ReplicationResult| metric(r, "web", "queue_wait_ms") + metric(r, "web", "cpu_wait_ms");
    assert_covers(
        "admission + cpu wait ms (9 workers)",
        est(&res, total_wait),
        q.mean_wait() * 1e3,
    );
    assert!(
        est(&res, |r| metric(r, "web", "cpu_wait_ms")).estimate > 1.0,
        "some of the wait is for a core"
    );
}

#[test]
fn random_balancing_splits_into_independent_mmc_queues() {
    // Three instances behind a random balancer at 900 req/s: each sees a
    // Poisson stream of 300 req/s, an M/M/4 at ρ = 0.75.
    let text = MMC_POOL
        .replace("rate_per_s = 360", "rate_per_s = 900")
        .replace("instances = 1", "instances = 3\nbalancer = \"random\"");
    let q = MMc::new(300.0, 100.0, 4);
    let res = run(&scenario(&text));
    assert_covers(
        "latency mean ms",
        est(&res, |r| r.latency().mean_ms()),
        q.mean_sojourn() * 1e3,
    );
    assert_covers(
        "utilization",
        est(&res, |r| metric(r, "web", "utilization")),
        q.rho(),
    );
    // Least connections balances better than random: lower latency.
    let lc = run(&scenario(
        &text.replace("\"random\"", "\"least_connections\""),
    ));
    let (r, l) = (
        est(&res, |r| r.latency().mean_ms()),
        est(&lc, |r| r.latency().mean_ms()),
    );
    assert!(
        l.ci95[1] < r.ci95[0],
        "least connections {l:?} beats random {r:?}"
    );
}

#[test]
fn an_api_sharing_its_cores_is_m_g_c_ps() {
    // Two event loops sharing bursts of mean 10 ms with SCV 9.5 at ρ 0.7:
    // processor sharing is insensitive, so the time at the API is M/M/2's
    // (the same mean service), where FCFS bursts would wait far longer.
    let s = scenario(
        r#"
[scenario]
name = "ps-api"
[simulation]
duration = "3100s"
warmup = "100s"
replications = 10
seed = 3
[classes.calls]
rate_per_s = 140
route = [ { api = "web", cpu = { dist = "hyperexponential", branches = [ { p = 0.95, mean = "5.263157894736842ms" }, { p = 0.05, mean = "100ms" } ] } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 2
mode = "async"
workers = 2
max_connections = 100000
backlog = 0
discipline = "ps"
"#,
    );
    let res = run(&s);
    let exact = 1e3 * MMc::new(140.0, 100.0, 2).mean_sojourn();
    assert_covers(
        "M/H2/2-PS at the API, E[T] ms",
        est(&res, |r| r.classes[0].latency.mean_ms()),
        exact,
    );
    assert_covers(
        "utilisation",
        est(&res, |r| metric(r, "web", "utilization")),
        0.7,
    );
}

// ---- cache and database routing -------------------------------------------

#[test]
fn the_database_sees_the_misses_and_reads_split_as_configured() {
    let s = scenario(
        r#"
[scenario]
name = "cache"
[simulation]
duration = "10m"
warmup = "1m"
replications = 10
seed = 2
[classes.reads]
rate_per_s = 500
route = [ { cache = "redis", on_miss = [ { db = "pg", query = "read" }, { cache = "redis", op = "set" } ] } ]
[tiers.redis]
kind = "cache"
hit_ratio = 0.8
[tiers.pg]
kind = "database"
primary = { cores = 8 }
replicas = 2
read_primary_fraction = 0.2
[tiers.pg.queries.read]
kind = "read"
cpu = { dist = "exponential", mean = "2ms" }
"#,
    );
    let res = run(&s);
    let reads = |r: &ReplicationResult| {
        metric(r, "pg", "reads_primary") + metric(r, "pg", "reads_replicas")
    };
    assert_covers(
        "database reads / cache gets",
        est(&res, |r| reads(r) / metric(r, "redis", "gets")),
        0.2,
    );
    assert_covers(
        "observed hit ratio",
        est(&res, |r| metric(r, "redis", "hit_ratio")),
        0.8,
    );
    assert_covers(
        "reads on the primary",
        est(&res, |r| {
            unit_metric(r, "pg", "primary", "reads") / reads(r)
        }),
        0.2,
    );
    assert_covers(
        "reads on replica 1",
        est(&res, |r| {
            unit_metric(r, "pg", "replica-1", "reads") / reads(r)
        }),
        0.4,
    );
    assert_covers(
        "reads on replica 2",
        est(&res, |r| {
            unit_metric(r, "pg", "replica-2", "reads") / reads(r)
        }),
        0.4,
    );
}

// ---- connection pools -----------------------------------------------------

const POOL: &str = r#"
[scenario]
name = "pool"
[simulation]
duration = "5m"
warmup = "30s"
replications = 5
seed = 3
[classes.q]
rate_per_s = 300
route = [ { db = "pg", query = "read" } ]
[tiers.pg]
kind = "database"
primary = { cores = 8 }
pool = { size = POOL_SIZE, acquire_timeout = "100ms" }
[tiers.pg.queries.read]
kind = "read"
cpu = { dist = "exponential", mean = "10ms" }
"#;

#[test]
fn a_small_pool_makes_waits_and_errors_a_large_one_none() {
    // 300 queries/s of 10 ms need 3 connections on average; 2 connections
    // saturate (their capacity is 200/s), so queries wait, and past the
    // 100 ms acquire timeout they fail. With 64 connections nobody waits.
    let small = run(&scenario(&POOL.replace("POOL_SIZE", "2")));
    let large = run(&scenario(&POOL.replace("POOL_SIZE", "64")));
    let wait_small = est(&small, |r| metric(r, "pg", "pool_wait_ms"));
    let timeouts_small = est(&small, |r| metric(r, "pg", "pool_timeouts"));
    let failed_small = est(&small, |r| r.totals().failed as f64);
    eprintln!(
        "small pool: wait {wait_small:?} timeouts {timeouts_small:?} failed {failed_small:?}"
    );
    assert!(wait_small.ci95[0] > 10.0, "queries wait for a connection");
    assert!(
        timeouts_small.ci95[0] > 1_000.0 && failed_small.ci95[0] > 1_000.0,
        "and time out"
    );
    // Over capacity, about a third of the load cannot be served.
    let ok_share = est(&small, |r| {
        r.totals().completed as f64 / r.totals().arrived as f64
    });
    assert!(ok_share.ci95[1] < 0.75, "{ok_share:?}");

    for r in &large {
        assert_eq!(metric(r, "pg", "pool_timeouts"), 0.0);
        assert_eq!(r.totals().failed, 0);
        assert!(
            metric(r, "pg", "pool_wait_ms") < 1e-3,
            "{}",
            metric(r, "pg", "pool_wait_ms")
        );
    }
}

// ---- metastable failure -----------------------------------------------------

const STORM: &str = r#"
[scenario]
name = "storm"
[simulation]
duration = "20m"
warmup = "1m"
interval = "30s"
replications = 5
seed = 9
[classes.api]
rate_per_s = 600
profile = { kind = "spike", start = "5m", rise = "0s", plateau = "1m", decay = "0s", multiplier = 2.0 }
timeout = "200ms"
RETRIES
backoff = { base = "50ms", max = "1s", jitter = 1.0 }
route = [ { api = "web", cpu = { dist = "exponential", mean = "10ms" } } ]
[tiers.web]
kind = "api"
instances = 1
cores = 8
workers = 8
backlog = 2000
"#;

#[test]
fn a_retry_storm_stays_collapsed_after_the_spike_without_retries_it_recovers() {
    // Capacity 800 req/s (8 cores × 10 ms), base load 600 req/s, one minute
    // at 1200 req/s from minute 5. Clients give up after 200 ms.
    //
    // Without retries, the backlog built in the spike drains within seconds
    // of its end and goodput returns to 600/s. With 3 retries, every request
    // that waits past 200 ms comes back up to 3 more times, the queue stays
    // long enough that almost every attempt times out, and the retries keep
    // the offered load above capacity: goodput stays near zero long after the
    // spike has gone. Servers keep busy with work nobody waits for.
    let with = run(&scenario(&STORM.replace("RETRIES", "retries = 3")));
    let without = run(&scenario(&STORM.replace("RETRIES", "retries = 0")));
    let goodput = |r: &ReplicationResult| -> Vec<f64> {
        r.classes[0]
            .series
            .completed
            .iter()
            .map(|c| c / 30.0)
            .collect()
    };
    // Intervals of 30 s: minutes 2–5 (before), 5–6 (spike), 10–20 (after).
    let before_with = mean(&series_mean(&with, 4, 10, goodput));
    let after_with = mean(&series_mean(&with, 20, 40, goodput));
    let before_without = mean(&series_mean(&without, 4, 10, goodput));
    let after_without = mean(&series_mean(&without, 20, 40, goodput));
    eprintln!(
        "goodput before/after: with retries {before_with:.1}/{after_with:.1}, without {before_without:.1}/{after_without:.1}"
    );
    assert!(
        before_with > 570.0 && before_without > 570.0,
        "healthy before the spike"
    );
    assert!(
        after_without > 570.0,
        "without retries goodput recovers: {after_without}"
    );
    assert!(
        after_with < 0.2 * 600.0,
        "with retries goodput stays collapsed: {after_with}"
    );
    // Per replication too, not just on average.
    for r in &with {
        let g = goodput(r);
        assert!(
            mean(&g[20..40]) < 120.0,
            "replication {} recovered",
            r.replication
        );
    }
    // The servers are busy all the while: the collapse is work wasted on
    // abandoned attempts, not idleness.
    let util_after = mean(&series_mean(&with, 20, 40, |r| {
        r.tier("web")
            .unwrap()
            .series("utilization")
            .unwrap()
            .to_vec()
    }));
    assert!(util_after > 0.95, "servers saturated: {util_after}");
    assert!(with.iter().all(|r| r.classes[0].client.wasted > 10_000));
}

// ---- cache failure and warm-up ----------------------------------------------

#[test]
fn killing_a_redis_node_drops_the_hit_ratio_and_loads_the_database_until_it_warms() {
    let s = scenario(
        r#"
[scenario]
name = "redis-crash"
[simulation]
duration = "20m"
warmup = "1m"
interval = "30s"
replications = 4
seed = 4
[classes.reads]
rate_per_s = 500
route = [ { cache = "redis", on_miss = [ { db = "pg", query = "read" }, { cache = "redis", op = "set" } ] } ]
[tiers.redis]
kind = "cache"
hit_ratio = 0.9
keys = 15000
[tiers.pg]
kind = "database"
primary = { cores = 8 }
[tiers.pg.queries.read]
kind = "read"
cpu = { dist = "exponential", mean = "2ms" }
[[failures]]
tier = "redis"
action = "crash"
at = "8m"
duration = "1m"
"#,
    );
    let res = run(&s);
    let hit = |r: &ReplicationResult| {
        r.tier("redis")
            .unwrap()
            .series("hit_ratio")
            .unwrap()
            .to_vec()
    };
    let db = |r: &ReplicationResult| {
        r.tier("pg")
            .unwrap()
            .series("reads")
            .unwrap()
            .iter()
            .map(|x| x / 30.0)
            .collect::<Vec<_>>()
    };
    // 30 s intervals: 10–16 = minutes 5–8 (warm), 16–18 = the minute down,
    // 18 = the first 30 s back (cold), 30–40 = minutes 15–20 (warm again).
    let warm_hit = mean(&series_mean(&res, 10, 16, hit));
    let down_hit = mean(&series_mean(&res, 16, 18, hit));
    let cold_hit = series_mean(&res, 18, 19, hit)[0];
    let rewarmed_hit = mean(&series_mean(&res, 30, 40, hit));
    let warm_db = mean(&series_mean(&res, 10, 16, db));
    let down_db = mean(&series_mean(&res, 16, 18, db));
    let cold_db = series_mean(&res, 18, 19, db)[0];
    let rewarmed_db = mean(&series_mean(&res, 30, 40, db));
    eprintln!(
        "hit ratio warm {warm_hit:.3} down {down_hit:.3} cold {cold_hit:.3} rewarmed {rewarmed_hit:.3}"
    );
    eprintln!(
        "db reads/s warm {warm_db:.1} down {down_db:.1} cold {cold_db:.1} rewarmed {rewarmed_db:.1}"
    );
    assert!((warm_hit - 0.9).abs() < 0.01);
    assert!(
        down_hit < 0.01,
        "a dead node serves nothing: every GET misses"
    );
    assert!(cold_hit < 0.8, "a restarted node comes back empty");
    assert!((rewarmed_hit - 0.9).abs() < 0.01, "and warms back up");
    // The database takes the misses: 50/s warm, all 500/s while down.
    assert!((warm_db - 50.0).abs() < 5.0);
    assert!(down_db > 450.0);
    assert!(cold_db > 1.5 * warm_db);
    assert!((rewarmed_db - 50.0).abs() < 5.0);
    // In-flight commands on the node at the crash failed.
    assert!(
        res.iter()
            .all(|r| r.failures.iter().any(|f| f.what == "crash"))
    );
}

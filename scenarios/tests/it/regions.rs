//! Regions: routing to the nearest usable region, the round trips a request
//! pays, replication across regions, failover when a region is down or
//! saturated, per-region arrivals, and the errors of a bad `[geo]`.

use capsim_models::{ReplicationResult, RunControl, run_replications};
use capsim_scenarios::load_str;

use crate::common::{self, est, p50_ms, run, scenario};

/// Two regions 80 ms apart (a holds the primary), users 20 ms from their
/// own region; deterministic service so latencies are exact sums.
const TWO: &str = r#"
[scenario]
name = "two-regions"

[simulation]
duration = "20m"
warmup = "2m"
replications = 4
seed = 7

[classes.read]
rate_per_s = 5
route = [{ api = "api" }, { db = "pg", query = "read" }]

[classes.write]
rate_per_s = 5
route = [{ api = "api" }, { db = "pg", query = "write" }]

[geo]
primary = "a"
regional = ["api", "pg"]
rtt.a = { b = "80ms" }
health_check = "5s"

[regions.a]
share = 0.5
user_rtt = "20ms"

[regions.b]
share = 0.5
user_rtt = "20ms"

[tiers.api]
kind = "api"
instances = 2
cores = 2
mode = "async"
cpu = { dist = "deterministic", value = "1ms" }

[tiers.pg]
kind = "database"
replicas = 1
primary = { cores = 4 }
replica = { cores = 4 }
rtt = "0ms"
apply_time = { dist = "deterministic", value = "1ms" }
queries.read = { kind = "read", cpu = { dist = "deterministic", value = "2ms" } }
queries.write = { kind = "write", cpu = { dist = "deterministic", value = "2ms" } }
"#;

fn served_by(r: &ReplicationResult, class: &str) -> Vec<u64> {
    r.class(class).unwrap().served_by.clone()
}

#[test]
fn each_region_has_its_own_tiers_and_users() {
    let s = scenario(TWO);
    let names: Vec<&str> = s.platform.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["api@a", "api@b", "pg@a", "pg@b"]);
    let classes: Vec<&str> = s.platform.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(classes, ["read@a", "read@b", "write@a", "write@b"]);
    for c in &s.platform.classes {
        assert_eq!(c.arrivals.rate_per_s, 2.5, "{}: rate × share", c.name);
    }
    let rc = s.platform.regions.as_ref().unwrap();
    assert_eq!(rc.replication.len(), 1, "pg@a replicates to pg@b");
}

#[test]
fn requests_pay_the_round_trips_of_the_regions_they_cross() {
    let results = run(&scenario(TWO));
    for r in &results {
        // Users 20 ms from their region, 1 ms of CPU, a 2 ms query.
        let local = 20.0 + 1.0 + 2.0;
        for (class, expect) in [
            ("read@a", local),
            ("read@b", local), // on b's own replica
            ("write@a", local),
            ("write@b", local + 80.0), // to the primary in a and back
        ] {
            let got = p50_ms(r, class);
            assert!(
                (got - expect).abs() <= 0.01 * expect,
                "{class}: p50 {got} ms, expected {expect} ms"
            );
        }
        // Everyone is served by their own region.
        assert_eq!(served_by(r, "read@a")[1], 0);
        assert_eq!(served_by(r, "read@b")[0], 0);
        assert!(served_by(r, "read@b")[1] > 0);
        // b's replica takes b's reads; the primary takes every write.
        assert!(common::metric(r, "pg@b", "reads_replicas") > 0.0);
        assert_eq!(common::metric(r, "pg@b", "writes"), 0.0);
        // (The two counts differ by the requests crossing the window's
        // edges only.)
        let writes = common::metric(r, "pg@a", "writes");
        let answered = (r.class("write@a").unwrap().counts.completed
            + r.class("write@b").unwrap().counts.completed) as f64;
        assert!((writes - answered).abs() <= 5.0, "{writes} vs {answered}");
    }
}

#[test]
fn a_remote_replica_lags_by_the_one_way_trip_plus_its_apply() {
    let results = run(&scenario(TWO));
    // Local replica: 1 ms apply at this write rate; remote: + 40 ms.
    let local = est(&results, |r| {
        common::metric(r, "pg@a", "replication_lag_ms")
    });
    let remote = est(&results, |r| {
        common::metric(r, "pg@b", "replication_lag_ms")
    });
    eprintln!("lag local {local:?} remote {remote:?}");
    assert!((local.estimate - 1.0).abs() < 0.05, "{local:?}");
    assert!((remote.estimate - 41.0).abs() < 0.05, "{remote:?}");
}

/// Two regions (a holds the primary) with every kind of crossing: b's
/// writes go to the primary, b's reads visit a global station, b's writes
/// enqueue on global workers, and every write replicates to b's replica.
const CROSSINGS: &str = r#"
[scenario]
name = "crossings"

[simulation]
duration = "20m"
warmup = "2m"
replications = 4
seed = 11

[cost]
cross_region_per_gb = 0.05

[classes.read]
rate_per_s = 8
route = [{ api = "api" }, { db = "pg", query = "read" }, "audit"]

[classes.write]
rate_per_s = 4
route = [{ api = "api" }, { db = "pg", query = "write" }, { enqueue = "jobs", job = "mail" }]

[geo]
primary = "a"
regional = ["api", "pg"]
rtt.a = { b = "80ms" }

[regions.a]
share = 0.5
user_rtt = "20ms"

[regions.b]
share = 0.5
user_rtt = "20ms"

[tiers.api]
kind = "api"
instances = 2
cores = 2
mode = "async"
cpu = { dist = "deterministic", value = "1ms" }

[tiers.pg]
kind = "database"
replicas = 1
primary = { cores = 4 }
replica = { cores = 4 }
request_size = "1KB"
response_size = "3KB"
replication_size = "2KB"
queries.read = { kind = "read", cpu = { dist = "deterministic", value = "2ms" } }
queries.write = { kind = "write", cpu = { dist = "deterministic", value = "2ms" } }

[tiers.audit]
kind = "station"
servers = 4
service = { dist = "deterministic", value = "1ms" }
request_size = "512B"
response_size = "512B"

[tiers.jobs]
kind = "workers"
workers = 2
job_size = "1KB"
queues = { default = {} }
jobs = { mail = { queue = "default", service = { dist = "deterministic", value = "5ms" } } }
"#;

#[test]
fn bytes_crossing_regions_are_billed_per_gb() {
    let s = scenario(CROSSINGS);
    assert_eq!(s.platform.traffic.cross_region_per_gb, 0.05);
    let results = run(&s);
    let gb = 1024.0 * 1024.0 * 1024.0;
    let kb = 1024.0;
    // Per crossing: a write of b to the primary and back (1 + 3 KB) and its
    // job's message (1 KB); a read of b at the global station (0.5 + 0.5
    // KB); every write's WAL to b's replica (2 KB).
    let per_write_b = 4.0 * kb + kb + 2.0 * kb;
    let (per_read_b, per_write_a) = (kb, 2.0 * kb);
    for r in &results {
        // Exact but for the requests crossing the window's edges: requests
        // cross 11 to 24 ms after they arrive, so count arrivals.
        let arrived = |c: &str| r.class(c).unwrap().counts.arrived as f64;
        let bytes = arrived("write@b") * per_write_b
            + arrived("read@b") * per_read_b
            + arrived("write@a") * per_write_a;
        let got = r.traffic.cross_region_gb * gb;
        assert!(
            (got - bytes).abs() <= 3.0 * per_write_b,
            "{got} bytes crossed, expected {bytes}"
        );
        assert!(
            (r.traffic.cross_region_usd - r.traffic.cross_region_gb * 0.05).abs() < 1e-12,
            "billed at the price per GB"
        );
        let whole: f64 = r.cost_series()[2..].iter().sum();
        assert!((whole - r.cost_usd()).abs() < 1e-12, "in the cost series");
    }
    // Against the rates: 2 writes/s and 4 reads/s in each region for the
    // 18 measured minutes, inside the 95% interval over replications.
    let expected = 18.0 * 60.0 * (2.0 * per_write_b + 4.0 * per_read_b + 2.0 * per_write_a) / gb;
    let e = est(&results, |r| r.traffic.cross_region_gb);
    assert!(
        e.ci95[0] <= expected && expected <= e.ci95[1],
        "{e:?} GB, expected {expected}"
    );
    let usd = est(&results, |r| r.traffic.cross_region_usd);
    assert!(usd.ci95[0] <= expected * 0.05 && expected * 0.05 <= usd.ci95[1]);
}

#[test]
fn a_single_region_run_moves_no_bytes_between_regions() {
    let text = CROSSINGS.replace(
        "[regions.b]\nshare = 0.5",
        "[regions.b]\nserves = false\nshare = 0.5",
    );
    assert_ne!(text, CROSSINGS);
    let s = scenario(&text);
    let names: Vec<&str> = s.platform.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["api@a", "pg@a", "audit", "jobs"]);
    // b's users are served in a (their trip there is the internet's, not
    // a transfer between regions), and the WAL has no replica in b to go to.
    let results = run(&s);
    for r in &results {
        assert_eq!(r.traffic.cross_region_gb, 0.0);
        assert_eq!(r.traffic.cross_region_usd, 0.0);
    }
}

#[test]
fn users_fail_over_to_the_next_region_while_theirs_is_down() {
    // b is down from 10m05s for 5 minutes; health checks every 5 s see it at
    // 10m05s (the check at that instant runs after the crash) and its
    // recovery at 15m05s.
    let text = format!("{TWO}\n[[failures]]\nregion = \"b\"\nat = \"605s\"\nduration = \"5m\"\n");
    let results = run(&scenario(&text));
    for r in &results {
        let by = served_by(r, "read@b");
        let share_a = by[0] as f64 / (by[0] + by[1]) as f64;
        // 5 of the 18 measured minutes.
        assert!(
            (share_a - 5.0 / 18.0).abs() < 0.03,
            "b's users served by a: {share_a}"
        );
        // While b is down its users pay the way to a: 20 + 80 ms.
        let b = r.class("read@b").unwrap();
        assert!(b.latency.quantile_ms(0.99) >= 100.0);
        // No request was lost: the check saw the crash at once.
        assert_eq!(b.counts.failed + b.counts.rejected, 0);
        // a's users never left a.
        assert_eq!(served_by(r, "read@a")[1], 0);
    }
}

/// Two regions whose APIs start at one instance each and scale out on CPU
/// before b goes down at 10m05s for 5 minutes; at 12 minutes a scheduled
/// action raises both APIs' minimum to 8, launching instances into b while
/// it is down.
fn scaled_out_then_down() -> String {
    let text = TWO
        .replace("rate_per_s = 5", "rate_per_s = 100")
        .replace(
            "instances = 2\ncores = 2\nmode = \"async\"\ncpu = { dist = \"deterministic\", value = \"1ms\" }",
            "instances = 1\ncores = 1\nmode = \"async\"\ncpu = { dist = \"deterministic\", value = \"15ms\" }\n\
             [tiers.api.scaling]\nmin = 1\nmax = 8\nboot = \"20s\"\nwarmup = \"0s\"\n\
             [[tiers.api.scaling.policies]]\ntype = \"target\"\nmetric = \"cpu\"\ntarget = 0.3\n\
             [[tiers.api.scaling.schedule]]\nat = \"12m\"\nmin = 8\n",
        );
    assert!(text.contains("[tiers.api.scaling]"), "the API scales");
    format!("{text}\n[[failures]]\nregion = \"b\"\nat = \"605s\"\nduration = \"5m\"\n")
}

#[test]
fn a_region_outage_takes_down_the_units_scaled_out_and_launched_meanwhile() {
    let s = scenario(&scaled_out_then_down());
    let api_b = s
        .platform
        .tiers
        .iter()
        .position(|t| t.name == "api@b")
        .unwrap() as u16;
    let (down, back) = (605.0, 905.0);
    for r in run(&s) {
        // b's API grew past its one starting instance before the outage.
        let before: Vec<_> = r
            .scaling
            .iter()
            .filter(|e| e.tier == api_b && e.at.as_secs_f64() < down)
            .collect();
        let size = before.last().map_or(1, |e| e.to);
        assert!(size >= 3, "scaled out before the outage: {before:?}");
        // Every one of them crashed at 10m05s, not only the first.
        let at = |what: &str, t: f64| -> Vec<u32> {
            r.failures
                .iter()
                .filter(|f| f.tier == api_b && f.what == what && f.at.as_secs_f64() == t)
                .map(|f| f.unit)
                .collect()
        };
        let crashed = at("crash", down);
        assert_eq!(crashed, (0..size).collect::<Vec<_>>(), "{:?}", r.failures);
        // Instances launched while b was down went down as they launched.
        let launched: Vec<_> = r
            .scaling
            .iter()
            .filter(|e| {
                e.tier == api_b && e.to > e.from && (down..back).contains(&e.at.as_secs_f64())
            })
            .collect();
        assert!(!launched.is_empty(), "the schedule launches into b");
        for e in launched {
            let t = e.at.as_secs_f64();
            assert_eq!(at("crash", t).len() as u32, e.to - e.from, "{e:?}");
        }
        // a's instances, launched at the same time, did not.
        assert!(
            !r.failures
                .iter()
                .any(|f| f.tier != api_b && f.what == "crash" && f.at.as_secs_f64() > down),
            "{:?}",
            r.failures
        );
        // The region stayed dead for the whole outage: no user of b was
        // served in b from the first health check after the crash to the
        // recovery (5 s checks).
        let b = r.class("read@b").unwrap();
        assert!(b.counts.failed + b.counts.rejected < 200, "{:?}", b.counts);
        // And every instance it took down came back with it: the 8 the
        // schedule asked for.
        let mut struck: Vec<u32> = r
            .failures
            .iter()
            .filter(|f| f.tier == api_b && f.what == "crash")
            .filter(|f| (down..back).contains(&f.at.as_secs_f64()))
            .map(|f| f.unit)
            .collect();
        struck.sort();
        assert_eq!(at("recover", back), struck);
        assert_eq!(struck.len(), 8, "{struck:?}");
    }
}

#[test]
fn a_dead_region_gets_users_until_the_next_health_check() {
    // The crash lands 2 s after a check: b's users keep arriving at b's dead
    // API until the check 3 s later.
    let text = format!("{TWO}\n[[failures]]\nregion = \"b\"\nat = \"602s\"\nduration = \"5m\"\n");
    let results = run(&scenario(&text));
    let lost = est(&results, |r| {
        let b = r.class("read@b").unwrap().counts;
        let w = r.class("write@b").unwrap().counts;
        (b.failed + b.rejected + w.failed + w.rejected) as f64
    });
    // 5 requests/s for 3 s (Poisson: 15 on average).
    eprintln!("lost {lost:?}");
    assert!(lost.estimate > 5.0 && lost.estimate < 30.0, "{lost:?}");
}

#[test]
fn a_saturated_region_sends_new_users_to_the_next() {
    // b has one instance with room for 2 requests at once and 10 waiting;
    // its users offer it twice what it can serve.
    let text = r#"
[scenario]
name = "saturation"

[simulation]
duration = "10m"
warmup = "1m"
replications = 3

[classes.work]
rate_per_s = 400
route = [{ api = "api", cpu = { dist = "exponential", mean = "10ms" } }]

[geo]
primary = "a"
regional = ["api"]
rtt.a = { b = "50ms" }
health_check = "1s"
failover_backlog = 0.5

[regions.a]
share = 0.5
user_rtt = "10ms"

[regions.b]
share = 0.5
user_rtt = "10ms"
tiers.api = { instances = 1 }

[tiers.api]
kind = "api"
instances = 6
cores = 1
mode = "async"
max_connections = 2
backlog = 10
"#;
    let results = run(&scenario(text));
    for r in &results {
        let by = served_by(r, "work@b");
        let share_a = by[0] as f64 / (by[0] + by[1]) as f64;
        // b serves 100/s of its users' 200/s; the rest spill over to a.
        assert!(
            (share_a - 0.5).abs() < 0.05,
            "b's users served by a: {share_a}"
        );
        // Alone, b would turn away half of them (M/M/1/12 at ρ = 2 loses
        // 50%); spillover turns away almost none.
        let b = r.class("work@b").unwrap().counts;
        assert!(
            (b.rejected as f64) < 0.01 * b.arrived as f64,
            "spillover keeps b's users from being turned away: {b:?}"
        );
        assert!(common::metric(r, "api@b", "utilization") > 0.9);
    }
}

#[test]
fn regions_shape_their_users_arrivals_in_local_time() {
    // Two regions 12 hours apart on one diurnal curve: over the run (00:00
    // to 02:00 UTC) a's users are at their night low, b's at their noon high.
    let text = r#"
[scenario]
name = "local-time"

[simulation]
duration = "2h"
warmup = "1s"
replications = 3
start = "2026-03-10T00:00:00Z"

[workload]
rate_per_s = 100
profile = { kind = "diurnal", hours = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] }

[classes.c]
share = 1.0
route = [{ api = "api" }]

[geo]
primary = "a"
regional = ["api"]
rtt.a = { b = "100ms" }

[regions.a]
share = 0.6
utc_offset = 0
user_rtt = "10ms"

[regions.b]
share = 0.4
utc_offset = 12
user_rtt = "10ms"

[tiers.api]
kind = "api"
instances = 4
cores = 4
cpu = { dist = "exponential", mean = "1ms" }
"#;
    let results = run(&scenario(text));
    // Local hours 00-02 are 0.1 then 0.1 (linear between hour values);
    // 12-14 are 1.0: a expects 100 × 0.6 × 0.1 × 7200 s, b 100 × 0.4 × 1.0.
    let a = est(&results, |r| r.class("c@a").unwrap().counts.arrived as f64);
    let b = est(&results, |r| r.class("c@b").unwrap().counts.arrived as f64);
    let (ea, eb) = (100.0 * 0.6 * 0.1 * 7199.0, 100.0 * 0.4 * 1.0 * 7199.0);
    for (what, e, exact) in [("a", a, ea), ("b", b, eb)] {
        // Poisson: within 4 standard deviations per replication.
        assert!(
            (e.estimate - exact).abs() < 4.0 * exact.sqrt(),
            "{what}: {} arrivals, expected {exact}",
            e.estimate
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let s = scenario(TWO);
    let go = |threads| -> Vec<ReplicationResult> {
        run_replications(
            &s.platform,
            s.seed,
            s.replications,
            threads,
            &RunControl::default(),
        )
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
    };
    let (one, two) = (go(1), go(2));
    for (x, y) in one.iter().zip(&two) {
        for (c, d) in x.classes.iter().zip(&y.classes) {
            assert_eq!(c.counts, d.counts);
            assert_eq!(c.served_by, d.served_by);
            assert_eq!(c.latency.quantile_ms(0.99), d.latency.quantile_ms(0.99));
        }
    }
}

/// A bad `[geo]` or `[regions]` names its field.
#[test]
fn bad_geography_is_reported_by_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[geo]\nprimary = \"a\"\nregional = [\"api\", \"pg\"]\nrtt.a = { b = \"80ms\" }\nhealth_check = \"5s\"",
            "",
            "regions need a `[geo]` table",
        ),
        (
            "rtt.a = { b = \"80ms\" }",
            "",
            "no round trip between a and b",
        ),
        (
            "share = 0.5\nuser_rtt = \"20ms\"\n\n[regions.b]",
            "share = 0.7\nuser_rtt = \"20ms\"\n\n[regions.b]",
            "must sum to 1",
        ),
        (
            "regional = [\"api\", \"pg\"]",
            "regional = [\"pg\"]",
            "API tier \"api\" must be regional",
        ),
        (
            "primary = \"a\"",
            "primary = \"z\"",
            "geo.primary`: no region named \"z\"",
        ),
        (
            "health_check = \"5s\"",
            "health_check = \"5s\"\nfailover_backlog = 1.5",
            "failover_backlog",
        ),
        (
            "[regions.b]\nshare",
            "[regions.b]\nuser_rtt_to = { q = \"1ms\" }\nshare",
            "regions.b.user_rtt_to.q",
        ),
        (
            "[regions.b]\nshare",
            "[regions.b]\ntiers.cdn = { hit_ratio = 1.0 }\nshare",
            "regions.b.tiers.cdn",
        ),
        (
            "[regions.b]\nshare",
            "[regions.b]\ntiers.api = { instances = 0 }\nshare",
            "regions.b.tiers.api.instances",
        ),
        (
            "[regions.b]\nshare",
            "[regions.b]\nserves = false\nshare",
            "region \"b\" runs no tiers",
        ),
    ];
    for (from, to, expect) in cases {
        assert!(TWO.contains(from), "case {from:?} does not apply");
        let mut text = TWO.replacen(from, to, 1);
        if expect.contains("runs no tiers") {
            text.push_str("\n[[failures]]\nregion = \"b\"\nat = \"5m\"\n");
        }
        let err = load_str("bad", &text, &[]).expect_err(expect).to_string();
        assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
    }
    // A regional tier fails in a region; an objective's region must exist.
    let text = format!("{TWO}\n[[failures]]\ntier = \"api\"\nat = \"5m\"\n");
    let err = load_str("bad", &text, &[]).unwrap_err().to_string();
    assert!(
        err.contains("failures[0].region") && err.contains("runs in every region"),
        "{err}"
    );
    let text = format!("{TWO}\n[[slos]]\nregion = \"mars\"\navailability = 0.99\n");
    let err = load_str("bad", &text, &[]).unwrap_err().to_string();
    assert!(
        err.contains("slos[0].region") && err.contains("no region named \"mars\""),
        "{err}"
    );
}

#[test]
fn regions_need_a_cross_region_price_only_when_the_catalogue_lacks_one() {
    // gcp-us-central1 has no inter-region price: two regions must give it.
    let geo = format!("{TWO}[cost]\ncatalogue = \"gcp-us-central1\"\n");
    let err = load_str("two", &geo, &[]).unwrap_err().to_string();
    assert!(
        err.contains(
            "field `cost.cross_region_per_gb`: the catalogue gcp-us-central1 has no price"
        ),
        "{err}"
    );
    let given = scenario(&format!("{geo}cross_region_per_gb = 0.02\n"));
    assert_eq!(given.platform.traffic.cross_region_per_gb, 0.02);
    // One region exchanges nothing: the missing price is not asked for.
    let single = TWO.split("[geo]").next().unwrap().to_string()
        + TWO
            .split("[tiers.api]")
            .nth(1)
            .map(|t| format!("[tiers.api]{t}"))
            .unwrap()
            .as_str()
        + "[cost]\ncatalogue = \"gcp-us-central1\"\n";
    scenario(&single);
}

//! Every bundled scenario runs and its summary is sane: requests are
//! conserved, the run costs something, the tiers are the ones the seed
//! describes; every variant builds; and where a seed states an outcome,
//! capsim's verdict on it is asserted (what it agrees with and what not is
//! written in the scenario's header and the README).
//!
//! Runs use 2 replications (a windowed scenario, its first windows only) to
//! keep the suite fast; the outcomes checked hold at the files' own
//! settings too (see their headers).

use capsim_models::windows::{WindowRun, run_windows};
use capsim_models::{ReplicationResult, RunControl};
use capsim_scenarios::{Override, Scenario, library, load_str};

use crate::common::{self, p50_ms, run};

fn load(name: &str, extra: &[&str]) -> Scenario {
    let b = library::find(name).unwrap_or_else(|| panic!("{name} is bundled"));
    let mut ov: Vec<Override> = vec![Override::parse("simulation.replications=2").unwrap()];
    ov.extend(extra.iter().map(|s| Override::parse(s).unwrap()));
    load_str(b.name, b.text, &ov).unwrap_or_else(|e| panic!("{e}"))
}

fn run_windowed(s: &Scenario) -> Vec<Vec<WindowRun>> {
    let plan = s.windows.expect("a windowed scenario");
    run_windows(
        &s.platform,
        &plan,
        s.seed,
        s.replications,
        0,
        &RunControl::default(),
    )
    .unwrap()
    .into_iter()
    .map(Option::unwrap)
    .collect()
}

/// The tiers each bundled scenario must have (by name).
const EXPECTED_TIERS: &[(&str, &[&str])] = &[
    ("mmc-reference", &["servers"]),
    ("tandem", &["frontend", "backend"]),
    ("step-policy", &["app"]),
    ("black-friday", &["edge", "api", "redis", "pg", "workers"]),
    ("ten-x-growth", &["api", "redis", "pg"]),
    (
        "geo-expansion",
        &[
            "edge",
            "api@us-east",
            "api@eu-central",
            "api@ap-south",
            "redis@us-east",
            "redis@eu-central",
            "redis@ap-south",
            "pg@us-east",
            "pg@eu-central",
            "pg@ap-south",
            "workers",
        ],
    ),
    ("product-launch", &["api", "redis", "pg"]),
    ("greenstack", &["host", "pg", "redis", "parser", "cdn"]),
    ("fastapi-stage2", &["api", "redis", "supabase", "celery"]),
    ("recete", &["api", "redis", "pg", "workers"]),
    ("mercenary", &["api", "redis", "pg", "celery"]),
    ("arq", &["app", "redis", "pg", "jobs"]),
    ("retry-storm", &["api"]),
];

/// The launch with a shorter quiet period and plateau, Black Friday with a
/// shorter plateau and ebb.
const SHORT_LAUNCH: &[&str] = &[
    "simulation.duration=80m",
    "workload.profile.start=20m",
    "workload.profile.plateau=30m",
];
const SHORT_FRIDAY: &[&str] = &[
    "simulation.duration=70m",
    "workload.profile.plateau=10m",
    "workload.profile.decay=10m",
];

fn sane(name: &str, s: &Scenario, results: &[ReplicationResult]) {
    let tiers: Vec<&str> = s.platform.tiers.iter().map(|t| t.name.as_str()).collect();
    if let Some((_, want)) = EXPECTED_TIERS.iter().find(|(n, _)| *n == name) {
        assert_eq!(&tiers, want, "{name}: tiers");
    }
    for r in results {
        for c in &r.classes {
            assert!(
                c.counts.is_conserved(),
                "{name}: class {} not conserved: {:?}",
                c.name,
                c.counts
            );
            assert!(c.counts.arrived > 0, "{name}: class {} saw traffic", c.name);
        }
        assert!(r.totals().completed > 0, "{name}: requests completed");
        let priced = s.platform.tiers.iter().any(|t| t.billing.is_some());
        if priced {
            assert!(r.cost_usd() > 0.0, "{name}: a priced scenario costs money");
        }
    }
}

#[test]
fn every_bundled_scenario_and_variant_builds() {
    for b in library::all() {
        let s = load_str(b.name, b.text, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            EXPECTED_TIERS.iter().any(|(n, _)| *n == b.name),
            "{}: add its expected tiers to this test",
            b.name
        );
        for v in &s.variants {
            let src = capsim_scenarios::resolve(b.name).unwrap();
            let ov = src.variant(&v.name).unwrap();
            src.load(&ov)
                .unwrap_or_else(|e| panic!("{} --variant {}: {e}", b.name, v.name));
            assert!(!v.description.is_empty(), "{} variant {}", b.name, v.name);
        }
        // The cost estimate's pilot runs on every bundled scenario.
        let e = capsim_models::estimate::estimate(&s.runs(), s.seed, s.replications, 2);
        assert!(
            e.requests > 0.0 && e.events > e.requests && e.memory_bytes > 0.0,
            "{}: {e:?}",
            b.name
        );
    }
}

#[test]
fn reference_scenarios_run_and_are_sane() {
    for (name, duration) in [
        ("mmc-reference", "2h"),
        ("tandem", "40m"),
        ("step-policy", "70m"),
    ] {
        let s = load(name, &[&format!("simulation.duration={duration}")]);
        sane(name, &s, &run(&s));
    }
}

#[test]
fn seed_platforms_run_and_are_sane() {
    for name in ["greenstack", "fastapi-stage2", "recete", "mercenary"] {
        let s = load(name, &[]);
        sane(name, &s, &run(&s));
    }
}

#[test]
fn the_arq_policy_scales_out_under_its_seasonal_peak() {
    // The seed's policies (CPU > 70% for 3 minutes, +1-2, min 2, max 20)
    // against its 3x peak: capsim agrees that they scale out, and the
    // fleet shrinks back after the peak.
    let s = load("arq", &[]);
    let results = run(&s);
    sane("arq", &s, &results);
    let app = s.platform.tier_id("app").unwrap();
    let initial = match &s.platform.tiers[app as usize].kind {
        capsim_models::TierKind::Api(a) => a.instances,
        _ => unreachable!(),
    };
    for r in &results {
        let ups = r.scaling.iter().filter(|e| e.tier == app && e.to > e.from);
        let peak = ups.map(|e| e.to).max().unwrap_or(initial);
        assert!(peak >= initial + 4, "scales out: {initial} -> {peak}");
        assert!(
            r.scaling.iter().any(|e| e.tier == app && e.to < e.from),
            "and back in after the peak"
        );
    }
}

#[test]
fn geo_expansion_serves_reads_locally_but_writes_still_cross_to_the_primary() {
    // 40 minutes of the global peak (13:00 UTC: the US morning, the
    // European afternoon, the Indian evening), not the file's 04:00.
    const PEAK: [&str; 2] = [
        "simulation.duration=40m",
        "simulation.start=2026-03-10T13:00:00Z",
    ];
    let s = load("geo-expansion", &PEAK);
    let results = run(&s);
    sane("geo-expansion", &s, &results);
    let single = load(
        "geo-expansion",
        &[
            PEAK[0],
            PEAK[1],
            "regions.eu-central.serves=false",
            "regions.ap-south.serves=false",
        ],
    );
    let alone = run(&single);
    for (r, one) in results.iter().zip(&alone) {
        // Everyone is served by their own region.
        for c in &r.classes {
            if c.name.starts_with("static") {
                continue; // most are answered at the edge
            }
            let region = c.region.unwrap() as usize;
            assert_eq!(
                c.served_by.iter().sum::<u64>(),
                c.served_by[region],
                "{} is served at home",
                c.name
            );
        }
        // Reads: 30 ms from home instead of 30 ms + the way to us-east.
        assert!(p50_ms(r, "browse@ap-south") < 40.0);
        assert!(p50_ms(one, "browse@ap-south") > 30.0 + 190.0);
        assert!(p50_ms(r, "browse@eu-central") < 40.0);
        assert!(p50_ms(one, "browse@eu-central") > 30.0 + 90.0);
        // Writes go to the primary in us-east either way.
        for o in ["order@ap-south", "order@eu-central"] {
            assert!((p50_ms(r, o) - p50_ms(one, o)).abs() < 5.0, "{o}");
        }
        assert!(p50_ms(r, "order@ap-south") > 220.0);
        // Remote replicas lag by at least the one-way trip.
        assert!(common::metric(r, "pg@eu-central", "replication_lag_ms") >= 45.0);
        assert!(common::metric(r, "pg@ap-south", "replication_lag_ms") >= 95.0);
    }
    // An outage of eu-central: its users go to us-east (the next nearest)
    // from the next health check on, and come back after. A region's
    // failure crashes every instance its API has (3 by then at this hour).
    let out = load(
        "geo-expansion",
        &[
            PEAK[0],
            PEAK[1],
            r#"failures=[{ region = "eu-central", at = "1215s", duration = "10m" }]"#,
        ],
    );
    for r in run(&out) {
        let c = r.class("browse@eu-central").unwrap();
        let away = c.served_by[0] as f64 / c.served_by.iter().sum::<u64>() as f64;
        // A third of the measured time down, then more: eu-central comes
        // back with a cold Redis, every read goes to its one replica, the
        // pools fill, the API's backlog with them, and new users spill over
        // to us-east until the cache warms.
        assert!(
            away > 10.0 / 30.0 && away < 0.6,
            "served by us-east: {away}"
        );
        // ap-south is farther than us-east: it gets European users only
        // while us-east's backlog is full too (its API scales 4 -> 6).
        let far = c.served_by[2] as f64 / c.served_by.iter().sum::<u64>() as f64;
        assert!(far < 0.01, "served by ap-south: {far}");
        // Rejected: what arrived in the 15 s before the check saw the
        // outage (European browse: about 1,500 requests/s at 13:20 UTC).
        assert!(
            c.counts.rejected > 0 && c.counts.rejected < 15 * 2000,
            "{}",
            c.counts.rejected
        );
        // Failed: reads that waited 5 s for a connection on the cold
        // region's replica.
        assert!(c.counts.failed > 0, "{:?}", c.counts);
    }
}

#[test]
fn product_launch_keeps_p99_under_800ms_but_sheds_load_while_scaling() {
    // The seed: "P99 latency < 800ms, zero downtime", "scaled API servers
    // from 4 to 12". capsim agrees on the p99 (the rate limiter's
    // rejections are not answers, so they do not count in latency) and
    // disagrees on "zero downtime": while the fleet grows the admission
    // limit rejects requests, and the error-rate objective breaches. Under
    // the seed's maximum of 20 the CPU rule does not stop at 12: the 10x
    // plateau would run at 83% there, above its 70%.
    // Shortened: 20 minutes before the launch, 30 at its plateau.
    let s = load("product-launch", SHORT_LAUNCH);
    let results = run(&s);
    sane("product-launch", &s, &results);
    for r in &results {
        let p99 = r.latency().quantile_ms(0.99);
        assert!(p99 < 800.0, "p99 {p99} ms");
        let api = s.platform.tier_id("api").unwrap();
        let peak = r
            .scaling
            .iter()
            .filter(|e| e.tier == api)
            .map(|e| e.to)
            .max()
            .unwrap();
        assert_eq!(peak, 15, "the fleet passes the case study's 12");
        let t = r.totals();
        assert!(t.rejected > 0, "rate limiting sheds load during the ramp");
        let error = s.platform.slos.iter().position(|o| o.name == "error-rate");
        assert!(
            !r.slos[error.unwrap()].met(),
            "the 0.1% error objective breaches"
        );
    }
}

#[test]
fn retry_storm_stays_collapsed_after_the_spike_unless_admission_is_limited() {
    // One minute at 2x pushes the CPU queue past the clients' 1 s timeout;
    // with 3 retries the fleet then serves abandoned attempts at 100% CPU
    // long after the spike (measured from 8m, the spike ends at 6m10s). An
    // admission limit that keeps the queue under the timeout recovers at
    // once, with no wasted work. Shortened: measured 8m-16m.
    let short = ["simulation.duration=16m"];
    let storm = load("retry-storm", &short);
    let results = run(&storm);
    sane("retry-storm", &storm, &results);
    let measured = 8.0 * 60.0;
    for r in &results {
        let goodput = r.totals().completed as f64 / measured;
        assert!(goodput < 100.0, "collapsed: goodput {goodput}/s of 1000");
        let c = r.client_totals();
        assert!(c.wasted > 500_000, "abandoned work served: {c:?}");
        assert!(c.retries > c.wasted, "the clients retry: {c:?}");
    }
    let src = capsim_scenarios::resolve("retry-storm").unwrap();
    let mut ov = src.variant("admission-limit").unwrap();
    ov.extend(
        ["simulation.replications=2", short[0]]
            .iter()
            .map(|s| Override::parse(s).unwrap()),
    );
    let limited = src.load(&ov).unwrap();
    let results = run(&limited);
    sane("retry-storm", &limited, &results);
    for r in &results {
        let goodput = r.totals().completed as f64 / measured;
        assert!(
            (goodput - 1000.0).abs() < 20.0,
            "recovered: goodput {goodput}/s"
        );
        let t = r.totals();
        assert_eq!(t.failed + t.rejected, 0, "{t:?}");
        assert_eq!(r.client_totals().wasted, 0);
        assert!(r.slos.iter().all(|o| o.met()), "every objective met");
    }
}

#[test]
fn greenstack_users_hold_at_75_not_at_100_and_phase3_keeps_p95_under_750ms() {
    // The seed counts concurrent users: a closed class. "Validated at 50-75
    // users": the p95 objective holds at 75 and breaches at 100 (the knee
    // is in between); phase 3 keeps p95 < 750 ms as its users step from 500
    // to 750, adding a host by the CPU trigger.
    let users = |extra: &[&str]| {
        let s = load("greenstack", extra);
        assert!(
            s.platform
                .classes
                .iter()
                .all(|c| c.arrivals.closed.is_some())
        );
        let results = run(&s);
        sane("greenstack", &s, &results);
        results.iter().map(|r| r.slos[0].met()).collect::<Vec<_>>()
    };
    assert_eq!(users(&[]), [true, true], "75 users");
    assert_eq!(
        users(&["classes.user.users=100"]),
        [false, false],
        "100 users"
    );
    let src = capsim_scenarios::resolve("greenstack").unwrap();
    let mut ov = src.variant("phase3").unwrap();
    ov.push(Override::parse("simulation.replications=2").unwrap());
    let s = src.load(&ov).unwrap();
    let results = run(&s);
    sane("greenstack", &s, &results);
    let host = s.platform.tier_id("host").unwrap();
    for r in &results {
        let p95 = r.latency().quantile_ms(0.95);
        assert!(p95 < 750.0, "phase 3 p95 {p95} ms");
        assert!(r.slos[0].met(), "phase 3: {} met", r.slos[0].name);
        let peak = r
            .scaling
            .iter()
            .filter(|e| e.tier == host)
            .map(|e| e.to)
            .max();
        assert_eq!(peak, Some(3), "cpu-high adds a third host at 750 users");
    }
}

#[test]
fn black_friday_with_remedies_meets_its_objectives_and_without_does_not() {
    let s = load("black-friday", SHORT_FRIDAY);
    let results = run(&s);
    sane("black-friday", &s, &results);
    for r in &results {
        for o in &r.slos {
            assert!(o.met(), "with the remedies: {} met", o.name);
        }
    }
    let src = capsim_scenarios::resolve("black-friday").unwrap();
    let mut ov = src.variant("unprepared").unwrap();
    ov.push(Override::parse("simulation.replications=2").unwrap());
    ov.extend(SHORT_FRIDAY.iter().map(|s| Override::parse(s).unwrap()));
    let u = src.load(&ov).unwrap();
    let results = run(&u);
    sane("black-friday", &u, &results);
    for r in &results {
        assert!(
            r.slos.iter().any(|o| !o.met()),
            "without the remedies an objective breaches"
        );
    }
}

#[test]
fn ten_x_growth_scales_the_api_redis_and_replicas_as_traffic_grows() {
    // The seed: API 2 -> 5 -> 10, read replicas, a Redis cluster. The first
    // 9 windows (weeks 1 to 17, every other week): Redis gains a shard and
    // the database a replica in week 3, the API its third instance in week 9
    // and its fifth in week 17.
    let s = load("ten-x-growth", &["windows.count=9"]);
    let runs = run_windowed(&s);
    let tier = |n: &str| s.platform.tier_id(n).unwrap() as usize;
    for windows in &runs {
        assert_eq!(windows.len(), 9);
        for w in windows {
            assert!(w.counts.is_conserved());
            assert!(w.cost_usd > 0.0);
        }
        let units = |k: usize, t: &str| windows[k].tiers[tier(t)].units.unwrap();
        assert_eq!(units(0, "api").start, 2);
        assert_eq!(units(3, "api").end, 2, "{:?}", units(3, "api"));
        assert!(units(8, "api").end >= 5, "{:?}", units(8, "api"));
        assert!(units(1, "redis").end >= 2, "{:?}", units(1, "redis"));
        assert!(units(8, "redis").end >= 3, "{:?}", units(8, "redis"));
        assert!(units(8, "pg").end >= 2, "{:?}", units(8, "pg"));
        // Growth is monotone: the offered load rises every week.
        for k in 1..windows.len() {
            assert!(windows[k].offered_per_s > windows[k - 1].offered_per_s);
        }
        // The fleet carries forward: a window starts where the one before
        // ended.
        for k in 1..windows.len() {
            assert_eq!(units(k, "api").start, units(k - 1, "api").end);
        }
    }
}

//! Validation against queueing theory: for each system, the exact value must
//! lie inside the 95% confidence interval built from independent replications.
//!
//! Loads span 0.5 to 0.95. Runs are long enough that the intervals are a few
//! percent wide (often well under 1%), so a biased model fails.
//!
//! About the seeds: with a correct model each check misses its interval with
//! probability 5%, so among the ~30 fixed-seed checks below some seed will miss
//! by chance. The seeds are fixed (outcomes are reproducible), and the guard
//! against bias is the two coverage tests at the end, which run many seeds and
//! check that the interval covers the exact value about 95% of the time: a
//! biased model or a wrong interval formula fails them. When a check here
//! misses after a model change, look at the coverage tests before the seed.
//! Seed history (each change was a fixed-seed miss whose figure was then
//! checked unbiased over many seeds):
//! * M/M/10 reference, seed 3 → 10: mean wait missed (z ≈ −2.5); seeds 10..=29
//!   all covered it, mean z −0.04.
//! * M/M/10 reference, 10 → 11: p99 missed (z ≈ −2.2); 12 other seeds covered
//!   it, mean z −0.17.
//! * After demands became keyed per attempt (issue 3), M/M/1 ρ=0.5 seed 1 → 21
//!   (P(wait) missed) and M/M/10 seed 11 → 12 (p99 missed). Over 2,000
//!   replications (seeds 1000..1200) utilisation was 0.49999 [0.49992, 0.50006]
//!   and P(wait) 0.49998 [0.49989, 0.50006], coverage 96% and 97%; the M/M/10
//!   p99 over seeds 100..115 pooled 6252 [6236, 6268] against 6250, 15/15.

use capsim_models::results::Part;
use capsim_models::theory::{MMc, MMcK, mg1_mean_wait, tandem_mean_sojourn};
use capsim_models::{
    Arrivals, ClassConfig, ClientPolicy, Handle, Op, PlatformConfig, RateProfile,
    ReplicationResult, RunControl, StationConfig, TierConfig, TierKind, handles, run_replications,
};
use sim_engine::{Dist, Estimate, SimDuration};

const REPLICATIONS: u64 = 10;

pub(crate) fn station(
    name: &str,
    servers: u32,
    service: Dist,
    capacity: Option<u32>,
) -> TierConfig {
    TierConfig {
        name: name.into(),
        kind: TierKind::Station(StationConfig::plain(servers, service, capacity)),
        scaling: None,
        billing: None,
        region: None,
        transfer: Default::default(),
    }
}

/// One Poisson class visiting `tiers` in order.
pub(crate) fn network(
    rate_per_s: f64,
    tiers: Vec<TierConfig>,
    horizon_s: u64,
    warmup_s: u64,
) -> PlatformConfig {
    let mut program: Vec<Op> = handles(&tiers)
        .into_iter()
        .map(|h| match h {
            Handle::Station(tier) => Op::Station { tier, demand: None },
            other => panic!("{other:?} is not a station"),
        })
        .collect();
    program.push(Op::End);
    PlatformConfig {
        name: "theory".into(),
        horizon: SimDuration::from_secs(horizon_s),
        warmup: SimDuration::from_secs(warmup_s),
        series_interval: SimDuration::from_secs(60),
        classes: vec![ClassConfig {
            name: "jobs".into(),
            arrivals: Arrivals {
                rate_per_s,
                profile: RateProfile::Constant,
                closed: None,
                process: Default::default(),
            },
            client: ClientPolicy::default(),
            response_bytes: 0.0,
            region: None,
            priority: 0,
            program,
        }],
        tiers,
        failures: Vec::new(),
        slos: Vec::new(),
        traffic: Default::default(),
        regions: None,
    }
}

pub(crate) fn run(cfg: &PlatformConfig, seed: u64) -> Vec<ReplicationResult> {
    run_replications(cfg, seed, REPLICATIONS, 0, &RunControl::default())
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

pub(crate) fn tier_estimate(results: &[ReplicationResult], tier: &str, metric: &str) -> Estimate {
    let xs: Vec<f64> = results
        .iter()
        .map(|r| r.tier(tier).unwrap().metric(metric).unwrap())
        .collect();
    Estimate::from_samples(&xs)
}

fn latency_estimate(
    results: &[ReplicationResult],
    f: impl Fn(&sim_engine::LatencyHistogram) -> f64,
) -> Estimate {
    let xs: Vec<f64> = results.iter().map(|r| f(&r.latency())).collect();
    Estimate::from_samples(&xs)
}

#[track_caller]
pub(crate) fn assert_covers(what: &str, est: Estimate, exact: f64) {
    eprintln!(
        "{what}: exact {exact:.6}, simulated {:.6} [{:.6}, {:.6}] (±{:.2}%)",
        est.estimate,
        est.ci95[0],
        est.ci95[1],
        100.0 * est.half_width() / exact.abs().max(1e-12)
    );
    assert!(
        est.contains(exact),
        "{what}: exact value {exact} outside the 95% CI [{}, {}] (estimate {})",
        est.ci95[0],
        est.ci95[1],
        est.estimate
    );
}

/// Every replication conserves requests.
fn assert_conserved(results: &[ReplicationResult]) {
    for r in results {
        for c in &r.classes {
            assert!(c.counts.is_conserved(), "{:?}", c.counts);
        }
    }
}

#[test]
fn mm1_at_half_load() {
    // λ = 50/s, μ = 100/s: ρ = 0.5.
    let q = MMc::new(50.0, 100.0, 1);
    let cfg = network(
        50.0,
        vec![station("s", 1, Dist::exponential(0.01).unwrap(), None)],
        4_000,
        200,
    );
    let res = run(&cfg, 21);
    assert_conserved(&res);
    assert_covers(
        "M/M/1 ρ=0.5 P(wait)",
        tier_estimate(&res, "s", "wait_probability"),
        q.prob_wait(),
    );
    assert_covers(
        "M/M/1 ρ=0.5 E[W] ms",
        tier_estimate(&res, "s", "queue_wait_ms"),
        q.mean_wait() * 1e3,
    );
    assert_covers(
        "M/M/1 ρ=0.5 E[T] ms",
        latency_estimate(&res, |h| h.mean_ms()),
        q.mean_sojourn() * 1e3,
    );
    assert_covers(
        "M/M/1 ρ=0.5 utilisation",
        tier_estimate(&res, "s", "utilization"),
        q.rho(),
    );
    assert_covers(
        "M/M/1 ρ=0.5 Lq",
        tier_estimate(&res, "s", "queue_length"),
        q.mean_queue_length(),
    );
}

#[test]
fn mm1_at_high_load() {
    // ρ = 0.8; mixing is slower, so runs are longer.
    let q = MMc::new(80.0, 100.0, 1);
    let cfg = network(
        80.0,
        vec![station("s", 1, Dist::exponential(0.01).unwrap(), None)],
        20_000,
        1_000,
    );
    let res = run(&cfg, 2);
    assert_covers(
        "M/M/1 ρ=0.8 P(wait)",
        tier_estimate(&res, "s", "wait_probability"),
        q.prob_wait(),
    );
    assert_covers(
        "M/M/1 ρ=0.8 E[W] ms",
        tier_estimate(&res, "s", "queue_wait_ms"),
        q.mean_wait() * 1e3,
    );
    assert_covers(
        "M/M/1 ρ=0.8 E[T] ms",
        latency_estimate(&res, |h| h.mean_ms()),
        q.mean_sojourn() * 1e3,
    );
}

#[test]
fn mmc_reference_at_0_9() {
    // The benchmark's reference system: λ = 9/s, c = 10, μ = 1/s.
    let q = MMc::new(9.0, 1.0, 10);
    let cfg = network(
        9.0,
        vec![station("s", 10, Dist::exponential(1.0).unwrap(), None)],
        200_000,
        10_000,
    );
    let res = run(&cfg, 12);
    assert_conserved(&res);
    assert_covers(
        "M/M/10 ρ=0.9 P(wait)",
        tier_estimate(&res, "s", "wait_probability"),
        q.prob_wait(),
    );
    assert_covers(
        "M/M/10 ρ=0.9 E[W] s",
        tier_estimate(&res, "s", "queue_wait_ms"),
        q.mean_wait() * 1e3,
    );
    assert_covers(
        "M/M/10 ρ=0.9 E[T] s",
        latency_estimate(&res, |h| h.mean_ms()),
        q.mean_sojourn() * 1e3,
    );
    assert_covers(
        "M/M/10 ρ=0.9 p95 T",
        latency_estimate(&res, |h| h.quantile_ms(0.95)),
        q.sojourn_quantile(0.95) * 1e3,
    );
    assert_covers(
        "M/M/10 ρ=0.9 p99 T",
        latency_estimate(&res, |h| h.quantile_ms(0.99)),
        q.sojourn_quantile(0.99) * 1e3,
    );
}

#[test]
fn mmc_at_0_95() {
    // c = 4, ρ = 0.95: the heaviest load in the suite.
    let q = MMc::new(76.0, 20.0, 4);
    let cfg = network(
        76.0,
        vec![station("s", 4, Dist::exponential(0.05).unwrap(), None)],
        40_000,
        2_000,
    );
    let res = run(&cfg, 4);
    assert_covers(
        "M/M/4 ρ=0.95 P(wait)",
        tier_estimate(&res, "s", "wait_probability"),
        q.prob_wait(),
    );
    assert_covers(
        "M/M/4 ρ=0.95 E[W] ms",
        tier_estimate(&res, "s", "queue_wait_ms"),
        q.mean_wait() * 1e3,
    );
    assert_covers(
        "M/M/4 ρ=0.95 E[T] ms",
        latency_estimate(&res, |h| h.mean_ms()),
        q.mean_sojourn() * 1e3,
    );
    assert_covers(
        "M/M/4 ρ=0.95 p95 T",
        latency_estimate(&res, |h| h.quantile_ms(0.95)),
        q.sojourn_quantile(0.95) * 1e3,
    );
    assert_covers(
        "M/M/4 ρ=0.95 p99 T",
        latency_estimate(&res, |h| h.quantile_ms(0.99)),
        q.sojourn_quantile(0.99) * 1e3,
    );
}

#[test]
fn md1_pollaczek_khinchine() {
    // Deterministic 10 ms service, ρ = 0.7.
    let service = Dist::deterministic(0.01).unwrap();
    let exact = mg1_mean_wait(70.0, service.mean(), service.second_moment());
    let cfg = network(70.0, vec![station("s", 1, service, None)], 10_000, 500);
    let res = run(&cfg, 5);
    assert_covers(
        "M/D/1 ρ=0.7 E[W] ms",
        tier_estimate(&res, "s", "queue_wait_ms"),
        exact * 1e3,
    );
}

#[test]
fn mg1_lognormal_pollaczek_khinchine() {
    // Lognormal service with mean 10 ms and p99 60 ms (SCV ≈ 1.6), ρ = 0.6.
    let service = Dist::lognormal_from_mean_p99(0.010, 0.060).unwrap();
    assert!(service.scv() > 1.0);
    let exact = mg1_mean_wait(60.0, service.mean(), service.second_moment());
    let cfg = network(60.0, vec![station("s", 1, service, None)], 20_000, 1_000);
    let res = run(&cfg, 6);
    assert_covers(
        "M/G/1 lognormal ρ=0.6 E[W] ms",
        tier_estimate(&res, "s", "queue_wait_ms"),
        exact * 1e3,
    );
}

#[test]
fn mmck_blocking_and_throughput() {
    // c = 2, K = 5, offered ρ = 0.95: blocking is substantial.
    let q = MMcK::new(19.0, 10.0, 2, 5);
    let cfg = network(
        19.0,
        vec![station("s", 2, Dist::exponential(0.1).unwrap(), Some(5))],
        20_000,
        500,
    );
    let res = run(&cfg, 7);
    assert_conserved(&res);
    let blocking: Vec<f64> = res
        .iter()
        .map(|r| {
            let t = r.totals();
            t.rejected as f64 / t.arrived as f64
        })
        .collect();
    assert_covers(
        "M/M/2/5 blocking",
        Estimate::from_samples(&blocking),
        q.blocking(),
    );
    assert_covers(
        "M/M/2/5 throughput /s",
        tier_estimate(&res, "s", "throughput_per_s"),
        q.throughput(),
    );
    assert_covers(
        "M/M/2/5 E[T] ms",
        latency_estimate(&res, |h| h.mean_ms()),
        q.mean_sojourn() * 1e3,
    );
}

#[test]
fn tandem_jackson_network() {
    // Two stations in series fed by Poisson(30/s): ρ1 = 0.6 (M/M/1), ρ2 = 0.75 (M/M/2).
    let exact = tandem_mean_sojourn(30.0, &[(50.0, 1), (20.0, 2)]);
    let cfg = network(
        30.0,
        vec![
            station("a", 1, Dist::exponential(0.02).unwrap(), None),
            station("b", 2, Dist::exponential(0.05).unwrap(), None),
        ],
        20_000,
        1_000,
    );
    let res = run(&cfg, 8);
    assert_conserved(&res);
    assert_covers(
        "tandem E[T] ms",
        latency_estimate(&res, |h| h.mean_ms()),
        exact * 1e3,
    );
    let a = MMc::new(30.0, 50.0, 1);
    assert_covers(
        "tandem station a E[T] ms",
        tier_estimate(&res, "a", "response_ms"),
        a.mean_sojourn() * 1e3,
    );

    // Where the time goes: each station's queueing and service, as the
    // class's breakdown measures them, are the M/M/1's and the M/M/2's.
    let b = MMc::new(30.0, 20.0, 2);
    let part = |tier: &str, part: Part| -> Estimate {
        let xs: Vec<f64> = res
            .iter()
            .map(|r| {
                let t = r.tiers.iter().position(|t| t.name == tier).unwrap() as u16;
                let br = &r.classes[0].breakdown;
                let k = br
                    .components
                    .iter()
                    .position(|c| c.tier == Some(t) && c.part == part)
                    .unwrap();
                br.mean_ms[k]
            })
            .collect();
        Estimate::from_samples(&xs)
    };
    assert_covers(
        "tandem a mean queueing ms",
        part("a", Part::Queue),
        a.mean_wait() * 1e3,
    );
    assert_covers("tandem a mean service ms", part("a", Part::Service), 20.0);
    assert_covers(
        "tandem b mean queueing ms",
        part("b", Part::Queue),
        b.mean_wait() * 1e3,
    );
    assert_covers("tandem b mean service ms", part("b", Part::Service), 50.0);
    // The parts add up to the latency, in every replication.
    for r in &res {
        let br = &r.classes[0].breakdown;
        let sum: f64 = br.mean_ms.iter().sum();
        let mean = r.classes[0].latency.mean_ms();
        assert!(
            (sum - mean).abs() <= 1e-9 * mean,
            "parts {sum} ms, latency {mean} ms"
        );
        assert_eq!(br.requests, r.classes[0].counts.completed);
    }

    // Per-tier percentiles: a visit to an M/M/c station is its sojourn.
    let visits = |tier: &str, q: f64| -> Estimate {
        let xs: Vec<f64> = res
            .iter()
            .map(|r| {
                r.tier(tier)
                    .unwrap()
                    .visits
                    .as_ref()
                    .unwrap()
                    .quantile_ms(q)
            })
            .collect();
        Estimate::from_samples(&xs)
    };
    for (name, station) in [("a", &a), ("b", &b)] {
        for q in [0.5, 0.99] {
            assert_covers(
                &format!("tandem station {name} visit p{}", q * 100.0),
                visits(name, q),
                station.sojourn_quantile(q) * 1e3,
            );
        }
    }
}

/// Runs `experiments` independent experiments of 10 replications and counts
/// how often the interval of `figure` covers `exact`.
fn coverage(
    cfg: &PlatformConfig,
    experiments: u64,
    exact: f64,
    figure: impl Fn(&[ReplicationResult]) -> Estimate,
) -> u64 {
    (0..experiments)
        .filter(|seed| figure(&run(cfg, 1_000 + seed)).contains(exact))
        .count() as u64
}

#[test]
fn coverage_of_the_mmc_p99_interval_is_close_to_95_percent() {
    // Tail percentiles: 40 experiments on the M/M/10 reference, 270k customers
    // per replication. Expect about 38 (binomial sd 1.4); accept 34..=40.
    //
    // Replications must be long for tails: a replication's sample quantile is
    // biased low when it rests on few busy periods. Measured over 100 seeds at
    // 50k customers per replication: p95 mean z −0.14 (coverage 96%), p99 −0.63
    // (83%), p99.9 −2.1 (66%); at 270k: p99 39/40, p99.9 29/40; at 1.7M: p99
    // 12/12, p99.9 10/12. docs/methodology.md turns this into guidance.
    let q = MMc::new(9.0, 1.0, 10);
    let cfg = network(
        9.0,
        vec![station("s", 10, Dist::exponential(1.0).unwrap(), None)],
        30_000,
        1_500,
    );
    let exact = q.sojourn_quantile(0.99) * 1e3;
    let covered = coverage(&cfg, 40, exact, |res| {
        latency_estimate(res, |h| h.quantile_ms(0.99))
    });
    eprintln!("M/M/10 p99 coverage {covered}/40");
    assert!(covered >= 34, "coverage {covered}/40");
}

#[test]
fn coverage_of_the_mm1_interval_is_close_to_95_percent() {
    // 100 independent experiments (seeds) of 10 replications each at ρ = 0.7:
    // a correct model and interval cover E[W] in about 95 of them. The binomial
    // standard deviation is about 2.2, so accept 88..=100.
    let q = MMc::new(70.0, 100.0, 1);
    let cfg = network(
        70.0,
        vec![station("s", 1, Dist::exponential(0.01).unwrap(), None)],
        1_500,
        100,
    );
    let covered = coverage(&cfg, 100, q.mean_wait() * 1e3, |res| {
        tier_estimate(res, "s", "queue_wait_ms")
    });
    eprintln!("M/M/1 E[W] coverage {covered}/100");
    assert!(covered >= 88, "coverage {covered}/100");
}

/// Ctrl-C: once `cancel` is set, a running replication stops at its next
/// step and those not started are skipped; nothing half-run comes back.
#[test]
fn cancelling_stops_running_replications_and_skips_the_rest() {
    use std::sync::atomic::Ordering;
    let cfg = network(
        9.0,
        vec![station("s", 10, Dist::exponential(1.0).unwrap(), None)],
        1_000_000,
        10,
    );
    let control = RunControl::default();
    let results = std::thread::scope(|scope| {
        scope.spawn(|| {
            // As soon as the first replication has made progress.
            while control.progress_ms.load(Ordering::Relaxed) == 0 {
                std::thread::yield_now();
            }
            control.cancel.store(true, Ordering::Relaxed);
        });
        run_replications(&cfg, 1, 3, 1, &control).unwrap()
    });
    assert_eq!(results.len(), 3);
    assert!(
        results.iter().all(Option::is_none),
        "no replication finished"
    );
    // Far less than one replication's ~11.6 days were simulated.
    let done_ms = control.progress_ms.load(Ordering::Relaxed);
    assert!(done_ms < 1_000_000_000, "{done_ms} ms simulated");
}

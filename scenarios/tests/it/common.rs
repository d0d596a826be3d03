//! Helpers shared by the scenario-level test suites: load a scenario as a
//! user writes it, run it, and read figures out of the results.

use capsim_models::{ReplicationResult, RunControl, run_replications};
use capsim_scenarios::{Scenario, load_str};
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use sim_engine::Estimate;

pub fn scenario(text: &str) -> Scenario {
    load_str("test scenario", text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

pub fn run(s: &Scenario) -> Vec<ReplicationResult> {
    run_replications(
        &s.platform,
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

pub fn est(results: &[ReplicationResult], f: impl Fn(&ReplicationResult) -> f64) -> Estimate {
    let xs: Vec<f64> = results.iter().map(f).collect();
    Estimate::from_samples(&xs)
}

pub fn metric(r: &ReplicationResult, tier: &str, name: &str) -> f64 {
    r.tier(tier)
        .unwrap_or_else(|| panic!("no tier {tier}"))
        .metric(name)
        .unwrap_or_else(|| panic!("no metric {tier}.{name}"))
}

/// A tier's per-interval series.
pub fn tier_series<'a>(r: &'a ReplicationResult, tier: &str, name: &str) -> &'a [f64] {
    r.tier(tier)
        .unwrap()
        .series(name)
        .unwrap_or_else(|| panic!("no series {tier}.{name}"))
}

/// A class's median latency.
pub fn p50_ms(r: &ReplicationResult, class: &str) -> f64 {
    r.class(class).unwrap().latency.quantile_ms(0.5)
}

pub fn unit_metric(r: &ReplicationResult, tier: &str, unit: &str, name: &str) -> f64 {
    let t = r.tier(tier).unwrap();
    let u = t
        .units
        .iter()
        .find(|u| u.name == unit)
        .unwrap_or_else(|| panic!("no unit {unit}"));
    u.metric(name).unwrap()
}

#[track_caller]
pub fn assert_covers(what: &str, e: Estimate, exact: f64) {
    eprintln!(
        "{what}: exact {exact:.6}, simulated {:.6} [{:.6}, {:.6}]",
        e.estimate, e.ci95[0], e.ci95[1]
    );
    assert!(
        e.contains(exact),
        "{what}: {exact} outside [{}, {}]",
        e.ci95[0],
        e.ci95[1]
    );
}

/// Mean over replications of a per-interval series, for intervals [from, to).
pub fn series_mean(
    results: &[ReplicationResult],
    from: usize,
    to: usize,
    f: impl Fn(&ReplicationResult) -> Vec<f64>,
) -> Vec<f64> {
    let n = results.len() as f64;
    let mut out = vec![0.0; to - from];
    for r in results {
        for (o, v) in out.iter_mut().zip(&f(r)[from..to]) {
            *o += v / n;
        }
    }
    out
}

pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The cases and a fixed seed, unless `PROPTEST_CASES` or `PROPTEST_RNG_SEED`
/// say otherwise (to search further: `PROPTEST_CASES=100000
/// PROPTEST_RNG_SEED=7 cargo test -p capsim-scenarios --test it perturb::`).
pub fn proptest_config(cases: u32, seed: u64) -> ProptestConfig {
    let from_env = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            cases
        },
        // No regression files are written into the source tree; the seed is
        // fixed instead, so a failure is reproduced by running the test again.
        failure_persistence: None,
        rng_seed: match from_env.rng_seed {
            RngSeed::Random => RngSeed::Fixed(seed),
            given => given,
        },
        ..from_env
    }
}

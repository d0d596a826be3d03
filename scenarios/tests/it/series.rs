//! Per-interval latency percentiles (the `latency_pNN_ms` series of tiers
//! and classes) against known answers.

use capsim_models::ReplicationResult;

use crate::common::*;

fn class_series<'a>(r: &'a ReplicationResult, class: usize, name: &str) -> &'a [f64] {
    r.classes[class]
        .latency_series
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_slice())
        .unwrap()
}

#[test]
fn deterministic_times_give_flat_percentiles_at_every_tier() {
    // Light load (ρ = 0.05 at each station, waits are rare and short) with
    // deterministic 5 ms and 20 ms visits and a 3 ms network delay: each
    // interval's percentiles are the visit times, end to end their sum plus
    // the delay, to the 1.6% of the buckets. At the single-server front
    // about 5% of visits wait (P(wait) = ρ), so only its median is exact
    // there; the four-server back almost never queues, so its p95 is too.
    let s = scenario(
        r#"
[scenario]
name = "flat"
[simulation]
duration = "10m"
replications = 2
seed = 40
[classes.req]
rate_per_s = 10
route = [ "front", { delay = { dist = "deterministic", value = "3ms" } }, "back" ]
[tiers.front]
kind = "station"
servers = 1
service = { dist = "deterministic", value = "5ms" }
[tiers.back]
kind = "station"
servers = 4
service = { dist = "deterministic", value = "20ms" }
"#,
    );
    let results = run(&s);
    let within = |x: f64, want: f64| (x - want).abs() <= 0.016 * want;
    for r in &results {
        for (tier, want, names) in [
            ("front", 5.0, &["latency_p50_ms"][..]),
            ("back", 20.0, &["latency_p50_ms", "latency_p95_ms"][..]),
        ] {
            for &name in names {
                let v = tier_series(r, tier, name);
                assert_eq!(v.len(), 10);
                assert!(v.iter().all(|&x| within(x, want)), "{tier} {name}: {v:?}");
            }
        }
        let e2e = class_series(r, 0, "latency_p50_ms");
        assert!(e2e.iter().all(|&x| within(x, 28.0)), "{e2e:?}");
        let all = r
            .latency_series
            .iter()
            .find(|(k, _)| *k == "latency_p50_ms")
            .unwrap();
        assert_eq!(all.1, e2e, "one class: all classes is that class");
    }
}

#[test]
fn interval_percentiles_of_an_mm1_match_its_sojourn_distribution() {
    // M/M/1 with λ = 8/s, μ = 10/s: sojourn times are exponential with rate
    // 2/s, so the p50 is ln 2 / 2 = 346.6 ms and the p95 ln 20 / 2 =
    // 1497.9 ms. Each 10-minute interval holds about 4,800 of them; the mean
    // of the intervals' percentiles over 30 intervals and 10 replications is
    // within a few percent of the truth (each interval's percentile is
    // slightly biased by the autocorrelation of an M/M/1 at 80% load, and
    // the buckets add up to 1.6%).
    let s = scenario(
        r#"
[scenario]
name = "mm1"
[simulation]
duration = "5h"
warmup = "10m"
replications = 10
seed = 41
interval = "10m"
[classes.req]
rate_per_s = 8
route = [ "q" ]
[tiers.q]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "100ms" }
"#,
    );
    let results = run(&s);
    for (name, exact) in [
        ("latency_p50_ms", 2f64.ln() / 2.0 * 1000.0),
        ("latency_p95_ms", 20f64.ln() / 2.0 * 1000.0),
    ] {
        // Skip the first interval (the queue starts empty).
        let e = est(&results, |r| {
            let v = &tier_series(r, "q", name)[1..];
            v.iter().sum::<f64>() / v.len() as f64
        });
        let rel = (e.estimate - exact).abs() / exact;
        eprintln!(
            "{name}: exact {exact:.1}, mean of intervals {:.1} ({rel:.3})",
            e.estimate
        );
        assert!(rel < 0.04, "{name}: {} vs {exact}", e.estimate);
        // The station's time is the whole request: the class agrees.
        let c = est(&results, |r| {
            let v = &class_series(r, 0, name)[1..];
            v.iter().sum::<f64>() / v.len() as f64
        });
        assert!((c.estimate - e.estimate).abs() < 1e-9);
    }
}

#[test]
fn intervals_without_requests_have_no_percentile() {
    // Arrivals stop at 2 min (a step to a rate of ~0): later intervals have
    // no latency, shown as missing rather than 0.
    let s = scenario(
        r#"
[scenario]
name = "gap"
[simulation]
duration = "5m"
replications = 2
seed = 42
[classes.req]
rate_per_s = 50
profile = { kind = "steps", steps = [ { at = "2m", multiplier = 0.000001 } ] }
route = [ "q" ]
[tiers.q]
kind = "station"
servers = 2
service = { dist = "exponential", mean = "10ms" }
"#,
    );
    for r in &run(&s) {
        let v = tier_series(r, "q", "latency_p99_ms");
        assert!(v[0].is_finite() && v[1].is_finite(), "{v:?}");
        assert!(v[3..].iter().all(|x| x.is_nan()), "{v:?}");
    }
}

//! The external dependency (a third-party API) against exact answers: a
//! fixed-window rate limit offered Poisson calls, Bernoulli errors, the
//! latency distribution as given (M/G/∞ from our side), an outage's share
//! of failed calls, and the bill per successful call.

use capsim_models::theory::fixed_window_accepted;
use capsim_scenarios::load_str;

use crate::common::*;

const PAYMENTS: &str = r#"
[scenario]
name = "payments"
[simulation]
duration = "30m"
warmup = "1m"
replications = 8
seed = 21
[classes.checkout]
rate_per_s = 110.0
route = [{ call = "psp" }]
[tiers.psp]
kind = "external"
latency = { dist = "lognormal", mean = "180ms", p99 = "900ms" }
rate_limit = { calls = 100, per = "1s" }
rejection_latency = "20ms"
error_ratio = 0.01
price_per_call = 0.0005
"#;

#[test]
fn rate_limit_errors_latency_and_bill_match_theory() {
    let results = run(&scenario(PAYMENTS));
    let (lambda, limit) = (110.0, 100);
    let accepted = fixed_window_accepted(lambda, limit);
    let ratio = |r: &capsim_models::ReplicationResult, name: &str| {
        metric(r, "psp", name) / metric(r, "psp", "calls")
    };
    assert_covers(
        "429 share",
        est(&results, |r| ratio(r, "rate_limited")),
        1.0 - accepted / lambda,
    );
    assert_covers(
        "quota used",
        est(&results, |r| metric(r, "psp", "utilization")),
        accepted / f64::from(limit),
    );
    assert_covers(
        "5xx share of accepted calls",
        est(&results, |r| {
            metric(r, "psp", "errors")
                / (metric(r, "psp", "calls") - metric(r, "psp", "rate_limited"))
        }),
        0.01,
    );
    assert_covers(
        "mean latency of answered calls (ms)",
        est(&results, |r| metric(r, "psp", "response_ms")),
        180.0,
    );
    // Requests that succeed took the lognormal's own latency: its p99 as given.
    assert_covers(
        "p99 of successful requests (ms)",
        est(&results, |r| {
            r.class("checkout").unwrap().latency.quantile_ms(0.99)
        }),
        900.0,
    );
    for r in &results {
        let bill = metric(r, "psp", "cost_usd");
        let succeeded = metric(r, "psp", "succeeded");
        assert!(
            (bill - 0.0005 * succeeded).abs() < 1e-9 * bill,
            "bill {bill} for {succeeded} successful calls"
        );
        // Each call's outcome reaches the request: every 429 is a rejection
        // (but for those still on their way back when the run ends).
        let counts = &r.class("checkout").unwrap().counts;
        let gap = metric(r, "psp", "rate_limited") - counts.rejected as f64;
        assert!((0.0..=counts.in_flight as f64).contains(&gap), "{gap}");
    }
}

#[test]
fn an_outage_fails_its_share_of_calls() {
    // No limit, no errors: a 10-minute outage in the 29 measured minutes
    // (30 minus the warm-up) fails 10/29 of the (Poisson) calls.
    let text = PAYMENTS
        .replace("rate_limit = { calls = 100, per = \"1s\" }\n", "")
        .replace("error_ratio = 0.01", "error_ratio = 0.0")
        + "[[failures]]\ntier = \"psp\"\nat = \"11m\"\nduration = \"10m\"\n";
    let results = run(&scenario(&text));
    assert_covers(
        "share failed in the outage",
        est(&results, |r| {
            metric(r, "psp", "failed_in_outage") / metric(r, "psp", "calls")
        }),
        10.0 / 29.0,
    );
    for r in &results {
        assert_eq!(metric(r, "psp", "rate_limited"), 0.0);
    }
}

#[test]
fn bad_external_tiers_are_located() {
    let cases = [
        (
            "error_ratio = 0.01",
            "error_ratio = 1.5",
            "tiers.psp.error_ratio",
        ),
        ("calls = 100", "calls = 0", "tiers.psp.rate_limit.calls"),
        (
            "price_per_call = 0.0005",
            "price_per_call = -1.0",
            "tiers.psp.price_per_call",
        ),
        (
            "price_per_call = 0.0005",
            "price_per_call = 0.0005\ninstance_type = \"m5.large\"",
            "priced per call",
        ),
        (
            "kind = \"external\"",
            "kind = \"external\"\nservers = 2",
            "servers",
        ),
        ("{ call = \"psp\" }", "\"psp\"", "is an external tier"),
    ];
    for (from, to, want) in cases {
        let text = PAYMENTS.replace(from, to);
        let err = load_str("bad", &text, &[]).expect_err(to).to_string();
        assert!(err.contains(want), "{to}: {err}");
    }
}

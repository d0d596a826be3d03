//! `kind = "external"`: a third-party HTTP API, its checks (its file format
//! is `raw::RawExternal`, the model `capsim_models::tier::external`).

use capsim_models::{ExternalConfig, RateLimit};
use sim_engine::SimDuration;

use super::tiers::Checks;
use super::values::{Problem, build_dist, decode, fraction};
use crate::error::FieldPath;
use crate::raw::RawExternal;

pub fn external(table: toml::Table, path: &FieldPath) -> Result<ExternalConfig, Vec<Problem>> {
    let raw: RawExternal = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let latency = c.take(build_dist(raw.latency, &path.key("latency")));
    let error_ratio = c.take(fraction(raw.error_ratio, &path.key("error_ratio")));
    if !(raw.price_per_call.is_finite() && raw.price_per_call >= 0.0) {
        c.push(
            path.key("price_per_call"),
            format!("a price in USD, at least 0 (got {})", raw.price_per_call),
        );
    }
    if let Some(l) = &raw.rate_limit {
        let lp = path.key("rate_limit");
        if l.calls == 0 {
            c.push(lp.key("calls"), "at least 1 call per window (got 0)");
        }
        if l.per.is_zero() {
            c.push(lp.key("per"), "the window must be longer than 0");
        }
    }
    match (latency, error_ratio) {
        (Some(latency), Some(error_ratio)) if c.is_empty() => Ok(ExternalConfig {
            latency,
            rate_limit: raw.rate_limit.map(|l| RateLimit {
                calls: l.calls,
                per: *l.per,
            }),
            rejection_latency: raw.rejection_latency.map_or(SimDuration::ZERO, |d| *d),
            error_ratio,
            price_per_call: raw.price_per_call,
        }),
        _ => Err(c.0),
    }
}

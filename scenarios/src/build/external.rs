//! `kind = "external"`: a third-party HTTP API, its file format and its
//! checks (the model is `capsim_models::tier::external`).

use capsim_models::{ExternalConfig, RateLimit};
use schemars::JsonSchema;
use serde::Deserialize;
use sim_engine::SimDuration;

use super::tiers::Checks;
use super::values::{Problem, build_dist, decode, fraction};
use crate::error::FieldPath;

/// `kind = "external"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExternal {
    /// Time to answer a call, network included.
    #[schemars(schema_with = "crate::schema::dist")]
    pub latency: toml::Table,
    /// The provider's quota: at most `calls` in each window of `per`.
    pub rate_limit: Option<RawRateLimit>,
    /// Time to answer a call over the limit with 429 (default 0).
    pub rejection_latency: Option<SimDuration>,
    /// Fraction of accepted calls answered with an error (default 0).
    #[serde(default)]
    pub error_ratio: f64,
    /// USD per call answered with success (default 0).
    #[serde(default)]
    pub price_per_call: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub calls: u32,
    pub per: SimDuration,
}

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
                per: l.per,
            }),
            rejection_latency: raw.rejection_latency.unwrap_or(SimDuration::ZERO),
            error_ratio,
            price_per_call: raw.price_per_call,
        }),
        _ => Err(c.0),
    }
}

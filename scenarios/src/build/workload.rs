//! `[workload]`: the total rate that classes share, and the profile of every
//! class without its own.

use capsim_models::RateProfile;

use super::limits;
use super::profile::{self, ProfileContext};
use super::tiers::Checks;
use super::values;
use crate::error::FieldPath;
use crate::raw::RawWorkload;

/// The workload as classes see it.
pub struct Workload {
    /// `rate_per_s` as written (checked: see [`rate`]).
    pub rate: Option<f64>,
    /// The profile as written, rebuilt per region of users.
    pub profile_raw: Option<toml::Value>,
    /// `None` if it is broken.
    pub profile: Option<RateProfile>,
    /// `multiplier`: scales every class's rate (1 if not given).
    pub multiplier: f64,
}

/// `workload.rate_per_s`, checked but returned as written.
pub fn rate(raw: Option<&RawWorkload>, wp: &FieldPath, c: &mut Checks) -> Option<f64> {
    let rate = raw.and_then(|w| w.rate_per_s);
    if let Some(r) = rate
        && !(r.is_finite() && r > 0.0)
    {
        c.push(
            wp.key("rate_per_s"),
            format!(
                "the arrival rate must be a number above zero, in requests per second (got {r})"
            ),
        );
    } else if let Some(r) = rate
        && r > limits::RATE_PER_S
    {
        c.push(
            wp.key("rate_per_s"),
            format!(
                "at most {} requests per second (got {r})",
                limits::RATE_PER_S
            ),
        );
    }
    rate
}

/// The workload's profile (constant if none is given).
pub fn profile(
    raw: Option<RawWorkload>,
    rate: Option<f64>,
    wp: &FieldPath,
    calendar: &ProfileContext<'_>,
    c: &mut Checks,
) -> Workload {
    let multiplier = c
        .take(values::traffic_multiplier(
            raw.as_ref().and_then(|w| w.multiplier),
            &wp.key("multiplier"),
        ))
        .unwrap_or(1.0);
    let profile_raw = raw.and_then(|w| w.profile);
    let profile = match profile_raw.clone() {
        Some(t) => {
            let ctx = ProfileContext {
                base_rate: rate.filter(|r| r.is_finite() && *r > 0.0),
                ..*calendar
            };
            match profile::build_profile(t, &wp.key("profile"), &ctx) {
                Ok(p) => Some(p),
                Err(ps) => {
                    c.0.extend(ps);
                    None
                }
            }
        }
        None => Some(RateProfile::Constant),
    };
    Workload {
        rate,
        profile_raw,
        profile,
        multiplier,
    }
}

//! `[[slos]]` → [`SloConfig`]s.

use capsim_models::{ClassConfig, Objective, SloConfig, TierConfig, TierKind};
use sim_engine::SimDuration;

use super::tiers::Checks;
use crate::error::FieldPath;
use crate::raw::RawSlo;
use capsim_models::quantile_label;

#[allow(clippy::too_many_arguments)]
pub fn build_slos(
    raw: Vec<RawSlo>,
    path: &FieldPath,
    classes: &[ClassConfig],
    class_names: &[String],
    tiers: &[TierConfig],
    broken_tiers: &[String],
    // The regions, or whether regions were written (and are broken).
    geo: Result<&super::regions::Geo, bool>,
    horizon: SimDuration,
    c: &mut Checks,
) -> Vec<SloConfig> {
    let mut out: Vec<SloConfig> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let sp = path.index(i);
        let before = c.0.len();
        let window = s.window.unwrap_or(SimDuration::from_secs(60));
        if window.is_zero() || window.as_nanos() % 1_000_000_000 != 0 {
            c.push(
                sp.key("window"),
                format!("a window is a whole number of seconds, at least 1 s (got {window})"),
            );
        } else if window > horizon {
            c.push(
                sp.key("window"),
                format!("the window {window} is longer than the run ({horizon})"),
            );
        }
        let given = [
            s.latency.is_some(),
            s.error_rate.is_some(),
            s.availability.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        if given != 1 {
            c.push(
                sp.clone(),
                "an objective gives exactly one of `latency` (with `percentile`), `error_rate` or `availability`",
            );
            continue;
        }
        if s.percentile.is_some() && s.latency.is_none() {
            c.push(sp.key("percentile"), "`percentile` goes with `latency`");
        }
        let quantile = match (s.latency, s.percentile) {
            (Some(_), Some(p)) if p.is_finite() && p > 0.0 && p < 100.0 => Some(p / 100.0),
            (Some(_), Some(p)) => {
                c.push(
                    sp.key("percentile"),
                    format!("a percentile above 0 and below 100, e.g. 95 or 99.9 (got {p})"),
                );
                None
            }
            (Some(_), None) => {
                c.push(
                    sp.key("percentile"),
                    "a latency objective names its percentile, e.g. `percentile = 95`",
                );
                None
            }
            _ => None,
        };
        // The classes it judges: a class (with regions, its copies), the
        // users of a region, or both.
        let base_of = |cl: &ClassConfig| cl.name.split('@').next().unwrap_or("").to_string();
        let mut members: Option<Vec<u16>> = None;
        if let Some(name) = &s.class {
            if class_names.contains(name) {
                members = Some(
                    (0..classes.len() as u16)
                        .filter(|&k| base_of(&classes[k as usize]) == *name)
                        .collect(),
                );
            } else {
                c.push(
                    sp.key("class"),
                    format!(
                        "no class named \"{name}\" (classes: {})",
                        class_names.join(", ")
                    ),
                );
            }
        }
        let region = match (&s.region, geo) {
            (None, _) => None,
            (Some(_), Err(written)) => {
                if !written {
                    c.push(sp.key("region"), "no regions are defined (`[regions.*]`)");
                }
                None
            }
            (Some(r), Ok(g)) => match g.index(r) {
                Some(i) => Some(i),
                None => {
                    c.push(
                        sp.key("region"),
                        format!("no region named \"{r}\" (regions: {})", g.names.join(", ")),
                    );
                    None
                }
            },
        };
        if let Some(r) = region
            && s.tier.is_none()
        {
            let of_region =
                (0..classes.len() as u16).filter(|&k| classes[k as usize].region == Some(r));
            members = Some(match members {
                Some(m) => of_region.filter(|k| m.contains(k)).collect(),
                None => of_region.collect(),
            });
        }
        if members.as_ref().is_some_and(|m| m.is_empty()) && c.0.len() == before {
            // The class has problems of its own, reported there.
            continue;
        }
        let tier = match &s.tier {
            Some(name) => {
                if s.class.is_some() {
                    c.push(
                        sp.key("class"),
                        "a queue-latency objective (`tier`) counts every job of the tier; it has no class",
                    );
                }
                if s.latency.is_none() {
                    c.push(
                        sp.key("tier"),
                        "`tier` names the worker tier of a queue-latency objective, which gives `latency` and `percentile`",
                    );
                }
                let regional = geo.is_ok_and(|g| g.is_regional(name));
                let copy = match (regional, &s.region) {
                    (true, Some(r)) => format!("{name}@{r}"),
                    (true, None) => {
                        c.push(
                            sp.key("region"),
                            format!(
                                "tier \"{name}\" runs in every region: say in which with `region`"
                            ),
                        );
                        continue;
                    }
                    _ => name.clone(),
                };
                match tiers.iter().position(|t| t.name == copy) {
                    Some(t) if matches!(tiers[t].kind, TierKind::Workers(_)) => Some(t as u16),
                    Some(_) => {
                        c.push(
                            sp.key("tier"),
                            format!("\"{name}\" is not a workers tier: queue latency is measured on job queues"),
                        );
                        None
                    }
                    None if broken_tiers.contains(name) => None,
                    None => {
                        c.push(sp.key("tier"), format!("no tier named \"{name}\""));
                        None
                    }
                }
            }
            None => None,
        };
        let objective = match (s.latency, quantile, s.error_rate, s.availability) {
            (Some(threshold), Some(quantile), _, _) => {
                if threshold.is_zero() {
                    c.push(sp.key("latency"), "must be longer than zero");
                }
                if s.tier.is_some() {
                    Objective::QueueLatency {
                        quantile,
                        threshold,
                    }
                } else {
                    Objective::Latency {
                        quantile,
                        threshold,
                    }
                }
            }
            (_, _, Some(max), _) => {
                if !(max.is_finite() && (0.0..1.0).contains(&max)) {
                    c.push(
                        sp.key("error_rate"),
                        format!("the largest share of failed requests, at least 0 and below 1 (got {max})"),
                    );
                }
                Objective::ErrorRate { max }
            }
            (_, _, _, Some(target)) => {
                if !(target.is_finite() && target > 0.0 && target <= 1.0) {
                    c.push(
                        sp.key("availability"),
                        format!("the least share of successful requests, above 0 and at most 1 (got {target})"),
                    );
                }
                Objective::Availability { target }
            }
            _ => continue,
        };
        let name = s.name.clone().unwrap_or_else(|| {
            let base = match &objective {
                Objective::Latency {
                    quantile,
                    threshold,
                } => format!("p{}-under-{}", quantile_label(*quantile), threshold),
                Objective::QueueLatency {
                    quantile,
                    threshold,
                } => format!("queue-p{}-under-{}", quantile_label(*quantile), threshold),
                Objective::ErrorRate { .. } => "error-rate".into(),
                Objective::Availability { .. } => "availability".into(),
            };
            let scoped = match (&s.class, &s.tier) {
                (Some(k), _) => format!("{base}-{k}"),
                (_, Some(t)) => format!("{base}-{t}"),
                _ => base,
            };
            match &s.region {
                Some(r) => format!("{scoped}-{r}"),
                None => scoped,
            }
            .replace('.', "_")
        });
        super::check_name("objective", &name, &sp.key("name"), c);
        if out.iter().any(|o| o.name == name) {
            c.push(
                sp.key("name"),
                format!("another objective is named \"{name}\" (give each a distinct `name`)"),
            );
        }
        if c.0.len() == before {
            out.push(SloConfig {
                name,
                classes: members.unwrap_or_default(),
                class: s.class.clone(),
                region: s.region.clone(),
                tier,
                objective,
                window,
            });
        }
    }
    out
}

//! `[[slos]]` → [`SloConfig`]s.

use capsim_models::{ClassConfig, Objective, SloConfig, TierConfig, TierKind};
use sim_engine::SimDuration;

use super::regions::Geo;
use super::tiers::Checks;
use crate::error::FieldPath;
use crate::raw::{Duration, RawSlo};
use capsim_models::quantile_label;

/// What an objective is checked against.
struct Scope<'a> {
    classes: &'a [ClassConfig],
    class_names: &'a [String],
    tiers: &'a [TierConfig],
    broken_tiers: &'a [String],
    geo: Result<&'a Geo, bool>,
    horizon: SimDuration,
}

#[allow(clippy::too_many_arguments)]
pub fn build_slos(
    raw: Vec<RawSlo>,
    path: &FieldPath,
    classes: &[ClassConfig],
    class_names: &[String],
    tiers: &[TierConfig],
    broken_tiers: &[String],
    // The regions, or whether regions were written (and are broken).
    geo: Result<&Geo, bool>,
    horizon: SimDuration,
    c: &mut Checks,
) -> Vec<SloConfig> {
    let scope = Scope {
        classes,
        class_names,
        tiers,
        broken_tiers,
        geo,
        horizon,
    };
    let mut out: Vec<SloConfig> = Vec::new();
    c.take(super::limits::list(&raw, super::limits::ENTRIES, path));
    for (i, s) in raw.into_iter().enumerate() {
        if let Some(slo) = scope.slo(s, &path.index(i), &out, c) {
            out.push(slo);
        }
    }
    out
}

impl Scope<'_> {
    /// One objective (`None`: it has problems, reported in `c`; `out`: the
    /// objectives before it, whose names it may not take).
    fn slo(
        &self,
        s: RawSlo,
        sp: &FieldPath,
        out: &[SloConfig],
        c: &mut Checks,
    ) -> Option<SloConfig> {
        let before = c.0.len();
        let window = self.window(&s, sp, c);
        if !gives_one_objective(&s, sp, c) {
            return None;
        }
        let quantile = quantile(&s, sp, c);
        let mut members = self.class_members(&s, sp, c);
        let region = self.region(&s, sp, c);
        if let Some(r) = region
            && s.tier.is_none()
        {
            let classes = self.classes;
            let of_region =
                (0..classes.len() as u16).filter(|&k| classes[k as usize].region == Some(r));
            members = Some(match members {
                Some(m) => of_region.filter(|k| m.contains(k)).collect(),
                None => of_region.collect(),
            });
        }
        if members.as_ref().is_some_and(|m| m.is_empty()) && c.0.len() == before {
            // The class has problems of its own, reported there.
            return None;
        }
        let tier = match &s.tier {
            Some(name) => self.queue_tier(&s, name, sp, c)?,
            None => None,
        };
        let objective = objective(&s, quantile, sp, c)?;
        let name = s
            .name
            .clone()
            .unwrap_or_else(|| default_name(&s, &objective));
        super::check_name("objective", &name, &sp.key("name"), c);
        if out.iter().any(|o| o.name == name) {
            c.push(
                sp.key("name"),
                format!("another objective is named \"{name}\" (give each a distinct `name`)"),
            );
        }
        (c.0.len() == before).then(|| SloConfig {
            name,
            classes: members.unwrap_or_default(),
            class: s.class.clone(),
            region: s.region.clone(),
            tier,
            objective,
            window,
        })
    }

    /// The window the objective is judged over (default a minute), checked:
    /// whole seconds, within the run.
    fn window(&self, s: &RawSlo, sp: &FieldPath, c: &mut Checks) -> SimDuration {
        let window = s.window.map_or(SimDuration::from_secs(60), Duration::get);
        let horizon = self.horizon;
        if window.is_zero() || !window.as_nanos().is_multiple_of(1_000_000_000) {
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
        window
    }

    /// The classes it judges by `class` (with regions, the class's copies).
    fn class_members(&self, s: &RawSlo, sp: &FieldPath, c: &mut Checks) -> Option<Vec<u16>> {
        let name = s.class.as_ref()?;
        if !self.class_names.contains(name) {
            c.push(
                sp.key("class"),
                format!(
                    "no class named \"{name}\" (classes: {})",
                    self.class_names.join(", ")
                ),
            );
            return None;
        }
        let base_of = |cl: &ClassConfig| cl.name.split('@').next().unwrap_or("").to_string();
        Some(
            (0..self.classes.len() as u16)
                .filter(|&k| base_of(&self.classes[k as usize]) == *name)
                .collect(),
        )
    }

    /// The region it judges (its users, or its copy of a regional tier).
    fn region(&self, s: &RawSlo, sp: &FieldPath, c: &mut Checks) -> Option<u16> {
        match (&s.region, self.geo) {
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
        }
    }

    /// The workers tier `name` of a queue-latency objective. `None`: a
    /// regional tier without `region` (reported), nothing more to check;
    /// `Some(None)`: no such workers tier (reported here or at the tier).
    fn queue_tier(
        &self,
        s: &RawSlo,
        name: &str,
        sp: &FieldPath,
        c: &mut Checks,
    ) -> Option<Option<u16>> {
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
        let regional = self.geo.is_ok_and(|g| g.is_regional(name));
        let copy = match (regional, &s.region) {
            (true, Some(r)) => format!("{name}@{r}"),
            (true, None) => {
                c.push(
                    sp.key("region"),
                    format!("tier \"{name}\" runs in every region: say in which with `region`"),
                );
                return None;
            }
            _ => name.to_string(),
        };
        let tiers = self.tiers;
        Some(match tiers.iter().position(|t| t.name == copy) {
            Some(t) if matches!(tiers[t].kind, TierKind::Workers(_)) => Some(t as u16),
            Some(_) => {
                c.push(
                    sp.key("tier"),
                    format!(
                        "\"{name}\" is not a workers tier: queue latency is measured on job queues"
                    ),
                );
                None
            }
            None if self.broken_tiers.iter().any(|b| b == name) => None,
            None => {
                c.push(sp.key("tier"), format!("no tier named \"{name}\""));
                None
            }
        })
    }
}

/// Whether it gives exactly one objective (else reported).
fn gives_one_objective(s: &RawSlo, sp: &FieldPath, c: &mut Checks) -> bool {
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
        return false;
    }
    true
}

/// A latency objective's quantile (`None`: another objective, or a problem
/// reported).
fn quantile(s: &RawSlo, sp: &FieldPath, c: &mut Checks) -> Option<f64> {
    if s.percentile.is_some() && s.latency.is_none() {
        c.push(sp.key("percentile"), "`percentile` goes with `latency`");
    }
    match (s.latency, s.percentile) {
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
    }
}

/// The objective with its bound checked (`None`: a latency objective
/// whose percentile is wrong, reported).
fn objective(
    s: &RawSlo,
    quantile: Option<f64>,
    sp: &FieldPath,
    c: &mut Checks,
) -> Option<Objective> {
    Some(match (s.latency, quantile, s.error_rate, s.availability) {
        (Some(threshold), Some(quantile), _, _) => {
            if threshold.is_zero() {
                c.push(sp.key("latency"), "must be longer than zero");
            }
            if s.tier.is_some() {
                Objective::QueueLatency {
                    quantile,
                    threshold: *threshold,
                }
            } else {
                Objective::Latency {
                    quantile,
                    threshold: *threshold,
                }
            }
        }
        (_, _, Some(max), _) => {
            if !(max.is_finite() && (0.0..1.0).contains(&max)) {
                c.push(
                    sp.key("error_rate"),
                    format!(
                        "the largest share of failed requests, at least 0 and below 1 (got {max})"
                    ),
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
        _ => return None,
    })
}

/// A name from what the objective measures and whom it judges, e.g.
/// `p95-under-1s-checkout-eu`, dots replaced by underscores.
fn default_name(s: &RawSlo, objective: &Objective) -> String {
    let base = match objective {
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
}

//! `[[failures]]`: which units fail (a tier's, or every regional tier's of a
//! region), how (crash or cache flush) and when (at a time, or at random
//! with a mean time between failures and to repair).

use capsim_models::{FailureAction, FailureConfig, FailureTiming, TierConfig, TierKind};
use sim_engine::SimDuration;

use super::limits;
use super::regions::Geo;
use super::tiers::Checks;
use crate::error::FieldPath;
use crate::raw::{Duration, RawFailure};

/// What failures are checked against.
pub struct Scope<'a> {
    /// Every tier, regional copies included.
    pub all_tiers: &'a [TierConfig],
    /// Tier names as written.
    pub names: &'a [String],
    pub broken: &'a [String],
    pub geo: Option<&'a Geo>,
    /// Regions were written (if `geo` is `None`, they are broken).
    pub regions_written: bool,
    pub horizon: SimDuration,
}

pub fn build_failures(
    raw: Vec<RawFailure>,
    fp: &FieldPath,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> Vec<FailureConfig> {
    let mut failures = Vec::new();
    c.take(limits::list(&raw, limits::ENTRIES, fp));
    for (i, f) in raw.into_iter().enumerate() {
        let path = fp.index(i);
        let Some(targets) = targets(&f, &path, scope, c) else {
            continue;
        };
        let Some(action) = action(&f, &path, c) else {
            continue;
        };
        if !units_can_fail(&f, action, &targets, &path, scope, c) {
            continue;
        }
        let Some(timing) = timing(&f, action, &path, scope.horizon, c) else {
            continue;
        };
        for tier in targets {
            failures.push(FailureConfig {
                tier: tier as u16,
                unit: f.unit,
                action,
                timing: timing.clone(),
            });
        }
    }
    failures
}

/// The tiers it strikes (indices into `all_tiers`): one, or every regional
/// tier of a region.
fn targets(
    f: &RawFailure,
    path: &FieldPath,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> Option<Vec<usize>> {
    match (&f.tier, &f.region, scope.geo) {
        (None, None, _) => {
            c.push(
                path.clone(),
                "give the `tier` that fails (with regions: or a `region`, for all of its tiers)",
            );
            None
        }
        (_, Some(_), None) => {
            if !scope.regions_written {
                c.push(path.key("region"), "no regions are defined (`[regions.*]`)");
            }
            None
        }
        (_, Some(r), Some(g)) if g.index(r).is_none() => {
            c.push(
                path.key("region"),
                format!("no region named \"{r}\" (regions: {})", g.names.join(", ")),
            );
            None
        }
        (None, Some(r), Some(g)) => region_targets(f, r, g, path, scope, c),
        (Some(t), region, _) => tier_target(t, region.as_deref(), path, scope, c).map(|i| vec![i]),
    }
}

/// Every regional tier of region `r` but its CDN.
fn region_targets(
    f: &RawFailure,
    r: &str,
    g: &Geo,
    path: &FieldPath,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> Option<Vec<usize>> {
    if !g.serves[g.index(r).expect("checked") as usize] {
        c.push(
            path.key("region"),
            format!("region \"{r}\" runs no tiers (`serves = false`)"),
        );
        return None;
    }
    if f.unit.is_some() {
        c.push(
            path.key("unit"),
            "a whole region fails: give a `tier` to fail one unit",
        );
        return None;
    }
    let suffix = format!("@{r}");
    Some(
        scope
            .all_tiers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.name.ends_with(&suffix) && !matches!(t.kind, TierKind::Cdn(_)))
            .map(|(i, _)| i)
            .collect(),
    )
}

/// Tier `t` (with regions: its copy in `region` if it is regional).
fn tier_target(
    t: &String,
    region: Option<&str>,
    path: &FieldPath,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> Option<usize> {
    if !scope.names.contains(t) {
        c.push(path.key("tier"), format!("no tier named \"{t}\""));
        return None;
    }
    if scope.broken.contains(t) {
        return None;
    }
    let regional = scope.geo.is_some_and(|g| g.is_regional(t));
    let name = match (regional, region) {
        (true, Some(r)) => format!("{t}@{r}"),
        (true, None) => {
            c.push(
                path.key("region"),
                format!("tier \"{t}\" runs in every region: say in which with `region`"),
            );
            return None;
        }
        (false, Some(_)) => {
            c.push(
                path.key("region"),
                format!("tier \"{t}\" is not regional (it runs in the primary region): leave out `region`"),
            );
            return None;
        }
        (false, None) => t.clone(),
    };
    let found = scope.all_tiers.iter().position(|x| x.name == name);
    if found.is_none()
        && let (Some(r), Some(g)) = (region, scope.geo)
        && g.index(r).is_some_and(|i| !g.serves[i as usize])
    {
        c.push(
            path.key("region"),
            format!("region \"{r}\" runs no tiers (`serves = false`)"),
        );
    }
    // Else not found: a region's copy that failed to build.
    found
}

fn action(f: &RawFailure, path: &FieldPath, c: &mut Checks) -> Option<FailureAction> {
    let whole_region = f.tier.is_none();
    match f.action.as_str() {
        "crash" => Some(FailureAction::Crash),
        "flush" if !whole_region => Some(FailureAction::Flush),
        "flush" => {
            c.push(
                path.key("action"),
                "a region crashes; only a cache can be flushed",
            );
            None
        }
        other => {
            c.push(
                path.key("action"),
                format!("unknown action \"{other}\" (expected crash or flush)"),
            );
            None
        }
    }
}

/// Whether each target has units that can fail this way (and the `unit`
/// given, if any).
fn units_can_fail(
    f: &RawFailure,
    action: FailureAction,
    targets: &[usize],
    path: &FieldPath,
    scope: &Scope<'_>,
    c: &mut Checks,
) -> bool {
    for &tier in targets {
        let t = &scope.all_tiers[tier];
        let kind = &t.kind;
        if matches!(kind, TierKind::Cdn(_)) {
            c.push(path.key("tier"), "a CDN has no units to fail");
            return false;
        }
        if action == FailureAction::Flush && !matches!(kind, TierKind::Cache(_)) {
            c.push(path.key("action"), "only a cache can be flushed");
            return false;
        }
        let units = kind.failure_units();
        if let Some(u) = f.unit {
            if u >= units.end {
                c.push(
                    path.key("unit"),
                    format!(
                        "tier \"{}\" has units 0 to {} (got {u})",
                        t.name,
                        units.end - 1
                    ),
                );
                return false;
            }
            if u < units.start {
                // A region's replica set: its node 0 stands for the
                // primary in another region.
                c.push(
                    path.key("unit"),
                    format!(
                        "tier \"{}\" has the replicas 1 to {} of a primary in another region",
                        t.name,
                        units.end - 1
                    ),
                );
                return false;
            }
        }
    }
    true
}

/// `at` (and optionally `duration`), or `mtbf` and `mttr`.
fn timing(
    f: &RawFailure,
    action: FailureAction,
    path: &FieldPath,
    horizon: SimDuration,
    c: &mut Checks,
) -> Option<FailureTiming> {
    match (f.at, f.duration, f.mtbf, f.mttr) {
        (Some(at), down_for, None, None) => {
            if at >= horizon {
                c.push(
                    path.key("at"),
                    format!("{at} is after the end of the run ({horizon})"),
                );
                return None;
            }
            if action == FailureAction::Flush && down_for.is_some() {
                c.push(
                    path.key("duration"),
                    "a flush is instantaneous: it has no duration",
                );
                return None;
            }
            Some(FailureTiming::At {
                at: *at,
                down_for: down_for.map(Duration::get),
            })
        }
        (None, None, Some(mtbf), Some(mttr)) => {
            if action == FailureAction::Flush {
                c.push(
                    path.key("mtbf"),
                    "random failures are crashes; a flush happens `at` a time",
                );
                return None;
            }
            if mtbf.is_zero() || mttr.is_zero() {
                c.push(
                    path.key("mtbf"),
                    "`mtbf` and `mttr` must be longer than zero",
                );
                return None;
            }
            let mut short = false;
            for (key, d, least) in [
                ("mtbf", mtbf.get(), limits::MIN_MTBF),
                ("mttr", mttr.get(), limits::MIN_MTTR),
            ] {
                if d < least {
                    c.push(path.key(key), format!("at least {least} (got {d})"));
                    short = true;
                }
            }
            if short {
                return None;
            }
            Some(FailureTiming::Random {
                mtbf: *mtbf,
                mttr: *mttr,
            })
        }
        _ => {
            c.push(
                path.clone(),
                "give either `at` (and optionally `duration`), or `mtbf` and `mttr`",
            );
            None
        }
    }
}

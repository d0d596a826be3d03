//! Raw scenario → validated [`Scenario`]. Every check names the field it
//! concerns; all problems found are reported together, not just the first.

pub mod cost;
pub mod external;
pub mod profile;
pub mod regions;
pub mod route;
pub mod scaling;
pub mod slo;
pub mod tiers;
pub mod values;

use capsim_models::windows::WindowPlan;
use capsim_models::{
    Arrivals, ClassConfig, ClientPolicy, FailureAction, FailureConfig, FailureTiming,
    PlatformConfig, RateProfile, TierConfig, TierKind, TrafficPrices,
};
use std::path::Path;

use sim_engine::{Dist, SimDuration};

use crate::catalogue::Catalogue;
use crate::error::FieldPath;
use crate::raw::{RawScenario, RawTierCommon};
use tiers::{Checks, TIER_KINDS};
pub use values::{Problem, build_dist, serde_problem};
use values::{decode, split_tag};

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub replications: u64,
    pub platform: PlatformConfig,
    /// `simulation.start`, Unix seconds.
    pub start_s: i64,
    /// A long horizon run as windows (`[windows]`).
    pub windows: Option<WindowPlan>,
    /// Named override sets, in file order.
    pub variants: Vec<Variant>,
}

impl Scenario {
    /// The platforms one replication runs: the scenario's, or one per
    /// window of a long horizon.
    pub fn runs(&self) -> Vec<PlatformConfig> {
        let p = &self.platform;
        match &self.windows {
            None => vec![p.clone()],
            Some(plan) => {
                let units = vec![None; p.tiers.len()];
                (0..plan.count)
                    .map(|k| {
                        capsim_models::windows::window_config(p, plan.start_of(k), &units, k == 0)
                    })
                    .collect()
            }
        }
    }
}

/// A named set of `--set` overrides (`[variants.NAME]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    pub description: String,
    pub set: Vec<String>,
}

/// Limits that keep a run meaningful and its numbers in range.
pub const MAX_REPLICATIONS: u64 = 100_000;
/// Windows of a long horizon (ten years of weeks).
pub const MAX_WINDOWS: u32 = 520;
const MAX_NAME_LEN: usize = 64;

fn check_name(what: &str, name: &str, path: &FieldPath, c: &mut Checks) {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !ok {
        c.push(
            path.clone(),
            format!(
                "{what} name \"{name}\" must be 1 to {MAX_NAME_LEN} letters, digits, '-' or '_' (it becomes a JSON key and a CSV value)"
            ),
        );
    }
}

/// Validates `raw` and builds the scenario, or lists every problem found.
/// Relative paths in it (replayed traces) are resolved against `dir`, the
/// scenario file's directory (the working directory if `None`).
pub fn build(raw: RawScenario, dir: Option<&Path>) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checks::default();
    let root = FieldPath::root();

    // [scenario]
    check_name(
        "scenario",
        &raw.scenario.name,
        &root.key("scenario").key("name"),
        &mut c,
    );

    // [simulation]
    let sim = &raw.simulation;
    let sp = root.key("simulation");
    if sim.duration.is_zero() {
        c.push(sp.key("duration"), "must be longer than zero");
    }
    if sim.warmup >= sim.duration && !sim.duration.is_zero() {
        c.push(
            sp.key("warmup"),
            format!(
                "the warm-up ({}) must be shorter than the duration ({}), which includes it",
                sim.warmup, sim.duration
            ),
        );
    }
    if sim.replications < 2 {
        c.push(
            sp.key("replications"),
            format!(
                "at least 2 replications are needed for a confidence interval (got {})",
                sim.replications
            ),
        );
    } else if sim.replications > MAX_REPLICATIONS {
        c.push(
            sp.key("replications"),
            format!(
                "at most {MAX_REPLICATIONS} replications (got {})",
                sim.replications
            ),
        );
    }
    if sim.interval.is_zero() {
        c.push(sp.key("interval"), "must be longer than zero");
    } else if !sim.duration.is_zero()
        && sim.duration.as_nanos() / sim.interval.as_nanos() > 1_000_000
    {
        c.push(
            sp.key("interval"),
            format!(
                "{} intervals of {} in {}: make the interval longer (at most 1,000,000 per run)",
                sim.duration.as_nanos() / sim.interval.as_nanos(),
                sim.interval,
                sim.duration
            ),
        );
    }
    let horizon = sim.duration;
    let start_s = match &sim.start {
        Some(s) => match profile::parse_instant(s) {
            Some(t) => t,
            None => {
                c.push(
                    sp.key("start"),
                    format!("\"{s}\" is not an RFC 3339 date and time such as \"2026-11-27T00:00:00-05:00\" (without an offset the time is UTC)"),
                );
                profile::DEFAULT_START_S
            }
        },
        None => profile::DEFAULT_START_S,
    };

    // [cost]: scenario-wide prices, defaulting to the catalogue's.
    let cat = Catalogue::bundled();
    let costp = root.key("cost");
    let usd = |given: Option<f64>, default: f64, key: &str, c: &mut Checks| match given {
        Some(x) if x.is_finite() && x >= 0.0 => x,
        Some(x) => {
            c.push(
                costp.key(key),
                format!("a price in USD, at least 0 (got {x})"),
            );
            default
        }
        None => default,
    };
    let raw_cost = raw.cost.as_ref();
    let traffic = TrafficPrices {
        cdn_per_gb: usd(
            raw_cost.and_then(|r| r.cdn_per_gb),
            cat.traffic.cdn_per_gb,
            "cdn_per_gb",
            &mut c,
        ),
        egress_per_gb: usd(
            raw_cost.and_then(|r| r.egress_per_gb),
            cat.traffic.egress_per_gb,
            "egress_per_gb",
            &mut c,
        ),
    };
    let load_balancer_per_hour = usd(
        raw_cost.and_then(|r| r.load_balancer_per_hour),
        cat.load_balancer.per_hour,
        "load_balancer_per_hour",
        &mut c,
    );

    // [tiers.*]
    let tp = root.key("tiers");
    if raw.tiers.is_empty() {
        c.push(tp.clone(), "define at least one tier");
    }
    if raw.tiers.len() > u16::MAX as usize {
        c.push(tp.clone(), "too many tiers");
    }
    // [geo], [regions.*]: checked against the tiers' names and kinds.
    let tier_names: Vec<String> = raw.tiers.keys().cloned().collect();
    let api_tiers: Vec<String> = raw
        .tiers
        .iter()
        .filter(|(_, t)| t.get("kind").and_then(|k| k.as_str()) == Some("api"))
        .map(|(n, _)| n.clone())
        .collect();
    // Regions written but invalid have their own messages: fields naming a
    // region are then not checked against them.
    let regions_written = raw.geo.is_some() || !raw.regions.is_empty();
    let geo = regions::parse(raw.geo, raw.regions, &root, &tier_names, &api_tiers, &mut c);
    // The tables of tiers whose fields differ in a region.
    let mut regional_tables: Vec<(String, toml::Table)> = Vec::new();

    let build_tier = |name: &str,
                      mut table: toml::Table,
                      path: &FieldPath|
     -> Result<(TierConfig, Option<Dist>), Vec<Problem>> {
        let cpu = tiers::api_default_cpu(&table, path);
        // Keys every kind takes (prices, scaling) first, then the kind's own.
        let mut common = toml::Table::new();
        for key in RawTierCommon::KEYS {
            if let Some(v) = table.remove(*key) {
                common.insert(key.to_string(), v);
            }
        }
        let common: Result<RawTierCommon, Problem> = decode(common, path);
        let (kind_name, rest, common) = match (split_tag(table, "kind", TIER_KINDS, path), common) {
            (Ok((k, r)), Ok(common)) => (k, r, common),
            (Err(p), Ok(_)) | (Ok(_), Err(p)) => return Err(vec![p]),
            (Err(a), Err(b)) => return Err(vec![b, a]),
        };
        let mut cc = Checks::default();
        let (hw, billing) = cost::tier_billing(
            &kind_name,
            &common,
            path,
            cat,
            load_balancer_per_hour,
            &mut cc,
        );
        let kind = match tiers::build_tier(&kind_name, rest, path, &hw) {
            Ok(k) => k,
            Err(mut ps) => {
                ps.extend(cc.0);
                return Err(ps);
            }
        };
        let scaling = match common.scaling {
            Some(s) => {
                match scaling::build_scaling(s, &kind, &kind_name, &path.key("scaling"), horizon) {
                    Ok(s) => Some(s),
                    Err(ps) => {
                        cc.0.extend(ps);
                        None
                    }
                }
            }
            None => None,
        };
        if !cc.is_empty() {
            return Err(cc.0);
        }
        let tier = TierConfig {
            name: name.to_string(),
            kind,
            scaling,
            billing,
            region: None,
        };
        Ok((tier, cpu))
    };
    let mut tier_configs: Vec<TierConfig> = Vec::with_capacity(raw.tiers.len());
    let mut default_cpu: Vec<Option<Dist>> = Vec::with_capacity(raw.tiers.len());
    let mut broken: Vec<String> = Vec::new();
    for (name, table) in raw.tiers {
        let path = tp.key(&name);
        check_name("tier", &name, &path, &mut c);
        if let Some(g) = &geo
            && g.overrides.iter().any(|o| o.contains_key(&name))
        {
            regional_tables.push((name.clone(), table.clone()));
        }
        match build_tier(&name, table, &path) {
            Ok((t, cpu)) => {
                tier_configs.push(t);
                default_cpu.push(cpu);
            }
            Err(ps) => {
                broken.push(name);
                c.0.extend(ps);
            }
        }
    }

    // [workload]
    let wp = root.key("workload");
    let workload_rate = raw.workload.as_ref().and_then(|w| w.rate_per_s);
    if let Some(r) = workload_rate
        && !(r.is_finite() && r > 0.0)
    {
        c.push(
            wp.key("rate_per_s"),
            format!(
                "the arrival rate must be a number above zero, in requests per second (got {r})"
            ),
        );
    }
    // Regions: a copy of each regional tier per region.
    let mut copy_problems = Vec::new();
    let expanded = geo.as_ref().filter(|_| broken.is_empty()).map(|g| {
        regions::expand(g, tier_configs.clone(), default_cpu.clone(), |name, r| {
            let base = &regional_tables.iter().find(|(n, _)| n == name)?.1;
            let merged = regions::merge(base, &g.overrides[r][name]);
            let path = root.key("regions").key(&g.names[r]).key("tiers").key(name);
            match build_tier(name, merged, &path) {
                Ok(x) => Some(x),
                Err(ps) => {
                    copy_problems.extend(ps);
                    None
                }
            }
        })
    });
    // A region's copy that failed to build is reported once, not again by
    // every route that uses it.
    let expanded = expanded.filter(|_| copy_problems.is_empty());
    c.0.extend(copy_problems);

    let profile_ctx = |base_rate: Option<f64>| profile::ProfileContext {
        horizon,
        start_s,
        base_rate,
        dir,
        utc_offset_s: 0,
    };
    let workload_profile_raw = raw.workload.as_ref().and_then(|w| w.profile.clone());
    let workload_profile = match raw.workload.and_then(|w| w.profile) {
        Some(t) => match profile::build_profile(
            t,
            &wp.key("profile"),
            &profile_ctx(workload_rate.filter(|r| r.is_finite() && *r > 0.0)),
        ) {
            Ok(p) => Some(p),
            Err(ps) => {
                c.0.extend(ps);
                None
            }
        },
        None => Some(RateProfile::Constant),
    };

    // [classes.*]
    let cp = root.key("classes");
    if raw.classes.is_empty() {
        c.push(
            cp.clone(),
            "define at least one request class (the class mix is empty)",
        );
    }
    if raw.classes.len() > u16::MAX as usize {
        c.push(cp.clone(), "too many classes");
    }
    let uses_shares = raw.classes.values().any(|cl| cl.share.is_some());
    if uses_shares && workload_rate.is_none() {
        c.push(
            wp.key("rate_per_s"),
            "classes give a `share` of the workload: set `workload.rate_per_s`, the total rate",
        );
    }
    if !uses_shares && workload_rate.is_some() {
        c.push(
            wp.key("rate_per_s"),
            "`workload.rate_per_s` is shared among classes by their `share`, but no class has one",
        );
    }
    let mut share_total = 0.0;
    let class_names: Vec<String> = raw.classes.keys().cloned().collect();
    let mut classes = Vec::with_capacity(raw.classes.len());
    for (name, class) in raw.classes {
        let path = cp.key(&name);
        check_name("class", &name, &path, &mut c);
        let rate = match (class.rate_per_s, class.share) {
            (Some(_), Some(_)) => {
                c.push(
                    path.key("share"),
                    "give a class either `rate_per_s` or `share`, not both",
                );
                None
            }
            (Some(r), None) if uses_shares => {
                let _ = r;
                c.push(
                    path.key("rate_per_s"),
                    "other classes give a `share` of the workload: give this one a `share` too",
                );
                None
            }
            (Some(r), None) => {
                if r.is_finite() && r > 0.0 {
                    Some(r)
                } else {
                    c.push(path.key("rate_per_s"), format!("the arrival rate must be a number above zero, in requests per second (got {r})"));
                    None
                }
            }
            (None, Some(s)) => {
                if s.is_finite() && s > 0.0 && s <= 1.0 {
                    share_total += s;
                    workload_rate.map(|w| w * s)
                } else {
                    c.push(
                        path.key("share"),
                        format!("a share is a fraction above 0 and at most 1 (got {s})"),
                    );
                    None
                }
            }
            (None, None) => {
                c.push(path.clone(), "give the class an arrival rate: `rate_per_s`, or a `share` of `workload.rate_per_s`");
                None
            }
        };
        let profile_raw = class
            .profile
            .clone()
            .map(|p| (p, path.key("profile")))
            .or_else(|| workload_profile_raw.clone().map(|p| (p, wp.key("profile"))));
        let route_raw = expanded.is_some().then(|| class.route.clone());
        let profile = match class.profile {
            Some(t) => match profile::build_profile(t, &path.key("profile"), &profile_ctx(rate)) {
                Ok(p) => Some(p),
                Err(ps) => {
                    c.0.extend(ps);
                    None
                }
            },
            None => workload_profile.clone(),
        };
        let mut client = ClientPolicy::default();
        if let Some(t) = class.timeout {
            if t.is_zero() {
                c.push(
                    path.key("timeout"),
                    "a timeout must be longer than zero (leave it out to wait forever)",
                );
            }
            client.timeout = Some(t);
        }
        client.retries = class.retries;
        if let Some(r) = class.retry_on_error {
            client.retry_on_error = r;
        }
        if let Some(b) = &class.backoff {
            if let Some(base) = b.base {
                client.backoff_base = base;
            }
            if let Some(max) = b.max {
                client.backoff_max = max;
            }
            if let Some(j) = b.jitter
                && let Some(j) = c.take(values::fraction(j, &path.key("backoff").key("jitter")))
            {
                client.jitter = j;
            }
            if client.backoff_max < client.backoff_base {
                c.push(
                    path.key("backoff").key("max"),
                    "the backoff cap must not be below its base",
                );
            }
        }
        let response_bytes = match &class.response_size {
            Some(s) => c
                .take(values::parse_size(s, &path.key("response_size")))
                .map(|b| b as f64),
            None => Some(0.0),
        };
        if class.retries > 0 && client.timeout.is_none() && !client.retry_on_error {
            c.push(path.key("retries"), "retries happen after a timeout or an error, but this class has no `timeout` and `retry_on_error = false`");
        }
        let program = match route::compile(
            class.route,
            &path.key("route"),
            &tier_configs,
            &broken,
            &default_cpu,
        ) {
            Ok(p) => Some(p),
            Err(ps) => {
                c.0.extend(ps);
                None
            }
        };
        let Some((rate_per_s, profile, program, response_bytes)) = rate
            .zip(profile)
            .zip(program)
            .zip(response_bytes)
            .map(|(((a, b), c), d)| (a, b, c, d))
        else {
            continue;
        };
        let (Some((tiers_x, cpu_x, _)), Some(g), Some(route)) = (&expanded, &geo, route_raw) else {
            classes.push(ClassConfig {
                response_bytes,
                name,
                arrivals: Arrivals {
                    rate_per_s,
                    profile,
                },
                client,
                program,
                region: None,
            });
            continue;
        };
        // A copy per region of its users.
        let geo_view = route::Regional {
            names: &g.names,
            regional: &g.regional,
            primary: g.primary,
            rtt: &g.rtt,
            user_rtt: &g.user_rtt,
            serves: &g.serves,
        };
        for (r, region) in g.names.iter().enumerate() {
            let ctx = profile::ProfileContext {
                utc_offset_s: g.offsets_s[r],
                ..profile_ctx(Some(rate_per_s))
            };
            let mut parts = Vec::new();
            if let Some((raw_profile, ppath)) = &profile_raw {
                match profile::build_profile(raw_profile.clone(), ppath, &ctx) {
                    Ok(p) => parts.push(p),
                    Err(ps) => c.0.extend(ps),
                }
            }
            match g.profile(r, &root, &ctx) {
                Ok(Some(p)) => parts.push(p),
                Ok(None) => {}
                Err(ps) => c.0.extend(ps),
            }
            parts.retain(|p| *p != RateProfile::Constant);
            let profile = match parts.len() {
                0 => RateProfile::Constant,
                1 => parts.pop().expect("one"),
                _ => RateProfile::Product(parts),
            };
            match route::compile_regional(
                route.clone(),
                &path.key("route"),
                tiers_x,
                cpu_x,
                &geo_view,
                r as u16,
            ) {
                Ok(program) => classes.push(ClassConfig {
                    response_bytes,
                    name: format!("{name}@{region}"),
                    arrivals: Arrivals {
                        rate_per_s: rate_per_s * g.shares[r],
                        profile,
                    },
                    client: client.clone(),
                    program,
                    region: Some(r as u16),
                }),
                Err(ps) => c.0.extend(ps),
            }
        }
    }
    if uses_shares && (share_total - 1.0).abs() > 1e-6 && c.is_empty() {
        c.push(
            cp.clone(),
            format!("the classes' shares must sum to 1 (they sum to {share_total})"),
        );
    }

    // [[failures]]
    let fp = root.key("failures");
    let mut failures = Vec::new();
    for (i, f) in raw.failures.into_iter().enumerate() {
        let path = fp.index(i);
        // The tiers it strikes: one, or every regional tier of a region.
        let all_tiers = expanded.as_ref().map_or(&tier_configs, |e| &e.0);
        let targets: Vec<usize> = match (&f.tier, &f.region, &geo) {
            (None, None, _) => {
                c.push(
                    path.clone(),
                    "give the `tier` that fails (with regions: or a `region`, for all of its tiers)",
                );
                continue;
            }
            (_, Some(_), None) => {
                if !regions_written {
                    c.push(path.key("region"), "no regions are defined (`[regions.*]`)");
                }
                continue;
            }
            (_, Some(r), Some(g)) if g.index(r).is_none() => {
                c.push(
                    path.key("region"),
                    format!("no region named \"{r}\" (regions: {})", g.names.join(", ")),
                );
                continue;
            }
            (None, Some(r), Some(g)) => {
                if !g.serves[g.index(r).expect("checked") as usize] {
                    c.push(
                        path.key("region"),
                        format!("region \"{r}\" runs no tiers (`serves = false`)"),
                    );
                    continue;
                }
                if f.unit.is_some() {
                    c.push(
                        path.key("unit"),
                        "a whole region fails: give a `tier` to fail one unit",
                    );
                    continue;
                }
                let suffix = format!("@{r}");
                all_tiers
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| {
                        t.name.ends_with(&suffix) && !matches!(t.kind, TierKind::Cdn(_))
                    })
                    .map(|(i, _)| i)
                    .collect()
            }
            (Some(t), region, _) => {
                if !tier_names.contains(t) {
                    c.push(path.key("tier"), format!("no tier named \"{t}\""));
                    continue;
                }
                if broken.contains(t) {
                    continue;
                }
                let regional = geo.as_ref().is_some_and(|g| g.is_regional(t));
                let name = match (regional, region) {
                    (true, Some(r)) => format!("{t}@{r}"),
                    (true, None) => {
                        c.push(
                            path.key("region"),
                            format!(
                                "tier \"{t}\" runs in every region: say in which with `region`"
                            ),
                        );
                        continue;
                    }
                    (false, Some(_)) => {
                        c.push(
                            path.key("region"),
                            format!("tier \"{t}\" is not regional (it runs in the primary region): leave out `region`"),
                        );
                        continue;
                    }
                    (false, None) => t.clone(),
                };
                match all_tiers.iter().position(|x| x.name == name) {
                    Some(i) => vec![i],
                    None => {
                        if let (Some(r), Some(g)) = (region, &geo)
                            && g.index(r).is_some_and(|i| !g.serves[i as usize])
                        {
                            c.push(
                                path.key("region"),
                                format!("region \"{r}\" runs no tiers (`serves = false`)"),
                            );
                        }
                        continue; // else a region's copy that failed to build
                    }
                }
            }
        };
        let whole_region = f.tier.is_none();
        let action = match f.action.as_str() {
            "crash" => FailureAction::Crash,
            "flush" if !whole_region => FailureAction::Flush,
            "flush" => {
                c.push(
                    path.key("action"),
                    "a region crashes; only a cache can be flushed",
                );
                continue;
            }
            other => {
                c.push(
                    path.key("action"),
                    format!("unknown action \"{other}\" (expected crash or flush)"),
                );
                continue;
            }
        };
        let mut bad = false;
        for &tier in &targets {
            let t = &all_tiers[tier];
            let kind = &t.kind;
            if matches!(kind, TierKind::Cdn(_)) {
                c.push(path.key("tier"), "a CDN has no units to fail");
                bad = true;
                break;
            }
            if action == FailureAction::Flush && !matches!(kind, TierKind::Cache(_)) {
                c.push(path.key("action"), "only a cache can be flushed");
                bad = true;
                break;
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
                    bad = true;
                    break;
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
                    bad = true;
                    break;
                }
            }
        }
        if bad {
            continue;
        }
        let timing = match (f.at, f.duration, f.mtbf, f.mttr) {
            (Some(at), down_for, None, None) => {
                if at >= horizon {
                    c.push(
                        path.key("at"),
                        format!("{at} is after the end of the run ({horizon})"),
                    );
                    continue;
                }
                if action == FailureAction::Flush && down_for.is_some() {
                    c.push(
                        path.key("duration"),
                        "a flush is instantaneous: it has no duration",
                    );
                    continue;
                }
                FailureTiming::At { at, down_for }
            }
            (None, None, Some(mtbf), Some(mttr)) => {
                if action == FailureAction::Flush {
                    c.push(
                        path.key("mtbf"),
                        "random failures are crashes; a flush happens `at` a time",
                    );
                    continue;
                }
                if mtbf.is_zero() || mttr.is_zero() {
                    c.push(
                        path.key("mtbf"),
                        "`mtbf` and `mttr` must be longer than zero",
                    );
                    continue;
                }
                FailureTiming::Random { mtbf, mttr }
            }
            _ => {
                c.push(
                    path.clone(),
                    "give either `at` (and optionally `duration`), or `mtbf` and `mttr`",
                );
                continue;
            }
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

    // [[slos]]
    let (tier_configs, regions) = match expanded {
        Some((tiers, _, regions)) => (tiers, Some(regions)),
        None => (tier_configs, None),
    };
    let slos = slo::build_slos(
        raw.slos,
        &root.key("slos"),
        &classes,
        &class_names,
        &tier_configs,
        &broken,
        geo.as_ref().ok_or(regions_written),
        horizon,
        &mut c,
    );

    // [windows]
    let windows = raw.windows.as_ref().and_then(|w| {
        let p = root.key("windows");
        let before = c.0.len();
        if w.every.is_zero() {
            c.push(p.key("every"), "must be longer than zero, e.g. \"1w\"");
        }
        if w.count == 0 || w.count > MAX_WINDOWS {
            c.push(
                p.key("count"),
                format!("from 1 to {MAX_WINDOWS} windows (got {})", w.count),
            );
        }
        let span = (w.every.as_nanos() as u128) * (w.count as u128);
        if span > SimDuration::MAX_IN_FILES.as_nanos() as u128 {
            c.push(
                p.key("every"),
                format!(
                    "{} windows of {} span more than 100 years: fewer or shorter windows",
                    w.count, w.every
                ),
            );
        } else if !w.every.is_zero() && w.offset + horizon > w.every {
            c.push(
                p.key("offset"),
                format!(
                    "each window ({} from `offset` {}) must end within its period of {}: shorten simulation.duration or the offset",
                    horizon, w.offset, w.every
                ),
            );
        }
        (c.0.len() == before).then_some(WindowPlan {
            every: w.every,
            count: w.count,
            offset: w.offset,
        })
    });

    // [variants.*]
    let mut variants = Vec::with_capacity(raw.variants.len());
    for (name, v) in raw.variants {
        let p = root.key("variants").key(&name);
        check_name("variant", &name, &p, &mut c);
        if v.set.is_empty() {
            c.push(p.key("set"), "a variant needs at least one override");
        }
        for (i, s) in v.set.iter().enumerate() {
            if let Err(m) = crate::Override::parse(s) {
                c.push(p.key("set").index(i), m);
            }
        }
        variants.push(Variant {
            name,
            description: v.description,
            set: v.set,
        });
    }

    if !c.is_empty() {
        return Err(c.0);
    }
    let name = raw.scenario.name;
    Ok(Scenario {
        platform: PlatformConfig {
            name: name.clone(),
            horizon,
            warmup: sim.warmup,
            series_interval: sim.interval,
            classes,
            tiers: tier_configs,
            failures,
            slos,
            traffic,
            regions,
        },
        name,
        description: raw.scenario.description,
        seed: sim.seed,
        replications: sim.replications,
        start_s,
        windows,
        variants,
    })
}

//! Raw scenario → validated [`Scenario`]. Every check names the field it
//! concerns; all problems found are reported together, not just the first.
//!
//! ```text
//!   [scenario] [simulation]   simulation.rs    names, run length, start
//!   [cost]                    cost.rs          scenario-wide prices
//!   [geo] [regions.*]         regions.rs       where users are, tiers run
//!   [tiers.*]                 tier_set.rs      each tier (tiers.rs by kind,
//!                                              external.rs,
//!                                              cost.rs, scaling.rs), then
//!                                              a copy per region
//!   [workload] [classes.*]    workload.rs      rates, profiles (profile.rs),
//!                             classes.rs       clients, routes (route.rs)
//!   [[failures]]              failures.rs      targets, action, timing
//!   [[slos]]                  slo.rs
//!   [windows] [variants.*]    windows.rs, here
//!   [[expectations]]          claims.rs        what the source expects,
//!   [[assumptions]]                            what it does not give
//! ```

pub mod claims;
pub mod classes;
pub mod cost;
pub mod external;
pub mod failures;
pub mod limits;
pub mod profile;
pub mod regions;
pub mod route;
pub mod scaling;
pub mod simulation;
pub mod slo;
pub mod tier_set;
pub mod tiers;
pub mod values;
pub mod windows;
pub mod workload;

use capsim_models::windows::WindowPlan;
use capsim_models::{Assumption, Expectation, PlatformConfig};
use indexmap::IndexMap;
use std::path::Path;

use crate::catalogue::{self, Catalogue};
use crate::error::FieldPath;
use crate::raw::{RawScenario, RawVariant};
use tiers::Checks;
pub use values::{Problem, build_dist, serde_problem};

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
    /// The variant this scenario was loaded with (see [`crate::Source::load_variant`]).
    pub variant: Option<String>,
    /// What the source document expects of the results.
    pub expectations: Vec<Expectation>,
    /// Inputs the source document does not give, with their values here.
    pub assumptions: Vec<Assumption>,
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

    /// Window `window` (from 1) of a scenario run in `[windows]`, as a
    /// scenario of one horizon: the window's traffic (its seed, as the chain
    /// draws it) and platform, caches warm after the first window as in the
    /// chain. It starts from the scenario's fleet, where the chain's later
    /// windows start from the fleet the one before ended with. `None` keeps
    /// a scenario without windows as it is; a windowed one needs a window.
    pub fn one_window(mut self, window: Option<u32>) -> Result<Scenario, String> {
        let Some(plan) = self.windows else {
            return match window {
                Some(_) => Err(format!(
                    "--window: {} has no [windows]: it runs one horizon",
                    self.name
                )),
                None => Ok(self),
            };
        };
        let n = plan.count;
        let k = match window {
            Some(k) if (1..=n).contains(&k) => k - 1,
            Some(k) => {
                return Err(format!(
                    "--window {k}: {} runs {n} windows, numbered 1 to {n}",
                    self.name
                ));
            }
            None => {
                return Err(format!(
                    "{} runs in [windows] ({n} windows of {} every {}): choose one with --window K (1 to {n})",
                    self.name, self.platform.horizon, plan.every
                ));
            }
        };
        let at = plan.start_of(k);
        let units = vec![None; self.platform.tiers.len()];
        self.platform = capsim_models::windows::window_config(&self.platform, at, &units, k == 0);
        self.seed = capsim_models::windows::window_seed(self.seed, k);
        self.start_s += at.as_secs_f64() as i64;
        self.windows = None;
        // They judge the chain's windows.json; one window writes summary.json.
        self.expectations.clear();
        Ok(self)
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

pub(crate) fn check_name(what: &str, name: &str, path: &FieldPath, c: &mut Checks) {
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
///
/// The steps run in file order of concern; each adds its problems to one
/// list, and a step whose inputs are broken skips what depends on them.
pub fn build(raw: RawScenario, dir: Option<&Path>) -> Result<Scenario, Vec<Problem>> {
    let RawScenario {
        scenario,
        simulation: sim,
        workload: raw_workload,
        classes: raw_classes,
        tiers: raw_tiers,
        failures: raw_failures,
        slos: raw_slos,
        cost: raw_cost,
        windows: raw_windows,
        variants: raw_variants,
        geo: raw_geo,
        regions: raw_regions,
        expectations: raw_expectations,
        assumptions: raw_assumptions,
    } = raw;
    let mut c = Checks::default();
    let root = FieldPath::root();

    // [scenario], [simulation]
    check_name(
        "scenario",
        &scenario.name,
        &root.key("scenario").key("name"),
        &mut c,
    );
    let start_s = simulation::check(&sim, &root.key("simulation"), &mut c);
    let horizon = sim.duration;

    // [cost]: the catalogue, then scenario-wide prices defaulting to its.
    // Without its catalogue nothing can be priced: stop at its problem.
    let chosen = match raw_cost.as_ref().and_then(|r| r.catalogue.as_deref()) {
        None => catalogue::Chosen::Bundled(Catalogue::bundled()),
        Some(name) => match catalogue::choose(name, dir) {
            Ok(chosen) => chosen,
            Err(message) => {
                c.push(root.key("cost").key("catalogue"), message);
                return Err(c.0);
            }
        },
    };
    let cat = chosen.get();
    // Regions written but invalid have their own messages: fields naming a
    // region are then not checked against them.
    let regions_written = raw_geo.is_some() || !raw_regions.is_empty();
    let prices = cost::scenario_prices(
        raw_cost.as_ref(),
        &root.key("cost"),
        cat,
        regions_written,
        &mut c,
    );

    // [geo], [regions.*]: checked against the tiers' names and kinds.
    let names = tier_set::TierNames::of(&raw_tiers, &root.key("tiers"), &mut c);
    let geo = regions::parse(raw_geo, raw_regions, &root, &names.all, &names.api, &mut c);

    // [tiers.*], then a copy of each regional tier per region.
    let builder = tier_set::TierBuilder {
        cat,
        load_balancer_per_hour: prices.load_balancer_per_hour,
        horizon: *horizon,
    };
    let tiers = tier_set::build_tiers(
        raw_tiers,
        &root.key("tiers"),
        geo.as_ref(),
        &builder,
        &mut c,
    );
    let workload_path = root.key("workload");
    let workload_rate = workload::rate(raw_workload.as_ref(), &workload_path, &mut c);
    let expanded = tier_set::expand_regions(&tiers, geo.as_ref(), &builder, &root, &mut c);

    // [workload], [classes.*]
    let calendar = profile::ProfileContext {
        horizon: *horizon,
        start_s,
        base_rate: None,
        dir,
        utc_offset_s: 0,
    };
    let workload = workload::profile(
        raw_workload,
        workload_rate,
        &workload_path,
        &calendar,
        &mut c,
    );
    let scope = classes::Scope {
        root: &root,
        workload: &workload,
        calendar: &calendar,
        tiers: &tiers,
        expanded: expanded.as_ref(),
        geo: geo.as_ref(),
    };
    let (classes, class_names) = classes::build_classes(raw_classes, &scope, &mut c);

    // [[failures]]
    let failures = failures::build_failures(
        raw_failures,
        &root.key("failures"),
        &failures::Scope {
            all_tiers: expanded.as_ref().map_or(&tiers.configs, |e| &e.0),
            names: &names.all,
            broken: &tiers.broken,
            geo: geo.as_ref(),
            regions_written,
            horizon: *horizon,
        },
        &mut c,
    );

    // [[slos]]
    let (tier_configs, regions) = match expanded {
        Some((tiers, _, regions)) => (tiers, Some(regions)),
        None => (tiers.configs, None),
    };
    let slos = slo::build_slos(
        raw_slos,
        &root.key("slos"),
        &classes,
        &class_names,
        &tier_configs,
        &tiers.broken,
        geo.as_ref().ok_or(regions_written),
        *horizon,
        &mut c,
    );

    // [windows], [variants.*]
    let windows = windows::plan_run(raw_windows.as_ref(), &root, start_s, *horizon, &mut c);
    let variants = build_variants(raw_variants, &root.key("variants"), &mut c);
    claims::check_assumptions(&raw_assumptions, &root.key("assumptions"), &mut c);

    if !c.is_empty() {
        return Err(c.0);
    }
    let name = scenario.name;
    let mut platform = PlatformConfig {
        name: name.clone(),
        horizon: *horizon,
        warmup: *sim.warmup,
        series_interval: *sim.interval,
        classes,
        tiers: tier_configs,
        failures,
        slos,
        traffic: prices.traffic,
        regions,
    };
    closed_rates(&mut platform, &root, &mut c);
    let variant_names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
    let expectations = claims::build_expectations(
        raw_expectations,
        &root.key("expectations"),
        &platform,
        windows.is_some(),
        &variant_names,
        &mut c,
    );
    if !c.is_empty() {
        return Err(c.0);
    }
    let assumptions = raw_assumptions
        .into_iter()
        .map(|a| Assumption {
            input: a.input,
            value: String::new(),
            why: a.why,
        })
        .collect();
    Ok(Scenario {
        variant: None,
        expectations,
        assumptions,
        platform,
        name,
        description: scenario.description,
        seed: sim.seed,
        replications: sim.replications,
        start_s,
        windows,
        variants,
    })
}

/// Gives each closed class the most its users can ask (what the capacity
/// check and the cost estimate assume), or an error where nothing bounds
/// it: no think time and a route that takes no time would ask without end.
fn closed_rates(platform: &mut PlatformConfig, root: &FieldPath, c: &mut Checks) {
    let bounds = capsim_models::laws::closed_rate_bounds(platform);
    for (class, bound) in platform.classes.iter_mut().zip(bounds) {
        match bound {
            Some(x) => class.arrivals.rate_per_s = x,
            None if class.arrivals.closed.is_some() => {
                let name = class.name.split('@').next().unwrap_or(&class.name);
                c.push(
                    root.key("classes").key(name).key("think"),
                    "with no think time and a route that takes no time, this class's users would ask without end: give them a think time above 0",
                );
            }
            None => {}
        }
    }
}

/// `[variants.*]`: named override sets, checked for shape only (they are
/// applied before validation).
fn build_variants(
    raw: IndexMap<String, RawVariant>,
    path: &FieldPath,
    c: &mut Checks,
) -> Vec<Variant> {
    let mut variants = Vec::with_capacity(raw.len());
    for (name, v) in raw {
        let p = path.key(&name);
        check_name("variant", &name, &p, c);
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
    variants
}

//! Raw scenario → validated [`Scenario`]. Every check names the field it
//! concerns; all problems found are reported together, not just the first.

use capsim_models::{
    Arrivals, ClassConfig, PlatformConfig, StationConfig, Step, TierConfig, TierKind,
};
use serde::de::DeserializeOwned;
use sim_engine::{Dist, DistError, SimDuration};

use crate::error::{FieldPath, Segment};
use crate::raw::{RawScenario, RawStation, dist};

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub replications: u64,
    pub platform: PlatformConfig,
}

/// A problem at a field.
pub type Problem = (FieldPath, String);

pub const TIER_KINDS: &[&str] = &["station"];
pub const DIST_FAMILIES: &[&str] = &[
    "exponential",
    "deterministic",
    "uniform",
    "lognormal",
    "gamma",
    "erlang",
    "hyperexponential",
    "weibull",
    "pareto",
    "empirical",
];

/// Limits that keep a run meaningful and its numbers in range.
pub const MAX_REPLICATIONS: u64 = 100_000;
const MAX_NAME_LEN: usize = 64;

/// Turns a serde error found under `base` into a problem at the full path.
pub(crate) fn serde_problem(
    base: &FieldPath,
    err: serde_path_to_error::Error<toml::de::Error>,
) -> Problem {
    let mut path = base.clone();
    for seg in err.path().iter() {
        match seg {
            serde_path_to_error::Segment::Map { key } => path.0.push(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => path.0.push(Segment::Index(*index)),
            serde_path_to_error::Segment::Enum { variant } => {
                path.0.push(Segment::Key(variant.clone()))
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = err.inner().message().trim().to_string();
    // Point an unknown key at itself rather than at its table.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(end) = rest.find('`')
    {
        path.0.push(Segment::Key(rest[..end].to_string()));
    }
    (path, message)
}

fn decode<T: DeserializeOwned>(table: toml::Table, path: &FieldPath) -> Result<T, Problem> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| serde_problem(path, e))
}

/// Splits the tag (`kind`, `dist`) off a tagged table.
fn split_tag(
    mut table: toml::Table,
    tag: &str,
    allowed: &[&str],
    path: &FieldPath,
) -> Result<(String, toml::Table), Problem> {
    let list = allowed.join(", ");
    match table.remove(tag) {
        Some(toml::Value::String(s)) if allowed.contains(&s.as_str()) => Ok((s, table)),
        Some(toml::Value::String(s)) => Err((
            path.key(tag),
            format!("unknown {tag} \"{s}\" (expected one of: {list})"),
        )),
        Some(other) => Err((
            path.key(tag),
            format!(
                "`{tag}` must be a string, one of: {list} (got {})",
                other.type_str()
            ),
        )),
        None => Err((path.clone(), format!("missing `{tag}` (one of: {list})"))),
    }
}

fn dist_problem(path: &FieldPath, e: DistError) -> Problem {
    let field = match &e {
        DistError::NotPositive { param, .. }
        | DistError::Negative { param, .. }
        | DistError::NotFinite { param, .. } => Some(*param),
        DistError::UniformRange { .. } => Some("max"),
        DistError::LognormalP99BelowMean { .. } | DistError::LognormalP99TooFar { .. } => {
            Some("p99")
        }
        DistError::ErlangK => Some("k"),
        DistError::ParetoShape(_) => Some("shape"),
        DistError::HyperNoBranches | DistError::HyperProbSum(_) => Some("branches"),
        DistError::EmpiricalEmpty => Some("samples"),
    };
    let path = match field {
        Some(f) => path.key(f),
        None => path.clone(),
    };
    (path, e.to_string())
}

/// Builds a distribution from a table tagged by `dist`. Durations are in
/// seconds inside the model.
pub fn build_dist(table: toml::Table, path: &FieldPath) -> Result<Dist, Problem> {
    let (family, rest) = split_tag(table, "dist", DIST_FAMILIES, path)?;
    let s = |d: SimDuration| d.as_secs_f64();
    let made = match family.as_str() {
        "exponential" => {
            let p: dist::Exponential = decode(rest, path)?;
            Dist::exponential(s(p.mean))
        }
        "deterministic" => {
            let p: dist::Deterministic = decode(rest, path)?;
            Dist::deterministic(s(p.value))
        }
        "uniform" => {
            let p: dist::Uniform = decode(rest, path)?;
            Dist::uniform(s(p.min), s(p.max))
        }
        "lognormal" => {
            let p: dist::Lognormal = decode(rest, path)?;
            match (p.mean, p.p99, p.mu, p.sigma) {
                (Some(mean), Some(p99), None, None) => {
                    Dist::lognormal_from_mean_p99(s(mean), s(p99))
                }
                (None, None, Some(mu), Some(sigma)) => Dist::lognormal(mu, sigma),
                _ => {
                    return Err((
                        path.clone(),
                        "a lognormal needs either `mean` and `p99` (durations) or `mu` and `sigma` (of ln X, X in seconds), not a mix".into(),
                    ));
                }
            }
        }
        "gamma" => {
            let p: dist::Gamma = decode(rest, path)?;
            Dist::gamma_with_mean(p.shape, s(p.mean))
        }
        "erlang" => {
            let p: dist::Erlang = decode(rest, path)?;
            Dist::erlang(p.k, s(p.mean))
        }
        "hyperexponential" => {
            let p: dist::Hyperexponential = decode(rest, path)?;
            for (i, b) in p.branches.iter().enumerate() {
                if !(b.p.is_finite() && (0.0..=1.0).contains(&b.p)) {
                    return Err((
                        path.key("branches").index(i).key("p"),
                        format!("a probability must be between 0 and 1 (got {})", b.p),
                    ));
                }
            }
            let branches: Vec<(f64, f64)> = p.branches.iter().map(|b| (b.p, s(b.mean))).collect();
            Dist::hyperexponential(&branches)
        }
        "weibull" => {
            let p: dist::Weibull = decode(rest, path)?;
            Dist::weibull(p.shape, s(p.scale))
        }
        "pareto" => {
            let p: dist::Pareto = decode(rest, path)?;
            Dist::pareto(p.shape, s(p.scale))
        }
        "empirical" => {
            let p: dist::Empirical = decode(rest, path)?;
            let xs: Vec<f64> = p.samples.iter().map(|d| s(*d)).collect();
            Dist::empirical(&xs)
        }
        _ => unreachable!("split_tag checked the family"),
    };
    made.map_err(|e| dist_problem(path, e))
}

fn check_name(what: &str, name: &str, path: &FieldPath, problems: &mut Vec<Problem>) {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        problems.push((
            path.clone(),
            format!(
                "{what} name \"{name}\" must be 1 to {MAX_NAME_LEN} letters, digits, '-' or '_' (it becomes a JSON key and a CSV value)"
            ),
        ));
    }
}

fn build_station(table: toml::Table, path: &FieldPath) -> Result<StationConfig, Vec<Problem>> {
    let raw: RawStation = decode(table, path).map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    if raw.servers == 0 {
        problems.push((path.key("servers"), "must be at least 1".into()));
    }
    if let Some(k) = raw.capacity
        && k < raw.servers
    {
        problems.push((
            path.key("capacity"),
            format!(
                "capacity counts requests in service too, so it must be at least `servers` ({}); got {k}",
                raw.servers
            ),
        ));
    }
    let service = build_dist(raw.service, &path.key("service"));
    match service {
        Ok(service) if problems.is_empty() => Ok(StationConfig {
            servers: raw.servers,
            service,
            capacity: raw.capacity,
        }),
        Ok(_) => Err(problems),
        Err(p) => {
            problems.push(p);
            Err(problems)
        }
    }
}

/// Validates `raw` and builds the scenario, or lists every problem found.
pub fn build(raw: RawScenario) -> Result<Scenario, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    let root = FieldPath::root();

    // [scenario]
    check_name(
        "scenario",
        &raw.scenario.name,
        &root.key("scenario").key("name"),
        &mut problems,
    );

    // [simulation]
    let sim = &raw.simulation;
    let sim_path = root.key("simulation");
    if sim.duration.is_zero() {
        problems.push((sim_path.key("duration"), "must be longer than zero".into()));
    }
    if sim.warmup >= sim.duration && !sim.duration.is_zero() {
        problems.push((
            sim_path.key("warmup"),
            format!(
                "the warm-up ({}) must be shorter than the duration ({}), which includes it",
                sim.warmup, sim.duration
            ),
        ));
    }
    if sim.replications < 2 {
        problems.push((
            sim_path.key("replications"),
            format!(
                "at least 2 replications are needed for a confidence interval (got {})",
                sim.replications
            ),
        ));
    } else if sim.replications > MAX_REPLICATIONS {
        problems.push((
            sim_path.key("replications"),
            format!(
                "at most {MAX_REPLICATIONS} replications (got {})",
                sim.replications
            ),
        ));
    }

    // [tiers.*]
    let tiers_path = root.key("tiers");
    if raw.tiers.is_empty() {
        problems.push((tiers_path.clone(), "define at least one tier".into()));
    }
    if raw.tiers.len() > u16::MAX as usize {
        problems.push((tiers_path.clone(), "too many tiers".into()));
    }
    let tier_names: Vec<String> = raw.tiers.keys().cloned().collect();
    let mut tiers = Vec::with_capacity(raw.tiers.len());
    for (name, table) in raw.tiers {
        let path = tiers_path.key(&name);
        check_name("tier", &name, &path, &mut problems);
        let kind = match split_tag(table, "kind", TIER_KINDS, &path) {
            Ok((kind, rest)) => match kind.as_str() {
                "station" => build_station(rest, &path).map(TierKind::Station),
                _ => unreachable!("split_tag checked the kind"),
            },
            Err(p) => Err(vec![p]),
        };
        match kind {
            Ok(kind) => tiers.push(TierConfig { name, kind }),
            Err(ps) => problems.extend(ps),
        }
    }

    // [classes.*]
    let classes_path = root.key("classes");
    if raw.classes.is_empty() {
        problems.push((
            classes_path.clone(),
            "define at least one request class (the class mix is empty)".into(),
        ));
    }
    if raw.classes.len() > u16::MAX as usize {
        problems.push((classes_path.clone(), "too many classes".into()));
    }
    let mut classes = Vec::with_capacity(raw.classes.len());
    for (name, class) in raw.classes {
        let path = classes_path.key(&name);
        check_name("class", &name, &path, &mut problems);
        if !(class.rate_per_s.is_finite() && class.rate_per_s > 0.0) {
            problems.push((
                path.key("rate_per_s"),
                format!(
                    "the arrival rate must be a number above zero, in requests per second (got {})",
                    class.rate_per_s
                ),
            ));
        }
        let route_path = path.key("route");
        if class.route.is_empty() {
            problems.push((route_path.clone(), "a route needs at least one step".into()));
        }
        if class.route.len() > u16::MAX as usize {
            problems.push((route_path.clone(), "too many steps".into()));
        }
        let mut route = Vec::with_capacity(class.route.len());
        for (i, step) in class.route.into_iter().enumerate() {
            let step_path = route_path.index(i);
            let tier = match tier_names.iter().position(|t| *t == step.tier) {
                Some(t) => t as u16,
                None => {
                    let known = if tier_names.is_empty() {
                        "no tiers are defined".to_string()
                    } else {
                        format!("tiers: {}", tier_names.join(", "))
                    };
                    let field = if step.demand.is_some() {
                        step_path.key("tier")
                    } else {
                        step_path.clone()
                    };
                    problems.push((field, format!("no tier named \"{}\" ({known})", step.tier)));
                    continue;
                }
            };
            let demand = match step.demand {
                Some(t) => match build_dist(t, &step_path.key("demand")) {
                    Ok(d) => Some(d),
                    Err(p) => {
                        problems.push(p);
                        continue;
                    }
                },
                None => None,
            };
            route.push(Step { tier, demand });
        }
        classes.push(ClassConfig {
            name,
            arrivals: Arrivals::Poisson {
                rate_per_s: class.rate_per_s,
            },
            route,
        });
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Scenario {
        name: raw.scenario.name,
        description: raw.scenario.description,
        seed: sim.seed,
        replications: sim.replications,
        platform: PlatformConfig {
            name: String::new(),
            horizon: sim.duration,
            warmup: sim.warmup,
            classes,
            tiers,
        },
    })
    .map(|mut s| {
        s.platform.name = s.name.clone();
        s
    })
}

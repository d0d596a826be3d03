//! `[tiers.X.scaling]` → [`ScalingConfig`]: bounds, lifecycle, policies and
//! scheduled actions, each checked against the tier's kind.

use capsim_models::{
    Change, Metric, ScalingConfig, ScalingPolicy, ScheduledAction, StepAdjustment, StepPolicy,
    TargetTracking, Termination, TierKind, tier::ScalingFacts,
};
use sim_engine::{SimDuration, parse_duration};

use super::limits;
use super::tiers::Checks;
use super::values::{Problem, choice, decode, split_tag};
use crate::error::FieldPath;
use crate::raw::{Duration, RawScaling, RawScheduled, RawStepPolicy, RawTargetPolicy};

pub const POLICY_TYPES: &[&str] = &["step", "target"];

/// Parses a metric name: one of the kind's, `latency_pNN` for a quantile.
fn metric(
    name: &str,
    unit: &ScalingFacts,
    kind: &str,
    path: &FieldPath,
) -> Result<Metric, Problem> {
    let m = match name {
        "cpu" => Some(Metric::Cpu),
        "request_rate" => Some(Metric::RequestRate),
        "queue_depth" => Some(Metric::QueueDepth),
        "backlog_per_worker" => Some(Metric::BacklogPerWorker),
        "pool_utilization" => Some(Metric::PoolUtilization),
        "read_write_ratio" => Some(Metric::ReadWriteRatio),
        "dataset_to_memory" => Some(Metric::DatasetToMemory),
        "memory" => Some(Metric::Memory),
        other => match other.strip_prefix("latency_p").map(str::parse::<f64>) {
            Some(Ok(p)) if p > 0.0 && p < 100.0 => Some(Metric::Latency {
                quantile: p / 100.0,
            }),
            Some(_) => {
                return Err((
                    path.clone(),
                    format!(
                        "\"{other}\": a latency metric names a percentile above 0 and below 100, e.g. latency_p95 or latency_p99.9"
                    ),
                ));
            }
            None => None,
        },
    };
    let family = match m {
        Some(Metric::Latency { .. }) => "latency_pNN".to_string(),
        Some(_) => name.to_string(),
        None => String::new(),
    };
    match m {
        Some(m) if unit.metrics.contains(&family.as_str()) => Ok(m),
        _ => Err((
            path.clone(),
            format!(
                "unknown metric \"{name}\" for {kind} tiers (their metrics: {})",
                unit.metrics.join(", ")
            ),
        )),
    }
}

/// A threshold or target: a number, or for latency metrics a duration (kept
/// in milliseconds).
fn level(v: &toml::Value, m: Metric, path: &FieldPath) -> Result<f64, Problem> {
    let latency = matches!(m, Metric::Latency { .. });
    match (v, latency) {
        (toml::Value::String(s), true) => parse_duration(s)
            .map(|d| d.as_millis_f64())
            .map_err(|e| (path.clone(), format!("{e}"))),
        (toml::Value::Integer(_) | toml::Value::Float(_), true) => Err((
            path.clone(),
            "a latency is a duration, e.g. \"500ms\"".to_string(),
        )),
        // Utilisations are fractions: 70 meant as 70 % would never be reached.
        (toml::Value::Integer(_) | toml::Value::Float(_), false)
            if matches!(m, Metric::Cpu | Metric::PoolUtilization | Metric::Memory)
                && !v
                    .as_float()
                    .or(v.as_integer().map(|i| i as f64))
                    .is_some_and(|f| (0.0..=1.0).contains(&f)) =>
        {
            Err((
                path.clone(),
                format!(
                    "{} is a fraction from 0 to 1 (0.7 = 70 %), got {v}",
                    m.label()
                ),
            ))
        }
        (toml::Value::Integer(i), false) => Ok(*i as f64),
        (toml::Value::Float(f), false) if f.is_finite() => Ok(*f),
        (other, false) => Err((
            path.clone(),
            format!(
                "expected a number for metric {} (got {})",
                m.label(),
                other.type_str()
            ),
        )),
        (other, true) => Err((
            path.clone(),
            format!(
                "expected a duration such as \"500ms\" (got {})",
                other.type_str()
            ),
        )),
    }
}

/// A change: whole units, or a percentage such as "50%" or "-25%".
fn change(v: &toml::Value, path: &FieldPath) -> Result<Change, Problem> {
    match v {
        toml::Value::Integer(i) if *i != 0 && i.unsigned_abs() <= 100_000 => {
            Ok(Change::Units(*i as i32))
        }
        toml::Value::String(s) => match s.trim().strip_suffix('%').map(|n| n.trim().parse::<f64>())
        {
            Some(Ok(p)) if p.is_finite() && p != 0.0 && p.abs() <= 10_000.0 => {
                Ok(Change::Percent(p))
            }
            _ => Err((
                path.clone(),
                format!("\"{s}\" is not a percentage change; write e.g. \"50%\" or \"-25%\""),
            )),
        },
        other => Err((
            path.clone(),
            format!(
                "a change is a non-zero whole number of units, or a percentage such as \"50%\" (got {other})"
            ),
        )),
    }
}

fn positive(v: Change) -> bool {
    match v {
        Change::Units(n) => n > 0,
        Change::Percent(p) => p > 0.0,
    }
}

/// Periods are whole seconds so that the common metrics tick (their greatest
/// common divisor) stays at a second or more.
fn period(d: SimDuration, horizon: SimDuration, path: &FieldPath, c: &mut Checks) {
    if d.is_zero() || !d.as_nanos().is_multiple_of(1_000_000_000) {
        c.push(
            path.clone(),
            format!("a period is a whole number of seconds, at least 1 s (got {d})"),
        );
    } else if d > horizon {
        c.push(
            path.clone(),
            format!("the period {d} is longer than the run ({horizon})"),
        );
    }
}

/// The most units a tier of this kind may have (shards of a cache,
/// replicas of a database, instances or workers otherwise).
fn max_units(kind_name: &str) -> u32 {
    match kind_name {
        "cache" => limits::SHARDS,
        "database" => limits::REPLICAS,
        _ => limits::UNITS,
    }
}

/// `max` and the lists within their limits.
fn check_sizes(
    raw: &RawScaling,
    kind_name: &str,
    unit: &ScalingFacts,
    path: &FieldPath,
    c: &mut Checks,
) {
    let most = max_units(kind_name);
    if raw.max > most {
        c.push(
            path.key("max"),
            format!("at most {most} {} (got {})", unit.unit.many, raw.max),
        );
    }
    c.take(limits::list(
        &raw.policies,
        limits::LIST,
        &path.key("policies"),
    ));
    c.take(limits::list(
        &raw.schedule,
        limits::LIST,
        &path.key("schedule"),
    ));
}

pub fn build_scaling(
    raw: RawScaling,
    kind: &TierKind,
    kind_name: &str,
    path: &FieldPath,
    horizon: SimDuration,
) -> Result<ScalingConfig, Vec<Problem>> {
    let mut c = Checks::default();
    let (Some(unit), Some(initial)) = (
        kind.kind().vocabulary().scaling.as_ref(),
        kind.scaled_units(),
    ) else {
        return Err(vec![(
            path.clone(),
            format!("{kind_name} tiers do not scale (api, workers, database and cache tiers do)"),
        )]);
    };
    if raw.min < unit.least {
        c.push(
            path.key("min"),
            format!(
                "{kind_name} tiers keep at least {} {}",
                unit.least, unit.unit.many
            ),
        );
    }
    if raw.max < raw.min.max(1) {
        c.push(
            path.key("max"),
            format!("`max` must be at least `min` ({}) and at least 1", raw.min),
        );
    }
    check_sizes(&raw, kind_name, unit, path, &mut c);
    if (initial < raw.min || initial > raw.max) && raw.max >= raw.min {
        c.push(
            path.clone(),
            format!(
                "the tier starts with {} {} (its `{}`), outside min {} .. max {}",
                initial, unit.unit.many, unit.unit.many, raw.min, raw.max
            ),
        );
    }
    if let Some(d) = raw.drain_timeout
        && d.is_zero()
    {
        c.push(
            path.key("drain_timeout"),
            "must be longer than zero: in-flight work needs time to finish",
        );
    }
    let termination = match raw.termination.as_deref() {
        None => Some(Termination::NewestFirst),
        Some(t) => c
            .take(choice(
                t,
                &["newest_first", "oldest_first"],
                &path.key("termination"),
            ))
            .map(|t| {
                if t == "newest_first" {
                    Termination::NewestFirst
                } else {
                    Termination::OldestFirst
                }
            }),
    };

    let cx = PolicyContext {
        unit,
        kind_name,
        kind,
        horizon,
    };
    let mut policies = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (i, table) in raw.policies.into_iter().enumerate() {
        let pp = path.key("policies").index(i);
        let Some((ty, rest)) = c.take(split_tag(table, "type", POLICY_TYPES, &pp)) else {
            continue;
        };
        let policy = if ty == "step" {
            let Some(raw) = c.take(decode::<RawStepPolicy>(rest, &pp)) else {
                continue;
            };
            step_policy(raw, &cx, &pp, i, &mut c).map(ScalingPolicy::Step)
        } else {
            let Some(raw) = c.take(decode::<RawTargetPolicy>(rest, &pp)) else {
                continue;
            };
            target_policy(raw, &cx, &pp, i, &mut c).map(ScalingPolicy::Target)
        };
        if let Some(p) = policy {
            if names.iter().any(|n| n == p.name()) {
                c.push(
                    pp.key("name"),
                    format!("another policy of this tier is named \"{}\"", p.name()),
                );
            }
            names.push(p.name().to_string());
            policies.push(p);
        }
    }

    let scheduled = scheduled_actions(
        &raw.schedule,
        (raw.min, raw.max),
        unit,
        kind_name,
        path,
        horizon,
        &mut c,
    );

    match termination {
        Some(termination) if c.is_empty() => Ok(ScalingConfig {
            min: raw.min,
            max: raw.max,
            boot: raw.boot.map_or(unit.boot, Duration::get),
            warmup: raw.warmup.map_or(unit.warmup, Duration::get),
            // An ALB's default deregistration delay.
            drain_timeout: raw
                .drain_timeout
                .map_or(SimDuration::from_secs(300), Duration::get),
            termination,
            policies,
            scheduled,
        }),
        _ => Err(c.0),
    }
}

/// Scheduled actions, in time order; bounds must stay consistent.
fn scheduled_actions(
    schedule: &[RawScheduled],
    (mut min, mut max): (u32, u32),
    unit: &ScalingFacts,
    kind_name: &str,
    path: &FieldPath,
    horizon: SimDuration,
    c: &mut Checks,
) -> Vec<ScheduledAction> {
    let mut scheduled: Vec<ScheduledAction> = Vec::new();
    let mut order: Vec<usize> = (0..schedule.len()).collect();
    order.sort_by_key(|&i| schedule[i].at);
    for &i in &order {
        let a = &schedule[i];
        let sp = path.key("schedule").index(i);
        if a.min.is_none() && a.max.is_none() && a.desired.is_none() {
            c.push(
                sp.clone(),
                "a scheduled action sets `min`, `max` or `desired`",
            );
            continue;
        }
        if a.at >= horizon {
            c.push(
                sp.key("at"),
                format!("{} is not before the end of the run ({horizon})", a.at),
            );
            continue;
        }
        min = a.min.unwrap_or(min);
        max = a.max.unwrap_or(max);
        if min < unit.least {
            c.push(
                sp.key("min"),
                format!(
                    "{kind_name} tiers keep at least {} {}",
                    unit.least, unit.unit.many
                ),
            );
        }
        let most = max_units(kind_name);
        if max < min || max == 0 || max > most {
            c.push(
                sp.clone(),
                format!("after this action min is {min} and max {max}: max must be at least min, 1 and at most {most}"),
            );
        }
        if let Some(d) = a.desired
            && (d < min || d > max)
        {
            c.push(
                sp.key("desired"),
                format!("desired {d} is outside min {min} .. max {max} at that time"),
            );
        }
    }
    for i in order {
        let a = &schedule[i];
        scheduled.push(ScheduledAction {
            at: *a.at,
            min: a.min,
            max: a.max,
            desired: a.desired,
        });
    }
    scheduled
}

fn check_metric_needs(m: Metric, kind: &TierKind, path: &FieldPath, c: &mut Checks) {
    if m == Metric::Memory
        && let TierKind::Api(api) = kind
        && api.memory.is_none()
    {
        c.push(
            path.clone(),
            "the memory metric needs the tier's memory model: give `memory_base` and/or `memory_per_request`",
        );
    }
    if m == Metric::DatasetToMemory
        && let TierKind::Cache(cache) = kind
        && cache.sizing.is_none()
    {
        c.push(
            path.clone(),
            "dataset_to_memory needs the cache's `working_set` (and `memory` or an `instance_type`)",
        );
    }
}

/// What every policy of one tier is checked against.
struct PolicyContext<'a> {
    unit: &'a ScalingFacts,
    kind_name: &'a str,
    kind: &'a TierKind,
    horizon: SimDuration,
}

impl PolicyContext<'_> {
    /// The policy's metric, if the tier's kind offers it and has what it
    /// needs.
    fn metric(&self, name: &str, pp: &FieldPath, c: &mut Checks) -> Option<Metric> {
        let m = c.take(metric(name, self.unit, self.kind_name, &pp.key("metric")))?;
        check_metric_needs(m, self.kind, &pp.key("metric"), c);
        Some(m)
    }
}

fn step_policy(
    raw: RawStepPolicy,
    cx: &PolicyContext<'_>,
    pp: &FieldPath,
    i: usize,
    c: &mut Checks,
) -> Option<StepPolicy> {
    let before = c.0.len();
    let m = cx.metric(&raw.metric, pp, c)?;
    let (above, threshold) = match (&raw.above, &raw.below) {
        (Some(v), None) => (true, c.take(level(v, m, &pp.key("above")))),
        (None, Some(v)) => (false, c.take(level(v, m, &pp.key("below")))),
        _ => {
            c.push(
                pp.clone(),
                "a step policy gives one threshold: `above` (a scale-out rule) or `below` (a scale-in rule)",
            );
            (true, None)
        }
    };
    let direction = if above { "above" } else { "below" };
    if let Some(steps) = &raw.steps {
        c.take(limits::list(steps, limits::LIST, &pp.key("steps")));
    }
    let period_d = raw.period.map_or(SimDuration::from_secs(60), Duration::get);
    period(period_d, cx.horizon, &pp.key("period"), c);
    let m_periods = raw.evaluation_periods.unwrap_or(1);
    let n = raw.datapoints.unwrap_or(m_periods);
    if m_periods == 0 || m_periods > 1000 {
        c.push(pp.key("evaluation_periods"), "between 1 and 1000 periods");
    } else if n == 0 || n > m_periods {
        c.push(
            pp.key("datapoints"),
            format!("N of M: between 1 and evaluation_periods ({m_periods})"),
        );
    }
    let mut steps = Vec::new();
    match (&raw.change, &raw.steps) {
        (Some(v), None) => {
            if let Some(ch) = c.take(change(v, &pp.key("change"))) {
                steps.push(StepAdjustment {
                    beyond: 0.0,
                    change: ch,
                });
            }
        }
        (None, Some(list)) if !list.is_empty() => {
            for (j, s) in list.iter().enumerate() {
                let sp = pp.key("steps").index(j);
                let beyond = c.take(level(&s.beyond, m, &sp.key("beyond")));
                let ch = c.take(change(&s.change, &sp.key("change")));
                if let (Some(beyond), Some(ch)) = (beyond, ch) {
                    if beyond < 0.0 {
                        c.push(
                            sp.key("beyond"),
                            "a distance past the threshold, at least 0",
                        );
                    }
                    if j == 0 && beyond != 0.0 {
                        c.push(
                            sp.key("beyond"),
                            "the first step starts at the threshold: `beyond = 0`",
                        );
                    }
                    if let Some(prev) = steps.last().map(|s: &StepAdjustment| s.beyond)
                        && beyond <= prev
                    {
                        c.push(sp.key("beyond"), "steps go in increasing order of `beyond`");
                    }
                    steps.push(StepAdjustment { beyond, change: ch });
                }
            }
        }
        _ => c.push(
            pp.clone(),
            "give the change: `change` (one step), or `steps = [{ beyond = 0, change = 1 }, ...]`",
        ),
    }
    for (j, s) in steps.iter().enumerate() {
        if positive(s.change) != above {
            let at = if raw.steps.is_some() {
                pp.key("steps").index(j).key("change")
            } else {
                pp.key("change")
            };
            c.push(
                at,
                format!(
                    "a rule with `{direction}` {} capacity, so its changes must be {}",
                    if above { "adds" } else { "removes" },
                    if above { "positive" } else { "negative" }
                ),
            );
        }
    }
    let name = raw
        .name
        .unwrap_or_else(|| format!("{}-{}-{}", m.label(), direction, i));
    (c.0.len() == before).then(|| StepPolicy {
        name,
        metric: m,
        period: period_d,
        datapoints: n,
        evaluation_periods: m_periods,
        above,
        threshold: threshold.expect("checked"),
        steps,
        // The default cooldown of an Auto Scaling group.
        cooldown: raw
            .cooldown
            .map_or(SimDuration::from_secs(300), Duration::get),
    })
}

fn target_policy(
    raw: RawTargetPolicy,
    cx: &PolicyContext<'_>,
    pp: &FieldPath,
    i: usize,
    c: &mut Checks,
) -> Option<TargetTracking> {
    let before = c.0.len();
    let m = cx.metric(&raw.metric, pp, c)?;
    let target = c.take(level(&raw.target, m, &pp.key("target")));
    if let Some(t) = target
        && t <= 0.0
    {
        c.push(
            pp.key("target"),
            format!("the target must be above zero (got {t})"),
        );
    }
    // The HPA's defaults: 10% tolerance, a 15 s sync period and a 5-minute
    // scale-down stabilisation window.
    let tolerance = raw.tolerance.unwrap_or(0.1);
    if !(tolerance.is_finite() && (0.0..1.0).contains(&tolerance)) {
        c.push(
            pp.key("tolerance"),
            format!("a fraction at least 0 and below 1 (got {tolerance})"),
        );
    }
    let sync = raw.sync.map_or(SimDuration::from_secs(15), Duration::get);
    period(sync, cx.horizon, &pp.key("sync"), c);
    let name = raw
        .name
        .unwrap_or_else(|| format!("{}-target-{}", m.label(), i));
    (c.0.len() == before).then(|| TargetTracking {
        name,
        metric: m,
        target: target.expect("checked"),
        tolerance,
        sync,
        scale_down_window: raw
            .scale_down_window
            .map_or(SimDuration::from_secs(300), Duration::get),
        scale_up_window: raw.scale_up_window.map_or(SimDuration::ZERO, Duration::get),
    })
}

//! Autoscaling: what a tier's scaling policies say, and the autoscaler that
//! runs them ([`Scaler`]). The exact semantics are in `docs/autoscaling.md`.
//!
//! ```text
//!   metrics (every tick) ──► step policies   (N of M datapoints, step, cooldown)
//!                        ──► target tracking (ceil(current × metric / target), tolerance,
//!                                             scale-down stabilisation)
//!   clock ─────────────────► scheduled actions (set min / max / desired)
//!                                   │
//!                                   ▼
//!                desired units ──► launch (boot, warm-up) / drain and terminate
//! ```

use sim_engine::SimDuration;

mod scaler;

pub(crate) use scaler::{Scaler, gcd, tick_of};

/// What a policy measures. Each tier kind offers some of these (checked when
/// the scenario is built).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// API: busy cores / cores of in-service instances (a fraction).
    /// Workers: busy slots / slots of in-service workers.
    Cpu,
    /// API: requests per second per in-service instance.
    RequestRate,
    /// API: this quantile of response time (balancer to leaving the
    /// instance) of requests finished in the period, in ms.
    Latency { quantile: f64 },
    /// API: requests waiting in backlogs; workers: jobs waiting (time-averages).
    QueueDepth,
    /// Workers: jobs waiting per in-service worker (time-average).
    BacklogPerWorker,
    /// Database: connections in use / connections, over in-service nodes.
    PoolUtilization,
    /// Database: reads per write in the period.
    ReadWriteRatio,
    /// Cache: working set / memory of in-service shards.
    DatasetToMemory,
    /// API: memory in use / memory of in-service instances (a fraction).
    Memory,
}

impl Metric {
    pub fn label(&self) -> String {
        match self {
            Metric::Cpu => "cpu".into(),
            Metric::RequestRate => "request_rate".into(),
            Metric::Latency { quantile } => format!("latency_p{}", quantile_label(*quantile)),
            Metric::QueueDepth => "queue_depth".into(),
            Metric::BacklogPerWorker => "backlog_per_worker".into(),
            Metric::PoolUtilization => "pool_utilization".into(),
            Metric::ReadWriteRatio => "read_write_ratio".into(),
            Metric::DatasetToMemory => "dataset_to_memory".into(),
            Metric::Memory => "memory".into(),
        }
    }
}

/// `0.95` → `"95"`, `0.999` → `"99.9"`.
pub fn quantile_label(q: f64) -> String {
    let p = q * 100.0;
    let s = format!("{p:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A change of capacity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    /// Add (positive) or remove (negative) this many units.
    Units(i32),
    /// Change by this percentage of the current desired capacity, rounded as
    /// AWS does: values above 1 round down, between 0 and 1 up to 1, between
    /// −1 and 0 to −1, below −1 toward zero.
    Percent(f64),
}

impl Change {
    /// The change in units from `current` desired units.
    pub fn units(&self, current: u32) -> i64 {
        match *self {
            Change::Units(n) => n as i64,
            Change::Percent(p) => {
                let raw = current as f64 * p / 100.0;
                if raw > 1.0 {
                    raw.floor() as i64
                } else if raw > 0.0 {
                    1
                } else if (-1.0..0.0).contains(&raw) {
                    -1
                } else {
                    raw.ceil() as i64
                }
            }
        }
    }
}

/// One step of a step policy: applies when the datapoint is at least `beyond`
/// past the threshold (in the breaching direction). The step with the largest
/// `beyond` not exceeding the breach applies.
#[derive(Clone, Debug, PartialEq)]
pub struct StepAdjustment {
    pub beyond: f64,
    pub change: Change,
}

/// A CloudWatch-alarm style policy.
#[derive(Clone, Debug, PartialEq)]
pub struct StepPolicy {
    pub name: String,
    pub metric: Metric,
    /// Length of one datapoint (an average, or a quantile, over the period).
    pub period: SimDuration,
    /// N: breaching datapoints needed …
    pub datapoints: u32,
    /// … among the last M.
    pub evaluation_periods: u32,
    /// Breaching means above the threshold (scale-out rules) or below it
    /// (scale-in rules).
    pub above: bool,
    pub threshold: f64,
    /// At least one; sorted by `beyond`, the first at 0.
    pub steps: Vec<StepAdjustment>,
    /// No action while the tier's last scaling action is more recent.
    pub cooldown: SimDuration,
}

/// Target tracking with the Kubernetes HPA rule.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetTracking {
    pub name: String,
    pub metric: Metric,
    pub target: f64,
    /// No change while |metric / target − 1| ≤ tolerance.
    pub tolerance: f64,
    /// How often the rule runs; the metric is averaged over this period.
    pub sync: SimDuration,
    /// Scale-down uses the highest recommendation of this window.
    pub scale_down_window: SimDuration,
    /// Scale-up uses the lowest recommendation of this window (0: none).
    pub scale_up_window: SimDuration,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScalingPolicy {
    Step(StepPolicy),
    Target(TargetTracking),
}

impl ScalingPolicy {
    pub fn name(&self) -> &str {
        match self {
            ScalingPolicy::Step(p) => &p.name,
            ScalingPolicy::Target(p) => &p.name,
        }
    }

    pub fn metric(&self) -> Metric {
        match self {
            ScalingPolicy::Step(p) => p.metric,
            ScalingPolicy::Target(p) => p.metric,
        }
    }

    /// How often it is evaluated.
    pub fn period(&self) -> SimDuration {
        match self {
            ScalingPolicy::Step(p) => p.period,
            ScalingPolicy::Target(p) => p.sync,
        }
    }
}

/// Sets bounds or capacity at a time (pre-warming before a known event).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduledAction {
    pub at: SimDuration,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub desired: Option<u32>,
}

/// Which in-service units scale-in removes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    NewestFirst,
    OldestFirst,
}

/// A tier's autoscaling.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingConfig {
    pub min: u32,
    pub max: u32,
    /// From launch until the unit runs.
    pub boot: SimDuration,
    /// From running until healthy: no traffic, metrics ignored, billed.
    pub warmup: SimDuration,
    /// Longest a draining unit waits for its work before it is terminated and
    /// what remains fails.
    pub drain_timeout: SimDuration,
    pub termination: Termination,
    pub policies: Vec<ScalingPolicy>,
    pub scheduled: Vec<ScheduledAction>,
}

/// How many units a target-tracking rule wants (HPA): the units that
/// produced the metric (`measured`, their time-average in service over the
/// period) scaled by metric / target and rounded up; `current` (the ready
/// count) while within the tolerance or without a metric.
pub fn hpa_desired(current: u32, measured: f64, metric: f64, target: f64, tolerance: f64) -> u32 {
    if !metric.is_finite() || measured <= 0.0 {
        return current;
    }
    let ratio = metric / target;
    if (ratio - 1.0).abs() <= tolerance {
        current
    } else {
        // A tiny epsilon keeps exact products (e.g. 4 × 1.5 = 6.000000001)
        // from rounding up to the next unit.
        (measured * ratio - 1e-9).ceil().max(0.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_changes_round_as_aws_does() {
        assert_eq!(Change::Percent(50.0).units(5), 2); // 2.5 rounds down
        assert_eq!(Change::Percent(10.0).units(5), 1); // 0.5 rounds up to 1
        assert_eq!(Change::Percent(-10.0).units(5), -1); // -0.5 to -1
        assert_eq!(Change::Percent(-50.0).units(5), -2); // -2.5 toward zero
        assert_eq!(Change::Units(-3).units(7), -3);
    }

    #[test]
    fn hpa_formula() {
        // 4 pods at 90% CPU against a 60% target: ceil(4 × 1.5) = 6.
        assert_eq!(hpa_desired(4, 4.0, 0.9, 0.6, 0.1), 6);
        // Within tolerance: no change.
        assert_eq!(hpa_desired(4, 4.0, 0.65, 0.6, 0.1), 4);
        // Scale down: ceil(10 × 0.2 / 0.6) = 4.
        assert_eq!(hpa_desired(10, 10.0, 0.2, 0.6, 0.1), 4);
        assert_eq!(hpa_desired(3, 3.0, f64::NAN, 0.6, 0.1), 3);
        // Units that became ready at the end of the period produced none of
        // the (saturated) metric: 4 measured, 7 ready.
        assert_eq!(hpa_desired(7, 4.0, 1.0, 0.6, 0.1), 7);
    }

    #[test]
    fn labels() {
        assert_eq!(Metric::Latency { quantile: 0.95 }.label(), "latency_p95");
        assert_eq!(quantile_label(0.999), "99.9");
        assert_eq!(quantile_label(0.5), "50");
    }
}

//! The autoscaler of one tier: metric samples in, a desired unit count out.
//!
//! Every metrics tick (the greatest common divisor of all policy periods)
//! the tier contributes one sample per metric its policies use, as a
//! numerator and a denominator, so a policy's period is the sum over its last
//! `period / tick` ticks (latency quantiles come from a histogram per policy
//! instead). Policies are evaluated at multiples of their period. All
//! proposals of one evaluation instant are combined: the largest capacity
//! wins, as with AWS Auto Scaling when several policies trigger at once.
//! `docs/autoscaling.md` states the semantics in full.

use std::collections::VecDeque;

use sim_engine::{CompactHistogram, SimDuration, SimTime};

use crate::scaling::{Metric, ScalingConfig, ScalingPolicy, hpa_desired};

/// A decision to change capacity.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Decision {
    pub to: u32,
    pub reason: String,
}

pub(crate) struct Scaler {
    pub min: u32,
    pub max: u32,
    /// Units wanted (booting or in service).
    pub desired: u32,
    pub last_action: Option<SimTime>,
    tick: SimDuration,
    /// The distinct metrics the policies use, and each policy's index in it.
    metrics: Vec<Metric>,
    metric_of: Vec<usize>,
    /// Per tick, per metric: (numerator, denominator); newest last.
    samples: VecDeque<Vec<(f64, f64)>>,
    keep: usize,
    /// Step policies: breaching flags of the last M datapoints.
    history: Vec<VecDeque<bool>>,
    /// Target tracking: recent recommendations (time, units).
    recommendations: Vec<VecDeque<(SimTime, u32)>>,
    /// Latency policies: response times since the policy last ran.
    latency: Vec<Option<CompactHistogram>>,
}

/// The greatest common divisor of the policies' periods: the metrics tick.
pub(crate) fn tick_of(cfg: &ScalingConfig) -> Option<SimDuration> {
    cfg.policies
        .iter()
        .map(|p| p.period().as_nanos())
        .reduce(gcd)
        .map(SimDuration::from_nanos)
}

pub(crate) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Scaler {
    pub fn new(cfg: &ScalingConfig, initial: u32, tick: SimDuration) -> Self {
        let mut metrics: Vec<Metric> = Vec::new();
        let mut metric_of = Vec::with_capacity(cfg.policies.len());
        for p in &cfg.policies {
            let m = p.metric();
            let i = match metrics.iter().position(|x| *x == m) {
                Some(i) => i,
                None => {
                    metrics.push(m);
                    metrics.len() - 1
                }
            };
            metric_of.push(i);
        }
        // Enough ticks for the longest period.
        let keep = cfg
            .policies
            .iter()
            .map(|p| (p.period().as_nanos() / tick.as_nanos()) as usize)
            .max()
            .unwrap_or(1)
            .max(1);
        Scaler {
            min: cfg.min,
            max: cfg.max,
            desired: initial,
            last_action: None,
            tick,
            metrics,
            metric_of,
            samples: VecDeque::with_capacity(keep + 1),
            keep,
            history: cfg.policies.iter().map(|_| VecDeque::new()).collect(),
            recommendations: cfg.policies.iter().map(|_| VecDeque::new()).collect(),
            latency: cfg
                .policies
                .iter()
                .map(|p| matches!(p.metric(), Metric::Latency { .. }).then(CompactHistogram::new))
                .collect(),
        }
    }

    /// The distinct metrics to sample each tick, in the order `push` wants.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    pub fn wants_latency(&self) -> bool {
        self.latency.iter().any(Option::is_some)
    }

    /// A response time for latency policies.
    #[inline]
    pub fn record_latency(&mut self, d: SimDuration) {
        for h in self.latency.iter_mut().flatten() {
            h.record(d);
        }
    }

    /// One tick's values, one per metric of [`Scaler::metrics`], then
    /// (∫ units in service dt, tick length).
    pub fn push(&mut self, values: Vec<(f64, f64)>) {
        debug_assert_eq!(values.len(), self.metrics.len() + 1);
        self.samples.push_back(values);
        while self.samples.len() > self.keep {
            self.samples.pop_front();
        }
    }

    /// The metric of policy `p` over its last `period`.
    fn value(&mut self, p: usize, period: SimDuration) -> f64 {
        if let Some(h) = &mut self.latency[p] {
            let q = match self.metrics[self.metric_of[p]] {
                Metric::Latency { quantile } => quantile,
                _ => unreachable!("latency histogram only for latency metrics"),
            };
            let v = h.quantile_ms(q);
            h.clear();
            return v;
        }
        self.ratio(self.metric_of[p], period)
    }

    /// Σ numerator / Σ denominator of slot `m` over the last `period`.
    fn ratio(&self, m: usize, period: SimDuration) -> f64 {
        let k = ((period.as_nanos() / self.tick.as_nanos()) as usize).max(1);
        let (mut num, mut den) = (0.0, 0.0);
        for s in self.samples.iter().rev().take(k) {
            num += s[m].0;
            den += s[m].1;
        }
        if den > 0.0 {
            num / den
        } else if num > 0.0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    }

    /// Runs the policies due at `now` (multiples of their periods) and
    /// returns a change of the desired count, if any. `ready` is the number
    /// of units in service (the HPA's current replicas).
    pub fn evaluate(&mut self, cfg: &ScalingConfig, now: SimTime, ready: u32) -> Option<Decision> {
        let mut best: Option<Decision> = None;
        for (i, policy) in cfg.policies.iter().enumerate() {
            let period = policy.period();
            if !now.as_nanos().is_multiple_of(period.as_nanos()) {
                continue;
            }
            let value = self.value(i, period);
            let proposal = match policy {
                ScalingPolicy::Step(p) => {
                    let breaching = if p.above {
                        value > p.threshold
                    } else {
                        value < p.threshold
                    };
                    let h = &mut self.history[i];
                    h.push_back(breaching);
                    while h.len() > p.evaluation_periods as usize {
                        h.pop_front();
                    }
                    let breaches = h.iter().filter(|b| **b).count() as u32;
                    let cooling = self
                        .last_action
                        .is_some_and(|t| now.saturating_since(t) < p.cooldown);
                    if breaches < p.datapoints || cooling {
                        None
                    } else {
                        let distance = if breaching {
                            (value - p.threshold).abs()
                        } else {
                            0.0
                        };
                        let step = p
                            .steps
                            .iter()
                            .rev()
                            .find(|s| s.beyond <= distance)
                            .unwrap_or(&p.steps[0]);
                        let change = step.change.units(self.desired);
                        let to = (self.desired as i64 + change).max(0) as u32;
                        Some(Decision {
                            to,
                            reason: format!(
                                "{}: {} {:.4} {} {} in {} of the last {} periods of {} ({:+})",
                                p.name,
                                p.metric.label(),
                                value,
                                if p.above { ">" } else { "<" },
                                p.threshold,
                                breaches,
                                p.evaluation_periods,
                                period,
                                change
                            ),
                        })
                    }
                }
                ScalingPolicy::Target(p) => {
                    // The units whose metrics the value averages: their
                    // time-average in service over the period (units that
                    // just became ready have contributed nothing yet, as
                    // the HPA counts them at 0% on scale-up).
                    let measured = self.ratio(self.metrics.len(), period);
                    let measured = if measured.is_finite() {
                        measured
                    } else {
                        ready as f64
                    };
                    let raw = hpa_desired(ready, measured, value, p.target, p.tolerance)
                        .clamp(self.min, self.max);
                    let recs = &mut self.recommendations[i];
                    recs.push_back((now, raw));
                    let horizon = p.scale_down_window.max(p.scale_up_window);
                    while recs
                        .front()
                        .is_some_and(|(t, _)| now.saturating_since(*t) > horizon)
                    {
                        recs.pop_front();
                    }
                    // Kubernetes' stabilisation: scale up no further than the
                    // lowest recommendation of the up window, down no further
                    // than the highest of the down window.
                    let mut up = raw;
                    let mut down = raw;
                    for &(t, r) in recs.iter() {
                        let age = now.saturating_since(t);
                        if age <= p.scale_up_window {
                            up = up.min(r);
                        }
                        if age <= p.scale_down_window {
                            down = down.max(r);
                        }
                    }
                    let mut to = self.desired;
                    if to < up {
                        to = up;
                    }
                    if to > down {
                        to = down;
                    }
                    (to != self.desired).then(|| Decision {
                        to,
                        reason: format!(
                            "{}: {} {:.4} against target {} with {} ready → {}",
                            p.name,
                            p.metric.label(),
                            value,
                            p.target,
                            ready,
                            to
                        ),
                    })
                }
            };
            if let Some(d) = proposal
                && d.to != self.desired
                && best.as_ref().is_none_or(|b| d.to > b.to)
            {
                best = Some(d);
            }
        }
        let mut d = best?;
        d.to = d.to.clamp(self.min, self.max);
        (d.to != self.desired).then_some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::{Change, StepAdjustment, StepPolicy, TargetTracking, Termination};

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn at(s: u64) -> SimTime {
        SimTime::at(secs(s))
    }

    fn step_cfg() -> ScalingConfig {
        // "CPU > 70% for 3 minutes: +1, +2 beyond 85%; cooldown 5 minutes".
        ScalingConfig {
            min: 2,
            max: 20,
            boot: secs(0),
            warmup: secs(0),
            drain_timeout: secs(300),
            termination: Termination::NewestFirst,
            policies: vec![ScalingPolicy::Step(StepPolicy {
                name: "cpu-high".into(),
                metric: Metric::Cpu,
                period: secs(60),
                datapoints: 3,
                evaluation_periods: 3,
                above: true,
                threshold: 0.7,
                steps: vec![
                    StepAdjustment {
                        beyond: 0.0,
                        change: Change::Units(1),
                    },
                    StepAdjustment {
                        beyond: 0.15,
                        change: Change::Units(2),
                    },
                ],
                cooldown: secs(300),
            })],
            scheduled: vec![],
        }
    }

    #[test]
    fn step_policy_needs_n_of_m_and_respects_cooldown() {
        let cfg = step_cfg();
        let mut s = Scaler::new(&cfg, 2, tick_of(&cfg).unwrap());
        let run = |s: &mut Scaler, minute: u64, cpu: f64| {
            s.push(vec![(cpu, 1.0), (2.0, 1.0)]);
            s.evaluate(&cfg, at(minute * 60), 2)
        };
        assert_eq!(run(&mut s, 1, 0.8), None);
        assert_eq!(run(&mut s, 2, 0.8), None);
        let d = run(&mut s, 3, 0.8).expect("3 of 3 above 70%");
        assert_eq!(d.to, 3);
        s.desired = d.to;
        s.last_action = Some(at(180));
        // Still breaching, but cooling down for 5 minutes.
        for m in 4..8 {
            assert_eq!(run(&mut s, m, 0.9), None, "minute {m}");
        }
        // At minute 8 the cooldown has passed; 0.9 is beyond 0.85: +2.
        let d = run(&mut s, 8, 0.9).expect("cooldown over");
        assert_eq!(d.to, 5);
    }

    #[test]
    fn target_tracking_is_the_hpa_with_down_stabilisation() {
        let cfg = ScalingConfig {
            policies: vec![ScalingPolicy::Target(TargetTracking {
                name: "cpu-60".into(),
                metric: Metric::Cpu,
                target: 0.6,
                tolerance: 0.1,
                sync: secs(15),
                scale_down_window: secs(60),
                scale_up_window: secs(0),
            })],
            ..step_cfg()
        };
        let mut s = Scaler::new(&cfg, 4, secs(15));
        // 4 ready at 90%: ceil(4 × 1.5) = 6 at once.
        s.push(vec![(0.9, 1.0), (4.0, 1.0)]);
        let d = s.evaluate(&cfg, at(15), 4).unwrap();
        assert_eq!(d.to, 6);
        s.desired = 6;
        // Load drops to 20% on 6 ready: ceil(6 × 1/3) = 2, but the highest
        // recommendation of the last 60 s (6) holds until it ages out.
        for t in [30, 45, 60, 75] {
            s.push(vec![(0.2, 1.0), (6.0, 1.0)]);
            assert_eq!(s.evaluate(&cfg, at(t), 6), None, "t {t}");
        }
        s.push(vec![(0.2, 1.0), (6.0, 1.0)]);
        let d = s.evaluate(&cfg, at(90), 6).expect("the 6 aged out");
        assert_eq!(d.to, 2);
    }

    #[test]
    fn the_largest_capacity_wins_and_bounds_apply() {
        let mut cfg = step_cfg();
        if let ScalingPolicy::Step(p) = &mut cfg.policies[0] {
            p.datapoints = 1;
            p.evaluation_periods = 1;
        }
        cfg.policies.push(ScalingPolicy::Step(StepPolicy {
            name: "cpu-low".into(),
            metric: Metric::Cpu,
            period: secs(60),
            datapoints: 1,
            evaluation_periods: 1,
            above: false,
            threshold: 0.95,
            steps: vec![StepAdjustment {
                beyond: 0.0,
                change: Change::Units(-1),
            }],
            cooldown: secs(0),
        }));
        cfg.max = 3;
        let mut s = Scaler::new(&cfg, 2, secs(60));
        // 0.9 breaches both "> 0.7" (+2) and "< 0.95" (−1): scale-out wins,
        // capped at max 3.
        s.push(vec![(0.9, 1.0), (2.0, 1.0)]);
        assert_eq!(s.evaluate(&cfg, at(60), 2).unwrap().to, 3);
    }
}

//! Service-level objectives and their tracking over fixed windows.
//!
//! Each objective is judged in every window (aligned to the start of the
//! run) that has at least one event in the measured period:
//!
//! * latency: the quantile of the latencies of requests completed in the
//!   window is within the threshold, i.e. at least `quantile` of them took no
//!   longer than it (exact: requests are counted, no histogram);
//! * error rate: failed and rejected requests / finished requests ≤ max;
//! * availability: completed / finished ≥ target;
//! * queue latency: as latency, for jobs of a worker tier (enqueue to done).
//!
//! A window that misses is a breach. Over the whole measured period the
//! objective's error budget is the share of bad events it allows (1 −
//! quantile, max, 1 − target); "consumed" is bad events / allowed bad events
//! (above 1: the budget is blown).

use sim_engine::{IntervalIndex, SimDuration, SimTime};

use crate::fcfs::Measured;
use crate::ids::{ClassId, TierId};

#[derive(Clone, Debug, PartialEq)]
pub enum Objective {
    Latency {
        quantile: f64,
        threshold: SimDuration,
    },
    ErrorRate {
        max: f64,
    },
    Availability {
        target: f64,
    },
    QueueLatency {
        quantile: f64,
        threshold: SimDuration,
    },
}

impl Objective {
    /// The share of events allowed to be bad.
    pub fn budget(&self) -> f64 {
        match *self {
            Objective::Latency { quantile, .. } | Objective::QueueLatency { quantile, .. } => {
                1.0 - quantile
            }
            Objective::ErrorRate { max } => max,
            Objective::Availability { target } => 1.0 - target,
        }
    }

    /// Does a window with `good` of `total` events meet the objective?
    pub fn met(&self, good: u64, total: u64) -> bool {
        if total == 0 {
            return true;
        }
        // Compared in counts, with a tolerance for the rounding of
        // products like 0.99 × 100.
        let (good, total) = (good as f64, total as f64);
        let slack = 1e-9 * total;
        match *self {
            Objective::Latency { quantile, .. } | Objective::QueueLatency { quantile, .. } => {
                good + slack >= quantile * total
            }
            Objective::ErrorRate { max } => total - good <= max * total + slack,
            Objective::Availability { target } => good + slack >= target * total,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SloConfig {
    pub name: String,
    /// Requests of these classes only (empty: all classes). Not used by
    /// queue latency. With regions a class has a copy per region of its
    /// users, so a class or a region of users is a set of classes.
    pub classes: Vec<ClassId>,
    /// The class and the users' region the objective was restricted to, as
    /// the scenario names them.
    pub class: Option<String>,
    pub region: Option<String>,
    /// The worker tier of a queue-latency objective.
    pub tier: Option<TierId>,
    pub objective: Objective,
    pub window: SimDuration,
}

/// One objective's tally during a run.
#[derive(Clone, Debug)]
pub struct SloTracker {
    index: IntervalIndex,
    window_ns: u64,
    measured: Measured,
    objective: Objective,
    current: u64,
    good: u64,
    total: u64,
    /// Over the measured period.
    pub good_events: u64,
    pub total_events: u64,
    /// Start of each breaching window, seconds since the start of the run.
    pub breaches: Vec<f64>,
    /// Every window with events: its start (s) and its share of bad events.
    windows: Vec<(f64, f64)>,
}

impl SloTracker {
    pub fn new(cfg: &SloConfig, measured: Measured) -> Self {
        SloTracker {
            index: IntervalIndex::new(cfg.window),
            window_ns: cfg.window.as_nanos(),
            measured,
            objective: cfg.objective.clone(),
            current: 0,
            good: 0,
            total: 0,
            good_events: 0,
            total_events: 0,
            breaches: Vec::new(),
            // One per window with events: room for all at once, rather than
            // growing to up to twice that.
            windows: Vec::with_capacity(
                (measured.len_ns().div_ceil(cfg.window.as_nanos()) + 1) as usize,
            ),
        }
    }

    /// An event at `now` (nondecreasing): good or bad.
    #[inline]
    pub fn record(&mut self, now: SimTime, good: bool) {
        let t = now.as_nanos();
        if !self.measured.contains(t) {
            return;
        }
        let w = self.index.of(t);
        if w != self.current {
            self.close_window();
            self.current = w;
        }
        self.total += 1;
        self.total_events += 1;
        if good {
            self.good += 1;
            self.good_events += 1;
        }
    }

    fn close_window(&mut self) {
        let start_s = (self.current * self.window_ns) as f64 / 1e9;
        if self.total > 0 {
            let bad = (self.total - self.good) as f64 / self.total as f64;
            self.windows.push((start_s, bad));
        }
        if self.total > 0 && !self.objective.met(self.good, self.total) {
            self.breaches.push(start_s);
        }
        self.good = 0;
        self.total = 0;
    }

    /// Closes the last window and returns the result.
    pub fn finish(mut self, name: &str) -> SloResult {
        self.close_window();
        let bad = self.total_events - self.good_events;
        let allowed = self.objective.budget() * self.total_events as f64;
        SloResult {
            name: name.to_string(),
            breach_windows: self.breaches.len() as u64,
            breach_minutes: self.breaches.len() as f64 * self.window_ns as f64 / 60e9,
            first_breach_s: self.breaches.first().copied(),
            breach_starts_s: std::mem::take(&mut self.breaches),
            window_bad_share: std::mem::take(&mut self.windows),
            events: self.total_events,
            bad_events: bad,
            budget_consumed: if allowed > 0.0 {
                bad as f64 / allowed
            } else if bad == 0 {
                0.0
            } else {
                f64::INFINITY
            },
        }
    }
}

/// An objective's outcome in one replication.
#[derive(Clone, Debug, PartialEq)]
pub struct SloResult {
    pub name: String,
    pub breach_windows: u64,
    pub breach_minutes: f64,
    /// Start of the first breaching window, seconds since the start of the run.
    pub first_breach_s: Option<f64>,
    /// Start of every breaching window, seconds since the start of the run.
    pub breach_starts_s: Vec<f64>,
    /// Every window with events: its start (s) and the share of its events
    /// that were bad (what the objective judges against its budget).
    pub window_bad_share: Vec<(f64, f64)>,
    pub events: u64,
    pub bad_events: u64,
    /// Bad events / bad events the budget allows.
    pub budget_consumed: f64,
}

impl SloResult {
    pub fn met(&self) -> bool {
        self.breach_windows == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime::at(SimDuration::from_secs(x))
    }

    fn tracker(objective: Objective) -> SloTracker {
        let cfg = SloConfig {
            name: "x".into(),
            classes: Vec::new(),
            class: None,
            region: None,
            tier: None,
            objective,
            window: SimDuration::from_secs(60),
        };
        SloTracker::new(&cfg, Measured::new(s(60), s(600)))
    }

    #[test]
    fn latency_windows_breach_when_too_few_are_fast() {
        let mut t = tracker(Objective::Latency {
            quantile: 0.9,
            threshold: SimDuration::from_millis(200),
        });
        // Measured [60, 120): 9 fast of 10 → met. [120, 180): 8 of 10 → breach.
        for i in 0..10 {
            t.record(s(70), i < 9);
        }
        for i in 0..10 {
            t.record(s(130), i < 8);
        }
        // Before the measured period: ignored.
        t.record(s(10), false);
        let r = t.finish("x");
        assert_eq!(r.breach_windows, 1);
        assert_eq!(r.first_breach_s, Some(120.0));
        assert!((r.breach_minutes - 1.0).abs() < 1e-12);
        assert_eq!((r.events, r.bad_events), (20, 3));
        // 3 bad of 20 against an allowance of 10%: 1.5 budgets.
        assert!((r.budget_consumed - 1.5).abs() < 1e-12);
        assert!(!r.met());
        // What each window judged, for the timeline's objective panel.
        assert_eq!(r.window_bad_share, vec![(60.0, 0.1), (120.0, 0.2)]);
    }

    #[test]
    fn error_rate_and_availability() {
        let e = Objective::ErrorRate { max: 0.01 };
        assert!(e.met(99, 100) && !e.met(98, 100) && e.met(0, 0));
        let a = Objective::Availability { target: 0.999 };
        assert!(a.met(999, 1000) && !a.met(998, 1000));
        assert!((a.budget() - 0.001).abs() < 1e-15);
    }
}

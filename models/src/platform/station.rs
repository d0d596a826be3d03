//! A generic FCFS station: `servers` identical servers, an optional capacity.

use sim_engine::{IntervalCounts, SimDuration, SimTime};

use crate::config::StationConfig;
use crate::fcfs::{FcfsUnit, Window, ratio};
use crate::series::{Spec, divide};

pub(crate) struct StationTier {
    pub unit: FcfsUnit,
    capacity: usize,
    window: Window,
    pub up: bool,
    pub epoch: u32,
    pub down_count: u32,
    pub offered: u64,
    pub rejected: u64,
    rejected_series: IntervalCounts,
    spec: Spec,
}

impl StationTier {
    pub fn new(cfg: &StationConfig, window: Window, spec: Spec, fails: bool) -> Self {
        StationTier {
            unit: FcfsUnit::new(cfg.servers, window)
                .tracking(fails || cfg.capacity.is_some())
                .with_series(spec.interval, spec.horizon, true),
            capacity: cfg.capacity.map_or(usize::MAX, |k| k as usize),
            window,
            up: true,
            epoch: 0,
            down_count: 0,
            offered: 0,
            rejected: 0,
            rejected_series: spec.counts(),
            spec,
        }
    }

    /// A request arrives: `Some(end)` when it will leave, `None` when it is
    /// rejected (station full or down).
    #[inline]
    pub fn arrive(&mut self, now: SimTime, demand: SimDuration) -> Option<SimTime> {
        let measuring = self.window.contains(now.as_nanos());
        if measuring {
            self.offered += 1;
        }
        if !self.up || (self.capacity != usize::MAX && self.unit.in_system(now) >= self.capacity) {
            if measuring {
                self.rejected += 1;
            }
            self.rejected_series.add(now, 1.0);
            return None;
        }
        Some(self.unit.submit(now, demand).1)
    }

    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let u = &self.unit;
        let secs = self.window.len_ns() as f64 / 1e9;
        vec![
            ("utilization", u.utilization()),
            ("queue_wait_ms", u.mean_wait_ms()),
            ("queue_length", u.mean_waiting()),
            ("wait_probability", u.wait_probability()),
            ("response_ms", u.mean_sojourn_ms()),
            ("throughput_per_s", u.stats().completed as f64 / secs),
            ("arrivals", self.offered as f64),
            ("completed", u.stats().completed as f64),
            ("rejected", self.rejected as f64),
            ("rejection_ratio", ratio(self.rejected as f64, self.offered)),
        ]
    }

    pub fn series(&self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let u = self.unit.series().expect("stations keep series");
        let rejected = self.rejected_series.values().to_vec();
        let arrivals: Vec<f64> = u
            .arrivals()
            .iter()
            .zip(&rejected)
            .map(|(a, r)| a + r)
            .collect();
        vec![
            ("arrivals", arrivals),
            ("completed", u.completed().to_vec()),
            ("errors", rejected),
            (
                "utilization",
                self.unit.utilization_series(&lengths).expect("series"),
            ),
            ("queue_length", divide(u.waiting.values(), &lengths)),
        ]
    }
}

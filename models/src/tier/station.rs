//! A generic FCFS station: `servers` identical servers, an optional capacity.

use std::ops::Range;

use sim_engine::{Dist, IntervalCounts, SimDuration, SimTime};

use super::life::Lifetime;
use super::{BuildContext, Crash, Health, Noun, TierModel, TierReport, Vocabulary};
use crate::fcfs::{FcfsUnit, Measured, latency_of, ratio};
use crate::series::{Spec, divide};
use crate::tier::report::{Figure, Serving, ServingCount, Unit};

/// What serves a station: a fixed number of servers.
pub const SERVER: Noun = Noun::new("server", "servers");

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "station",
    scaling: None,
    own_bill: true,
    priced_otherwise: None,
};

/// FCFS queue with `servers` identical servers. With `capacity = Some(K)` at
/// most K requests are in the station (waiting plus in service); an arrival
/// finding it full is rejected.
#[derive(Clone, Debug)]
pub struct StationConfig {
    /// At least 1.
    pub servers: u32,
    /// Service time in seconds.
    pub service: Dist,
    /// `K ≥ servers` when set.
    pub capacity: Option<u32>,
}

impl super::ConfigUnits for StationConfig {
    fn failure_units(&self) -> Range<u32> {
        0..1
    }
}

pub(crate) struct StationTier<'c> {
    pub cfg: &'c StationConfig,
    pub unit: FcfsUnit,
    capacity: usize,
    measured: Measured,
    pub health: Health,
    offered: u64,
    rejected: u64,
    rejected_series: IntervalCounts,
    spec: Spec,
}

impl<'c> StationTier<'c> {
    pub fn new(cfg: &'c StationConfig, ctx: &BuildContext) -> Self {
        StationTier {
            cfg,
            unit: FcfsUnit::new(cfg.servers, ctx.measured)
                .tracking(ctx.voidable || cfg.capacity.is_some())
                .with_series(ctx.spec.interval, ctx.spec.horizon, true),
            capacity: cfg.capacity.map_or(usize::MAX, |k| k as usize),
            measured: ctx.measured,
            health: Health::default(),
            offered: 0,
            rejected: 0,
            rejected_series: ctx.spec.counts(),
            spec: ctx.spec,
        }
    }

    /// A request arrives: `Some((start, end))` when its service starts and
    /// when it leaves, `None` when it is rejected (station full or down).
    #[inline]
    pub fn arrive(&mut self, now: SimTime, demand: SimDuration) -> Option<(SimTime, SimTime)> {
        let measuring = self.measured.contains(now.as_nanos());
        if measuring {
            self.offered += 1;
        }
        if !self.health.is_up()
            || (self.capacity != usize::MAX && self.unit.in_system(now) >= self.capacity)
        {
            if measuring {
                self.rejected += 1;
            }
            self.rejected_series.add(now, 1.0);
            return None;
        }
        Some(self.unit.submit(now, demand))
    }

    fn metrics(&self) -> Vec<Figure> {
        let u = &self.unit;
        let secs = self.measured.len_ns() as f64 / 1e9;
        vec![
            Figure::new("utilization", Unit::Fraction, u.utilization()),
            Figure::new("queue_wait_ms", Unit::Milliseconds, u.mean_wait_ms()),
            Figure::new("queue_length", Unit::Average, u.mean_waiting()),
            Figure::new("wait_probability", Unit::Fraction, u.wait_probability()),
            Figure::new("response_ms", Unit::Milliseconds, u.mean_sojourn_ms()),
            Figure::new(
                "throughput_per_s",
                Unit::PerSecond,
                u.stats().completed as f64 / secs,
            ),
            Figure::new("arrivals", Unit::Count, self.offered as f64),
            Figure::new("completed", Unit::Count, u.stats().completed as f64),
            Figure::new("rejected", Unit::Count, self.rejected as f64),
            Figure::new(
                "rejection_ratio",
                Unit::Fraction,
                ratio(self.rejected as f64, self.offered),
            ),
        ]
    }

    fn series(&self) -> Vec<(&'static str, Vec<f64>)> {
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

impl TierModel for StationTier<'_> {
    fn failure_units(&self) -> Range<u32> {
        0..1
    }

    fn crash(&mut self, _unit: u32, now: SimTime) -> Option<Crash> {
        let epoch = self.health.fail()?;
        self.unit.crash(now);
        Some(Crash {
            epoch,
            queued: Vec::new(),
            terminated: false,
            jobs: false,
        })
    }

    fn recover(&mut self, _unit: u32, _now: SimTime) -> bool {
        self.health.recover()
    }

    fn billed_units(&self) -> u32 {
        1
    }

    fn lifetime(&self, _unit: u32) -> Lifetime {
        Lifetime::running(SimTime::ZERO)
    }

    fn report(&mut self, _now: SimTime) -> TierReport {
        self.unit.settle();
        TierReport {
            series: self.series(),
            latency: latency_of(&self.unit).cloned(),
            metrics: self.metrics(),
            units: Vec::new(),
            serving: Some(Serving {
                noun: SERVER,
                count: ServingCount::Fixed(self.cfg.servers),
            }),
        }
    }
}

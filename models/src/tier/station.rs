//! A generic FCFS station: `servers` identical servers, an optional capacity.

use std::ops::Range;

use sim_engine::{Dist, IntervalCounts, SimDuration, SimTime};

use super::life::Lifetime;
use super::{BuildContext, Crash, Health, Noun, TierModel, TierReport, Vocabulary};
use crate::event_unit::{Discipline, EventUnit, Outcome};
use crate::fcfs::{FcfsUnit, Figures, Measured, latency_of, ratio};
use crate::series::{Accumulator, Spec, divide};
use crate::tier::report::{Figure, Serving, ServingCount, Unit};

/// What serves a station: a fixed number of servers.
pub const SERVER: Noun = Noun::new("server", "servers");

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "station",
    scaling: None,
    own_bill: true,
    priced_otherwise: None,
};

/// A queue with `servers` identical servers, FCFS unless `discipline` says
/// otherwise. With `capacity = Some(K)` at most K requests are in the station
/// (waiting plus in service); an arrival finding it full is rejected.
#[derive(Clone, Debug)]
pub struct StationConfig {
    /// At least 1.
    pub servers: u32,
    /// Service time in seconds.
    pub service: Dist,
    /// `K ≥ servers` when set.
    pub capacity: Option<u32>,
    pub discipline: Discipline,
    /// The server drops a request that has waited this long without starting.
    pub deadline: Option<SimDuration>,
    /// How long a caller waits for service to start before giving up
    /// (seconds): each request draws its own.
    pub patience: Option<Dist>,
}

impl StationConfig {
    /// FCFS with nothing leaving the queue unserved: the unit computes each
    /// job's end on arrival.
    pub fn plain(servers: u32, service: Dist, capacity: Option<u32>) -> Self {
        StationConfig {
            servers,
            service,
            capacity,
            discipline: Discipline::Fcfs,
            deadline: None,
            patience: None,
        }
    }

    /// Its requests' ends are known only by events (see [`EventUnit`]).
    pub fn event_driven(&self) -> bool {
        self.discipline != Discipline::Fcfs || self.deadline.is_some() || self.patience.is_some()
    }
}

impl super::ConfigUnits for StationConfig {
    fn failure_units(&self) -> Range<u32> {
        0..1
    }
}

pub(crate) struct StationTier<'c> {
    pub cfg: &'c StationConfig,
    /// The FCFS queue, computed on arrival (unused when `events` is set).
    pub unit: FcfsUnit,
    /// The queue of a station driven by events (see [`EventUnit`]). Kept
    /// apart so that the FCFS path reads `unit` directly.
    pub events: Option<Box<EventUnit>>,
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
            unit: if cfg.event_driven() {
                // Unused: no series to keep.
                FcfsUnit::new(cfg.servers, ctx.measured)
            } else {
                FcfsUnit::new(cfg.servers, ctx.measured)
                    .tracking(ctx.voidable || cfg.capacity.is_some())
                    .with_series(ctx.spec.interval, ctx.spec.horizon, true)
            },
            events: cfg.event_driven().then(|| {
                Box::new(
                    EventUnit::new(cfg.servers, cfg.discipline, ctx.measured).with_series(
                        ctx.spec.interval,
                        ctx.spec.horizon,
                        true,
                    ),
                )
            }),
            capacity: cfg.capacity.map_or(usize::MAX, |k| k as usize),
            measured: ctx.measured,
            health: Health::default(),
            offered: 0,
            rejected: 0,
            rejected_series: ctx.spec.counts(),
            spec: ctx.spec,
        }
    }

    /// Counts an arrival; whether the station turns it away (full or down).
    #[inline(always)]
    fn refuses(&mut self, now: SimTime) -> bool {
        let measuring = self.measured.contains(now.as_nanos());
        if measuring {
            self.offered += 1;
        }
        let full = self.capacity != usize::MAX
            && match &self.events {
                None => self.unit.in_system(now),
                Some(e) => e.in_system(),
            } >= self.capacity;
        if !self.health.is_up() || full {
            if measuring {
                self.rejected += 1;
            }
            self.rejected_series.add(now, 1.0);
            return true;
        }
        false
    }

    /// A request arrives at an FCFS station: `Some((start, end))` when its
    /// service starts and when it leaves, `None` when it is rejected (station
    /// full or down).
    #[inline(always)]
    pub fn arrive(&mut self, now: SimTime, demand: SimDuration) -> Option<(SimTime, SimTime)> {
        if self.refuses(now) {
            return None;
        }
        debug_assert!(
            self.events.is_none(),
            "an event-driven station takes `join`"
        );
        Some(self.unit.submit(now, demand))
    }

    /// Request `req` joins an event-driven station (its priority `rank`, 0
    /// first; `patience` drawn if the station has one): false when it is
    /// rejected. Its end comes from [`StationTier::advance`].
    pub fn join(
        &mut self,
        now: SimTime,
        req: u32,
        demand: SimDuration,
        rank: u8,
        patience: Option<SimDuration>,
    ) -> bool {
        if self.refuses(now) {
            return false;
        }
        let gives_up = match (self.cfg.deadline, patience) {
            (Some(d), Some(p)) if p < d => Some((now + p, false)),
            (Some(d), _) => Some((now + d, true)),
            (None, Some(p)) => Some((now + p, false)),
            (None, None) => None,
        };
        self.event_unit().arrive(now, req, demand, rank, gives_up);
        true
    }

    pub fn event_unit(&mut self) -> &mut EventUnit {
        self.events
            .as_deref_mut()
            .expect("an FCFS station has no events")
    }

    /// The requests that left at `now` (see [`EventUnit::advance`]).
    pub fn advance(&mut self, now: SimTime, left: &mut Vec<(u32, Outcome)>) {
        self.event_unit().advance(now, left);
    }

    fn figures(&self) -> &dyn Figures {
        match &self.events {
            None => &self.unit,
            Some(e) => e.as_ref(),
        }
    }

    fn metrics(&self) -> Vec<Figure> {
        let u = self.figures();
        let secs = self.measured.len_ns() as f64 / 1e9;
        let mut figures = vec![
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
        ];
        if let Some(e) = &self.events
            && (self.cfg.deadline.is_some() || self.cfg.patience.is_some())
        {
            let arrived = u.stats().arrivals;
            figures.extend([
                Figure::new("expired", Unit::Count, e.expired() as f64),
                Figure::new("abandoned", Unit::Count, e.abandoned() as f64),
                Figure::new(
                    "unserved_ratio",
                    Unit::Fraction,
                    ratio((e.expired() + e.abandoned()) as f64, arrived),
                ),
            ]);
        }
        figures
    }

    fn series(&self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let u = self.figures().series().expect("stations keep series");
        let rejected = self.rejected_series.values();
        let arrivals: Vec<f64> = u
            .arrivals()
            .iter()
            .zip(&rejected)
            .map(|(a, r)| a + r)
            .collect();
        vec![
            ("arrivals", arrivals),
            ("completed", u.completed()),
            ("errors", rejected),
            (
                "utilization",
                self.figures().utilization_series(&lengths).expect("series"),
            ),
            ("queue_length", divide(&u.waiting.values(), &lengths)),
        ]
    }
}

impl TierModel for StationTier<'_> {
    fn failure_units(&self) -> Range<u32> {
        0..1
    }

    fn crash(&mut self, _unit: u32, now: SimTime) -> Option<Crash> {
        let epoch = self.health.fail()?;
        let dropped = match &mut self.events {
            None => {
                self.unit.crash(now);
                Vec::new()
            }
            Some(e) => e.crash(now),
        };
        Some(Crash {
            epoch,
            queued: Vec::new(),
            dropped,
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

    fn close_intervals(&mut self, upto: usize, _reached: SimTime) {
        let latency = match &mut self.events {
            None => self.unit.latency_mut(),
            Some(e) => e.latency_mut(),
        };
        if let Some(l) = latency {
            l.close(upto);
        }
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        // The unit's own counts are its tier's series and are held whole:
        // it folds its jobs in lazily, so it is settled only at the end.
        f(Accumulator::Counts(&mut self.rejected_series));
        let latency = match &mut self.events {
            None => self.unit.latency_mut(),
            Some(e) => e.latency_mut(),
        };
        if let Some(l) = latency {
            f(Accumulator::Latency(l));
        }
    }

    fn report(&mut self, now: SimTime) -> TierReport {
        match &mut self.events {
            None => self.unit.settle(),
            Some(e) => e.settle(now),
        }
        TierReport {
            series: self.series(),
            latency: latency_of(self.figures()).cloned(),
            metrics: self.metrics(),
            units: Vec::new(),
            serving: Some(Serving {
                noun: SERVER,
                count: ServingCount::Fixed(self.cfg.servers),
            }),
        }
    }
}

//! A CDN edge: infinite capacity, a hit ratio and two latencies. A hit ends
//! the request at the edge; a miss pays the miss latency and goes on to the
//! origin.

use std::ops::Range;

use sim_engine::{Dist, IntervalCounts, KeyedRng, SimDuration, SimTime};

use super::life::Lifetime;
use super::{BuildContext, Crash, TierModel, TierReport, Vocabulary};
use crate::fcfs::Measured;
use crate::series::{Accumulator, Spec, divide};
use crate::tier::report::{Figure, Unit};

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "cdn",
    scaling: None,
    own_bill: false,
    priced_otherwise: Some("a CDN is priced per GB delivered (`cost.cdn_per_gb`), not per unit"),
};

#[derive(Clone, Debug)]
pub struct CdnConfig {
    pub hit_ratio: f64,
    /// Latency of a request served at the edge.
    pub edge_latency: Dist,
    /// Latency the edge adds to a miss on its way to the origin.
    pub miss_latency: SimDuration,
}

impl super::ConfigUnits for CdnConfig {
    /// An edge has no units to fail.
    fn failure_units(&self) -> Range<u32> {
        0..0
    }
}

pub(crate) struct CdnTier<'c> {
    cfg: &'c CdnConfig,
    measured: Measured,
    spec: Spec,
    requests: u64,
    hits: u64,
    requests_series: IntervalCounts,
    hits_series: IntervalCounts,
}

impl<'c> CdnTier<'c> {
    pub fn new(cfg: &'c CdnConfig, ctx: &BuildContext) -> Self {
        CdnTier {
            cfg,
            measured: ctx.measured,
            spec: ctx.spec,
            requests: 0,
            hits: 0,
            requests_series: ctx.spec.counts(),
            hits_series: ctx.spec.counts(),
        }
    }

    /// A request passes the edge at `now`, drawing from `r`: until when it
    /// is there, and whether it was a hit (it then ends at the edge).
    #[inline]
    pub fn visit(&mut self, now: SimTime, r: &mut KeyedRng) -> (SimTime, bool) {
        let hit = r.uniform01() < self.cfg.hit_ratio;
        if self.measured.contains(now.as_nanos()) {
            self.requests += 1;
            if hit {
                self.hits += 1;
            }
        }
        self.requests_series.add(now, 1.0);
        if hit {
            self.hits_series.add(now, 1.0);
            let d = SimDuration::from_secs_f64(self.cfg.edge_latency.sample(r));
            return (now + d, true);
        }
        (now + self.cfg.miss_latency, false)
    }
}

impl TierModel for CdnTier<'_> {
    /// An edge has no units to fail (checked when the scenario is built).
    fn failure_units(&self) -> Range<u32> {
        0..0
    }

    fn crash(&mut self, _unit: u32, _now: SimTime) -> Option<Crash> {
        None
    }

    fn recover(&mut self, _unit: u32, _now: SimTime) -> bool {
        false
    }

    fn billed_units(&self) -> u32 {
        0
    }

    fn lifetime(&self, _unit: u32) -> Lifetime {
        Lifetime::running(SimTime::ZERO)
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        f(Accumulator::Counts(&mut self.requests_series));
        f(Accumulator::Counts(&mut self.hits_series));
    }

    fn report(&mut self, _now: SimTime) -> TierReport {
        let zeros = vec![0.0; self.spec.len()];
        let requests = self.requests_series.values();
        let secs = self.measured.len_ns() as f64 / 1e9;
        let hit_ratio = if self.requests == 0 {
            f64::NAN
        } else {
            self.hits as f64 / self.requests as f64
        };
        use Unit::*;
        TierReport {
            series: vec![
                ("arrivals", requests.clone()),
                ("completed", requests.clone()),
                ("errors", zeros.clone()),
                ("utilization", zeros.clone()),
                ("queue_length", zeros),
                ("hit_ratio", divide(&self.hits_series.values(), &requests)),
            ],
            latency: None,
            metrics: vec![
                Figure::new("utilization", Fraction, 0.0),
                Figure::new("queue_wait_ms", Milliseconds, 0.0),
                Figure::new("queue_length", Average, 0.0),
                Figure::new("throughput_per_s", PerSecond, self.requests as f64 / secs),
                Figure::new("hit_ratio", Fraction, hit_ratio),
                Figure::new("edge_hits", Count, self.hits as f64),
                Figure::new("origin_requests", Count, (self.requests - self.hits) as f64),
            ],
            units: Vec::new(),
            // An edge has no units: its capacity is not modelled.
            serving: None,
        }
    }
}

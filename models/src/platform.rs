//! The platform model: request classes flowing through tiers.
//!
//! ```text
//!   class arrivals ──► request (arena) ──► step 0 tier ──► step 1 tier ──► … ──► done
//!   (Poisson, own stream)                    │ full: rejected
//! ```
//!
//! Each request draws a 64-bit key from its class's demand stream when it is
//! created; the demand of step `s` is sampled from a generator keyed by
//! `sub_key(key, s)`. Demands are thus fixed at creation by the class's own
//! stream, and a change elsewhere (more servers, another policy) never changes
//! what a given request asks for: comparisons are paired.
//!
//! Statistics cover the measured window: at warm-up end every tier restarts its
//! averages, and only requests created after warm-up enter class statistics.

use std::collections::VecDeque;

use sim_engine::{
    Arena, Context, KeyedRng, LatencyHistogram, Model, SimDuration, SimTime, StreamRng, Streams,
    TimeWeighted, exp1, sub_key,
};

use crate::config::{Arrivals, ClassConfig, PlatformConfig, StationConfig, TierKind};
use crate::results::{ClassResult, ReplicationResult, RequestCounts, TierResult};

/// The model's events: small and `Copy`, carrying ids only.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next request of a class arrives.
    Arrival { class: u16 },
    /// A station finished serving a request.
    Departure { tier: u16, req: u32 },
    /// End of the warm-up period: statistics restart.
    WarmupEnd,
}

struct Request {
    class: u16,
    /// Index of the current step in the class's route.
    step: u16,
    /// Created after warm-up, so it counts in class statistics.
    measured: bool,
    created: SimTime,
    /// When the request joined its current tier.
    entered: SimTime,
    /// Demand key (see module docs).
    key: u64,
}

struct ClassState {
    arrivals: StreamRng,
    demands: StreamRng,
    mean_interarrival_s: f64,
    counts: RequestCounts,
    latency: LatencyHistogram,
}

/// The per-tier state machine.
enum Tier {
    Station(Station),
}

struct Station {
    servers: u32,
    capacity: u32,
    busy: u32,
    queue: VecDeque<u32>,
    busy_tw: TimeWeighted,
    queue_tw: TimeWeighted,
    arrivals: u64,
    rejected: u64,
    started: u64,
    waited: u64,
    wait_ns: u128,
    completed: u64,
    sojourn_ns: u128,
}

impl Station {
    fn new(cfg: &StationConfig) -> Self {
        Station {
            servers: cfg.servers,
            capacity: cfg.capacity.unwrap_or(u32::MAX),
            busy: 0,
            queue: VecDeque::new(),
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            arrivals: 0,
            rejected: 0,
            started: 0,
            waited: 0,
            wait_ns: 0,
            completed: 0,
            sojourn_ns: 0,
        }
    }

    fn restart_statistics(&mut self, now: SimTime) {
        self.busy_tw.reset(now);
        self.queue_tw.reset(now);
        self.arrivals = 0;
        self.rejected = 0;
        self.started = 0;
        self.waited = 0;
        self.wait_ns = 0;
        self.completed = 0;
        self.sojourn_ns = 0;
    }

    fn metrics(&self, now: SimTime, measured: SimDuration) -> Vec<(&'static str, f64)> {
        let per_started = |x: f64| {
            if self.started == 0 {
                f64::NAN
            } else {
                x / self.started as f64
            }
        };
        let per_completed = |x: f64| {
            if self.completed == 0 {
                f64::NAN
            } else {
                x / self.completed as f64
            }
        };
        vec![
            ("utilization", self.busy_tw.mean(now) / self.servers as f64),
            ("queue_wait_ms", per_started(self.wait_ns as f64 / 1e6)),
            ("queue_length", self.queue_tw.mean(now)),
            ("wait_probability", per_started(self.waited as f64)),
            ("response_ms", per_completed(self.sojourn_ns as f64 / 1e6)),
            (
                "throughput_per_s",
                self.completed as f64 / measured.as_secs_f64(),
            ),
            ("arrivals", self.arrivals as f64),
            ("completed", self.completed as f64),
            ("rejected", self.rejected as f64),
            (
                "rejection_ratio",
                if self.arrivals == 0 {
                    0.0
                } else {
                    self.rejected as f64 / self.arrivals as f64
                },
            ),
        ]
    }
}

/// One replication's model state.
pub struct Platform<'c> {
    cfg: &'c PlatformConfig,
    measuring: bool,
    classes: Vec<ClassState>,
    tiers: Vec<Tier>,
    requests: Arena<Request>,
}

impl<'c> Platform<'c> {
    pub fn new(cfg: &'c PlatformConfig, streams: Streams) -> Self {
        let classes = cfg
            .classes
            .iter()
            .map(|c: &ClassConfig| ClassState {
                arrivals: streams.stream(&format!("arrivals/{}", c.name)),
                demands: streams.stream(&format!("demands/{}", c.name)),
                mean_interarrival_s: 1.0 / c.arrivals.mean_rate_per_s(),
                counts: RequestCounts::default(),
                latency: LatencyHistogram::new(),
            })
            .collect();
        let tiers = cfg
            .tiers
            .iter()
            .map(|t| match &t.kind {
                TierKind::Station(s) => Tier::Station(Station::new(s)),
            })
            .collect();
        Platform {
            cfg,
            measuring: cfg.warmup.is_zero(),
            classes,
            tiers,
            requests: Arena::new(),
        }
    }

    /// The events that start a run: each class's first arrival and the end of
    /// warm-up.
    pub fn initial_events(&mut self) -> Vec<(SimTime, Event)> {
        let mut events = Vec::with_capacity(self.classes.len() + 1);
        if !self.cfg.warmup.is_zero() {
            events.push((SimTime::at(self.cfg.warmup), Event::WarmupEnd));
        }
        for (i, class) in self.classes.iter_mut().enumerate() {
            let gap = next_interarrival(class, &self.cfg.classes[i].arrivals);
            events.push((SimTime::at(gap), Event::Arrival { class: i as u16 }));
        }
        events
    }

    fn arrival(&mut self, class_id: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let ccfg = &self.cfg.classes[class_id as usize];
        let class = &mut self.classes[class_id as usize];
        let gap = next_interarrival(class, &ccfg.arrivals);
        ctx.schedule_in(gap, Event::Arrival { class: class_id });

        let key = class.demands.next_u64();
        if self.measuring {
            class.counts.arrived += 1;
        }
        let req = self.requests.insert(Request {
            class: class_id,
            step: 0,
            measured: self.measuring,
            created: now,
            entered: now,
            key,
        });
        self.enter_step(req, ctx);
    }

    /// Sends request `req` to the tier of its current step.
    fn enter_step(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let r = &mut self.requests[req];
        r.entered = now;
        let step = &self.cfg.classes[r.class as usize].route[r.step as usize];
        let tier_id = step.tier;
        match &mut self.tiers[tier_id as usize] {
            Tier::Station(st) => {
                if self.measuring {
                    st.arrivals += 1;
                }
                let in_station = st.busy as usize + st.queue.len();
                if in_station >= st.capacity as usize {
                    if self.measuring {
                        st.rejected += 1;
                    }
                    self.reject(req);
                } else if st.busy < st.servers {
                    st.busy += 1;
                    st.busy_tw.set(now, st.busy as f64);
                    self.start_service(tier_id, req, ctx);
                } else {
                    st.queue.push_back(req);
                    st.queue_tw.set(now, st.queue.len() as f64);
                }
            }
        }
    }

    /// Begins serving `req` at station `tier_id` (a server is already reserved).
    fn start_service(&mut self, tier_id: u16, req: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let r = &self.requests[req];
        let step = &self.cfg.classes[r.class as usize].route[r.step as usize];
        let TierKind::Station(scfg) = &self.cfg.tiers[tier_id as usize].kind;
        let dist = step.demand.as_ref().unwrap_or(&scfg.service);
        let mut draw = KeyedRng::new(sub_key(r.key, r.step as u64));
        let demand = SimDuration::from_secs_f64(dist.sample(&mut draw));
        let wait = now - r.entered;
        let Tier::Station(st) = &mut self.tiers[tier_id as usize];
        if self.measuring {
            st.started += 1;
            if !wait.is_zero() {
                st.waited += 1;
                st.wait_ns += wait.as_nanos() as u128;
            }
        }
        ctx.schedule_in(demand, Event::Departure { tier: tier_id, req });
    }

    fn departure(&mut self, tier_id: u16, req: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let entered = self.requests[req].entered;
        let Tier::Station(st) = &mut self.tiers[tier_id as usize];
        if self.measuring {
            st.completed += 1;
            st.sojourn_ns += (now - entered).as_nanos() as u128;
        }
        if let Some(next) = st.queue.pop_front() {
            st.queue_tw.set(now, st.queue.len() as f64);
            self.start_service(tier_id, next, ctx);
        } else {
            st.busy -= 1;
            st.busy_tw.set(now, st.busy as f64);
        }
        self.advance(req, ctx);
    }

    /// Moves `req` to its next step, or completes it.
    fn advance(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let r = &mut self.requests[req];
        r.step += 1;
        if (r.step as usize) < self.cfg.classes[r.class as usize].route.len() {
            self.enter_step(req, ctx);
        } else {
            let r = self.requests.remove(req);
            if r.measured {
                let class = &mut self.classes[r.class as usize];
                class.counts.completed += 1;
                class.latency.record(ctx.now() - r.created);
            }
        }
    }

    fn reject(&mut self, req: u32) {
        let r = self.requests.remove(req);
        if r.measured {
            self.classes[r.class as usize].counts.rejected += 1;
        }
    }

    fn warmup_end(&mut self, now: SimTime) {
        self.measuring = true;
        for tier in &mut self.tiers {
            match tier {
                Tier::Station(st) => st.restart_statistics(now),
            }
        }
    }

    /// Collects the replication's results at the end of the run.
    pub fn finish(mut self, now: SimTime, replication: u64, events: u64) -> ReplicationResult {
        for (_, r) in self.requests.iter() {
            if r.measured {
                self.classes[r.class as usize].counts.in_flight += 1;
            }
        }
        let measured = self.cfg.measured();
        let classes = self
            .classes
            .into_iter()
            .zip(&self.cfg.classes)
            .map(|(state, cfg)| ClassResult {
                name: cfg.name.clone(),
                counts: state.counts,
                latency: state.latency,
            })
            .collect();
        let tiers = self
            .tiers
            .iter()
            .zip(&self.cfg.tiers)
            .map(|(state, cfg)| TierResult {
                name: cfg.name.clone(),
                kind: cfg.kind.label(),
                metrics: match state {
                    Tier::Station(st) => st.metrics(now, measured),
                },
            })
            .collect();
        ReplicationResult {
            replication,
            events,
            measured,
            classes,
            tiers,
        }
    }
}

#[inline]
fn next_interarrival(class: &mut ClassState, arrivals: &Arrivals) -> SimDuration {
    match arrivals {
        Arrivals::Poisson { .. } => {
            SimDuration::from_secs_f64(exp1(&mut class.arrivals) * class.mean_interarrival_s)
        }
    }
}

impl Model for Platform<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
        match event {
            Event::Arrival { class } => self.arrival(class, ctx),
            Event::Departure { tier, req } => self.departure(tier, req, ctx),
            Event::WarmupEnd => self.warmup_end(ctx.now()),
        }
    }
}

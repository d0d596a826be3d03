//! An API pool: a load balancer in front of identical instances.
//!
//! ```text
//!               ┌─► instance 0: admission (workers / max connections) ─► backlog ─► CPU cores (FCFS)
//!   balancer ───┼─► instance 1: …
//!               └─► instance N−1        (instances launch, serve, drain and terminate: see `life`)
//! ```
//!
//! Admission is event-driven: a sync worker is held while the request waits on
//! caches and databases, so its release time is not known on entry. CPU bursts
//! are FCFS on the instance's cores and computed on submission.

use std::collections::VecDeque;

use std::ops::Range;

use sim_engine::{
    Integral, IntervalAverages, IntervalCounts, IntervalLatency, SimDuration, SimTime, StreamRng,
    TimeWeighted,
};

use super::life::{Life, Lifetime, scale_in_choice};
use super::{
    BuildContext, Crash, Drained, Elastic, Noun, ScalingFacts, Surplus, TierModel, TierReport,
    Vocabulary,
};
use crate::event_unit::{Discipline, EventUnit};
use crate::fcfs::{FcfsUnit, Figures, Measured, Sums, ratio};
use crate::scaling::{Metric, Termination};
use crate::series::{Accumulator, Spec, divide, divided};
use crate::tier::report::{Figure, Serving, Unit, UnitResult};

/// What an API pool scales and serves with.
pub const INSTANCE: Noun = Noun::new("instance", "instances");

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "api",
    // An EC2 instance: about a minute to boot, half a minute for the
    // application to pass its health check.
    scaling: Some(ScalingFacts {
        unit: INSTANCE,
        least: 1,
        boot: SimDuration::from_secs(60),
        warmup: SimDuration::from_secs(30),
        metrics: &[
            "cpu",
            "request_rate",
            "latency_pNN",
            "queue_depth",
            "memory",
        ],
    }),
    own_bill: true,
    priced_otherwise: None,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    RoundRobin,
    /// Fewest requests at the instance (admitted plus waiting).
    LeastConnections,
    Random,
    /// Two instances drawn at random, the one with fewer requests wins.
    PowerOfTwo,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerMode {
    /// A worker is held for the request's whole stay, including while it waits
    /// on caches and databases (gunicorn sync, Puma, PHP-FPM).
    Sync,
    /// Workers are event loops: a request holds one only during CPU bursts
    /// (uvicorn, Node.js).
    Async,
}

/// A pool of identical API instances behind a load balancer.
///
/// Admission: an instance serves at most `workers` requests at a time in sync
/// mode, `max_connections` in async mode; others wait in its backlog of at
/// most `backlog` requests, and an arrival finding the backlog full is
/// rejected. CPU: every burst needs a core, FCFS, from `cores` cores (sync) or
/// min(`cores`, `workers`) event loops (async).
#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub instances: u32,
    pub cores: u32,
    pub workers: u32,
    pub mode: WorkerMode,
    pub max_connections: u32,
    pub backlog: u32,
    pub balancer: Balancer,
    /// Latency the balancer adds to each request (0 for none).
    pub balancer_latency: SimDuration,
    /// How CPU bursts share the cores: FCFS (a burst holds a core until it
    /// is done) or processor sharing (every burst in progress gets an equal
    /// share, as time slices or an event loop interleaving requests give).
    pub cpu: Discipline,
    /// Memory per instance and what uses it (`None`: not modelled).
    pub memory: Option<ApiMemory>,
    /// CPU credits of a burstable instance type (`None`: not modelled).
    pub credits: Option<ApiCredits>,
    /// Speed of one core against the one CPU demands were measured on: a
    /// burst of demand d takes d / `vcpu_speed`.
    pub vcpu_speed: f64,
}

/// CPU credits of a burstable (T) instance: one credit is one vCPU busy for
/// one minute. Balances are updated at each metrics tick from the busy time
/// since the last one; see docs/models.md for what that approximates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApiCredits {
    /// Unlimited mode: never throttled, a negative balance is surplus,
    /// billed. Standard mode: an instance with no credits is throttled to
    /// its baseline.
    pub unlimited: bool,
    /// Baseline utilisation per vCPU (a fraction): credits earned per
    /// vCPU-minute.
    pub baseline: f64,
    /// vCPUs of the instance type (what it earns on; `cores` may differ).
    pub vcpus: u32,
    /// Credits at launch.
    pub initial: f64,
    /// Most credits an instance holds.
    pub max: f64,
    /// USD per surplus credit.
    pub surplus_price: f64,
}

/// An instance's memory: a fixed base (runtime, code, caches) plus an
/// amount per admitted request. An arrival that would take the instance past
/// its capacity is refused (rejected), as a load-shedding server does; the
/// OOM killer is not modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApiMemory {
    /// Bytes per instance.
    pub capacity: u64,
    /// Bytes in use on an instance with no request.
    pub base: u64,
    /// Bytes each admitted request holds until it leaves.
    pub per_request: u64,
}

impl ApiMemory {
    /// Most requests an instance can hold.
    pub fn max_requests(&self) -> u64 {
        (self.capacity - self.base)
            .checked_div(self.per_request)
            .unwrap_or(u64::MAX)
    }
}

impl super::ConfigUnits for ApiConfig {
    fn scaled_units(&self) -> Option<u32> {
        Some(self.instances)
    }
    fn set_scaled_units(&mut self, n: u32) {
        self.instances = n;
    }
    fn failure_units(&self) -> Range<u32> {
        0..self.instances
    }
}

pub(crate) struct Instance {
    /// Not crashed.
    up: bool,
    pub epoch: u32,
    pub life: Lifetime,
    /// Requests admitted (holding a worker in sync mode, a connection in async).
    pub active: u32,
    /// Requests waiting for admission, with the time they arrived.
    pub backlog: VecDeque<(u32, SimTime)>,
    pub cpu: Cpu,
    down_count: u32,
    /// CPU busy time at the last metrics tick.
    busy_mark: u128,
    /// Each burst's demand is multiplied by this: 1 / (`share` × vCPU speed).
    pub slowdown: f64,
    /// CPU credit balance (negative: surplus, unlimited mode only).
    credits: f64,
    /// CPU busy time at the last credit update.
    credit_mark: u128,
    /// The share of a core a busy core gets until the next credit update (1
    /// unless throttled), and what it got over the tick before.
    share: f64,
    was_share: f64,
}

impl Instance {
    /// Requests at the instance: what least-connections balancing compares.
    #[inline]
    pub fn load(&self) -> u32 {
        self.active + self.backlog.len() as u32
    }

    /// Takes new requests.
    fn routable(&self) -> bool {
        self.up && self.life.in_service()
    }
}

/// An instance's cores: FCFS bursts computed on arrival, or shared ones
/// driven by events.
pub(crate) enum Cpu {
    Fcfs(FcfsUnit),
    Shared(EventUnit),
}

impl Cpu {
    fn figures(&self) -> &dyn Figures {
        match self {
            Cpu::Fcfs(u) => u,
            Cpu::Shared(u) => u,
        }
    }

    fn busy_until(&mut self, now: SimTime) -> u128 {
        match self {
            Cpu::Fcfs(u) => u.busy_until(now),
            Cpu::Shared(u) => u.busy_until(now),
        }
    }

    /// The instance went away: its bursts are void. Returns the requests
    /// whose burst a shared CPU held.
    fn crash(&mut self, now: SimTime, track: bool) -> Vec<u32> {
        match self {
            Cpu::Fcfs(u) => {
                if track {
                    u.crash(now);
                }
                Vec::new()
            }
            Cpu::Shared(u) => u.crash(now),
        }
    }

    fn settle(&mut self, now: SimTime) {
        match self {
            Cpu::Fcfs(u) => u.settle(),
            Cpu::Shared(u) => u.settle(now),
        }
    }

    /// Adds the busy time of the intervals before `upto` (which end by
    /// `reached`) to the tier's sum, and frees the instance's.
    fn drain_series(&mut self, busy: &mut IntervalCounts, upto: usize, reached: SimTime) {
        let series = match self {
            Cpu::Fcfs(u) => u.closing_series(),
            Cpu::Shared(u) => u.closing_series(reached),
        };
        let sums = Sums {
            busy: Some(busy),
            ..Sums::default()
        };
        series
            .expect("instances keep series")
            .drain_into(sums, upto);
    }
}

/// What happened to a request arriving at the pool.
pub(crate) enum Entry {
    /// Admitted on instance `i`: continue at once.
    Admitted(u32),
    /// Waiting in instance `i`'s backlog.
    Queued(u32),
    /// No room, or no instance in service.
    Rejected,
}

/// What a request leaving an instance set off.
pub(crate) struct Leave {
    /// The backlog request admitted in its place.
    pub next: Option<u32>,
    /// The instance was draining and is now empty: it terminated.
    pub terminated: bool,
}

/// One metrics tick of the pool: numerators and denominators, so ticks add up
/// over a policy's period.
#[derive(Clone, Copy, Debug, Default)]
struct ApiSample {
    /// Busy core-ns and in-service core-ns.
    pub busy: f64,
    pub capacity: f64,
    /// Requests offered, and in-service instance-seconds.
    pub requests: f64,
    pub instance_seconds: f64,
    /// ∫ backlog dt (request·ns), and the tick's length in ns.
    pub backlog_area: f64,
    pub length: f64,
    /// ∫ memory in use dt (byte·ns) over in-service instances.
    pub memory_area: f64,
}

pub(crate) struct ApiTier {
    pub instances: Vec<Instance>,
    cores: u32,
    cpu_servers: u32,
    cpu: Discipline,
    track: bool,
    admit_limit: u32,
    /// Requests an instance's memory holds (`u32::MAX` without a memory
    /// model): kept here so that admission tests one number.
    memory_cap: u32,
    backlog_limit: u32,
    balancer: Balancer,
    rr_next: u32,
    /// Requests at each instance (`u32::MAX` when not routable): what the
    /// balancer compares, kept compact so scanning it stays in cache.
    loads: Vec<u32>,
    /// Routable instances, in index order.
    up_list: Vec<u32>,
    rng: StreamRng,
    measured: Measured,
    // Statistics of the event-driven parts over the measured period.
    offered: u64,
    rejected: u64,
    errors: u64,
    admitted: u64,
    admission_wait_ns: u128,
    departures: u64,
    backlog_tw: TimeWeighted,
    active_tw: TimeWeighted,
    /// Routable instances.
    up_tw: TimeWeighted,
    backlog_total: u32,
    active_total: u32,
    // For metrics ticks (cumulative since the start).
    offered_all: u64,
    offered_mark: u64,
    backlog_int: Integral,
    backlog_mark: f64,
    spec: Spec,
    offered_series: IntervalCounts,
    /// Busy core·ns of every instance, summed as intervals close.
    busy_series: IntervalCounts,
    /// Time on an instance (balancer to leaving), by the interval it left.
    latency_series: IntervalLatency,
    departures_series: IntervalCounts,
    errors_series: IntervalCounts,
    backlog_series: IntervalAverages,
    up_series: IntervalAverages,
    memory: Option<MemoryState>,
    credits: Option<CreditState>,
    vcpu_speed: f64,
}

/// The tier's side of CPU credits: when balances were last updated and what
/// the figures need.
struct CreditState {
    cfg: ApiCredits,
    last: SimTime,
    /// Instance-ns throttled, and credits spent by instances in service in
    /// ticks that ended in the measured window.
    throttled_ns: f64,
    spent: f64,
    /// Mean balance over instances in service.
    balance_series: IntervalAverages,
    /// Unlimited mode: the change of surplus (credits owed: the negative
    /// part of each balance) since `owed_from`, not yet billed, and over
    /// the measured window (each tick's change weighted by its share of
    /// the window, as the bill weighs it).
    owed: f64,
    owed_from: Option<SimTime>,
    surplus_measured: f64,
}

/// Memory in use over the in-service instances, for the figures, series and
/// the `memory` scaling metric.
struct MemoryState {
    cfg: ApiMemory,
    /// Requests admitted on routable instances.
    served_active: u32,
    rejected: u64,
    used_tw: TimeWeighted,
    used_int: Integral,
    used_mark: f64,
    used_series: IntervalAverages,
}

impl ApiTier {
    pub fn new(cfg: &ApiConfig, ctx: &BuildContext) -> Self {
        let (spec, track) = (ctx.spec, ctx.voidable);
        let cpu_servers = match cfg.mode {
            WorkerMode::Sync => cfg.cores,
            WorkerMode::Async => cfg.cores.min(cfg.workers),
        };
        let admit_limit = match cfg.mode {
            WorkerMode::Sync => cfg.workers,
            WorkerMode::Async => cfg.max_connections,
        };
        let mut tier = ApiTier {
            instances: Vec::new(),
            cores: cfg.cores,
            cpu_servers,
            cpu: cfg.cpu,
            track,
            admit_limit,
            backlog_limit: cfg.backlog,
            balancer: cfg.balancer,
            rr_next: 0,
            loads: Vec::new(),
            up_list: Vec::new(),
            rng: ctx.streams.stream(&format!("balancer/{}", ctx.name)),
            measured: ctx.measured,
            offered: 0,
            rejected: 0,
            errors: 0,
            admitted: 0,
            admission_wait_ns: 0,
            departures: 0,
            backlog_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            active_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            up_tw: TimeWeighted::new(SimTime::ZERO, cfg.instances as f64),
            backlog_total: 0,
            active_total: 0,
            offered_all: 0,
            offered_mark: 0,
            backlog_int: Integral::new(0.0),
            backlog_mark: 0.0,
            spec,
            offered_series: spec.counts(),
            busy_series: spec.counts(),
            latency_series: IntervalLatency::new(spec.interval, spec.horizon),
            departures_series: spec.counts(),
            errors_series: spec.counts(),
            backlog_series: spec.averages(0.0),
            up_series: spec.averages(cfg.instances as f64),
            vcpu_speed: cfg.vcpu_speed,
            memory_cap: cfg
                .memory
                .map_or(u32::MAX, |m| m.max_requests().min(u32::MAX as u64) as u32),
            credits: cfg.credits.map(|c| CreditState {
                cfg: c,
                last: SimTime::ZERO,
                throttled_ns: 0.0,
                spent: 0.0,
                balance_series: spec.averages(c.initial),
                owed: 0.0,
                owed_from: None,
                surplus_measured: 0.0,
            }),
            memory: cfg.memory.map(|m| {
                let used = m.base as f64 * cfg.instances as f64;
                MemoryState {
                    cfg: m,
                    served_active: 0,
                    rejected: 0,
                    used_tw: TimeWeighted::new(SimTime::ZERO, used),
                    used_int: Integral::new(used),
                    used_mark: 0.0,
                    used_series: spec.averages(used),
                }
            }),
        };
        for _ in 0..cfg.instances {
            let unit = tier.new_instance(Lifetime::running(SimTime::ZERO));
            tier.instances.push(unit);
            tier.loads.push(0);
        }
        tier.refresh_balancer();
        tier
    }

    fn new_instance(&self, life: Lifetime) -> Instance {
        Instance {
            up: true,
            epoch: 0,
            life,
            active: 0,
            backlog: VecDeque::new(),
            cpu: match self.cpu {
                Discipline::Fcfs => Cpu::Fcfs(
                    FcfsUnit::new(self.cpu_servers, self.measured)
                        .tracking(self.track)
                        .with_series(self.spec.interval, self.spec.horizon, false),
                ),
                d => Cpu::Shared(
                    EventUnit::new(self.cpu_servers, d, self.measured).with_series(
                        self.spec.interval,
                        self.spec.horizon,
                        false,
                    ),
                ),
            },
            down_count: 0,
            busy_mark: 0,
            slowdown: 1.0 / self.vcpu_speed,
            credits: self.credits.as_ref().map_or(0.0, |c| c.cfg.initial),
            credit_mark: 0,
            share: 1.0,
            was_share: 1.0,
        }
    }

    /// Updates every running instance's CPU credits with its busy time since
    /// the last update, and throttles (standard mode) those left without.
    fn update_credits(&mut self, now: SimTime) {
        let Some(cs) = &mut self.credits else {
            return;
        };
        let from = cs.last;
        cs.last = now;
        let cfg = cs.cfg;
        // Minutes since the last update.
        let tick = now.saturating_since(from).as_nanos() as f64 / 60e9;
        let overlap = |a: SimTime, b: SimTime| {
            let lo = a.as_nanos().max(self.measured.from);
            let hi = b.as_nanos().min(self.measured.to);
            hi.saturating_sub(lo) as f64
        };
        let (mut sum, mut n) = (0.0, 0u32);
        let mut owed = 0.0;
        for inst in &mut self.instances {
            let busy = inst.cpu.busy_until(now);
            let used_min = (busy - inst.credit_mark) as f64 / 60e9;
            inst.credit_mark = busy;
            inst.was_share = inst.share;
            if !inst.up || inst.life.life == Life::Terminated {
                continue;
            }
            let start = from.max(inst.life.launched);
            let minutes = now.saturating_since(start).as_nanos() as f64 / 60e9;
            // A throttled burst's busy time was stretched by 1 / share.
            if inst.share < 1.0 {
                cs.throttled_ns += overlap(start, now);
            }
            let spent = used_min * inst.share;
            if inst.life.in_service() && minutes > 0.0 {
                // The share of the tick inside the measured window.
                cs.spent += spent * overlap(start, now) / (minutes * 60e9);
            }
            let earn = cfg.baseline * cfg.vcpus as f64;
            let owed_before = (-inst.credits).max(0.0);
            inst.credits = (inst.credits + earn * minutes - spent).min(cfg.max);
            if cfg.unlimited {
                // Surplus spent (or paid back by earnings) over this tick.
                owed += (-inst.credits).max(0.0) - owed_before;
            }
            if !cfg.unlimited && tick > 0.0 {
                // Over the next tick (as long as this one) a busy core may
                // spend what it has and earns, and no less than the
                // baseline: the speed is lowered gradually as credits run
                // out, not switched off for a whole tick.
                inst.credits = inst.credits.max(0.0);
                let cores = self.cores as f64;
                let floor = (earn / cores).min(1.0);
                inst.share = ((inst.credits + earn * tick) / (cores * tick)).clamp(floor, 1.0);
                inst.slowdown = 1.0 / (inst.share * self.vcpu_speed);
            }
            if inst.routable() {
                sum += inst.credits;
                n += 1;
            }
        }
        if n > 0 {
            cs.balance_series.set(now, sum / n as f64);
        }
        if owed != 0.0 && now > from {
            cs.owed += owed;
            cs.owed_from.get_or_insert(from);
            cs.surplus_measured += owed * overlap(from, now) / (now - from).as_nanos() as f64;
        }
    }

    /// CPU credits are modelled: balances need a tick.
    pub fn has_credits(&self) -> bool {
        self.credits.is_some()
    }

    fn up_count(&self) -> u32 {
        self.up_list.len() as u32
    }

    /// Rebuilds the balancer's view after an instance went down, came up,
    /// joined or left service.
    fn refresh_balancer(&mut self) {
        self.up_list = (0..self.instances.len() as u32)
            .filter(|&i| self.instances[i as usize].routable())
            .collect();
        for (i, inst) in self.instances.iter().enumerate() {
            self.loads[i] = if inst.routable() {
                inst.load()
            } else {
                u32::MAX
            };
        }
    }

    fn record_up(&mut self, now: SimTime) {
        self.refresh_balancer();
        let up = self.up_count() as f64;
        self.up_tw.set(now, up);
        self.up_series.set(now, up);
        if let Some(m) = &mut self.memory {
            m.served_active = self
                .up_list
                .iter()
                .map(|&i| self.instances[i as usize].active)
                .sum();
        }
        self.record_memory(now);
    }

    /// Memory in use changed (requests or instances in service).
    fn record_memory(&mut self, now: SimTime) {
        let up = self.up_list.len() as f64;
        if let Some(m) = &mut self.memory {
            let used = m.cfg.base as f64 * up + m.cfg.per_request as f64 * m.served_active as f64;
            m.used_tw.set(now, used);
            m.used_int.set(now, used);
            m.used_series.set(now, used);
        }
    }

    /// Requests admitted on a routable instance changed by `delta`.
    fn served_delta(&mut self, now: SimTime, delta: i32) {
        if let Some(m) = &mut self.memory {
            m.served_active = (m.served_active as i32 + delta) as u32;
            self.record_memory(now);
        }
    }

    /// Picks a routable instance by the balancing policy.
    fn pick(&mut self) -> Option<u32> {
        let up = self.up_list.len();
        if up == 0 {
            return None;
        }
        Some(match self.balancer {
            Balancer::RoundRobin => {
                let i = self.up_list[self.rr_next as usize % up];
                self.rr_next = self.rr_next.wrapping_add(1);
                i
            }
            Balancer::LeastConnections => {
                // Others carry u32::MAX; ties go to the lowest index.
                let mut best = 0;
                let mut best_load = u32::MAX;
                for (i, &l) in self.loads.iter().enumerate() {
                    if l < best_load {
                        best = i;
                        best_load = l;
                    }
                }
                best as u32
            }
            Balancer::Random => self.up_list[self.rng.below(up as u64) as usize],
            Balancer::PowerOfTwo => {
                let a = self.up_list[self.rng.below(up as u64) as usize];
                let b = self.up_list[self.rng.below(up as u64) as usize];
                if self.loads[b as usize] < self.loads[a as usize] {
                    b
                } else {
                    a
                }
            }
        })
    }

    fn measuring(&self, now: SimTime) -> bool {
        self.measured.contains(now.as_nanos())
    }

    fn set_backlog(&mut self, now: SimTime, delta: i32) {
        self.backlog_total = (self.backlog_total as i32 + delta) as u32;
        let b = self.backlog_total as f64;
        self.backlog_tw.set(now, b);
        self.backlog_series.set(now, b);
        self.backlog_int.set(now, b);
    }

    fn reject(&mut self, now: SimTime, measuring: bool) -> Entry {
        if measuring {
            self.rejected += 1;
        }
        self.errors_series.add(now, 1.0);
        Entry::Rejected
    }

    fn set_active(&mut self, now: SimTime, delta: i32) {
        self.active_total = (self.active_total as i32 + delta) as u32;
        self.active_tw.set(now, self.active_total as f64);
    }

    /// An instance is in service (what a health check sees).
    pub fn alive(&self) -> bool {
        !self.up_list.is_empty()
    }

    /// The backlog holds at least `max_backlog` of its room (with no
    /// backlog: every admission slot is taken): what a global load
    /// balancer's spillover reads. A pool with no instance up is not
    /// saturated but dead, which only a health check finds out.
    #[inline]
    pub fn saturated(&self, max_backlog: f64) -> bool {
        let up = self.up_list.len() as f64;
        if up == 0.0 {
            return false;
        }
        if self.backlog_limit == 0 {
            return self.active_total as f64 >= self.admit_limit as f64 * up;
        }
        self.backlog_total as f64 >= max_backlog * self.backlog_limit as f64 * up
    }

    /// A worker is free but its instance's memory is not.
    #[cold]
    fn reject_for_memory(&mut self, now: SimTime, measuring: bool) -> Entry {
        if measuring && let Some(m) = &mut self.memory {
            m.rejected += 1;
        }
        self.reject(now, measuring)
    }

    /// A request arrives at the balancer.
    pub fn enter(&mut self, req: u32, now: SimTime) -> Entry {
        let measuring = self.measuring(now);
        if measuring {
            self.offered += 1;
        }
        self.offered_all += 1;
        self.offered_series.add(now, 1.0);
        let Some(i) = self.pick() else {
            return self.reject(now, measuring);
        };
        let limit = self.admit_limit;
        let backlog_limit = self.backlog_limit;
        let inst = &mut self.instances[i as usize];
        if inst.active < limit {
            if inst.active >= self.memory_cap {
                return self.reject_for_memory(now, measuring);
            }
            inst.active += 1;
            self.loads[i as usize] += 1;
            if measuring {
                self.admitted += 1;
            }
            self.set_active(now, 1);
            self.served_delta(now, 1);
            Entry::Admitted(i)
        } else if (inst.backlog.len() as u32) < backlog_limit {
            inst.backlog.push_back((req, now));
            self.loads[i as usize] += 1;
            self.set_backlog(now, 1);
            Entry::Queued(i)
        } else {
            self.reject(now, measuring)
        }
    }

    /// A request that reached the balancer at `since` leaves instance `i`
    /// (done or failed).
    pub fn leave(&mut self, i: u32, since: SimTime, now: SimTime) -> Leave {
        if self.measuring(now) {
            self.departures += 1;
        }
        self.departures_series.add(now, 1.0);
        self.latency_series.record(now, now - since);
        let inst = &mut self.instances[i as usize];
        if inst.loads_valid() {
            self.loads[i as usize] -= 1;
        }
        if let Some((next, since)) = inst.backlog.pop_front() {
            // The worker passes straight to the next request.
            if self.measured.contains(since.as_nanos()) {
                self.admitted += 1;
                self.admission_wait_ns += (now - since).as_nanos() as u128;
            }
            self.set_backlog(now, -1);
            return Leave {
                next: Some(next),
                terminated: false,
            };
        }
        inst.active -= 1;
        // Only a memory model asks whether the instance is in service.
        let served = self.memory.is_some() && inst.routable();
        let done_draining = inst.life.life == Life::Draining && inst.load() == 0;
        if done_draining {
            inst.life.terminate(now);
        }
        self.set_active(now, -1);
        if served {
            self.served_delta(now, -1);
        }
        Leave {
            next: None,
            terminated: done_draining,
        }
    }

    /// Empties instance `i` (its work fails): returns its backlog and the
    /// requests whose CPU burst it dropped.
    fn evict(&mut self, i: u32, now: SimTime) -> (Vec<u32>, Vec<u32>) {
        let inst = &mut self.instances[i as usize];
        inst.epoch += 1;
        let dropped = inst.cpu.crash(now, self.track);
        let waiting: Vec<u32> = inst.backlog.drain(..).map(|(r, _)| r).collect();
        let active = inst.active;
        inst.active = 0;
        let served = inst.routable();
        self.set_backlog(now, -(waiting.len() as i32));
        self.set_active(now, -(active as i32));
        if served {
            self.served_delta(now, -(active as i32));
        }
        (waiting, dropped)
    }

    /// The drain timeout of instance `i` passed: if it is still draining, what
    /// remains fails (its backlog is returned; admitted requests are found by
    /// instance) and it terminates. `None` if it had already terminated.
    fn end_drain(&mut self, i: u32, now: SimTime) -> Option<(Vec<u32>, Vec<u32>)> {
        if self.instances[i as usize].life.life != Life::Draining {
            return None;
        }
        let evicted = self.evict(i, now);
        self.instances[i as usize].life.terminate(now);
        Some(evicted)
    }

    /// The metrics of the tick that ends at `now` (the last one ended at
    /// `prev`).
    fn sample_tick(&mut self, prev: SimTime, now: SimTime) -> ApiSample {
        let mut s = ApiSample {
            length: (now - prev).as_nanos() as f64,
            ..ApiSample::default()
        };
        for inst in &mut self.instances {
            let busy = inst.cpu.busy_until(now);
            if inst.up && inst.life.in_service() {
                let from = prev.max(inst.life.since);
                let served = now.saturating_since(from).as_nanos() as f64;
                // Throttled busy time was stretched; CPU used is the share.
                s.busy += (busy - inst.busy_mark) as f64 * inst.was_share;
                s.capacity += served * self.cores as f64;
                s.instance_seconds += served / 1e9;
            }
            inst.busy_mark = busy;
        }
        s.requests = (self.offered_all - self.offered_mark) as f64;
        self.offered_mark = self.offered_all;
        let area = self.backlog_int.at(now);
        s.backlog_area = area - self.backlog_mark;
        self.backlog_mark = area;
        if let Some(m) = &mut self.memory {
            let area = m.used_int.at(now);
            s.memory_area = area - m.used_mark;
            m.used_mark = area;
        }
        s
    }

    /// In-service core-ns over the measured period, per instance lifetimes.
    fn capacity_ns(&self, now: SimTime) -> f64 {
        self.up_tw.mean(now) * self.measured.len_ns() as f64 * self.cores as f64
    }

    fn metrics(&self, now: SimTime) -> Vec<Figure> {
        let secs = self.measured.len_ns() as f64 / 1e9;
        let busy: f64 = self
            .instances
            .iter()
            .map(|i| i.cpu.figures().stats().busy_ns as f64)
            .sum();
        let cpu_wait_ns: f64 = self
            .instances
            .iter()
            .map(|i| i.cpu.figures().stats().wait_ns as f64)
            .sum();
        let bursts: u64 = self
            .instances
            .iter()
            .map(|i| i.cpu.figures().stats().arrivals)
            .sum();
        let utils: Vec<f64> = self
            .instances
            .iter()
            .filter(|i| i.cpu.figures().stats().arrivals > 0)
            .map(|i| i.cpu.figures().utilization())
            .collect();
        let capacity = self.capacity_ns(now);
        use Unit::*;
        let mut figures = vec![
            // Pool CPU utilisation: busy core-time over the core-time of
            // instances in service (a crashed instance counts as idle while
            // it is down only if it is in service; see docs/models.md).
            Figure::new(
                "utilization",
                Fraction,
                if capacity > 0.0 {
                    busy / capacity
                } else {
                    f64::NAN
                },
            ),
            Figure::new(
                "queue_wait_ms",
                Milliseconds,
                ratio(self.admission_wait_ns as f64 / 1e6, self.admitted),
            ),
            Figure::new("queue_length", Average, self.backlog_tw.mean(now)),
            Figure::new("throughput_per_s", PerSecond, self.departures as f64 / secs),
            Figure::new(
                "cpu_wait_ms",
                Milliseconds,
                ratio(cpu_wait_ns / 1e6, bursts),
            ),
            Figure::new("in_service", Average, self.active_tw.mean(now)),
            Figure::new("instances_up", Average, self.up_tw.mean(now)),
            Figure::new(
                "utilization_min_instance",
                Fraction,
                utils.iter().copied().fold(f64::INFINITY, f64::min),
            ),
            Figure::new(
                "utilization_max_instance",
                Fraction,
                utils.iter().copied().fold(0.0, f64::max),
            ),
            Figure::new("instances_launched", Count, self.instances.len() as f64),
            Figure::new("offered", Count, self.offered as f64),
            Figure::new("rejected", Count, self.rejected as f64),
            Figure::new("errors", Count, self.errors as f64),
        ];
        if let Some(c) = &self.credits {
            let surplus = c.surplus_measured;
            figures.extend([
                // CPU time actually used (throttled bursts at the baseline's
                // share) over core-time in service, per tick.
                Figure::new(
                    "cpu_used",
                    Fraction,
                    if capacity > 0.0 {
                        c.spent * 60e9 / capacity
                    } else {
                        f64::NAN
                    },
                ),
                Figure::new("throttled_s", Seconds, c.throttled_ns / 1e9),
                Figure::new("surplus_credits", Count, surplus),
                Figure::new("surplus_credits_usd", Usd, surplus * c.cfg.surplus_price),
            ]);
        }
        if let Some(m) = &self.memory {
            let capacity = m.cfg.capacity as f64 * self.up_tw.mean(now);
            figures.extend([
                // Memory in use over the memory of instances in service,
                // time-averaged like `utilization`.
                Figure::new(
                    "memory_utilization",
                    Fraction,
                    if capacity > 0.0 {
                        m.used_tw.mean(now) / capacity
                    } else {
                        f64::NAN
                    },
                ),
                Figure::new("rejected_memory", Count, m.rejected as f64),
            ]);
        }
        figures
    }

    fn unit_results(&self) -> Vec<UnitResult> {
        self.instances
            .iter()
            .enumerate()
            .map(|(k, i)| UnitResult {
                name: format!("instance-{k}"),
                metrics: vec![
                    Figure::new("utilization", Unit::Fraction, i.cpu.figures().utilization()),
                    Figure::new(
                        "cpu_wait_ms",
                        Unit::Milliseconds,
                        i.cpu.figures().mean_wait_ms(),
                    ),
                    Figure::new(
                        "bursts",
                        Unit::Count,
                        i.cpu.figures().stats().arrivals as f64,
                    ),
                    Figure::new("launched_s", Unit::Seconds, i.life.launched.as_secs_f64()),
                ],
            })
            .collect()
    }

    fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let spec = self.spec;
        let lengths = spec.lengths();
        let end = SimTime::at(spec.horizon);
        let up = self.up_series.finish(end);
        let capacity: Vec<f64> = lengths
            .iter()
            .zip(&up)
            .map(|(l, u)| l * u * self.cores as f64)
            .collect();
        let memory = self.memory.as_mut().map(|m| {
            let capacity: Vec<f64> = up.iter().map(|u| u * m.cfg.capacity as f64).collect();
            // Both are time-averages over the interval.
            divide(&m.used_series.finish(end), &capacity)
        });
        let mut series = vec![
            ("arrivals", self.offered_series.take_values()),
            ("completed", self.departures_series.take_values()),
            ("errors", self.errors_series.take_values()),
            (
                "utilization",
                divided(self.busy_series.take_values(), &capacity),
            ),
            ("queue_length", self.backlog_series.finish(end)),
            (INSTANCE.many, up),
        ];
        if let Some(m) = memory {
            series.push(("memory_utilization", m));
        }
        if let Some(c) = &mut self.credits {
            series.push(("cpu_credit_balance", c.balance_series.finish(end)));
        }
        series
    }
}

impl TierModel for ApiTier {
    fn failure_units(&self) -> Range<u32> {
        0..self.instances.len() as u32
    }

    /// Instance `i` goes down: the requests waiting in its backlog fail, and
    /// those admitted on it (the caller finds them by their instance).
    fn crash(&mut self, i: u32, now: SimTime) -> Option<Crash> {
        let inst = &mut self.instances[i as usize];
        inst.down_count += 1;
        if inst.down_count > 1 {
            return None;
        }
        let epoch = inst.epoch;
        let (queued, dropped) = self.evict(i, now);
        self.instances[i as usize].up = false;
        self.record_up(now);
        // A draining instance has nothing left to drain.
        let terminated = self.end_drain(i, now).is_some();
        Some(Crash {
            epoch,
            queued,
            dropped,
            terminated,
            jobs: false,
        })
    }

    fn recover(&mut self, i: u32, now: SimTime) -> bool {
        let inst = &mut self.instances[i as usize];
        inst.down_count -= 1;
        if inst.down_count > 0 {
            return false;
        }
        inst.up = true;
        inst.epoch += 1;
        self.record_up(now);
        true
    }

    fn add_errors(&mut self, now: SimTime, n: u64) {
        if self.measuring(now) {
            self.errors += n;
        }
        self.errors_series.add(now, n as f64);
    }

    fn restart_statistics(&mut self, now: SimTime) {
        self.backlog_tw.reset(now);
        self.active_tw.reset(now);
        self.up_tw.reset(now);
        if let Some(m) = &mut self.memory {
            m.used_tw.reset(now);
        }
    }

    fn billed_units(&self) -> u32 {
        self.instances.len() as u32
    }

    fn lifetime(&self, unit: u32) -> Lifetime {
        self.instances[unit as usize].life
    }

    fn elastic(&mut self) -> Option<&mut dyn Elastic> {
        Some(self)
    }

    fn on_tick(&mut self, now: SimTime) {
        self.update_credits(now);
    }

    fn close_intervals(&mut self, upto: usize, reached: SimTime) {
        self.latency_series.close(upto);
        for i in &mut self.instances {
            i.cpu.drain_series(&mut self.busy_series, upto, reached);
        }
    }

    fn take_surplus(&mut self) -> Option<Surplus> {
        let cs = self.credits.as_mut()?;
        let from = cs.owed_from.take()?;
        let credits = std::mem::take(&mut cs.owed);
        Some(Surplus {
            from,
            to: cs.last,
            usd: credits * cs.cfg.surplus_price,
            // A credit is a vCPU-minute.
            vcpu_hours: credits / 60.0,
        })
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        f(Accumulator::Counts(&mut self.offered_series));
        f(Accumulator::Counts(&mut self.busy_series));
        f(Accumulator::Latency(&mut self.latency_series));
        f(Accumulator::Counts(&mut self.departures_series));
        f(Accumulator::Counts(&mut self.errors_series));
        f(Accumulator::Averages(&mut self.backlog_series));
        f(Accumulator::Averages(&mut self.up_series));
        if let Some(m) = &mut self.memory {
            f(Accumulator::Averages(&mut m.used_series));
        }
        if let Some(c) = &mut self.credits {
            f(Accumulator::Averages(&mut c.balance_series));
        }
    }

    fn report(&mut self, now: SimTime) -> TierReport {
        // Balances to the end of the run, for the surplus.
        if self.credits.as_ref().is_some_and(|c| c.last < now) {
            self.update_credits(now);
        }
        self.instances.iter_mut().for_each(|i| i.cpu.settle(now));
        TierReport {
            series: self.series(),
            latency: Some(self.latency_series.clone()),
            metrics: self.metrics(now),
            units: self.unit_results(),
            serving: Some(Serving::series(INSTANCE)),
        }
    }
}

impl Elastic for ApiTier {
    fn desired_count(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.life.is_desired())
            .count() as u32
    }

    fn ready_count(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.life.in_service())
            .count() as u32
    }

    fn launch(&mut self, now: SimTime) -> u32 {
        let unit = self.new_instance(Lifetime::booting(now));
        self.instances.push(unit);
        self.loads.push(u32::MAX);
        (self.instances.len() - 1) as u32
    }

    /// A launched instance is healthy: it joins the balancer.
    fn ready(&mut self, i: u32, now: SimTime) {
        let inst = &mut self.instances[i as usize];
        if inst.life.life == Life::Booting {
            inst.life.ready(now);
            inst.busy_mark = inst.cpu.busy_until(now);
            self.record_up(now);
        }
    }

    /// Booting ones first (newest first), then in-service ones in the
    /// termination order.
    fn scale_in_choice(&self, n: u32, order: Termination) -> Vec<u32> {
        scale_in_choice(self.instances.iter().map(|i| i.life), 0, n, order)
    }

    /// A booting instance is cancelled, an in-service one drains.
    fn begin_drain(&mut self, i: u32, now: SimTime) -> bool {
        let inst = &mut self.instances[i as usize];
        let terminated = match inst.life.life {
            Life::Booting => {
                inst.life.terminate(now);
                true
            }
            Life::InService => {
                inst.life.life = Life::Draining;
                if inst.load() == 0 {
                    inst.life.terminate(now);
                    true
                } else {
                    false
                }
            }
            Life::Draining | Life::Terminated => false,
        };
        self.record_up(now);
        terminated
    }

    fn drain_timeout(&mut self, i: u32, now: SimTime) -> Option<Drained> {
        let epoch = self.instances[i as usize].epoch;
        self.end_drain(i, now).map(|(queued, dropped)| Drained {
            epoch,
            queued,
            dropped,
            jobs: false,
        })
    }

    fn sample(&mut self, prev: SimTime, now: SimTime, metrics: &[Metric]) -> Vec<(f64, f64)> {
        let s = self.sample_tick(prev, now);
        metrics
            .iter()
            .map(|m| match m {
                Metric::Cpu => (s.busy, s.capacity),
                Metric::RequestRate => (s.requests, s.instance_seconds),
                Metric::QueueDepth => (s.backlog_area, s.length),
                Metric::Memory => (
                    s.memory_area,
                    s.instance_seconds
                        * 1e9
                        * self.memory.as_ref().map_or(0.0, |m| m.cfg.capacity as f64),
                ),
                // From the policy's own histogram.
                _ => (0.0, 0.0),
            })
            .chain([(s.instance_seconds * 1e9, s.length)])
            .collect()
    }
}

impl Instance {
    /// Its `loads` entry counts requests (it is routable or draining). A
    /// crashed or terminated instance's entry is `u32::MAX`, rebuilt on
    /// recovery.
    fn loads_valid(&self) -> bool {
        self.up && matches!(self.life.life, Life::InService)
    }
}

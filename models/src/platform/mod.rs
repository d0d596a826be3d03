//! The platform model: request classes flowing through tiers.
//!
//! ```text
//!   client (transaction) ──attempt──► program: [cdn] → balancer → API instance ─┬─ cpu
//!     │  timeout → give up, retry        (ops with jump targets)                ├─ cache get / set
//!     │  (server work is not cancelled)                                         ├─ database query
//!     └─ backoff ◄── error / rejection                                          ├─ enqueue job ─► workers
//!                                                                               └─ end: leave instance
//! ```
//!
//! A **transaction** is what a user asked for; an **attempt** is one try at
//! it on the servers. A client that times out abandons its attempt (which
//! runs on, using resources) and may retry after a backoff, so retries add
//! load exactly when the system is slowest: how a spike becomes a metastable
//! failure.
//!
//! **Randomness.** Each transaction takes a 64-bit key from its class's
//! demand stream when it is created; attempt `k` uses `sub_key(key, k)`, and
//! every draw an attempt makes at op `pc` (service time, branch, hit or miss,
//! shard) comes from a generator keyed by `(attempt key, pc)`. A request's
//! demands are thus fixed when it is created, by its class's stream alone:
//! changing capacity or policy elsewhere never changes what it asks for.
//!
//! **Time.** FCFS resources compute a job's start and end on submission
//! ([`crate::fcfs`]), so a step costs one `Resume` event. API admission and
//! worker queues are event-driven. Statistics cover the measured window.

use std::collections::VecDeque;

mod api;
mod autoscale;
mod cache;
mod db;
mod elastic;
mod faults;
mod life;
mod report;
mod station;
mod workers;

use sim_engine::{
    Arena, Context, IntervalLatency, KeyedRng, LatencyRecorder, Model, SimDuration, SimTime,
    StreamRng, Streams, exp1, sub_key,
};

use crate::config::{ClientPolicy, FailureTiming, Op, PlatformConfig, RateProfile, TierKind};
use crate::cost::{CostMeter, bytes_to_gb};
use crate::fcfs::Window;
use crate::results::{ClassSeries, ClientCounts, FailureRecord, RequestCounts, ScalingEvent};
use crate::series::Spec;
use crate::slo::{Objective, SloTracker};

use api::{ApiTier, Entry};
use autoscale::Scaler;
use cache::CacheTier;
use db::{DbTier, Outcome};
use station::StationTier;
use workers::WorkersTier;

/// The model's events: small and `Copy`, carrying ids only.
#[derive(Clone, Copy, Debug)]
// Eight bytes, so a queue entry is 24 (see sim_engine::queue).
pub enum Event {
    /// The next candidate arrival of a class (thinned to its rate profile).
    Arrival { class: u16 },
    /// An attempt's pending step finished: continue its program.
    Resume { req: u32 },
    /// A client's patience for attempt `attempt` of a transaction ran out.
    /// The earliest client deadline of a class has come: give up on the
    /// attempts whose deadline has passed.
    TimeoutCheck { class: u16 },
    /// A transaction's backoff ended: start its next attempt.
    Retry { txn: u32 },
    /// Run `run` of a job ended on its worker.
    JobDone { job: u32, run: u16 },
    /// A failed job's backoff ended: queue it again.
    JobRetry { job: u32 },
    /// Failure `failure` strikes unit `unit` of its tier.
    Fail { failure: u16, unit: u32 },
    /// Unit `unit` recovers from failure `failure`.
    Recover { failure: u16, unit: u32 },
    /// End of the warm-up period.
    WarmupEnd,
    /// The autoscalers' metrics tick.
    Tick,
    /// A launched unit (instance, worker, replica, shard) is ready.
    UnitReady { tier: u16, unit: u32 },
    /// A draining unit's time is up.
    DrainTimeout { tier: u16, unit: u32 },
    /// A scheduled scaling action of a tier.
    Scheduled { tier: u16, action: u16 },
    /// Routing re-reads the regions' health.
    HealthCheck,
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// Turned away (no room at an instance or station): HTTP 503.
    Rejected,
    /// An error: a crashed node, no database connection in time.
    Error,
}

/// Where an attempt's pending step runs: (tier, unit, epoch of the unit). A
/// crash bumps the unit's epoch and fails the attempts found here.
type Place = (u16, u32, u32);

/// `Attempt::txn` of an attempt whose class has neither a timeout nor
/// retries: the attempt answers its class directly, with no transaction.
const NO_TXN: u32 = u32::MAX;

struct Attempt {
    /// Its transaction, or [`NO_TXN`].
    txn: u32,
    /// When the request was created (the transaction's creation for attempts
    /// of one).
    created: SimTime,
    /// Created in the measured window.
    measured: bool,
    class: u16,
    /// The op it continues at when its pending step ends (while it waits in
    /// an API instance's backlog: the op that queued it). The interpreter
    /// keeps its own while it runs.
    pc: u16,
    attempt_no: u16,
    /// Finished or failed: no further steps; freed once no event refers to it.
    stopped: bool,
    /// A `Resume` event for this attempt is scheduled.
    pending_event: bool,
    /// The client gave up on it; it still runs but answers no one.
    abandoned: bool,
    /// The pending step ends in this failure.
    pending_error: Option<Failure>,
    /// Admitted on this API instance (it holds a worker or connection there).
    api: Option<Place>,
    /// When it reached the balancer (the start of its API response time).
    api_since: SimTime,
    /// Waiting in this instance's backlog.
    queued_on: Option<Place>,
    at: Option<Place>,
    key: u64,
}

impl Attempt {
    /// Marks it waiting for a step at `place`, to continue at `next_pc`
    /// (the caller schedules its `Resume`).
    #[inline(always)]
    fn park(&mut self, place: Option<Place>, next_pc: usize) {
        self.pending_event = true;
        self.at = place;
        self.pc = next_pc as u16;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TxnState {
    Active,
    Backoff,
    Done,
}

struct Txn {
    class: u16,
    created: SimTime,
    measured: bool,
    attempt_no: u16,
    current: u32,
    state: TxnState,
    /// Retry events outstanding.
    pending: u8,
    key: u64,
    /// Unique over the run: a client deadline names its transaction by id
    /// and serial, so a transaction is freed as soon as it is done (its id
    /// may be reused) while its deadline still waits in the queue.
    serial: u64,
}

/// A client's deadline for attempt `attempt` of transaction `txn`.
#[derive(Clone, Copy)]
struct Deadline {
    at: SimTime,
    txn: u32,
    attempt: u16,
    serial: u64,
}

struct Job {
    tier: u16,
    kind: u16,
    queue: u16,
    enqueued: SimTime,
    key: u64,
    /// Runs started so far.
    run: u16,
    worker: Option<u32>,
    /// JobDone and JobRetry events outstanding.
    pending: u8,
    done: bool,
}

struct ClassState {
    arrivals: StreamRng,
    demands: StreamRng,
    /// Mean candidate gap of the thinning envelope, seconds.
    envelope_gap_s: f64,
    envelope_multiplier: f64,
    /// Client deadlines in time order: every attempt of a class gets the
    /// same timeout, so deadlines arrive sorted and a FIFO replaces one heap
    /// event per attempt.
    deadlines: VecDeque<Deadline>,
    check_pending: bool,
    /// No timeout and no retries: requests need no transaction.
    direct: bool,
    counts: RequestCounts,
    client: ClientCounts,
    latency: LatencyRecorder,
    series: ClassSeries,
    /// End-to-end latency of answered requests, by the interval answered.
    latency_series: IntervalLatency,
    /// With regions: measured attempts routed to each region.
    served_by: Vec<u64>,
}

enum Tier {
    Station(StationTier),
    Api(ApiTier),
    Cache(CacheTier),
    Database(DbTier),
    Workers(WorkersTier),
    Cdn {
        requests: u64,
        hits: u64,
        requests_series: sim_engine::IntervalCounts,
        hits_series: sim_engine::IntervalCounts,
    },
}

impl Tier {
    /// Folds every FCFS unit's pending jobs into its statistics (see
    /// [`FcfsUnit::settle`](crate::fcfs::FcfsUnit::settle)) before they are
    /// reported.
    fn settle_units(&mut self) {
        match self {
            Tier::Station(s) => s.unit.settle(),
            Tier::Api(a) => a.instances.iter_mut().for_each(|i| i.cpu.settle()),
            Tier::Cache(c) => c.shards.iter_mut().for_each(|s| s.unit.settle()),
            Tier::Database(d) => d.nodes.iter_mut().for_each(|n| {
                n.pool.settle();
                n.cores.settle();
            }),
            Tier::Workers(_) | Tier::Cdn { .. } => {}
        }
    }
}

struct FailureState {
    units: Vec<u32>,
    /// Per unit, for random failure processes.
    rngs: Vec<StreamRng>,
}

/// What a query of an attempt draws at op `pc`, in a fixed order: its CPU
/// time, I/O time, a replica's apply time, then two uniforms (primary or
/// replica, which replica).
struct QueryDraws {
    write: bool,
    cpu: SimDuration,
    io: SimDuration,
    apply: SimDuration,
    u1: f64,
    u2: f64,
}

impl QueryDraws {
    fn new(cfg: &PlatformConfig, tier: u16, query: u16, key: u64, pc: usize) -> Self {
        let TierKind::Database(dcfg) = &cfg.tiers[tier as usize].kind else {
            unreachable!("validated: a query names a database tier")
        };
        let q = &dcfg.queries[query as usize];
        let mut r = draw(key, pc);
        let cpu = SimDuration::from_secs_f64(q.cpu.sample(&mut r));
        let io = q.io.as_ref().map_or(SimDuration::ZERO, |d| {
            SimDuration::from_secs_f64(d.sample(&mut r))
        });
        let apply = SimDuration::from_secs_f64(dcfg.apply_time.sample(&mut r));
        let (u1, u2) = (r.uniform01(), r.uniform01());
        QueryDraws {
            write: q.write,
            cpu,
            io,
            apply,
            u1,
            u2,
        }
    }
}

/// The generator of an attempt's draws at op `pc`.
#[inline]
fn draw(key: u64, pc: usize) -> KeyedRng {
    KeyedRng::new(sub_key(key, pc as u64))
}

/// One replication's model state.
pub struct Platform<'c> {
    cfg: &'c PlatformConfig,
    window: Window,
    warmup_end: SimTime,
    classes: Vec<ClassState>,
    tiers: Vec<Tier>,
    txns: Arena<Txn>,
    /// The next transaction's serial.
    txn_serial: u64,
    attempts: Arena<Attempt>,
    jobs: Arena<Job>,
    failures: Vec<FailureState>,
    failure_log: Vec<FailureRecord>,
    /// Per tier: its autoscaler, if it scales.
    scalers: Vec<Option<Scaler>>,
    /// The metrics tick of all autoscalers (and of cache sizing updates).
    tick: Option<SimDuration>,
    last_tick: SimTime,
    /// With regions: end-to-end latency of each region's users, per interval.
    region_latency: Vec<IntervalLatency>,
    scaling_log: Vec<ScalingEvent>,
    /// Per tier: its bill.
    costs: Vec<CostMeter>,
    /// Traffic: CDN bytes, and bytes sent from the origin directly.
    traffic: [CostMeter; 2],
    /// Per class: whether its route passes a CDN.
    has_cdn: Vec<bool>,
    slos: Vec<SloTracker>,
    /// Per class, and per worker tier: the objectives its outcomes feed.
    class_slos: Vec<Vec<u16>>,
    queue_slos: Vec<Vec<u16>>,
    /// With regions: whether each region takes new users (last health check).
    region_ok: Vec<bool>,
    routing_log: Vec<crate::results::RoutingEvent>,
    /// Per tier: the replica-only tiers in other regions its primary's
    /// writes replicate to, with the one-way latency.
    remote_replicas: Vec<Vec<(u16, SimDuration)>>,
}

impl<'c> Platform<'c> {
    pub fn new(cfg: &'c PlatformConfig, streams: Streams) -> Self {
        let interval = cfg.series_interval;
        let window = Window::new(SimTime::at(cfg.warmup), SimTime::at(cfg.horizon));
        let classes = cfg
            .classes
            .iter()
            .map(|c| {
                let m = c.arrivals.profile.envelope(cfg.horizon);
                ClassState {
                    arrivals: streams.stream(&format!("arrivals/{}", c.name)),
                    demands: streams.stream(&format!("demands/{}", c.name)),
                    envelope_gap_s: 1.0 / (c.arrivals.rate_per_s * m),
                    envelope_multiplier: m,
                    deadlines: VecDeque::new(),
                    check_pending: false,
                    direct: c.client.timeout.is_none() && c.client.retries == 0,
                    counts: RequestCounts::default(),
                    client: ClientCounts::default(),
                    latency: LatencyRecorder::new(),
                    series: ClassSeries::new(interval, cfg.horizon),
                    latency_series: IntervalLatency::new(interval, cfg.horizon),
                    served_by: vec![0; cfg.regions.as_ref().map_or(0, |r| r.regions.len())],
                }
            })
            .collect();
        let spec = Spec {
            interval,
            horizon: cfg.horizon,
        };
        let tiers = cfg
            .tiers
            .iter()
            .enumerate()
            // Units whose work can be voided (crashes, drain timeouts) keep
            // their jobs in flight.
            .map(|(i, t)| {
                let fails = cfg.failures.iter().any(|f| f.tier as usize == i);
                (fails || t.scaling.is_some(), t)
            })
            .map(|(fails, t)| match &t.kind {
                TierKind::Station(s) => Tier::Station(StationTier::new(s, window, spec, fails)),
                TierKind::Api(a) => Tier::Api(ApiTier::new(
                    a,
                    window,
                    streams.stream(&format!("balancer/{}", t.name)),
                    spec,
                    fails,
                )),
                TierKind::Cache(c) => Tier::Cache(CacheTier::new(c, window, spec, fails)),
                TierKind::Database(d) => Tier::Database(DbTier::new(d, window, spec, fails)),
                TierKind::Workers(w) => Tier::Workers(WorkersTier::new(w, window, spec)),
                TierKind::Cdn(_) => Tier::Cdn {
                    requests: 0,
                    hits: 0,
                    requests_series: spec.counts(),
                    hits_series: spec.counts(),
                },
            })
            .collect::<Vec<_>>();
        let failures = cfg
            .failures
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let units: Vec<u32> = match f.unit {
                    Some(u) => vec![u],
                    None => (faults::first_unit(&tiers[f.tier as usize])
                        ..faults::unit_count(&tiers[f.tier as usize]))
                        .collect(),
                };
                let rngs = units
                    .iter()
                    .map(|u| streams.stream(&format!("failures/{i}/{u}")))
                    .collect();
                FailureState { units, rngs }
            })
            .collect();
        // One tick for every autoscaler: the gcd of their ticks; caches whose
        // hit ratio follows a growing working set update on it too (every
        // minute if nothing else asks).
        let mut tick = cfg
            .tiers
            .iter()
            .filter_map(|t| t.scaling.as_ref().and_then(autoscale::tick_of))
            .map(|d| d.as_nanos())
            .reduce(autoscale::gcd);
        let sized_cache = cfg.tiers.iter().any(|t| {
            matches!(&t.kind, TierKind::Cache(c) if c.sizing.is_some_and(|s| s.growth_per_s != 0.0))
        });
        if tick.is_none() && sized_cache {
            tick = Some(60_000_000_000);
        }
        // Every tier with a scaling table has a scaler (scheduled actions
        // alone need one too); all sample on the common tick.
        let scalers: Vec<Option<Scaler>> = cfg
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let s = t.scaling.as_ref()?;
                let initial = elastic::desired_of(&tiers[i]);
                let tick = SimDuration::from_nanos(tick.unwrap_or(60_000_000_000));
                Some(Scaler::new(s, initial, tick))
            })
            .collect();
        let meter = || CostMeter::new(window, interval, cfg.horizon);
        let has_cdn = cfg
            .classes
            .iter()
            .map(|c| c.program.iter().any(|op| matches!(op, Op::Cdn { .. })))
            .collect();
        let slos = cfg
            .slos
            .iter()
            .map(|s| SloTracker::new(s, window))
            .collect();
        let class_slos = (0..cfg.classes.len())
            .map(|c| {
                (0..cfg.slos.len() as u16)
                    .filter(|&i| {
                        let s = &cfg.slos[i as usize];
                        !matches!(s.objective, Objective::QueueLatency { .. })
                            && (s.classes.is_empty() || s.classes.contains(&(c as u16)))
                    })
                    .collect()
            })
            .collect();
        let queue_slos = (0..cfg.tiers.len())
            .map(|t| {
                (0..cfg.slos.len() as u16)
                    .filter(|&i| {
                        let s = &cfg.slos[i as usize];
                        matches!(s.objective, Objective::QueueLatency { .. })
                            && s.tier == Some(t as u16)
                    })
                    .collect()
            })
            .collect();
        let mut remote_replicas = vec![Vec::new(); cfg.tiers.len()];
        for &(primary, remote, one_way) in cfg.regions.iter().flat_map(|r| &r.replication) {
            remote_replicas[primary as usize].push((remote, one_way));
        }
        Platform {
            region_ok: vec![true; cfg.regions.as_ref().map_or(0, |r| r.regions.len())],
            routing_log: Vec::new(),
            remote_replicas,
            cfg,
            window,
            warmup_end: SimTime::at(cfg.warmup),
            classes,
            tiers,
            txns: Arena::new(),
            txn_serial: 0,
            attempts: Arena::new(),
            jobs: Arena::new(),
            failures,
            failure_log: Vec::new(),
            scalers,
            tick: tick.map(SimDuration::from_nanos),
            last_tick: SimTime::ZERO,
            region_latency: cfg
                .regions
                .iter()
                .flat_map(|r| &r.regions)
                .map(|_| IntervalLatency::new(cfg.series_interval, cfg.horizon))
                .collect(),
            scaling_log: Vec::new(),
            costs: cfg.tiers.iter().map(|_| meter()).collect(),
            traffic: [meter(), meter()],
            has_cdn,
            slos,
            class_slos,
            queue_slos,
        }
    }

    /// The events that start a run.
    pub fn initial_events(&mut self) -> Vec<(SimTime, Event)> {
        let mut events = Vec::new();
        if !self.cfg.warmup.is_zero() {
            events.push((self.warmup_end, Event::WarmupEnd));
        }
        for i in 0..self.classes.len() {
            let gap = self.envelope_gap(i);
            events.push((SimTime::at(gap), Event::Arrival { class: i as u16 }));
        }
        for (fi, f) in self.cfg.failures.iter().enumerate() {
            for k in 0..self.failures[fi].units.len() {
                let unit = self.failures[fi].units[k];
                let at = match &f.timing {
                    FailureTiming::At { at, .. } => *at,
                    FailureTiming::Random { mtbf, .. } => SimDuration::from_secs_f64(
                        exp1(&mut self.failures[fi].rngs[k]) * mtbf.as_secs_f64(),
                    ),
                };
                if at < self.cfg.horizon {
                    events.push((
                        SimTime::at(at),
                        Event::Fail {
                            failure: fi as u16,
                            unit,
                        },
                    ));
                }
            }
        }
        if let Some(tick) = self.tick {
            events.push((SimTime::at(tick), Event::Tick));
        }
        if let Some(r) = &self.cfg.regions {
            events.push((SimTime::at(r.health_check), Event::HealthCheck));
        }
        for (ti, t) in self.cfg.tiers.iter().enumerate() {
            for (ai, a) in t
                .scaling
                .iter()
                .flat_map(|s| s.scheduled.iter().enumerate())
            {
                if a.at < self.cfg.horizon {
                    events.push((
                        SimTime::at(a.at),
                        Event::Scheduled {
                            tier: ti as u16,
                            action: ai as u16,
                        },
                    ));
                }
            }
        }
        events
    }

    fn measuring(&self, now: SimTime) -> bool {
        self.window.contains(now.as_nanos())
    }

    #[inline]
    fn envelope_gap(&mut self, class: usize) -> SimDuration {
        let c = &mut self.classes[class];
        SimDuration::from_secs_f64(exp1(&mut c.arrivals) * c.envelope_gap_s)
    }

    // ---- arrivals and transactions -------------------------------------

    fn arrival(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let ci = class as usize;
        let gap = self.envelope_gap(ci);
        // Each class's arrivals are one event ahead: a lane of their own
        // keeps them out of the heap (same order of events).
        ctx.schedule_lane_in(ci, gap, Event::Arrival { class });
        // Thinning: keep the candidate with probability rate(t) / envelope.
        let profile = &self.cfg.classes[ci].arrivals.profile;
        if *profile != RateProfile::Constant {
            let m = profile.multiplier(now.since_start());
            let c = &mut self.classes[ci];
            if c.arrivals.uniform() * c.envelope_multiplier >= m {
                return;
            }
        }
        let measured = self.measuring(now);
        let c = &mut self.classes[ci];
        let key = c.demands.next_u64();
        if measured {
            c.counts.arrived += 1;
        }
        c.series.arrivals.add(now, 1.0);
        if c.direct {
            // The same key derivation as attempt 0 of a transaction, so a
            // class draws the same numbers with or without one.
            let key = sub_key(key, 0);
            let req = self.attempts.insert(Attempt {
                txn: NO_TXN,
                created: now,
                measured,
                class,
                pc: 0,
                attempt_no: 0,
                stopped: false,
                pending_event: false,
                abandoned: false,
                pending_error: None,
                api: None,
                api_since: now,
                queued_on: None,
                at: None,
                key,
            });
            self.exec(req, ci, 0, key, ctx);
            return;
        }
        let serial = self.txn_serial;
        self.txn_serial += 1;
        let txn = self.txns.insert(Txn {
            class,
            created: now,
            measured,
            attempt_no: 0,
            current: self.attempts.next_id(),
            state: TxnState::Active,
            pending: 0,
            key,
            serial,
        });
        self.launch_attempt(txn, class, 0, now, measured, key, serial, ctx);
    }

    fn policy(&self, class: u16) -> &'c ClientPolicy {
        &self.cfg.classes[class as usize].client
    }

    /// Starts the transaction's next attempt (a retry).
    fn start_attempt(&mut self, txn: u32, ctx: &mut Context<'_, Event>) {
        let current = self.attempts.next_id();
        let t = &mut self.txns[txn];
        t.current = current;
        let (class, attempt_no, created, measured) = (t.class, t.attempt_no, t.created, t.measured);
        let (key, serial) = (t.key, t.serial);
        self.launch_attempt(txn, class, attempt_no, created, measured, key, serial, ctx);
    }

    /// Starts attempt `attempt_no` of transaction `txn` (whose fields the
    /// caller hands over, `current` already naming the attempt's id): the
    /// client's deadline, then its program.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn launch_attempt(
        &mut self,
        txn: u32,
        class: u16,
        attempt_no: u16,
        created: SimTime,
        measured: bool,
        txn_key: u64,
        serial: u64,
        ctx: &mut Context<'_, Event>,
    ) {
        let key = sub_key(txn_key, attempt_no as u64);
        let req = self.attempts.insert(Attempt {
            txn,
            created,
            measured,
            class,
            pc: 0,
            attempt_no,
            stopped: false,
            pending_event: false,
            abandoned: false,
            pending_error: None,
            api: None,
            api_since: SimTime::ZERO,
            queued_on: None,
            at: None,
            key,
        });
        debug_assert_eq!(self.txns[txn].current, req);
        if let Some(timeout) = self.policy(class).timeout {
            let deadline = ctx.now() + timeout;
            let c = &mut self.classes[class as usize];
            c.deadlines.push_back(Deadline {
                at: deadline,
                txn,
                attempt: attempt_no,
                serial,
            });
            if !c.check_pending {
                c.check_pending = true;
                ctx.schedule_at(deadline, Event::TimeoutCheck { class });
            }
        }
        self.exec(req, class as usize, 0, key, ctx);
    }

    fn txn_succeeded(&mut self, txn: u32, attempt_no: u16, now: SimTime) {
        let t = &mut self.txns[txn];
        if t.state != TxnState::Active || t.attempt_no != attempt_no {
            return;
        }
        // An active transaction has no retry pending (only a backoff
        // does): it is done and can go.
        debug_assert_eq!(t.pending, 0);
        let (class, created, measured) = (t.class, t.created, t.measured);
        self.txns.free(txn);
        self.answered(class, created, measured, now);
    }

    /// A client got its answer: counts, latency, objectives, traffic.
    fn answered(&mut self, class: u16, created: SimTime, measured: bool, now: SimTime) {
        let latency = now - created;
        let c = &mut self.classes[class as usize];
        if measured {
            c.counts.completed += 1;
            c.latency.record(latency);
        }
        c.series.completed.add(now, 1.0);
        c.latency_series.record(now, latency);
        if let Some(r) = self.cfg.classes[class as usize].region {
            self.region_latency[r as usize].record(now, latency);
        }
        for &s in &self.class_slos[class as usize] {
            let tracker = &mut self.slos[s as usize];
            let good = match &self.cfg.slos[s as usize].objective {
                Objective::Latency { threshold, .. } => latency <= *threshold,
                _ => true,
            };
            tracker.record(now, good);
        }
        let bytes = self.cfg.classes[class as usize].response_bytes;
        if bytes > 0.0 {
            let prices = self.cfg.traffic;
            let (line, price) = if self.has_cdn[class as usize] {
                (0, prices.cdn_per_gb)
            } else {
                (1, prices.egress_per_gb)
            };
            if price > 0.0 {
                self.traffic[line].charge(now, bytes_to_gb(bytes) * price);
            }
        }
    }

    /// A client gave up for good (failed or rejected).
    fn gave_up(&mut self, class: u16, measured: bool, why: Failure, now: SimTime) {
        let c = &mut self.classes[class as usize];
        if measured {
            match why {
                Failure::Rejected => c.counts.rejected += 1,
                Failure::Error => c.counts.failed += 1,
            }
        }
        c.series.failed.add(now, 1.0);
        for &s in &self.class_slos[class as usize] {
            // A latency objective judges answered requests only.
            if !matches!(
                self.cfg.slos[s as usize].objective,
                Objective::Latency { .. }
            ) {
                self.slos[s as usize].record(now, false);
            }
        }
    }

    fn txn_failed(
        &mut self,
        txn: u32,
        attempt_no: u16,
        why: Failure,
        ctx: &mut Context<'_, Event>,
    ) {
        let t = &self.txns[txn];
        if t.state != TxnState::Active || t.attempt_no != attempt_no {
            return;
        }
        let policy = self.policy(t.class);
        if policy.retry_on_error && t.attempt_no < policy.retries {
            self.schedule_retry(txn, ctx);
        } else {
            self.end_txn_failed(txn, why, ctx.now());
        }
    }

    fn end_txn_failed(&mut self, txn: u32, why: Failure, now: SimTime) {
        let t = &mut self.txns[txn];
        t.state = TxnState::Done;
        let (class, measured) = (t.class, t.measured);
        self.gave_up(class, measured, why, now);
        self.maybe_free_txn(txn);
    }

    fn timeout_check(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        self.classes[class as usize].check_pending = false;
        while let Some(&d) = self.classes[class as usize].deadlines.front() {
            let waiting = self.client_waits(d);
            if d.at > now && waiting {
                self.classes[class as usize].check_pending = true;
                ctx.schedule_at(d.at, Event::TimeoutCheck { class });
                break;
            }
            // Either the deadline has come, or the client no longer waits on
            // this attempt (it finished, failed or was retried): drop the
            // deadline now rather than waking up for it.
            self.classes[class as usize].deadlines.pop_front();
            if waiting {
                self.timeout(d.txn, d.attempt, ctx);
            }
        }
    }

    /// Whether the client still waits on the attempt of deadline `d`.
    #[inline]
    fn client_waits(&self, d: Deadline) -> bool {
        self.txns.get(d.txn).is_some_and(|t| {
            t.serial == d.serial && t.state == TxnState::Active && t.attempt_no == d.attempt
        })
    }

    /// The client of attempt `attempt_no` of `txn`, still waiting, gives up.
    fn timeout(&mut self, txn: u32, attempt_no: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let t = &self.txns[txn];
        debug_assert!(t.state == TxnState::Active && t.attempt_no == attempt_no);
        let (class, current, measured) = (t.class, t.current, t.measured);
        let a = &mut self.attempts[current];
        a.abandoned = true;
        let c = &mut self.classes[class as usize];
        if measured {
            c.client.timed_out += 1;
        }
        c.series.timed_out.add(now, 1.0);
        if attempt_no < self.policy(class).retries {
            self.schedule_retry(txn, ctx);
        } else {
            self.end_txn_failed(txn, Failure::Error, now);
        }
    }

    fn schedule_retry(&mut self, txn: u32, ctx: &mut Context<'_, Event>) {
        let t = &mut self.txns[txn];
        t.state = TxnState::Backoff;
        t.pending += 1;
        let (class, k, key, measured) = (t.class, t.attempt_no as u32 + 1, t.key, t.measured);
        let p = self.policy(class);
        let exp = p.backoff_base.as_secs_f64() * 2f64.powi(k as i32 - 1);
        let capped = exp.min(p.backoff_max.as_secs_f64());
        let u = draw(key, 0xB0FF_0000 + k as usize).uniform01();
        let delay = SimDuration::from_secs_f64(capped * (1.0 - p.jitter * u));
        if measured {
            self.classes[class as usize].client.retries += 1;
        }
        ctx.schedule_in(delay, Event::Retry { txn });
    }

    fn retry(&mut self, txn: u32, ctx: &mut Context<'_, Event>) {
        let t = &mut self.txns[txn];
        t.pending -= 1;
        debug_assert!(t.state == TxnState::Backoff);
        t.attempt_no += 1;
        t.state = TxnState::Active;
        self.start_attempt(txn, ctx);
    }

    fn maybe_free_txn(&mut self, txn: u32) {
        let t = &self.txns[txn];
        if t.state == TxnState::Done && t.pending == 0 {
            self.txns.free(txn);
        }
    }

    // ---- attempts ------------------------------------------------------

    /// Runs attempt `req` (of class `class`, draws keyed by `key`) from op
    /// `pc` until a step makes it wait, which schedules its resumption, or
    /// until it ends or fails. The attempt's record is looked up only where
    /// a step reads or writes it: the interpreter keeps `pc` itself.
    fn exec(
        &mut self,
        req: u32,
        class: usize,
        mut pc: usize,
        key: u64,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let program = &self.cfg.classes[class].program;
        // Every step that waits ends here: until when, where, and the op to
        // continue at.
        let (until, place, next_pc) = loop {
            match &program[pc] {
                Op::Jump { target } => pc = *target as usize,
                Op::Branch {
                    cumulative,
                    targets,
                } => {
                    let u = draw(key, pc).uniform01();
                    let i = cumulative
                        .iter()
                        .position(|&c| u < c)
                        .unwrap_or(targets.len() - 1);
                    pc = targets[i] as usize;
                }
                Op::Route { choices } => {
                    let (region, target) = choices
                        .iter()
                        .copied()
                        .find(|&(r, _)| self.region_takes_users(r))
                        .unwrap_or(choices[0]);
                    pc = target as usize;
                    if self.attempts[req].measured {
                        self.classes[class].served_by[region as usize] += 1;
                    }
                }
                Op::RemoteDb { local, query, hop } => {
                    let d = QueryDraws::new(self.cfg, *local, *query, key, pc);
                    let TierKind::Database(dcfg) = &self.cfg.tiers[*local as usize].kind else {
                        unreachable!()
                    };
                    let Tier::Database(db) = &self.tiers[*local as usize] else {
                        unreachable!()
                    };
                    if d.write || d.u1 < dcfg.read_primary_fraction || !db.has_replica_up() {
                        // To the primary's region, its query (pc + 1) and back (pc + 2).
                        break (now + *hop, None, pc + 1);
                    }
                    // A replica-only tier routes every read to a replica.
                    self.query(req, *local, &d, 1.0, pc + 3, ctx);
                    return;
                }
                Op::Enqueue { tier, job } => {
                    self.enqueue_job(*tier, *job, sub_key(key, pc as u64), ctx);
                    pc += 1;
                }
                Op::ApiEnter { tier } => {
                    let Tier::Api(api) = &mut self.tiers[*tier as usize] else {
                        unreachable!("validated: ApiEnter names an API tier")
                    };
                    let entry = api.enter(req, now);
                    let a = &mut self.attempts[req];
                    a.api_since = now;
                    match entry {
                        Entry::Admitted(i) => {
                            a.api = Some((*tier, i, api.instances[i as usize].epoch));
                            pc += 1;
                        }
                        Entry::Queued(i) => {
                            // Admission continues it at the next op.
                            a.queued_on = Some((*tier, i, api.instances[i as usize].epoch));
                            a.pc = pc as u16;
                            return;
                        }
                        Entry::Rejected => {
                            self.fail(req, Failure::Rejected, ctx);
                            return;
                        }
                    }
                }
                Op::Cpu { demand } => {
                    // One look-up of the attempt for the step and its wait.
                    let a = &mut self.attempts[req];
                    let place = a.api.expect("validated: Cpu after ApiEnter");
                    let d = SimDuration::from_secs_f64(demand.sample(&mut draw(key, pc)));
                    let Tier::Api(api) = &mut self.tiers[place.0 as usize] else {
                        unreachable!()
                    };
                    let (_, end) = api.instances[place.1 as usize].cpu.submit(now, d);
                    a.park(Some(place), pc + 1);
                    ctx.schedule_at(end, Event::Resume { req });
                    return;
                }
                Op::Station { tier, demand } => {
                    let TierKind::Station(scfg) = &self.cfg.tiers[*tier as usize].kind else {
                        unreachable!()
                    };
                    let dist = demand.as_ref().unwrap_or(&scfg.service);
                    let d = SimDuration::from_secs_f64(dist.sample(&mut draw(key, pc)));
                    let Tier::Station(st) = &mut self.tiers[*tier as usize] else {
                        unreachable!()
                    };
                    match st.arrive(now, d) {
                        Some(end) => break (end, Some((*tier, 0, st.epoch)), pc + 1),
                        None => {
                            self.fail(req, Failure::Rejected, ctx);
                            return;
                        }
                    }
                }
                Op::Cdn { tier } => {
                    let TierKind::Cdn(ccfg) = &self.cfg.tiers[*tier as usize].kind else {
                        unreachable!()
                    };
                    let mut r = draw(key, pc);
                    let hit = r.uniform01() < ccfg.hit_ratio;
                    let measuring = self.measuring(now);
                    if let Tier::Cdn {
                        requests,
                        hits,
                        requests_series,
                        hits_series,
                    } = &mut self.tiers[*tier as usize]
                    {
                        if measuring {
                            *requests += 1;
                            if hit {
                                *hits += 1;
                            }
                        }
                        requests_series.add(now, 1.0);
                        if hit {
                            hits_series.add(now, 1.0);
                        }
                    }
                    if hit {
                        let d = SimDuration::from_secs_f64(ccfg.edge_latency.sample(&mut r));
                        break (now + d, None, program.len() - 1);
                    }
                    break (now + ccfg.miss_latency, None, pc + 1);
                }
                Op::CacheGet { tier, on_hit } => {
                    let TierKind::Cache(ccfg) = &self.cfg.tiers[*tier as usize].kind else {
                        unreachable!()
                    };
                    let mut r = draw(key, pc);
                    let service = SimDuration::from_secs_f64(ccfg.get_service.sample(&mut r));
                    let u = r.uniform01();
                    let Tier::Cache(cache) = &mut self.tiers[*tier as usize] else {
                        unreachable!()
                    };
                    let shard = cache.shard_of(key, *tier);
                    match cache.get(shard, now, service, u) {
                        Some((end, hit)) => {
                            let place = (*tier, shard, cache.shards[shard as usize].epoch);
                            let next = if hit { *on_hit as usize } else { pc + 1 };
                            break (end + ccfg.rtt, Some(place), next);
                        }
                        // The shard is down: the application falls back to a miss.
                        None => break (now + ccfg.rtt, None, pc + 1),
                    }
                }
                Op::CacheSet { tier } => {
                    let TierKind::Cache(ccfg) = &self.cfg.tiers[*tier as usize].kind else {
                        unreachable!()
                    };
                    let service =
                        SimDuration::from_secs_f64(ccfg.set_service.sample(&mut draw(key, pc)));
                    let Tier::Cache(cache) = &mut self.tiers[*tier as usize] else {
                        unreachable!()
                    };
                    let shard = cache.shard_of(key, *tier);
                    match cache.set(shard, now, service) {
                        Some(end) => {
                            let place = (*tier, shard, cache.shards[shard as usize].epoch);
                            break (end + ccfg.rtt, Some(place), pc + 1);
                        }
                        None => break (now + ccfg.rtt, None, pc + 1),
                    }
                }
                Op::Db { tier, query } => {
                    let d = QueryDraws::new(self.cfg, *tier, *query, key, pc);
                    self.query(req, *tier, &d, d.u1, pc + 1, ctx);
                    return;
                }
                Op::Delay { demand } => {
                    let d = SimDuration::from_secs_f64(demand.sample(&mut draw(key, pc)));
                    break (now + d, None, pc + 1);
                }
                Op::End => {
                    self.finish(req, ctx);
                    return;
                }
            }
        };
        self.wait(req, until, place, next_pc, ctx);
    }

    /// The attempt waits until `until` for a step at `place`, then continues
    /// at `next_pc`.
    #[inline(always)]
    fn wait(
        &mut self,
        req: u32,
        until: SimTime,
        place: Option<Place>,
        next_pc: usize,
        ctx: &mut Context<'_, Event>,
    ) {
        self.attempts[req].park(place, next_pc);
        ctx.schedule_at(until, Event::Resume { req });
    }

    fn resume(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let a = &mut self.attempts[req];
        a.pending_event = false;
        a.at = None;
        if a.stopped {
            self.maybe_free_attempt(req);
            return;
        }
        if let Some(why) = a.pending_error.take() {
            self.fail(req, why, ctx);
            return;
        }
        let (class, pc, key) = (a.class as usize, a.pc as usize, a.key);
        self.exec(req, class, pc, key, ctx);
    }

    /// The attempt completed its program.
    fn finish(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        self.release_api(req, ctx);
        let a = &mut self.attempts[req];
        a.stopped = true;
        let (txn, attempt_no, abandoned, class) = (a.txn, a.attempt_no, a.abandoned, a.class);
        if txn == NO_TXN {
            let (created, measured) = (a.created, a.measured);
            self.answered(class, created, measured, now);
        } else if abandoned {
            if self.measuring(now) {
                self.classes[class as usize].client.wasted += 1;
            }
        } else {
            self.txn_succeeded(txn, attempt_no, now);
        }
        self.maybe_free_attempt(req);
    }

    /// The attempt failed: it stops here and its client hears of it.
    fn fail(&mut self, req: u32, why: Failure, ctx: &mut Context<'_, Event>) {
        self.release_api(req, ctx);
        let a = &mut self.attempts[req];
        a.stopped = true;
        let (txn, attempt_no, abandoned) = (a.txn, a.attempt_no, a.abandoned);
        if txn == NO_TXN {
            let (class, measured) = (a.class, a.measured);
            self.gave_up(class, measured, why, ctx.now());
        } else if !abandoned {
            self.txn_failed(txn, attempt_no, why, ctx);
        }
        self.maybe_free_attempt(req);
    }

    /// Gives back the attempt's place on its API instance; the next request
    /// in that instance's backlog is admitted (it continues via a zero-delay
    /// event, keeping the call stack flat).
    fn release_api(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let a = &mut self.attempts[req];
        let Some((tier, inst, epoch)) = a.api.take() else {
            return;
        };
        let since = a.api_since;
        let now = ctx.now();
        let Tier::Api(api) = &mut self.tiers[tier as usize] else {
            unreachable!()
        };
        if api.instances[inst as usize].epoch != epoch {
            return;
        }
        let leave = api.leave(inst, now);
        let on_instance = now - since;
        api.latency_series.record(now, on_instance);
        if let Some(scaler) = &mut self.scalers[tier as usize]
            && scaler.wants_latency()
        {
            scaler.record_latency(on_instance);
        }
        if leave.terminated {
            self.bill_terminated(tier, inst, now);
        }
        if let Some(next) = leave.next {
            let a = &mut self.attempts[next];
            a.queued_on = None;
            a.api = Some((tier, inst, epoch));
            let next_pc = a.pc as usize + 1;
            self.wait(next, now, None, next_pc, ctx);
        }
    }

    /// Issues the query drawn in `d` on database `tier` (`u1` decides
    /// whether a read goes to the primary); the attempt continues at
    /// `next_pc` once it is answered and the answer is back.
    fn query(
        &mut self,
        req: u32,
        tier: u16,
        d: &QueryDraws,
        u1: f64,
        next_pc: usize,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let TierKind::Database(dcfg) = &self.cfg.tiers[tier as usize].kind else {
            unreachable!()
        };
        let Tier::Database(db) = &mut self.tiers[tier as usize] else {
            unreachable!()
        };
        match db.query(d, u1, now) {
            Outcome::Done { node, at } => {
                let place = (tier, node, db.nodes[node as usize].epoch);
                if d.write {
                    self.replicate_remote(tier, at, d.apply);
                }
                self.wait(req, at + dcfg.rtt, Some(place), next_pc, ctx);
            }
            Outcome::Failed { node, at } => {
                let place = node.map(|n| (tier, n, db.nodes[n as usize].epoch));
                self.attempts[req].pending_error = Some(Failure::Error);
                self.wait(req, at + dcfg.rtt, place, next_pc, ctx);
            }
        }
    }

    /// A write committed on `tier`'s primary at `commit` travels to the
    /// replica sets of the other regions.
    fn replicate_remote(&mut self, tier: u16, commit: SimTime, apply: SimDuration) {
        for k in 0..self.remote_replicas[tier as usize].len() {
            let (remote, one_way) = self.remote_replicas[tier as usize][k];
            let Tier::Database(db) = &mut self.tiers[remote as usize] else {
                unreachable!("validated: replication targets a database")
            };
            db.replicate(commit, commit + one_way, apply);
        }
    }

    /// Routing re-reads each region's health: alive if each of its API
    /// tiers has an instance in service.
    fn health_check(&mut self, ctx: &mut Context<'_, Event>) {
        let Some(rc) = &self.cfg.regions else {
            return;
        };
        for (r, entry) in rc.entry_tiers.iter().enumerate() {
            let alive = entry.iter().all(|&t| match &self.tiers[t as usize] {
                Tier::Api(api) => api.alive(),
                _ => true,
            });
            if alive != self.region_ok[r] {
                self.routing_log.push(crate::results::RoutingEvent {
                    at: ctx.now(),
                    region: r as u16,
                    alive,
                });
            }
            self.region_ok[r] = alive;
        }
        ctx.schedule_in(rc.health_check, Event::HealthCheck);
    }

    /// Region `r` takes a new user: alive at the last health check, and no
    /// API tier of it saturated now (spillover, as a global load balancer
    /// with a capacity per region does).
    fn region_takes_users(&self, r: u16) -> bool {
        let Some(rc) = &self.cfg.regions else {
            return true;
        };
        self.region_ok[r as usize]
            && rc.entry_tiers[r as usize]
                .iter()
                .all(|&t| match &self.tiers[t as usize] {
                    Tier::Api(api) => !api.saturated(rc.failover_backlog),
                    _ => true,
                })
    }

    fn maybe_free_attempt(&mut self, req: u32) {
        let a = &self.attempts[req];
        if a.stopped && !a.pending_event {
            self.attempts.free(req);
        }
    }

    // ---- background jobs -----------------------------------------------

    fn enqueue_job(&mut self, tier: u16, kind: u16, key: u64, ctx: &mut Context<'_, Event>) {
        let TierKind::Workers(wcfg) = &self.cfg.tiers[tier as usize].kind else {
            unreachable!()
        };
        let queue = wcfg.jobs[kind as usize].queue;
        let job = self.jobs.insert(Job {
            tier,
            kind,
            queue,
            enqueued: ctx.now(),
            key,
            run: 0,
            worker: None,
            pending: 0,
            done: false,
        });
        self.dispatch_job(tier, job, true, ctx);
    }

    fn dispatch_job(&mut self, tier: u16, job: u32, first: bool, ctx: &mut Context<'_, Event>) {
        let queue = self.jobs[job].queue;
        let Tier::Workers(w) = &mut self.tiers[tier as usize] else {
            unreachable!()
        };
        if let Some(worker) = w.enqueue(job, queue, ctx.now(), first) {
            self.run_job(tier, job, worker, ctx);
        }
    }

    fn run_job(&mut self, tier: u16, job: u32, worker: u32, ctx: &mut Context<'_, Event>) {
        let TierKind::Workers(wcfg) = &self.cfg.tiers[tier as usize].kind else {
            unreachable!()
        };
        let j = &mut self.jobs[job];
        j.worker = Some(worker);
        j.run += 1;
        j.pending += 1;
        let d = wcfg.jobs[j.kind as usize]
            .service
            .sample(&mut draw(j.key, j.run as usize));
        ctx.schedule_in(
            SimDuration::from_secs_f64(d),
            Event::JobDone { job, run: j.run },
        );
    }

    fn job_done(&mut self, tier: u16, job: u32, run: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let j = &mut self.jobs[job];
        j.pending -= 1;
        if j.run != run || j.worker.is_none() {
            // This run died with its worker.
            self.maybe_free_job(job);
            return;
        }
        let worker = j.worker.take().expect("checked");
        let TierKind::Workers(wcfg) = &self.cfg.tiers[tier as usize].kind else {
            unreachable!()
        };
        let jcfg = &wcfg.jobs[j.kind as usize];
        let mut r = draw(j.key, j.run as usize);
        r.uniform01(); // the service draw's stream position is fixed
        let failed = r.uniform01() < jcfg.failure_probability;
        if failed {
            self.job_failed_run(tier, job, ctx);
        } else {
            let enqueued = self.jobs[job].enqueued;
            self.jobs[job].done = true;
            let Tier::Workers(w) = &mut self.tiers[tier as usize] else {
                unreachable!()
            };
            w.record_success(enqueued, now);
            for &s in &self.queue_slos[tier as usize] {
                let good = match &self.cfg.slos[s as usize].objective {
                    Objective::QueueLatency { threshold, .. } => now - enqueued <= *threshold,
                    _ => true,
                };
                self.slos[s as usize].record(now, good);
            }
        }
        let Tier::Workers(w) = &mut self.tiers[tier as usize] else {
            unreachable!()
        };
        let (next, terminated) = w.finish_on(worker, now);
        if let Some(next) = next {
            self.run_job(tier, next, worker, ctx);
        }
        if terminated {
            self.bill_terminated(tier, worker, now);
        }
        self.maybe_free_job(job);
    }

    /// A run of `job` failed: retry after backoff, or give up.
    fn job_failed_run(&mut self, tier: u16, job: u32, ctx: &mut Context<'_, Event>) {
        let TierKind::Workers(wcfg) = &self.cfg.tiers[tier as usize].kind else {
            unreachable!()
        };
        let j = &mut self.jobs[job];
        let jcfg = &wcfg.jobs[j.kind as usize];
        let retry = j.run <= jcfg.retries;
        let Tier::Workers(w) = &mut self.tiers[tier as usize] else {
            unreachable!()
        };
        w.record_failed_run(j.enqueued, ctx.now(), retry);
        if retry {
            j.pending += 1;
            let delay = jcfg.backoff.as_secs_f64() * 2f64.powi(j.run as i32 - 1);
            ctx.schedule_in(SimDuration::from_secs_f64(delay), Event::JobRetry { job });
        } else {
            j.done = true;
            // A dead job misses its queue-latency objectives.
            let now = ctx.now();
            for &s in &self.queue_slos[tier as usize] {
                self.slos[s as usize].record(now, false);
            }
        }
    }

    fn job_retry(&mut self, tier: u16, job: u32, ctx: &mut Context<'_, Event>) {
        self.jobs[job].pending -= 1;
        self.dispatch_job(tier, job, false, ctx);
    }

    fn maybe_free_job(&mut self, job: u32) {
        let j = &self.jobs[job];
        if j.done && j.pending == 0 {
            self.jobs.free(job);
        }
    }
}

impl Model for Platform<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
        match event {
            Event::Arrival { class } => self.arrival(class, ctx),
            Event::Resume { req } => self.resume(req, ctx),
            Event::TimeoutCheck { class } => self.timeout_check(class, ctx),
            Event::Retry { txn } => self.retry(txn, ctx),
            Event::JobDone { job, run } => {
                let tier = self.jobs[job].tier;
                self.job_done(tier, job, run, ctx)
            }
            Event::JobRetry { job } => {
                let tier = self.jobs[job].tier;
                self.job_retry(tier, job, ctx)
            }
            Event::Fail { failure, unit } => self.inject(failure, unit, ctx),
            Event::Recover { failure, unit } => self.recover(failure, unit, ctx),
            Event::WarmupEnd => self.warmup_end(ctx.now()),
            Event::Tick => self.tick(ctx),
            Event::UnitReady { tier, unit } => self.unit_ready(tier, unit, ctx),
            Event::DrainTimeout { tier, unit } => self.drain_timeout(tier, unit, ctx),
            Event::Scheduled { tier, action } => self.scheduled(tier, action, ctx),
            Event::HealthCheck => self.health_check(ctx),
        }
    }
}

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
//! Files: `clients` (arrivals, transactions, timeouts, retries), `route`
//! (the route interpreter: the one place where a request moves between
//! tiers), `breakdown` (where a request's time goes), `jobs` (background jobs), `capacity` (autoscaling, units and
//! their bills), `faults` (failure injection), `regions` (health checks and
//! spillover), `report` (results). Each tier kind lives in [`crate::tier`].
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
//! worker queues are event-driven. Statistics cover the measured period.

use std::collections::VecDeque;

mod breakdown;
mod capacity;
mod clients;
mod faults;
mod jobs;
mod regions;
mod report;
mod route;

use sim_engine::{
    Arena, Context, IntervalCounts, IntervalLatency, KeyedRng, LatencyRecorder, Model, SimDuration,
    SimTime, Spill, StreamRng, Streams, exp1, sub_key,
};

use crate::config::{FailureTiming, Op, PlatformConfig, Process, RateProfile};
use crate::cost::CostMeter;
use crate::fcfs::Measured;
use crate::results::{ClassSeries, ClientCounts, FailureRecord, RequestCounts, ScalingEvent};
use crate::scaling::{Scaler, gcd, tick_of};
use crate::series::Spec;
use crate::slo::{Objective, SloTracker};
use crate::tier::{ApiRef, BuildContext, Handle, TierId, Tiers, WorkersRef};

#[derive(Clone, Copy, Debug)]
// Eight bytes, so a queue entry is 24 (see sim_engine::queue).
pub enum Event {
    /// The next candidate arrival of a class (thinned to its rate profile).
    Arrival { class: u16 },
    /// A user of a closed class has thought: it asks (or, if the
    /// population has shrunk, leaves).
    User { class: u16 },
    /// A closed class's population follows its profile: users join.
    Population { class: u16 },
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
    /// An event-driven unit of a tier (see `crate::event_unit`) changes on
    /// its own: a job ends or gives up.
    Unit { tier: u16, unit: u32 },
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

/// An attempt's place on an API instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OnApi {
    tier: ApiRef,
    unit: u32,
    epoch: u32,
}

impl OnApi {
    fn place(self) -> Place {
        (self.tier.id, self.unit, self.epoch)
    }
}

/// `Attempt::txn` of an attempt whose class has neither a timeout nor
/// retries: the attempt answers its class directly, with no transaction.
const NO_TXN: u32 = u32::MAX;

/// The traffic meter of bytes crossing regions (after CDN and egress).
const TRAFFIC_CROSS_REGION: usize = 2;

/// The load balancers of the priced API tiers: one each, billed by the hour
/// for the whole run on a line of their own.
struct LoadBalancers {
    count: u32,
    /// USD per balancer-hour.
    per_hour: f64,
    bill: CostMeter,
}

struct Attempt {
    /// Its transaction, or [`NO_TXN`].
    txn: u32,
    /// When the request was created (the transaction's creation for attempts
    /// of one).
    created: SimTime,
    /// Created in the measured period.
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
    api: Option<OnApi>,
    /// When it reached the balancer (the start of its API response time).
    api_since: SimTime,
    /// Waiting in this instance's backlog.
    queued_on: Option<OnApi>,
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
    tier: WorkersRef,
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
    series: ClassCounts,
    /// End-to-end latency of answered requests, by the interval answered.
    latency_series: IntervalLatency,
    /// With regions: measured attempts routed to each region.
    served_by: Vec<u64>,
    /// A closed class's users: thinking or waiting for an answer.
    users: u32,
    /// The class is closed (its answers schedule its next requests).
    closed: bool,
    /// The class is open and Poisson: the fast path of arrivals.
    poisson: bool,
    /// An MMPP class's state (0 or 1) and when it next changes.
    burst: (usize, SimTime),
}

/// A class's counts per interval over the whole horizon: its results'
/// [`ClassSeries`].
struct ClassCounts {
    arrivals: IntervalCounts,
    completed: IntervalCounts,
    failed: IntervalCounts,
    timed_out: IntervalCounts,
}

impl ClassCounts {
    fn new(spec: Spec) -> Self {
        ClassCounts {
            arrivals: spec.counts(),
            completed: spec.counts(),
            failed: spec.counts(),
            timed_out: spec.counts(),
        }
    }

    fn each(&mut self) -> [&mut IntervalCounts; 4] {
        [
            &mut self.arrivals,
            &mut self.completed,
            &mut self.failed,
            &mut self.timed_out,
        ]
    }

    /// The counts, every interval held again.
    fn finish(mut self, spill: &Spill) -> ClassSeries {
        self.each().into_iter().for_each(|c| c.restore(spill));
        ClassSeries {
            arrivals: self.arrivals.take_values(),
            completed: self.completed.take_values(),
            failed: self.failed.take_values(),
            timed_out: self.timed_out.take_values(),
        }
    }
}

struct FailureState {
    units: Vec<u32>,
    /// Per unit, for random failure processes.
    rngs: Vec<StreamRng>,
    /// While an outage of every unit of the tier lasts (a failure of every
    /// unit at a time: [`faults::WHOLE_TIER`]): the units it took down.
    struck: Option<Vec<u32>>,
}

/// The generator of an attempt's draws at op `pc`.
#[inline]
fn draw(key: u64, pc: usize) -> KeyedRng {
    KeyedRng::new(sub_key(key, pc as u64))
}

/// How often a closed class's population follows its profile: users join
/// within a second of the profile asking for them.
const POPULATION_STEP: SimDuration = SimDuration::from_secs(1);

/// Until the autoscalers' tick is known, and for caches whose working set
/// grows and burstable API instances' credits when nothing else ticks: one
/// minute.
const DEFAULT_TICK_NS: u64 = 60_000_000_000;

/// One replication's model state.
pub struct Platform<'c> {
    cfg: &'c PlatformConfig,
    measured: Measured,
    warmup_end: SimTime,
    classes: Vec<ClassState>,
    tiers: Tiers<'c>,
    txns: Arena<Txn>,
    /// The next transaction's serial.
    txn_serial: u64,
    attempts: Arena<Attempt>,
    jobs: Arena<Job>,
    failures: Vec<FailureState>,
    failure_log: Vec<FailureRecord>,
    /// The metrics tick of all autoscalers (and of cache sizing updates).
    tick: Option<SimDuration>,
    last_tick: SimTime,
    /// With regions: end-to-end latency of each region's users, per interval.
    region_latency: Vec<IntervalLatency>,
    /// Every class's answered requests, per interval: the classes' closed
    /// intervals added up (bucket counts add exactly).
    all_latency: IntervalLatency,
    scaling_log: Vec<ScalingEvent>,
    /// Traffic: CDN bytes, bytes sent from the origin directly, and bytes
    /// crossing regions ([`TRAFFIC_CROSS_REGION`]).
    traffic: [CostMeter; 3],
    /// Bytes that crossed regions in the measured period.
    cross_region_bytes: f64,
    /// The load balancers in front of priced API tiers.
    load_balancers: LoadBalancers,
    /// Per class: whether its route passes a CDN.
    has_cdn: Vec<bool>,
    slos: Vec<SloTracker>,
    /// Per class: the objectives its outcomes feed.
    class_slos: Vec<Vec<u16>>,
    /// With regions: whether each region takes new users (last health check).
    region_ok: Vec<bool>,
    routing_log: Vec<crate::results::RoutingEvent>,
    /// Where requests' time goes.
    breakdown: breakdown::Breakdowns,
    /// Scratch: the jobs an event-driven unit let go at its event.
    departed: Vec<(u32, crate::event_unit::Outcome)>,
    /// Per tier a route visits: the time of each visit in the measured
    /// period (`None`: no route visits it).
    visits: Vec<Option<LatencyRecorder>>,
    /// Where the series' closed intervals wait for the end of a long run.
    spill: Spill,
}

impl<'c> Platform<'c> {
    pub fn new(cfg: &'c PlatformConfig, streams: Streams) -> Self {
        let interval = cfg.series_interval;
        let measured = Measured::new(SimTime::at(cfg.warmup), SimTime::at(cfg.horizon));
        let spec = Spec {
            interval,
            horizon: cfg.horizon,
        };
        let classes = cfg
            .classes
            .iter()
            .map(|c| class_state(cfg, c, &streams))
            .collect();
        let bill = || CostMeter::new(measured, interval, cfg.horizon);
        let mut tiers = Tiers::new(
            &cfg.tiers,
            |id| BuildContext {
                name: &cfg.tiers[id as usize].name,
                measured,
                spec,
                // Units whose work can be voided (crashes, drain timeouts)
                // keep their jobs in flight.
                voidable: cfg.tiers[id as usize].scaling.is_some()
                    || cfg.failures.iter().any(|f| f.tier == id),
                streams: &streams,
            },
            bill,
        );
        let failures = cfg
            .failures
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let units: Vec<u32> = match f.unit {
                    Some(u) => vec![u],
                    None => tiers.model(f.tier).failure_units().collect(),
                };
                let rngs = units
                    .iter()
                    .map(|u| streams.stream(&format!("failures/{i}/{u}")))
                    .collect();
                FailureState {
                    units,
                    rngs,
                    struck: None,
                }
            })
            .collect();
        let tick = start_capacity(cfg, &mut tiers);
        wire_tiers(cfg, &mut tiers);
        let has_cdn = cfg
            .classes
            .iter()
            .map(|c| c.program.iter().any(|op| matches!(op, Op::Cdn { .. })))
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
        let regions = cfg.regions.as_ref().map_or(0, |r| r.regions.len());
        Platform {
            region_ok: vec![true; regions],
            routing_log: Vec::new(),
            cfg,
            measured,
            warmup_end: SimTime::at(cfg.warmup),
            classes,
            tiers,
            txns: Arena::new(),
            txn_serial: 0,
            attempts: Arena::new(),
            jobs: Arena::new(),
            failures,
            failure_log: Vec::new(),
            tick,
            last_tick: SimTime::ZERO,
            region_latency: (0..regions)
                .map(|_| IntervalLatency::new(interval, cfg.horizon))
                .collect(),
            all_latency: IntervalLatency::new(interval, cfg.horizon),
            scaling_log: Vec::new(),
            traffic: [bill(), bill(), bill()],
            cross_region_bytes: 0.0,
            load_balancers: LoadBalancers {
                count: 0,
                per_hour: 0.0,
                bill: bill(),
            },
            has_cdn,
            slos: cfg
                .slos
                .iter()
                .map(|s| SloTracker::new(s, measured))
                .collect(),
            class_slos,
            breakdown: breakdown::Breakdowns::new(&cfg.classes, cfg.tiers.len()),
            departed: Vec::new(),
            visits: (0..cfg.tiers.len() as TierId)
                .map(|t| breakdown::visited(&cfg.classes, t).then(LatencyRecorder::new))
                .collect(),
            spill: Spill::for_series(spec.len()),
        }
    }

    /// Requests arrived so far, and transactions and attempts alive now:
    /// what the cost pilot watches grow when the platform is overloaded.
    pub fn load(&self) -> (u64, u64) {
        let arrived = self.classes.iter().map(|c| c.counts.arrived).sum();
        (arrived, (self.txns.len() + self.attempts.len()) as u64)
    }

    /// Bytes an interval of a latency series holds, as recorded so far by
    /// the classes (`None` before any latency).
    pub fn latency_bytes_per_interval(&self) -> Option<f64> {
        let (bytes, n) = self
            .classes
            .iter()
            .map(|c| c.latency_series.footprint())
            .fold((0, 0), |(b, n), (b2, n2)| (b + b2, n + n2));
        (n > 0).then(|| bytes as f64 / n as f64)
    }

    /// Closes the intervals of the latency series that end at or before
    /// `reached` (the run has handled every event before it): nothing can be
    /// recorded there any more, so each keeps its quantiles and frees its
    /// buckets. What the series hold is then bounded by the intervals still
    /// open, not by the horizon.
    pub fn close_intervals(&mut self, reached: SimTime) {
        let upto = (reached.as_nanos() / self.cfg.series_interval.as_nanos()) as usize;
        // Every series closes together: the sum of all classes says how far.
        if upto > self.all_latency.first_open() {
            self.close_intervals_before(upto, reached);
            self.spill_before(upto);
        }
    }

    /// Writes the closed intervals of the series that take nothing once
    /// closed to the spill, a chunk at a time (a long run's series, held
    /// whole, would grow with its horizon). The cost meters' series are
    /// held whole: a unit's life is billed when it ends, over the
    /// intervals it spanned.
    fn spill_before(&mut self, upto: usize) {
        let spill = &mut self.spill;
        if !spill.is_active() {
            return;
        }
        for c in &mut self.classes {
            c.series
                .each()
                .into_iter()
                .for_each(|s| s.spill(upto, spill));
            c.latency_series.spill(spill);
        }
        self.all_latency.spill(spill);
        self.region_latency.iter_mut().for_each(|r| r.spill(spill));
        for t in 0..self.tiers.len() as TierId {
            self.tiers
                .model(t)
                .accumulators(&mut |a| a.spill(upto, spill));
        }
    }

    /// Closes the intervals before `upto`, which end by `reached`.
    pub(super) fn close_intervals_before(&mut self, upto: usize, reached: SimTime) {
        for c in &mut self.classes {
            c.latency_series
                .close_adding_to(&mut self.all_latency, upto);
        }
        self.all_latency.close(upto);
        for r in &mut self.region_latency {
            r.close(upto);
        }
        for t in 0..self.tiers.len() as TierId {
            self.tiers.model(t).close_intervals(upto, reached);
        }
    }

    /// The events that start a run.
    pub fn initial_events(&mut self) -> Vec<(SimTime, Event)> {
        let mut events = Vec::new();
        if !self.cfg.warmup.is_zero() {
            events.push((self.warmup_end, Event::WarmupEnd));
        }
        for i in 0..self.classes.len() {
            let class = i as u16;
            let arrivals = &self.cfg.classes[i].arrivals;
            match &arrivals.closed {
                None => {
                    if let Process::Mmpp { means_s, .. } = &arrivals.process {
                        // Stationary from the start: a state with the odds of
                        // its share of time, its (memoryless) rest from 0.
                        let c = &mut self.classes[i];
                        let on = c.arrivals.uniform() * (means_s[0] + means_s[1]) >= means_s[0];
                        let state = usize::from(on);
                        let rest = exp1(&mut c.arrivals) * means_s[state];
                        c.burst = (state, SimTime::at(SimDuration::from_secs_f64(rest)));
                    }
                    let gap = match &arrivals.process {
                        Process::Renewal(gaps) => {
                            SimDuration::from_secs_f64(gaps.sample(&mut self.classes[i].arrivals))
                        }
                        _ => self.envelope_gap(i),
                    };
                    events.push((SimTime::at(gap), Event::Arrival { class }));
                }
                Some(pop) => {
                    // Every user starts by thinking.
                    let n = pop.at(arrivals.profile.multiplier(SimDuration::ZERO));
                    self.classes[i].users = n;
                    for _ in 0..n {
                        let think = self.think(i);
                        events.push((SimTime::at(think), Event::User { class }));
                    }
                    if arrivals.profile != RateProfile::Constant {
                        events.push((SimTime::at(POPULATION_STEP), Event::Population { class }));
                    }
                }
            }
        }
        for (fi, f) in self.cfg.failures.iter().enumerate() {
            // Every unit at a time: one event, which finds the units when it
            // strikes (those scaled out since the start too).
            if let (None, FailureTiming::At { at, .. }) = (f.unit, &f.timing) {
                if *at < self.cfg.horizon {
                    events.push((
                        SimTime::at(*at),
                        Event::Fail {
                            failure: fi as u16,
                            unit: faults::WHOLE_TIER,
                        },
                    ));
                }
                continue;
            }
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
        self.measured.contains(now.as_nanos())
    }

    /// A request's visit to tier `tier` from `start` to `end`.
    #[inline(always)]
    fn visited(&mut self, tier: TierId, start: SimTime, end: SimTime) {
        if self.measured.contains(start.as_nanos())
            && let Some(r) = &mut self.visits[tier as usize]
        {
            r.record(end - start);
        }
    }
}

/// Parts in an attempt's row of where its time goes (the widest class's).
pub fn breakdown_width(cfg: &PlatformConfig) -> usize {
    breakdown::Breakdowns::new(&cfg.classes, cfg.tiers.len()).width()
}

fn class_state(
    cfg: &PlatformConfig,
    c: &crate::config::ClassConfig,
    streams: &Streams,
) -> ClassState {
    let interval = cfg.series_interval;
    let m = c.arrivals.profile.envelope(cfg.horizon);
    ClassState {
        arrivals: streams.stream(&format!("arrivals/{}", c.name)),
        demands: streams.stream(&format!("demands/{}", c.name)),
        // Candidates are batch epochs: E[size] requests each.
        // An MMPP's candidates come at its higher rate.
        envelope_gap_s: c.arrivals.process.mean_size()
            / (c.arrivals.rate_per_s * c.arrivals.process.peak_over_mean() * m),
        envelope_multiplier: m,
        deadlines: VecDeque::new(),
        check_pending: false,
        direct: c.client.timeout.is_none() && c.client.retries == 0,
        counts: RequestCounts::default(),
        client: ClientCounts::default(),
        latency: LatencyRecorder::new(),
        series: ClassCounts::new(Spec {
            interval,
            horizon: cfg.horizon,
        }),
        latency_series: IntervalLatency::new(interval, cfg.horizon),
        served_by: vec![0; cfg.regions.as_ref().map_or(0, |r| r.regions.len())],
        users: 0,
        closed: c.arrivals.closed.is_some(),
        poisson: matches!(c.arrivals.process, Process::Poisson),
        burst: (0, SimTime::ZERO),
    }
}

/// Gives every tier with a scaling table its autoscaler (scheduled actions
/// alone need one too), all sampling on one tick: the gcd of their policies'
/// periods. Caches whose hit ratio follows a growing working set, and
/// burstable API instances' CPU credits, update on it too (every minute if
/// nothing else asks). Returns the tick.
fn start_capacity(cfg: &PlatformConfig, tiers: &mut Tiers) -> Option<SimDuration> {
    let mut tick = cfg
        .tiers
        .iter()
        .filter_map(|t| t.scaling.as_ref().and_then(tick_of))
        .map(|d| d.as_nanos())
        .reduce(gcd);
    if tick.is_none()
        && (tiers.cache.iter().any(|c| c.grows()) || tiers.api.iter().any(|a| a.has_credits()))
    {
        tick = Some(DEFAULT_TICK_NS);
    }
    let every = SimDuration::from_nanos(tick.unwrap_or(DEFAULT_TICK_NS));
    for id in 0..tiers.len() {
        let (slot, model) = tiers.split(id as u16);
        if let Some(s) = slot.scaling {
            let initial = model.elastic().map_or(1, |e| e.desired_count());
            slot.scaler = Some(Scaler::new(s, initial, every));
        }
    }
    tick.map(SimDuration::from_nanos)
}

/// What tiers know of each other: the queue objectives a worker tier's jobs
/// feed, and where a primary's writes replicate across regions.
fn wire_tiers(cfg: &PlatformConfig, tiers: &mut Tiers) {
    for slot in 0..tiers.len() {
        if let Handle::Workers(w) = tiers.slots[slot].handle {
            tiers.workers[w.index()].slos = (0..cfg.slos.len() as u16)
                .filter(|&i| {
                    let s = &cfg.slos[i as usize];
                    matches!(s.objective, Objective::QueueLatency { .. }) && s.tier == Some(w.id)
                })
                .collect();
        }
    }
    for &(primary, remote, one_way) in cfg.regions.iter().flat_map(|r| &r.replication) {
        tiers.database[primary.index()]
            .remote
            .push((remote, one_way));
    }
}

impl Model for Platform<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
        match event {
            Event::Arrival { class } => self.arrival(class, ctx),
            Event::User { class } => self.user_asks(class, ctx),
            Event::Population { class } => self.population(class, ctx),
            Event::Resume { req } => self.resume(req, ctx),
            Event::TimeoutCheck { class } => self.timeout_check(class, ctx),
            Event::Retry { txn } => self.retry(txn, ctx),
            Event::JobDone { job, run } => self.job_done(job, run, ctx),
            Event::JobRetry { job } => self.job_retry(job, ctx),
            Event::Fail { failure, unit } => self.inject(failure, unit, ctx),
            Event::Recover { failure, unit } => self.recover(failure, unit, ctx),
            Event::WarmupEnd => self.warmup_end(ctx.now()),
            Event::Tick => self.tick(ctx),
            Event::UnitReady { tier, unit } => self.unit_ready(tier, unit, ctx),
            Event::DrainTimeout { tier, unit } => self.drain_timeout(tier, unit, ctx),
            Event::Scheduled { tier, action } => self.scheduled(tier, action, ctx),
            Event::HealthCheck => self.health_check(ctx),
            Event::Unit { tier, unit } => self.unit_due(tier, unit, ctx),
        }
    }
}

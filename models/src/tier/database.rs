//! A database: a primary taking writes, replicas taking reads.
//!
//! ```text
//!   query ─► node (read routing) ─► connection pool (FCFS, acquire timeout) ─► CPU core (FCFS) ─► I/O ─► done
//!   write committed on the primary ─► each replica's single-threaded apply ─► replication lag
//! ```
//!
//! Node 0 is the primary, nodes 1..=R the replicas. A query waits for a
//! connection at most the acquire timeout (then fails), holds it through its
//! wait for a core, its CPU time and its I/O, and releases it at the end. Both
//! stages are FCFS in arrival order and computed on submission.

use std::ops::Range;

use sim_engine::{
    Dist, IntervalAverages, IntervalCounts, IntervalLatency, KeyedRng, LatencyRecorder,
    SimDuration, SimTime,
};

use super::life::{Life, Lifetime, scale_in_choice};
use super::{
    BuildContext, Crash, DatabaseRef, Elastic, Noun, ScalingFacts, TierModel, TierReport,
    Vocabulary,
};
use crate::cost::Billing;
use crate::fcfs::{FcfsUnit, Figures, Measured, Sums, ratio};
use crate::scaling::{Metric, Termination};
use crate::series::{Accumulator, Spec, divided};
use crate::tier::report::{Figure, Serving, Unit, UnitResult};

/// What serves a database: its nodes, the primary and the replicas.
pub const NODE: Noun = Noun::new("node", "nodes");
/// What its autoscaling counts: read replicas (the primary stays).
pub const REPLICA: Noun = Noun::new("replica", "replicas");

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "database",
    // An RDS read replica: creation, then catching up on the primary's log
    // before it serves reads.
    scaling: Some(ScalingFacts {
        unit: REPLICA,
        least: 0,
        boot: SimDuration::from_secs(600),
        warmup: SimDuration::from_secs(300),
        metrics: &["pool_utilization", "read_write_ratio"],
    }),
    own_bill: true,
    priced_otherwise: None,
};

/// A database query type.
#[derive(Clone, Debug)]
pub struct QueryConfig {
    pub name: String,
    pub write: bool,
    /// CPU time on a database core.
    pub cpu: Dist,
    /// Time the query holds its connection without a core (I/O waits).
    pub io: Option<Dist>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadRouting {
    /// Each read picks a replica uniformly at random.
    Random,
    /// Reads rotate over the replicas.
    RoundRobin,
    /// The replica with the fewest queries in progress and waiting.
    LeastBusy,
}

/// A primary and read replicas, each node with `cores` cores and a connection
/// pool of `pool_size`; a query waits for a connection at most
/// `acquire_timeout`, then fails.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    pub primary_cores: u32,
    pub replicas: u32,
    pub replica_cores: u32,
    pub pool_size: u32,
    pub acquire_timeout: SimDuration,
    /// Fraction of reads sent to the primary even when replicas exist.
    pub read_primary_fraction: f64,
    pub read_routing: ReadRouting,
    /// Network round trip between client and database, added to each query.
    pub rtt: SimDuration,
    /// Time a replica takes to apply one write (single-threaded replay).
    pub apply_time: Dist,
    pub queries: Vec<QueryConfig>,
    /// The primary runs here (`false`: a region's replica set, whose
    /// primary is another tier's; writes reach it through
    /// [`Op::RemoteDb`]).
    pub local_primary: bool,
}

impl super::ConfigUnits for DatabaseConfig {
    fn scaled_units(&self) -> Option<u32> {
        Some(self.replicas)
    }
    fn set_scaled_units(&mut self, n: u32) {
        self.replicas = n;
    }
    /// Node 0 is the primary (unless it lives in another region), then the
    /// replicas.
    fn failure_units(&self) -> Range<u32> {
        u32::from(!self.local_primary)..1 + self.replicas
    }
}

/// What a query draws at its op, in a fixed order: its CPU time, I/O time,
/// a replica's apply time, then two uniforms (primary or replica, which
/// replica).
pub(crate) struct QueryDraws {
    pub write: bool,
    pub cpu: SimDuration,
    pub io: SimDuration,
    pub apply: SimDuration,
    pub u1: f64,
    pub u2: f64,
}

impl QueryDraws {
    pub fn new(cfg: &DatabaseConfig, query: u16, r: &mut KeyedRng) -> Self {
        let q = &cfg.queries[query as usize];
        let cpu = SimDuration::from_secs_f64(q.cpu.sample(r));
        let io = q.io.as_ref().map_or(SimDuration::ZERO, |d| {
            SimDuration::from_secs_f64(d.sample(r))
        });
        let apply = SimDuration::from_secs_f64(cfg.apply_time.sample(r));
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

pub(crate) struct Node {
    /// Not crashed.
    up: bool,
    life: Lifetime,
    pub epoch: u32,
    /// Pool busy time at the last metrics tick.
    pool_mark: u128,
    pool: FcfsUnit,
    cores: FcfsUnit,
    down_count: u32,
    /// Replicas: when the apply process is next free (ns), and the last
    /// commit it was given (WAL order).
    apply_free: u64,
    last_commit: u64,
    lag: LatencyRecorder,
    queries: u64,
    reads: u64,
    writes: u64,
    pool_timeouts: u64,
}

/// One metrics tick of the database.
#[derive(Clone, Copy, Debug, Default)]
struct DbSample {
    /// Connection-ns in use and connection-ns available, over in-service nodes.
    pool_busy: f64,
    pool_capacity: f64,
    reads: f64,
    writes: f64,
    /// ∫ replicas in service dt, and the tick's length (ns).
    replica_area: f64,
    length: f64,
}

/// Where a query goes and how it ends.
pub(crate) enum Outcome {
    /// Answered at `at` (before the network round trip back), having held
    /// a connection from `conn` and started on a core at `cpu`.
    Done {
        node: u32,
        at: SimTime,
        conn: SimTime,
        cpu: SimTime,
    },
    /// Failed at this time: no connection within the timeout, or no node up.
    Failed { node: Option<u32>, at: SimTime },
}

pub(crate) struct DbTier<'c> {
    pub cfg: &'c DatabaseConfig,
    pub nodes: Vec<Node>,
    /// Node 0 is this tier's primary (else a stand-in for the primary of
    /// another region's tier, which never runs).
    local_primary: bool,
    /// The replica-only tiers in other regions this primary's writes
    /// replicate to, with the one-way latency.
    pub remote: Vec<(DatabaseRef, SimDuration)>,
    read_primary_fraction: f64,
    routing: ReadRouting,
    acquire_timeout: SimDuration,
    rr_next: u32,
    /// Replicas that are up (node indices), kept current on crash and
    /// recovery so routing a read allocates nothing.
    up_replicas: Vec<u32>,
    measured: Measured,
    errors: u64,
    pool_wait_ns: u128,
    pool_waits: u64,
    spec: Spec,
    pool_size: u32,
    replica_cores: u32,
    track_pool: bool,
    track_cores: bool,
    reads_all: u64,
    writes_all: u64,
    marks: (u64, u64),
    queries_series: IntervalCounts,
    reads_series: IntervalCounts,
    writes_series: IntervalCounts,
    errors_series: IntervalCounts,
    /// Cores of nodes up and in service, and replicas up and in service.
    serving_cores_series: IntervalAverages,
    replicas_series: IntervalAverages,
    nodes_series: IntervalAverages,
    /// Every node's pool sojourn times, their closed intervals added up.
    latency: IntervalLatency,
    /// Busy core·ns, waiting job·ns (pool and cores) and completed queries
    /// of every node, summed as intervals close.
    busy_series: IntervalCounts,
    waiting_series: IntervalCounts,
    completed_series: IntervalCounts,
}

impl<'c> DbTier<'c> {
    pub fn new(cfg: &'c DatabaseConfig, ctx: &BuildContext) -> Self {
        let (window, spec, fails) = (ctx.measured, ctx.spec, ctx.voidable);
        let least_busy = cfg.read_routing == ReadRouting::LeastBusy;
        let mut tier = DbTier {
            cfg,
            nodes: Vec::new(),
            local_primary: cfg.local_primary,
            remote: Vec::new(),
            read_primary_fraction: cfg.read_primary_fraction,
            routing: cfg.read_routing,
            acquire_timeout: cfg.acquire_timeout,
            rr_next: 0,
            up_replicas: (1..=cfg.replicas).collect(),
            measured: window,
            errors: 0,
            pool_wait_ns: 0,
            spec,
            latency: IntervalLatency::new(spec.interval, spec.horizon),
            busy_series: spec.counts(),
            waiting_series: spec.counts(),
            completed_series: spec.counts(),
            pool_size: cfg.pool_size,
            replica_cores: cfg.replica_cores,
            track_pool: fails || least_busy,
            track_cores: fails,
            reads_all: 0,
            writes_all: 0,
            marks: (0, 0),
            queries_series: spec.counts(),
            reads_series: spec.counts(),
            writes_series: spec.counts(),
            errors_series: spec.counts(),
            serving_cores_series: spec
                .averages((cfg.primary_cores + cfg.replicas * cfg.replica_cores) as f64),
            replicas_series: spec.averages(cfg.replicas as f64),
            nodes_series: spec.averages((1 + cfg.replicas) as f64),
            pool_waits: 0,
        };
        let mut primary = tier.new_node(cfg.primary_cores, Lifetime::running(SimTime::ZERO));
        if !cfg.local_primary {
            // A region's replica set: node 0 stands for the primary in
            // another region. It never runs, costs nothing and takes no
            // queries (writes reach the real one through `Op::RemoteDb`).
            primary.up = false;
            primary.life = Lifetime::absent();
        }
        tier.nodes.push(primary);
        for _ in 0..cfg.replicas {
            let replica = tier.new_node(cfg.replica_cores, Lifetime::running(SimTime::ZERO));
            tier.nodes.push(replica);
        }
        tier
    }

    fn new_node(&self, cores: u32, life: Lifetime) -> Node {
        let (window, spec) = (self.measured, self.spec);
        Node {
            up: true,
            life,
            epoch: 0,
            pool_mark: 0,
            pool: FcfsUnit::new(self.pool_size, window)
                .tracking(self.track_pool)
                .with_series(spec.interval, spec.horizon, true),
            cores: FcfsUnit::new(cores, window)
                .tracking(self.track_cores)
                .with_series(spec.interval, spec.horizon, false),
            down_count: 0,
            apply_free: life.launched.as_nanos(),
            last_commit: life.launched.as_nanos(),
            lag: LatencyRecorder::new(),
            queries: 0,
            reads: 0,
            writes: 0,
            pool_timeouts: 0,
        }
    }

    /// The node for a query; `u1` and `u2` are the request's uniforms for
    /// this op. Writes go to the primary; reads go to the primary with
    /// probability `read_primary_fraction`, else to a replica that is up
    /// (the primary if none is).
    fn route(&mut self, write: bool, u1: f64, u2: f64, now: SimTime) -> Option<u32> {
        if write || self.nodes.len() == 1 || u1 < self.read_primary_fraction {
            return self.nodes[0].up.then_some(0);
        }
        let up = &self.up_replicas;
        if up.is_empty() {
            return self.nodes[0].up.then_some(0);
        }
        Some(match self.routing {
            ReadRouting::Random => up[((u2 * up.len() as f64) as usize).min(up.len() - 1)],
            ReadRouting::RoundRobin => {
                let i = up[(self.rr_next as usize) % up.len()];
                self.rr_next = self.rr_next.wrapping_add(1);
                i
            }
            ReadRouting::LeastBusy => {
                let mut best = up[0];
                let mut best_load = usize::MAX;
                for k in 0..self.up_replicas.len() {
                    let i = self.up_replicas[k];
                    let load = self.nodes[i as usize].pool.in_system(now);
                    if load < best_load {
                        best = i;
                        best_load = load;
                    }
                }
                best
            }
        })
    }

    /// Issues a query drawn as `d` at `now`; `u1` (usually `d.u1`) chooses
    /// between the primary and the replicas.
    pub fn query(&mut self, d: &QueryDraws, u1: f64, now: SimTime) -> Outcome {
        let QueryDraws {
            write,
            cpu,
            io,
            apply,
            u2,
            ..
        } = *d;
        let measuring = self.measured.contains(now.as_nanos());
        self.queries_series.add(now, 1.0);
        if write {
            self.writes_series.add(now, 1.0);
            self.writes_all += 1;
        } else {
            self.reads_series.add(now, 1.0);
            self.reads_all += 1;
        }
        let Some(n) = self.route(write, u1, u2, now) else {
            if measuring {
                self.errors += 1;
            }
            self.errors_series.add(now, 1.0);
            return Outcome::Failed {
                node: None,
                at: now,
            };
        };
        let timeout = self.acquire_timeout;
        let node = &mut self.nodes[n as usize];
        if measuring {
            node.queries += 1;
            if write {
                node.writes += 1;
            } else {
                node.reads += 1;
            }
        }
        let conn_at = node.pool.next_start(now);
        let wait = conn_at - now;
        if wait > timeout {
            if measuring {
                node.pool_timeouts += 1;
                self.errors += 1;
                self.pool_waits += 1;
                self.pool_wait_ns += timeout.as_nanos() as u128;
            }
            self.errors_series.add(now + timeout, 1.0);
            return Outcome::Failed {
                node: Some(n),
                at: now + timeout,
            };
        }
        let (cpu_start, cpu_end) = node.cores.submit(conn_at, cpu);
        let end = cpu_end + io;
        let (start, _) = node.pool.submit(now, end - conn_at);
        debug_assert_eq!(start, conn_at);
        if measuring {
            self.pool_waits += 1;
            self.pool_wait_ns += wait.as_nanos() as u128;
        }
        if write && n == 0 {
            self.replicate(end, end, apply);
        }
        Outcome::Done {
            node: n,
            at: end,
            conn: conn_at,
            cpu: cpu_start,
        }
    }

    /// A write committed on the primary at `commit` reaches every replica that
    /// is up at `arrival` (later than the commit for a replica set in another
    /// region); each applies writes one at a time in commit order. The lag
    /// counts from the commit. Returns how many replicas it reaches.
    pub fn replicate(&mut self, commit: SimTime, arrival: SimTime, apply: SimDuration) -> usize {
        let window = self.measured;
        let mut reached = 0;
        let travel = arrival.as_nanos() - commit.as_nanos();
        let commit = commit.as_nanos();
        let apply = apply.as_nanos();
        for node in self
            .nodes
            .iter_mut()
            .skip(1)
            .filter(|n| n.up && n.life.life != Life::Terminated)
        {
            // WAL order: a write is applied after every earlier-submitted one.
            let arrival = (commit + travel).max(node.last_commit);
            node.last_commit = arrival;
            let start = arrival.max(node.apply_free);
            node.apply_free = start + apply;
            if window.contains(commit) {
                node.lag
                    .record(SimDuration::from_nanos(node.apply_free - commit));
            }
            reached += 1;
        }
        reached
    }

    /// A replica is up and in service.
    pub fn has_replica_up(&self) -> bool {
        !self.up_replicas.is_empty()
    }

    fn refresh_replicas(&mut self, now: SimTime) {
        self.up_replicas = (1..self.nodes.len() as u32)
            .filter(|&i| {
                let n = &self.nodes[i as usize];
                n.up && n.life.in_service()
            })
            .collect();
        let serving = || self.nodes.iter().filter(|n| n.up && n.life.in_service());
        let cores: u32 = serving().map(|n| n.cores.servers()).sum();
        let nodes = serving().count();
        self.serving_cores_series.set(now, cores as f64);
        self.nodes_series.set(now, nodes as f64);
        self.replicas_series.set(now, self.up_replicas.len() as f64);
    }

    /// The metrics of the tick that ends at `now` (the last one at `prev`).
    fn sample_tick(&mut self, prev: SimTime, now: SimTime) -> DbSample {
        let mut s = DbSample::default();
        for (i, node) in self.nodes.iter_mut().enumerate() {
            let busy = node.pool.busy_until(now);
            if node.up && node.life.in_service() {
                let from = prev.max(node.life.since);
                let served = now.saturating_since(from).as_nanos() as f64;
                s.pool_busy += (busy - node.pool_mark) as f64;
                s.pool_capacity += served * node.pool.servers() as f64;
                if i > 0 {
                    s.replica_area += served;
                }
            }
            node.pool_mark = busy;
        }
        s.length = now.saturating_since(prev).as_nanos() as f64;
        s.reads = (self.reads_all - self.marks.0) as f64;
        s.writes = (self.writes_all - self.marks.1) as f64;
        self.marks = (self.reads_all, self.writes_all);
        s
    }

    /// A node's existence within the measured period, in ns.
    fn lifetime_ns(&self, node: &Node) -> f64 {
        let end = node.life.ended.map_or(self.measured.to, |e| e.as_nanos());
        self.measured.overlap(node.life.launched.as_nanos(), end) as f64
    }

    fn metrics(&self) -> Vec<Figure> {
        let secs = self.measured.len_ns() as f64 / 1e9;
        let sum = |f: &dyn Fn(&Node) -> f64| self.nodes.iter().map(f).sum::<f64>();
        // Busy time over the capacity of nodes while they existed.
        let core_capacity = sum(&|x| x.cores.servers() as f64 * self.lifetime_ns(x));
        let pool_capacity = sum(&|x| x.pool.servers() as f64 * self.lifetime_ns(x));
        let replica_time = self.nodes[1..]
            .iter()
            .map(|x| {
                let end = x.life.ended.map_or(self.measured.to, |e| e.as_nanos());
                if x.life.life == Life::Booting {
                    0.0
                } else {
                    self.measured.overlap(x.life.since.as_nanos(), end) as f64
                }
            })
            .sum::<f64>();
        let mut lag = LatencyRecorder::new();
        for node in self.nodes.iter().skip(1) {
            lag.merge(&node.lag);
        }
        let lag = lag.finish();
        let reads_primary = self.nodes[0].reads as f64;
        let reads_replicas = sum(&|x| x.reads as f64) - reads_primary;
        let core_wait_ns = sum(&|x| x.cores.stats().wait_ns as f64);
        let core_arrivals: u64 = self.nodes.iter().map(|x| x.cores.stats().arrivals).sum();
        use Unit::*;
        let pool_wait_ms = ratio(self.pool_wait_ns as f64 / 1e6, self.pool_waits);
        vec![
            Figure::new(
                "utilization",
                Fraction,
                sum(&|x| x.cores.stats().busy_ns as f64) / core_capacity,
            ),
            Figure::new("queue_wait_ms", Milliseconds, pool_wait_ms),
            Figure::new(
                "queue_length",
                Average,
                sum(&|x| x.pool.mean_waiting() + x.cores.mean_waiting()),
            ),
            Figure::new(
                "throughput_per_s",
                PerSecond,
                sum(&|x| x.pool.stats().completed as f64) / secs,
            ),
            Figure::new("pool_wait_ms", Milliseconds, pool_wait_ms),
            Figure::new(
                "pool_utilization",
                Fraction,
                sum(&|x| x.pool.stats().busy_ns as f64) / pool_capacity,
            ),
            Figure::new(
                "replicas",
                Average,
                replica_time / self.measured.len_ns() as f64,
            ),
            Figure::new(
                "cpu_wait_ms",
                Milliseconds,
                ratio(core_wait_ns / 1e6, core_arrivals),
            ),
            Figure::new("reads_primary", Count, reads_primary),
            Figure::new("reads_replicas", Count, reads_replicas),
            Figure::new("writes", Count, sum(&|x| x.writes as f64)),
            Figure::new("pool_timeouts", Count, sum(&|x| x.pool_timeouts as f64)),
            Figure::new("replication_lag_ms", Milliseconds, lag.mean_ms()),
            Figure::new("replication_lag_max_ms", Milliseconds, lag.max_ms()),
            Figure::new("errors", Count, self.errors as f64),
        ]
    }

    /// Its nodes: the primary, then the replicas (a region's replica set
    /// lists its replicas only).
    fn unit_results(&self) -> Vec<UnitResult> {
        let secs = self.measured.len_ns() as f64 / 1e9;
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| self.local_primary || *i > 0)
            .map(|(i, x)| UnitResult {
                name: if i == 0 {
                    "primary".to_string()
                } else {
                    format!("replica-{i}")
                },
                metrics: vec![
                    Figure::new("utilization", Unit::Fraction, x.cores.utilization()),
                    Figure::new("pool_wait_ms", Unit::Milliseconds, x.pool.mean_wait_ms()),
                    Figure::new("queries_per_s", Unit::PerSecond, x.queries as f64 / secs),
                    Figure::new("reads", Unit::Count, x.reads as f64),
                    Figure::new("writes", Unit::Count, x.writes as f64),
                    Figure::new("replication_lag_ms", Unit::Milliseconds, x.lag.mean_ms()),
                ],
            })
            .collect()
    }

    fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let end = SimTime::at(self.spec.horizon);
        // Capacity: the cores in service over each interval (replicas come
        // and go with scaling, nodes with crashes).
        let cores = self.serving_cores_series.finish(end);
        let capacity: Vec<f64> = lengths.iter().zip(&cores).map(|(l, c)| l * c).collect();
        let replicas = self.replicas_series.finish(end);
        let nodes = self.nodes_series.finish(end);
        vec![
            ("arrivals", self.queries_series.take_values()),
            ("completed", self.completed_series.take_values()),
            ("errors", self.errors_series.take_values()),
            (
                "utilization",
                divided(self.busy_series.take_values(), &capacity),
            ),
            (
                "queue_length",
                divided(self.waiting_series.take_values(), &lengths),
            ),
            ("reads", self.reads_series.take_values()),
            ("writes", self.writes_series.take_values()),
            (REPLICA.many, replicas),
            (NODE.many, nodes),
        ]
    }
}

impl TierModel for DbTier<'_> {
    /// Node 0 is the primary (a stand-in, in a region without it), then the
    /// replicas.
    fn failure_units(&self) -> Range<u32> {
        u32::from(!self.local_primary)..self.nodes.len() as u32
    }

    fn crash(&mut self, n: u32, now: SimTime) -> Option<Crash> {
        let node = &mut self.nodes[n as usize];
        node.down_count += 1;
        if node.down_count > 1 {
            return None;
        }
        let epoch = node.epoch;
        node.up = false;
        node.epoch += 1;
        node.pool.crash(now);
        node.cores.crash(now);
        self.refresh_replicas(now);
        Some(Crash {
            epoch,
            queued: Vec::new(),
            dropped: Vec::new(),
            terminated: false,
            jobs: false,
        })
    }

    /// A node comes back; a replica resumes applying from now (its catch-up
    /// is not modelled).
    fn recover(&mut self, n: u32, now: SimTime) -> bool {
        let node = &mut self.nodes[n as usize];
        node.down_count -= 1;
        if node.down_count > 0 {
            return false;
        }
        if n == 0 && !self.local_primary {
            return true;
        }
        node.up = true;
        node.epoch += 1;
        node.apply_free = node.apply_free.max(now.as_nanos());
        node.last_commit = node.last_commit.max(now.as_nanos());
        self.refresh_replicas(now);
        true
    }

    /// Requests that failed on this database (their node crashed under them).
    fn add_errors(&mut self, now: SimTime, n: u64) {
        if self.measured.contains(now.as_nanos()) {
            self.errors += n;
        }
        self.errors_series.add(now, n as f64);
    }

    fn billed_units(&self) -> u32 {
        self.nodes.len() as u32
    }

    fn lifetime(&self, unit: u32) -> Lifetime {
        self.nodes[unit as usize].life
    }

    fn unit_rate(&self, unit: u32, billing: &Billing) -> f64 {
        if unit > 0 {
            billing.replica_rate()
        } else {
            billing.rate()
        }
    }

    fn bill_line(&self, unit: u32) -> usize {
        usize::from(unit > 0)
    }

    fn elastic(&mut self) -> Option<&mut dyn Elastic> {
        Some(self)
    }

    fn close_intervals(&mut self, upto: usize, _reached: SimTime) {
        let pools = self.nodes.iter_mut().filter_map(|n| n.pool.latency_mut());
        self.latency.close_draining(pools, upto);
        // Node by node, the pool's waiting time then the cores'.
        for n in &mut self.nodes {
            let pool = Sums {
                waiting: Some(&mut self.waiting_series),
                completed: Some(&mut self.completed_series),
                ..Sums::default()
            };
            let series = n.pool.closing_series().expect("nodes keep series");
            series.drain_into(pool, upto);
            let cores = Sums {
                busy: Some(&mut self.busy_series),
                waiting: Some(&mut self.waiting_series),
                ..Sums::default()
            };
            let series = n.cores.closing_series().expect("nodes keep series");
            series.drain_into(cores, upto);
        }
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        for c in [
            &mut self.queries_series,
            &mut self.reads_series,
            &mut self.writes_series,
            &mut self.errors_series,
            &mut self.busy_series,
            &mut self.waiting_series,
            &mut self.completed_series,
        ] {
            f(Accumulator::Counts(c));
        }
        for a in [
            &mut self.serving_cores_series,
            &mut self.replicas_series,
            &mut self.nodes_series,
        ] {
            f(Accumulator::Averages(a));
        }
        f(Accumulator::Latency(&mut self.latency));
    }

    fn report(&mut self, _now: SimTime) -> TierReport {
        for n in &mut self.nodes {
            n.pool.settle();
            n.cores.settle();
        }
        TierReport {
            series: self.series(),
            latency: (!self.nodes.is_empty()).then(|| self.latency.clone()),
            metrics: self.metrics(),
            units: self.unit_results(),
            serving: Some(Serving::series(NODE)),
        }
    }
}

impl Elastic for DbTier<'_> {
    /// Replicas launched and not removed.
    fn desired_count(&self) -> u32 {
        self.nodes[1..]
            .iter()
            .filter(|n| n.life.is_desired())
            .count() as u32
    }

    fn ready_count(&self) -> u32 {
        self.nodes[1..]
            .iter()
            .filter(|n| n.life.in_service())
            .count() as u32
    }

    /// Creates a replica; it takes reads once `ready` (created and caught up).
    fn launch(&mut self, now: SimTime) -> u32 {
        let node = self.new_node(self.replica_cores, Lifetime::booting(now));
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn ready(&mut self, n: u32, now: SimTime) {
        if self.nodes[n as usize].life.life == Life::Booting {
            self.nodes[n as usize].life.ready(now);
            self.nodes[n as usize].pool_mark = self.nodes[n as usize].pool.busy_until(now);
            self.refresh_replicas(now);
        }
    }

    /// Never the primary.
    fn scale_in_choice(&self, n: u32, order: Termination) -> Vec<u32> {
        scale_in_choice(self.nodes.iter().map(|d| d.life), 1, n, order)
    }

    /// Removes replica `n` from the read pool; it terminates at once (queries
    /// already sent to it finish as computed). Always true.
    fn begin_drain(&mut self, n: u32, now: SimTime) -> bool {
        self.nodes[n as usize].life.terminate(now);
        self.refresh_replicas(now);
        true
    }

    fn sample(&mut self, prev: SimTime, now: SimTime, metrics: &[Metric]) -> Vec<(f64, f64)> {
        let s = self.sample_tick(prev, now);
        metrics
            .iter()
            .map(|m| match m {
                Metric::PoolUtilization => (s.pool_busy, s.pool_capacity),
                Metric::ReadWriteRatio => (s.reads, s.writes),
                _ => (0.0, 0.0),
            })
            .chain([(s.replica_area, s.length)])
            .collect()
    }
}

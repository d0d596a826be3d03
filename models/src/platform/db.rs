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

use sim_engine::{IntervalAverages, IntervalCounts, LatencyRecorder, SimDuration, SimTime};

use crate::config::{DatabaseConfig, ReadRouting};
use crate::fcfs::{FcfsUnit, Window, ratio, series_of};
use crate::scaling::Termination;
use crate::series::{Spec, divide, sum};

use super::life::{Life, Lifetime, scale_in_choice};

pub(crate) struct Node {
    /// Not crashed.
    pub up: bool,
    pub life: Lifetime,
    pub epoch: u32,
    /// Pool busy time at the last metrics tick.
    pool_mark: u128,
    pub pool: FcfsUnit,
    pub cores: FcfsUnit,
    pub down_count: u32,
    /// Replicas: when the apply process is next free (ns), and the last
    /// commit it was given (WAL order).
    apply_free: u64,
    last_commit: u64,
    pub lag: LatencyRecorder,
    pub queries: u64,
    pub reads: u64,
    pub writes: u64,
    pub pool_timeouts: u64,
}

/// One metrics tick of the database.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DbSample {
    /// Connection-ns in use and connection-ns available, over in-service nodes.
    pub pool_busy: f64,
    pub pool_capacity: f64,
    pub reads: f64,
    pub writes: f64,
    /// ∫ replicas in service dt, and the tick's length (ns).
    pub replica_area: f64,
    pub length: f64,
}

/// Where a query goes and how it ends.
pub(crate) enum Outcome {
    /// Answered at this time (before the network round trip back).
    Done { node: u32, at: SimTime },
    /// Failed at this time: no connection within the timeout, or no node up.
    Failed { node: Option<u32>, at: SimTime },
}

pub(crate) struct DbTier {
    pub nodes: Vec<Node>,
    /// Node 0 is this tier's primary (else a stand-in for the primary of
    /// another region's tier, which never runs).
    pub local_primary: bool,
    read_primary_fraction: f64,
    routing: ReadRouting,
    acquire_timeout: SimDuration,
    rr_next: u32,
    /// Replicas that are up (node indices), kept current on crash and
    /// recovery so routing a read allocates nothing.
    up_replicas: Vec<u32>,
    window: Window,
    pub errors: u64,
    pub pool_wait_ns: u128,
    pub pool_waits: u64,
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
}

impl DbTier {
    pub fn new(cfg: &DatabaseConfig, window: Window, spec: Spec, fails: bool) -> Self {
        let least_busy = cfg.read_routing == ReadRouting::LeastBusy;
        let mut tier = DbTier {
            nodes: Vec::new(),
            local_primary: cfg.local_primary,
            read_primary_fraction: cfg.read_primary_fraction,
            routing: cfg.read_routing,
            acquire_timeout: cfg.acquire_timeout,
            rr_next: 0,
            up_replicas: (1..=cfg.replicas).collect(),
            window,
            errors: 0,
            pool_wait_ns: 0,
            spec,
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
        let (window, spec) = (self.window, self.spec);
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
    pub(super) fn query(&mut self, d: &super::QueryDraws, u1: f64, now: SimTime) -> Outcome {
        let super::QueryDraws {
            write,
            cpu,
            io,
            apply,
            u2,
            ..
        } = *d;
        let measuring = self.window.contains(now.as_nanos());
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
        let (_, cpu_end) = node.cores.submit(conn_at, cpu);
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
        Outcome::Done { node: n, at: end }
    }

    /// A write committed on the primary at `commit` reaches every replica that
    /// is up at `arrival` (later than the commit for a replica set in another
    /// region); each applies writes one at a time in commit order. The lag
    /// counts from the commit.
    pub fn replicate(&mut self, commit: SimTime, arrival: SimTime, apply: SimDuration) {
        let window = self.window;
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
        }
    }

    /// A replica is up and in service.
    pub fn has_replica_up(&self) -> bool {
        !self.up_replicas.is_empty()
    }

    pub fn crash(&mut self, n: u32, now: SimTime) {
        let node = &mut self.nodes[n as usize];
        node.up = false;
        node.epoch += 1;
        node.pool.crash(now);
        node.cores.crash(now);
        self.refresh_replicas(now);
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

    // ---- scaling (replicas) ---------------------------------------------

    /// Creates a replica; it takes reads once `ready` (created and caught up).
    pub fn launch(&mut self, now: SimTime) -> u32 {
        let node = self.new_node(self.replica_cores, Lifetime::booting(now));
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    pub fn ready(&mut self, n: u32, now: SimTime) {
        if self.nodes[n as usize].life.life == Life::Booting {
            self.nodes[n as usize].life.ready(now);
            self.nodes[n as usize].pool_mark = self.nodes[n as usize].pool.busy_until(now);
            self.refresh_replicas(now);
        }
    }

    /// Removes replica `n` from the read pool; it terminates at once (queries
    /// already sent to it finish as computed). Always true.
    pub fn begin_drain(&mut self, n: u32, now: SimTime) -> bool {
        self.nodes[n as usize].life.terminate(now);
        self.refresh_replicas(now);
        true
    }

    /// Replicas launched and not removed.
    pub fn desired_count(&self) -> u32 {
        self.nodes[1..]
            .iter()
            .filter(|n| n.life.is_desired())
            .count() as u32
    }

    pub fn ready_count(&self) -> u32 {
        self.nodes[1..]
            .iter()
            .filter(|n| n.life.in_service())
            .count() as u32
    }

    /// The `n` replicas scale-in removes (never the primary).
    pub fn scale_in_choice(&self, n: u32, order: Termination) -> Vec<u32> {
        scale_in_choice(self.nodes.iter().map(|d| d.life), 1, n, order)
    }

    /// The metrics of the tick that ends at `now` (the last one at `prev`).
    pub fn sample(&mut self, prev: SimTime, now: SimTime) -> DbSample {
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

    /// A node comes back; a replica resumes applying from now (its catch-up
    /// is not modelled).
    pub fn recover(&mut self, n: u32, now: SimTime) {
        if n == 0 && !self.local_primary {
            return;
        }
        let node = &mut self.nodes[n as usize];
        node.up = true;
        node.epoch += 1;
        node.apply_free = node.apply_free.max(now.as_nanos());
        node.last_commit = node.last_commit.max(now.as_nanos());
        self.refresh_replicas(now);
    }

    /// A node's existence within the measured window, in ns.
    fn lifetime_ns(&self, node: &Node) -> f64 {
        let end = node.life.ended.map_or(self.window.to, |e| e.as_nanos());
        self.window.overlap(node.life.launched.as_nanos(), end) as f64
    }

    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let secs = self.window.len_ns() as f64 / 1e9;
        let sum = |f: &dyn Fn(&Node) -> f64| self.nodes.iter().map(f).sum::<f64>();
        // Busy time over the capacity of nodes while they existed.
        let core_capacity = sum(&|x| x.cores.servers() as f64 * self.lifetime_ns(x));
        let pool_capacity = sum(&|x| x.pool.servers() as f64 * self.lifetime_ns(x));
        let replica_time = self.nodes[1..]
            .iter()
            .map(|x| {
                let end = x.life.ended.map_or(self.window.to, |e| e.as_nanos());
                if x.life.life == Life::Booting {
                    0.0
                } else {
                    self.window.overlap(x.life.since.as_nanos(), end) as f64
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
        vec![
            (
                "utilization",
                sum(&|x| x.cores.stats().busy_ns as f64) / core_capacity,
            ),
            (
                "queue_wait_ms",
                ratio(self.pool_wait_ns as f64 / 1e6, self.pool_waits),
            ),
            (
                "queue_length",
                sum(&|x| x.pool.mean_waiting() + x.cores.mean_waiting()),
            ),
            (
                "throughput_per_s",
                sum(&|x| x.pool.stats().completed as f64) / secs,
            ),
            (
                "pool_wait_ms",
                ratio(self.pool_wait_ns as f64 / 1e6, self.pool_waits),
            ),
            (
                "pool_utilization",
                sum(&|x| x.pool.stats().busy_ns as f64) / pool_capacity,
            ),
            ("replicas", replica_time / self.window.len_ns() as f64),
            ("cpu_wait_ms", ratio(core_wait_ns / 1e6, core_arrivals)),
            ("reads_primary", reads_primary),
            ("reads_replicas", reads_replicas),
            ("writes", sum(&|x| x.writes as f64)),
            ("pool_timeouts", sum(&|x| x.pool_timeouts as f64)),
            ("replication_lag_ms", lag.mean_ms()),
            ("replication_lag_max_ms", lag.max_ms()),
            ("errors", self.errors as f64),
        ]
    }

    pub fn unit_metrics(&self) -> Vec<Vec<(&'static str, f64)>> {
        let secs = self.window.len_ns() as f64 / 1e9;
        self.nodes
            .iter()
            .map(|x| {
                vec![
                    ("utilization", x.cores.utilization()),
                    ("pool_wait_ms", x.pool.mean_wait_ms()),
                    ("queries_per_s", x.queries as f64 / secs),
                    ("reads", x.reads as f64),
                    ("writes", x.writes as f64),
                    ("replication_lag_ms", x.lag.mean_ms()),
                ]
            })
            .collect()
    }

    /// Requests that failed on this database (their node crashed under them).
    pub fn add_errors(&mut self, now: SimTime, n: u64) {
        if self.window.contains(now.as_nanos()) {
            self.errors += n;
        }
        self.errors_series.add(now, n as f64);
    }

    pub fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let n = self.spec.len();
        let end = SimTime::at(self.spec.horizon);
        let s = series_of;
        let busy = sum(self.nodes.iter().map(|x| s(&x.cores).busy.values()), n);
        // Capacity: the cores in service over each interval (replicas come
        // and go with scaling, nodes with crashes).
        let cores = self.serving_cores_series.finish(end);
        let capacity: Vec<f64> = lengths.iter().zip(&cores).map(|(l, c)| l * c).collect();
        let replicas = self.replicas_series.finish(end);
        let nodes = self.nodes_series.finish(end);
        let waiting = sum(
            self.nodes
                .iter()
                .flat_map(|x| [s(&x.pool).waiting.values(), s(&x.cores).waiting.values()]),
            n,
        );
        vec![
            ("arrivals", self.queries_series.values().to_vec()),
            (
                "completed",
                sum(self.nodes.iter().map(|x| s(&x.pool).completed()), n),
            ),
            ("errors", self.errors_series.values().to_vec()),
            ("utilization", divide(&busy, &capacity)),
            ("queue_length", divide(&waiting, &lengths)),
            ("reads", self.reads_series.values().to_vec()),
            ("writes", self.writes_series.values().to_vec()),
            ("replicas", replicas),
            ("nodes", nodes),
        ]
    }
}

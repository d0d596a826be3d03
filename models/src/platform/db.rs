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

use sim_engine::{IntervalCounts, LatencyHistogram, SimDuration, SimTime};

use crate::config::{DatabaseConfig, ReadRouting};
use crate::fcfs::{FcfsUnit, Window, ratio, series_of};
use crate::series::{Spec, divide, sum};

pub(crate) struct Node {
    pub up: bool,
    pub epoch: u32,
    pub pool: FcfsUnit,
    pub cores: FcfsUnit,
    pub down_count: u32,
    /// Replicas: when the apply process is next free (ns), and the last
    /// commit it was given (WAL order).
    apply_free: u64,
    last_commit: u64,
    pub lag: LatencyHistogram,
    pub queries: u64,
    pub reads: u64,
    pub writes: u64,
    pub pool_timeouts: u64,
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
    queries_series: IntervalCounts,
    reads_series: IntervalCounts,
    writes_series: IntervalCounts,
    errors_series: IntervalCounts,
}

impl DbTier {
    pub fn new(cfg: &DatabaseConfig, window: Window, spec: Spec, fails: bool) -> Self {
        let least_busy = cfg.read_routing == ReadRouting::LeastBusy;
        let node = |cores: u32| Node {
            up: true,
            epoch: 0,
            pool: FcfsUnit::new(cfg.pool_size, window)
                .tracking(fails || least_busy)
                .with_series(spec.interval, spec.horizon, true),
            cores: FcfsUnit::new(cores, window).tracking(fails).with_series(
                spec.interval,
                spec.horizon,
                false,
            ),
            down_count: 0,
            apply_free: 0,
            last_commit: 0,
            lag: LatencyHistogram::new(),
            queries: 0,
            reads: 0,
            writes: 0,
            pool_timeouts: 0,
        };
        let mut nodes = vec![node(cfg.primary_cores)];
        nodes.extend((0..cfg.replicas).map(|_| node(cfg.replica_cores)));
        DbTier {
            nodes,
            read_primary_fraction: cfg.read_primary_fraction,
            routing: cfg.read_routing,
            acquire_timeout: cfg.acquire_timeout,
            rr_next: 0,
            up_replicas: (1..=cfg.replicas).collect(),
            window,
            errors: 0,
            pool_wait_ns: 0,
            spec,
            queries_series: spec.counts(),
            reads_series: spec.counts(),
            writes_series: spec.counts(),
            errors_series: spec.counts(),
            pool_waits: 0,
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

    /// Issues a query at `now`. `apply` is the time a replica takes to replay
    /// it if it is a write.
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &mut self,
        write: bool,
        cpu: SimDuration,
        io: SimDuration,
        apply: SimDuration,
        u1: f64,
        u2: f64,
        now: SimTime,
    ) -> Outcome {
        let measuring = self.window.contains(now.as_nanos());
        self.queries_series.add(now, 1.0);
        if write {
            self.writes_series.add(now, 1.0);
        } else {
            self.reads_series.add(now, 1.0);
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
            self.replicate(end, apply);
        }
        Outcome::Done { node: n, at: end }
    }

    /// A write committed on the primary at `commit` reaches every replica that
    /// is up; each applies writes one at a time in commit order.
    fn replicate(&mut self, commit: SimTime, apply: SimDuration) {
        let window = self.window;
        let commit = commit.as_nanos();
        let apply = apply.as_nanos();
        for node in self.nodes.iter_mut().skip(1).filter(|n| n.up) {
            // WAL order: a write is applied after every earlier-submitted one.
            let arrival = commit.max(node.last_commit);
            node.last_commit = arrival;
            let start = arrival.max(node.apply_free);
            node.apply_free = start + apply;
            if window.contains(commit) {
                node.lag
                    .record(SimDuration::from_nanos(node.apply_free - commit));
            }
        }
    }

    pub fn crash(&mut self, n: u32, now: SimTime) {
        let node = &mut self.nodes[n as usize];
        node.up = false;
        node.epoch += 1;
        node.pool.crash(now);
        node.cores.crash(now);
        self.refresh_replicas();
    }

    fn refresh_replicas(&mut self) {
        self.up_replicas = (1..self.nodes.len() as u32)
            .filter(|&i| self.nodes[i as usize].up)
            .collect();
    }

    /// A node comes back; a replica resumes applying from now (its catch-up
    /// is not modelled).
    pub fn recover(&mut self, n: u32, now: SimTime) {
        let node = &mut self.nodes[n as usize];
        node.up = true;
        node.epoch += 1;
        node.apply_free = node.apply_free.max(now.as_nanos());
        node.last_commit = node.last_commit.max(now.as_nanos());
        self.refresh_replicas();
    }

    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let secs = self.window.len_ns() as f64 / 1e9;
        let n = self.nodes.len() as f64;
        let sum = |f: &dyn Fn(&Node) -> f64| self.nodes.iter().map(f).sum::<f64>();
        let mut lag = LatencyHistogram::new();
        for node in self.nodes.iter().skip(1) {
            lag.merge(&node.lag);
        }
        let reads_primary = self.nodes[0].reads as f64;
        let reads_replicas = sum(&|x| x.reads as f64) - reads_primary;
        let core_wait_ns = sum(&|x| x.cores.stats.wait_ns as f64);
        let core_arrivals: u64 = self.nodes.iter().map(|x| x.cores.stats.arrivals).sum();
        vec![
            ("utilization", sum(&|x| x.cores.utilization()) / n),
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
                sum(&|x| x.pool.stats.completed as f64) / secs,
            ),
            (
                "pool_wait_ms",
                ratio(self.pool_wait_ns as f64 / 1e6, self.pool_waits),
            ),
            ("pool_utilization", sum(&|x| x.pool.utilization()) / n),
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

    pub fn series(&self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let n = self.spec.len();
        let s = series_of;
        let busy = sum(self.nodes.iter().map(|x| s(&x.cores).busy.values()), n);
        let cores: f64 = self.nodes.iter().map(|x| x.cores.servers() as f64).sum();
        let capacity: Vec<f64> = lengths.iter().map(|l| l * cores).collect();
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
        ]
    }
}

//! An API pool: a load balancer in front of identical instances.
//!
//! ```text
//!               ┌─► instance 0: admission (workers / max connections) ─► backlog ─► CPU cores (FCFS)
//!   balancer ───┼─► instance 1: …
//!               └─► instance N−1
//! ```
//!
//! Admission is event-driven: a sync worker is held while the request waits on
//! caches and databases, so its release time is not known on entry. CPU bursts
//! are FCFS on the instance's cores and computed on submission.

use std::collections::VecDeque;

use sim_engine::{IntervalAverages, IntervalCounts, SimTime, StreamRng, TimeWeighted};

use crate::config::{ApiConfig, Balancer, WorkerMode};
use crate::fcfs::{FcfsUnit, Window, ratio};
use crate::series::{Spec, divide, sum};

pub(crate) struct Instance {
    pub up: bool,
    pub epoch: u32,
    /// Requests admitted (holding a worker in sync mode, a connection in async).
    pub active: u32,
    /// Requests waiting for admission, with the time they arrived.
    pub backlog: VecDeque<(u32, SimTime)>,
    pub cpu: FcfsUnit,
    pub down_count: u32,
}

impl Instance {
    /// Requests at the instance: what least-connections balancing compares.
    #[inline]
    pub fn load(&self) -> u32 {
        self.active + self.backlog.len() as u32
    }
}

/// What happened to a request arriving at the pool.
pub(crate) enum Entry {
    /// Admitted on instance `i`: continue at once.
    Admitted(u32),
    /// Waiting in instance `i`'s backlog.
    Queued(u32),
    /// No room, or no instance up.
    Rejected,
}

pub(crate) struct ApiTier {
    pub instances: Vec<Instance>,
    admit_limit: u32,
    backlog_limit: u32,
    balancer: Balancer,
    rr_next: u32,
    /// Requests at each instance (`u32::MAX` when down): what the balancer
    /// compares, kept compact so scanning it stays in cache.
    loads: Vec<u32>,
    /// Instances that are up, in index order.
    up_list: Vec<u32>,
    rng: StreamRng,
    window: Window,
    // Window statistics of the event-driven parts.
    pub offered: u64,
    pub rejected: u64,
    pub errors: u64,
    pub admitted: u64,
    pub admission_wait_ns: u128,
    pub departures: u64,
    pub backlog_tw: TimeWeighted,
    pub active_tw: TimeWeighted,
    pub up_tw: TimeWeighted,
    backlog_total: u32,
    active_total: u32,
    spec: Spec,
    offered_series: IntervalCounts,
    departures_series: IntervalCounts,
    errors_series: IntervalCounts,
    backlog_series: IntervalAverages,
    up_series: IntervalAverages,
}

impl ApiTier {
    /// `fails`: failures are injected into this tier (its units must track
    /// their jobs to void them exactly).
    pub fn new(cfg: &ApiConfig, window: Window, rng: StreamRng, spec: Spec, fails: bool) -> Self {
        let cpu_servers = match cfg.mode {
            WorkerMode::Sync => cfg.cores,
            WorkerMode::Async => cfg.cores.min(cfg.workers),
        };
        let admit_limit = match cfg.mode {
            WorkerMode::Sync => cfg.workers,
            WorkerMode::Async => cfg.max_connections,
        };
        let instances = (0..cfg.instances)
            .map(|_| Instance {
                up: true,
                epoch: 0,
                active: 0,
                backlog: VecDeque::new(),
                cpu: FcfsUnit::new(cpu_servers, window)
                    .tracking(fails)
                    .with_series(spec.interval, spec.horizon, false),
                down_count: 0,
            })
            .collect();
        ApiTier {
            instances,
            admit_limit,
            backlog_limit: cfg.backlog,
            balancer: cfg.balancer,
            rr_next: 0,
            loads: vec![0; cfg.instances as usize],
            up_list: (0..cfg.instances).collect(),
            rng,
            window,
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
            spec,
            offered_series: spec.counts(),
            departures_series: spec.counts(),
            errors_series: spec.counts(),
            backlog_series: spec.averages(0.0),
            up_series: spec.averages(cfg.instances as f64),
        }
    }

    fn up_count(&self) -> u32 {
        self.up_list.len() as u32
    }

    /// Rebuilds the balancer's view after an instance went down or came up.
    fn refresh_balancer(&mut self) {
        self.up_list = (0..self.instances.len() as u32)
            .filter(|&i| self.instances[i as usize].up)
            .collect();
        for (i, inst) in self.instances.iter().enumerate() {
            self.loads[i] = if inst.up { inst.load() } else { u32::MAX };
        }
    }

    /// Picks an instance that is up, by the balancing policy.
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
                // Down instances carry u32::MAX; ties go to the lowest index.
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
        self.window.contains(now.as_nanos())
    }

    fn set_backlog(&mut self, now: SimTime, delta: i32) {
        self.backlog_total = (self.backlog_total as i32 + delta) as u32;
        self.backlog_tw.set(now, self.backlog_total as f64);
        self.backlog_series.set(now, self.backlog_total as f64);
    }

    /// Requests that failed on this pool (its instance crashed under them).
    pub fn add_errors(&mut self, now: SimTime, n: u64) {
        if self.measuring(now) {
            self.errors += n;
        }
        self.errors_series.add(now, n as f64);
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

    /// A request arrives at the balancer.
    pub fn enter(&mut self, req: u32, now: SimTime) -> Entry {
        let measuring = self.measuring(now);
        if measuring {
            self.offered += 1;
        }
        self.offered_series.add(now, 1.0);
        let Some(i) = self.pick() else {
            return self.reject(now, measuring);
        };
        let limit = self.admit_limit;
        let backlog_limit = self.backlog_limit;
        let inst = &mut self.instances[i as usize];
        if inst.active < limit {
            inst.active += 1;
            self.loads[i as usize] += 1;
            if measuring {
                self.admitted += 1;
            }
            self.set_active(now, 1);
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

    /// A request leaves instance `i` (done or failed). Returns the request
    /// admitted in its place, if any.
    pub fn leave(&mut self, i: u32, now: SimTime) -> Option<u32> {
        if self.measuring(now) {
            self.departures += 1;
        }
        self.departures_series.add(now, 1.0);
        let inst = &mut self.instances[i as usize];
        if !inst.up {
            return None;
        }
        self.loads[i as usize] -= 1;
        if let Some((next, since)) = inst.backlog.pop_front() {
            // The worker passes straight to the next request.
            if self.window.contains(since.as_nanos()) {
                self.admitted += 1;
                self.admission_wait_ns += (now - since).as_nanos() as u128;
            }
            self.set_backlog(now, -1);
            Some(next)
        } else {
            inst.active -= 1;
            self.set_active(now, -1);
            None
        }
    }

    /// Instance `i` goes down: returns the requests that were waiting in its
    /// backlog (they fail). Requests admitted on it fail too; the caller finds
    /// them by their instance.
    pub fn crash(&mut self, i: u32, now: SimTime) -> Vec<u32> {
        let inst = &mut self.instances[i as usize];
        inst.up = false;
        inst.epoch += 1;
        inst.cpu.crash(now);
        let waiting: Vec<u32> = inst.backlog.drain(..).map(|(r, _)| r).collect();
        let active = inst.active;
        inst.active = 0;
        self.set_backlog(now, -(waiting.len() as i32));
        self.set_active(now, -(active as i32));
        self.refresh_balancer();
        let up = self.up_count();
        self.up_tw.set(now, up as f64);
        self.up_series.set(now, up as f64);
        waiting
    }

    pub fn recover(&mut self, i: u32, now: SimTime) {
        let inst = &mut self.instances[i as usize];
        inst.up = true;
        inst.epoch += 1;
        self.refresh_balancer();
        let up = self.up_count();
        self.up_tw.set(now, up as f64);
        self.up_series.set(now, up as f64);
    }

    pub fn restart_statistics(&mut self, now: SimTime) {
        self.backlog_tw.reset(now);
        self.active_tw.reset(now);
        self.up_tw.reset(now);
    }

    pub fn metrics(&self, now: SimTime) -> Vec<(&'static str, f64)> {
        let secs = self.window.len_ns() as f64 / 1e9;
        let cores: f64 = self.instances.iter().map(|i| i.cpu.servers() as f64).sum();
        let busy: f64 = self
            .instances
            .iter()
            .map(|i| i.cpu.stats.busy_ns as f64)
            .sum();
        let cpu_wait_ns: f64 = self
            .instances
            .iter()
            .map(|i| i.cpu.stats.wait_ns as f64)
            .sum();
        let bursts: u64 = self.instances.iter().map(|i| i.cpu.stats.arrivals).sum();
        let utils: Vec<f64> = self.instances.iter().map(|i| i.cpu.utilization()).collect();
        vec![
            // Pool CPU utilisation: busy core-time over all cores (down
            // instances count as idle capacity).
            ("utilization", busy / (cores * self.window.len_ns() as f64)),
            (
                "queue_wait_ms",
                ratio(self.admission_wait_ns as f64 / 1e6, self.admitted),
            ),
            ("queue_length", self.backlog_tw.mean(now)),
            ("throughput_per_s", self.departures as f64 / secs),
            ("cpu_wait_ms", ratio(cpu_wait_ns / 1e6, bursts)),
            ("in_service", self.active_tw.mean(now)),
            ("instances_up", self.up_tw.mean(now)),
            (
                "utilization_min_instance",
                utils.iter().copied().fold(f64::INFINITY, f64::min),
            ),
            (
                "utilization_max_instance",
                utils.iter().copied().fold(0.0, f64::max),
            ),
            ("offered", self.offered as f64),
            ("rejected", self.rejected as f64),
            ("errors", self.errors as f64),
        ]
    }

    pub fn unit_metrics(&self) -> Vec<Vec<(&'static str, f64)>> {
        self.instances
            .iter()
            .map(|i| {
                vec![
                    ("utilization", i.cpu.utilization()),
                    ("cpu_wait_ms", i.cpu.mean_wait_ms()),
                    ("bursts", i.cpu.stats.arrivals as f64),
                ]
            })
            .collect()
    }

    pub fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let spec = self.spec;
        let lengths = spec.lengths();
        let end = sim_engine::SimTime::at(spec.horizon);
        let n = spec.len();
        let busy = sum(
            self.instances
                .iter()
                .map(|i| i.cpu.series.as_ref().expect("series").busy.values()),
            n,
        );
        let cores: f64 = self.instances.iter().map(|i| i.cpu.servers() as f64).sum();
        let capacity: Vec<f64> = lengths.iter().map(|l| l * cores).collect();
        vec![
            ("arrivals", self.offered_series.values().to_vec()),
            ("completed", self.departures_series.values().to_vec()),
            ("errors", self.errors_series.values().to_vec()),
            ("utilization", divide(&busy, &capacity)),
            ("queue_length", self.backlog_series.finish(end)),
            ("instances", self.up_series.finish(end)),
        ]
    }
}

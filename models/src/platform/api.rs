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

use sim_engine::{
    Integral, IntervalAverages, IntervalCounts, IntervalLatency, SimTime, StreamRng, TimeWeighted,
};

use crate::config::{ApiConfig, Balancer, WorkerMode};
use crate::fcfs::{FcfsUnit, Window, ratio};
use crate::scaling::Termination;
use crate::series::{Spec, divide, sum};

use super::life::{Life, Lifetime, scale_in_choice};

pub(crate) struct Instance {
    /// Not crashed.
    pub up: bool,
    pub epoch: u32,
    pub life: Lifetime,
    /// Requests admitted (holding a worker in sync mode, a connection in async).
    pub active: u32,
    /// Requests waiting for admission, with the time they arrived.
    pub backlog: VecDeque<(u32, SimTime)>,
    pub cpu: FcfsUnit,
    pub down_count: u32,
    /// CPU busy time at the last metrics tick.
    busy_mark: u128,
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
pub(crate) struct ApiSample {
    /// Busy core-ns and in-service core-ns.
    pub busy: f64,
    pub capacity: f64,
    /// Requests offered, and in-service instance-seconds.
    pub requests: f64,
    pub instance_seconds: f64,
    /// ∫ backlog dt (request·ns), and the tick's length in ns.
    pub backlog_area: f64,
    pub length: f64,
}

pub(crate) struct ApiTier {
    pub instances: Vec<Instance>,
    cores: u32,
    cpu_servers: u32,
    track: bool,
    admit_limit: u32,
    backlog_limit: u32,
    balancer: Balancer,
    rr_next: u32,
    /// Requests at each instance (`u32::MAX` when not routable): what the
    /// balancer compares, kept compact so scanning it stays in cache.
    loads: Vec<u32>,
    /// Routable instances, in index order.
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
    /// Routable instances.
    pub up_tw: TimeWeighted,
    backlog_total: u32,
    active_total: u32,
    // For metrics ticks (cumulative since the start).
    offered_all: u64,
    offered_mark: u64,
    backlog_int: Integral,
    backlog_mark: f64,
    spec: Spec,
    offered_series: IntervalCounts,
    /// Time on an instance (balancer to leaving), by the interval it left.
    pub latency_series: IntervalLatency,
    departures_series: IntervalCounts,
    errors_series: IntervalCounts,
    backlog_series: IntervalAverages,
    up_series: IntervalAverages,
}

impl ApiTier {
    /// `track`: failures are injected into this tier (its units must track
    /// their jobs to void them exactly).
    pub fn new(cfg: &ApiConfig, window: Window, rng: StreamRng, spec: Spec, track: bool) -> Self {
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
            track,
            admit_limit,
            backlog_limit: cfg.backlog,
            balancer: cfg.balancer,
            rr_next: 0,
            loads: Vec::new(),
            up_list: Vec::new(),
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
            offered_all: 0,
            offered_mark: 0,
            backlog_int: Integral::new(0.0),
            backlog_mark: 0.0,
            spec,
            offered_series: spec.counts(),
            latency_series: IntervalLatency::new(spec.interval, spec.horizon),
            departures_series: spec.counts(),
            errors_series: spec.counts(),
            backlog_series: spec.averages(0.0),
            up_series: spec.averages(cfg.instances as f64),
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
            cpu: FcfsUnit::new(self.cpu_servers, self.window)
                .tracking(self.track)
                .with_series(self.spec.interval, self.spec.horizon, false),
            down_count: 0,
            busy_mark: 0,
        }
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
        self.window.contains(now.as_nanos())
    }

    fn set_backlog(&mut self, now: SimTime, delta: i32) {
        self.backlog_total = (self.backlog_total as i32 + delta) as u32;
        let b = self.backlog_total as f64;
        self.backlog_tw.set(now, b);
        self.backlog_series.set(now, b);
        self.backlog_int.set(now, b);
    }

    /// Requests that failed on this pool (their instance went away).
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

    /// A request leaves instance `i` (done or failed).
    pub fn leave(&mut self, i: u32, now: SimTime) -> Leave {
        if self.measuring(now) {
            self.departures += 1;
        }
        self.departures_series.add(now, 1.0);
        let inst = &mut self.instances[i as usize];
        if inst.loads_valid() {
            self.loads[i as usize] -= 1;
        }
        if let Some((next, since)) = inst.backlog.pop_front() {
            // The worker passes straight to the next request.
            if self.window.contains(since.as_nanos()) {
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
        let done_draining = inst.life.life == Life::Draining && inst.load() == 0;
        if done_draining {
            inst.life.terminate(now);
        }
        self.set_active(now, -1);
        Leave {
            next: None,
            terminated: done_draining,
        }
    }

    /// Instance `i` goes down: returns the requests that were waiting in its
    /// backlog (they fail). Requests admitted on it fail too; the caller finds
    /// them by their instance.
    pub fn crash(&mut self, i: u32, now: SimTime) -> Vec<u32> {
        let waiting = self.evict(i, now);
        self.instances[i as usize].up = false;
        self.record_up(now);
        waiting
    }

    /// Empties instance `i` (its work fails): returns its backlog.
    fn evict(&mut self, i: u32, now: SimTime) -> Vec<u32> {
        let inst = &mut self.instances[i as usize];
        inst.epoch += 1;
        if self.track {
            inst.cpu.crash(now);
        }
        let waiting: Vec<u32> = inst.backlog.drain(..).map(|(r, _)| r).collect();
        let active = inst.active;
        inst.active = 0;
        self.set_backlog(now, -(waiting.len() as i32));
        self.set_active(now, -(active as i32));
        waiting
    }

    pub fn recover(&mut self, i: u32, now: SimTime) {
        let inst = &mut self.instances[i as usize];
        inst.up = true;
        inst.epoch += 1;
        self.record_up(now);
    }

    // ---- scaling -------------------------------------------------------

    /// Launches an instance; it takes traffic once `ready`.
    pub fn launch(&mut self, now: SimTime) -> u32 {
        let unit = self.new_instance(Lifetime::booting(now));
        self.instances.push(unit);
        self.loads.push(u32::MAX);
        (self.instances.len() - 1) as u32
    }

    /// A launched instance is healthy: it joins the balancer. (A no-op if it
    /// was cancelled while booting.)
    pub fn ready(&mut self, i: u32, now: SimTime) {
        let inst = &mut self.instances[i as usize];
        if inst.life.life == Life::Booting {
            inst.life.ready(now);
            inst.busy_mark = inst.cpu.busy_until(now);
            self.record_up(now);
        }
    }

    /// Instance `i` leaves the balancer: a booting one is cancelled, an
    /// in-service one drains. Returns true if it terminated at once.
    pub fn begin_drain(&mut self, i: u32, now: SimTime) -> bool {
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

    /// The drain timeout of instance `i` passed: if it is still draining, what
    /// remains fails (its backlog is returned; admitted requests are found by
    /// instance) and it terminates. `None` if it had already terminated.
    pub fn drain_timeout(&mut self, i: u32, now: SimTime) -> Option<Vec<u32>> {
        if self.instances[i as usize].life.life != Life::Draining {
            return None;
        }
        let waiting = self.evict(i, now);
        self.instances[i as usize].life.terminate(now);
        Some(waiting)
    }

    /// Launched and not leaving: what the autoscaler's desired count counts.
    pub fn desired_count(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.life.is_desired())
            .count() as u32
    }

    /// In service (what the HPA formula calls current replicas).
    pub fn ready_count(&self) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.life.in_service())
            .count() as u32
    }

    /// The `n` instances scale-in removes: booting ones first (newest
    /// first), then in-service ones in the termination order.
    pub fn scale_in_choice(&self, n: u32, order: Termination) -> Vec<u32> {
        scale_in_choice(self.instances.iter().map(|i| i.life), 0, n, order)
    }

    /// The metrics of the tick that ends at `now` (the last one ended at
    /// `prev`).
    pub fn sample(&mut self, prev: SimTime, now: SimTime) -> ApiSample {
        let mut s = ApiSample {
            length: (now - prev).as_nanos() as f64,
            ..ApiSample::default()
        };
        for inst in &mut self.instances {
            let busy = inst.cpu.busy_until(now);
            if inst.up && inst.life.in_service() {
                let from = prev.max(inst.life.since);
                let served = now.saturating_since(from).as_nanos() as f64;
                s.busy += (busy - inst.busy_mark) as f64;
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
        s
    }

    pub fn restart_statistics(&mut self, now: SimTime) {
        self.backlog_tw.reset(now);
        self.active_tw.reset(now);
        self.up_tw.reset(now);
    }

    /// In-service core-ns over the measured window, per instance lifetimes.
    fn capacity_ns(&self, now: SimTime) -> f64 {
        self.up_tw.mean(now) * self.window.len_ns() as f64 * self.cores as f64
    }

    pub fn metrics(&self, now: SimTime) -> Vec<(&'static str, f64)> {
        let secs = self.window.len_ns() as f64 / 1e9;
        let busy: f64 = self
            .instances
            .iter()
            .map(|i| i.cpu.stats().busy_ns as f64)
            .sum();
        let cpu_wait_ns: f64 = self
            .instances
            .iter()
            .map(|i| i.cpu.stats().wait_ns as f64)
            .sum();
        let bursts: u64 = self.instances.iter().map(|i| i.cpu.stats().arrivals).sum();
        let utils: Vec<f64> = self
            .instances
            .iter()
            .filter(|i| i.cpu.stats().arrivals > 0)
            .map(|i| i.cpu.utilization())
            .collect();
        let capacity = self.capacity_ns(now);
        vec![
            // Pool CPU utilisation: busy core-time over the core-time of
            // instances in service (a crashed instance counts as idle while
            // it is down only if it is in service; see docs/models.md).
            (
                "utilization",
                if capacity > 0.0 {
                    busy / capacity
                } else {
                    f64::NAN
                },
            ),
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
            ("instances_launched", self.instances.len() as f64),
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
                    ("bursts", i.cpu.stats().arrivals as f64),
                    ("launched_s", i.life.launched.as_secs_f64()),
                ]
            })
            .collect()
    }

    pub fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let spec = self.spec;
        let lengths = spec.lengths();
        let end = SimTime::at(spec.horizon);
        let n = spec.len();
        let busy = sum(
            self.instances
                .iter()
                .map(|i| i.cpu.series().expect("series").busy.values()),
            n,
        );
        let up = self.up_series.finish(end);
        let capacity: Vec<f64> = lengths
            .iter()
            .zip(&up)
            .map(|(l, u)| l * u * self.cores as f64)
            .collect();
        vec![
            ("arrivals", self.offered_series.values().to_vec()),
            ("completed", self.departures_series.values().to_vec()),
            ("errors", self.errors_series.values().to_vec()),
            ("utilization", divide(&busy, &capacity)),
            ("queue_length", self.backlog_series.finish(end)),
            ("instances", up),
        ]
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

//! Background workers (Celery, BullMQ): named queues with priorities, worker
//! processes each running up to `concurrency` jobs, retries with backoff.
//!
//! ```text
//!   enqueue ─► queue (by priority, FIFO within) ─► free worker slot ─► run ─┬─► done
//!                         ▲                                               └─► failed ─► backoff ─┘ (or dead)
//! ```
//!
//! Event-driven: a free slot takes the head of the highest-priority non-empty
//! queue, so service order is not arrival order.

use std::collections::VecDeque;
use std::ops::Range;

use sim_engine::{
    Dist, Integral, IntervalAverages, IntervalCounts, IntervalLatency, LatencyRecorder,
    SimDuration, SimTime, TimeWeighted,
};

use super::life::{Life, Lifetime, scale_in_choice};
use super::{
    BuildContext, Crash, Drained, Elastic, Noun, ScalingFacts, TierModel, TierReport, Vocabulary,
};
use crate::fcfs::{Measured, ratio};
use crate::scaling::{Metric, Termination};
use crate::series::{Accumulator, Spec, divide};
use crate::tier::report::{Figure, Serving, Unit};

/// What a worker tier scales and serves with.
pub const WORKER: Noun = Noun::new("worker", "workers");

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "workers",
    scaling: Some(ScalingFacts {
        unit: WORKER,
        least: 0,
        boot: SimDuration::from_secs(60),
        warmup: SimDuration::from_secs(0),
        metrics: &["cpu", "queue_depth", "backlog_per_worker"],
    }),
    own_bill: true,
    priced_otherwise: None,
};

#[derive(Clone, Debug)]
pub struct JobConfig {
    pub name: String,
    /// Index into [`WorkersConfig::queues`].
    pub queue: u16,
    pub service: Dist,
    /// Probability that one execution fails.
    pub failure_probability: f64,
    /// Further executions after a failure.
    pub retries: u16,
    /// Delay before retry k: `backoff × 2^(k−1)`.
    pub backoff: SimDuration,
}

#[derive(Clone, Debug)]
pub struct QueueConfig {
    pub name: String,
    /// Higher first; FIFO within a queue.
    pub priority: i32,
}

/// `workers` worker processes, each running up to `concurrency` jobs.
#[derive(Clone, Debug)]
pub struct WorkersConfig {
    pub workers: u32,
    pub concurrency: u32,
    pub queues: Vec<QueueConfig>,
    pub jobs: Vec<JobConfig>,
}

impl super::ConfigUnits for WorkersConfig {
    fn scaled_units(&self) -> Option<u32> {
        Some(self.workers)
    }
    fn set_scaled_units(&mut self, n: u32) {
        self.workers = n;
    }
    fn failure_units(&self) -> Range<u32> {
        0..self.workers
    }
}

pub(crate) struct Worker {
    /// Not crashed.
    up: bool,
    life: Lifetime,
    running: u32,
    down_count: u32,
}

impl Worker {
    /// Takes new jobs.
    fn serving(&self) -> bool {
        self.up && self.life.in_service()
    }
}

/// One metrics tick of the workers.
#[derive(Clone, Copy, Debug, Default)]
struct WorkersSample {
    /// ∫ running jobs dt and ∫ serving slots dt (job·ns, slot·ns).
    running_area: f64,
    slots_area: f64,
    /// ∫ queued jobs dt and ∫ serving workers dt.
    depth_area: f64,
    workers_area: f64,
    length: f64,
}

pub(crate) struct WorkersTier<'c> {
    pub cfg: &'c WorkersConfig,
    /// The queue-latency objectives its jobs feed.
    pub slos: Vec<u16>,
    workers: Vec<Worker>,
    /// No worker below this index has a free slot (each is full or not
    /// serving): the search for a free worker starts here. Whatever can
    /// free a slot or bring a worker into service lowers it (`touch`).
    free_from: usize,
    concurrency: u32,
    /// Waiting jobs per queue, with the time each joined.
    queues: Vec<VecDeque<(u32, SimTime)>>,
    /// Queue indices, highest priority first.
    order: Vec<usize>,
    depth: usize,
    running: u32,
    measured: Measured,
    depth_tw: TimeWeighted,
    depth_max: usize,
    busy_tw: TimeWeighted,
    up_slots_tw: TimeWeighted,
    enqueued: u64,
    started: u64,
    wait_ns: u128,
    completed: u64,
    failed_runs: u64,
    retried: u64,
    dead: u64,
    /// Enqueue to successful completion, retries included.
    latency: LatencyRecorder,
    spec: Spec,
    enqueued_series: IntervalCounts,
    completed_series: IntervalCounts,
    /// Job latency (enqueue to done), by the interval it finished.
    latency_series: IntervalLatency,
    failed_series: IntervalCounts,
    depth_series: IntervalAverages,
    running_series: IntervalAverages,
    slots_series: IntervalAverages,
    // Cumulative integrals for metrics ticks, and their last readings.
    running_int: Integral,
    depth_int: Integral,
    serving_int: Integral,
    marks: [f64; 3],
}

impl<'c> WorkersTier<'c> {
    pub fn new(cfg: &'c WorkersConfig, ctx: &BuildContext) -> Self {
        let (window, spec) = (ctx.measured, ctx.spec);
        let mut order: Vec<usize> = (0..cfg.queues.len()).collect();
        // Stable: equal priorities keep their file order.
        order.sort_by_key(|&i| std::cmp::Reverse(cfg.queues[i].priority));
        WorkersTier {
            cfg,
            slos: Vec::new(),
            workers: (0..cfg.workers)
                .map(|_| Worker {
                    up: true,
                    life: Lifetime::running(SimTime::ZERO),
                    running: 0,
                    down_count: 0,
                })
                .collect(),
            free_from: 0,
            concurrency: cfg.concurrency,
            queues: cfg.queues.iter().map(|_| VecDeque::new()).collect(),
            order,
            depth: 0,
            running: 0,
            measured: window,
            depth_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            depth_max: 0,
            busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
            up_slots_tw: TimeWeighted::new(SimTime::ZERO, (cfg.workers * cfg.concurrency) as f64),
            enqueued: 0,
            started: 0,
            wait_ns: 0,
            completed: 0,
            failed_runs: 0,
            retried: 0,
            dead: 0,
            latency: LatencyRecorder::new(),
            spec,
            enqueued_series: spec.counts(),
            completed_series: spec.counts(),
            latency_series: IntervalLatency::new(spec.interval, spec.horizon),
            failed_series: spec.counts(),
            depth_series: spec.averages(0.0),
            running_series: spec.averages(0.0),
            slots_series: spec.averages((cfg.workers * cfg.concurrency) as f64),
            running_int: Integral::new(0.0),
            depth_int: Integral::new(0.0),
            serving_int: Integral::new(cfg.workers as f64),
            marks: [0.0; 3],
        }
    }

    /// A run of a job enqueued at `enqueued` failed at `now`; `retry` says
    /// whether it will run again.
    pub fn record_failed_run(&mut self, enqueued: SimTime, now: SimTime, retry: bool) {
        if self.measuring(enqueued) {
            self.failed_runs += 1;
            if retry {
                self.retried += 1;
            } else {
                self.dead += 1;
            }
        }
        self.failed_series.add(now, 1.0);
    }

    fn measuring(&self, t: SimTime) -> bool {
        self.measured.contains(t.as_nanos())
    }

    /// A worker with a free slot, if any (lowest index first).
    fn free_worker(&mut self) -> Option<u32> {
        let from = self.free_from;
        let found = self.workers[from..]
            .iter()
            .position(|w| w.serving() && w.running < self.concurrency)
            .map(|i| from + i);
        self.free_from = found.unwrap_or(self.workers.len());
        found.map(|i| i as u32)
    }

    /// Worker `w` may have a free slot now.
    fn touch(&mut self, w: u32) {
        self.free_from = self.free_from.min(w as usize);
    }

    fn set_depth(&mut self, now: SimTime, depth: usize) {
        self.depth = depth;
        self.depth_tw.set(now, depth as f64);
        self.depth_series.set(now, depth as f64);
        self.depth_int.set(now, depth as f64);
        if self.measuring(now) {
            self.depth_max = self.depth_max.max(depth);
        }
    }

    fn set_running(&mut self, now: SimTime, delta: i32) {
        self.running = (self.running as i32 + delta) as u32;
        self.busy_tw.set(now, self.running as f64);
        self.running_series.set(now, self.running as f64);
        self.running_int.set(now, self.running as f64);
    }

    /// A job arrives on `queue` (first enqueue or retry). Returns the worker
    /// to start it on now, or `None` if it waits.
    pub fn enqueue(&mut self, job: u32, queue: u16, now: SimTime, first: bool) -> Option<u32> {
        if first {
            if self.measuring(now) {
                self.enqueued += 1;
            }
            self.enqueued_series.add(now, 1.0);
        }
        match self.free_worker() {
            Some(w) => {
                self.start_on(w, now, now);
                Some(w)
            }
            None => {
                self.queues[queue as usize].push_back((job, now));
                self.set_depth(now, self.depth + 1);
                None
            }
        }
    }

    fn start_on(&mut self, w: u32, since: SimTime, now: SimTime) {
        self.workers[w as usize].running += 1;
        self.set_running(now, 1);
        if self.measuring(since) {
            self.started += 1;
            self.wait_ns += (now - since).as_nanos() as u128;
        }
    }

    /// A job on worker `w` ended (success or failure): frees its slot and
    /// returns the next job to start there, if any. A draining worker left
    /// idle terminates (`terminated`).
    pub fn finish_on(&mut self, w: u32, now: SimTime) -> (Option<u32>, bool) {
        self.touch(w);
        let worker = &mut self.workers[w as usize];
        worker.running -= 1;
        let terminated = worker.life.life == Life::Draining && worker.running == 0;
        if terminated {
            worker.life.terminate(now);
        }
        self.set_running(now, -1);
        (self.next_for(w, now), terminated)
    }

    /// The next queued job for worker `w`, highest priority first.
    pub fn next_for(&mut self, w: u32, now: SimTime) -> Option<u32> {
        let worker = &self.workers[w as usize];
        if !worker.serving() || worker.running >= self.concurrency {
            return None;
        }
        for qi in 0..self.order.len() {
            let q = self.order[qi];
            if let Some((job, since)) = self.queues[q].pop_front() {
                self.set_depth(now, self.depth - 1);
                self.start_on(w, since, now);
                return Some(job);
            }
        }
        None
    }

    pub fn record_success(&mut self, enqueued: SimTime, now: SimTime) {
        if self.measuring(enqueued) {
            self.completed += 1;
            self.latency.record(now - enqueued);
        }
        self.completed_series.add(now, 1.0);
        self.latency_series.record(now, now - enqueued);
    }

    fn serving_workers(&self) -> u32 {
        self.workers.iter().filter(|w| w.serving()).count() as u32
    }

    fn record_serving(&mut self, now: SimTime) {
        let workers = self.serving_workers();
        let slots = (workers * self.concurrency) as f64;
        self.up_slots_tw.set(now, slots);
        self.slots_series.set(now, slots);
        self.serving_int.set(now, workers as f64);
    }

    /// The drain timeout of worker `w` passed: if it still runs jobs, they
    /// fail (the caller finds them) and it terminates. False if it had
    /// already terminated.
    fn end_drain(&mut self, w: u32, now: SimTime) -> bool {
        let worker = &mut self.workers[w as usize];
        if worker.life.life != Life::Draining {
            return false;
        }
        let running = worker.running;
        worker.running = 0;
        worker.life.terminate(now);
        self.set_running(now, -(running as i32));
        true
    }

    /// The metrics of the tick that ends at `now` (the last one at `prev`).
    fn sample_tick(&mut self, prev: SimTime, now: SimTime) -> WorkersSample {
        let r = self.running_int.at(now);
        let d = self.depth_int.at(now);
        let w = self.serving_int.at(now);
        let s = WorkersSample {
            running_area: r - self.marks[0],
            depth_area: d - self.marks[1],
            workers_area: w - self.marks[2],
            slots_area: (w - self.marks[2]) * self.concurrency as f64,
            length: (now - prev).as_nanos() as f64,
        };
        self.marks = [r, d, w];
        s
    }

    fn metrics(&self, now: SimTime) -> Vec<Figure> {
        let secs = self.measured.len_ns() as f64 / 1e9;
        let slots = self.up_slots_tw.mean(now);
        let latency = self.latency.finish();
        use Unit::*;
        vec![
            Figure::new(
                "utilization",
                Fraction,
                if slots > 0.0 {
                    self.busy_tw.mean(now) / slots
                } else {
                    f64::NAN
                },
            ),
            Figure::new(
                "queue_wait_ms",
                Milliseconds,
                ratio(self.wait_ns as f64 / 1e6, self.started),
            ),
            Figure::new("queue_length", Average, self.depth_tw.mean(now)),
            Figure::new("throughput_per_s", PerSecond, self.completed as f64 / secs),
            Figure::new("queue_depth_max", Peak, self.depth_max as f64),
            Figure::new(
                "workers",
                Average,
                self.up_slots_tw.mean(now) / self.concurrency as f64,
            ),
            Figure::new("job_latency_ms", Milliseconds, latency.mean_ms()),
            Figure::new(
                "job_latency_p95_ms",
                Milliseconds,
                latency.quantile_ms(0.95),
            ),
            Figure::new(
                "job_latency_p99_ms",
                Milliseconds,
                latency.quantile_ms(0.99),
            ),
            Figure::new("enqueued", Count, self.enqueued as f64),
            Figure::new("completed", Count, self.completed as f64),
            Figure::new("failed_runs", Count, self.failed_runs as f64),
            Figure::new("retried", Count, self.retried as f64),
            Figure::new("dead", Count, self.dead as f64),
        ]
    }

    fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let end = SimTime::at(self.spec.horizon);
        let running = self.running_series.finish(end);
        let slots = self.slots_series.finish(end);
        let concurrency = self.concurrency as f64;
        vec![
            ("arrivals", self.enqueued_series.take_values()),
            ("completed", self.completed_series.take_values()),
            ("errors", self.failed_series.take_values()),
            ("utilization", divide(&running, &slots)),
            ("queue_length", self.depth_series.finish(end)),
            (WORKER.many, slots.iter().map(|s| s / concurrency).collect()),
        ]
    }
}

impl TierModel for WorkersTier<'_> {
    fn failure_units(&self) -> Range<u32> {
        0..self.workers.len() as u32
    }

    /// The jobs running on a crashed worker fail (the caller finds them).
    fn crash(&mut self, w: u32, now: SimTime) -> Option<Crash> {
        let worker = &mut self.workers[w as usize];
        worker.down_count += 1;
        if worker.down_count > 1 {
            return None;
        }
        let running = worker.running;
        worker.up = false;
        worker.running = 0;
        self.set_running(now, -(running as i32));
        self.record_serving(now);
        let terminated = self.end_drain(w, now);
        Some(Crash {
            epoch: 0,
            queued: Vec::new(),
            dropped: Vec::new(),
            terminated,
            jobs: true,
        })
    }

    /// A recovered worker's free slots take waiting jobs at once (the
    /// caller starts them with `next_for`).
    fn recover(&mut self, w: u32, now: SimTime) -> bool {
        let worker = &mut self.workers[w as usize];
        worker.down_count -= 1;
        if worker.down_count > 0 {
            return false;
        }
        self.touch(w);
        self.workers[w as usize].up = true;
        self.record_serving(now);
        true
    }

    fn restart_statistics(&mut self, now: SimTime) {
        self.depth_tw.reset(now);
        self.busy_tw.reset(now);
        self.up_slots_tw.reset(now);
        self.depth_max = self.depth;
    }

    fn billed_units(&self) -> u32 {
        self.workers.len() as u32
    }

    fn lifetime(&self, unit: u32) -> Lifetime {
        self.workers[unit as usize].life
    }

    fn elastic(&mut self) -> Option<&mut dyn Elastic> {
        Some(self)
    }

    fn close_intervals(&mut self, upto: usize, _reached: SimTime) {
        self.latency_series.close(upto);
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        f(Accumulator::Counts(&mut self.enqueued_series));
        f(Accumulator::Counts(&mut self.completed_series));
        f(Accumulator::Counts(&mut self.failed_series));
        f(Accumulator::Latency(&mut self.latency_series));
        for a in [
            &mut self.depth_series,
            &mut self.running_series,
            &mut self.slots_series,
        ] {
            f(Accumulator::Averages(a));
        }
    }

    fn report(&mut self, now: SimTime) -> TierReport {
        TierReport {
            series: self.series(),
            latency: Some(self.latency_series.clone()),
            metrics: self.metrics(now),
            units: Vec::new(),
            serving: Some(Serving::series(WORKER)),
        }
    }
}

impl Elastic for WorkersTier<'_> {
    fn desired_count(&self) -> u32 {
        self.workers.iter().filter(|w| w.life.is_desired()).count() as u32
    }

    fn ready_count(&self) -> u32 {
        self.workers.iter().filter(|w| w.life.in_service()).count() as u32
    }

    fn launch(&mut self, now: SimTime) -> u32 {
        self.workers.push(Worker {
            up: true,
            life: Lifetime::booting(now),
            running: 0,
            down_count: 0,
        });
        self.touch((self.workers.len() - 1) as u32);
        (self.workers.len() - 1) as u32
    }

    /// A launched worker is ready: it starts taking jobs (the caller starts
    /// them with `next_for`).
    fn ready(&mut self, w: u32, now: SimTime) {
        if self.workers[w as usize].life.life == Life::Booting {
            self.touch(w);
            self.workers[w as usize].life.ready(now);
            self.record_serving(now);
        }
    }

    /// Booting first (newest first), then in service in the termination
    /// order.
    fn scale_in_choice(&self, n: u32, order: Termination) -> Vec<u32> {
        scale_in_choice(self.workers.iter().map(|w| w.life), 0, n, order)
    }

    /// Worker `w` stops taking jobs; true if it terminated at once (it was
    /// booting or idle).
    fn begin_drain(&mut self, w: u32, now: SimTime) -> bool {
        let worker = &mut self.workers[w as usize];
        let terminated = match worker.life.life {
            Life::Booting => {
                worker.life.terminate(now);
                true
            }
            Life::InService => {
                worker.life.life = Life::Draining;
                if worker.running == 0 {
                    worker.life.terminate(now);
                    true
                } else {
                    false
                }
            }
            Life::Draining | Life::Terminated => false,
        };
        self.record_serving(now);
        terminated
    }

    fn drain_timeout(&mut self, w: u32, now: SimTime) -> Option<Drained> {
        self.end_drain(w, now).then(|| Drained {
            dropped: Vec::new(),
            epoch: 0,
            queued: Vec::new(),
            jobs: true,
        })
    }

    fn sample(&mut self, prev: SimTime, now: SimTime, metrics: &[Metric]) -> Vec<(f64, f64)> {
        let s = self.sample_tick(prev, now);
        metrics
            .iter()
            .map(|m| match m {
                Metric::Cpu => (s.running_area, s.slots_area),
                Metric::QueueDepth => (s.depth_area, s.length),
                Metric::BacklogPerWorker => (s.depth_area, s.workers_area),
                _ => (0.0, 0.0),
            })
            .chain([(s.workers_area, s.length)])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_engine::Streams;

    /// The lowest serving worker with a free slot, by a plain scan.
    fn first_free(t: &WorkersTier) -> Option<u32> {
        t.workers
            .iter()
            .position(|w| w.serving() && w.running < t.concurrency)
            .map(|i| i as u32)
    }

    #[test]
    fn the_free_worker_hint_never_skips_a_free_worker() {
        // Jobs start and finish, workers crash, recover, launch, become
        // ready and drain in random order; every job goes to the worker a
        // plain scan from worker 0 picks.
        let cfg = WorkersConfig {
            workers: 6,
            concurrency: 3,
            queues: vec![QueueConfig {
                name: "q".into(),
                priority: 0,
            }],
            jobs: vec![],
        };
        let spec = Spec {
            interval: SimDuration::from_secs(60),
            horizon: SimDuration::from_secs(3600),
        };
        let streams = Streams::new(8, 0);
        let ctx = BuildContext {
            name: "workers",
            measured: Measured::new(SimTime::ZERO, SimTime::at(spec.horizon)),
            spec,
            voidable: true,
            streams: &streams,
        };
        let mut t = WorkersTier::new(&cfg, &ctx);
        let mut rng = sim_engine::StreamRng::new(8, 0, "workers/hint");
        let mut running: Vec<u32> = Vec::new();
        let mut queued = 0u32;
        let mut now = SimTime::ZERO;
        for job in 0..20_000u32 {
            now += SimDuration::from_millis(1);
            let n = t.workers.len() as u64;
            let w = rng.below(n) as u32;
            match rng.below(20) {
                0 if t.workers[w as usize].up => {
                    // Its jobs die with it.
                    running.retain(|&r| r != w);
                    t.crash(w, now);
                }
                1 if !t.workers[w as usize].up => {
                    t.recover(w, now);
                }
                2 if n < 40 => {
                    let v = t.launch(now);
                    if rng.below(2) == 0 {
                        t.ready(v, now);
                    }
                }
                3 => t.ready(w, now),
                4 if t.workers[w as usize].life.life == Life::InService && t.ready_count() > 2 => {
                    t.begin_drain(w, now);
                }
                5..=11 if !running.is_empty() => {
                    let k = rng.below(running.len() as u64) as usize;
                    let w = running.swap_remove(k);
                    if t.workers[w as usize].up {
                        let (next, _) = t.finish_on(w, now);
                        if next.is_some() {
                            queued -= 1;
                            running.push(w);
                        }
                    }
                }
                _ => {
                    let expected = first_free(&t);
                    match t.enqueue(job, 0, now, true) {
                        Some(w) => {
                            assert_eq!(Some(w), expected, "job {job}");
                            running.push(w);
                        }
                        None => {
                            assert_eq!(expected, None, "job {job}");
                            queued += 1;
                        }
                    }
                }
            }
        }
        assert!(queued > 0 && !running.is_empty());
    }
}

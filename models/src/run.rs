//! Running replications of a platform.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sim_engine::{
    RunnerError, SimDuration, SimTime, Simulation, Streams, run_indexed_cancellable, run_nested,
};

use crate::config::PlatformConfig;
use crate::platform::Platform;
use crate::results::ReplicationResult;

/// Simulates replication `replication` of `cfg` under `seed`. Single-threaded
/// and a pure function of its arguments.
pub fn simulate(cfg: &PlatformConfig, seed: u64, replication: u64) -> ReplicationResult {
    simulate_in_steps(cfg, seed, replication, 1, &RunControl::new()).expect("not cancellable")
}

/// Shared with a batch of replications while it runs.
#[derive(Debug)]
pub struct RunControl {
    /// Once set (Ctrl-C, or the budget exceeded), replications not yet
    /// started are skipped and running ones stop at their next progress
    /// step, their results dropped: only finished replications come back.
    pub cancel: AtomicBool,
    /// Simulated milliseconds done so far, summed over replications (for a
    /// progress bar: the total is replications × horizon).
    pub progress_ms: AtomicU64,
    /// Kernel events handled so far, summed over replications.
    pub events: AtomicU64,
    /// The budget: events over every replication and the process's
    /// resident memory, bytes (`u64::MAX`: none). Checked every
    /// [`CHECK_EVERY`] events of each replication.
    max_events: AtomicU64,
    max_memory: AtomicU64,
    overrun: OnceLock<Overrun>,
}

/// Why a run was stopped by its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overrun {
    /// More kernel events than the limit, over every replication.
    Events { limit: u64 },
    /// The process's resident memory above the limit, bytes.
    Memory { limit: u64, resident: u64 },
}

/// How many events a replication handles between two looks at the budget
/// and the cancel flag (about a tenth of a second of one core).
pub const CHECK_EVERY: u64 = 1 << 20;

impl Default for RunControl {
    fn default() -> Self {
        RunControl::new()
    }
}

impl RunControl {
    /// A control nothing has cancelled, without a budget (usable in a
    /// `static`).
    pub const fn new() -> Self {
        RunControl {
            cancel: AtomicBool::new(false),
            progress_ms: AtomicU64::new(0),
            events: AtomicU64::new(0),
            max_events: AtomicU64::new(u64::MAX),
            max_memory: AtomicU64::new(u64::MAX),
            overrun: OnceLock::new(),
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Stops the run once it has handled more than `max_events` events or
    /// the process holds more than `max_memory` bytes (`None`: no limit).
    pub fn set_budget(&self, max_events: Option<u64>, max_memory: Option<u64>) {
        let store =
            |a: &AtomicU64, v: Option<u64>| a.store(v.unwrap_or(u64::MAX), Ordering::Relaxed);
        store(&self.max_events, max_events);
        store(&self.max_memory, max_memory);
    }

    /// The budget limit that stopped the run, if one did.
    pub fn overrun(&self) -> Option<Overrun> {
        self.overrun.get().copied()
    }

    /// Counts `events` more and stops the run if that is over the budget,
    /// or, with `look_at_memory`, the memory the process holds is.
    fn charge(&self, events: u64, look_at_memory: bool) {
        let total = self.events.fetch_add(events, Ordering::Relaxed) + events;
        let limit = self.max_events.load(Ordering::Relaxed);
        if total > limit {
            self.stop(Overrun::Events { limit });
        }
        let limit = self.max_memory.load(Ordering::Relaxed);
        if look_at_memory
            && limit != u64::MAX
            && let Some(resident) = resident_memory()
            && resident > limit
        {
            self.stop(Overrun::Memory { limit, resident });
        }
    }

    fn stop(&self, why: Overrun) {
        // The first reason stays.
        let _ = self.overrun.set(why);
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Resident memory of this process now, bytes (Linux; `None` elsewhere).
pub fn resident_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs a simulation in chunks of simulated time sized to hold about
/// [`CHECK_EVERY`] events at the pace of the last chunk, so that a caller
/// can look at a budget between them. `run_until` counts nothing per event
/// (a kernel loop with an event cap cost 1% more instructions on the
/// full-stack benchmark, and 2% more once two loops kept the compiler from
/// inlining the model into either), and chunks change nothing in the run.
pub(crate) struct Pace {
    chunk: SimDuration,
    longest: SimDuration,
}

impl Pace {
    /// Chunks of at most `longest`, the first a microsecond: a run whose
    /// pace is unknown (a billion arrivals a second) doubles up to its own.
    pub(crate) fn new(longest: SimDuration) -> Pace {
        Pace {
            chunk: SimDuration::from_micros(1).min(longest),
            longest,
        }
    }

    /// Runs one chunk from `from` (the clock) towards `until`; returns
    /// where it stopped.
    pub(crate) fn run(
        &mut self,
        sim: &mut Simulation<Platform<'_>>,
        from: SimTime,
        until: SimTime,
    ) -> SimTime {
        let to = (from + self.chunk).min(until);
        let before = sim.events_processed();
        sim.run_until(to);
        let n = sim.events_processed() - before;
        self.chunk = if n <= CHECK_EVERY {
            (self.chunk + self.chunk).min(self.longest)
        } else {
            let paced = (to - from).as_nanos() as u128 * CHECK_EVERY as u128 / n as u128;
            SimDuration::from_nanos((paced as u64).max(1_000)).min(self.longest)
        };
        to
    }
}

/// How many steps a replication reports its progress in.
pub(crate) const PROGRESS_STEPS: u64 = 200;

/// [`simulate`] cut into the progress steps and budget chunks a run of
/// replications takes, adding its simulated milliseconds to `progress_ms`.
/// `run_until` processes exactly the events a single call would: the result
/// is the same (a test in scenarios/tests/it/stepping.rs holds it to that).
pub fn simulate_reporting(
    cfg: &PlatformConfig,
    seed: u64,
    replication: u64,
    progress_ms: &AtomicU64,
) -> ReplicationResult {
    let control = RunControl::new();
    let r = simulate_in_steps(cfg, seed, replication, PROGRESS_STEPS, &control);
    progress_ms.fetch_add(control.progress_ms.into_inner(), Ordering::Relaxed);
    r.expect("not cancellable")
}

/// Runs in progress steps and chunks of about [`CHECK_EVERY`] events (the
/// same events as one call), counting them and the simulated time into
/// `control`; gives up (`None`) once `control` is cancelled, by the caller
/// or by the budget.
pub(crate) fn simulate_in_steps(
    cfg: &PlatformConfig,
    seed: u64,
    replication: u64,
    steps: u64,
    control: &RunControl,
) -> Option<ReplicationResult> {
    let mut model = Platform::new(cfg, Streams::new(seed, replication));
    let initial = model.initial_events();
    let mut sim = Simulation::new(model);
    for (t, e) in initial {
        sim.schedule_at(t, e);
    }
    let end = SimTime::at(cfg.horizon);
    // Ctrl-C takes effect within a simulated minute, and about CHECK_EVERY
    // events.
    let step = SimDuration::from_nanos((cfg.horizon.as_nanos() / steps).max(1))
        .min(SimDuration::from_secs(60));
    let mut reached = SimTime::ZERO;
    let mut reported_ms = 0;
    let mut pace = Pace::new(step);
    let mut looked = 0;
    while reached < end {
        let step_end = (reached + step).min(end);
        while reached < step_end {
            let before = sim.events_processed();
            reached = pace.run(&mut sim, reached, step_end);
            sim.model_mut().close_intervals(reached);
            let events = sim.events_processed();
            // Memory is read (a file in /proc) once a chunk at most.
            let look = events - looked >= CHECK_EVERY;
            if look {
                looked = events;
            }
            control.charge(events - before, look);
            if control.cancelled() && reached < end {
                return None;
            }
        }
        let ms = reached.as_nanos() / 1_000_000;
        control
            .progress_ms
            .fetch_add(ms - reported_ms, Ordering::Relaxed);
        reported_ms = ms;
    }
    let events = sim.events_processed();
    Some(sim.into_model().finish_run(end, replication, events))
}

/// Runs `replications` replications on `threads` threads (0 = all cores).
/// Results come back in replication order whatever the thread count.
/// Once `control.cancel` is set, replications not started are skipped and
/// running ones stop at their next step: both are `None`.
/// `control.progress_ms` grows as they run.
pub fn run_replications(
    cfg: &PlatformConfig,
    seed: u64,
    replications: u64,
    threads: usize,
    control: &RunControl,
) -> Result<Vec<Option<ReplicationResult>>, RunnerError> {
    let out = run_indexed_cancellable(replications as usize, threads, &control.cancel, |i| {
        simulate_in_steps(cfg, seed, i as u64, PROGRESS_STEPS, control)
    })?;
    Ok(out.into_iter().map(Option::flatten).collect())
}

/// Runs the points of a sweep: `replications` replications of every platform
/// in `points`, all under `seed`, so replication `j` of every point draws the
/// same traffic (common random numbers). Points and replications share
/// `threads` threads (0 = all cores). When a point's replications are done,
/// `finish(point, results)` runs (results in replication order) and its value
/// is returned at the point's index. Points marked in `skip` (already done)
/// and points not finished once `control.cancel` is set are `None` (a
/// running replication stops at its next step; its point is not finished).
pub fn run_points<R, G>(
    points: &[PlatformConfig],
    seed: u64,
    replications: u64,
    threads: usize,
    skip: &[bool],
    control: &RunControl,
    finish: G,
) -> Result<Vec<Option<R>>, RunnerError>
where
    R: Send,
    G: Fn(usize, Vec<ReplicationResult>) -> R + Sync + Send,
{
    each_point(
        points.len(),
        replications,
        threads,
        skip,
        control,
        |i, j| simulate_in_steps(&points[i], seed, j as u64, PROGRESS_STEPS, control),
        finish,
    )
}

/// `job(point, replication)` for every replication of every point not in
/// `skip`, on `threads` threads; `finish(point, results)` once all of a
/// point's jobs gave a result (`None` from a job: the point did not finish).
#[allow(clippy::too_many_arguments)]
pub(crate) fn each_point<T, R, F, G>(
    points: usize,
    replications: u64,
    threads: usize,
    skip: &[bool],
    control: &RunControl,
    job: F,
    finish: G,
) -> Result<Vec<Option<R>>, RunnerError>
where
    T: Send,
    R: Send,
    F: Fn(usize, usize) -> Option<T> + Sync + Send,
    G: Fn(usize, Vec<T>) -> R + Sync + Send,
{
    let out = run_nested(
        points,
        replications as usize,
        threads,
        skip,
        &control.cancel,
        job,
        |i, results: Vec<Option<T>>| {
            let all: Option<Vec<T>> = results.into_iter().collect();
            all.map(|r| finish(i, r))
        },
    )?;
    Ok(out.into_iter().map(Option::flatten).collect())
}

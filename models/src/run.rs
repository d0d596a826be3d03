//! Running replications of a platform.

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
    simulate_in_steps(cfg, seed, replication, 1, &AtomicU64::new(0), None).expect("not cancellable")
}

/// Shared with a batch of replications while it runs.
#[derive(Debug, Default)]
pub struct RunControl {
    /// Once set (Ctrl-C), replications not yet started are skipped and
    /// running ones stop at their next progress step, their results dropped:
    /// only finished replications come back.
    pub cancel: AtomicBool,
    /// Simulated milliseconds done so far, summed over replications (for a
    /// progress bar: the total is replications × horizon).
    pub progress_ms: AtomicU64,
}

impl RunControl {
    /// A control nothing has cancelled (usable in a `static`).
    pub const fn new() -> Self {
        RunControl {
            cancel: AtomicBool::new(false),
            progress_ms: AtomicU64::new(0),
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// How many steps a replication reports its progress in.
const PROGRESS_STEPS: u64 = 200;

/// [`simulate`], adding the simulated milliseconds it has done to
/// `progress_ms` as it goes. The run is cut into steps with `run_until`,
/// which processes exactly the events a single call would: the result is
/// the same (a test in scenarios/tests/it/stepping.rs holds it to that).
pub fn simulate_reporting(
    cfg: &PlatformConfig,
    seed: u64,
    replication: u64,
    progress_ms: &AtomicU64,
) -> ReplicationResult {
    simulate_in_steps(cfg, seed, replication, PROGRESS_STEPS, progress_ms, None)
        .expect("not cancellable")
}

/// Runs in steps (the same events as one call); with `cancel`, checks it
/// after each step and gives up (`None`) once it is set.
fn simulate_in_steps(
    cfg: &PlatformConfig,
    seed: u64,
    replication: u64,
    steps: u64,
    progress_ms: &AtomicU64,
    cancel: Option<&AtomicBool>,
) -> Option<ReplicationResult> {
    let mut model = Platform::new(cfg, Streams::new(seed, replication));
    let initial = model.initial_events();
    let mut sim = Simulation::new(model);
    for (t, e) in initial {
        sim.schedule_at(t, e);
    }
    let end = SimTime::at(cfg.horizon);
    let mut step = SimDuration::from_nanos((cfg.horizon.as_nanos() / steps).max(1));
    if cancel.is_some() {
        // Ctrl-C takes effect within a simulated minute.
        step = step.min(SimDuration::from_secs(60));
    }
    let mut reached = SimTime::ZERO;
    let mut reported_ms = 0;
    while reached < end {
        reached = (reached + step).min(end);
        sim.run_until(reached);
        let ms = reached.as_nanos() / 1_000_000;
        progress_ms.fetch_add(ms - reported_ms, Ordering::Relaxed);
        reported_ms = ms;
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) && reached < end {
            return None;
        }
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
        simulate_in_steps(
            cfg,
            seed,
            i as u64,
            PROGRESS_STEPS,
            &control.progress_ms,
            Some(&control.cancel),
        )
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
    let out = run_nested(
        points.len(),
        replications as usize,
        threads,
        skip,
        &control.cancel,
        |i, j| {
            simulate_in_steps(
                &points[i],
                seed,
                j as u64,
                PROGRESS_STEPS,
                &control.progress_ms,
                Some(&control.cancel),
            )
        },
        |i, results: Vec<Option<ReplicationResult>>| {
            let all: Option<Vec<ReplicationResult>> = results.into_iter().collect();
            all.map(|r| finish(i, r))
        },
    )?;
    Ok(out.into_iter().map(Option::flatten).collect())
}

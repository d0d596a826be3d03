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
    simulate_in_steps(cfg, seed, replication, 1, &AtomicU64::new(0))
}

/// Shared with a batch of replications while it runs.
#[derive(Debug, Default)]
pub struct RunControl {
    /// Once set, replications not yet started are skipped.
    pub cancel: AtomicBool,
    /// Simulated milliseconds done so far, summed over replications (for a
    /// progress bar: the total is replications × horizon).
    pub progress_ms: AtomicU64,
}

/// How many steps a replication reports its progress in.
const PROGRESS_STEPS: u64 = 200;

/// [`simulate`], adding the simulated milliseconds it has done to
/// `progress_ms` as it goes. The run is cut into steps with `run_until`,
/// which processes exactly the events a single call would: the result is
/// the same (a test in scenarios/tests/stepping.rs holds it to that).
pub fn simulate_reporting(
    cfg: &PlatformConfig,
    seed: u64,
    replication: u64,
    progress_ms: &AtomicU64,
) -> ReplicationResult {
    simulate_in_steps(cfg, seed, replication, PROGRESS_STEPS, progress_ms)
}

fn simulate_in_steps(
    cfg: &PlatformConfig,
    seed: u64,
    replication: u64,
    steps: u64,
    progress_ms: &AtomicU64,
) -> ReplicationResult {
    let mut model = Platform::new(cfg, Streams::new(seed, replication));
    let initial = model.initial_events();
    let mut sim = Simulation::new(model);
    for (t, e) in initial {
        sim.schedule_at(t, e);
    }
    let end = SimTime::at(cfg.horizon);
    let step = SimDuration::from_nanos((cfg.horizon.as_nanos() / steps).max(1));
    let mut reached = SimTime::ZERO;
    let mut reported_ms = 0;
    while reached < end {
        reached = (reached + step).min(end);
        sim.run_until(reached);
        let ms = reached.as_nanos() / 1_000_000;
        progress_ms.fetch_add(ms - reported_ms, Ordering::Relaxed);
        reported_ms = ms;
    }
    let events = sim.events_processed();
    sim.into_model().finish_run(end, replication, events)
}

/// Runs `replications` replications on `threads` threads (0 = all cores).
/// Results come back in replication order whatever the thread count.
/// Replications not started when `control.cancel` is set are skipped
/// (`None`); `control.progress_ms` grows as they run.
pub fn run_replications(
    cfg: &PlatformConfig,
    seed: u64,
    replications: u64,
    threads: usize,
    control: &RunControl,
) -> Result<Vec<Option<ReplicationResult>>, RunnerError> {
    run_indexed_cancellable(replications as usize, threads, &control.cancel, |i| {
        simulate_reporting(cfg, seed, i as u64, &control.progress_ms)
    })
}

/// Runs the points of a sweep: `replications` replications of every platform
/// in `points`, all under `seed`, so replication `j` of every point draws the
/// same traffic (common random numbers). Points and replications share
/// `threads` threads (0 = all cores). When a point's replications are done,
/// `finish(point, results)` runs (results in replication order) and its value
/// is returned at the point's index. Points marked in `skip` (already done)
/// and points not started once `control.cancel` is set are `None`.
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
    run_nested(
        points.len(),
        replications as usize,
        threads,
        skip,
        &control.cancel,
        |i, j| simulate(&points[i], seed, j as u64),
        finish,
    )
}

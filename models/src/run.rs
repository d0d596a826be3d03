//! Running replications of a platform.

use std::sync::atomic::AtomicBool;

use sim_engine::{RunnerError, SimTime, Simulation, Streams, run_indexed_cancellable};

use crate::config::PlatformConfig;
use crate::platform::Platform;
use crate::results::ReplicationResult;

/// Simulates replication `replication` of `cfg` under `seed`. Single-threaded
/// and a pure function of its arguments.
pub fn simulate(cfg: &PlatformConfig, seed: u64, replication: u64) -> ReplicationResult {
    let mut model = Platform::new(cfg, Streams::new(seed, replication));
    let initial = model.initial_events();
    let mut sim = Simulation::new(model);
    for (t, e) in initial {
        sim.schedule_at(t, e);
    }
    let end = SimTime::at(cfg.horizon);
    sim.run_until(end);
    let events = sim.events_processed();
    sim.into_model().finish_run(end, replication, events)
}

/// Runs `replications` replications on `threads` threads (0 = all cores).
/// Results come back in replication order whatever the thread count.
/// Replications not started when `cancel` is set are skipped (`None`).
pub fn run_replications(
    cfg: &PlatformConfig,
    seed: u64,
    replications: u64,
    threads: usize,
    cancel: &AtomicBool,
) -> Result<Vec<Option<ReplicationResult>>, RunnerError> {
    run_indexed_cancellable(replications as usize, threads, cancel, |i| {
        simulate(cfg, seed, i as u64)
    })
}

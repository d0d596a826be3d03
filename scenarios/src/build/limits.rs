//! Upper bounds on every count and rate a scenario gives, checked at
//! validation: generous for real platforms, far from what would exhaust
//! memory or time before a run starts. docs/scenario-format.md lists them.

use sim_engine::SimDuration;

use super::values::Problem;
use crate::error::FieldPath;

/// Units of a tier: API instances, station servers, worker processes, and
/// a scaling table's `min`, `max` and scheduled sizes.
pub const UNITS: u32 = 100_000;
/// Cores of one instance or database node.
pub const CORES: u32 = 1_024;
/// Sync workers of one API instance; worker concurrency per process.
pub const SLOTS: u32 = 10_000;
/// An async API instance's `max_connections` and `backlog`.
pub const CONNECTIONS: u32 = 1_000_000;
/// A station's `capacity` (requests in service and waiting).
pub const CAPACITY: u32 = 10_000_000;
/// Shards of a cache tier.
pub const SHARDS: u32 = 10_000;
/// Read replicas of a database tier.
pub const REPLICAS: u32 = 1_000;
/// Connections of a database pool.
pub const POOL: u32 = 100_000;
/// Queues and job types of a worker tier; query types of a database.
pub const KINDS: usize = 1_000;
/// Retries of a class or a job.
pub const RETRIES: u16 = 100;
/// Request classes; tiers; failure specs; SLOs.
pub const ENTRIES: usize = 1_000;
/// Arrivals per second of the workload or one class, and a class's peak
/// (its rate times its profile's largest multiplier in the run).
pub const RATE_PER_S: f64 = 10_000_000.0;
/// Users of a closed class, at its peak (its users times its profile's
/// largest multiplier in the run): each holds at most one request.
pub const USERS: f64 = 1_000_000.0;
/// Requests in one batch of a batch arrival process.
pub const BATCH: u32 = 100_000;
/// A rate profile's multipliers (steps, spike, ramp, growth factor,
/// calendar values, a replay's scale).
pub const MULTIPLIER: f64 = 1e6;
/// Entries of a list in a profile or scaling table (steps, scheduled
/// actions, policies, step adjustments).
pub const LIST: usize = 10_000;
/// Evaluation periods and datapoints of a step policy.
pub const PERIODS: u32 = 1_000;
/// The shortest mean time between random failures of a unit.
pub const MIN_MTBF: SimDuration = SimDuration::from_secs(1);
/// The shortest mean time to repair.
pub const MIN_MTTR: SimDuration = SimDuration::from_millis(1);
/// Phases of an Erlang distribution (each draw costs one per phase).
pub const ERLANG_K: u32 = 1_000;
/// Branches of a hyperexponential.
pub const BRANCHES: usize = 100;
/// Samples of an empirical distribution.
pub const SAMPLES: usize = 1_000_000;
/// The largest mean and 99.99th percentile of a distribution of times:
/// one year. A draw past [`SimDuration::MAX_DRAW`] is clamped (and counted)
/// by the kernel.
pub const DIST_SECS: f64 = 365.0 * 86_400.0;
/// The largest trace file a replay profile reads.
pub const TRACE_BYTES: u64 = 256 * 1024 * 1024;

/// `x` in `1..=max`.
pub fn units(x: u32, max: u32, path: &FieldPath) -> Result<u32, Problem> {
    if x < 1 {
        Err((path.clone(), "must be at least 1".into()))
    } else {
        at_most(x, max, path)
    }
}

/// `x` at most `max`.
pub fn at_most<T: PartialOrd + std::fmt::Display>(
    x: T,
    max: T,
    path: &FieldPath,
) -> Result<T, Problem> {
    if x > max {
        Err((path.clone(), format!("must be at most {max} (got {x})")))
    } else {
        Ok(x)
    }
}

/// A list of at most `max` entries.
pub fn list<T>(items: &[T], max: usize, path: &FieldPath) -> Result<(), Problem> {
    if items.len() > max {
        Err((
            path.clone(),
            format!("at most {max} entries (got {})", items.len()),
        ))
    } else {
        Ok(())
    }
}

//! The capsim kernel: simulated time, the event queue and run loop, named
//! random streams, distributions, streaming statistics and the replication
//! runner. It knows nothing about web stacks; `capsim-models` builds on it.
//!
//! ```text
//!   time ──► queue ──► sim (run loop, Model trait)
//!   rng ──► dist                stats (histograms, time averages, CIs)
//!                               spill (a long run's closed intervals, on disk)
//!   runner (rayon over replications, index-ordered results)
//! ```

pub mod arena;
pub mod dist;
pub mod queue;
pub mod rng;
pub mod runner;
pub mod sim;
pub mod special;
pub mod spill;
pub mod stats;
pub mod time;
mod wheel;

pub use arena::Arena;
pub use dist::{Dist, DistError};
pub use queue::EventQueue;
pub use rng::{KeyedRng, StreamRng, Streams, exp1, sub_key};
pub use runner::{RunnerError, run_indexed, run_indexed_cancellable, run_nested};
pub use sim::{Context, Model, Simulation};
pub use spill::{Chunk, SPILL_CHUNK, Spill};
pub use stats::{
    CompactHistogram, Counter, Estimate, INTERVAL_QUANTILES, Integral, IntervalAverages,
    IntervalCounts, IntervalIndex, IntervalLatency, LatencyHistogram, LatencyRecorder,
    RollingCounts, TimeWeighted, Welford, mser5_truncation,
};
pub use time::{DurationError, SimDuration, SimTime, clamped_conversions, parse_duration};

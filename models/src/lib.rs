//! capsim's models: web-stack components built on the `sim-engine` kernel.
//!
//! ```text
//!   config (validated PlatformConfig) ──► platform (the Model) ──► results
//!                                         run (replications)       theory (exact values)
//! ```

pub mod config;
pub mod fcfs;
pub mod platform;
pub mod results;
pub mod run;
pub mod series;
pub mod theory;

pub use config::{
    ApiConfig, Arrivals, Balancer, CacheConfig, CdnConfig, ClassConfig, ClassId, ClientPolicy,
    DatabaseConfig, FailureAction, FailureConfig, FailureTiming, JobConfig, Op, PlatformConfig,
    QueryConfig, QueueConfig, RateProfile, ReadRouting, StationConfig, TierConfig, TierId,
    TierKind, WorkerMode, WorkersConfig,
};
pub use results::{
    ClassResult, ClassSeries, ClientCounts, FailureRecord, ReplicationResult, RequestCounts,
    TierResult, UnitResult,
};
pub use run::{run_replications, simulate};

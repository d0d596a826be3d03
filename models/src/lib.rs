//! capsim's models: web-stack components built on the `sim-engine` kernel.
//!
//! ```text
//!   config (validated PlatformConfig) ──► platform (the Model) ──► results
//!                                         run (replications)       theory (exact values)
//! ```

pub mod config;
pub mod cost;
pub mod estimate;
pub mod fcfs;
pub mod platform;
pub mod profile;
pub mod results;
pub mod run;
pub mod scaling;
pub mod series;
pub mod slo;
pub mod theory;
pub mod windows;

pub use config::{
    ApiConfig, Arrivals, Balancer, CacheConfig, CacheSizing, CdnConfig, ClassConfig, ClassId,
    ClientPolicy, DatabaseConfig, FailureAction, FailureConfig, FailureTiming, JobConfig, Op,
    PlatformConfig, QueryConfig, QueueConfig, RateProfile, ReadRouting, RegionConfig,
    RegionsConfig, StationConfig, TierConfig, TierId, TierKind, WorkerMode, WorkersConfig,
};
pub use cost::{Billing, Granularity, PurchaseMix, TrafficPrices};
pub use results::{
    ClassResult, ClassSeries, ClientCounts, FailureRecord, ReplicationResult, RequestCounts,
    RoutingEvent, ScalingEvent, TierResult, TrafficCost, UnitResult,
};
pub use run::{RunControl, run_points, run_replications, simulate, simulate_reporting};
pub use scaling::{
    Change, Metric, ScalingConfig, ScalingPolicy, ScheduledAction, StepAdjustment, StepPolicy,
    TargetTracking, Termination, quantile_label,
};
pub use slo::{Objective, SloConfig, SloResult};

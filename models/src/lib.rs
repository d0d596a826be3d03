//! capsim's models: web-stack components built on the `sim-engine` kernel.
//!
//! ```text
//!   config (validated PlatformConfig) ──► platform (the Model) ──► results
//!   tier (one module per tier kind)       run (replications)       theory (exact values)
//!        └──────────────────────────────► description (what outputs need of the config)
//! ```

pub mod claims;
pub mod config;
pub mod cost;
pub mod description;
pub mod estimate;
pub mod event_unit;
pub mod fcfs;
mod ids;
pub mod laws;
pub mod platform;
pub mod profile;
pub mod results;
pub mod run;
pub mod scaling;
pub mod series;
pub mod slo;
pub mod theory;
pub mod tier;
pub mod windows;

pub use claims::{Assumption, Bound, Expectation};
pub use config::{
    ApiConfig, ApiCredits, ApiMemory, ApiRef, Arrivals, Balancer, CacheConfig, CacheRef,
    CacheSizing, CdnConfig, CdnRef, ClassConfig, ClassId, ClientPolicy, DatabaseConfig,
    DatabaseRef, DelayOf, ExternalConfig, ExternalRef, FailureAction, FailureConfig, FailureTiming,
    Handle, JobConfig, Kind, Op, PlatformConfig, Population, Process, QueryConfig, QueueConfig,
    RateProfile, ReadRouting, Ref, RegionConfig, RegionsConfig, StationConfig, StationRef,
    TierConfig, TierId, TierKind, Typed, Vocabulary, WorkerMode, WorkersConfig, WorkersRef,
    handles, typed,
};
pub use cost::{Billing, Granularity, LineTally, PurchaseMix, TrafficPrices, TransferSizes};
pub use description::{
    ObjectiveDescription, RegionDescription, RunDescription, SweepPlan, SweepWindows,
};
pub use event_unit::Discipline;
pub use results::{
    BillLine, ClassResult, ClassSeries, ClientCounts, FailureRecord, Figure, ListPrice,
    LoadBalancerCost, ReplicationResult, RequestCounts, RoutingEvent, ScaledUnits, ScalingEvent,
    Serving, ServingCount, TierBill, TierResult, TrafficCost, Unit, UnitResult, figure,
};
pub use run::{RunControl, run_points, run_replications, simulate, simulate_reporting};
pub use scaling::{
    Change, Metric, ScalingConfig, ScalingPolicy, ScheduledAction, StepAdjustment, StepPolicy,
    TargetTracking, Termination, quantile_label,
};
pub use slo::{Objective, SloConfig, SloResult};
pub use tier::{Noun, RateLimit};

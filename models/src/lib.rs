//! capsim's models: web-stack components built on the `sim-engine` kernel.
//!
//! ```text
//!   config (validated PlatformConfig) ──► platform (the Model) ──► results
//!                                         run (replications)       theory (exact values)
//! ```

pub mod config;
pub mod platform;
pub mod results;
pub mod run;
pub mod theory;

pub use config::{
    Arrivals, ClassConfig, ClassId, PlatformConfig, StationConfig, Step, TierConfig, TierId,
    TierKind,
};
pub use results::{ClassResult, ReplicationResult, RequestCounts, TierResult};
pub use run::{run_replications, simulate};

//! The validated description of a platform, as the model consumes it.
//!
//! `capsim-scenarios` builds these from a scenario file and checks every
//! invariant documented here (ids in range, at least one server, ...); the model
//! relies on them and does not re-validate.
//!
//! ```text
//!   PlatformConfig
//!     ├─ classes[]: arrivals + route (steps, each visiting one tier)
//!     └─ tiers[]:   station (FCFS, c servers, optional capacity K)
//! ```

use sim_engine::{Dist, SimDuration};

/// Index of a tier in [`PlatformConfig::tiers`].
pub type TierId = u16;
/// Index of a class in [`PlatformConfig::classes`].
pub type ClassId = u16;

#[derive(Clone, Debug)]
pub struct PlatformConfig {
    pub name: String,
    /// Simulated time per replication, warm-up included.
    pub horizon: SimDuration,
    /// Initial period excluded from every statistic (`warmup < horizon`).
    pub warmup: SimDuration,
    pub classes: Vec<ClassConfig>,
    pub tiers: Vec<TierConfig>,
}

impl PlatformConfig {
    /// Length of the measured window.
    pub fn measured(&self) -> SimDuration {
        self.horizon - self.warmup
    }

    pub fn tier_id(&self, name: &str) -> Option<TierId> {
        self.tiers
            .iter()
            .position(|t| t.name == name)
            .map(|i| i as TierId)
    }

    /// Total offered arrival rate, requests per second.
    pub fn total_rate_per_s(&self) -> f64 {
        self.classes
            .iter()
            .map(|c| c.arrivals.mean_rate_per_s())
            .sum()
    }
}

/// A request class: how requests arrive and the route each one takes.
#[derive(Clone, Debug)]
pub struct ClassConfig {
    pub name: String,
    pub arrivals: Arrivals,
    /// Steps in order; non-empty.
    pub route: Vec<Step>,
}

#[derive(Clone, Debug)]
pub enum Arrivals {
    /// Homogeneous Poisson process.
    Poisson { rate_per_s: f64 },
}

impl Arrivals {
    pub fn mean_rate_per_s(&self) -> f64 {
        match self {
            Arrivals::Poisson { rate_per_s } => *rate_per_s,
        }
    }
}

/// One visit of a request to a tier.
#[derive(Clone, Debug)]
pub struct Step {
    pub tier: TierId,
    /// Service demand for this step; `None` uses the tier's own distribution.
    pub demand: Option<Dist>,
}

#[derive(Clone, Debug)]
pub struct TierConfig {
    pub name: String,
    pub kind: TierKind,
}

#[derive(Clone, Debug)]
pub enum TierKind {
    /// A generic FCFS multi-server queue: the textbook station.
    Station(StationConfig),
}

impl TierKind {
    pub fn label(&self) -> &'static str {
        match self {
            TierKind::Station(_) => "station",
        }
    }
}

/// FCFS queue with `servers` identical servers. With `capacity = Some(K)` at
/// most K requests are in the station (waiting plus in service); an arrival
/// finding it full is rejected.
#[derive(Clone, Debug)]
pub struct StationConfig {
    /// At least 1.
    pub servers: u32,
    /// Service time in seconds.
    pub service: Dist,
    /// `K ≥ servers` when set.
    pub capacity: Option<u32>,
}

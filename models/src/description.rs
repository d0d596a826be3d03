//! What outputs need to know about a run besides its results: the scenario's
//! name, its times, its objectives and its regions.
//!
//! ```text
//!   PlatformConfig ──► RunDescription ──┐
//!   (input)            (built once)     ├──► outputs (capsim-output)
//!   run ──► ReplicationResult[] ────────┘    never read the configuration
//! ```
//!
//! It lives here rather than in `capsim-output` because building it reads
//! the configuration, which the outputs must not: it is the configuration's
//! one face towards them. Per-tier facts (kind, units, scaling, price) are
//! not here: each tier's result carries its own ([`crate::TierResult`]).

use sim_engine::SimDuration;

use crate::config::PlatformConfig;
use crate::slo::Objective;

#[derive(Clone, Debug, PartialEq)]
pub struct RunDescription {
    /// The scenario's name.
    pub scenario: String,
    /// Simulated time per replication, warm-up included.
    pub horizon: SimDuration,
    /// Initial period excluded from every statistic.
    pub warmup: SimDuration,
    /// Interval of the time series.
    pub series_interval: SimDuration,
    /// In the scenario's order, as [`crate::ReplicationResult::slos`].
    pub objectives: Vec<ObjectiveDescription>,
    /// With regions, in the scenario's order (empty without).
    pub regions: Vec<RegionDescription>,
}

/// A service-level objective as the scenario states it.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectiveDescription {
    pub name: String,
    pub objective: Objective,
    pub window: SimDuration,
    /// The class and the users' region it is restricted to.
    pub class: Option<String>,
    pub region: Option<String>,
    /// The worker tier of a queue-latency objective, by name.
    pub tier: Option<String>,
}

/// A region of users.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionDescription {
    pub name: String,
    /// Fraction of the users.
    pub share: f64,
    pub utc_offset_s: i64,
}

impl RunDescription {
    pub fn new(cfg: &PlatformConfig) -> RunDescription {
        let objectives = cfg
            .slos
            .iter()
            .map(|s| ObjectiveDescription {
                name: s.name.clone(),
                objective: s.objective.clone(),
                window: s.window,
                class: s.class.clone(),
                region: s.region.clone(),
                tier: s.tier.map(|t| cfg.tiers[t as usize].name.clone()),
            })
            .collect();
        let regions = cfg
            .regions
            .iter()
            .flat_map(|r| &r.regions)
            .map(|r| RegionDescription {
                name: r.name.clone(),
                share: r.share,
                utc_offset_s: r.utc_offset_s,
            })
            .collect();
        RunDescription {
            scenario: cfg.name.clone(),
            horizon: cfg.horizon,
            warmup: cfg.warmup,
            series_interval: cfg.series_interval,
            objectives,
            regions,
        }
    }

    /// Length of the measured period.
    pub fn measured(&self) -> SimDuration {
        self.horizon - self.warmup
    }
}

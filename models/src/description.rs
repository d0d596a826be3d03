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
//!
//! A sweep's description is its plan, [`SweepPlan`]: what varies and each
//! point's values. Running, resuming and merging it is `capsim-runner`'s.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sim_engine::SimDuration;

use crate::config::PlatformConfig;
use crate::laws::{CapacityCheck, capacity_check};
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
    /// The capacity check of the scenario, by the operational laws.
    pub capacity: CapacityCheck,
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
            capacity: capacity_check(cfg),
        }
    }

    /// Length of the measured period.
    pub fn measured(&self) -> SimDuration {
        self.horizon - self.warmup
    }
}

/// What a sweep runs: written as `sweep-plan.json` before any point runs,
/// and read back to resume and to merge shards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPlan {
    pub schema_version: u32,
    /// The scenario's name (from its file).
    pub scenario: String,
    /// What the user named: a file path or a bundled scenario.
    pub source: String,
    /// FNV-1a of the scenario's text, so a changed file is not resumed.
    pub scenario_fnv64: String,
    /// Fixed overrides applied to every point, `PATH=VALUE`.
    pub sets: Vec<String>,
    pub seed: u64,
    pub replications: u64,
    /// `grid` or `latin:N`.
    pub sample: String,
    /// The latency figure verdicts and the Pareto front use (`p99`, …).
    pub metric: String,
    /// The swept field paths.
    pub params: Vec<String>,
    /// The scenario's end-to-end latency objectives, for the plots (empty
    /// when it has none, and then not written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latency_objectives: Vec<LatencyObjective>,
    /// Of a scenario run in `[windows]`: the chain of windows every point
    /// runs (absent for one horizon per point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<SweepWindows>,
    /// Each point's values (aligned with `params`), as `--set` takes them.
    /// Point 0 is the baseline, the scenario as written: its values are the
    /// ones in the file (empty where the file leaves a field to its default)
    /// and it runs without overrides.
    pub points: Vec<Vec<String>>,
}

/// The chain of windows each point of a sweep runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepWindows {
    pub count: u32,
    /// One window per period of this many seconds, starting `offset_s`
    /// into it and simulated for `window_s` (its warm-up included).
    pub every_s: f64,
    pub offset_s: f64,
    pub window_s: f64,
}

/// A latency objective as a sweep's plots draw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyObjective {
    pub name: String,
    /// In (0, 1): 0.99 for a p99 objective.
    pub quantile: f64,
    pub threshold_ms: f64,
}

impl LatencyObjective {
    /// The end-to-end latency objectives of `slos` (not queue latency).
    pub fn of(slos: &[crate::slo::SloConfig]) -> Vec<LatencyObjective> {
        slos.iter()
            .filter_map(|s| match s.objective {
                crate::slo::Objective::Latency {
                    quantile,
                    threshold,
                } => Some(LatencyObjective {
                    name: s.name.clone(),
                    quantile,
                    threshold_ms: threshold.as_secs_f64() * 1000.0,
                }),
                _ => None,
            })
            .collect()
    }
}

/// The `sample` of a sensitivity plan starts with this (then `:FRACTION`).
pub const ONE_AT_A_TIME: &str = "one-at-a-time";

impl SweepPlan {
    /// `PATH=VALUE` overrides of point `index` (the fixed ones not included).
    pub fn point_sets(&self, index: usize) -> Vec<String> {
        if index == 0 {
            return Vec::new();
        }
        // A one-at-a-time plan moves one field per point: the others keep
        // the baseline's value, which needs no override.
        let oat = self.sample.starts_with(ONE_AT_A_TIME);
        self.params
            .iter()
            .zip(&self.points[index])
            .zip(&self.points[0])
            .filter(|((_, v), base)| !oat || v != base)
            .map(|((p, v), _)| format!("{p}={v}"))
            .collect()
    }

    /// The `capsim run` command that reproduces point `index` in full.
    pub fn run_command(&self, index: usize) -> String {
        let mut cmd = format!("capsim run {}", shell_word(&self.source));
        for s in self.sets.iter().cloned().chain(self.point_sets(index)) {
            cmd.push_str(" --set ");
            cmd.push_str(&shell_word(&s));
        }
        let _ = write!(
            cmd,
            " --seed {} --replications {}",
            self.seed, self.replications
        );
        cmd
    }
}

/// `s` as one word of a POSIX shell command line (quoted when it needs to
/// be), for the `capsim run` commands outputs print.
pub fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:[],@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

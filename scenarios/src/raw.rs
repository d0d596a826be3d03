//! The scenario file as written: serde structs that reject unknown keys.
//!
//! Positions whose shape depends on a tag (`kind` of a tier, `dist` of a
//! distribution) are read as tables first and decoded by tag in `build`, so
//! that an error inside them still reports its full path (serde's own tagged
//! enums lose it).

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use sim_engine::SimDuration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
    pub simulation: RawSimulation,
    pub classes: IndexMap<String, RawClass>,
    /// Each tier is a table tagged by `kind`.
    pub tiers: IndexMap<String, toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

fn default_replications() -> u64 {
    10
}

fn default_seed() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Simulated time per replication, warm-up included.
    pub duration: SimDuration,
    #[serde(default)]
    pub warmup: SimDuration,
    #[serde(default = "default_replications")]
    pub replications: u64,
    #[serde(default = "default_seed")]
    pub seed: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub rate_per_s: f64,
    pub route: Vec<RawStep>,
}

/// A route step: a tier name, or `{ tier = "...", demand = { dist = ... } }`.
#[derive(Debug)]
pub struct RawStep {
    pub tier: String,
    pub demand: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStepTable {
    tier: String,
    demand: Option<toml::Table>,
}

impl<'de> Deserialize<'de> for RawStep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawStep;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tier name or a table { tier = \"...\", demand = { ... } }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawStep, E> {
                Ok(RawStep {
                    tier: v.to_string(),
                    demand: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawStep, A::Error> {
                let t = RawStepTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawStep {
                    tier: t.tier,
                    demand: t.demand,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `kind = "station"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStation {
    pub servers: u32,
    /// A distribution table tagged by `dist`.
    pub service: toml::Table,
    pub capacity: Option<u32>,
}

/// Distribution parameters by family (the `dist` tag selects one).
pub mod dist {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Exponential {
        pub mean: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Deterministic {
        pub value: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Uniform {
        pub min: SimDuration,
        pub max: SimDuration,
    }

    /// Either `mean` and `p99`, or `mu` and `sigma` (of ln X, X in seconds).
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Lognormal {
        pub mean: Option<SimDuration>,
        pub p99: Option<SimDuration>,
        pub mu: Option<f64>,
        pub sigma: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Gamma {
        pub shape: f64,
        pub mean: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Erlang {
        pub k: u32,
        pub mean: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Hyperexponential {
        pub branches: Vec<Branch>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Branch {
        pub p: f64,
        pub mean: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Weibull {
        pub shape: f64,
        pub scale: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Pareto {
        pub shape: f64,
        pub scale: SimDuration,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Empirical {
        pub samples: Vec<SimDuration>,
    }
}

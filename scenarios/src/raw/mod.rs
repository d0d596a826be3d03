//! The scenario file as written: serde structs that reject unknown keys.
//!
//! Positions whose shape depends on a tag (`kind` of a tier or a rate
//! profile, `dist` of a distribution) and route steps are read as TOML values
//! first and decoded in `build`, so that an error inside them still reports
//! its full path (serde's own tagged enums lose it).

pub mod schema;

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sim_engine::SimDuration;

/// The `kind =` of a tier, in the order the schema lists them.
pub const TIER_KINDS: &[&str] = &[
    "station", "api", "cache", "database", "workers", "cdn", "external",
];

/// The `kind =` of a rate profile.
pub const PROFILE_KINDS: &[&str] = &[
    "constant", "steps", "spike", "ramp", "growth", "diurnal", "weekly", "seasonal", "replay",
];

/// The `dist =` of a distribution.
pub const DIST_FAMILIES: &[&str] = &[
    "exponential",
    "deterministic",
    "uniform",
    "lognormal",
    "gamma",
    "erlang",
    "hyperexponential",
    "weibull",
    "pareto",
    "empirical",
];

/// A duration as a scenario file gives it: a [`SimDuration`] of at most
/// [`Duration::MAX`], so that a few of them add up without overflowing the
/// clock (about 584 years).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub SimDuration);

impl Duration {
    /// The longest duration a file may give: 100 years (`"36500d"`).
    pub const MAX: SimDuration = SimDuration::from_secs(36_500 * 86_400);

    pub fn get(self) -> SimDuration {
        self.0
    }
}

impl From<Duration> for SimDuration {
    fn from(d: Duration) -> SimDuration {
        d.0
    }
}

impl PartialEq<SimDuration> for Duration {
    fn eq(&self, other: &SimDuration) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<SimDuration> for Duration {
    fn partial_cmp(&self, other: &SimDuration) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl std::ops::Add<SimDuration> for Duration {
    type Output = SimDuration;

    fn add(self, other: SimDuration) -> SimDuration {
        self.0 + other
    }
}

impl std::ops::Deref for Duration {
    type Target = SimDuration;

    fn deref(&self) -> &SimDuration {
        &self.0
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration string such as \"250ms\", \"90s\", \"5m\", \"2h\" or \"3d\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                let d = sim_engine::parse_duration(v).map_err(E::custom)?;
                if d > Duration::MAX {
                    return Err(E::custom(format!(
                        "\"{v}\" is longer than the longest duration a scenario may give, 100 years (\"36500d\")"
                    )));
                }
                Ok(Duration(d))
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The schema of [`SimDuration`]: the cap is not a pattern.
impl JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        SimDuration::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        SimDuration::schema_id()
    }

    fn inline_schema() -> bool {
        SimDuration::inline_schema()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        SimDuration::json_schema(g)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
    pub simulation: RawSimulation,
    pub workload: Option<RawWorkload>,
    pub classes: IndexMap<String, RawClass>,
    /// Each tier is a table tagged by `kind`.
    #[schemars(schema_with = "crate::raw::schema::tiers")]
    pub tiers: IndexMap<String, toml::Table>,
    #[serde(default)]
    pub failures: Vec<RawFailure>,
    #[serde(default)]
    pub slos: Vec<RawSlo>,
    pub cost: Option<RawCost>,
    /// A long horizon as a chain of windows.
    pub windows: Option<RawWindows>,
    /// Named sets of overrides (`capsim run NAME --variant V`); applied
    /// before validation, so here they are only checked for shape.
    #[serde(default)]
    pub variants: IndexMap<String, RawVariant>,
    /// How regions connect and route (with `[regions.*]`).
    pub geo: Option<RawGeo>,
    /// Where users are and the tiers run.
    #[serde(default)]
    pub regions: IndexMap<String, RawRegion>,
    /// What the scenario's source document expects of the results, judged
    /// after the run (the report's "the seed says / capsim finds" table).
    #[serde(default)]
    pub expectations: Vec<RawExpectation>,
    /// Inputs the source document does not give, each with its reason.
    #[serde(default)]
    pub assumptions: Vec<RawAssumption>,
}

/// `[[expectations]]`: a figure the source document expects, as a bound on
/// one result of the run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpectation {
    /// What the document says, in its words or close to them.
    pub claim: String,
    /// Where it says it: the document and section.
    pub source: String,
    /// The result that stands for the claim: a dotted path into
    /// `summary.json` (`windows.json` for a run in `[windows]`), e.g.
    /// `latency_ms.p95` or `scaling.api.peak`; a list entry by its index.
    pub metric: String,
    /// The result is at least this (inclusive).
    pub at_least: Option<f64>,
    /// The result is at most this (inclusive).
    pub at_most: Option<f64>,
    /// The result's 95% confidence interval contains this value (an exact
    /// value from theory, or a figure observed on the real system).
    pub equals: Option<f64>,
    /// The result is this yes/no (an objective's `met`).
    pub is: Option<bool>,
    /// Judged only in these runs: variant names, `"base"` for the scenario
    /// without a variant (default: every run).
    #[serde(default)]
    pub runs: Vec<String>,
    /// How the result reads the claim, where that is not plain.
    pub note: Option<String>,
}

/// `[[assumptions]]`: an input the source document does not give.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAssumption {
    /// The input's field path, as `--set` writes it (`workload.rate_per_s`).
    pub input: String,
    /// Why this value.
    pub why: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGeo {
    /// The region of the database primary.
    pub primary: String,
    /// Tiers with a copy in every region.
    pub regional: Vec<String>,
    /// Round trips between regions: `rtt.A.B` (each pair once).
    #[serde(default)]
    pub rtt: IndexMap<String, IndexMap<String, Duration>>,
    pub health_check: Option<Duration>,
    pub failover_backlog: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    /// Fraction of the users.
    pub share: f64,
    /// Multiplies the arrival rate of this region's users (default 1).
    pub multiplier: Option<f64>,
    /// Runs the regional tiers (default true; false: users only, served
    /// from other regions).
    pub serves: Option<bool>,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::utc_offset")]
    pub utc_offset: Option<toml::Value>,
    /// Round trip from these users to this region's front door.
    pub user_rtt: Duration,
    /// ... and to other regions' (default: `user_rtt` + the regions' rtt).
    #[serde(default)]
    pub user_rtt_to: IndexMap<String, Duration>,
    /// Multiplies every class's profile for these users.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::profile")]
    pub profile: Option<toml::Value>,
    /// Per regional tier: fields that differ in this region.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::region_tiers")]
    pub tiers: IndexMap<String, toml::Table>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWindows {
    pub every: Duration,
    pub count: u32,
    #[serde(default)]
    pub offset: Duration,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    #[serde(default)]
    pub description: String,
    pub set: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

fn crash() -> String {
    "crash".into()
}

fn default_replications() -> u64 {
    10
}

fn default_seed() -> u64 {
    1
}

fn default_interval() -> Duration {
    Duration(SimDuration::from_secs(60))
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Simulated time per replication, warm-up included.
    pub duration: Duration,
    #[serde(default)]
    pub warmup: Duration,
    #[serde(default = "default_replications")]
    pub replications: u64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Time-series interval.
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// The instant the run starts, for calendar profiles: an RFC 3339 date
    /// and time such as "2026-11-27T00:00:00-05:00".
    pub start: Option<String>,
}

/// The total offered load, shared among classes by their `share`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub rate_per_s: Option<f64>,
    /// Multiplies every class's arrival rate (default 1): a what-if knob
    /// (`--set workload.multiplier=10`), and what `capsim headroom` searches.
    pub multiplier: Option<f64>,
    /// A rate profile table tagged by `kind`; applies to every class without
    /// its own.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::profile")]
    pub profile: Option<toml::Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub rate_per_s: Option<f64>,
    pub share: Option<f64>,
    /// A closed class (instead of `rate_per_s` or `share`): this many
    /// users, each asking again a `think` time after its answer; a profile
    /// multiplies the users.
    pub users: Option<u64>,
    /// A closed class's think time between an answer and the next request:
    /// a distribution table tagged by `dist`.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub think: Option<toml::Table>,
    /// An open class's arrival process (Poisson when absent).
    pub arrivals: Option<RawArrivals>,
    /// Multiplies this class's arrival rate (default 1), after its share
    /// and profile.
    pub multiplier: Option<f64>,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::profile")]
    pub profile: Option<toml::Value>,
    pub timeout: Option<Duration>,
    #[serde(default)]
    pub retries: u16,
    pub retry_on_error: Option<bool>,
    pub backoff: Option<RawBackoff>,
    /// Bytes of a response (a size such as "20KB"), for traffic cost.
    pub response_size: Option<String>,
    /// At stations with `discipline = "priority"`: higher is served first
    /// (0 to 255, default 0).
    pub priority: Option<u8>,
    /// Steps: tier names or step tables.
    #[schemars(schema_with = "crate::raw::schema::route")]
    pub route: Vec<toml::Value>,
}

/// `arrivals = { process = ... }` of a class.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    /// `"poisson"` (the default), `"renewal"` or `"batch"`.
    pub process: String,
    /// Renewal: the law of the gaps between requests (its mean sets the
    /// class's rate), a distribution table tagged by `dist`.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub interarrival: Option<toml::Table>,
    /// Batch: the sizes of a batch and their probabilities.
    pub sizes: Option<Vec<RawBatchSize>>,
    /// MMPP: its two states, each a Poisson rate and a mean time in it.
    pub states: Option<Vec<RawMmppState>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMmppState {
    /// Requests per second while in this state (0 for an off state).
    pub rate_per_s: f64,
    /// Mean time in this state (exponential).
    pub mean: Duration,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBatchSize {
    /// Requests in the batch (at least 1).
    pub n: u32,
    /// Its probability (the sizes' probabilities sum to 1).
    pub p: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBackoff {
    pub base: Option<Duration>,
    pub max: Option<Duration>,
    pub jitter: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFailure {
    /// The tier; with regions, alone: every regional tier of `region`.
    pub tier: Option<String>,
    pub region: Option<String>,
    pub unit: Option<u32>,
    /// "crash" (the default) or "flush".
    #[serde(default = "crash")]
    pub action: String,
    pub at: Option<Duration>,
    pub duration: Option<Duration>,
    pub mtbf: Option<Duration>,
    pub mttr: Option<Duration>,
}

/// A service-level objective: `latency` (with `percentile`), `error_rate` or
/// `availability`; with `tier`, the queue latency of a worker tier.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub name: Option<String>,
    pub class: Option<String>,
    /// Requests of users in this region (with regions).
    pub region: Option<String>,
    pub tier: Option<String>,
    pub latency: Option<Duration>,
    pub percentile: Option<f64>,
    pub error_rate: Option<f64>,
    pub availability: Option<f64>,
    pub window: Option<Duration>,
}

/// Scenario-wide prices; each defaults to the catalogue's.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// The price catalogue: a bundled one's name (`capsim catalogue
    /// --list`; default "aws-us-east-1") or the path of a catalogue file,
    /// relative to the scenario file.
    pub catalogue: Option<String>,
    pub cdn_per_gb: Option<f64>,
    pub egress_per_gb: Option<f64>,
    pub cross_region_per_gb: Option<f64>,
    pub load_balancer_per_hour: Option<f64>,
}

/// Keys every tier kind accepts: what a unit costs and how the tier scales.
/// Split off the tier table before its kind-specific keys are decoded.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTierCommon {
    pub instance_type: Option<String>,
    pub price_per_hour: Option<f64>,
    /// Database tiers: replicas' type and price, when they differ.
    pub replica_instance_type: Option<String>,
    pub replica_price_per_hour: Option<f64>,
    pub billing: Option<String>,
    pub billing_minimum: Option<Duration>,
    pub purchase: Option<RawPurchase>,
    pub scaling: Option<RawScaling>,
}

impl RawTierCommon {
    pub const KEYS: &[&str] = &[
        "instance_type",
        "price_per_hour",
        "replica_instance_type",
        "replica_price_per_hour",
        "billing",
        "billing_minimum",
        "purchase",
        "scaling",
    ];
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPurchase {
    pub on_demand: Option<f64>,
    pub reserved: Option<f64>,
    pub spot: Option<f64>,
    pub reserved_discount: Option<f64>,
    pub spot_discount: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScaling {
    pub min: u32,
    pub max: u32,
    pub boot: Option<Duration>,
    pub warmup: Option<Duration>,
    pub drain_timeout: Option<Duration>,
    pub termination: Option<String>,
    /// Policy tables tagged by `type` (`step` or `target`).
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::policies")]
    pub policies: Vec<toml::Table>,
    #[serde(default)]
    pub schedule: Vec<RawScheduled>,
}

/// `type = "step"`. Thresholds are numbers, or durations for latency metrics.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStepPolicy {
    pub name: Option<String>,
    pub metric: String,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::level")]
    pub above: Option<toml::Value>,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::level")]
    pub below: Option<toml::Value>,
    pub period: Option<Duration>,
    pub evaluation_periods: Option<u32>,
    pub datapoints: Option<u32>,
    /// Units (an integer) or a percentage ("50%").
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::change")]
    pub change: Option<toml::Value>,
    pub steps: Option<Vec<RawStepAdjustment>>,
    pub cooldown: Option<Duration>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStepAdjustment {
    #[schemars(schema_with = "crate::raw::schema::level")]
    pub beyond: toml::Value,
    #[schemars(schema_with = "crate::raw::schema::change")]
    pub change: toml::Value,
}

/// `type = "target"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTargetPolicy {
    pub name: Option<String>,
    pub metric: String,
    #[schemars(schema_with = "crate::raw::schema::level")]
    pub target: toml::Value,
    pub tolerance: Option<f64>,
    pub sync: Option<Duration>,
    pub scale_down_window: Option<Duration>,
    pub scale_up_window: Option<Duration>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    pub at: Duration,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub desired: Option<u32>,
}

/// `kind = "station"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStation {
    pub servers: u32,
    /// A distribution table tagged by `dist`.
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub service: toml::Table,
    pub capacity: Option<u32>,
    /// `"fcfs"` (the default), `"priority"` (by class, non-preemptive) or
    /// `"ps"` (processor sharing).
    pub discipline: Option<String>,
    /// With `"ps"`: at most this many requests share the servers, the others
    /// wait (FCFS).
    pub limit: Option<u32>,
    /// The station drops a request that has waited this long without
    /// starting (a duration such as "2s").
    pub deadline: Option<Duration>,
    /// Callers give up a request that has not started after a patience drawn
    /// from this distribution (seconds), a table tagged by `dist`.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub patience: Option<toml::Table>,
    /// Bytes of a request to the tier (a size such as "1KB"), billed where
    /// it crosses regions.
    pub request_size: Option<String>,
    /// Bytes of its answer (a size), billed where it crosses regions.
    pub response_size: Option<String>,
}

/// `kind = "api"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    pub instances: u32,
    /// Defaults to the vCPUs of the tier's `instance_type`.
    pub cores: Option<u32>,
    pub workers: Option<u32>,
    pub mode: Option<String>,
    pub max_connections: Option<u32>,
    pub backlog: Option<u32>,
    pub balancer: Option<String>,
    pub balancer_latency: Option<Duration>,
    /// How an instance's CPU bursts share its cores: `"fcfs"` (the default)
    /// or `"ps"` (processor sharing).
    pub discipline: Option<String>,
    /// Default CPU burst of `{ api = ... }` steps that give none.
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub cpu: Option<toml::Table>,
    /// Memory per instance (a size, e.g. "8GB"); defaults to the memory of
    /// the tier's `instance_type`. Modelled when `memory_base` or
    /// `memory_per_request` is given.
    pub memory: Option<String>,
    /// Memory an instance uses with no request (a size, e.g. "300MB").
    pub memory_base: Option<String>,
    /// Memory each admitted request holds until it leaves (a size, e.g. "2MB").
    pub memory_per_request: Option<String>,
    /// CPU credits of a burstable (T) `instance_type`: `"standard"` (an
    /// instance out of credits is throttled to its baseline) or
    /// `"unlimited"` (never throttled; surplus credits are billed). Not
    /// modelled when absent.
    pub credits: Option<String>,
    /// Credits each instance has at launch (default 0: T3 instances get no
    /// launch credits).
    pub credits_initial: Option<f64>,
    /// Speed of one core (vCPU) against the one the `cpu` demands were
    /// measured on (default 1): a burst takes demand / `vcpu_speed`.
    pub vcpu_speed: Option<f64>,
}

/// `kind = "cache"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    #[serde(default = "one")]
    pub shards: u32,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub get_service: Option<toml::Table>,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub set_service: Option<toml::Table>,
    pub rtt: Option<Duration>,
    pub hit_ratio: Option<f64>,
    /// Per shard; defaults to the node memory of the tier's instance type
    /// when `working_set` is given.
    pub memory: Option<String>,
    pub working_set: Option<String>,
    /// Growth of the working set per day (a size).
    pub growth_per_day: Option<String>,
    pub skew: Option<f64>,
    pub keys: Option<u64>,
    pub object_size: Option<String>,
    pub start: Option<String>,
    /// Bytes of a request to the tier (a size such as "1KB"), billed where
    /// it crosses regions.
    pub request_size: Option<String>,
    /// Bytes of its answer (a size), billed where it crosses regions.
    pub response_size: Option<String>,
}

/// `kind = "database"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    #[serde(default)]
    pub primary: RawDbNode,
    #[serde(default)]
    pub replicas: u32,
    pub replica: Option<RawDbNode>,
    pub pool: Option<RawPool>,
    pub read_primary_fraction: Option<f64>,
    pub read_routing: Option<String>,
    pub rtt: Option<Duration>,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub apply_time: Option<toml::Table>,
    pub queries: IndexMap<String, RawQuery>,
    /// Bytes of a request to the tier (a size such as "1KB"), billed where
    /// it crosses regions.
    pub request_size: Option<String>,
    /// Bytes of its answer (a size), billed where it crosses regions.
    pub response_size: Option<String>,
    /// Bytes a committed write ships to each replica (a size), billed where
    /// the replica is in another region.
    pub replication_size: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDbNode {
    /// Defaults to the vCPUs of the tier's instance type.
    pub cores: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub size: u32,
    pub acquire_timeout: Option<Duration>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQuery {
    pub kind: String,
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub cpu: toml::Table,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub io: Option<toml::Table>,
}

/// `kind = "workers"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWorkers {
    pub workers: u32,
    #[serde(default = "one")]
    pub concurrency: u32,
    pub queues: IndexMap<String, RawQueue>,
    pub jobs: IndexMap<String, RawJob>,
    /// Bytes of a job's message (a size), billed where it crosses regions.
    pub job_size: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    #[serde(default)]
    pub priority: i32,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    pub queue: String,
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub service: toml::Table,
    #[serde(default)]
    pub failure_probability: f64,
    #[serde(default)]
    pub retries: u16,
    pub backoff: Option<Duration>,
}

/// `kind = "cdn"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCdn {
    pub hit_ratio: f64,
    #[serde(default)]
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub edge_latency: Option<toml::Table>,
    pub miss_latency: Option<Duration>,
}

/// Rate profiles by kind.
pub mod profile {
    use super::*;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Steps {
        pub steps: Vec<Step>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Step {
        pub at: Duration,
        pub multiplier: f64,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Spike {
        pub start: Duration,
        #[serde(default)]
        pub rise: Duration,
        pub plateau: Duration,
        #[serde(default)]
        pub decay: Duration,
        pub multiplier: f64,
    }

    fn one() -> f64 {
        1.0
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Ramp {
        #[serde(default)]
        pub start: Duration,
        pub duration: Duration,
        #[serde(default = "one")]
        pub from: f64,
        pub to: f64,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Growth {
        #[serde(default)]
        pub start: Duration,
        pub over: Duration,
        pub factor: f64,
        /// `exponential` (default) or `linear`.
        pub curve: Option<String>,
    }

    /// Diurnal (`hours`), weekly (`days`) or seasonal (`months`) values.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Calendar {
        pub hours: Option<Vec<f64>>,
        pub days: Option<Vec<f64>>,
        pub months: Option<Vec<f64>>,
        /// Hours (a number) or "+HH:MM".
        #[serde(default)]
        #[schemars(schema_with = "crate::raw::schema::utc_offset")]
        pub utc_offset: Option<toml::Value>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Replay {
        pub file: String,
        #[serde(default = "one")]
        pub scale: f64,
        /// Where in the trace the run starts.
        #[serde(default)]
        pub skip: Duration,
    }
}

/// Distribution parameters by family (the `dist` tag selects one).
pub mod dist {
    use super::*;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Exponential {
        pub mean: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Deterministic {
        pub value: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Uniform {
        pub min: Duration,
        pub max: Duration,
    }

    /// Either `mean` and `p99`, or `mu` and `sigma` (of ln X, X in seconds).
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Lognormal {
        pub mean: Option<Duration>,
        pub p99: Option<Duration>,
        pub mu: Option<f64>,
        pub sigma: Option<f64>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Gamma {
        pub shape: f64,
        pub mean: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Erlang {
        pub k: u32,
        pub mean: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Hyperexponential {
        pub branches: Vec<Branch>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Branch {
        pub p: f64,
        pub mean: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Weibull {
        pub shape: f64,
        pub scale: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Pareto {
        pub shape: f64,
        pub scale: Duration,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Empirical {
        pub samples: Vec<Duration>,
    }
}

/// `kind = "external"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExternal {
    /// Time to answer a call, network included.
    #[schemars(schema_with = "crate::raw::schema::dist")]
    pub latency: toml::Table,
    /// The provider's quota: at most `calls` in each window of `per`.
    pub rate_limit: Option<RawRateLimit>,
    /// Time to answer a call over the limit with 429 (default 0).
    pub rejection_latency: Option<Duration>,
    /// Fraction of accepted calls answered with an error (default 0).
    #[serde(default)]
    pub error_ratio: f64,
    /// USD per call answered with success (default 0).
    #[serde(default)]
    pub price_per_call: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub calls: u32,
    pub per: Duration,
}

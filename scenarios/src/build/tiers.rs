//! Tier tables → validated tier configurations, with the documented defaults.

use capsim_models::{
    ApiConfig, ApiCredits, ApiMemory, Balancer, CacheConfig, CacheSizing, CdnConfig,
    DatabaseConfig, Discipline, JobConfig, QueryConfig, QueueConfig, ReadRouting, StationConfig,
    TierKind, TransferSizes, WorkerMode, WorkersConfig,
};
use indexmap::IndexMap;
use sim_engine::{Dist, SimDuration};

use super::limits::{self, at_most, units};
use super::values::{Problem, build_dist, choice, decode, fraction, parse_size};
use crate::error::FieldPath;
use crate::raw::{
    Duration, RawApi, RawCache, RawCdn, RawDatabase, RawQuery, RawStation, RawWorkers,
};

/// Collects problems from several checks, keeping going after the first.
#[derive(Default)]
pub struct Checks(pub Vec<Problem>);

impl Checks {
    pub fn take<T>(&mut self, r: Result<T, Problem>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(p) => {
                self.0.push(p);
                None
            }
        }
    }

    pub fn push(&mut self, path: FieldPath, message: impl Into<String>) {
        self.0.push((path, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn deterministic(d: SimDuration) -> Dist {
    Dist::deterministic(d.as_secs_f64()).expect("non-negative")
}

/// What the tier's instance type (and scaling table) imply for the
/// kind-specific keys' defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hardware {
    /// vCPUs of the instance type (replicas': of the replica type).
    pub vcpus: Option<u32>,
    pub replica_vcpus: Option<u32>,
    /// Memory of a node, bytes.
    pub memory_bytes: Option<u64>,
    /// Burstable types: baseline CPU per vCPU (a fraction), and the price of
    /// a surplus credit (USD per vCPU-minute).
    pub burstable: Option<(f64, Option<f64>)>,
    /// Whether the tier has a scaling table (replicas may start at zero and
    /// still be described).
    pub scales: bool,
}

/// Builds a tier from its table (without the common keys of
/// [`crate::raw::RawTierCommon`]).
pub fn build_tier(
    kind: &str,
    rest: toml::Table,
    path: &FieldPath,
    hw: &Hardware,
) -> Result<(TierKind, TransferSizes), Vec<Problem>> {
    let transfer = transfer_sizes(kind, &rest, path);
    let built = match kind {
        "station" => station(rest, path).map(TierKind::Station),
        "api" => api(rest, path, hw).map(TierKind::Api),
        "cache" => cache(rest, path, hw).map(TierKind::Cache),
        "database" => database(rest, path, hw).map(TierKind::Database),
        "workers" => workers(rest, path).map(TierKind::Workers),
        "cdn" => cdn(rest, path).map(TierKind::Cdn),
        "external" => super::external::external(rest, path).map(TierKind::External),
        _ => unreachable!("split_tag checked the kind"),
    };
    match (built, transfer) {
        (Ok(k), Ok(t)) => Ok((k, t)),
        (Err(mut a), Err(b)) => {
            a.extend(b);
            Err(a)
        }
        (Err(a), Ok(_)) | (Ok(_), Err(a)) => Err(a),
    }
}

/// Assumed sizes (the keys' defaults), bytes: a request to a station or a
/// database query (a statement and its parameters, with the protocol's
/// framing), its answer (a few rows), a cache command (its key), a write's
/// WAL records shipped to a replica, a job's message.
pub const DEFAULT_REQUEST_BYTES: u64 = 1024;
pub const DEFAULT_RESPONSE_BYTES: u64 = 4 * 1024;
pub const DEFAULT_CACHE_COMMAND_BYTES: u64 = 100;
pub const DEFAULT_REPLICATION_BYTES: u64 = 2 * 1024;
pub const DEFAULT_JOB_BYTES: u64 = 1024;
/// A cache's `object_size` default (its answer's size unless given).
const DEFAULT_OBJECT_BYTES: u64 = 1024;

/// The bytes a tier exchanges per visit, billed where they cross regions:
/// `request_size`, `response_size` (stations, caches, databases),
/// `replication_size` (databases), `job_size` (workers). A key that is not
/// a string is reported by the kind's own decoding.
fn transfer_sizes(
    kind: &str,
    table: &toml::Table,
    path: &FieldPath,
) -> Result<TransferSizes, Vec<Problem>> {
    let mut c = Checks::default();
    let mut size = |key: &str, default: u64| -> f64 {
        match table.get(key).and_then(|v| v.as_str()) {
            Some(s) => c.take(parse_size(s, &path.key(key))).unwrap_or(0) as f64,
            None => default as f64,
        }
    };
    let sizes = match kind {
        "station" => TransferSizes {
            request_bytes: size("request_size", DEFAULT_REQUEST_BYTES),
            response_bytes: size("response_size", DEFAULT_RESPONSE_BYTES),
            replication_bytes: 0.0,
        },
        "cache" => {
            let object = table
                .get("object_size")
                .and_then(|v| v.as_str())
                .and_then(|s| parse_size(s, path).ok())
                .unwrap_or(DEFAULT_OBJECT_BYTES);
            TransferSizes {
                request_bytes: size("request_size", DEFAULT_CACHE_COMMAND_BYTES),
                response_bytes: size("response_size", object),
                replication_bytes: 0.0,
            }
        }
        "database" => TransferSizes {
            request_bytes: size("request_size", DEFAULT_REQUEST_BYTES),
            response_bytes: size("response_size", DEFAULT_RESPONSE_BYTES),
            replication_bytes: size("replication_size", DEFAULT_REPLICATION_BYTES),
        },
        "workers" => TransferSizes {
            request_bytes: size("job_size", DEFAULT_JOB_BYTES),
            response_bytes: 0.0,
            replication_bytes: 0.0,
        },
        // API tiers are regional, CDN edges are near the users and external
        // APIs are outside the regions: nothing of theirs crosses.
        _ => TransferSizes::default(),
    };
    if c.is_empty() { Ok(sizes) } else { Err(c.0) }
}

fn station(table: toml::Table, path: &FieldPath) -> Result<StationConfig, Vec<Problem>> {
    let raw: RawStation = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let servers = c.take(units(raw.servers, limits::UNITS, &path.key("servers")));
    if let Some(k) = raw.capacity {
        c.take(at_most(k, limits::CAPACITY, &path.key("capacity")));
    }
    if let Some(k) = raw.capacity
        && k < raw.servers
    {
        c.push(
            path.key("capacity"),
            format!(
                "capacity counts requests in service too, so it must be at least `servers` ({}); got {k}",
                raw.servers
            ),
        );
    }
    let service = c.take(build_dist(raw.service, &path.key("service")));
    let discipline = match raw.discipline.as_deref() {
        None | Some("fcfs") => Some(Discipline::Fcfs),
        Some("priority") => Some(Discipline::Priority),
        Some("ps") => Some(Discipline::Shared { limit: raw.limit }),
        Some(other) => {
            c.push(
                path.key("discipline"),
                format!(
                    "unknown discipline `{other}`: use \"fcfs\", \"priority\" or \"ps\" (processor sharing)"
                ),
            );
            None
        }
    };
    if let Some(l) = raw.limit {
        if raw.discipline.as_deref() != Some("ps") {
            c.push(
                path.key("limit"),
                "`limit` caps how many requests share the servers under processor sharing: give `discipline = \"ps\"`, or drop `limit` (`capacity` caps the station)",
            );
        } else {
            c.take(units(l, limits::CAPACITY, &path.key("limit")));
        }
    }
    if let Some(d) = raw.deadline
        && d.get().is_zero()
    {
        c.push(
            path.key("deadline"),
            "a deadline of 0 would drop every request that has to wait: give a positive duration, or none",
        );
    }
    let patience = match raw.patience {
        Some(t) => c.take(build_dist(t, &path.key("patience"))),
        None => None,
    };
    match (servers, service, discipline) {
        (Some(servers), Some(service), Some(discipline)) if c.is_empty() => Ok(StationConfig {
            servers,
            service,
            capacity: raw.capacity,
            discipline,
            deadline: raw.deadline.map(|d| d.get()),
            patience,
        }),
        _ => Err(c.0),
    }
}

/// `cores`, or the vCPUs of the instance type.
fn cores_of(
    given: Option<u32>,
    vcpus: Option<u32>,
    path: &FieldPath,
    c: &mut Checks,
) -> Option<u32> {
    match (given, vcpus) {
        (Some(n), _) => c.take(units(n, limits::CORES, path)),
        (None, Some(v)) => Some(v),
        (None, None) => {
            c.push(
                path.clone(),
                "give `cores`, or an `instance_type` whose vCPUs the catalogue knows",
            );
            None
        }
    }
}

fn api(table: toml::Table, path: &FieldPath, hw: &Hardware) -> Result<ApiConfig, Vec<Problem>> {
    let raw: RawApi = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let instances = c.take(units(raw.instances, limits::UNITS, &path.key("instances")));
    let cores = cores_of(raw.cores, hw.vcpus, &path.key("cores"), &mut c);
    let mode = match raw.mode.as_deref() {
        None => Some(WorkerMode::Sync),
        Some(m) => c
            .take(choice(m, &["sync", "async"], &path.key("mode")))
            .map(|m| {
                if m == "sync" {
                    WorkerMode::Sync
                } else {
                    WorkerMode::Async
                }
            }),
    };
    let balancer = match raw.balancer.as_deref() {
        None => Some(Balancer::RoundRobin),
        Some(b) => c
            .take(choice(
                b,
                &["round_robin", "least_connections", "random", "power_of_two"],
                &path.key("balancer"),
            ))
            .map(|b| match b {
                "round_robin" => Balancer::RoundRobin,
                "least_connections" => Balancer::LeastConnections,
                "random" => Balancer::Random,
                _ => Balancer::PowerOfTwo,
            }),
    };
    // Defaults: gunicorn's 2 × cores + 1 sync workers; one event loop per core.
    let workers = match (raw.workers, mode, cores) {
        (Some(w), _, _) => c.take(units(w, limits::SLOTS, &path.key("workers"))),
        (None, Some(WorkerMode::Sync), Some(cores)) => Some(2 * cores + 1),
        (None, Some(WorkerMode::Async), Some(cores)) => Some(cores),
        _ => None,
    };
    if raw.max_connections.is_some() && mode == Some(WorkerMode::Sync) {
        c.push(
            path.key("max_connections"),
            "`max_connections` applies to async mode; in sync mode `workers` limits concurrency",
        );
    }
    let max_connections = c.take(units(
        raw.max_connections.unwrap_or(1000),
        limits::CONNECTIONS,
        &path.key("max_connections"),
    ));
    if let Some(b) = raw.backlog {
        c.take(at_most(b, limits::CONNECTIONS, &path.key("backlog")));
    }
    let cpu_discipline = match raw.discipline.as_deref() {
        None => Some(Discipline::Fcfs),
        Some(d) => c
            .take(choice(d, &["fcfs", "ps"], &path.key("discipline")))
            .map(|d| {
                if d == "ps" {
                    Discipline::Shared { limit: None }
                } else {
                    Discipline::Fcfs
                }
            }),
    };
    let memory = api_memory(&raw, path, hw, &mut c);
    let credits = cores.and_then(|cores| api_credits(&raw, cores, path, hw, &mut c));
    let vcpu_speed = raw.vcpu_speed.unwrap_or(1.0);
    if !(vcpu_speed > 0.0 && vcpu_speed <= 100.0) {
        c.push(
            path.key("vcpu_speed"),
            format!(
                "a core's speed against the one demands were measured on is above 0 and at most 100 (1 = the same), got {vcpu_speed}"
            ),
        );
    }
    if let Some(cpu) = raw.cpu {
        // Validated here; the route compiler reads it again for its default.
        c.take(build_dist(cpu, &path.key("cpu")));
    }
    match (
        instances,
        cores,
        workers,
        mode,
        balancer,
        max_connections,
        cpu_discipline,
    ) {
        (
            Some(instances),
            Some(cores),
            Some(workers),
            Some(mode),
            Some(balancer),
            Some(max_connections),
            Some(cpu),
        ) if c.is_empty() => Ok(ApiConfig {
            cpu,
            instances,
            cores,
            workers,
            mode,
            max_connections,
            backlog: raw.backlog.unwrap_or(100),
            balancer,
            balancer_latency: raw
                .balancer_latency
                .map_or(SimDuration::ZERO, Duration::get),
            memory,
            credits,
            vcpu_speed,
        }),
        _ => Err(c.0),
    }
}

/// An API tier's CPU credits, when `credits` is given.
fn api_credits(
    raw: &RawApi,
    cores: u32,
    path: &FieldPath,
    hw: &Hardware,
    c: &mut Checks,
) -> Option<ApiCredits> {
    let Some(mode) = &raw.credits else {
        if raw.credits_initial.is_some() {
            c.push(
                path.key("credits_initial"),
                "`credits_initial` needs `credits = \"standard\"` or `\"unlimited\"`",
            );
        }
        return None;
    };
    let unlimited = c.take(choice(
        mode,
        &["standard", "unlimited"],
        &path.key("credits"),
    ))? == "unlimited";
    let Some((baseline, surplus_price)) = hw.burstable else {
        c.push(
            path.key("credits"),
            "CPU credits apply to burstable instance types (those with a `baseline_pct` in the catalogue: t3 on AWS, the B-series on Azure): give such an `instance_type`, or drop `credits`",
        );
        return None;
    };
    let surplus_price = match (unlimited, surplus_price) {
        (true, None) => {
            c.push(
                path.key("credits"),
                "\"unlimited\": this catalogue's burstable types have no unlimited mode (an Azure B-series VM out of credits runs at its baseline): use \"standard\"",
            );
            return None;
        }
        (_, price) => price.unwrap_or(0.0),
    };
    // Earned on the type's vCPUs (`cores` may model fewer); at most 24 hours
    // of earnings.
    let vcpus = hw.vcpus.unwrap_or(cores);
    let max = baseline * vcpus as f64 * 60.0 * 24.0;
    let initial = raw.credits_initial.unwrap_or(0.0);
    if !(0.0..=max).contains(&initial) {
        c.push(
            path.key("credits_initial"),
            format!("an instance holds 0 to {max} credits (24 hours of earnings); got {initial}"),
        );
        return None;
    }
    Some(ApiCredits {
        unlimited,
        baseline,
        vcpus,
        initial,
        max,
        surplus_price,
    })
}

/// A size that may be zero ("0MB", "0").
fn size_or_zero(s: &str, path: &FieldPath) -> Result<u64, Problem> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err((path.clone(), format!("\"{s}\": a size cannot be negative")));
    }
    let zero = t
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .trim()
        .parse::<f64>()
        .is_ok_and(|n| n == 0.0);
    if zero { Ok(0) } else { parse_size(s, path) }
}

/// An API tier's memory model, when `memory_base` or `memory_per_request`
/// is given.
fn api_memory(raw: &RawApi, path: &FieldPath, hw: &Hardware, c: &mut Checks) -> Option<ApiMemory> {
    if raw.memory_base.is_none() && raw.memory_per_request.is_none() {
        if raw.memory.is_some() {
            c.push(
                path.key("memory"),
                "memory is modelled from what uses it: give `memory_base` (per instance) and/or `memory_per_request` too",
            );
        }
        return None;
    }
    let capacity = match &raw.memory {
        Some(m) => c.take(parse_size(m, &path.key("memory")))?,
        None => match hw.memory_bytes {
            Some(b) => b,
            None => {
                c.push(
                    path.key("memory"),
                    "give `memory` per instance, or an `instance_type` whose memory the catalogue knows",
                );
                return None;
            }
        },
    };
    let size = |v: &Option<String>, key: &str, c: &mut Checks| match v {
        Some(s) => c.take(size_or_zero(s, &path.key(key))),
        None => Some(0),
    };
    let base = size(&raw.memory_base, "memory_base", c);
    let per_request = size(&raw.memory_per_request, "memory_per_request", c);
    let (base, per_request) = (base?, per_request?);
    if base.saturating_add(per_request) > capacity {
        c.push(
            path.key(if raw.memory_base.is_some() {
                "memory_base"
            } else {
                "memory_per_request"
            }),
            format!(
                "an instance has {} of memory: its base ({}) plus one request ({}) must fit",
                show_size(capacity),
                show_size(base),
                show_size(per_request)
            ),
        );
        return None;
    }
    Some(ApiMemory {
        capacity,
        base,
        per_request,
    })
}

/// Bytes for a message: "512 MiB", "2.5 GiB".
fn show_size(b: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = b as f64 / MIB;
    if mib >= 1024.0 {
        format!("{} GiB", mib / 1024.0)
    } else {
        format!("{mib} MiB")
    }
}

/// The default CPU burst of an API tier (its `cpu` field), if any.
pub fn api_default_cpu(table: &toml::Table, path: &FieldPath) -> Option<Dist> {
    let cpu = table.get("cpu")?.as_table()?.clone();
    build_dist(cpu, &path.key("cpu")).ok()
}

/// A distribution given in a table, else `default` (`None`: reported).
fn dist_or(
    given: Option<toml::Table>,
    default: Dist,
    path: &FieldPath,
    c: &mut Checks,
) -> Option<Dist> {
    match given {
        Some(t) => c.take(build_dist(t, path)),
        None => Some(default),
    }
}

fn cache(table: toml::Table, path: &FieldPath, hw: &Hardware) -> Result<CacheConfig, Vec<Problem>> {
    let mut raw: RawCache = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let shards = c.take(units(raw.shards, limits::SHARDS, &path.key("shards")));
    // About 100k commands per second per shard: Redis's single thread.
    let default_op = deterministic(SimDuration::from_micros(10));
    let get_service = dist_or(
        raw.get_service.take(),
        default_op.clone(),
        &path.key("get_service"),
        &mut c,
    );
    let set_service = dist_or(
        raw.set_service.take(),
        default_op,
        &path.key("set_service"),
        &mut c,
    );
    let skew = match raw.skew {
        Some(s) if !(s.is_finite() && (0.0..1.0).contains(&s)) => {
            c.push(
                path.key("skew"),
                format!("skew must be at least 0 and below 1 (got {s})"),
            );
            None
        }
        Some(s) => Some(s),
        None => Some(0.8),
    };
    let object_size = match &raw.object_size {
        Some(s) => c.take(parse_size(s, &path.key("object_size"))),
        None => Some(1024),
    };
    let memory = CacheMemory::of(&raw, path, hw, &mut c);
    let hit_ratio = memory.hit_ratio(raw.hit_ratio, skew, shards, path, &mut c);
    let keys = match (raw.keys, memory.memory, object_size) {
        (Some(0), _, _) => {
            c.push(path.key("keys"), "must be at least 1");
            None
        }
        (Some(k), _, _) => Some(k),
        (None, Some(m), Some(o)) => shards.map(|n| (n as u64 * (m / o)).max(1)),
        (None, _, _) => Some(100_000),
    };
    let start_warm = match raw.start.as_deref() {
        None => Some(true),
        Some(s) => c
            .take(choice(s, &["warm", "cold"], &path.key("start")))
            .map(|s| s == "warm"),
    };
    match (
        shards,
        get_service,
        set_service,
        skew,
        hit_ratio,
        keys,
        start_warm,
    ) {
        (
            Some(shards),
            Some(get_service),
            Some(set_service),
            Some(skew),
            Some(hit_ratio),
            Some(keys),
            Some(start_warm),
        ) if c.is_empty() => Ok(CacheConfig {
            shards,
            get_service,
            set_service,
            rtt: raw.rtt.map_or(SimDuration::from_micros(250), Duration::get),
            hit_ratio,
            skew,
            keys_per_shard: keys.div_ceil(shards as u64),
            start_warm,
            sizing: memory.sizing(),
        }),
        _ => Err(c.0),
    }
}

/// A cache's memory against its working set, from which its hit ratio
/// (and growth, its fall) can be derived instead of given.
struct CacheMemory {
    /// Per shard, bytes: given, or the node memory of the instance type
    /// when the hit ratio is to be derived.
    memory: Option<u64>,
    working_set: Option<u64>,
    growth_per_day: Option<u64>,
    /// `memory`, or an instance type's, is there to derive from.
    has_memory: bool,
    working_set_given: bool,
}

impl CacheMemory {
    fn of(raw: &RawCache, path: &FieldPath, hw: &Hardware, c: &mut Checks) -> Self {
        let memory_given = raw.memory.is_some();
        let memory = match &raw.memory {
            Some(m) => c.take(parse_size(m, &path.key("memory"))),
            None if raw.working_set.is_some() => hw.memory_bytes,
            None => None,
        };
        let working_set = raw
            .working_set
            .as_ref()
            .and_then(|w| c.take(parse_size(w, &path.key("working_set"))));
        let growth_per_day = raw
            .growth_per_day
            .as_ref()
            .and_then(|g| c.take(parse_size(g, &path.key("growth_per_day"))));
        if raw.growth_per_day.is_some() && raw.working_set.is_none() {
            c.push(
                path.key("growth_per_day"),
                "the working set's growth needs `working_set` (and `memory`) to derive the hit ratio from",
            );
        }
        if working_set == Some(0) {
            c.push(path.key("working_set"), "must be larger than zero");
        }
        if memory == Some(0) {
            c.push(path.key("memory"), "must be larger than zero");
        }
        CacheMemory {
            memory,
            working_set,
            growth_per_day,
            has_memory: memory_given || (raw.working_set.is_some() && hw.memory_bytes.is_some()),
            working_set_given: raw.working_set.is_some(),
        }
    }

    /// The hit ratio: `given`, or derived from memory and working set; one
    /// way, not both (`None`: reported, or an input to derive it from is).
    fn hit_ratio(
        &self,
        given: Option<f64>,
        skew: Option<f64>,
        shards: Option<u32>,
        path: &FieldPath,
        c: &mut Checks,
    ) -> Option<f64> {
        match (given, self.has_memory, self.working_set_given) {
            (Some(h), false, false) => c.take(fraction(h, &path.key("hit_ratio"))),
            (None, true, true) => match (self.memory, self.working_set, skew, shards) {
                // Popularity density ∝ r^(−skew) over the key space: caching the
                // most popular fraction x serves x^(1−skew) of requests.
                (Some(m), Some(w), Some(s), Some(n)) if w > 0 => {
                    Some((n as f64 * m as f64 / w as f64).min(1.0).powf(1.0 - s))
                }
                _ => None,
            },
            (Some(_), _, _) => {
                c.push(
                    path.key("hit_ratio"),
                    "give either `hit_ratio`, or `memory` and `working_set` to derive it, not both",
                );
                None
            }
            (None, true, false) => {
                c.push(
                    path.key("working_set"),
                    "`memory` needs `working_set` to derive the hit ratio",
                );
                None
            }
            (None, false, true) => {
                c.push(
                    path.key("memory"),
                    "`working_set` needs `memory` per shard (or an `instance_type`) to derive the hit ratio",
                );
                None
            }
            (None, false, false) => {
                c.push(
                    path.clone(),
                    "a cache needs `hit_ratio`, or `memory` and `working_set` to derive it",
                );
                None
            }
        }
    }

    /// What the model needs to follow the working set's growth over the run.
    fn sizing(&self) -> Option<CacheSizing> {
        match (self.memory, self.working_set) {
            (Some(m), Some(w)) if self.working_set_given => Some(CacheSizing {
                memory_per_shard: m as f64,
                working_set: w as f64,
                growth_per_s: self.growth_per_day.unwrap_or(0) as f64 / 86_400.0,
            }),
            _ => None,
        }
    }
}

fn database(
    table: toml::Table,
    path: &FieldPath,
    hw: &Hardware,
) -> Result<DatabaseConfig, Vec<Problem>> {
    let raw: RawDatabase = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let primary_cores = cores_of(
        raw.primary.cores,
        hw.vcpus,
        &path.key("primary").key("cores"),
        &mut c,
    );
    let replica_cores = match (raw.replica.as_ref().and_then(|r| r.cores), hw.replica_vcpus) {
        (Some(n), _) => c.take(units(n, limits::CORES, &path.key("replica").key("cores"))),
        (None, Some(v)) => Some(v),
        (None, None) => primary_cores,
    };
    c.take(at_most(
        raw.replicas,
        limits::REPLICAS,
        &path.key("replicas"),
    ));
    if raw.replica.is_some() && raw.replicas == 0 && !hw.scales {
        c.push(
            path.key("replica"),
            "`replica` describes replicas, but `replicas` is 0 (and the tier does not scale)",
        );
    }
    let (pool_size, acquire_timeout) = match &raw.pool {
        Some(p) => (
            c.take(units(p.size, limits::POOL, &path.key("pool").key("size"))),
            p.acquire_timeout
                .map_or(SimDuration::from_secs(30), Duration::get),
        ),
        // PgBouncer's default_pool_size; SQLAlchemy's pool_timeout.
        None => (Some(20), SimDuration::from_secs(30)),
    };
    let read_primary_fraction = match raw.read_primary_fraction {
        Some(f) => c.take(fraction(f, &path.key("read_primary_fraction"))),
        None => Some(0.0),
    };
    let read_routing = read_routing(raw.read_routing.as_deref(), path, &mut c);
    let apply_time = dist_or(
        raw.apply_time,
        deterministic(SimDuration::from_micros(200)),
        &path.key("apply_time"),
        &mut c,
    );
    let queries = queries(raw.queries, path, &mut c);
    match (
        primary_cores,
        replica_cores,
        pool_size,
        read_primary_fraction,
        read_routing,
        apply_time,
    ) {
        (
            Some(primary_cores),
            Some(replica_cores),
            Some(pool_size),
            Some(read_primary_fraction),
            Some(read_routing),
            Some(apply_time),
        ) if c.is_empty() => Ok(DatabaseConfig {
            local_primary: true,
            primary_cores,
            replicas: raw.replicas,
            replica_cores,
            pool_size,
            acquire_timeout,
            read_primary_fraction,
            read_routing,
            rtt: raw.rtt.map_or(SimDuration::from_micros(500), Duration::get),
            apply_time,
            queries,
        }),
        _ => Err(c.0),
    }
}

/// How reads pick a replica (default random).
fn read_routing(given: Option<&str>, path: &FieldPath, c: &mut Checks) -> Option<ReadRouting> {
    match given {
        None => Some(ReadRouting::Random),
        Some(r) => c
            .take(choice(
                r,
                &["random", "round_robin", "least_busy"],
                &path.key("read_routing"),
            ))
            .map(|r| match r {
                "random" => ReadRouting::Random,
                "round_robin" => ReadRouting::RoundRobin,
                _ => ReadRouting::LeastBusy,
            }),
    }
}

/// A database's query types, at least one (those with problems left out,
/// the problems reported).
fn queries(raw: IndexMap<String, RawQuery>, path: &FieldPath, c: &mut Checks) -> Vec<QueryConfig> {
    if raw.is_empty() {
        c.push(path.key("queries"), "define at least one query type");
    }
    if raw.len() > limits::KINDS {
        c.push(
            path.key("queries"),
            format!("at most {} query types (got {})", limits::KINDS, raw.len()),
        );
    }
    let mut queries = Vec::new();
    for (name, q) in raw {
        let qp = path.key("queries").key(&name);
        let write = c
            .take(choice(&q.kind, &["read", "write"], &qp.key("kind")))
            .map(|k| k == "write");
        let cpu = c.take(build_dist(q.cpu, &qp.key("cpu")));
        let io = match q.io {
            Some(t) => c.take(build_dist(t, &qp.key("io"))).map(Some),
            None => Some(None),
        };
        if let (Some(write), Some(cpu), Some(io)) = (write, cpu, io) {
            queries.push(QueryConfig {
                name,
                write,
                cpu,
                io,
            });
        }
    }
    queries
}

fn workers(table: toml::Table, path: &FieldPath) -> Result<WorkersConfig, Vec<Problem>> {
    let raw: RawWorkers = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let workers = c.take(units(raw.workers, limits::UNITS, &path.key("workers")));
    let concurrency = c.take(units(
        raw.concurrency,
        limits::SLOTS,
        &path.key("concurrency"),
    ));
    for (key, n) in [("queues", raw.queues.len()), ("jobs", raw.jobs.len())] {
        if n > limits::KINDS {
            c.push(
                path.key(key),
                format!("at most {} entries (got {n})", limits::KINDS),
            );
        }
    }
    if raw.queues.is_empty() {
        c.push(path.key("queues"), "define at least one queue");
    }
    if raw.jobs.is_empty() {
        c.push(path.key("jobs"), "define at least one job type");
    }
    let queue_names: Vec<String> = raw.queues.keys().cloned().collect();
    let queues: Vec<QueueConfig> = raw
        .queues
        .into_iter()
        .map(|(name, q)| QueueConfig {
            name,
            priority: q.priority,
        })
        .collect();
    let mut jobs = Vec::new();
    for (name, j) in raw.jobs {
        let jp = path.key("jobs").key(&name);
        let queue = match queue_names.iter().position(|q| *q == j.queue) {
            Some(q) => Some(q as u16),
            None => {
                c.push(
                    jp.key("queue"),
                    format!(
                        "no queue named \"{}\" (queues: {})",
                        j.queue,
                        queue_names.join(", ")
                    ),
                );
                None
            }
        };
        let service = c.take(build_dist(j.service, &jp.key("service")));
        c.take(at_most(j.retries, limits::RETRIES, &jp.key("retries")));
        let failure_probability = c.take(fraction(
            j.failure_probability,
            &jp.key("failure_probability"),
        ));
        if let (Some(queue), Some(service), Some(failure_probability)) =
            (queue, service, failure_probability)
        {
            jobs.push(JobConfig {
                name,
                queue,
                service,
                failure_probability,
                retries: j.retries,
                backoff: j.backoff.map_or(SimDuration::from_secs(10), Duration::get),
            });
        }
    }
    match (workers, concurrency) {
        (Some(workers), Some(concurrency)) if c.is_empty() => Ok(WorkersConfig {
            workers,
            concurrency,
            queues,
            jobs,
        }),
        _ => Err(c.0),
    }
}

fn cdn(table: toml::Table, path: &FieldPath) -> Result<CdnConfig, Vec<Problem>> {
    let raw: RawCdn = decode(table, path).map_err(|p| vec![p])?;
    let mut c = Checks::default();
    let hit_ratio = c.take(fraction(raw.hit_ratio, &path.key("hit_ratio")));
    let edge_latency = match raw.edge_latency {
        Some(t) => c.take(build_dist(t, &path.key("edge_latency"))),
        None => Some(deterministic(SimDuration::from_millis(20))),
    };
    match (hit_ratio, edge_latency) {
        (Some(hit_ratio), Some(edge_latency)) if c.is_empty() => Ok(CdnConfig {
            hit_ratio,
            edge_latency,
            miss_latency: raw
                .miss_latency
                .map_or(SimDuration::from_millis(5), Duration::get),
        }),
        _ => Err(c.0),
    }
}

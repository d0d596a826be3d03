//! Compiles a class's route (nested steps) into the model's program of ops.
//!
//! ```text
//!   route = [ { cdn = "edge" },                          0: Cdn(edge)           (hit → END)
//!             { api = "web", cpu = … },                  1: ApiEnter(web)  2: Cpu
//!             { cache = "redis", on_miss = [             3: CacheGet(redis, on_hit → 6)
//!                 { db = "pg", query = "read" },         4: Db(pg, read)
//!                 { cache = "redis", op = "set" } ] },   5: CacheSet(redis)
//!             { branch = [ { p = 0.9, route = [] },      6: Branch(0.9 → 7, 0.1 → 8)
//!                          { p = 0.1, route = [ … ] } ] }  7: Jump(9)  8: …
//!           ]                                            9: End
//! ```
//!
//! Routes are trees by construction (steps nest, they never name each other),
//! so a program has no cycles and always reaches `End`.

use capsim_models::{
    ApiConfig, ApiRef, DatabaseRef, DelayOf, Op, StationRef, TierConfig, TierId, Typed, typed,
};
use sim_engine::{Dist, SimDuration};

use super::tiers::Checks;
use super::values::{Problem, article, dist_value, fraction};
use crate::error::FieldPath;

/// Deepest nesting of `on_miss` and `branch` blocks.
pub const MAX_DEPTH: usize = 16;

const VERBS: &[&str] = &[
    "tier", "api", "cpu", "cache", "db", "enqueue", "branch", "delay", "cdn", "call",
];

struct Compiler<'a> {
    tiers: &'a [TierConfig],
    /// The tiers' typed handles, in declaration order.
    typed: Vec<Typed<'a>>,
    /// Tiers that exist but failed to build: references to them are not
    /// errors of the route (the tier's own errors are reported).
    broken: &'a [String],
    /// Each tier's default CPU burst (API tiers with a `cpu` field).
    default_cpu: &'a [Option<Dist>],
    ops: Vec<Op>,
    checks: Checks,
    /// With regions: the geography, and the region the steps being
    /// compiled run in.
    geo: Option<&'a Regional<'a>>,
    at: u16,
}

/// What compiling a route for regions needs to know.
pub struct Regional<'a> {
    pub names: &'a [String],
    /// Tiers (as the scenario names them) with a copy in every region,
    /// named `TIER@REGION`.
    pub regional: &'a [String],
    pub primary: u16,
    pub rtt: &'a [Vec<SimDuration>],
    pub user_rtt: &'a [Vec<SimDuration>],
    /// Regions that run the regional tiers (route choices).
    pub serves: &'a [bool],
}

fn half(d: SimDuration) -> SimDuration {
    SimDuration::from_nanos(d.as_nanos() / 2)
}

/// Compiles a route for the users of region `user`:
///
/// ```text
///   [leading cdn steps, at the users' edge]
///   Route(nearest usable region first) ─► block of region r:
///       delay(user rtt / 2) · the route's steps on r's tiers · delay(user rtt / 2) · jump END
///   END
/// ```
///
/// In a region without the primary, a query to a regional database is a
/// [`Op::RemoteDb`] (local read, or the trip to the primary); a step on a
/// tier that is not regional (it runs in the primary region) pays the round
/// trip to the primary region first ([`Op::CrossToPrimary`]), and an
/// enqueue there bills its job's message ([`Op::Enqueue`]'s `bytes`); both
/// as cross-region traffic.
pub fn compile_regional(
    mut route: Vec<toml::Value>,
    path: &FieldPath,
    tiers: &[TierConfig],
    default_cpu: &[Option<Dist>],
    geo: &Regional<'_>,
    user: u16,
) -> Result<Vec<Op>, Vec<Problem>> {
    let mut c = Compiler {
        tiers,
        typed: typed(tiers),
        broken: &[],
        default_cpu,
        ops: Vec::new(),
        checks: Checks::default(),
        geo: Some(geo),
        at: user,
    };
    let edge_steps = route
        .iter()
        .take_while(|s| s.as_table().is_some_and(|t| t.contains_key("cdn")))
        .count();
    let rest = route.split_off(edge_steps);
    let mut state = State { on_api: false };
    c.block(route, path, &mut state, 0);
    let route_at = c.ops.len();
    c.ops.push(Op::Route {
        choices: Vec::new(),
    });
    let n = geo.names.len() as u16;
    let mut order: Vec<u16> = (0..n).filter(|&r| geo.serves[r as usize]).collect();
    order.sort_by_key(|&r| (geo.user_rtt[user as usize][r as usize], r));
    let mut choices = Vec::with_capacity(order.len());
    let mut jumps = Vec::with_capacity(order.len());
    for r in order {
        choices.push((r, c.here()));
        c.at = r;
        let way = half(geo.user_rtt[user as usize][r as usize]);
        c.delay(way, DelayOf::Users);
        let mut inner = state;
        c.block(rest.clone(), path, &mut inner, 0);
        c.delay(way, DelayOf::Users);
        jumps.push(c.ops.len());
        c.ops.push(Op::Jump { target: 0 });
    }
    let end = c.here();
    for j in jumps {
        c.ops[j] = Op::Jump { target: end };
    }
    c.ops[route_at] = Op::Route { choices };
    c.ops.push(Op::End);
    if c.ops.len() > u16::MAX as usize {
        c.checks.push(
            path.clone(),
            "the route is too long (more than 65,535 steps once compiled for every region)",
        );
    }
    if c.checks.is_empty() {
        Ok(c.ops)
    } else {
        Err(c.checks.0)
    }
}

/// What a bare tier name (`"NAME"` or `{ tier = "NAME" }`) visits.
enum Visit<'a> {
    Station(StationRef),
    Api(ApiRef, &'a ApiConfig),
}

/// What is known about a request at a point of its route.
#[derive(Clone, Copy, PartialEq, Eq)]
struct State {
    /// It is on an API instance.
    on_api: bool,
}

pub fn compile(
    route: Vec<toml::Value>,
    path: &FieldPath,
    tiers: &[TierConfig],
    broken: &[String],
    default_cpu: &[Option<Dist>],
) -> Result<Vec<Op>, Vec<Problem>> {
    let mut c = Compiler {
        tiers,
        typed: typed(tiers),
        broken,
        default_cpu,
        ops: Vec::new(),
        checks: Checks::default(),
        geo: None,
        at: 0,
    };
    if route.is_empty() {
        c.checks
            .push(path.clone(), "a route needs at least one step");
    }
    let mut state = State { on_api: false };
    c.block(route, path, &mut state, 0);
    c.ops.push(Op::End);
    if c.ops.len() > u16::MAX as usize {
        c.checks.push(
            path.clone(),
            "the route is too long (more than 65,535 steps once compiled)",
        );
    }
    if c.checks.is_empty() {
        Ok(c.ops)
    } else {
        Err(c.checks.0)
    }
}

impl<'a> Compiler<'a> {
    fn here(&self) -> u16 {
        self.ops.len() as u16
    }

    /// A network trip of `d`.
    fn delay(&mut self, d: SimDuration, of: DelayOf) {
        if !d.is_zero() {
            let demand = Dist::deterministic(d.as_secs_f64()).expect("non-negative");
            self.ops.push(Op::Delay { demand, of });
        }
    }

    /// With regions, in a region without the primary: whether `tier` is not
    /// regional (it runs in the primary region), so reaching it crosses.
    fn leaves_region(&self, tier: TierId) -> bool {
        self.geo.is_some_and(|geo| {
            self.at != geo.primary
                && self.tiers[tier as usize].region.is_some()
                && !self.tiers[tier as usize].name.contains('@')
        })
    }

    /// With regions, in a region without the primary: a step on a tier that
    /// is not regional (it runs in the primary region) pays the round trip,
    /// and its request and answer cross regions.
    fn cross_to_primary(&mut self, tier: TierId) {
        if let Some(geo) = self.geo
            && self.leaves_region(tier)
        {
            let rtt = geo.rtt[self.at as usize][geo.primary as usize];
            let bytes = self.tiers[tier as usize].transfer.round_trip();
            if !rtt.is_zero() || bytes > 0.0 {
                self.ops.push(Op::CrossToPrimary { tier, rtt, bytes });
            }
        }
    }

    fn block(
        &mut self,
        steps: Vec<toml::Value>,
        path: &FieldPath,
        state: &mut State,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            self.checks.push(
                path.clone(),
                format!("steps nest more than {MAX_DEPTH} levels deep"),
            );
            return;
        }
        for (i, step) in steps.into_iter().enumerate() {
            self.step(step, &path.index(i), state, depth);
        }
    }

    /// The tier `name` refers to (with regions: its copy in the region the
    /// step runs in), if `pick` takes its kind; `want` names the kinds it
    /// takes, for the message.
    fn tier<T>(
        &mut self,
        name: &toml::Value,
        path: &FieldPath,
        want: &[&str],
        pick: impl Fn(Typed<'a>) -> Option<T>,
    ) -> Option<T> {
        let Some(name) = name.as_str() else {
            self.checks.push(
                path.clone(),
                format!("expected a tier name, got {}", name.type_str()),
            );
            return None;
        };
        let regional_name;
        let name = match self.geo {
            Some(geo) if geo.regional.iter().any(|r| r == name) => {
                regional_name = format!("{name}@{}", geo.names[self.at as usize]);
                regional_name.as_str()
            }
            _ => name,
        };
        match self.tiers.iter().position(|t| t.name == name) {
            Some(i) => {
                let picked = pick(self.typed[i]);
                if picked.is_none() {
                    let kind = self.tiers[i].kind.kind().label();
                    let wanted = want.join(" or ");
                    self.checks.push(
                        path.clone(),
                        format!(
                            "tier \"{name}\" is {} {kind} tier; this step needs {} {wanted} tier",
                            article(kind),
                            article(&wanted)
                        ),
                    );
                }
                picked
            }
            None if self.broken.iter().any(|b| b == name) => None,
            None => {
                let known: Vec<&str> = self
                    .tiers
                    .iter()
                    .map(|t| t.name.as_str())
                    .chain(self.broken.iter().map(String::as_str))
                    .collect();
                let known = if known.is_empty() {
                    "no tiers are defined".to_string()
                } else {
                    format!("tiers: {}", known.join(", "))
                };
                self.checks
                    .push(path.clone(), format!("no tier named \"{name}\" ({known})"));
                None
            }
        }
    }

    /// One step: its verb, then the verb's own compiler.
    fn step(&mut self, step: toml::Value, path: &FieldPath, state: &mut State, depth: usize) {
        let Some(mut table) = self.step_table(step, path) else {
            return;
        };
        let Some(verb) = self.verb_of(&table, path) else {
            return;
        };
        self.check_step_keys(&table, verb, path);
        let value = table.remove(verb).expect("verb present");
        let vpath = path.key(verb);
        match verb {
            "tier" => self.tier_step(value, &vpath, &mut table, path, state),
            "api" => self.api_step(value, &vpath, &mut table, path, state),
            "cpu" => self.cpu_step(value, &vpath, state),
            "cdn" => self.cdn_step(value, &vpath, state),
            "call" => self.call_step(value, &vpath),
            "cache" => self.cache_step(value, &vpath, &mut table, path, state, depth),
            "db" => self.db_step(value, &vpath, &mut table, path),
            "enqueue" => self.enqueue_step(value, &vpath, &mut table, path),
            "delay" => {
                if let Some(d) = self.checks.take(dist_value(value, &vpath)) {
                    self.ops.push(Op::Delay {
                        demand: d,
                        of: DelayOf::Route,
                    });
                }
            }
            "branch" => self.branch(value, &vpath, state, depth),
            _ => unreachable!("verbs are listed in VERBS"),
        }
    }

    /// A step as a table: a bare name is short for `{ tier = NAME }`.
    fn step_table(&mut self, step: toml::Value, path: &FieldPath) -> Option<toml::Table> {
        match step {
            toml::Value::String(name) => {
                // A bare name visits a station or enters an API pool.
                let mut t = toml::Table::new();
                t.insert("tier".into(), toml::Value::String(name));
                Some(t)
            }
            toml::Value::Table(t) => Some(t),
            other => {
                self.checks.push(
                    path.clone(),
                    format!("a step is a tier name or a table such as {{ db = \"pg\", query = \"read\" }}, got {}", other.type_str()),
                );
                None
            }
        }
    }

    /// The one verb of a step's table.
    fn verb_of(&mut self, table: &toml::Table, path: &FieldPath) -> Option<&'static str> {
        let mut verbs: Vec<&'static str> = VERBS
            .iter()
            .copied()
            .filter(|v| table.contains_key(*v))
            .collect();
        // `cpu` is a verb of its own and also the burst of an `api` step.
        if verbs.contains(&"api") {
            verbs.retain(|v| *v != "cpu");
        }
        match verbs.as_slice() {
            [v] => Some(*v),
            [] => {
                self.checks.push(
                    path.clone(),
                    format!("a step needs one of: {}", VERBS.join(", ")),
                );
                None
            }
            many => {
                self.checks.push(
                    path.clone(),
                    format!("a step does one thing; this one has {}", many.join(" and ")),
                );
                None
            }
        }
    }

    /// Reports each key that the step's verb does not take.
    fn check_step_keys(&mut self, table: &toml::Table, verb: &str, path: &FieldPath) {
        let allowed: &[&str] = match verb {
            "tier" => &["demand"],
            "api" => &["cpu"],
            "cache" => &["op", "on_miss"],
            "db" => &["query"],
            "enqueue" => &["job"],
            _ => &[],
        };
        for k in table.keys() {
            if k != verb && !allowed.contains(&k.as_str()) {
                let also = if allowed.is_empty() {
                    "it takes nothing else".to_string()
                } else {
                    format!("it also takes: {}", allowed.join(", "))
                };
                self.checks.push(
                    path.key(k),
                    format!("`{k}` does not belong in a `{verb}` step ({also})"),
                );
            }
        }
    }

    /// `{ tier = NAME, demand = … }`: a visit to a station, or entering an
    /// API pool.
    fn tier_step(
        &mut self,
        value: toml::Value,
        vpath: &FieldPath,
        table: &mut toml::Table,
        path: &FieldPath,
        state: &mut State,
    ) {
        let Some(t) = self.tier(&value, vpath, &["station", "api"], |t| match t {
            Typed::Station(r, _) => Some(Visit::Station(r)),
            Typed::Api(r, api) => Some(Visit::Api(r, api)),
            _ => None,
        }) else {
            return;
        };
        let demand = table
            .remove("demand")
            .and_then(|d| self.checks.take(dist_value(d, &path.key("demand"))));
        match t {
            Visit::Api(r, api) => self.enter_api(r, api, demand, path, state),
            Visit::Station(r) => {
                self.cross_to_primary(r.id);
                self.ops.push(Op::Station { tier: r, demand });
            }
        }
    }

    /// `{ api = NAME, cpu = … }`: entering an API pool.
    fn api_step(
        &mut self,
        value: toml::Value,
        vpath: &FieldPath,
        table: &mut toml::Table,
        path: &FieldPath,
        state: &mut State,
    ) {
        let Some((t, api)) = self.tier(&value, vpath, &["api"], |t| match t {
            Typed::Api(r, api) => Some((r, api)),
            _ => None,
        }) else {
            return;
        };
        let cpu = table
            .remove("cpu")
            .and_then(|d| self.checks.take(dist_value(d, &path.key("cpu"))));
        self.enter_api(t, api, cpu, path, state);
    }

    /// `{ cpu = … }`: a burst on the API instance the request is on.
    fn cpu_step(&mut self, value: toml::Value, vpath: &FieldPath, state: &State) {
        if !state.on_api {
            self.checks.push(
                vpath.clone(),
                "a `cpu` step runs on an API instance: put an `api` step before it",
            );
        }
        if let Some(d) = self.checks.take(dist_value(value, vpath)) {
            self.ops.push(Op::Cpu { demand: d });
        }
    }

    /// `{ cdn = NAME }`: the edge, before the request reaches the API.
    fn cdn_step(&mut self, value: toml::Value, vpath: &FieldPath, state: &State) {
        let Some(t) = self.tier(&value, vpath, &["cdn"], |t| match t {
            Typed::Cdn(r, _) => Some(r),
            _ => None,
        }) else {
            return;
        };
        if state.on_api {
            self.checks.push(vpath.clone(), "a CDN serves requests before they reach the API: put the `cdn` step before the `api` step");
            return;
        }
        self.ops.push(Op::Cdn { tier: t });
    }

    /// `{ call = NAME }`: a call to an external dependency.
    fn call_step(&mut self, value: toml::Value, vpath: &FieldPath) {
        let Some(t) = self.tier(&value, vpath, &["external"], |t| match t {
            Typed::External(r, _) => Some(r),
            _ => None,
        }) else {
            return;
        };
        self.ops.push(Op::Call { tier: t });
    }

    /// `{ cache = NAME, op = "get" | "set", on_miss = [...] }`.
    fn cache_step(
        &mut self,
        value: toml::Value,
        vpath: &FieldPath,
        table: &mut toml::Table,
        path: &FieldPath,
        state: &State,
        depth: usize,
    ) {
        let Some(t) = self.tier(&value, vpath, &["cache"], |t| match t {
            Typed::Cache(r, _) => Some(r),
            _ => None,
        }) else {
            return;
        };
        let op = match table.remove("op") {
            None => "get".to_string(),
            Some(toml::Value::String(s)) if s == "get" || s == "set" => s,
            Some(other) => {
                self.checks.push(
                    path.key("op"),
                    format!("`op` is \"get\" or \"set\" (got {other})"),
                );
                return;
            }
        };
        let on_miss = table.remove("on_miss");
        if op == "set" {
            if on_miss.is_some() {
                self.checks
                    .push(path.key("on_miss"), "`on_miss` belongs to a GET, not a SET");
            }
            self.cross_to_primary(t.id);
            self.ops.push(Op::CacheSet { tier: t });
            return;
        }
        self.cross_to_primary(t.id);
        let at = self.ops.len();
        self.ops.push(Op::CacheGet { tier: t, on_hit: 0 });
        if let Some(block) = on_miss {
            self.on_miss(block, &path.key("on_miss"), state, depth);
        }
        // A hit skips the `on_miss` block.
        let after = self.here();
        if let Op::CacheGet { on_hit, .. } = &mut self.ops[at] {
            *on_hit = after;
        }
    }

    /// The steps a cache miss takes; they may not change where the request
    /// is (a hit skips them).
    fn on_miss(&mut self, block: toml::Value, path: &FieldPath, state: &State, depth: usize) {
        match block {
            toml::Value::Array(steps) => {
                let mut inner = *state;
                self.block(steps, path, &mut inner, depth + 1);
                if inner != *state {
                    self.checks
                        .push(path.clone(), "an `on_miss` block cannot enter an API pool");
                }
            }
            other => self.checks.push(
                path.clone(),
                format!("`on_miss` is a list of steps, got {}", other.type_str()),
            ),
        }
    }

    /// `{ db = NAME, query = TYPE }`.
    fn db_step(
        &mut self,
        value: toml::Value,
        vpath: &FieldPath,
        table: &mut toml::Table,
        path: &FieldPath,
    ) {
        let Some((t, db)) = self.tier(&value, vpath, &["database"], |t| match t {
            Typed::Database(r, db) => Some((r, db)),
            _ => None,
        }) else {
            return;
        };
        let names: Vec<&str> = db.queries.iter().map(|q| q.name.as_str()).collect();
        let given = table.remove("query");
        let Some(query) = self.named_type(given, ("query", "queries"), &names, t.id, path) else {
            return;
        };
        self.db_query(t, query);
    }

    /// `{ enqueue = NAME, job = TYPE }`.
    fn enqueue_step(
        &mut self,
        value: toml::Value,
        vpath: &FieldPath,
        table: &mut toml::Table,
        path: &FieldPath,
    ) {
        let Some((t, w)) = self.tier(&value, vpath, &["workers"], |t| match t {
            Typed::Workers(r, w) => Some((r, w)),
            _ => None,
        }) else {
            return;
        };
        let names: Vec<&str> = w.jobs.iter().map(|j| j.name.as_str()).collect();
        let given = table.remove("job");
        let Some(job) = self.named_type(given, ("job", "jobs"), &names, t.id, path) else {
            return;
        };
        // Enqueuing waits for nothing, but the job's message crosses.
        let bytes = if self.leaves_region(t.id) {
            self.tiers[t.id as usize].transfer.request_bytes
        } else {
            0.0
        };
        self.ops.push(Op::Enqueue {
            tier: t,
            job,
            bytes,
        });
    }

    /// The index of the query (or job) type a step names among `names`, the
    /// types of `tier`; `key` is the step's field and its plural. A tier
    /// with one type needs no name.
    fn named_type(
        &mut self,
        given: Option<toml::Value>,
        (key, plural): (&str, &str),
        names: &[&str],
        tier: TierId,
        path: &FieldPath,
    ) -> Option<u16> {
        match given {
            Some(toml::Value::String(q)) => match names.iter().position(|n| *n == q) {
                Some(i) => Some(i as u16),
                None => {
                    self.checks.push(
                        path.key(key),
                        format!(
                            "no {key} type \"{q}\" in tier \"{}\" ({plural}: {})",
                            self.tiers[tier as usize].name,
                            names.join(", ")
                        ),
                    );
                    None
                }
            },
            Some(other) => {
                self.checks.push(
                    path.key(key),
                    format!("expected a {key} type name, got {}", other.type_str()),
                );
                None
            }
            None if names.len() == 1 => Some(0),
            None => {
                self.checks.push(
                    path.clone(),
                    format!(
                        "say which {key}: add `{key} = ` one of {}",
                        names.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// A query of type `query` on database tier `t` (with regions: `t` is
    /// the copy of the region the step runs in).
    fn db_query(&mut self, t: DatabaseRef, query: u16) {
        let Some(geo) = self.geo.filter(|g| self.at != g.primary) else {
            self.ops.push(Op::Db { tier: t, query });
            return;
        };
        let name = &self.tiers[t.id as usize].name;
        let Some((base, _)) = name.split_once('@') else {
            self.cross_to_primary(t.id);
            self.ops.push(Op::Db { tier: t, query });
            return;
        };
        let primary_copy = format!("{base}@{}", geo.names[geo.primary as usize]);
        let primary = self
            .tiers
            .iter()
            .zip(&self.typed)
            .find_map(|(x, ty)| match ty {
                Typed::Database(r, _) if x.name == primary_copy => Some(*r),
                _ => None,
            })
            .expect("every regional database has a copy in the primary region");
        let hop = half(geo.rtt[self.at as usize][geo.primary as usize]);
        self.ops.push(Op::RemoteDb {
            local: t,
            query,
            hop,
        });
        self.ops.push(Op::Db {
            tier: primary,
            query,
        });
        let back = Dist::deterministic(hop.as_secs_f64()).expect("non-negative");
        self.ops.push(Op::Delay {
            demand: back,
            of: DelayOf::Tier(primary.id),
        });
    }

    fn enter_api(
        &mut self,
        tier: ApiRef,
        api: &ApiConfig,
        cpu: Option<Dist>,
        path: &FieldPath,
        state: &mut State,
    ) {
        if state.on_api {
            self.checks.push(
                path.clone(),
                "a request is already on an API instance: a route enters one API pool",
            );
            return;
        }
        if !api.balancer_latency.is_zero() {
            let d = Dist::deterministic(api.balancer_latency.as_secs_f64()).expect("non-negative");
            self.ops.push(Op::Delay {
                demand: d,
                of: DelayOf::Tier(tier.id),
            });
        }
        self.ops.push(Op::ApiEnter { tier });
        state.on_api = true;
        if let Some(d) = cpu.or_else(|| self.default_cpu[tier.id as usize].clone()) {
            self.ops.push(Op::Cpu { demand: d });
        }
    }

    fn branch(&mut self, value: toml::Value, path: &FieldPath, state: &mut State, depth: usize) {
        let toml::Value::Array(alts) = value else {
            self.checks.push(
                path.clone(),
                "`branch` is a list such as [{ p = 0.9, route = [...] }, { p = 0.1, route = [...] }]",
            );
            return;
        };
        if alts.is_empty() {
            self.checks
                .push(path.clone(), "a branch needs at least one alternative");
            return;
        }
        let mut probs = Vec::with_capacity(alts.len());
        let mut routes = Vec::with_capacity(alts.len());
        for (i, alt) in alts.into_iter().enumerate() {
            let ap = path.index(i);
            let Some((p, route)) = self.alternative(alt, &ap) else {
                return;
            };
            probs.push(p);
            routes.push((ap.key("route"), route));
        }
        let total: f64 = probs.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            self.checks.push(
                path.clone(),
                format!("the alternatives' probabilities must sum to 1 (they sum to {total})"),
            );
        }
        let at = self.ops.len();
        let mut cumulative = Vec::with_capacity(probs.len());
        let mut acc = 0.0;
        for p in &probs {
            acc += p;
            cumulative.push(acc);
        }
        // Rounding must not leave a draw past the last alternative.
        if let Some(last) = cumulative.last_mut() {
            *last = f64::INFINITY;
        }
        self.ops.push(Op::Branch {
            cumulative,
            targets: vec![0; probs.len()],
        });
        let mut targets = Vec::with_capacity(routes.len());
        let mut jumps = Vec::with_capacity(routes.len());
        let mut ends = Vec::with_capacity(routes.len());
        for (rp, steps) in routes {
            targets.push(self.here());
            let mut inner = *state;
            self.block(steps, &rp, &mut inner, depth + 1);
            ends.push(inner);
            jumps.push(self.ops.len());
            self.ops.push(Op::Jump { target: 0 });
        }
        let after = self.here();
        for j in jumps {
            self.ops[j] = Op::Jump { target: after };
        }
        if let Op::Branch { targets: t, .. } = &mut self.ops[at] {
            *t = targets;
        }
        // After the branch the request is on an API instance only if every
        // alternative put it there; mixing is ambiguous for later `cpu` steps.
        if ends.iter().any(|e| e != &ends[0]) {
            self.checks.push(
                path.clone(),
                "either every alternative enters an API pool or none does",
            );
        } else {
            *state = ends[0];
        }
    }

    /// One alternative of a branch: its probability (0 when reported) and
    /// steps. `None`: it is not a table (reported), and the branch stops.
    fn alternative(&mut self, alt: toml::Value, ap: &FieldPath) -> Option<(f64, Vec<toml::Value>)> {
        let toml::Value::Table(mut t) = alt else {
            self.checks.push(
                ap.clone(),
                "an alternative is a table { p = 0.5, route = [...] }",
            );
            return None;
        };
        for k in t.keys() {
            if k != "p" && k != "route" {
                self.checks.push(
                    ap.key(k),
                    format!("`{k}` does not belong in a branch alternative (it takes p and route)"),
                );
            }
        }
        let p = match t.remove("p") {
            Some(toml::Value::Float(p)) => self.checks.take(fraction(p, &ap.key("p"))),
            Some(toml::Value::Integer(p)) => self.checks.take(fraction(p as f64, &ap.key("p"))),
            Some(other) => {
                self.checks.push(
                    ap.key("p"),
                    format!("`p` is a probability, got {}", other.type_str()),
                );
                None
            }
            None => {
                self.checks
                    .push(ap.clone(), "missing `p`, the alternative's probability");
                None
            }
        };
        let route = match t.remove("route") {
            Some(toml::Value::Array(steps)) => steps,
            Some(other) => {
                self.checks.push(
                    ap.key("route"),
                    format!("`route` is a list of steps, got {}", other.type_str()),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        Some((p.unwrap_or(0.0), route))
    }
}

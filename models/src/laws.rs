//! The capacity check: what each tier is offered, from the scenario alone,
//! by the operational laws. No simulation: it runs before one.
//!
//! ```text
//!   class program ──► expected visits per op (a Markov chain over the ops:
//!        │            branches, hit ratios, read routing, errors that stop it)
//!        ▼
//!   demand D per request at each resource (cores, shards, slots, ...)
//!        ▼
//!   offered(t) = Σ classes rate × profile(t) × D     server-seconds per second
//!   U = offered / servers       (at the start, and at the autoscaling maximum)
//! ```
//!
//! `U` is what a tier would be busy if every request were served, the
//! utilisation law `U = X·D / c` with the throughput `X` at the offered
//! rate. It ignores what overload does (rejections, timeouts, retries,
//! failures) and what scaling actually reaches; where the simulated tier
//! is not overloaded its measured utilisation should agree.

use std::collections::HashMap;

use sim_engine::SimDuration;

use crate::config::{Op, PlatformConfig};
use crate::profile::{Phase, RateProfile, grid};
use crate::tier::{ApiRef, Kind, TierKind, WorkerMode};
use crate::windows::WindowPlan;

/// The check of a platform: its phases, and every resource's offered load.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityCheck {
    /// The phases of the rate profile over the run: the profile's pieces
    /// (one phase, `whole run`, for a profile without); cut wherever any
    /// class's profile changes shape when the classes' profiles differ.
    pub phases: Vec<Phase>,
    /// The total arrival rate at its peak (requests per second), and when.
    pub peak_rate_per_s: f64,
    pub peak_at: SimDuration,
    /// The mean total arrival rate over the run.
    pub mean_rate_per_s: f64,
    /// Per phase: the mean total arrival rate in it.
    pub phase_rate_per_s: Vec<f64>,
    /// In tier order; a tier with nothing bounded (a CDN, an external API
    /// without a rate limit) has none.
    pub resources: Vec<Resource>,
    /// The resource with the highest utilisation at the peak, against the
    /// capacity it can reach (`None`: no resource is offered anything).
    pub bottleneck: Option<usize>,
    /// The closed classes' bounds, which stand for their rates above.
    pub closed: Vec<ClosedBound>,
}

/// The most a closed class's users can ask, and what sets it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedBound {
    pub class: String,
    pub users: f64,
    /// Mean think time, seconds.
    pub think_s: f64,
    /// Demand per request at the resources it holds one at a time, seconds.
    pub demand_s: f64,
    /// Requests per second: `min(users / (think + demand), capacity)`.
    pub rate_per_s: f64,
    /// The resource whose reachable capacity sets the bound, if one does
    /// (else the users' own pace does).
    pub limited_by: Option<String>,
}

/// What a resource's capacity is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Servers busy: offered in server-seconds per second.
    Busy,
    /// A rate limit: offered in calls per second against the quota's rate.
    Calls,
}

/// One resource of a tier (a tier may have two: an API pool's cores and
/// its admission slots; a database's primary and replica cores and pools).
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    pub tier: String,
    pub kind: Kind,
    /// What serves, in the plural: `servers`, `cores`, `shards`, ...
    pub what: &'static str,
    pub measure: Measure,
    /// Servers at the start (with [`Measure::Calls`]: the quota per second).
    pub servers: f64,
    /// At the autoscaling maximum, where the tier scales.
    pub servers_max: Option<f64>,
    /// Servers per unit autoscaling counts (instance, worker, replica,
    /// shard), where the tier scales.
    pub per_unit: Option<f64>,
    /// The demand excludes time spent waiting for other resources while
    /// holding this one (admission slots, connections): offered is a lower
    /// bound.
    pub lower_bound: bool,
    /// Requests leave its queue unserved after a deadline or their callers'
    /// patience: past capacity the queue stays bounded and the excess fails.
    pub sheds: bool,
    pub offered_mean: f64,
    pub offered_peak: f64,
    /// When the offered load peaks (the first time).
    pub peak_at: SimDuration,
    /// Per phase: the mean offered load in it, and its largest.
    pub offered_phases: Vec<(f64, f64)>,
    /// Per class with a demand here, in class order.
    pub terms: Vec<Term>,
}

/// A class's part of a resource's load.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub class: String,
    /// The class's rate at the resource's peak, requests per second.
    pub rate_at_peak: f64,
    /// Expected visits per request.
    pub visits: f64,
    /// Mean demand per visit, seconds (1 for a call against a quota).
    pub demand_s: f64,
}

impl Resource {
    /// Servers it can reach: the autoscaling maximum, or what it has.
    pub fn reachable(&self) -> f64 {
        self.servers_max.unwrap_or(self.servers)
    }

    pub fn utilization_mean(&self) -> f64 {
        ratio(self.offered_mean, self.servers)
    }

    /// At the peak, against the servers it starts with.
    pub fn utilization_peak(&self) -> f64 {
        ratio(self.offered_peak, self.servers)
    }

    /// At the peak, against the servers it can reach.
    pub fn utilization_peak_reachable(&self) -> f64 {
        ratio(self.offered_peak, self.reachable())
    }

    /// Offered at or over what it can reach, at the peak.
    pub fn overloaded(&self) -> bool {
        self.utilization_peak_reachable() >= 1.0
    }

    /// `tier`, or `tier primary cores` for a tier with several resources:
    /// how warnings, tables and summary.json name it.
    pub fn label(&self) -> String {
        match self.kind {
            Kind::Database | Kind::Api => format!("{} {}", self.tier, self.what),
            _ => self.tier.clone(),
        }
    }

    /// The scaled units it needs at the peak to keep U ≤ 1, where
    /// the tier scales.
    pub fn units_needed(&self) -> Option<u32> {
        let per = self.per_unit.filter(|&p| p > 0.0)?;
        Some((self.offered_peak / per - 1e-9).ceil().max(0.0) as u32)
    }

    /// `n` of its servers, in words: `2 cores`, `1 core`, `5/s` (a quota).
    pub fn count(&self, n: f64) -> String {
        match self.measure {
            Measure::Calls => format!("{}/s", num(n)),
            Measure::Busy if n == 1.0 => format!("1 {}", self.what.trim_end_matches('s')),
            Measure::Busy => format!("{} {}", num(n), self.what),
        }
    }

    /// The numbers that lead to the peak's offered load:
    /// `rate × visits × demand [+ ...] = offered on servers`.
    pub fn explain(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .filter(|t| t.rate_at_peak * t.visits > 0.0)
            .map(|t| match self.measure {
                Measure::Busy => format!(
                    "{} {}/s × {} visits × {} s",
                    t.class,
                    num(t.rate_at_peak),
                    num(t.visits),
                    num(t.demand_s)
                ),
                Measure::Calls => format!(
                    "{} {}/s × {} calls",
                    t.class,
                    num(t.rate_at_peak),
                    num(t.visits)
                ),
            })
            .collect();
        let shown = if terms.len() > 4 {
            format!(
                "{} + {} more classes",
                terms[..3].join(" + "),
                terms.len() - 3
            )
        } else {
            terms.join(" + ")
        };
        let capacity = match self.measure {
            Measure::Busy => self.count(self.reachable()),
            Measure::Calls => format!("a quota of {}/s", num(self.servers)),
        };
        let scaled = if self.servers_max.is_some() {
            " (the autoscaling maximum)"
        } else {
            ""
        };
        let bound = if self.lower_bound { "at least " } else { "" };
        format!(
            "{shown} = {bound}{} on {capacity}{scaled}",
            num(self.offered_peak)
        )
    }
}

impl CapacityCheck {
    /// The traffic factor (on every class's rate) at which the bottleneck
    /// reaches U = 1 at the peak, with the capacity it can reach; `None`
    /// when nothing bounded is offered anything.
    pub fn saturation_multiplier(&self) -> Option<f64> {
        let b = &self.resources[self.bottleneck?];
        let u = b.utilization_peak_reachable();
        (u > 0.0 && u.is_finite()).then(|| 1.0 / u)
    }

    pub fn bottleneck(&self) -> Option<&Resource> {
        self.bottleneck.map(|i| &self.resources[i])
    }

    /// The resources offered at least their reachable capacity at the peak.
    pub fn overloaded(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().filter(|r| r.overloaded())
    }

    /// One line per scaling resource that starts under what the peak needs
    /// but can scale to it: how many units it must reach.
    pub fn notes(&self) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| r.utilization_peak() >= 1.0 && !r.overloaded())
            .filter_map(|r| {
                let (needed, per) = (r.units_needed()?, r.per_unit?);
                let noun = r.kind.vocabulary().scaled_unit()?;
                let word = |n: u32| if n == 1 { noun.one } else { noun.many };
                let (start, max) = (
                    (r.servers / per).round() as u32,
                    (r.reachable() / per).round() as u32,
                );
                Some(format!(
                    "{} is offered {:.0}% of its starting {} at the peak ({}): autoscaling must reach {needed} {} of its {start}–{max} in time",
                    r.label(),
                    r.utilization_peak() * 100.0,
                    r.count(r.servers),
                    r.peak_at,
                    word(needed),
                ))
            })
            .collect()
    }

    /// One line per closed class: the bound its rate above stands for.
    pub fn closed_notes(&self) -> Vec<String> {
        self.closed
            .iter()
            .map(|b| {
                let why = match &b.limited_by {
                    Some(r) => format!("{r} serves no more"),
                    None => format!(
                        "{} / ({} s thinking + {} s of demand)",
                        num(b.users),
                        num(b.think_s),
                        num(b.demand_s)
                    ),
                };
                format!(
                    "{} is closed: its {} users ask at most {} req/s ({why}); its loads above are upper bounds",
                    b.class,
                    num(b.users),
                    num(b.rate_per_s)
                )
            })
            .collect()
    }

    /// One line per overloaded resource, with the numbers that lead there.
    pub fn warnings(&self) -> Vec<String> {
        self.overloaded()
            .map(|r| {
                let shed = if r.sheds {
                    " (its deadline or its callers' patience keeps the queue bounded: the excess leaves unserved)"
                } else {
                    ""
                };
                format!(
                    "{} is offered {:.0}% of its capacity at the peak ({}): {}{shed}",
                    r.label(),
                    r.utilization_peak_reachable() * 100.0,
                    r.peak_at,
                    r.explain()
                )
            })
            .collect()
    }
}

fn ratio(offered: f64, servers: f64) -> f64 {
    if offered <= 0.0 {
        0.0
    } else if servers <= 0.0 {
        f64::INFINITY
    } else {
        offered / servers
    }
}

/// Four significant digits at most, no trailing zeros: `0.025`, `120`,
/// `3.333`.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A resource being built: its facts, and each class's demand per request.
struct Slot {
    resource: Resource,
    /// Per class: (visits, demand per request in seconds).
    per_class: Vec<(f64, f64)>,
}

/// The sub-resources of a tier.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
enum Part {
    Main,
    /// An API pool's admission slots; a database primary's connections.
    Held,
    ReplicaCores,
    ReplicaConns,
}

/// The check of `cfg`: pure, and cheap next to a run (a pass over each
/// class's program, the profile at its corners and on a grid).
pub fn capacity_check(cfg: &PlatformConfig) -> CapacityCheck {
    let slots = demands(cfg);
    let closed = bounds(cfg, &slots).into_iter().flatten().collect();
    CapacityCheck {
        closed,
        ..load(cfg, slots)
    }
}

/// For each closed class, the most its users can ask at a multiplier of 1,
/// by the asymptotic bounds of a closed network (Denning and Buzen): a
/// request takes at least its demand `D` (the sum over the resources it
/// occupies one at a time), so N users thinking `Z` between requests ask at
/// most `N / (Z + D)`; and no resource serves more than its reachable
/// servers over the class's demand there. It ignores the other classes'
/// load (a bound, not an estimate). `None` for an open class, and for a
/// closed class with no think time and no demand anywhere (then nothing
/// bounds it).
pub fn closed_rate_bounds(cfg: &PlatformConfig) -> Vec<Option<f64>> {
    bounds(cfg, &demands(cfg))
        .into_iter()
        .map(|b| b.map(|b| b.rate_per_s).filter(|x| x.is_finite()))
        .collect()
}

fn bounds(cfg: &PlatformConfig, slots: &[Slot]) -> Vec<Option<ClosedBound>> {
    cfg.classes
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let pop = class.arrivals.closed.as_ref()?;
            let demand_s: f64 = slots
                .iter()
                .filter(|s| s.resource.measure == Measure::Busy && !s.resource.lower_bound)
                .map(|s| s.per_class[c].1)
                .sum();
            let think_s = pop.think.mean();
            let asked = pop.users / (think_s + demand_s);
            let capacity = slots
                .iter()
                .filter(|s| s.per_class[c].1 > 0.0)
                .map(|s| {
                    (
                        s.resource.reachable() / s.per_class[c].1,
                        s.resource.label(),
                    )
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let (rate_per_s, limited_by) = match capacity {
                Some((x, label)) if x < asked => (x, Some(label)),
                _ => (asked, None),
            };
            Some(ClosedBound {
                class: class.name.clone(),
                users: pop.users,
                think_s,
                demand_s,
                rate_per_s,
                limited_by,
            })
        })
        .collect()
}

/// Every resource with each class's visits and demand there.
fn demands(cfg: &PlatformConfig) -> Vec<Slot> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut index: HashMap<(u16, Part), usize> = HashMap::new();
    declare(cfg, &mut slots, &mut index);
    let n = cfg.classes.len();
    for s in &mut slots {
        s.per_class = vec![(0.0, 0.0); n];
    }
    for (c, class) in cfg.classes.iter().enumerate() {
        let visits = visits(cfg, &class.program);
        let on_api = api_of(cfg, &class.program);
        for (pc, &v) in visits.iter().enumerate() {
            if v > 0.0 {
                charge(
                    cfg,
                    &class.program[pc],
                    v,
                    on_api[pc],
                    &index,
                    &mut |i, v, d| {
                        let e = &mut slots[i].per_class[c];
                        e.0 += v;
                        e.1 += d;
                    },
                );
            }
        }
    }
    slots
}

/// The check of a chain of windows (`cfg` being the scenario's platform,
/// one window long): over the long horizon the windows sample, from its
/// start to the end of the last window.
pub fn capacity_check_windows(cfg: &PlatformConfig, plan: &WindowPlan) -> CapacityCheck {
    let mut long = cfg.clone();
    long.horizon = plan.start_of(plan.count.saturating_sub(1)) + cfg.horizon;
    capacity_check(&long)
}

/// Every bounded resource of every tier, in tier order.
fn declare(cfg: &PlatformConfig, slots: &mut Vec<Slot>, index: &mut HashMap<(u16, Part), usize>) {
    for (id, t) in cfg.tiers.iter().enumerate() {
        let max = t.scaling.as_ref().map(|s| s.max as f64);
        let mut add = |part: Part, what: &'static str, servers: f64, per_unit: Option<f64>| {
            let measure = if t.kind.kind() == Kind::External {
                Measure::Calls
            } else {
                Measure::Busy
            };
            index.insert((id as u16, part), slots.len());
            slots.push(Slot {
                resource: Resource {
                    tier: t.name.clone(),
                    kind: t.kind.kind(),
                    what,
                    measure,
                    servers,
                    servers_max: max.zip(per_unit).map(|(m, u)| m * u),
                    per_unit: max.and(per_unit),
                    lower_bound: matches!(part, Part::Held | Part::ReplicaConns),
                    sheds: matches!(&t.kind, TierKind::Station(s)
                        if s.deadline.is_some() || s.patience.is_some()),
                    offered_mean: 0.0,
                    offered_peak: 0.0,
                    peak_at: SimDuration::ZERO,
                    offered_phases: Vec::new(),
                    terms: Vec::new(),
                },
                per_class: Vec::new(),
            });
        };
        match &t.kind {
            TierKind::Station(s) => add(Part::Main, "servers", s.servers as f64, None),
            TierKind::Api(a) => {
                let (cores, what, held, held_what) = match a.mode {
                    WorkerMode::Sync => (a.cores, "cores", a.workers, "workers"),
                    WorkerMode::Async => (
                        a.cores.min(a.workers),
                        "event loops",
                        a.max_connections,
                        "connections",
                    ),
                };
                let n = a.instances as f64;
                add(Part::Main, what, n * cores as f64, Some(cores as f64));
                add(Part::Held, held_what, n * held as f64, Some(held as f64));
            }
            TierKind::Cache(c) => add(Part::Main, "shards", c.shards as f64, Some(1.0)),
            TierKind::Database(d) => {
                // The primary does not scale (per unit: None); replicas do.
                if d.local_primary {
                    add(Part::Main, "primary cores", d.primary_cores as f64, None);
                    add(Part::Held, "primary connections", d.pool_size as f64, None);
                }
                if d.replicas > 0 || t.scaling.is_some() {
                    let (r, cores, pool) = (
                        d.replicas as f64,
                        d.replica_cores as f64,
                        d.pool_size as f64,
                    );
                    add(Part::ReplicaCores, "replica cores", r * cores, Some(cores));
                    add(
                        Part::ReplicaConns,
                        "replica connections",
                        r * pool,
                        Some(pool),
                    );
                }
            }
            TierKind::Workers(w) => {
                let c = w.concurrency as f64;
                add(Part::Main, "slots", w.workers as f64 * c, Some(c));
            }
            TierKind::External(e) => {
                if let Some(limit) = &e.rate_limit {
                    let per_s = limit.calls as f64 / limit.per.as_secs_f64();
                    add(Part::Main, "quota", per_s, None);
                }
            }
            // Infinite capacity.
            TierKind::Cdn(_) => {}
        }
    }
}

/// Tier `id`'s configuration of kind `$variant`; handles are resolved by
/// kind at build time, so the other arms cannot happen.
macro_rules! config_of {
    ($cfg:expr, $r:expr, $variant:ident) => {
        match &$cfg.tiers[$r.id as usize].kind {
            TierKind::$variant(c) => c,
            _ => unreachable!("validated: a handle names a tier of its kind"),
        }
    };
}

/// The warm hit ratio a cache starts with (configured, or derived from its
/// memory and working set at the start).
fn hit_ratio(c: &crate::tier::CacheConfig) -> f64 {
    match &c.sizing {
        Some(s) => s.hit_ratio(c.shards, c.skew, SimDuration::ZERO),
        None => c.hit_ratio,
    }
}

/// The share of a regional read that crosses to the primary's region: a
/// replica-only tier with no replica sends every read there.
fn remote_share(d: &crate::tier::DatabaseConfig, write: bool) -> f64 {
    if write || d.replicas == 0 {
        1.0
    } else {
        d.read_primary_fraction
    }
}

/// Where op `pc` may go next, with the probabilities.
fn successors(cfg: &PlatformConfig, program: &[Op], pc: usize) -> Vec<(usize, f64)> {
    let next = pc + 1;
    match &program[pc] {
        Op::End => Vec::new(),
        Op::Jump { target } => vec![(*target as usize, 1.0)],
        Op::Branch {
            cumulative,
            targets,
        } => {
            // The last cumulative is infinite (the compiler's guard against
            // rounding); the probabilities sum to 1.
            let mut before = 0.0;
            targets
                .iter()
                .zip(cumulative)
                .map(|(&t, &c)| {
                    let c = c.min(1.0);
                    let p = (c - before).max(0.0);
                    before = c;
                    (t as usize, p)
                })
                .collect()
        }
        // Healthy regions: users go to the nearest.
        Op::Route { choices } => vec![(choices[0].1 as usize, 1.0)],
        Op::Cdn { tier } => {
            let h = config_of!(cfg, tier, Cdn).hit_ratio;
            vec![(program.len() - 1, h), (next, 1.0 - h)]
        }
        Op::CacheGet { tier, on_hit } => {
            let h = hit_ratio(config_of!(cfg, tier, Cache));
            vec![(*on_hit as usize, h), (next, 1.0 - h)]
        }
        // An error answer fails the request: it goes no further.
        Op::Call { tier } => vec![(next, 1.0 - config_of!(cfg, tier, External).error_ratio)],
        Op::RemoteDb { local, query, .. } => {
            let d = config_of!(cfg, local, Database);
            let p = remote_share(d, d.queries[*query as usize].write);
            vec![(next, p), (pc + 3, 1.0 - p)]
        }
        _ => vec![(next, 1.0)],
    }
}

/// Expected visits to each op per request (op 0 once). Routes compile to
/// forward jumps only, which one pass in order solves; a program with a
/// jump backwards is solved as the linear system `v = e₀ + Pᵀv` (a loop a
/// request cannot leave gives infinite visits).
fn visits(cfg: &PlatformConfig, program: &[Op]) -> Vec<f64> {
    let n = program.len();
    let succ: Vec<Vec<(usize, f64)>> = (0..n).map(|pc| successors(cfg, program, pc)).collect();
    let forward = succ
        .iter()
        .enumerate()
        .all(|(pc, s)| s.iter().all(|&(t, _)| t > pc));
    if forward {
        let mut v = vec![0.0; n];
        v[0] = 1.0;
        for pc in 0..n {
            let x = v[pc];
            for &(t, p) in &succ[pc] {
                v[t] += x * p;
            }
        }
        return v;
    }
    // (I − Pᵀ) v = e₀, by Gaussian elimination with partial pivoting.
    let mut a = vec![vec![0.0; n + 1]; n];
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    a[0][n] = 1.0;
    for (pc, s) in succ.iter().enumerate() {
        for &(t, p) in s {
            a[t][pc] -= p;
        }
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("col < n");
        if a[pivot][col].abs() < 1e-12 {
            return vec![f64::INFINITY; n];
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col && row[col] != 0.0 {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    (0..n).map(|i| (a[i][n] / a[i][i]).max(0.0)).collect()
}

/// The API pool a request is on at each op (`None` before it enters one).
fn api_of(cfg: &PlatformConfig, program: &[Op]) -> Vec<Option<ApiRef>> {
    let n = program.len();
    let mut on: Vec<Option<Option<ApiRef>>> = vec![None; n];
    on[0] = Some(None);
    let mut todo = vec![0];
    while let Some(pc) = todo.pop() {
        let here = on[pc].expect("queued once known");
        let after = match &program[pc] {
            Op::ApiEnter { tier } => Some(*tier),
            _ => here,
        };
        for (t, _) in successors(cfg, program, pc) {
            if t < n && on[t].is_none() {
                on[t] = Some(after);
                todo.push(t);
            }
        }
    }
    on.into_iter().map(Option::flatten).collect()
}

/// Charges op `pc`, visited `v` times per request on API pool `api`, to the
/// resources it uses: `f(resource, visits, seconds)` per request.
fn charge(
    cfg: &PlatformConfig,
    op: &Op,
    v: f64,
    api: Option<ApiRef>,
    index: &HashMap<(u16, Part), usize>,
    f: &mut impl FnMut(usize, f64, f64),
) {
    let mut at = |id: u16, part: Part, visits: f64, seconds: f64| {
        if let Some(&i) = index.get(&(id, part)) {
            f(i, visits, seconds);
        }
    };
    // Time the request spends at the op when nothing waits: what it holds
    // its admission slot for meanwhile.
    let stay = match op {
        Op::ApiEnter { tier } => {
            at(tier.id, Part::Held, v, 0.0);
            0.0
        }
        Op::Station { tier, demand } => {
            let s = config_of!(cfg, tier, Station);
            let d = demand.as_ref().unwrap_or(&s.service).mean();
            at(tier.id, Part::Main, v, v * d);
            d
        }
        Op::Call { tier } => {
            at(tier.id, Part::Main, v, v);
            config_of!(cfg, tier, External).latency.mean()
        }
        Op::Cpu { demand } => {
            // A burst runs at the tier's vCPU speed (credits aside).
            let d = demand.mean() / api.map_or(1.0, |a| config_of!(cfg, a, Api).vcpu_speed);
            if let Some(a) = api {
                at(a.id, Part::Main, v, v * d);
            }
            d
        }
        Op::CacheGet { tier, .. } => {
            let c = config_of!(cfg, tier, Cache);
            let d = c.get_service.mean();
            at(tier.id, Part::Main, v, v * d);
            d + c.rtt.as_secs_f64()
        }
        Op::CacheSet { tier } => {
            let c = config_of!(cfg, tier, Cache);
            let d = c.set_service.mean();
            at(tier.id, Part::Main, v, v * d);
            d + c.rtt.as_secs_f64()
        }
        Op::Db { tier, query } => {
            let d = config_of!(cfg, tier, Database);
            let q = &d.queries[*query as usize];
            let (cpu, io) = (q.cpu.mean(), q.io.as_ref().map_or(0.0, |x| x.mean()));
            let primary = if q.write || d.replicas == 0 {
                1.0
            } else {
                d.read_primary_fraction
            };
            let (vp, vr) = (v * primary, v * (1.0 - primary));
            at(tier.id, Part::Main, vp, vp * cpu);
            at(tier.id, Part::Held, vp, vp * (cpu + io));
            if vr > 0.0 {
                at(tier.id, Part::ReplicaCores, vr, vr * cpu);
                at(tier.id, Part::ReplicaConns, vr, vr * (cpu + io));
            }
            cpu + io + d.rtt.as_secs_f64()
        }
        Op::RemoteDb { local, query, hop } => {
            // The crossing's query is the next op, charged there.
            let d = config_of!(cfg, local, Database);
            let q = &d.queries[*query as usize];
            let (cpu, io) = (q.cpu.mean(), q.io.as_ref().map_or(0.0, |x| x.mean()));
            let remote = remote_share(d, q.write);
            let vl = v * (1.0 - remote);
            if vl > 0.0 {
                at(local.id, Part::ReplicaCores, vl, vl * cpu);
                at(local.id, Part::ReplicaConns, vl, vl * (cpu + io));
            }
            (1.0 - remote) * (cpu + io + d.rtt.as_secs_f64()) + remote * hop.as_secs_f64()
        }
        Op::Enqueue { tier, job, .. } => {
            let j = &config_of!(cfg, tier, Workers).jobs[*job as usize];
            // Runs per job: the first, then a retry after each failed run
            // while retries are left.
            let p = j.failure_probability;
            let runs: f64 = (0..=j.retries as i32).map(|k| p.powi(k)).sum();
            at(tier.id, Part::Main, v, v * runs * j.service.mean());
            0.0
        }
        Op::Delay { demand, .. } => demand.mean(),
        Op::CrossToPrimary { rtt, .. } => rtt.as_secs_f64(),
        Op::Cdn { .. } | Op::Route { .. } | Op::Branch { .. } | Op::Jump { .. } | Op::End => 0.0,
    };
    if let Some(a) = api
        && stay > 0.0
    {
        at(a.id, Part::Held, 0.0, v * stay);
    }
}

/// The phases of the run: the profile's, if every class has the same one;
/// else cut wherever any class's profile changes shape.
fn phases(cfg: &PlatformConfig) -> Vec<Phase> {
    let horizon = cfg.horizon;
    let Some(first) = cfg.classes.first() else {
        return RateProfile::Constant.phases(horizon);
    };
    let profile = &first.arrivals.profile;
    if cfg.classes.iter().all(|c| c.arrivals.profile == *profile) {
        return profile.phases(horizon);
    }
    let mut cuts: Vec<SimDuration> = cfg
        .classes
        .iter()
        .flat_map(|c| c.arrivals.profile.phases(horizon))
        .map(|p| p.from)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    if cuts.len() == 1 {
        return RateProfile::Constant.phases(horizon);
    }
    cuts.iter()
        .enumerate()
        .map(|(i, &from)| {
            let to = cuts.get(i + 1).copied().unwrap_or(horizon);
            Phase {
                name: format!("{from} to {to}"),
                from,
                to,
            }
        })
        .collect()
}

/// Per class: its mean multiplier in each phase, and over the run.
fn multipliers(cfg: &PlatformConfig, phases: &[Phase]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let horizon = cfg.horizon;
    let in_phase: Vec<Vec<f64>> = cfg
        .classes
        .iter()
        .map(|c| {
            let p = &c.arrivals.profile;
            if phases.len() == 1 {
                return vec![p.mean_multiplier(horizon)];
            }
            phases
                .iter()
                .map(|ph| {
                    let len = (ph.to - ph.from).as_secs_f64();
                    if len > 0.0 {
                        p.integral(ph.from, ph.to) / len
                    } else {
                        p.multiplier(ph.from)
                    }
                })
                .collect()
        })
        .collect();
    let run_s = horizon.as_secs_f64();
    let mean = in_phase
        .iter()
        .map(|m| {
            if m.len() == 1 || run_s <= 0.0 {
                return m[0];
            }
            let weighted: f64 = m
                .iter()
                .zip(phases)
                .map(|(x, ph)| x * (ph.to - ph.from).as_secs_f64())
                .sum();
            weighted / run_s
        })
        .collect();
    (in_phase, mean)
}

/// The largest offered loads, found at every class profile's corners and
/// on a grid.
struct Peaks {
    /// The total arrival rate's, and when.
    rate: (f64, SimDuration),
    /// Per resource: its offered load's, and when.
    offered: Vec<(f64, SimDuration)>,
    /// Per resource, per phase.
    in_phase: Vec<Vec<f64>>,
}

fn peaks(cfg: &PlatformConfig, phases: &[Phase], slots: &[Slot]) -> Peaks {
    let (horizon, classes) = (cfg.horizon, &cfg.classes);
    let mut times: Vec<SimDuration> = classes
        .iter()
        .flat_map(|c| c.arrivals.profile.corners(horizon))
        .chain(grid(horizon, 1000))
        .chain(phases.iter().map(|p| p.from))
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut p = Peaks {
        rate: (0.0, SimDuration::ZERO),
        offered: vec![(0.0, SimDuration::ZERO); slots.len()],
        in_phase: vec![vec![0.0; phases.len()]; slots.len()],
    };
    let mut rates = vec![0.0; classes.len()];
    for &t in &times {
        for (r, c) in rates.iter_mut().zip(classes) {
            *r = c.arrivals.rate_per_s * c.arrivals.profile.multiplier(t);
        }
        let total: f64 = rates.iter().sum();
        if total > p.rate.0 {
            p.rate = (total, t);
        }
        for (k, s) in slots.iter().enumerate() {
            let offered: f64 = s.per_class.iter().zip(&rates).map(|(d, r)| r * d.1).sum();
            if offered > p.offered[k].0 {
                p.offered[k] = (offered, t);
            }
            for (i, ph) in phases.iter().enumerate() {
                if ph.from <= t && t <= ph.to {
                    p.in_phase[k][i] = p.in_phase[k][i].max(offered);
                }
            }
        }
    }
    p
}

/// Offered loads over time from each class's demands.
fn load(cfg: &PlatformConfig, slots: Vec<Slot>) -> CapacityCheck {
    let phases = phases(cfg);
    let classes = &cfg.classes;
    let (in_phase, mean) = multipliers(cfg, &phases);
    let peaks = peaks(cfg, &phases, &slots);
    let mut resources: Vec<Resource> = Vec::with_capacity(slots.len());
    for (k, s) in slots.into_iter().enumerate() {
        let mut r = s.resource;
        let weighted = |m: &dyn Fn(usize) -> f64| -> f64 {
            s.per_class
                .iter()
                .enumerate()
                .map(|(c, d)| classes[c].arrivals.rate_per_s * m(c) * d.1)
                .sum()
        };
        r.offered_mean = weighted(&|c| mean[c]);
        r.offered_phases = (0..phases.len())
            .map(|i| (weighted(&|c| in_phase[c][i]), peaks.in_phase[k][i]))
            .collect();
        (r.offered_peak, r.peak_at) = peaks.offered[k];
        r.terms = s
            .per_class
            .iter()
            .enumerate()
            .filter(|(_, d)| d.1 > 0.0)
            .map(|(c, &(visits, demand))| Term {
                class: classes[c].name.clone(),
                rate_at_peak: classes[c].arrivals.rate_per_s
                    * classes[c].arrivals.profile.multiplier(r.peak_at),
                visits,
                demand_s: if visits > 0.0 { demand / visits } else { 0.0 },
            })
            .collect();
        resources.push(r);
    }
    let bottleneck = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.offered_peak > 0.0)
        .fold(None::<(usize, f64)>, |best, (i, r)| {
            let u = r.utilization_peak_reachable();
            match best {
                Some((_, b)) if b >= u => best,
                _ => Some((i, u)),
            }
        })
        .map(|(i, _)| i);
    let rate = |m: &dyn Fn(usize) -> f64| -> f64 {
        (0..classes.len())
            .map(|c| classes[c].arrivals.rate_per_s * m(c))
            .sum()
    };
    CapacityCheck {
        closed: Vec::new(),
        phase_rate_per_s: (0..phases.len())
            .map(|i| rate(&|c| in_phase[c][i]))
            .collect(),
        mean_rate_per_s: rate(&|c| mean[c]),
        phases,
        peak_rate_per_s: peaks.rate.0,
        peak_at: peaks.rate.1,
        resources,
        bottleneck,
    }
}

//! `[geo]` and `[regions.*]`: where users are, where the tiers run, how far
//! apart the regions are.
//!
//! ```text
//!   [geo]            primary, regional tiers, rtt between regions, health checks
//!   [regions.NAME]   share of users, utc_offset, user_rtt (+ user_rtt_to),
//!                    profile (multiplies the classes'), tiers.T (fields that differ)
//! ```
//!
//! Expansion: each regional tier `T` becomes `T@NAME` per region (a
//! database outside the primary region keeps only its replicas); each class
//! `C` becomes `C@NAME` per region of users, its rate times the region's
//! share, its program compiled by [`super::route::compile_regional`].

use capsim_models::{RateProfile, RegionConfig, RegionsConfig, TierConfig, TierKind, Typed};
use indexmap::IndexMap;
use sim_engine::{Dist, SimDuration};

use super::profile::{self, ProfileContext};
use super::tiers::Checks;
use super::values;
use crate::error::FieldPath;
use crate::raw::{Duration, RawGeo, RawRegion};

/// The validated geography, before the tiers are expanded.
pub struct Geo {
    pub names: Vec<String>,
    /// Runs the regional tiers (else its users are served elsewhere).
    pub serves: Vec<bool>,
    pub shares: Vec<f64>,
    /// Per region: `multiplier` of its users' rate (1 if not given).
    pub multipliers: Vec<f64>,
    pub offsets_s: Vec<i64>,
    pub primary: u16,
    pub rtt: Vec<Vec<SimDuration>>,
    pub user_rtt: Vec<Vec<SimDuration>>,
    pub health_check: SimDuration,
    pub failover_backlog: f64,
    /// Tiers (as named in `[tiers]`) with a copy in every region.
    pub regional: Vec<String>,
    /// Per region: its users' profile (multiplies each class's).
    pub profiles: Vec<Option<toml::Value>>,
    /// Per region: tier fields that differ there.
    pub overrides: Vec<IndexMap<String, toml::Table>>,
}

impl Geo {
    pub fn index(&self, name: &str) -> Option<u16> {
        self.names.iter().position(|n| n == name).map(|i| i as u16)
    }

    pub fn is_regional(&self, tier: &str) -> bool {
        self.regional.iter().any(|t| t == tier)
    }

    /// The users' profile of region `r` (built per class: a replayed trace
    /// of absolute rates would need the class's rate; regions take
    /// multipliers).
    pub fn profile(
        &self,
        r: usize,
        root: &FieldPath,
        ctx: &ProfileContext<'_>,
    ) -> Result<Option<RateProfile>, Vec<super::Problem>> {
        match &self.profiles[r] {
            Some(v) => profile::build_profile(
                v.clone(),
                &root.key("regions").key(&self.names[r]).key("profile"),
                ctx,
            )
            .map(Some),
            None => Ok(None),
        }
    }
}

/// Checks `[geo]` and `[regions.*]` against the tiers (`tiers`: every tier
/// name in `[tiers]`, `api_tiers`: those of kind api).
pub fn parse(
    geo: Option<RawGeo>,
    regions: IndexMap<String, RawRegion>,
    root: &FieldPath,
    tiers: &[String],
    api_tiers: &[String],
    c: &mut Checks,
) -> Option<Geo> {
    let gp = root.key("geo");
    let rp = root.key("regions");
    let geo = geo_with_regions(geo, regions.is_empty(), &gp, &rp, c)?;
    let before = c.0.len();
    let names: Vec<String> = regions.keys().cloned().collect();
    if names.len() > 64 {
        c.push(rp.clone(), "at most 64 regions");
    }
    let users = users_of(regions, &names, &geo.regional, tiers, &rp, c);
    let total: f64 = users.shares.iter().sum();
    if c.0.len() == before && (total - 1.0).abs() > 1e-6 {
        c.push(
            rp.clone(),
            format!("the regions' shares of the users must sum to 1 (they sum to {total})"),
        );
    }
    let primary = primary(&geo.primary, &names, &users.serves, &gp, c);
    check_regional(&geo.regional, tiers, api_tiers, &gp, c);
    let rtt = region_rtt(&geo.rtt, &names, &gp, c);
    let health_check = geo
        .health_check
        .map_or(SimDuration::from_secs(10), Duration::get);
    if health_check.is_zero() {
        c.push(gp.key("health_check"), "must be longer than zero");
    }
    let failover_backlog = geo.failover_backlog.unwrap_or(0.5);
    if !(failover_backlog.is_finite() && failover_backlog > 0.0 && failover_backlog <= 1.0) {
        c.push(
            gp.key("failover_backlog"),
            format!("a fraction of the API backlog's room, above 0 and at most 1 (got {failover_backlog})"),
        );
    }
    if c.0.len() != before {
        return None;
    }
    let n = names.len();
    let rtt: Vec<Vec<SimDuration>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| rtt[i][j].unwrap_or(SimDuration::ZERO))
                .collect()
        })
        .collect();
    let user_rtt = users.rtt(&rtt);
    Some(Geo {
        names,
        serves: users.serves,
        shares: users.shares,
        multipliers: users.multipliers,
        offsets_s: users.offsets_s,
        primary,
        rtt,
        user_rtt,
        health_check,
        failover_backlog,
        regional: geo.regional,
        profiles: users.profiles,
        overrides: users.overrides,
    })
}

/// `[geo]`, if regions are written: both `[geo]` and `[regions.*]`, or
/// neither (reported).
fn geo_with_regions(
    geo: Option<RawGeo>,
    no_regions: bool,
    gp: &FieldPath,
    rp: &FieldPath,
    c: &mut Checks,
) -> Option<RawGeo> {
    match (geo, no_regions) {
        (None, true) => None,
        (Some(_), true) => {
            c.push(
                rp.clone(),
                "`[geo]` needs regions: add a `[regions.NAME]` table per region (share, user_rtt)",
            );
            None
        }
        (None, false) => {
            c.push(
                gp.clone(),
                "regions need a `[geo]` table: `primary` (the database primary's region) and `regional` (the tiers each region runs)",
            );
            None
        }
        (Some(g), false) => Some(g),
    }
}

/// Per region (`[regions.*]`, in order): its users and what differs there.
struct Users {
    shares: Vec<f64>,
    multipliers: Vec<f64>,
    serves: Vec<bool>,
    offsets_s: Vec<i64>,
    /// The round trip from the users to their own region's tiers.
    own_rtt: Vec<SimDuration>,
    /// `[from][to]`: the round trips given by `user_rtt_to`.
    to_rtt: Vec<Vec<Option<SimDuration>>>,
    profiles: Vec<Option<toml::Value>>,
    overrides: Vec<IndexMap<String, toml::Table>>,
}

impl Users {
    /// `[from][to]`: the round trip from the users of a region to the tiers
    /// of another, `user_rtt_to` if given, else through their own region.
    fn rtt(&self, rtt: &[Vec<SimDuration>]) -> Vec<Vec<SimDuration>> {
        let n = self.own_rtt.len();
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| match (i == j, self.to_rtt[i][j]) {
                        (true, _) => self.own_rtt[i],
                        (false, Some(d)) => d,
                        (false, None) => self.own_rtt[i] + rtt[i][j],
                    })
                    .collect()
            })
            .collect()
    }
}

/// Checks each `[regions.NAME]` (`regional`: the tiers named in
/// `geo.regional`, which a region may change).
fn users_of(
    regions: IndexMap<String, RawRegion>,
    names: &[String],
    regional: &[String],
    tiers: &[String],
    rp: &FieldPath,
    c: &mut Checks,
) -> Users {
    let n = names.len();
    let mut u = Users {
        shares: Vec::with_capacity(n),
        multipliers: Vec::with_capacity(n),
        serves: Vec::with_capacity(n),
        offsets_s: Vec::with_capacity(n),
        own_rtt: Vec::with_capacity(n),
        to_rtt: vec![vec![None; n]; n],
        profiles: Vec::with_capacity(n),
        overrides: Vec::with_capacity(n),
    };
    for (i, (name, r)) in regions.into_iter().enumerate() {
        let p = rp.key(&name);
        super::check_name("region", &name, &p, c);
        if !(r.share.is_finite() && r.share > 0.0 && r.share <= 1.0) {
            c.push(
                p.key("share"),
                format!(
                    "a share of the users is above 0 and at most 1 (got {})",
                    r.share
                ),
            );
        }
        u.shares.push(r.share);
        u.multipliers.push(
            c.take(values::traffic_multiplier(
                r.multiplier,
                &p.key("multiplier"),
            ))
            .unwrap_or(1.0),
        );
        u.serves.push(r.serves.unwrap_or(true));
        u.offsets_s.push(match &r.utc_offset {
            Some(v) => c
                .take(profile::utc_offset_s(v, &p.key("utc_offset")))
                .unwrap_or(0),
            None => 0,
        });
        u.own_rtt.push(*r.user_rtt);
        for (other, d) in r.user_rtt_to {
            let op = p.key("user_rtt_to").key(&other);
            match names.iter().position(|x| *x == other) {
                Some(j) if j == i => {
                    c.push(op, "the round trip to the users' own region is `user_rtt`")
                }
                Some(j) => u.to_rtt[i][j] = Some(*d),
                None => c.push(
                    op,
                    format!(
                        "no region named \"{other}\" (regions: {})",
                        names.join(", ")
                    ),
                ),
            }
        }
        check_overrides(&r.tiers, regional, tiers, &p, c);
        u.profiles.push(r.profile);
        u.overrides.push(r.tiers);
    }
    u
}

/// A region's `tiers.T` tables: each names a regional tier and leaves its
/// kind alone.
fn check_overrides(
    overrides: &IndexMap<String, toml::Table>,
    regional: &[String],
    tiers: &[String],
    p: &FieldPath,
    c: &mut Checks,
) {
    for (tier, table) in overrides {
        let tp = p.key("tiers").key(tier);
        if !regional.contains(tier) {
            c.push(
                tp.clone(),
                if tiers.contains(tier) {
                    format!("\"{tier}\" is not regional (add it to `geo.regional` to run a copy per region)")
                } else {
                    format!("no tier named \"{tier}\" (tiers: {})", tiers.join(", "))
                },
            );
        }
        if table.contains_key("kind") {
            c.push(
                tp.key("kind"),
                "a region changes a tier's fields, not its kind",
            );
        }
    }
}

/// `geo.primary`: a region that serves (0 when reported).
fn primary(name: &str, names: &[String], serves: &[bool], gp: &FieldPath, c: &mut Checks) -> u16 {
    match names.iter().position(|x| x == name) {
        Some(i) if !serves[i] => {
            c.push(
                gp.key("primary"),
                format!("the primary's region \"{name}\" must serve (it has `serves = false`)"),
            );
            i as u16
        }
        Some(i) => i as u16,
        None => {
            c.push(
                gp.key("primary"),
                format!("no region named \"{name}\" (regions: {})", names.join(", ")),
            );
            0
        }
    }
}

/// `geo.regional`: tiers that exist, each once, every API tier among them
/// (users are routed to a region's API).
fn check_regional(
    regional: &[String],
    tiers: &[String],
    api_tiers: &[String],
    gp: &FieldPath,
    c: &mut Checks,
) {
    if regional.is_empty() {
        c.push(
            gp.key("regional"),
            "name the tiers that run in every region, e.g. [\"api\", \"redis\", \"pg\"]",
        );
    }
    for (i, t) in regional.iter().enumerate() {
        if !tiers.contains(t) {
            c.push(
                gp.key("regional").index(i),
                format!("no tier named \"{t}\" (tiers: {})", tiers.join(", ")),
            );
        } else if regional[..i].contains(t) {
            c.push(
                gp.key("regional").index(i),
                format!("\"{t}\" is listed twice"),
            );
        }
    }
    for a in api_tiers {
        if !regional.contains(a) {
            c.push(
                gp.key("regional"),
                format!("API tier \"{a}\" must be regional: users are routed to a region's API"),
            );
        }
    }
}

/// `geo.rtt`: the round trip between each pair of regions, given once
/// (either way round) for every pair.
fn region_rtt(
    given: &IndexMap<String, IndexMap<String, Duration>>,
    names: &[String],
    gp: &FieldPath,
    c: &mut Checks,
) -> Vec<Vec<Option<SimDuration>>> {
    let n = names.len();
    let index = |x: &str| names.iter().position(|y| y == x);
    let mut rtt: Vec<Vec<Option<SimDuration>>> = vec![vec![None; n]; n];
    for (a, row) in given {
        let Some(i) = index(a) else {
            c.push(
                gp.key("rtt").key(a),
                format!("no region named \"{a}\" (regions: {})", names.join(", ")),
            );
            continue;
        };
        for (b, d) in row {
            let p = gp.key("rtt").key(a).key(b);
            match index(b) {
                None => c.push(
                    p,
                    format!("no region named \"{b}\" (regions: {})", names.join(", ")),
                ),
                Some(j) if j == i => c.push(p, "a region's own round trip is its tiers' `rtt`"),
                Some(j) if rtt[i][j].is_some() => c.push(
                    p,
                    format!("the round trip between {a} and {b} is given twice"),
                ),
                Some(j) => {
                    rtt[i][j] = Some(d.get());
                    rtt[j][i] = Some(d.get());
                }
            }
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            if rtt[i][j].is_none() {
                c.push(
                    gp.key("rtt"),
                    format!(
                        "no round trip between {} and {}: add `{}.{} = \"80ms\"` (say)",
                        names[i], names[j], names[i], names[j]
                    ),
                );
            }
        }
    }
    rtt
}

/// A table with `over`'s keys replacing `base`'s, tables merged key by key.
pub fn merge(base: &toml::Table, over: &toml::Table) -> toml::Table {
    let mut out = base.clone();
    for (k, v) in over {
        match (out.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                let merged = merge(b, o);
                *b = merged;
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// The tiers with a copy of each regional tier per region (tier-major:
/// `api@a`, `api@b`, `redis@a`, ...), their default CPU bursts, and the
/// model's view of the regions. `build_copy(name, region)` builds a tier
/// whose fields differ in a region (from its merged table).
pub fn expand(
    geo: &Geo,
    tiers: Vec<TierConfig>,
    default_cpu: Vec<Option<Dist>>,
    build_copy: impl FnMut(&str, usize) -> Option<(TierConfig, Option<Dist>)>,
) -> (Vec<TierConfig>, Vec<Option<Dist>>, RegionsConfig) {
    let (out, cpus) = copies(geo, tiers, default_cpu, build_copy);
    let regions = regions_config(geo, &out);
    (out, cpus, regions)
}

/// The tiers, each regional one as its copies in the regions that serve
/// (a copy that fails to build is left out: its problems are reported).
fn copies(
    geo: &Geo,
    tiers: Vec<TierConfig>,
    default_cpu: Vec<Option<Dist>>,
    mut build_copy: impl FnMut(&str, usize) -> Option<(TierConfig, Option<Dist>)>,
) -> (Vec<TierConfig>, Vec<Option<Dist>>) {
    let mut out = Vec::new();
    let mut cpus = Vec::new();
    for (t, cpu) in tiers.into_iter().zip(default_cpu) {
        if !geo.is_regional(&t.name) {
            out.push(TierConfig {
                region: Some(geo.primary),
                ..t
            });
            cpus.push(cpu);
            continue;
        }
        for (r, name) in geo.names.iter().enumerate() {
            if !geo.serves[r] {
                continue;
            }
            let (mut copy, copy_cpu) = if geo.overrides[r].contains_key(&t.name) {
                match build_copy(&t.name, r) {
                    Some(x) => x,
                    None => continue, // its problems are reported
                }
            } else {
                (t.clone(), cpu.clone())
            };
            copy.name = format!("{}@{name}", t.name);
            copy.region = Some(r as u16);
            if let TierKind::Database(d) = &mut copy.kind {
                d.local_primary = r == geo.primary as usize;
                // A replica set: priced (in reports) as its replicas.
                if !d.local_primary
                    && let Some(b) = &mut copy.billing
                {
                    if let Some(l) = b.replica_label.clone() {
                        b.label = l;
                    }
                    if let Some(p) = b.replica_price_per_hour {
                        b.price_per_hour = p;
                    }
                }
            }
            out.push(copy);
            cpus.push(copy_cpu);
        }
    }
    (out, cpus)
}

/// The model's view of the regions: who enters where, and which database
/// copies replicate from the primary region's, how far away.
fn regions_config(geo: &Geo, out: &[TierConfig]) -> RegionsConfig {
    let typed = capsim_models::typed(out);
    let database = |name: &str| {
        out.iter().zip(&typed).find_map(|(t, ty)| match ty {
            Typed::Database(r, _) if t.name == name => Some(*r),
            _ => None,
        })
    };
    let entry_tiers = geo
        .names
        .iter()
        .map(|r| {
            out.iter()
                .zip(&typed)
                .filter_map(|(t, ty)| match ty {
                    Typed::Api(a, _) if t.name.ends_with(&format!("@{r}")) => Some(*a),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let mut replication = Vec::new();
    let primary_name = &geo.names[geo.primary as usize];
    for (t, ty) in out.iter().zip(&typed) {
        if let (Typed::Database(r, _), Some((base, region))) = (ty, t.name.split_once('@'))
            && region != primary_name
            && let (Some(p), Some(ri)) = (
                database(&format!("{base}@{primary_name}")),
                geo.index(region),
            )
        {
            let one_way =
                SimDuration::from_nanos(geo.rtt[ri as usize][geo.primary as usize].as_nanos() / 2);
            replication.push((p, *r, one_way));
        }
    }
    RegionsConfig {
        regions: geo
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| RegionConfig {
                name: n.clone(),
                share: geo.shares[i],
                utc_offset_s: geo.offsets_s[i],
            })
            .collect(),
        primary: geo.primary,
        rtt: geo.rtt.clone(),
        user_rtt: geo.user_rtt.clone(),
        health_check: geo.health_check,
        failover_backlog: geo.failover_backlog,
        entry_tiers,
        replication,
    }
}

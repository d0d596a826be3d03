//! `[tiers.*]` as a whole: each tier's common keys (prices, scaling) and its
//! kind's own, then, with regions, a copy of each regional tier per region.
//!
//! ```text
//!   table ──split──► common keys ──cost.rs──► billing, hardware
//!           └──────► kind keys ───tiers.rs──► TierKind ──scaling.rs──► scaling
//! ```

use capsim_models::{RegionsConfig, TierConfig};
use indexmap::IndexMap;
use sim_engine::{Dist, SimDuration};

use super::regions::{self, Geo};
use super::tiers::{self, Checks};
use super::values::{Problem, decode, split_tag};
use super::{check_name, cost, scaling};
use crate::catalogue::Catalogue;
use crate::error::FieldPath;
use crate::raw::RawTierCommon;
use crate::raw::TIER_KINDS;

/// The tiers with a regional copy each, their default CPU bursts and the
/// model's view of the regions.
pub type Expanded = (Vec<TierConfig>, Vec<Option<Dist>>, RegionsConfig);

/// The tiers' names as written, which regions are checked against.
pub struct TierNames {
    pub all: Vec<String>,
    /// Those of kind api.
    pub api: Vec<String>,
}

impl TierNames {
    /// The names, after checking that there is at least one tier and not
    /// too many.
    pub fn of(raw: &IndexMap<String, toml::Table>, tp: &FieldPath, c: &mut Checks) -> Self {
        if raw.is_empty() {
            c.push(tp.clone(), "define at least one tier");
        }
        if raw.len() > u16::MAX as usize {
            c.push(tp.clone(), "too many tiers");
        }
        TierNames {
            all: raw.keys().cloned().collect(),
            api: raw
                .iter()
                .filter(|(_, t)| t.get("kind").and_then(|k| k.as_str()) == Some("api"))
                .map(|(n, _)| n.clone())
                .collect(),
        }
    }
}

/// What every tier is built with.
pub struct TierBuilder<'a> {
    pub cat: &'a Catalogue,
    pub load_balancer_per_hour: f64,
    pub horizon: SimDuration,
}

impl TierBuilder<'_> {
    /// One tier from its table, with the default CPU burst of its api steps.
    pub fn build(
        &self,
        name: &str,
        mut table: toml::Table,
        path: &FieldPath,
    ) -> Result<(TierConfig, Option<Dist>), Vec<Problem>> {
        let cpu = tiers::api_default_cpu(&table, path);
        // Keys every kind takes (prices, scaling) first, then the kind's own.
        let mut common = toml::Table::new();
        for key in RawTierCommon::KEYS {
            if let Some(v) = table.remove(*key) {
                common.insert(key.to_string(), v);
            }
        }
        let common: Result<RawTierCommon, Problem> = decode(common, path);
        let (kind_name, rest, common) = match (split_tag(table, "kind", TIER_KINDS, path), common) {
            (Ok((k, r)), Ok(common)) => (k, r, common),
            (Err(p), Ok(_)) | (Ok(_), Err(p)) => return Err(vec![p]),
            (Err(a), Err(b)) => return Err(vec![b, a]),
        };
        let mut cc = Checks::default();
        let (hw, billing) = cost::tier_billing(
            &kind_name,
            &common,
            path,
            self.cat,
            self.load_balancer_per_hour,
            &mut cc,
        );
        let (kind, transfer) = match tiers::build_tier(&kind_name, rest, path, &hw) {
            Ok(k) => k,
            Err(mut ps) => {
                ps.extend(cc.0);
                return Err(ps);
            }
        };
        let scaling = common.scaling.and_then(|s| {
            let sp = path.key("scaling");
            scaling::build_scaling(s, &kind, &kind_name, &sp, self.horizon)
                .map_err(|ps| cc.0.extend(ps))
                .ok()
        });
        if !cc.is_empty() {
            return Err(cc.0);
        }
        let tier = TierConfig {
            name: name.to_string(),
            kind,
            scaling,
            billing,
            region: None,
            transfer,
        };
        Ok((tier, cpu))
    }
}

/// The tiers as written, in file order.
pub struct Tiers {
    pub configs: Vec<TierConfig>,
    pub default_cpu: Vec<Option<Dist>>,
    /// Tiers that failed to build: what names them is not checked again.
    pub broken: Vec<String>,
    /// The tables of tiers whose fields differ in a region.
    pub regional_tables: Vec<(String, toml::Table)>,
}

pub fn build_tiers(
    raw: IndexMap<String, toml::Table>,
    tp: &FieldPath,
    geo: Option<&Geo>,
    builder: &TierBuilder<'_>,
    c: &mut Checks,
) -> Tiers {
    let mut out = Tiers {
        configs: Vec::with_capacity(raw.len()),
        default_cpu: Vec::with_capacity(raw.len()),
        broken: Vec::new(),
        regional_tables: Vec::new(),
    };
    if raw.len() > super::limits::ENTRIES {
        c.push(
            tp.clone(),
            format!(
                "at most {} tiers (got {})",
                super::limits::ENTRIES,
                raw.len()
            ),
        );
    }
    for (name, table) in raw {
        let path = tp.key(&name);
        check_name("tier", &name, &path, c);
        if let Some(g) = geo
            && g.overrides.iter().any(|o| o.contains_key(&name))
        {
            out.regional_tables.push((name.clone(), table.clone()));
        }
        match builder.build(&name, table, &path) {
            Ok((t, cpu)) => {
                out.configs.push(t);
                out.default_cpu.push(cpu);
            }
            Err(ps) => {
                out.broken.push(name);
                c.0.extend(ps);
            }
        }
    }
    out
}

/// With regions and every tier built: a copy of each regional tier per
/// region. `None` if a region's copy failed to build (reported once, not
/// again by every route that uses it).
pub fn expand_regions(
    tiers: &Tiers,
    geo: Option<&Geo>,
    builder: &TierBuilder<'_>,
    root: &FieldPath,
    c: &mut Checks,
) -> Option<Expanded> {
    let mut copy_problems = Vec::new();
    let expanded = geo.filter(|_| tiers.broken.is_empty()).map(|g| {
        regions::expand(
            g,
            tiers.configs.clone(),
            tiers.default_cpu.clone(),
            |name, r| {
                let base = &tiers.regional_tables.iter().find(|(n, _)| n == name)?.1;
                let merged = regions::merge(base, &g.overrides[r][name]);
                let path = root.key("regions").key(&g.names[r]).key("tiers").key(name);
                match builder.build(name, merged, &path) {
                    Ok(x) => Some(x),
                    Err(ps) => {
                        copy_problems.extend(ps);
                        None
                    }
                }
            },
        )
    });
    let expanded = expanded.filter(|_| copy_problems.is_empty());
    c.0.extend(copy_problems);
    expanded
}

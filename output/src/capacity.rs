//! The capacity check (offered load and utilisation bound per resource, by
//! the operational laws) as `summary.json` writes it, as `capsim validate`
//! prints it, and as `report.md` sums it up.

use std::fmt::Write;

use indexmap::IndexMap;
use serde::Serialize;

use capsim_models::laws::{CapacityCheck, Measure, Resource, num};

use crate::table::{Grid, plain};

/// `capacity_check` in `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CapacitySummary {
    pub method: &'static str,
    pub mean_rate_per_s: f64,
    pub peak_rate_per_s: f64,
    pub peak_at_s: f64,
    pub phases: Vec<PhaseSummary>,
    /// The resource with the highest utilisation at the peak against what
    /// it can reach (its `resources` key), or null.
    pub bottleneck: Option<String>,
    /// The traffic factor at which the bottleneck reaches U = 1 at the peak.
    pub saturation_multiplier: Option<f64>,
    /// Keyed `tier` or `tier resource` (an API pool's cores and admission
    /// slots, a database's primary and replica cores and connections).
    pub resources: IndexMap<String, ResourceSummary>,
    /// One per resource offered at least its reachable capacity at the peak.
    pub warnings: Vec<String>,
    /// One per autoscaled resource offered more than its starting capacity
    /// at the peak (but less than its maximum): the units it must reach.
    pub scaling_needed: Vec<String>,
    /// Per closed class (absent without one): the bound on its rate that
    /// the loads above assume.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub closed_classes: IndexMap<String, ClosedSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClosedSummary {
    pub users: f64,
    pub think_s: f64,
    pub demand_s: f64,
    /// `min(users / (think_s + demand_s), capacity)`, requests per second.
    pub max_rate_per_s: f64,
    /// The resource whose capacity sets it, or null (the users' pace).
    pub limited_by: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseSummary {
    pub name: String,
    pub from_s: f64,
    pub to_s: f64,
    pub mean_rate_per_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ResourceSummary {
    pub tier: String,
    pub kind: &'static str,
    /// What serves: `servers`, `cores`, `shards`, `slots`, `quota`, ...
    pub resource: &'static str,
    /// `busy` (server-seconds per second on servers) or `calls` (calls per
    /// second against a quota per second).
    pub measure: &'static str,
    pub servers: f64,
    /// At the autoscaling maximum, where the tier scales.
    pub servers_max: Option<f64>,
    /// The demand leaves out waits for other resources while this one is
    /// held: the offered load is a lower bound.
    pub lower_bound: bool,
    pub offered_mean: f64,
    pub offered_peak: f64,
    pub peak_at_s: f64,
    pub utilization_mean: f64,
    pub utilization_peak: f64,
    /// At the peak against the servers it can reach (the autoscaling
    /// maximum, else what it has).
    pub utilization_peak_reachable: f64,
    /// Per phase, in `phases` order.
    pub phases: Vec<PhaseLoad>,
    /// Per class: its rate at the resource's peak, visits per request and
    /// demand per visit.
    pub classes: IndexMap<String, ClassDemand>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhaseLoad {
    pub offered_mean: f64,
    pub offered_peak: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClassDemand {
    pub rate_at_peak_per_s: f64,
    pub visits: f64,
    pub demand_s: f64,
}

const METHOD: &str = "operational laws: offered = Σ classes rate × profile × visits × demand; \
                      U = offered / servers; no simulation";

fn measure(r: &Resource) -> &'static str {
    match r.measure {
        Measure::Busy => "busy",
        Measure::Calls => "calls",
    }
}

impl CapacitySummary {
    pub fn new(c: &CapacityCheck) -> CapacitySummary {
        let phases = c
            .phases
            .iter()
            .zip(&c.phase_rate_per_s)
            .map(|(p, &rate)| PhaseSummary {
                name: p.name.clone(),
                from_s: p.from.as_secs_f64(),
                to_s: p.to.as_secs_f64(),
                mean_rate_per_s: rate,
            })
            .collect();
        let resources = c
            .resources
            .iter()
            .map(|r| {
                let s = ResourceSummary {
                    tier: r.tier.clone(),
                    kind: r.kind.vocabulary().label,
                    resource: r.what,
                    measure: measure(r),
                    servers: r.servers,
                    servers_max: r.servers_max,
                    lower_bound: r.lower_bound,
                    offered_mean: r.offered_mean,
                    offered_peak: r.offered_peak,
                    peak_at_s: r.peak_at.as_secs_f64(),
                    utilization_mean: r.utilization_mean(),
                    utilization_peak: r.utilization_peak(),
                    utilization_peak_reachable: r.utilization_peak_reachable(),
                    phases: r
                        .offered_phases
                        .iter()
                        .map(|&(offered_mean, offered_peak)| PhaseLoad {
                            offered_mean,
                            offered_peak,
                        })
                        .collect(),
                    classes: r
                        .terms
                        .iter()
                        .map(|t| {
                            let d = ClassDemand {
                                rate_at_peak_per_s: t.rate_at_peak,
                                visits: t.visits,
                                demand_s: t.demand_s,
                            };
                            (t.class.clone(), d)
                        })
                        .collect(),
                };
                (r.label(), s)
            })
            .collect();
        CapacitySummary {
            method: METHOD,
            mean_rate_per_s: c.mean_rate_per_s,
            peak_rate_per_s: c.peak_rate_per_s,
            peak_at_s: c.peak_at.as_secs_f64(),
            phases,
            bottleneck: c.bottleneck().map(Resource::label),
            saturation_multiplier: c.saturation_multiplier(),
            resources,
            warnings: c.warnings(),
            scaling_needed: c.notes(),
            closed_classes: c
                .closed
                .iter()
                .map(|b| {
                    let s = ClosedSummary {
                        users: b.users,
                        think_s: b.think_s,
                        demand_s: b.demand_s,
                        max_rate_per_s: b.rate_per_s,
                        limited_by: b.limited_by.clone(),
                    };
                    (b.class.clone(), s)
                })
                .collect(),
        }
    }
}

fn pct(u: f64) -> String {
    if u.is_infinite() {
        "∞".into()
    } else {
        format!("{:.1}", u * 100.0)
    }
}

fn offered(r: &Resource, x: f64) -> String {
    let bound = if r.lower_bound { "≥ " } else { "" };
    match r.measure {
        Measure::Busy => format!("{bound}{}", num(x)),
        Measure::Calls => format!("{}/s", num(x)),
    }
}

fn capacity(r: &Resource) -> String {
    let n = |x: f64| match r.measure {
        Measure::Busy => num(x),
        Measure::Calls => format!("{}/s", num(x)),
    };
    match r.servers_max {
        Some(max) => format!("{}–{} {}", n(r.servers), n(max), r.what),
        None => r.count(r.servers),
    }
}

/// The check as `capsim validate` prints it: the rates, one row per
/// resource (the bottleneck marked), the phases if the profile has
/// several, the bottleneck's saturation multiplier and a warning per
/// overloaded resource.
pub fn render(c: &CapacityCheck) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "capacity check (operational laws, no simulation): {}",
        rates(c.mean_rate_per_s, c.peak_rate_per_s, c.peak_at)
    );
    if c.resources.is_empty() {
        let _ = writeln!(out, "  no tier with a bounded capacity");
        return out;
    }
    let mut g = Grid::new(&[
        "offered load",
        "kind",
        "capacity",
        "offered mean",
        "offered peak",
        "U mean %",
        "U peak %",
        "at max %",
        "",
    ]);
    for (i, r) in c.resources.iter().enumerate() {
        let at_max = if r.servers_max.is_some() {
            pct(r.utilization_peak_reachable())
        } else {
            String::new()
        };
        let mark = if c.bottleneck == Some(i) {
            "◀ bottleneck"
        } else if r.overloaded() {
            "◀ over"
        } else {
            ""
        };
        let cells = [
            plain(r.kind.vocabulary().label),
            plain(capacity(r)),
            plain(offered(r, r.offered_mean)),
            plain(offered(r, r.offered_peak)),
            plain(pct(r.utilization_mean())),
            plain(pct(r.utilization_peak())),
            plain(at_max),
            plain(mark),
        ];
        g.push_estimates(&r.label(), &cells);
    }
    g.render(&mut out);
    if c.phases.len() > 1 {
        phases(&mut out, c);
    }
    if let (Some(b), Some(m)) = (c.bottleneck(), c.saturation_multiplier()) {
        let _ = writeln!(
            out,
            "bottleneck: {} at {}% of {} at the peak; traffic × {} saturates it",
            b.label(),
            pct(b.utilization_peak_reachable()),
            capacity_reached(b),
            num(m)
        );
    }
    for n in c.closed_notes().into_iter().chain(c.notes()) {
        let _ = writeln!(out, "note: {n}");
    }
    for w in c.warnings() {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// `9 req/s, constant` or `4500 req/s on average, 8000 at the peak (1h30m)`.
fn rates(mean: f64, peak: f64, at: sim_engine::SimDuration) -> String {
    if (peak - mean).abs() <= 1e-9 * peak.abs() {
        format!("{} req/s, constant", num(mean))
    } else {
        format!(
            "{} req/s on average, {} at the peak ({at})",
            num(mean),
            num(peak)
        )
    }
}

fn capacity_reached(r: &Resource) -> String {
    match (r.measure, r.servers_max) {
        (Measure::Calls, _) => format!("its quota of {}/s", num(r.servers)),
        (Measure::Busy, Some(max)) => format!("{} (its autoscaling maximum)", r.count(max)),
        (Measure::Busy, None) => r.count(r.servers),
    }
}

/// Per phase: its span, its mean rate and the most utilised resource.
fn phases(out: &mut String, c: &CapacityCheck) {
    let mut g = Grid::new(&["phases", "from", "to", "req/s mean", "highest U mean %", ""]);
    for (i, p) in c.phases.iter().enumerate() {
        let top = c
            .resources
            .iter()
            .map(|r| (r, ratio(r.offered_phases[i].0, r.servers)))
            .fold(None::<(&Resource, f64)>, |best, (r, u)| match best {
                Some((_, b)) if b >= u => best,
                _ => Some((r, u)),
            });
        let (u, name) = top.map_or((String::new(), String::new()), |(r, u)| (pct(u), r.label()));
        let cells = [
            plain(p.from.to_string()),
            plain(p.to.to_string()),
            plain(num(c.phase_rate_per_s[i])),
            plain(u),
            plain(name),
        ];
        g.push_estimates(&p.name, &cells);
    }
    g.render(out);
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

/// `report.md`'s section: the bottleneck, its utilisation at the peak, the
/// saturation multiplier and the warnings.
pub fn report_section(o: &mut String, c: &CapacitySummary) {
    let _ = writeln!(o, "## Capacity check (before running)\n");
    let _ = writeln!(
        o,
        "From the scenario alone, by the operational laws (offered load = rate × visits × \
         demand; U = offered / servers): {}.\n",
        rates(
            c.mean_rate_per_s,
            c.peak_rate_per_s,
            sim_engine::SimDuration::from_secs_f64(c.peak_at_s)
        )
    );
    match (&c.bottleneck, c.saturation_multiplier) {
        (Some(b), Some(m)) => {
            let r = &c.resources[b];
            let _ = writeln!(
                o,
                "* Bottleneck: **{b}** ({}), U = {}% at the peak against {} {}{}.",
                r.kind,
                pct(r.utilization_peak_reachable),
                num(r.servers_max.unwrap_or(r.servers)),
                r.resource,
                if r.servers_max.is_some() {
                    " (its autoscaling maximum)"
                } else {
                    ""
                }
            );
            let _ = writeln!(
                o,
                "* Saturation multiplier: traffic × {} brings it to U = 1 at the peak.",
                num(m)
            );
        }
        _ => {
            let _ = writeln!(o, "* No tier with a bounded capacity is offered any load.");
        }
    }
    if c.warnings.is_empty() {
        let _ = writeln!(o, "* No tier is offered 100% or more of its capacity.");
    }
    for n in &c.scaling_needed {
        let _ = writeln!(o, "* Scaling needed: {n}.");
    }
    for w in &c.warnings {
        let _ = writeln!(o, "* **Warning**: {w}");
    }
    o.push('\n');
}

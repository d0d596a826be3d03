//! The summary's cost, SLO and scaling sections.

use indexmap::IndexMap;
use serde::Serialize;
use sim_engine::Estimate;

use capsim_models::{
    Objective, ObjectiveDescription, PurchaseMix, ReplicationResult, RunDescription,
};

use crate::csv_series::layout;

fn estimate_of<T>(items: &[T], f: impl Fn(&T) -> f64) -> Estimate {
    let xs: Vec<f64> = items.iter().map(f).collect();
    Estimate::from_samples(&xs)
}

/// What the run cost in the measured window, USD per replication.
#[derive(Clone, Debug, Serialize)]
pub struct CostSummary {
    pub total: Estimate,
    /// Total over measured hours: the mean cost rate.
    pub per_hour: Estimate,
    /// The highest cost rate of an interval of the measured window (see
    /// [`peak_per_hour`]).
    pub peak_per_hour: Estimate,
    /// Total per million completed requests (per replication, then averaged).
    pub per_million_requests: Estimate,
    pub tiers: IndexMap<String, TierCost>,
    pub load_balancer: LoadBalancerSummary,
    /// USD per kind of traffic.
    pub traffic: TrafficSummary,
    /// What `traffic.cross_region` is made of.
    pub cross_region_transfer: TransferSummary,
    pub series: CostSeries,
}

#[derive(Clone, Debug, Serialize)]
pub struct TierCost {
    /// The instance type, "custom", or "unpriced".
    pub priced_as: String,
    /// List price of a unit, USD per hour (0 when unpriced).
    pub list_price_per_hour: f64,
    /// How the unit-hours are bought: "on demand", or the blend that makes
    /// the lines' `price_per_unit_hour` (absent when unpriced or priced per
    /// call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase: Option<String>,
    pub total: Estimate,
    /// What the total is made of: `units`, or a database's `primary` and
    /// `replicas` (a replica set of another region's primary: `replicas`).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub lines: IndexMap<String, CostLine>,
}

/// One line of a tier's bill: `unit_hours × price_per_unit_hour + top_ups
/// = total`, replication by replication.
#[derive(Clone, Debug, Serialize)]
pub struct CostLine {
    pub priced_as: String,
    pub list_price_per_hour: f64,
    /// The rate billed: the list price blended by the purchase mix.
    pub price_per_unit_hour: f64,
    /// Units in service or booting, time-averaged over the measured window.
    pub mean_units: Estimate,
    /// Mean units × measured hours.
    pub unit_hours: Estimate,
    /// Billing minimums and partial hours of units that terminated.
    pub top_ups: Estimate,
    pub total: Estimate,
}

/// The load balancers in front of the priced API tiers.
#[derive(Clone, Debug, Serialize)]
pub struct LoadBalancerSummary {
    /// One per priced API tier (and per region's copy of one).
    pub balancers: u32,
    /// Measured hours each is billed.
    pub hours: f64,
    /// USD per balancer-hour.
    pub price_per_hour: f64,
    /// balancers × hours × price_per_hour.
    pub total: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrafficSummary {
    pub cdn: Estimate,
    pub egress: Estimate,
    /// Bytes crossing regions, billed per GB.
    pub cross_region: Estimate,
}

/// Bytes that crossed regions: `gb × price_per_gb` is
/// `traffic.cross_region`.
#[derive(Clone, Debug, Serialize)]
pub struct TransferSummary {
    /// GB (2^30 bytes).
    pub gb: Estimate,
    /// USD per GB.
    pub price_per_gb: f64,
}

/// USD per interval over the whole run (warm-up included), the mean over
/// replications.
#[derive(Clone, Debug, Serialize)]
pub struct CostSeries {
    pub interval_seconds: f64,
    pub total: Vec<f64>,
    pub tiers: IndexMap<String, Vec<f64>>,
    pub load_balancer: Vec<f64>,
    pub traffic: Vec<f64>,
}

fn mean_series<'a>(series: impl Iterator<Item = &'a [f64]>, n: usize) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for s in series {
        if out.len() < s.len() {
            out.resize(s.len(), 0.0);
        }
        for (o, x) in out.iter_mut().zip(s) {
            *o += x;
        }
    }
    for o in &mut out {
        *o /= n.max(1) as f64;
    }
    out
}

/// The peak cost rate of one replication, USD per hour: the highest, over
/// the intervals of the cost series that start at or after the end of the
/// warm-up, of the interval's USD (every tier, the load balancers and
/// traffic, with the top-ups of units that terminated in it) over its
/// length in hours (the last interval may be cut short by the run's end).
/// NaN if no interval starts inside the measured window.
pub fn peak_per_hour(r: &ReplicationResult, run: &RunDescription) -> f64 {
    let step = run.series_interval.as_nanos();
    let (warmup, horizon) = (run.warmup.as_nanos(), run.horizon.as_nanos());
    r.cost_series()
        .iter()
        .enumerate()
        .filter_map(|(i, usd)| {
            let start = i as u64 * step;
            (start >= warmup && start < horizon).then(|| {
                let hours = step.min(horizon - start) as f64 / 3.6e12;
                usd / hours
            })
        })
        .fold(f64::NAN, f64::max)
}

/// "on demand", or the blend of a purchase mix.
pub fn purchase_words(mix: &PurchaseMix) -> String {
    if mix.on_demand >= 1.0 {
        return "on demand".into();
    }
    let pct = |x: f64| {
        let s = format!("{:.2}", 100.0 * x);
        format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
    };
    let mut parts = Vec::new();
    if mix.on_demand > 0.0 {
        parts.push(format!("{} on demand", pct(mix.on_demand)));
    }
    if mix.reserved > 0.0 {
        parts.push(format!(
            "{} reserved at {} off",
            pct(mix.reserved),
            pct(mix.reserved_discount)
        ));
    }
    if mix.spot > 0.0 {
        parts.push(format!(
            "{} spot at {} off",
            pct(mix.spot),
            pct(mix.spot_discount)
        ));
    }
    format!("{}: {} of list", parts.join(", "), pct(mix.factor()))
}

/// A price as written in a catalogue: every significant digit up to a
/// millionth of a dollar, so that a product can be checked by hand.
pub fn fmt_price(x: f64) -> String {
    if !x.is_finite() {
        return crate::table::fmt_num(x);
    }
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn tier_cost(
    results: &[ReplicationResult],
    i: usize,
    t: &capsim_models::TierResult,
    hours: f64,
) -> TierCost {
    let (priced_as, price) = match &t.list_price {
        Some(p) => (p.label.clone(), p.per_hour),
        None => ("unpriced".to_string(), 0.0),
    };
    let mut lines = IndexMap::new();
    if let Some(bill) = &t.bill {
        for (k, l) in bill.lines.iter().enumerate() {
            let of = |f: fn(&capsim_models::BillLine) -> f64| {
                estimate_of(results, |r| {
                    r.tiers[i]
                        .bill
                        .as_ref()
                        .and_then(|b| b.lines.get(k))
                        .map_or(f64::NAN, f)
                })
            };
            lines.insert(
                l.name.to_string(),
                CostLine {
                    priced_as: l.label.clone(),
                    list_price_per_hour: l.list_per_hour,
                    price_per_unit_hour: l.rate_per_hour,
                    mean_units: estimate_of(results, |r| {
                        r.tiers[i]
                            .bill
                            .as_ref()
                            .and_then(|b| b.lines.get(k))
                            .map_or(f64::NAN, |l| l.unit_hours / hours)
                    }),
                    unit_hours: of(|l| l.unit_hours),
                    top_ups: of(|l| l.top_up_usd),
                    total: of(|l| l.usd),
                },
            );
        }
    }
    TierCost {
        priced_as,
        list_price_per_hour: price,
        purchase: t.bill.as_ref().map(|b| purchase_words(&b.mix)),
        total: estimate_of(results, |r| r.tiers[i].metric("cost_usd").unwrap_or(0.0)),
        lines,
    }
}

pub fn cost(
    run: &RunDescription,
    results: &[ReplicationResult],
    measured_seconds: f64,
) -> CostSummary {
    let n = results.len();
    let hours = measured_seconds / 3600.0;
    let mut tiers = IndexMap::new();
    let mut tier_series = IndexMap::new();
    for (i, t) in layout(results).0.iter().enumerate() {
        tiers.insert(t.name.clone(), tier_cost(results, i, t, hours));
        tier_series.insert(
            t.name.clone(),
            mean_series(
                results.iter().filter_map(|r| r.tiers[i].series("cost_usd")),
                n,
            ),
        );
    }
    let traffic = mean_series(results.iter().map(|r| r.traffic.series.as_slice()), n);
    let load_balancer = mean_series(
        results.iter().map(|r| r.load_balancers.series.as_slice()),
        n,
    );
    let mut total = traffic.clone();
    for s in tier_series.values().chain([&load_balancer]) {
        if total.len() < s.len() {
            total.resize(s.len(), 0.0);
        }
        for (o, x) in total.iter_mut().zip(s) {
            *o += x;
        }
    }
    let lb = results.first().map(|r| &r.load_balancers);
    CostSummary {
        total: estimate_of(results, |r| r.cost_usd()),
        per_hour: estimate_of(results, |r| r.cost_usd() / hours),
        peak_per_hour: estimate_of(results, |r| peak_per_hour(r, run)),
        per_million_requests: estimate_of(results, |r| {
            let done = r.totals().completed;
            if done == 0 {
                f64::NAN
            } else {
                r.cost_usd() / done as f64 * 1e6
            }
        }),
        tiers,
        load_balancer: LoadBalancerSummary {
            balancers: lb.map_or(0, |l| l.balancers),
            hours,
            price_per_hour: lb.map_or(0.0, |l| l.per_hour),
            total: estimate_of(results, |r| r.load_balancers.usd),
        },
        traffic: TrafficSummary {
            cdn: estimate_of(results, |r| r.traffic.cdn_usd),
            egress: estimate_of(results, |r| r.traffic.egress_usd),
            cross_region: estimate_of(results, |r| r.traffic.cross_region_usd),
        },
        cross_region_transfer: TransferSummary {
            gb: estimate_of(results, |r| r.traffic.cross_region_gb),
            price_per_gb: results
                .first()
                .map_or(0.0, |r| r.traffic.cross_region_per_gb),
        },
        series: CostSeries {
            interval_seconds: run.series_interval.as_secs_f64(),
            total,
            tiers: tier_series,
            load_balancer,
            traffic,
        },
    }
}

/// A row of the cost table (terminal and report): `units × hours ×
/// rate + top-ups = usd` where the row is priced per unit-hour.
pub struct CostRow {
    pub item: String,
    pub priced_as: String,
    /// Mean units (balancers) over the measured window.
    pub units: Option<Estimate>,
    pub hours: Option<f64>,
    /// USD per unit-hour billed (blended by the purchase mix).
    pub rate: Option<f64>,
    pub top_ups: Option<Estimate>,
    pub usd: Estimate,
}

/// The rows of the cost table: each priced tier's lines (a database's
/// primary and replicas apart), the load balancers, each kind of traffic
/// with a cost. The second list: the purchase blend of each tier bought
/// otherwise than on demand.
pub fn cost_rows(c: &CostSummary) -> (Vec<CostRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut blends = Vec::new();
    let hours = c.load_balancer.hours;
    for (name, t) in &c.tiers {
        if t.priced_as == "unpriced" {
            continue;
        }
        let blended = t.purchase.as_deref().filter(|p| *p != "on demand");
        if let Some(p) = blended {
            blends.push(format!(
                "{name}: list ${}/unit-h, bought {p}",
                fmt_price(t.list_price_per_hour)
            ));
        }
        if t.lines.is_empty() {
            rows.push(CostRow {
                item: name.clone(),
                priced_as: t.priced_as.clone(),
                units: None,
                hours: None,
                rate: None,
                top_ups: None,
                usd: t.total,
            });
        }
        for (line, l) in &t.lines {
            rows.push(CostRow {
                item: if line == "units" {
                    name.clone()
                } else {
                    format!("{name} {line}")
                },
                priced_as: match blended {
                    // Surplus credits are billed at their flat rate.
                    Some(_) if line != "surplus_credits" => format!("{} (blended)", l.priced_as),
                    _ => l.priced_as.clone(),
                },
                units: Some(l.mean_units),
                hours: Some(hours),
                rate: Some(l.price_per_unit_hour),
                top_ups: Some(l.top_ups),
                usd: l.total,
            });
        }
    }
    let lb = &c.load_balancer;
    if lb.balancers > 0 && lb.price_per_hour > 0.0 {
        rows.push(CostRow {
            item: "load balancers".into(),
            priced_as: "per balancer-hour".into(),
            units: Some(Estimate::from_samples(&[lb.balancers as f64])),
            hours: Some(lb.hours),
            rate: Some(lb.price_per_hour),
            top_ups: None,
            usd: lb.total,
        });
    }
    let traffic = [
        ("CDN traffic", &c.traffic.cdn, String::new()),
        ("egress traffic", &c.traffic.egress, String::new()),
        (
            "cross-region traffic",
            &c.traffic.cross_region,
            format!(
                "{} GB × ${}/GB",
                crate::table::fmt_num(c.cross_region_transfer.gb.estimate),
                fmt_price(c.cross_region_transfer.price_per_gb)
            ),
        ),
    ];
    for (label, e, priced_as) in traffic {
        if e.estimate > 0.0 {
            rows.push(CostRow {
                item: label.into(),
                priced_as,
                units: None,
                hours: None,
                rate: None,
                top_ups: None,
                usd: *e,
            });
        }
    }
    (rows, blends)
}

/// One objective's verdict over all replications.
#[derive(Clone, Debug, Serialize)]
pub struct SloSummary {
    /// In words, e.g. "p95 latency ≤ 200ms in every 1m window".
    pub objective: String,
    /// The objective in numbers: `latency` (or `queue_latency`) with
    /// `percentile` and `threshold_ms`, `error_rate` with `max`, or
    /// `availability` with `target`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Requests of users in this region only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    pub window_seconds: f64,
    /// No window breached in any replication.
    pub met: bool,
    pub replications_breached: u64,
    pub breach_windows: Estimate,
    pub breach_minutes: Estimate,
    /// Over the replications that breached: the earliest start of a first
    /// breaching window, and the median of them. Absent when none breached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_breach_s: Option<FirstBreach>,
    /// Bad events over the bad events the objective allows over the
    /// measured window (1 = the whole error budget).
    pub budget_consumed: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct FirstBreach {
    pub earliest: f64,
    pub median: f64,
}

/// The objective in words.
pub fn describe(s: &ObjectiveDescription) -> String {
    let what = describe_objective(s);
    match (&s.class, &s.region) {
        (Some(c), Some(r)) => format!("{what} ({c} requests of users in {r})"),
        (None, Some(r)) => format!("{what} (users in {r})"),
        _ => what,
    }
}

fn describe_objective(s: &ObjectiveDescription) -> String {
    let slo_window = s.window;
    match &s.objective {
        Objective::Latency {
            quantile,
            threshold,
        } => format!(
            "p{} latency ≤ {threshold} in every {slo_window} window",
            capsim_models::quantile_label(*quantile)
        ),
        Objective::QueueLatency {
            quantile,
            threshold,
        } => format!(
            "p{} queue latency ≤ {threshold} in every {slo_window} window",
            capsim_models::quantile_label(*quantile)
        ),
        Objective::ErrorRate { max } => {
            format!("error rate ≤ {}% in every {slo_window} window", max * 100.0)
        }
        Objective::Availability { target } => {
            format!(
                "availability ≥ {}% in every {slo_window} window",
                target * 100.0
            )
        }
    }
}

pub fn slos(run: &RunDescription, results: &[ReplicationResult]) -> IndexMap<String, SloSummary> {
    let mut out = IndexMap::new();
    for (i, s) in run.objectives.iter().enumerate() {
        let breached = results.iter().filter(|r| !r.slos[i].met()).count() as u64;
        let mut firsts: Vec<f64> = results
            .iter()
            .filter_map(|r| r.slos[i].first_breach_s)
            .collect();
        firsts.sort_by(f64::total_cmp);
        let first_breach_s = (!firsts.is_empty()).then(|| FirstBreach {
            earliest: firsts[0],
            median: if firsts.len() % 2 == 1 {
                firsts[firsts.len() / 2]
            } else {
                (firsts[firsts.len() / 2 - 1] + firsts[firsts.len() / 2]) / 2.0
            },
        });
        out.insert(
            s.name.clone(),
            SloSummary {
                objective: describe(s),
                kind: match s.objective {
                    Objective::Latency { .. } => "latency",
                    Objective::QueueLatency { .. } => "queue_latency",
                    Objective::ErrorRate { .. } => "error_rate",
                    Objective::Availability { .. } => "availability",
                },
                percentile: match s.objective {
                    Objective::Latency { quantile, .. }
                    | Objective::QueueLatency { quantile, .. } => Some(quantile * 100.0),
                    _ => None,
                },
                threshold_ms: match s.objective {
                    Objective::Latency { threshold, .. }
                    | Objective::QueueLatency { threshold, .. } => Some(threshold.as_millis_f64()),
                    _ => None,
                },
                max: match s.objective {
                    Objective::ErrorRate { max } => Some(max),
                    _ => None,
                },
                target: match s.objective {
                    Objective::Availability { target } => Some(target),
                    _ => None,
                },
                class: s.class.clone(),
                region: s.region.clone(),
                tier: s.tier.clone(),
                window_seconds: s.window.as_secs_f64(),
                met: breached == 0,
                replications_breached: breached,
                breach_windows: estimate_of(results, |r| r.slos[i].breach_windows as f64),
                breach_minutes: estimate_of(results, |r| r.slos[i].breach_minutes),
                first_breach_s,
                budget_consumed: estimate_of(results, |r| r.slos[i].budget_consumed),
            },
        );
    }
    out
}

/// How a scaling tier's capacity moved, per replication.
#[derive(Clone, Debug, Serialize)]
pub struct ScalingSummary {
    /// What the counts count: instances, workers, replicas or shards.
    pub units: String,
    pub min: u32,
    pub max: u32,
    pub initial: u32,
    pub actions: Estimate,
    pub scale_outs: Estimate,
    pub scale_ins: Estimate,
    /// Largest and last desired count.
    pub peak: Estimate,
    #[serde(rename = "final")]
    pub final_: Estimate,
}

pub fn scaling(results: &[ReplicationResult]) -> IndexMap<String, ScalingSummary> {
    let mut out = IndexMap::new();
    for (i, t) in layout(results).0.iter().enumerate() {
        let Some(s) = t.scaling else {
            continue;
        };
        let initial = s.initial;
        let tier = i as u16;
        fn events(r: &ReplicationResult, tier: u16) -> Vec<&capsim_models::ScalingEvent> {
            r.scaling.iter().filter(|e| e.tier == tier).collect()
        }
        out.insert(
            t.name.clone(),
            ScalingSummary {
                units: s.noun.many.to_string(),
                min: s.min,
                max: s.max,
                initial,
                actions: estimate_of(results, |r| events(r, tier).len() as f64),
                scale_outs: estimate_of(results, |r| {
                    events(r, tier).iter().filter(|e| e.to > e.from).count() as f64
                }),
                scale_ins: estimate_of(results, |r| {
                    events(r, tier).iter().filter(|e| e.to < e.from).count() as f64
                }),
                peak: estimate_of(results, |r| {
                    events(r, tier).iter().map(|e| e.to).fold(initial, u32::max) as f64
                }),
                final_: estimate_of(results, |r| {
                    events(r, tier).last().map_or(initial, |e| e.to) as f64
                }),
            },
        );
    }
    out
}

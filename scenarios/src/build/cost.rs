//! Prices of a tier's units: instance types from the catalogue, overrides,
//! billing granularity and the purchase mix.

use capsim_models::{Billing, Granularity, Kind, PurchaseMix, TrafficPrices};
use sim_engine::SimDuration;

use super::tiers::{Checks, Hardware};
use super::values::{article, choice};
use crate::catalogue::{BillingUnit, Catalogue, InstanceType, Priced, Service};
use crate::error::FieldPath;
use crate::raw::{RawCost, RawPurchase, RawTierCommon};

/// The service whose instance types a tier kind takes (`None`: a CDN, which
/// costs by traffic).
pub fn service_of(kind: &str) -> Option<Service> {
    match kind {
        "api" | "workers" | "station" => Some(Service::Compute),
        "cache" => Some(Service::Cache),
        "database" => Some(Service::Database),
        _ => None,
    }
}

/// Billing granularity by service, as the catalogue gives it (a service
/// the catalogue sells no types of: per second, 60-second minimum).
pub fn default_granularity(cat: &Catalogue, service: Service) -> Granularity {
    match cat.service(service) {
        Some(s) if s.billing == BillingUnit::PerHour => Granularity::PerHour,
        s => Granularity::PerSecond {
            minimum: SimDuration::from_secs(s.and_then(|s| s.minimum_s).unwrap_or(60)),
        },
    }
}

fn lookup<'c>(
    cat: &'c Catalogue,
    name: &str,
    service: Service,
    what: &str,
    path: &FieldPath,
    c: &mut Checks,
) -> Option<&'c InstanceType> {
    match cat.get(name) {
        Some(t) if t.service == service => Some(t),
        Some(t) => {
            c.push(
                path.clone(),
                format!(
                    "\"{name}\" is an {} instance type; {what} takes {} types: {}",
                    cat.service_label(t.service),
                    cat.service_label(service),
                    cat.names_of(service).join(", ")
                ),
            );
            None
        }
        None => {
            c.push(
                path.clone(),
                format!(
                    "no instance type \"{name}\" in the catalogue ({}); {} (or give `price_per_hour`)",
                    cat.meta.name,
                    match cat.names_of(service) {
                        names if names.is_empty() => "it sells no types of this kind".to_string(),
                        names => format!("{} types: {}", cat.service_label(service), names.join(", ")),
                    }
                ),
            );
            None
        }
    }
}

/// Reports each key that was given (`true`) where it has no meaning.
fn reject_given(keys: &[(&str, bool)], why: &str, path: &FieldPath, c: &mut Checks) {
    for &(key, given) in keys {
        if given {
            c.push(path.key(key), why);
        }
    }
}

fn price(x: f64, path: &FieldPath, c: &mut Checks) -> Option<f64> {
    if x.is_finite() && x >= 0.0 {
        Some(x)
    } else {
        c.push(
            path.clone(),
            format!("a price is a number of USD per hour, at least 0 (got {x})"),
        );
        None
    }
}

/// The hardware a tier's instance types imply, and its billing (`None`: the
/// tier has no price and costs nothing).
pub fn tier_billing(
    kind: &str,
    common: &RawTierCommon,
    path: &FieldPath,
    cat: &Catalogue,
    load_balancer_per_hour: f64,
    c: &mut Checks,
) -> (Hardware, Option<Billing>) {
    let mut hw = Hardware {
        scales: common.scaling.is_some(),
        ..Hardware::default()
    };
    let Some(service) = service_of(kind) else {
        reject_unit_prices(kind, common, path, c);
        return (hw, None);
    };
    let (itype, rtype) = instance_types(kind, service, common, path, cat, c);
    hw.vcpus = itype.and_then(|t| t.vcpus);
    hw.replica_vcpus = rtype.and_then(|t| t.vcpus);
    hw.memory_bytes = itype.map(|t| (t.memory_gib * 1024.0 * 1024.0 * 1024.0) as u64);
    hw.burstable = itype
        .and_then(|t| t.baseline_pct)
        .map(|b| (b / 100.0, cat.surplus_per_vcpu_hour().map(|p| p / 60.0)));
    let (list, replica_list) = list_prices(common, itype, rtype, path, c);
    let granularity = granularity(common, cat, service, path, c);
    let mix = match &common.purchase {
        Some(p) => purchase_mix(p, &path.key("purchase"), cat, c),
        None => Some(PurchaseMix::default()),
    };

    let Some(list) = list else {
        reject_given(
            &[
                ("billing", common.billing.is_some()),
                ("billing_minimum", common.billing_minimum.is_some()),
                ("purchase", common.purchase.is_some()),
            ],
            "the tier has no price: give `instance_type` or `price_per_hour`",
            path,
            c,
        );
        return (hw, None);
    };
    let (Some(granularity), Some(mix)) = (granularity, mix) else {
        return (hw, None);
    };
    let (label, replica_label) = labels(common);
    let billing = Billing {
        label,
        replica_label,
        price_per_hour: list,
        replica_price_per_hour: replica_list,
        granularity,
        mix,
        load_balancer_per_hour: if kind == "api" {
            load_balancer_per_hour
        } else {
            0.0
        },
    };
    (hw, Some(billing))
}

/// A kind without instance types (a CDN, an external API) takes none of
/// the keys that price units.
fn reject_unit_prices(kind: &str, common: &RawTierCommon, path: &FieldPath, c: &mut Checks) {
    reject_given(
        &[
            ("instance_type", common.instance_type.is_some()),
            ("price_per_hour", common.price_per_hour.is_some()),
            ("billing", common.billing.is_some()),
            ("billing_minimum", common.billing_minimum.is_some()),
            ("purchase", common.purchase.is_some()),
        ],
        Kind::from_label(kind)
            .and_then(|k| k.vocabulary().priced_otherwise)
            .unwrap_or("this kind of tier is not priced per unit"),
        path,
        c,
    );
}

/// The catalogue's instance types for the tier and (a database only) its
/// replicas.
fn instance_types<'c>(
    kind: &str,
    service: Service,
    common: &RawTierCommon,
    path: &FieldPath,
    cat: &'c Catalogue,
    c: &mut Checks,
) -> (Option<&'c InstanceType>, Option<&'c InstanceType>) {
    let tier_what = format!("{} {kind} tier", article(kind));
    if kind != "database" {
        reject_given(
            &[
                (
                    "replica_instance_type",
                    common.replica_instance_type.is_some(),
                ),
                (
                    "replica_price_per_hour",
                    common.replica_price_per_hour.is_some(),
                ),
            ],
            "only a database tier has replicas",
            path,
            c,
        );
    }
    let itype = common
        .instance_type
        .as_deref()
        .and_then(|n| lookup(cat, n, service, &tier_what, &path.key("instance_type"), c));
    let rtype = common.replica_instance_type.as_deref().and_then(|n| {
        lookup(
            cat,
            n,
            service,
            &tier_what,
            &path.key("replica_instance_type"),
            c,
        )
    });
    (itype, rtype)
}

/// The hourly list prices of a unit and of a replica: given, else the
/// instance type's.
fn list_prices(
    common: &RawTierCommon,
    itype: Option<&InstanceType>,
    rtype: Option<&InstanceType>,
    path: &FieldPath,
    c: &mut Checks,
) -> (Option<f64>, Option<f64>) {
    let list = match (common.price_per_hour, itype) {
        (Some(p), _) => price(p, &path.key("price_per_hour"), c),
        (None, Some(t)) => Some(t.price_per_hour),
        (None, None) => None,
    };
    let replica_list = match (common.replica_price_per_hour, rtype) {
        (Some(p), _) => price(p, &path.key("replica_price_per_hour"), c),
        (None, Some(t)) => Some(t.price_per_hour),
        (None, None) => None,
    };
    if replica_list.is_some() && list.is_none() && common.instance_type.is_none() {
        c.push(
            path.clone(),
            "replicas have a price but the primary has none: give `instance_type` or `price_per_hour`",
        );
    }
    (list, replica_list)
}

/// `billing` and `billing_minimum`, defaulting to the service's granularity
/// (`None`: reported).
fn granularity(
    common: &RawTierCommon,
    cat: &Catalogue,
    service: Service,
    path: &FieldPath,
    c: &mut Checks,
) -> Option<Granularity> {
    let granularity = match common.billing.as_deref() {
        None => Some(default_granularity(cat, service)),
        Some(b) => c
            .take(choice(b, &["per_second", "per_hour"], &path.key("billing")))
            .map(|b| {
                if b == "per_hour" {
                    Granularity::PerHour
                } else {
                    match default_granularity(cat, service) {
                        g @ Granularity::PerSecond { .. } => g,
                        Granularity::PerHour => Granularity::PerSecond {
                            minimum: SimDuration::from_secs(60),
                        },
                    }
                }
            }),
    };
    match (granularity, common.billing_minimum) {
        (Some(Granularity::PerSecond { .. }), Some(m)) => {
            Some(Granularity::PerSecond { minimum: *m })
        }
        (Some(Granularity::PerHour), Some(_)) => {
            c.push(
                path.key("billing_minimum"),
                "per-hour billing bills every started hour; a minimum applies to `billing = \"per_second\"`",
            );
            None
        }
        (g, _) => g,
    }
}

/// How reports name the unit and replica prices: the instance type, marked
/// when its price is overridden, or "custom".
fn labels(common: &RawTierCommon) -> (String, Option<String>) {
    let label = match (&common.instance_type, common.price_per_hour) {
        (Some(t), None) => t.clone(),
        (Some(t), Some(_)) => format!("{t} (price overridden)"),
        (None, _) => "custom".to_string(),
    };
    let replica_label = match (&common.replica_instance_type, common.replica_price_per_hour) {
        (Some(t), None) => Some(t.clone()),
        (Some(t), Some(_)) => Some(format!("{t} (price overridden)")),
        (None, Some(_)) => Some("custom".to_string()),
        (None, None) => None,
    };
    (label, replica_label)
}

fn purchase_mix(
    p: &RawPurchase,
    path: &FieldPath,
    cat: &Catalogue,
    c: &mut Checks,
) -> Option<PurchaseMix> {
    let before = c.0.len();
    let mut share = |x: Option<f64>, key: &str| -> f64 {
        match x {
            Some(v) if v.is_finite() && (0.0..=1.0).contains(&v) => v,
            Some(v) => {
                c.push(
                    path.key(key),
                    format!("a share is between 0 and 1 (got {v})"),
                );
                0.0
            }
            None => 0.0,
        }
    };
    let reserved = share(p.reserved, "reserved");
    let spot = share(p.spot, "spot");
    let on_demand = match p.on_demand {
        Some(_) => share(p.on_demand, "on_demand"),
        None => 1.0 - reserved - spot,
    };
    // A catalogue without a default discount needs the scenario's when
    // that share is bought.
    let catalogue = cat.meta.name.as_str();
    let mut discount = |x: Option<f64>, default: Option<f64>, bought: bool, key: &str| -> f64 {
        match x {
            Some(v) if v.is_finite() && (0.0..1.0).contains(&v) => v,
            Some(v) => {
                c.push(
                    path.key(key),
                    format!("a discount is a fraction off the list price, at least 0 and below 1 (got {v})"),
                );
                0.0
            }
            None => default.unwrap_or_else(|| {
                if bought {
                    c.push(
                        path.key(key),
                        format!("the catalogue {catalogue} has no default `{key}`: give it here"),
                    );
                }
                0.0
            }),
        }
    };
    let reserved_discount = discount(
        p.reserved_discount,
        cat.discounts.reserved.as_ref().map(|d| d.price),
        reserved > 0.0,
        "reserved_discount",
    );
    let spot_discount = discount(
        p.spot_discount,
        cat.discounts.spot.as_ref().map(|d| d.price),
        spot > 0.0,
        "spot_discount",
    );
    let total = on_demand + reserved + spot;
    if c.0.len() == before && (on_demand < -1e-9 || (total - 1.0).abs() > 1e-6) {
        c.push(
            path.clone(),
            format!(
                "the shares on_demand + reserved + spot must sum to 1 (they sum to {})",
                total
            ),
        );
    }
    (c.0.len() == before).then_some(PurchaseMix {
        on_demand: on_demand.max(0.0),
        reserved,
        spot,
        reserved_discount,
        spot_discount,
    })
}

/// `[cost]`: the scenario-wide prices, each the catalogue's unless given.
pub struct ScenarioPrices {
    pub traffic: TrafficPrices,
    pub load_balancer_per_hour: f64,
}

pub fn scenario_prices(
    raw: Option<&RawCost>,
    costp: &FieldPath,
    cat: &Catalogue,
    multi_region: bool,
    c: &mut Checks,
) -> ScenarioPrices {
    // A price the catalogue lacks must be given.
    let usd = |given: Option<f64>, default: Option<&Priced>, key: &str, c: &mut Checks| {
        let default = default.map(|p| p.price);
        match given {
            Some(x) if x.is_finite() && x >= 0.0 => x,
            Some(x) => {
                c.push(
                    costp.key(key),
                    format!("a price in USD, at least 0 (got {x})"),
                );
                default.unwrap_or(0.0)
            }
            None => default.unwrap_or_else(|| {
                c.push(
                    costp.key(key),
                    format!(
                        "the catalogue {} has no price for `{key}`: give it in [cost]",
                        cat.meta.name
                    ),
                );
                0.0
            }),
        }
    };
    let traffic = TrafficPrices {
        cdn_per_gb: usd(
            raw.and_then(|r| r.cdn_per_gb),
            cat.traffic.cdn_per_gb.as_ref(),
            "cdn_per_gb",
            c,
        ),
        egress_per_gb: usd(
            raw.and_then(|r| r.egress_per_gb),
            cat.traffic.egress_per_gb.as_ref(),
            "egress_per_gb",
            c,
        ),
        // Only regions exchange traffic: one region needs no such price.
        cross_region_per_gb: match (raw.and_then(|r| r.cross_region_per_gb), multi_region) {
            (None, false) => cat
                .traffic
                .cross_region_per_gb
                .as_ref()
                .map_or(0.0, |p| p.price),
            (given, _) => usd(
                given,
                cat.traffic.cross_region_per_gb.as_ref(),
                "cross_region_per_gb",
                c,
            ),
        },
    };
    let load_balancer_per_hour = usd(
        raw.and_then(|r| r.load_balancer_per_hour),
        cat.load_balancer.as_ref(),
        "load_balancer_per_hour",
        c,
    );
    ScenarioPrices {
        traffic,
        load_balancer_per_hour,
    }
}

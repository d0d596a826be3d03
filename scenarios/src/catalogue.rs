//! Price catalogues: list prices, vCPUs and memory of the instance types a
//! scenario may name, each service's billing granularity, and traffic and
//! load-balancer prices, with the source and date of every figure.
//!
//! Catalogues are TOML files. The bundled ones (`catalogue/*.toml`) are
//! embedded in the binary; a scenario picks one with `[cost] catalogue`
//! (default [`DEFAULT`]), by name or as the path of a file of its own in the
//! same format. `capsim catalogue` lists and prints them.

use std::path::Path;
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::Deserialize;

use crate::doc::{self, SourceDoc};
use crate::error::FieldPath;

/// The bundled catalogues: name and text.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "aws-us-east-1",
        include_str!("../catalogue/aws-us-east-1.toml"),
    ),
    (
        "gcp-us-central1",
        include_str!("../catalogue/gcp-us-central1.toml"),
    ),
    (
        "azure-eastus",
        include_str!("../catalogue/azure-eastus.toml"),
    ),
];

/// The catalogue a scenario without `[cost] catalogue` is priced with.
pub const DEFAULT: &str = "aws-us-east-1";

/// The default catalogue's text.
pub const AWS_US_EAST_1: &str = BUNDLED[0].1;

/// What a tier kind buys: its instance types are sold by this service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Virtual machines (EC2, Compute Engine, Azure VMs): API, worker and
    /// station tiers.
    #[serde(alias = "ec2")]
    Compute,
    /// Managed Redis (ElastiCache, Memorystore, Azure Cache): cache tiers,
    /// one node per shard.
    #[serde(alias = "elasticache")]
    Cache,
    /// Managed PostgreSQL (RDS, Cloud SQL, Azure Database): database tiers,
    /// one instance per node.
    #[serde(alias = "rds")]
    Database,
}

impl Service {
    /// The key of the service's table under `[services]`.
    pub fn key(self) -> &'static str {
        match self {
            Service::Compute => "compute",
            Service::Cache => "cache",
            Service::Database => "database",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub service: Service,
    /// Required of compute and database types; a managed cache may be sold
    /// by memory alone (Memorystore), and a cache tier reads only memory.
    #[serde(default)]
    pub vcpus: Option<u32>,
    pub memory_gib: f64,
    /// On-demand list price per hour, in the catalogue's currency.
    pub price_per_hour: f64,
    /// Hardware threads per physical core (2 with simultaneous
    /// multithreading, 1 without), where the source gives it.
    #[serde(default)]
    pub threads_per_core: Option<u32>,
    /// Burstable types: the baseline CPU utilisation per vCPU, percent.
    #[serde(default)]
    pub baseline_pct: Option<f64>,
    /// Where the price was read: a URL, or `repository:path@commit`.
    pub source: String,
    /// The date of that material (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    pub date: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    /// `aws`, `gcp`, `azure`, or anything a user's file calls its provider.
    pub provider: String,
    pub region: String,
    pub currency: String,
}

/// How a service bills an instance's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingUnit {
    PerSecond,
    PerHour,
}

/// A service: its name in reports and errors, and how it bills.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceInfo {
    /// The provider's name for it ("EC2", "Cloud SQL for PostgreSQL").
    pub name: String,
    pub billing: BillingUnit,
    /// Per-second billing: the least a unit is billed, seconds.
    #[serde(default)]
    pub minimum_s: Option<u64>,
    pub source: String,
    pub date: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Services {
    pub compute: Option<ServiceInfo>,
    pub cache: Option<ServiceInfo>,
    pub database: Option<ServiceInfo>,
}

/// A price the catalogue may or may not carry, with its source and date.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Priced {
    pub price: f64,
    pub source: String,
    pub date: String,
}

/// Default discounts of the purchase mix, fractions off the list price.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discounts {
    pub reserved: Option<Priced>,
    pub spot: Option<Priced>,
}

/// Per-GB prices of traffic.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// The CDN's delivery, first volume tier.
    pub cdn_per_gb: Option<Priced>,
    /// Data transfer out to the internet, first volume tier.
    pub egress_per_gb: Option<Priced>,
    /// Data transfer from this region to another region of the provider.
    pub cross_region_per_gb: Option<Priced>,
}

/// CPU credits of burstable types.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burstable {
    /// Price of surplus credits in unlimited mode, per vCPU-hour.
    pub surplus_per_vcpu_hour: f64,
    pub source: String,
    pub date: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub meta: Meta,
    pub services: Services,
    #[serde(default)]
    pub discounts: Discounts,
    #[serde(default)]
    pub traffic: Traffic,
    /// The load balancer in front of an API tier, per hour.
    #[serde(default)]
    pub load_balancer: Option<Priced>,
    #[serde(default)]
    pub burstable: Option<Burstable>,
    pub instances: IndexMap<String, InstanceType>,
}

/// A located problem with a catalogue's text: `ORIGIN:LINE:COLUMN: field
/// `PATH`: what is wrong`.
fn located(origin: &str, doc: &SourceDoc<'_>, field: &FieldPath, msg: &str) -> String {
    let at = match doc.locate(field) {
        Some((line, column)) => format!("{origin}:{line}:{column}"),
        None => origin.to_string(),
    };
    if field.is_empty() {
        format!("{at}: {msg}")
    } else {
        format!("{at}: field `{field}`: {msg}")
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: as precise as the source is.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    match b.len() {
        4 => digits(0..4),
        7 => digits(0..4) && b[4] == b'-' && digits(5..7),
        10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
        _ => false,
    }
}

impl Catalogue {
    /// Parses and checks a catalogue's text; `origin` names it in errors
    /// (a file path or `bundled catalogue "NAME"`). Errors are located:
    /// `ORIGIN:LINE:COLUMN: field `PATH`: what is wrong`.
    pub fn parse(text: &str, origin: &str) -> Result<Catalogue, String> {
        let doc = SourceDoc::parse(text).map_err(|(message, pos)| match pos {
            Some((line, column)) => {
                format!("{origin}:{line}:{column}: TOML syntax error: {message}")
            }
            None => format!("{origin}: TOML syntax error: {message}"),
        })?;
        let cat: Catalogue = toml::from_str(text).map_err(|e| {
            let d = doc::decode_error(&doc, &e);
            let at = match d.origin {
                crate::error::Origin::File { line, column } => format!("{origin}:{line}:{column}"),
                _ => origin.to_string(),
            };
            // An unknown key has no field path of its own: name the table
            // it was written in.
            let table = e.span().and_then(|s| {
                text[..s.start]
                    .lines()
                    .rev()
                    .map(str::trim)
                    .find(|l| l.starts_with('['))
            });
            if d.field.is_empty() {
                match table {
                    Some(t) => format!("{at}: in {t}: {}", d.message),
                    None => format!("{at}: {}", d.message),
                }
            } else {
                format!("{at}: field `{}`: {}", d.field, d.message)
            }
        })?;
        let mut problems = Vec::new();
        let mut bad = |path: FieldPath, msg: String| {
            problems.push(located(origin, &doc, &path, &msg));
        };
        let root = FieldPath::root();
        let dated =
            |path: &FieldPath, source: &str, date: &str, bad: &mut dyn FnMut(FieldPath, String)| {
                if source.trim().is_empty() {
                    bad(
                        path.key("source"),
                        "every figure names its source".to_string(),
                    );
                }
                if !is_date(date) {
                    bad(
                        path.key("date"),
                        format!("a date is YYYY, YYYY-MM or YYYY-MM-DD (got \"{date}\")"),
                    );
                }
            };
        for (key, info) in [
            ("compute", &cat.services.compute),
            ("cache", &cat.services.cache),
            ("database", &cat.services.database),
        ] {
            if let Some(s) = info {
                let path = root.key("services").key(key);
                dated(&path, &s.source, &s.date, &mut bad);
                if s.billing == BillingUnit::PerHour && s.minimum_s.is_some() {
                    bad(
                        path.key("minimum_s"),
                        "per-hour billing bills every started hour; a minimum applies to per-second billing".to_string(),
                    );
                }
            }
        }
        let priced = |path: FieldPath,
                      p: &Option<Priced>,
                      fraction: bool,
                      bad: &mut dyn FnMut(FieldPath, String)| {
            if let Some(p) = p {
                let ok = p.price.is_finite()
                    && if fraction {
                        (0.0..1.0).contains(&p.price)
                    } else {
                        p.price >= 0.0
                    };
                if !ok {
                    let msg = if fraction {
                        format!(
                            "a discount is a fraction, at least 0 and below 1 (got {})",
                            p.price
                        )
                    } else {
                        format!("a price is at least 0 (got {})", p.price)
                    };
                    bad(path.key("price"), msg);
                }
                dated(&path, &p.source, &p.date, bad);
            }
        };
        let discounts = root.key("discounts");
        priced(
            discounts.key("reserved"),
            &cat.discounts.reserved,
            true,
            &mut bad,
        );
        priced(discounts.key("spot"), &cat.discounts.spot, true, &mut bad);
        let traffic = root.key("traffic");
        priced(
            traffic.key("cdn_per_gb"),
            &cat.traffic.cdn_per_gb,
            false,
            &mut bad,
        );
        priced(
            traffic.key("egress_per_gb"),
            &cat.traffic.egress_per_gb,
            false,
            &mut bad,
        );
        priced(
            traffic.key("cross_region_per_gb"),
            &cat.traffic.cross_region_per_gb,
            false,
            &mut bad,
        );
        priced(
            root.key("load_balancer"),
            &cat.load_balancer,
            false,
            &mut bad,
        );
        if let Some(b) = &cat.burstable {
            let path = root.key("burstable");
            if !(b.surplus_per_vcpu_hour.is_finite() && b.surplus_per_vcpu_hour >= 0.0) {
                bad(
                    path.key("surplus_per_vcpu_hour"),
                    format!("a price is at least 0 (got {})", b.surplus_per_vcpu_hour),
                );
            }
            dated(&path, &b.source, &b.date, &mut bad);
        }
        if cat.instances.is_empty() {
            bad(
                root.key("instances"),
                "a catalogue lists at least one instance type".to_string(),
            );
        }
        for (name, t) in &cat.instances {
            let path = root.key("instances").key(name);
            if cat.service(t.service).is_none() {
                bad(
                    path.key("service"),
                    format!(
                        "the catalogue has no [services.{}] table saying how it bills",
                        t.service.key()
                    ),
                );
            }
            if !(t.price_per_hour.is_finite() && t.price_per_hour > 0.0) {
                bad(
                    path.key("price_per_hour"),
                    format!("a list price is above 0 (got {})", t.price_per_hour),
                );
            }
            match t.vcpus {
                Some(0) => bad(
                    path.key("vcpus"),
                    "an instance type has at least 1 vCPU".to_string(),
                ),
                None if t.service != Service::Cache => bad(
                    path.key("vcpus"),
                    format!(
                        "a {} type names its vCPUs (only cache types may leave them out)",
                        t.service.key()
                    ),
                ),
                _ => {}
            }
            if !(t.memory_gib.is_finite() && t.memory_gib > 0.0) {
                bad(
                    path.key("memory_gib"),
                    format!("memory is above 0 GiB (got {})", t.memory_gib),
                );
            }
            if let Some(n) = t.threads_per_core
                && !(1..=2).contains(&n)
            {
                bad(path.key("threads_per_core"), format!("1 or 2 (got {n})"));
            }
            if let Some(b) = t.baseline_pct {
                if !(b.is_finite() && b > 0.0 && b < 100.0) {
                    bad(
                        path.key("baseline_pct"),
                        format!("a baseline is a percentage above 0 and below 100 (got {b})"),
                    );
                }
                if t.service != Service::Compute {
                    bad(
                        path.key("baseline_pct"),
                        "only compute instance types burst".to_string(),
                    );
                }
            }
            dated(&path, &t.source, &t.date, &mut bad);
        }
        if problems.is_empty() {
            Ok(cat)
        } else {
            Err(problems.join("\n"))
        }
    }

    /// A bundled catalogue by name (parsed once).
    pub fn bundled_named(name: &str) -> Option<&'static Catalogue> {
        static PARSED: OnceLock<Vec<Catalogue>> = OnceLock::new();
        let all = PARSED.get_or_init(|| {
            BUNDLED
                .iter()
                .map(|(n, text)| {
                    Catalogue::parse(text, &format!("bundled catalogue \"{n}\""))
                        .expect("the bundled catalogues are valid (tested)")
                })
                .collect()
        });
        BUNDLED
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| &all[i])
    }

    /// The default catalogue.
    pub fn bundled() -> &'static Catalogue {
        Catalogue::bundled_named(DEFAULT).expect("the default catalogue is bundled")
    }

    /// A catalogue file's text, parsed and checked; errors name the file.
    pub fn from_file(path: &Path) -> Result<Catalogue, String> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the catalogue file {origin}: {e}"))?;
        Catalogue::parse(&text, &origin)
    }

    pub fn get(&self, name: &str) -> Option<&InstanceType> {
        self.instances.get(name)
    }

    /// How a service bills, when the catalogue sells its types.
    pub fn service(&self, service: Service) -> Option<&ServiceInfo> {
        match service {
            Service::Compute => self.services.compute.as_ref(),
            Service::Cache => self.services.cache.as_ref(),
            Service::Database => self.services.database.as_ref(),
        }
    }

    /// The service's name in this catalogue, for messages.
    pub fn service_label(&self, service: Service) -> &str {
        self.service(service)
            .map_or_else(|| service.key(), |s| s.name.as_str())
    }

    /// Price of surplus CPU credits per vCPU-hour, if the catalogue's
    /// burstable types have an unlimited mode (`[burstable]`; Azure's
    /// B-series have none: out of credits, they run at their baseline).
    pub fn surplus_per_vcpu_hour(&self) -> Option<f64> {
        self.burstable.as_ref().map(|b| b.surplus_per_vcpu_hour)
    }

    /// Names of the types a service sells, for error messages.
    pub fn names_of(&self, service: Service) -> Vec<&str> {
        self.instances
            .iter()
            .filter(|(_, t)| t.service == service)
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// What `[cost] catalogue` names: a bundled catalogue, or a file.
pub enum Chosen {
    Bundled(&'static Catalogue),
    File(Box<Catalogue>),
}

impl Chosen {
    pub fn get(&self) -> &Catalogue {
        match self {
            Chosen::Bundled(c) => c,
            Chosen::File(c) => c,
        }
    }
}

/// Whether `[cost] catalogue` (or `capsim catalogue`'s argument) names a
/// file rather than a bundled catalogue: a path has a separator or ends in
/// `.toml`.
pub fn is_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\') || s.ends_with(".toml")
}

/// The catalogue `[cost] catalogue` names: a bundled name, or a path
/// relative to `dir` (the scenario file's directory).
pub fn choose(name: &str, dir: Option<&Path>) -> Result<Chosen, String> {
    if is_path(name) {
        let path = match dir {
            Some(d) if Path::new(name).is_relative() => d.join(name),
            _ => Path::new(name).to_path_buf(),
        };
        return Catalogue::from_file(&path).map(|c| Chosen::File(Box::new(c)));
    }
    Catalogue::bundled_named(name).map(Chosen::Bundled).ok_or_else(|| {
        format!(
            "no bundled catalogue \"{name}\"; bundled: {} (or give the path of a catalogue file, e.g. \"./my-prices.toml\")",
            BUNDLED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_catalogue_parses_and_every_entry_is_priced_sourced_and_dated() {
        for (name, text) in BUNDLED {
            let c = Catalogue::parse(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.meta.name, *name);
            assert_eq!(c.meta.currency, "USD");
            assert!(name.starts_with(&c.meta.provider), "{name}");
            assert!(name.ends_with(&c.meta.region), "{name}");
            assert!(!c.instances.is_empty());
            for (t, i) in &c.instances {
                assert!(
                    i.price_per_hour > 0.0 && i.price_per_hour < 100.0,
                    "{name} {t}"
                );
                assert!(i.memory_gib > 0.0, "{name} {t}");
                let vcpus_ok = match i.vcpus {
                    Some(n) => n >= 1,
                    None => i.service == Service::Cache,
                };
                assert!(vcpus_ok, "{name} {t}: vCPUs");
                assert!(i.source.len() > 10, "{name} {t}: a source");
                assert!(is_date(&i.date), "{name} {t}: a date");
                assert!(c.service(i.service).is_some(), "{name} {t}");
            }
            assert!(c.service(Service::Compute).is_some(), "{name} sells VMs");
        }
    }

    #[test]
    fn the_aws_catalogue_keeps_its_types_prefixes_and_t3_baselines() {
        let c = Catalogue::bundled();
        for (name, t) in &c.instances {
            let prefix_ok = match t.service {
                Service::Compute => !name.starts_with("cache.") && !name.starts_with("db."),
                Service::Cache => name.starts_with("cache."),
                Service::Database => name.starts_with("db."),
            };
            assert!(prefix_ok, "{name} has the prefix of its service");
            if let Some(b) = t.baseline_pct {
                assert!(b > 0.0 && b < 100.0 && name.starts_with("t3."), "{name}");
            }
        }
        assert_eq!(c.get("t3.small").unwrap().baseline_pct, Some(20.0));
        assert_eq!(c.service_label(Service::Compute), "EC2");
        assert_eq!(c.service_label(Service::Database), "RDS");
        assert_eq!(c.service_label(Service::Cache), "ElastiCache");
        let d = &c.discounts;
        assert!((0.0..1.0).contains(&d.reserved.as_ref().unwrap().price));
        assert!((0.0..1.0).contains(&d.spot.as_ref().unwrap().price));
    }

    #[test]
    fn seed_instance_types_are_present() {
        // The types the seed documents name.
        let c = Catalogue::bundled();
        for name in [
            "t3.medium",
            "m5.large",
            "m5.xlarge",
            "r5.large",
            "cache.r5.large",
        ] {
            assert!(c.get(name).is_some(), "{name}");
        }
        assert_eq!(c.get("m5.large").unwrap().price_per_hour, 0.096);
        assert_eq!(c.get("m5.large").unwrap().vcpus, Some(2));
    }

    #[test]
    fn the_example_catalogue_in_the_docs_is_valid() {
        let docs = include_str!("../../docs/cost-and-slos.md");
        let example = docs
            .split("```toml\n")
            .filter_map(|b| b.split("```").next())
            .find(|b| b.starts_with("[meta]"))
            .expect("docs/cost-and-slos.md shows a catalogue file");
        let c = Catalogue::parse(example, "docs").unwrap();
        assert_eq!(c.get("vm.big").unwrap().price_per_hour, 0.5);
        let e = Catalogue::parse(&example.replace("\nvcpus", "\nvcpu"), "prices.toml").unwrap_err();
        assert!(
            docs.contains(&e[..e.find(", expected").unwrap()].replace(": in", ":\nin")),
            "the docs quote the error: {e}"
        );
    }

    #[test]
    fn a_broken_catalogue_is_reported_at_its_line_and_field() {
        let good = "[meta]\nname = \"x\"\nprovider = \"p\"\nregion = \"r\"\ncurrency = \"USD\"\n\n\
            [services.compute]\nname = \"VM\"\nbilling = \"per_second\"\nminimum_s = 60\nsource = \"https://example.com/p\"\ndate = \"2026-07\"\n\n\
            [instances.a]\nservice = \"compute\"\nvcpus = 2\nmemory_gib = 8\nprice_per_hour = 0.1\nsource = \"https://example.com/p\"\ndate = \"2026-07\"\n";
        assert!(Catalogue::parse(good, "x.toml").is_ok());
        let e = Catalogue::parse(
            &good.replace("price_per_hour = 0.1", "price_per_hour = 0"),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.starts_with("x.toml:18:"), "{e}");
        assert!(e.contains("instances.a.price_per_hour"), "{e}");
        let e = Catalogue::parse(&good.replace("vcpus = 2", "vcpu = 2"), "x.toml").unwrap_err();
        assert!(
            e.starts_with("x.toml:16:") && e.contains("unknown field `vcpu`"),
            "{e}"
        );
        let e = Catalogue::parse(
            &good.replace("date = \"2026-07\"\n\n", "date = \"July\"\n\n"),
            "x.toml",
        )
        .unwrap_err();
        assert!(
            e.contains("services.compute.date") && e.contains("YYYY-MM"),
            "{e}"
        );
        let e = Catalogue::parse(
            &good.replace("service = \"compute\"", "service = \"cache\""),
            "x.toml",
        )
        .unwrap_err();
        assert!(e.contains("[services.cache]"), "{e}");
        // vCPUs may be left out of cache types only.
        let e = Catalogue::parse(&good.replace("vcpus = 2\n", ""), "x.toml").unwrap_err();
        assert!(
            e.starts_with("x.toml:14:") && e.contains("instances.a.vcpus") && e.contains("compute"),
            "{e}"
        );
        let cache = good
            .replace("vcpus = 2\n", "")
            .replace("service = \"compute\"", "service = \"cache\"")
            + "\n[services.cache]\nname = \"Cache\"\nbilling = \"per_hour\"\nsource = \"https://example.com/p\"\ndate = \"2026-07\"\n";
        let c = Catalogue::parse(&cache, "x.toml").unwrap();
        assert_eq!(c.get("a").unwrap().vcpus, None);
    }
}

//! The instance catalogue: list prices, vCPUs and memory of the instance
//! types a scenario may name, with the source and date of every price.
//!
//! The catalogue is a TOML file embedded in the binary
//! (`catalogue/aws-us-east-1.toml`); `capsim catalogue` prints it.

use std::sync::OnceLock;

use indexmap::IndexMap;
use serde::Deserialize;

/// The bundled catalogue's text.
pub const AWS_US_EAST_1: &str = include_str!("../catalogue/aws-us-east-1.toml");

/// Which AWS service sells an instance type, and so which tiers may use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// EC2: API, worker and station tiers.
    Ec2,
    /// ElastiCache: cache tiers (one node per shard).
    Elasticache,
    /// RDS: database tiers (one instance per node).
    Rds,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::Ec2 => "EC2",
            Service::Elasticache => "ElastiCache",
            Service::Rds => "RDS",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub service: Service,
    pub vcpus: u32,
    pub memory_gib: f64,
    /// On-demand list price, USD per hour.
    pub price_per_hour: f64,
    /// EC2 types: hardware threads per physical core (2 with
    /// hyperthreading, 1 on Graviton); each is a vCPU.
    #[serde(default)]
    pub threads_per_core: Option<u32>,
    /// Burstable (T) types: the baseline CPU utilisation per vCPU, percent.
    #[serde(default)]
    pub baseline_pct: Option<f64>,
    /// Where and when the price was read.
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    pub currency: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discounts {
    pub reserved: f64,
    pub reserved_source: String,
    pub spot: f64,
    pub spot_source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    pub cdn_per_gb: f64,
    pub cdn_source: String,
    pub egress_per_gb: f64,
    pub egress_source: String,
    pub cross_region_per_gb: f64,
    pub cross_region_source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    pub per_hour: f64,
    pub source: String,
}

/// CPU credits of burstable types.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Burstable {
    /// Price of surplus credits in unlimited mode, USD per vCPU-hour.
    pub surplus_per_vcpu_hour: f64,
    pub source: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub meta: Meta,
    pub discounts: Discounts,
    pub traffic: Traffic,
    pub load_balancer: LoadBalancer,
    pub burstable: Burstable,
    pub instances: IndexMap<String, InstanceType>,
}

impl Catalogue {
    /// The bundled catalogue (parsed once).
    pub fn bundled() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            toml::from_str(AWS_US_EAST_1).expect("the bundled catalogue is valid (tested)")
        })
    }

    pub fn get(&self, name: &str) -> Option<&InstanceType> {
        self.instances.get(name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalogue_parses_and_is_sane() {
        let c = Catalogue::bundled();
        assert_eq!(c.meta.currency, "USD");
        assert!(!c.instances.is_empty());
        for (name, t) in &c.instances {
            assert!(t.price_per_hour > 0.0 && t.price_per_hour < 100.0, "{name}");
            assert!(t.vcpus >= 1 && t.memory_gib > 0.0, "{name}");
            assert!(t.source.starts_with("https://aws.amazon.com/"), "{name}");
            assert!(t.source.contains("(20"), "{name}: a date");
            let prefix_ok = match t.service {
                Service::Ec2 => !name.starts_with("cache.") && !name.starts_with("db."),
                Service::Elasticache => name.starts_with("cache."),
                Service::Rds => name.starts_with("db."),
            };
            assert!(prefix_ok, "{name} has the prefix of its service");
        }
        for (name, t) in &c.instances {
            if let Some(b) = t.baseline_pct {
                assert!(b > 0.0 && b < 100.0 && name.starts_with("t3."), "{name}");
            }
        }
        assert_eq!(c.get("t3.small").unwrap().baseline_pct, Some(20.0));
        for (name, t) in &c.instances {
            let threads = t.threads_per_core;
            match t.service {
                Service::Ec2 => assert!(matches!(threads, Some(1 | 2)), "{name}"),
                _ => assert!(threads.is_none(), "{name}"),
            }
        }
        assert!((0.0..1.0).contains(&c.discounts.reserved));
        assert!((0.0..1.0).contains(&c.discounts.spot));
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
        assert_eq!(c.get("m5.large").unwrap().vcpus, 2);
    }
}

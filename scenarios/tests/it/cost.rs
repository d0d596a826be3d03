//! The bill: fixed fleets against hand-computed figures, billing minimums
//! and partial hours, the purchase mix, traffic per GB, the load balancers'
//! line, lines that multiply out, and the cost series.

use capsim_models::{BillLine, ReplicationResult};

use crate::common::*;

fn tier_cost(r: &ReplicationResult, tier: &str) -> f64 {
    metric(r, tier, "cost_usd")
}

#[track_caller]
fn assert_usd(what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() < 1e-9,
        "{what}: {got} USD, expected {expected}"
    );
}

/// Line `name` of a tier's bill.
fn line<'a>(r: &'a ReplicationResult, tier: &str, name: &str) -> &'a BillLine {
    let bill = r.tier(tier).unwrap().bill.as_ref().expect("a priced tier");
    bill.lines
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{tier} has no line {name}"))
}

/// Every line of every priced tier multiplies out, and the lines add up to
/// the tier's cost.
#[track_caller]
fn assert_lines_multiply_out(r: &ReplicationResult) {
    for t in &r.tiers {
        let Some(bill) = &t.bill else { continue };
        for l in &bill.lines {
            let product = l.unit_hours * l.rate_per_hour + l.top_up_usd;
            assert!(
                (product - l.usd).abs() < 1e-9,
                "{} {}: {} × {} + {} = {product}, billed {}",
                t.name,
                l.name,
                l.unit_hours,
                l.rate_per_hour,
                l.top_up_usd,
                l.usd
            );
        }
        let lines: f64 = bill.lines.iter().map(|l| l.usd).sum();
        assert_usd(&t.name, lines, t.metric("cost_usd").unwrap());
    }
}

/// Answers (completions) of a class inside the measured window.
fn answered_in_window(r: &ReplicationResult, class: &str, from_interval: usize) -> f64 {
    r.class(class).unwrap().series.completed[from_interval..]
        .iter()
        .sum()
}

const FIXED_FLEET: &str = r#"
[scenario]
name = "fleet"
[simulation]
duration = "2h"
warmup = "30m"
replications = 2
seed = 21
[classes.page]
rate_per_s = 20
response_size = "100KB"
route = [ { api = "web", cpu = { dist = "exponential", mean = "5ms" } }, { db = "pg", query = "read" } ]
[classes.asset]
rate_per_s = 30
response_size = "1MB"
route = [ { cdn = "edge" } ]
[classes.legacy]
rate_per_s = 1
route = [ "old", { cache = "redis" }, { enqueue = "jobs", job = "mail" } ]
[tiers.web]
kind = "api"
instances = 3
instance_type = "m5.xlarge"
[tiers.jobs]
kind = "workers"
workers = 2
instance_type = "r5.large"
purchase = { reserved = 0.5, reserved_discount = 0.4 }
queues = { default = {} }
jobs = { mail = { queue = "default", service = { dist = "exponential", mean = "50ms" } } }
[tiers.redis]
kind = "cache"
shards = 2
hit_ratio = 0.9
instance_type = "cache.r5.large"
[tiers.pg]
kind = "database"
instance_type = "db.r5.xlarge"
replica_instance_type = "db.r5.large"
replicas = 1
queries = { read = { kind = "read", cpu = { dist = "exponential", mean = "1ms" } } }
[tiers.old]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "10ms" }
price_per_hour = 0.05
[tiers.edge]
kind = "cdn"
hit_ratio = 0.95
"#;

#[test]
fn a_fixed_fleet_costs_exactly_what_the_catalogue_says() {
    let s = scenario(FIXED_FLEET);
    // Cores come from the instance types' vCPUs.
    match &s.platform.tiers[0].kind {
        capsim_models::TierKind::Api(a) => assert_eq!(a.cores, 4),
        other => panic!("{other:?}"),
    }
    let results = run(&s);
    // The measured window is 1.5 h (2 h minus 30 min of warm-up).
    let h = 1.5;
    let web = 3.0 * 0.192 * h; // 3 × m5.xlarge
    let lb = 0.0225 * h; // the ALB in front of web, on its own line
    let jobs = 2.0 * 0.126 * (0.5 + 0.5 * (1.0 - 0.4)) * h; // half reserved at 40% off
    let redis = 2.0 * 0.216 * h; // ElastiCache node-hours
    let pg = (0.50 + 0.25) * h; // db.r5.xlarge primary, db.r5.large replica
    let old = 0.05 * h; // a custom price
    for r in &results {
        assert_usd("web", tier_cost(r, "web"), web);
        assert_usd("load balancer", r.load_balancers.usd, lb);
        assert_eq!(r.load_balancers.balancers, 1);
        assert_eq!(r.load_balancers.per_hour, 0.0225);
        // The lines: unit-hours × the rate each is billed at.
        let l = line(r, "web", "units");
        assert_usd("web unit-hours", l.unit_hours, 3.0 * h);
        assert_eq!((l.list_per_hour, l.rate_per_hour), (0.192, 0.192));
        let l = line(r, "jobs", "units");
        assert_usd("jobs unit-hours", l.unit_hours, 2.0 * h);
        assert_eq!(l.list_per_hour, 0.126);
        assert_usd("jobs blended rate", l.rate_per_hour, 0.126 * 0.8);
        let (p, rep) = (line(r, "pg", "primary"), line(r, "pg", "replicas"));
        assert_eq!(
            (p.label.as_str(), rep.label.as_str()),
            ("db.r5.xlarge", "db.r5.large")
        );
        assert_usd("pg primary", p.usd, 1.0 * 0.50 * h);
        assert_usd("pg replicas", rep.usd, 1.0 * 0.25 * h);
        assert_usd("pg replica unit-hours", rep.unit_hours, h);
        assert_eq!(rep.rate_per_hour, 0.25);
        assert_lines_multiply_out(r);
        assert_usd("jobs", tier_cost(r, "jobs"), jobs);
        assert_usd("redis", tier_cost(r, "redis"), redis);
        assert_usd("pg", tier_cost(r, "pg"), pg);
        assert_usd("old", tier_cost(r, "old"), old);
        assert_usd("edge", tier_cost(r, "edge"), 0.0);
        // Traffic: bytes of answers in the window, per GB (2^30 bytes).
        let gb = 1024.0 * 1024.0 * 1024.0;
        let egress = answered_in_window(r, "page", 30) * 100.0 * 1024.0 / gb * 0.09;
        let cdn = answered_in_window(r, "asset", 30) * 1024.0 * 1024.0 / gb * 0.085;
        assert!(
            (r.traffic.egress_usd - egress).abs() < 1e-9 * egress,
            "{} vs {egress}",
            r.traffic.egress_usd
        );
        assert!((r.traffic.cdn_usd - cdn).abs() < 1e-9 * cdn);
        assert!(egress > 0.5 && cdn > 5.0, "{egress} {cdn}");
        assert_usd(
            "total",
            r.cost_usd(),
            web + lb + jobs + redis + pg + old + egress + cdn,
        );
        assert_eq!(r.traffic.cross_region_usd, 0.0);
        assert_eq!(r.traffic.cross_region_gb, 0.0);
    }
}

#[test]
fn the_cost_series_adds_up_to_the_bill_and_covers_the_warmup_too() {
    let results = run(&scenario(FIXED_FLEET));
    for r in &results {
        for t in &r.tiers {
            let series = t.series("cost_usd").unwrap();
            assert_eq!(series.len(), 120);
            let measured: f64 = series[30..].iter().sum();
            assert!(
                (measured - t.metric("cost_usd").unwrap()).abs() < 1e-9,
                "{}",
                t.name
            );
        }
        // One minute of the web tier: 3 × 0.192 / 60; of its balancer
        // 0.0225 / 60.
        let web = r.tier("web").unwrap().series("cost_usd").unwrap();
        assert!((web[0] - 3.0 * 0.192 / 60.0).abs() < 1e-12);
        let lb = &r.load_balancers.series;
        assert!((lb[0] - 0.0225 / 60.0).abs() < 1e-12);
        assert!((lb[30..].iter().sum::<f64>() - r.load_balancers.usd).abs() < 1e-9);
        let traffic: f64 = r.traffic.series[30..].iter().sum();
        assert!((traffic - r.traffic.cdn_usd - r.traffic.egress_usd).abs() < 1e-9);
        let whole: f64 = r.cost_series()[30..].iter().sum();
        assert!((whole - r.cost_usd()).abs() < 1e-9);
    }
}

#[test]
fn billing_minimums_and_partial_hours_apply_to_short_lived_units() {
    // One hour, no warm-up. Scheduled actions launch a unit and remove it
    // soon after; each is billed as its service bills:
    //  * EC2 (per second, 60 s minimum): an m5.large launched at 10:00 and
    //    removed at 10:30 while still booting: billed 60 s.
    //  * RDS (per second, 10 min minimum): a db.r5.large replica created at
    //    10 min and removed at 15 min (still being created): billed 10 min.
    //  * ElastiCache (per node-hour): a shard added at 10 min and removed at
    //    40 min: billed a full hour.
    //  * A custom per-hour price on workers: a worker living 30 s: an hour.
    let s = scenario(
        r#"
[scenario]
name = "minimums"
[simulation]
duration = "1h"
replications = 2
seed = 22
[classes.page]
rate_per_s = 5
route = [ { api = "web", cpu = { dist = "exponential", mean = "5ms" } }, { cache = "redis" }, { db = "pg", query = "read" }, { enqueue = "jobs", job = "mail" } ]
[cost]
load_balancer_per_hour = 0
[tiers.web]
kind = "api"
instances = 2
instance_type = "m5.large"
scaling = { min = 2, max = 4, schedule = [ { at = "10m", desired = 3 }, { at = "10m30s", desired = 2 } ] }
[tiers.pg]
kind = "database"
instance_type = "db.r5.large"
replicas = 0
queries = { read = { kind = "read", cpu = { dist = "exponential", mean = "1ms" } } }
scaling = { min = 0, max = 2, schedule = [ { at = "10m", desired = 1 }, { at = "15m", desired = 0 } ] }
[tiers.redis]
kind = "cache"
shards = 1
hit_ratio = 0.9
instance_type = "cache.r5.large"
scaling = { min = 1, max = 2, schedule = [ { at = "10m", desired = 2 }, { at = "40m", desired = 1 } ] }
[tiers.jobs]
kind = "workers"
workers = 1
price_per_hour = 0.1
billing = "per_hour"
queues = { default = {} }
jobs = { mail = { queue = "default", service = { dist = "exponential", mean = "10ms" } } }
scaling = { min = 1, max = 2, schedule = [ { at = "5m", desired = 2 }, { at = "5m30s", desired = 1 } ] }
"#,
    );
    let results = run(&s);
    for r in &results {
        assert_eq!(r.scaling.len(), 8);
        assert_usd(
            "web",
            tier_cost(r, "web"),
            2.0 * 0.096 + 0.096 * 60.0 / 3600.0,
        );
        assert_usd("pg", tier_cost(r, "pg"), 0.25 + 0.25 * 600.0 / 3600.0);
        assert_usd("redis", tier_cost(r, "redis"), 0.216 + 0.216);
        assert_usd("jobs", tier_cost(r, "jobs"), 0.1 + 0.1);
        // The top-ups are parts of the lines of their own, so that
        // unit-hours × rate + top-ups is the line.
        let web = line(r, "web", "units");
        assert_usd("web unit-hours", web.unit_hours, 2.0 + 30.0 / 3600.0);
        assert_usd("web top-up", web.top_up_usd, 0.096 * 30.0 / 3600.0);
        let pg = line(r, "pg", "replicas");
        assert_usd("pg replica unit-hours", pg.unit_hours, 5.0 / 60.0);
        assert_usd("pg replica top-up", pg.top_up_usd, 0.25 * 5.0 / 60.0);
        assert_usd(
            "pg primary top-up",
            line(r, "pg", "primary").top_up_usd,
            0.0,
        );
        let redis = line(r, "redis", "units");
        assert_usd("redis top-up", redis.top_up_usd, 0.216 * 0.5);
        let jobs = line(r, "jobs", "units");
        assert_usd(
            "jobs top-up",
            jobs.top_up_usd,
            0.1 * (3600.0 - 30.0) / 3600.0,
        );
        assert_lines_multiply_out(r);
        // The web top-up lands in the minute the unit terminated (10:30):
        // 2 instances' minute, plus the 30 s the third accrued, plus 30 s more.
        let web = r.tier("web").unwrap().series("cost_usd").unwrap();
        assert!(
            (web[10] - (2.0 * 0.096 / 60.0 + 0.096 / 60.0)).abs() < 1e-12,
            "{}",
            web[10]
        );
    }
}

#[test]
fn scenario_prices_override_the_catalogue() {
    let text = FIXED_FLEET
        .replace(
            "instance_type = \"m5.xlarge\"",
            "instance_type = \"m5.xlarge\"\nprice_per_hour = 0.1\ncores = 4",
        )
        .replace(
            "[tiers.edge]",
            "[cost]\ncdn_per_gb = 0.02\negress_per_gb = 0.05\nload_balancer_per_hour = 0.03\n[tiers.edge]",
        );
    let s = scenario(&text);
    let b = s.platform.tiers[0].billing.as_ref().unwrap();
    assert_eq!(b.price_per_hour, 0.1);
    assert_eq!(b.load_balancer_per_hour, 0.03);
    assert_eq!(b.label, "m5.xlarge (price overridden)");
    assert_eq!(s.platform.traffic.cdn_per_gb, 0.02);
    assert_eq!(s.platform.traffic.egress_per_gb, 0.05);
    let r = &run(&s)[0];
    assert_usd("web", tier_cost(r, "web"), 3.0 * 0.1 * 1.5);
    assert_usd("load balancer", r.load_balancers.usd, 0.03 * 1.5);
}

/// A catalogue of one's own, in the bundled catalogues' format: made-up
/// types whose bill is computed by hand below.
const OWN_PRICES: &str = r#"
[meta]
name = "own"
provider = "on-prem"
region = "lab"
currency = "USD"

[services.compute]
name = "VMs"
billing = "per_second"
minimum_s = 60
source = "our rate card"
date = "2026-11"

[services.database]
name = "Postgres"
billing = "per_second"
minimum_s = 600
source = "our rate card"
date = "2026-11"

[services.cache]
name = "Redis"
billing = "per_hour"
source = "our rate card"
date = "2026-11"

[traffic.cdn_per_gb]
price = 0.05
source = "our CDN contract"
date = "2026-11"

[traffic.egress_per_gb]
price = 0.1
source = "our transit contract"
date = "2026-11"

[load_balancer]
price = 0.03
source = "our rate card"
date = "2026-11"

[instances."vm.big"]
service = "compute"
vcpus = 4
memory_gib = 16
price_per_hour = 0.5
source = "our rate card"
date = "2026-11"

[instances."vm.small"]
service = "compute"
vcpus = 2
memory_gib = 16
price_per_hour = 0.2
source = "our rate card"
date = "2026-11"

[instances."kv.one"]
service = "cache"
vcpus = 2
memory_gib = 13
price_per_hour = 0.3
source = "our rate card"
date = "2026-11"

[instances."pg.big"]
service = "database"
vcpus = 4
memory_gib = 32
price_per_hour = 0.8
source = "our rate card"
date = "2026-11"

[instances."pg.small"]
service = "database"
vcpus = 2
memory_gib = 16
price_per_hour = 0.4
source = "our rate card"
date = "2026-11"
"#;

/// A scenario directory of its own under the system's temporary directory.
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("capsim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_fleet_priced_with_a_catalogue_file_costs_what_the_file_says() {
    let dir = scratch_dir("own-catalogue");
    std::fs::write(dir.join("prices.toml"), OWN_PRICES).unwrap();
    let text = FIXED_FLEET
        .replace("\"m5.xlarge\"", "\"vm.big\"")
        .replace("\"r5.large\"", "\"vm.small\"")
        .replace("\"cache.r5.large\"", "\"kv.one\"")
        .replace("\"db.r5.xlarge\"", "\"pg.big\"")
        .replace("\"db.r5.large\"", "\"pg.small\"")
        + "[cost]\ncatalogue = \"prices.toml\"\n";
    let s = capsim_scenarios::load_str_in("fleet.toml", &text, Some(&dir), &[]).unwrap();
    match &s.platform.tiers[0].kind {
        capsim_models::TierKind::Api(a) => assert_eq!(a.cores, 4),
        other => panic!("{other:?}"),
    }
    let results = run(&s);
    let h = 1.5;
    let web = 3.0 * 0.5 * h; // 3 × vm.big
    let lb = 0.03 * h; // the file's load balancer, a line of its own
    let jobs = 2.0 * 0.2 * (0.5 + 0.5 * (1.0 - 0.4)) * h;
    let redis = 2.0 * 0.3 * h;
    let pg = (0.8 + 0.4) * h;
    let old = 0.05 * h;
    let gb = 1024.0 * 1024.0 * 1024.0;
    for r in &results {
        assert_usd("web", tier_cost(r, "web"), web);
        assert_usd("load balancer", r.load_balancers.usd, lb);
        assert_usd("jobs", tier_cost(r, "jobs"), jobs);
        assert_usd("redis", tier_cost(r, "redis"), redis);
        assert_usd("pg", tier_cost(r, "pg"), pg);
        assert_usd("old", tier_cost(r, "old"), old);
        let egress = answered_in_window(r, "page", 30) * 100.0 * 1024.0 / gb * 0.1;
        let cdn = answered_in_window(r, "asset", 30) * 1024.0 * 1024.0 / gb * 0.05;
        assert!((r.traffic.egress_usd - egress).abs() < 1e-9 * egress);
        assert!((r.traffic.cdn_usd - cdn).abs() < 1e-9 * cdn);
        assert!(egress > 0.5 && cdn > 3.0, "{egress} {cdn}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bundled_catalogue_is_chosen_by_name_and_bills_with_its_own_granularity() {
    // GCP: n2-standard-4 at the catalogue's price, Cloud SQL per second,
    // Memorystore cluster nodes (sold without vCPUs) per node.
    let text = FIXED_FLEET
        .replace("\"m5.xlarge\"", "\"n2-standard-4\"")
        .replace("\"r5.large\"", "\"n2d-standard-2\"")
        .replace("\"cache.r5.large\"", "\"redis-highmem-medium\"")
        .replace("\"db.r5.xlarge\"", "\"db-custom-4-16384\"")
        .replace("\"db.r5.large\"", "\"db-custom-2-8192\"")
        + "[cost]\ncatalogue = \"gcp-us-central1\"\n";
    let s = scenario(&text);
    let results = run(&s);
    let h = 1.5;
    let web = 3.0 * 0.194236 * h;
    let lb = 0.025 * h; // a forwarding rule
    let pg = (4.0 * 0.0413 + 16.0 * 0.007 + 2.0 * 0.0413 + 8.0 * 0.007) * h;
    let redis = 2.0 * 0.1923 * h; // two shards, one node each
    for r in &results {
        assert_usd("web", tier_cost(r, "web"), web);
        assert_usd("redis", tier_cost(r, "redis"), redis);
        assert_usd("load balancer", r.load_balancers.usd, lb);
        assert!(
            (tier_cost(r, "pg") - pg).abs() < 1e-6,
            "{}",
            tier_cost(r, "pg")
        );
    }
    // Azure: no CDN or egress price in the catalogue, so the scenario must
    // give them; the load balancer's is the catalogue's.
    let text = FIXED_FLEET
        .replace("\"m5.xlarge\"", "\"Standard_D4s_v5\"")
        .replace("instance_type = \"r5.large\"", "price_per_hour = 0.1")
        .replace("instance_type = \"cache.r5.large\"", "price_per_hour = 0.3")
        .replace(
            "instance_type = \"db.r5.xlarge\"\nreplica_instance_type = \"db.r5.large\"",
            "price_per_hour = 0.5\nprimary = { cores = 4 }",
        )
        + "[cost]\ncatalogue = \"azure-eastus\"\n";
    let err = capsim_scenarios::load_str("fleet", &text, &[])
        .unwrap_err()
        .to_string();
    assert!(!err.contains("load_balancer_per_hour"), "{err}");
    for key in ["cdn_per_gb", "egress_per_gb"] {
        assert!(
            err.contains(&format!(
                "field `cost.{key}`: the catalogue azure-eastus has no price"
            )),
            "{err}"
        );
    }
    let s = scenario(&(text + "cdn_per_gb = 0.08\negress_per_gb = 0.087\n"));
    let results = run(&s);
    for r in &results {
        assert_usd("web", tier_cost(r, "web"), 3.0 * 0.192 * 1.5);
        assert_usd("load balancer", r.load_balancers.usd, 0.025 * 1.5);
    }
}

//! The bill as a reviewer reads it: summary.json's lines multiply out, the
//! load balancers have a line of their own, and the peak cost per hour of a
//! fleet that steps up is the bigger fleet's rate; the terminal table and
//! report.md show the same lines.

use capsim_models::ReplicationResult;
use capsim_output::Summary;

use crate::common::run_summarized;
use sim_engine::Estimate;

fn summarize(text: &str) -> (Summary, Vec<ReplicationResult>) {
    let ran = run_summarized("cost test", text, &[]);
    (ran.summary, ran.results)
}

#[track_caller]
fn exact(what: &str, e: &Estimate, expected: f64) {
    assert!(
        (e.estimate - expected).abs() < 1e-9 && (e.ci95[1] - e.ci95[0]).abs() < 1e-9,
        "{what}: {e:?}, expected exactly {expected}"
    );
}

/// 2 m5.large ($0.096/h) until 30 min, 5 from then on (a scheduled
/// action; units are billed from launch, booting included), behind one ALB
/// ($0.0225/h); a database with a primary and two replicas of another type.
const STEP: &str = r#"
[scenario]
name = "step"
[simulation]
duration = "1h"
warmup = "10m"
replications = 3
seed = 5
[classes.page]
rate_per_s = 2
route = [ { api = "web", cpu = { dist = "exponential", mean = "5ms" } }, { db = "pg", query = "read" } ]
[tiers.web]
kind = "api"
instances = 2
instance_type = "m5.large"
scaling = { min = 2, max = 5, schedule = [ { at = "30m", desired = 5 } ] }
[tiers.pg]
kind = "database"
instance_type = "db.r5.xlarge"
replica_instance_type = "db.r5.large"
replicas = 2
queries = { read = { kind = "read", cpu = { dist = "exponential", mean = "1ms" } } }
"#;

#[test]
fn lines_multiply_out_and_the_peak_is_the_stepped_up_fleet() {
    let (s, results) = summarize(STEP);
    let c = &s.cost_usd;
    let h = 50.0 / 60.0;
    // web: 2 units for 20 measured minutes, 5 for 30.
    let web = &c.tiers["web"];
    let units = &web.lines["units"];
    let unit_hours = 2.0 * 20.0 / 60.0 + 5.0 * 30.0 / 60.0;
    exact("web unit-hours", &units.unit_hours, unit_hours);
    exact("web mean units", &units.mean_units, unit_hours / h);
    assert_eq!(units.price_per_unit_hour, 0.096);
    assert_eq!(web.purchase.as_deref(), Some("on demand"));
    exact("web top-ups", &units.top_ups, 0.0);
    exact("web", &units.total, unit_hours * 0.096);
    exact("web tier", &web.total, unit_hours * 0.096);
    // The database: primary and replicas priced apart.
    let pg = &c.tiers["pg"];
    let keys: Vec<&str> = pg.lines.keys().map(String::as_str).collect();
    assert_eq!(keys, ["primary", "replicas"]);
    let (p, r) = (&pg.lines["primary"], &pg.lines["replicas"]);
    assert_eq!(
        (p.priced_as.as_str(), p.price_per_unit_hour),
        ("db.r5.xlarge", 0.5)
    );
    assert_eq!(
        (r.priced_as.as_str(), r.price_per_unit_hour),
        ("db.r5.large", 0.25)
    );
    exact("pg primary unit-hours", &p.unit_hours, h);
    exact("pg replica unit-hours", &r.unit_hours, 2.0 * h);
    exact("pg primary", &p.total, 0.5 * h);
    exact("pg replicas", &r.total, 2.0 * 0.25 * h);
    exact("pg", &pg.total, (0.5 + 0.5) * h);
    // The load balancer: a line of its own, not in web's.
    let lb = &c.load_balancer;
    assert_eq!((lb.balancers, lb.price_per_hour), (1, 0.0225));
    assert!((lb.hours - h).abs() < 1e-12);
    exact("load balancer", &lb.total, 0.0225 * h);
    let total = unit_hours * 0.096 + h + 0.0225 * h;
    exact("total", &c.total, total);
    exact("mean per hour", &c.per_hour, total / h);
    // The peak: any minute after 30 min, 5 × 0.096 + the primary, the
    // replicas and the balancer.
    exact(
        "peak per hour",
        &c.peak_per_hour,
        5.0 * 0.096 + 1.0 + 0.0225,
    );
    exact("cross-region", &c.traffic.cross_region, 0.0);

    // The terminal table and the report show the same lines.
    let table = capsim_output::table::render(&s);
    for line in [
        "  web ",
        "  pg primary ",
        "  pg replicas ",
        "  load balancers ",
        "USD per hour: mean ",
        ", peak 1.50 ",
    ] {
        assert!(table.contains(line), "no `{line}` in\n{table}");
    }
    let cost = &table[table.find("cost (USD, measured window)").unwrap()..];
    let row = cost.lines().find(|l| l.starts_with("  web ")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "web", "m5.large", "3.80", "0.833", "0.096", "0", "0.304", "26.30"
        ]
    );
    let report = String::from_utf8(capsim_output::report::report_md(&s, &results)).unwrap();
    assert!(
        report.contains(
            "| load balancers | per balancer-hour | 1.00 | 0.833 | 0.0225 |  | 0.019 ±0.000 |"
        ),
        "{report}"
    );
    assert!(report.contains(
        "| pg replicas | db.r5.large | 2.00 ±0.00 | 0.833 | 0.25 | 0 ±0 | 0.417 ±0.000 |"
    ));
    assert!(report.contains("| cost per hour, peak interval (USD) | 1.50 ±0 |"));
}

#[test]
fn a_blended_rate_says_how_it_is_bought() {
    let text = STEP.replace(
        "instance_type = \"m5.large\"",
        "instance_type = \"m5.large\"\npurchase = { reserved = 0.5, reserved_discount = 0.4 }",
    );
    let (s, _) = summarize(&text);
    let web = &s.cost_usd.tiers["web"];
    assert_eq!(
        web.purchase.as_deref(),
        Some("50% on demand, 50% reserved at 40% off: 80% of list")
    );
    let units = &web.lines["units"];
    assert!((units.price_per_unit_hour - 0.096 * 0.8).abs() < 1e-15);
    let product = units.unit_hours.estimate * units.price_per_unit_hour;
    assert!((product - units.total.estimate).abs() < 1e-9);
    let table = capsim_output::table::render(&s);
    assert!(table.contains("m5.large (blended)"), "{table}");
    assert!(
        table.contains(
            "web: list $0.096/unit-h, bought 50% on demand, 50% reserved at 40% off: 80% of list"
        ),
        "{table}"
    );
}

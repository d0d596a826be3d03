//! End-to-end: a scenario with regions through the `capsim` binary: the
//! per-region block of the table, `regions` in summary.json, per-region
//! names in the CSVs, the variants, and a bad `[geo]`.

use serde_json::Value;

use crate::common::{capsim, read_json, stderr};

const SHORT: &[&str] = &["--replications", "2", "--set", "simulation.duration=30m"];

#[test]
fn geo_expansion_reports_its_users_by_region() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("geo");
    let mut args = vec!["run", "geo-expansion", "--out", out.to_str().unwrap()];
    args.extend(SHORT);
    let o = capsim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("users by region"), "{table}");
    assert!(table.contains("ap-south 100.0"), "{table}");
    let s = read_json(&out.join("summary.json"));
    let regions = s["regions"].as_object().unwrap();
    assert_eq!(
        regions.keys().collect::<Vec<_>>(),
        ["us-east", "eu-central", "ap-south"]
    );
    assert_eq!(s["regions"]["ap-south"]["utc_offset_hours"], 5.5);
    assert_eq!(
        s["regions"]["ap-south"]["served_by"]["ap-south"]["estimate"],
        1.0
    );
    let p50 = |c: &str| {
        s["classes"][c]["latency_ms"]["p50"]["estimate"]
            .as_f64()
            .unwrap()
    };
    assert!(p50("browse@ap-south") < 40.0);
    assert!(p50("order@ap-south") > 220.0, "writes cross to us-east");
    assert!(s["tiers"]["pg@ap-south"]["units"].get("primary").is_none());
    // Bytes crossing regions are billed: GB × $/GB, and in the table.
    let c = &s["cost_usd"];
    let usd = c["traffic"]["cross_region"]["estimate"].as_f64().unwrap();
    let gb = c["cross_region_transfer"]["gb"]["estimate"]
        .as_f64()
        .unwrap();
    let price = c["cross_region_transfer"]["price_per_gb"].as_f64().unwrap();
    assert!(gb > 0.1 && (usd - gb * price).abs() < 1e-9 * usd, "{c}");
    assert!(table.contains("cross-region traffic"), "{table}");
    // The replica sets of the other regions are priced as replicas.
    let lines = c["tiers"]["pg@ap-south"]["lines"].as_object().unwrap();
    assert_eq!(lines.keys().collect::<Vec<_>>(), ["replicas"]);
    assert_eq!(lines["replicas"]["priced_as"], "db.r5.large");
    assert_eq!(c["load_balancer"]["balancers"], 3);
    assert_eq!(
        s["slos"]["p95-under-200ms-browse-ap-south"]["region"],
        "ap-south"
    );
    let series = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(
        series
            .lines()
            .any(|l| l.split(',').nth(4) == Some("api@eu-central")),
        "a row per interval of each region's tier"
    );
    // And per region of users, with their latency.
    let ap: Vec<&str> = series
        .lines()
        .filter(|l| {
            l.split(',').nth(3) == Some("region") && l.split(',').nth(4) == Some("ap-south")
        })
        .collect();
    assert_eq!(ap.len(), 30, "one row per minute");
    let p50: f64 = ap[20].split(',').nth(12).unwrap().parse().unwrap();
    assert!((25.0..40.0).contains(&p50), "{}", ap[20]);
}

#[test]
fn variants_move_users_between_regions() {
    let mut args = vec![
        "run",
        "geo-expansion",
        "--variant",
        "single-region",
        "--json",
    ];
    args.extend(SHORT);
    let o = capsim(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        s["regions"]["ap-south"]["served_by"]["us-east"]["estimate"],
        1.0
    );
    assert!(s["tiers"].get("api@ap-south").is_none());

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("outage");
    let o = capsim(&[
        "run",
        "geo-expansion",
        "--variant",
        "eu-outage",
        "--json",
        "--out",
        out.to_str().unwrap(),
        "--replications",
        "2",
        "--set",
        "simulation.duration=40m",
        "--set",
        r#"failures=[{ region = "eu-central", at = "1215s", duration = "10m" }]"#,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let away = s["regions"]["eu-central"]["served_by"]["us-east"]["estimate"]
        .as_f64()
        .unwrap();
    // Down for a third of the measured time, then more: eu-central comes
    // back with a cold cache and its full backlog spills users to us-east.
    assert!(away > 1.0 / 3.0 && away < 0.6, "{away}");
    // The health checks' verdicts are events: dead 15 s after the crash,
    // alive at the first check after the recovery.
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    let routing: Vec<&str> = events.lines().filter(|l| l.contains(",routing,")).collect();
    assert_eq!(routing.len(), 4, "{routing:?}");
    assert!(
        routing[0].starts_with("geo-expansion,303,1,1230,routing,,eu-central,alive,dead,"),
        "{}",
        routing[0]
    );
    assert!(
        routing[1].starts_with("geo-expansion,303,1,1830,routing,,eu-central,dead,alive,"),
        "{}",
        routing[1]
    );
}

#[test]
fn a_bad_geography_names_the_field_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("geo.toml");
    let o = capsim(&["scenarios", "show", "geo-expansion"]);
    let text = String::from_utf8_lossy(&o.stdout)
        .replace("rtt.eu-central = { ap-south = \"110ms\" }\n", "");
    std::fs::write(&file, text).unwrap();
    let o = capsim(&["validate", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("geo.rtt") && err.contains("no round trip between eu-central and ap-south"),
        "{err}"
    );
}

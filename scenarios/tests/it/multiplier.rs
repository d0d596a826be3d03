//! Traffic multipliers (`workload.multiplier`, a class's, a region's): they
//! scale the arrival rate after shares and profiles, a replayed trace's
//! absolute rates included, and a bad one is reported by field.

use capsim_scenarios::{Override, load_str, load_str_in};
use sim_engine::SimDuration;

const MIX: &str = r#"
[scenario]
name = "mix"
[simulation]
duration = "10m"
warmup = "1m"

[workload]
rate_per_s = 100

[classes.browse]
share = 0.75
route = ["web"]

[classes.buy]
share = 0.25
route = ["web"]

[tiers.web]
kind = "station"
servers = 100
service = { dist = "deterministic", value = "1ms" }
"#;

fn rates(text: &str, sets: &[&str]) -> Vec<(String, f64)> {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let s = load_str("mix", text, &overrides).unwrap_or_else(|e| panic!("{e}"));
    s.platform
        .classes
        .iter()
        .map(|c| (c.name.clone(), c.arrivals.rate_per_s))
        .collect()
}

#[test]
fn multipliers_scale_the_rates_of_the_classes_they_name() {
    let rate = |r: &[(String, f64)], name: &str| {
        r.iter().find(|(n, _)| n == name).map(|(_, x)| *x).unwrap()
    };
    let plain = rates(MIX, &[]);
    assert_eq!(rate(&plain, "browse"), 75.0);
    let all = rates(MIX, &["workload.multiplier=2"]);
    assert_eq!((rate(&all, "browse"), rate(&all, "buy")), (150.0, 50.0));
    let one = rates(MIX, &["workload.multiplier=2", "classes.buy.multiplier=3"]);
    assert_eq!((rate(&one, "browse"), rate(&one, "buy")), (150.0, 150.0));
}

#[test]
fn a_region_multiplier_scales_that_regions_users_only() {
    let text = r#"
[scenario]
name = "mix"
[simulation]
duration = "10m"
warmup = "1m"
[classes.read]
rate_per_s = 10
route = [{ api = "api" }]
[geo]
primary = "a"
regional = ["api"]
rtt.a = { b = "80ms" }
[regions.a]
share = 0.5
user_rtt = "20ms"
[regions.b]
share = 0.5
user_rtt = "20ms"
multiplier = 4
[tiers.api]
kind = "api"
instances = 2
cores = 2
cpu = { dist = "deterministic", value = "1ms" }
"#;
    let r = rates(text, &["workload.multiplier=1.5"]);
    assert_eq!(
        r,
        vec![("read@a".to_string(), 7.5), ("read@b".to_string(), 30.0)]
    );
}

#[test]
fn a_replayed_trace_scales_with_the_multiplier() {
    let dir = std::env::temp_dir().join(format!("capsim-multiplier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rates.csv"), "t,requests_per_s\n0,20\n300,40\n").unwrap();
    let text = r#"
[scenario]
name = "mix"
[simulation]
duration = "10m"
warmup = "1m"
[classes.web]
rate_per_s = 10
profile = { kind = "replay", file = "rates.csv" }
route = ["web"]
[tiers.web]
kind = "station"
servers = 100
service = { dist = "deterministic", value = "1ms" }
"#;
    let at = |sets: &[&str], t: u64| {
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let s = load_str_in("replay.toml", text, Some(&dir), &overrides)
            .unwrap_or_else(|e| panic!("{e}"));
        let c = &s.platform.classes[0];
        c.arrivals.rate_per_s * c.arrivals.profile.multiplier(SimDuration::from_secs(t))
    };
    assert_eq!(at(&[], 400), 40.0);
    assert_eq!(at(&["workload.multiplier=2.5"], 400), 100.0);
    assert_eq!(at(&["classes.web.multiplier=0.5"], 0), 10.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_multiplier_is_reported_by_field() {
    for (set, field) in [
        ("workload.multiplier=0", "workload.multiplier"),
        ("workload.multiplier=-2", "workload.multiplier"),
        ("classes.buy.multiplier=2e6", "classes.buy.multiplier"),
        ("workload.multiplier=1e6", "classes.browse"),
    ] {
        let ov = Override::parse(set).unwrap();
        let err = load_str("mix", MIX, &[ov]).expect_err(set).to_string();
        assert!(err.contains(&format!("field `{field}")), "{set}: {err}");
    }
}

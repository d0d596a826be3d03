//! Where the time goes, end to end: `capsim run` splits each class's latency
//! into parts in summary.json, the table, report.md and a plot, and gives
//! each visited tier its own latency percentiles.

use serde_json::Value;

use crate::common::{capsim, ok, read_json};

/// An API with a balancer, a cache, a database with a tight pool, a delay
/// step and clients that time out and retry: every kind of part.
const SHOP: &str = r#"
[scenario]
name = "shop"
description = "every part of a request's time"

[simulation]
duration = "20m"
warmup = "2m"
replications = 3
seed = 5

[classes.browse]
rate_per_s = 100.0
timeout = "30ms"
retries = 2
route = [
  { api = "web", cpu = { dist = "exponential", mean = "2ms" } },
  { cache = "redis", on_miss = [{ db = "pg", query = "read" }, { cache = "redis", op = "set" }] },
  { delay = { dist = "deterministic", value = "1ms" } },
]

[tiers.web]
kind = "api"
instances = 1
cores = 1
workers = 8
balancer_latency = "0.5ms"

[tiers.redis]
kind = "cache"
hit_ratio = 0.5
rtt = "0.3ms"

[tiers.pg]
kind = "database"
primary = { cores = 2 }
pool = { size = 1, acquire_timeout = "5s" }
rtt = "0.5ms"
queries.read = { kind = "read", cpu = { dist = "exponential", mean = "1ms" }, io = { dist = "exponential", mean = "4ms" } }
"#;

fn parts(summary: &Value, class: &str) -> Vec<(String, Value)> {
    summary["classes"][class]["breakdown"]
        .as_array()
        .expect("a breakdown")
        .iter()
        .map(|p| {
            let tier = p["tier"]
                .as_str()
                .map_or(String::new(), |t| format!("{t} "));
            (format!("{tier}{}", p["part"].as_str().unwrap()), p.clone())
        })
        .collect()
}

#[test]
fn a_run_says_where_each_class_spends_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("shop.toml");
    std::fs::write(&scenario, SHOP).unwrap();
    let out = dir.path().join("out");
    let table = ok(&capsim(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]));
    let s = read_json(&out.join("summary.json"));
    let parts = parts(&s, "browse");
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    // In the order a request meets them, the parts at no tier last.
    assert_eq!(
        names,
        [
            "web network",
            "web queue",
            "web service",
            "redis queue",
            "redis service",
            "redis network",
            "pg pool_wait",
            "pg queue",
            "pg service",
            "pg network",
            "delay",
            "retry",
        ]
    );
    let get = |name: &str, key: &str| -> f64 {
        let (_, p) = parts.iter().find(|(n, _)| n == name).unwrap();
        p[key]["estimate"].as_f64().unwrap()
    };
    // Fixed parts are what the scenario says: the balancer, the delay step,
    // a cache round trip per command (a GET, and a SET on half of them).
    assert!((get("web network", "mean_ms") - 0.5).abs() < 1e-9);
    assert!((get("delay", "mean_ms") - 1.0).abs() < 1e-9);
    let redis_net = get("redis network", "mean_ms");
    assert!((0.3 * 1.4..0.3 * 1.6).contains(&redis_net), "{redis_net}");
    // One connection for ~50 reads/s of 5 ms: reads wait for it; the
    // slowest 1% are mostly requests that timed out (30 ms) and retried.
    assert!(get("pg pool_wait", "mean_ms") > 0.3);
    assert!(get("retry", "p99_tail_share") > 0.5);
    // The parts add up to the class's mean latency, and the shares to 1.
    let mean = s["classes"]["browse"]["latency_ms"]["mean"]["estimate"]
        .as_f64()
        .unwrap();
    let sum: f64 = names.iter().map(|n| get(n, "mean_ms")).sum();
    assert!((sum - mean).abs() < 1e-6 * mean, "{sum} vs {mean}");
    for key in ["share", "p99_tail_share"] {
        let total: f64 = names.iter().map(|n| get(n, key)).sum();
        assert!((total - 1.0).abs() < 1e-9, "{key}: {total}");
    }
    // The slowest 1% are slower than the mean in total.
    let tail: f64 = names.iter().map(|n| get(n, "p99_tail_mean_ms")).sum();
    let p99 = s["classes"]["browse"]["latency_ms"]["p99"]["estimate"]
        .as_f64()
        .unwrap();
    assert!(tail >= 0.95 * p99, "tail mean {tail} ms, p99 {p99} ms");

    // Per-tier percentiles of a visit, ordered, for the tiers routes visit.
    for tier in ["web", "redis", "pg"] {
        let l = &s["tiers"][tier]["latency_ms"];
        let q = |k: &str| l[k]["estimate"].as_f64().unwrap();
        assert!(
            q("p50") > 0.0 && q("p50") <= q("p99") && q("p99") <= q("max"),
            "{tier}: {l}"
        );
    }
    // A cache visit is the command at the shard: its 0.3 ms round trip is
    // the breakdown's network part, not the tier's latency.
    let redis_p50 = s["tiers"]["redis"]["latency_ms"]["p50"]["estimate"]
        .as_f64()
        .unwrap();
    assert!(redis_p50 < 0.1, "{redis_p50}");

    // The table names the largest parts; report.md has the section, every
    // part and the plot.
    assert!(table.contains("Where the time goes"), "{table}");
    assert!(table.contains("pg pool wait"), "{table}");
    assert!(table.contains("visit p99 ms"), "{table}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Where the time goes"), "{report}");
    for label in [
        "| web queue |",
        "| pg pool wait |",
        "| retries |",
        "| delay steps |",
    ] {
        assert!(report.contains(label), "{label} missing:\n{report}");
    }
    assert!(report.contains("plots/breakdown.png"));
    for ext in ["png", "svg"] {
        let bytes = std::fs::read(out.join(format!("plots/breakdown.{ext}"))).unwrap();
        assert!(bytes.len() > 1000, "breakdown.{ext}");
    }
    let svg = std::fs::read_to_string(out.join("plots/breakdown.svg")).unwrap();
    assert!(svg.contains("pg pool wait") && svg.contains("slowest 1%"));
}

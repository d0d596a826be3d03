//! Closed classes from the command line: `validate` states the bound its
//! capacity check assumes, `run` answers at the throughput exact MVA gives,
//! and `--set` moves the users.

use capsim_models::theory::mva;

use crate::common::*;

const SCENARIO: &str = r#"
[scenario]
name = "closed-tandem"

[simulation]
duration = "20m"
warmup = "1m"
replications = 5
seed = 3

[classes.users]
users = 10
think = { dist = "exponential", mean = "100ms" }
route = ["a", "b"]

[tiers.a]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "10ms" }

[tiers.b]
kind = "station"
servers = 1
service = { dist = "exponential", mean = "20ms" }
"#;

fn estimate(v: &serde_json::Value) -> (f64, [f64; 2]) {
    let e = v["estimate"].as_f64().unwrap();
    let ci = &v["ci95"];
    (e, [ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap()])
}

#[test]
fn a_closed_class_runs_at_mva_throughput_and_its_bound_is_stated() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("closed.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let f = file.to_str().unwrap();

    let out = ok(&capsim(&["validate", f]));
    assert!(
        out.contains("note: users is closed: its 10 users ask at most 50 req/s (b serves no more)"),
        "{out}"
    );

    for users in [10u32, 4] {
        let o = dir.path().join(format!("out{users}"));
        let set = format!("classes.users.users={users}");
        ok(&capsim(&[
            "run",
            f,
            "--quiet",
            "--set",
            &set,
            "--out",
            o.to_str().unwrap(),
        ]));
        let s = read_json(&o.join("summary.json"));
        let measured = s["measured_seconds"].as_f64().unwrap();
        let (done, ci) = estimate(&s["requests"]["completed"]);
        let exact = mva(&[(0.01, 1), (0.02, 1)], 0.1, users);
        let x = exact.throughput * measured;
        assert!(
            ci[0] <= x && x <= ci[1],
            "{users} users: {done} [{ci:?}] answered, MVA {x}"
        );
        let (_, ci) = estimate(&s["latency_ms"]["mean"]);
        let r = exact.response * 1e3;
        assert!(
            ci[0] <= r && r <= ci[1],
            "{users} users: mean {ci:?} ms, MVA {r}"
        );
        let bound = &s["capacity_check"]["closed_classes"]["users"];
        assert_eq!(bound["users"].as_f64(), Some(users as f64), "{bound}");
    }
}

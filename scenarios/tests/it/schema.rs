//! `capsim schema`: the JSON Schema accepts every bundled scenario, rejects
//! the typos and wrong shapes the loader rejects, and every field it names
//! is documented in docs/scenario-format.md.

use capsim_scenarios::{library, schema::scenario_schema};
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&scenario_schema()).expect("the schema is valid draft-07")
}

fn as_json(text: &str) -> Value {
    toml::from_str::<Value>(text).expect("TOML")
}

#[test]
fn every_bundled_scenario_matches_the_schema() {
    let v = validator();
    let mut files: Vec<(String, String)> = library::all()
        .iter()
        .map(|b| (b.name.to_string(), b.text.to_string()))
        .collect();
    let benches = concat!(env!("CARGO_MANIFEST_DIR"), "/../benches/scenarios");
    for entry in std::fs::read_dir(benches).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            files.push((path.display().to_string(), text));
        }
    }
    assert!(
        files.len() > library::all().len(),
        "the benchmark scenarios too"
    );
    for (name, text) in &files {
        let errors: Vec<String> = v
            .iter_errors(&as_json(text))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects_for_its_shape() {
    let v = validator();
    let base = library::find("black-friday").unwrap().text;
    for (old, new) in [
        ("cores = 1", "coers = 1"),
        ("[simulation]", "[simulaton]"),
        ("kind = \"cache\"", "kind = \"memcache\""),
        ("dist = \"lognormal\"", "dist = \"lognormla\""),
        ("kind = \"spike\"", "kind = \"spikey\""),
        (
            "{ cdn = \"edge\" }",
            "{ cdn = \"edge\", latency = \"1ms\" }",
        ),
        ("target = 0.70", "targt = 0.70"),
        ("replications = 3", "replications = \"three\""),
        ("duration = \"85m\"", "duration = 3"),
        ("duration = \"85m\"", "duration = \"3 hours\""),
        ("instances = 2", "instances = 2.5"),
        ("seed = 1127", "seed = -1"),
        ("mean = \"25ms\", p99", "mena = \"25ms\", p99"),
        (
            "{ db = \"pg\", query = \"order\" }",
            "{ db = \"pg\", query = \"order\", cpu = 1 }",
        ),
    ] {
        assert!(base.contains(old), "{old}");
        let text = base.replacen(old, new, 1);
        // The loader rejects it...
        assert!(
            capsim_scenarios::load_str("x", &text, &[]).is_err(),
            "{new}"
        );
        // ... and so does the schema.
        assert!(!v.is_valid(&as_json(&text)), "the schema accepts `{new}`");
    }
}

/// Every property name in the schema, with the path that leads to it.
fn property_names(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::Object(props)) = obj.get("properties") {
                for (name, sub) in props {
                    out.push((name.clone(), format!("{path}.{name}")));
                    property_names(sub, &format!("{path}.{name}"), out);
                }
            }
            for (k, sub) in obj {
                if k != "properties" {
                    property_names(sub, path, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| property_names(i, path, out)),
        _ => {}
    }
}

#[test]
fn every_field_in_the_schema_is_documented() {
    let docs = include_str!("../../../docs/scenario-format.md");
    let mut names = Vec::new();
    property_names(&scenario_schema(), "", &mut names);
    let mut missing: Vec<String> = names
        .into_iter()
        .filter(|(name, _)| {
            // `name`, `name.KEY`, name = ..., [name] or [[name]]
            ![
                format!("`{name}`"),
                format!("`{name}."),
                format!("{name} ="),
                format!("[{name}"),
                format!("[[{name}"),
            ]
            .iter()
            .any(|form| docs.contains(form.as_str()))
        })
        .map(|(name, path)| format!("{name} ({path})"))
        .collect();
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "fields of the schema not in docs/scenario-format.md:\n{}",
        missing.join("\n")
    );
}

/// The sizes of what crosses regions and its price: accepted where the
/// loader takes them, rejected where it does not, and reachable by `--set`.
#[test]
fn transfer_sizes_are_in_the_schema_and_settable() {
    let v = validator();
    let base = library::find("geo-expansion").unwrap().text;
    let pg = "[tiers.pg]\nkind = \"database\"";
    let with = |extra: &str| base.replacen(pg, &format!("{pg}\n{extra}"), 1);
    let good = base
        .replacen("request_size = \"1KB\"", "request_size = \"2KB\"", 1)
        .replacen("response_size = \"4KB\"", "response_size = \"8KB\"", 1)
        .replacen(
            "replication_size = \"2KB\"",
            "replication_size = \"3KB\"",
            1,
        )
        .replacen("job_size = \"1KB\"", "job_size = \"512B\"", 1)
        .replacen(
            "[tiers.edge]",
            "[cost]\ncross_region_per_gb = 0.01\n\n[tiers.edge]",
            1,
        );
    for given in [
        "\"2KB\"",
        "\"8KB\"",
        "\"3KB\"",
        "\"512B\"",
        "cross_region_per_gb",
    ] {
        assert!(good.contains(given), "{given}");
    }
    assert!(v.is_valid(&as_json(&good)));
    let s = capsim_scenarios::load_str("x", &good, &[]).unwrap();
    assert_eq!(s.platform.traffic.cross_region_per_gb, 0.01);
    let pg_a = s
        .platform
        .tiers
        .iter()
        .find(|t| t.name == "pg@us-east")
        .unwrap();
    assert_eq!(pg_a.transfer.request_bytes, 2048.0);
    assert_eq!(pg_a.transfer.response_bytes, 8192.0);
    assert_eq!(pg_a.transfer.replication_bytes, 3072.0);
    let workers = s
        .platform
        .tiers
        .iter()
        .find(|t| t.name == "workers")
        .unwrap();
    assert_eq!(workers.transfer.request_bytes, 512.0);
    // A key on a kind that does not take it: both refuse it.
    for bad in [
        with("job_size = \"1KB\""),
        base.replacen(
            "[tiers.api]\nkind = \"api\"",
            "[tiers.api]\nkind = \"api\"\nrequest_size = \"1KB\"",
            1,
        ),
    ] {
        assert!(capsim_scenarios::load_str("x", &bad, &[]).is_err());
        assert!(!v.is_valid(&as_json(&bad)));
    }
    // `--set` reaches them like any field.
    let sets: Vec<capsim_scenarios::Override> = [
        "tiers.pg.replication_size=16KB",
        "tiers.redis.response_size=20KB",
        "cost.cross_region_per_gb=0.03",
    ]
    .iter()
    .map(|o| capsim_scenarios::Override::parse(o).unwrap())
    .collect();
    let s = capsim_scenarios::load_str("x", base, &sets).unwrap();
    assert_eq!(s.platform.traffic.cross_region_per_gb, 0.03);
    for t in &s.platform.tiers {
        if t.name.starts_with("pg@") {
            assert_eq!(t.transfer.replication_bytes, 16.0 * 1024.0, "{}", t.name);
        }
        if t.name.starts_with("redis@") {
            assert_eq!(t.transfer.response_bytes, 20.0 * 1024.0, "{}", t.name);
        }
    }
}

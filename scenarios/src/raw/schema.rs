//! The scenario format as a JSON Schema (`capsim schema`), for editors that
//! complete and check TOML against one (Taplo / Even Better TOML, the
//! `#:schema` directive).
//!
//! It is derived from the structs that read the file (`raw`), so a field
//! cannot be added to the format without appearing here. Positions whose
//! shape depends on a tag (a tier's `kind`, a distribution's `dist`, a
//! profile's `kind`, a policy's `type`) and route steps are decoded by hand
//! in `build`; their schemas are composed below from the same structs. The
//! schema checks shape (keys, types, tags); ranges and cross-references
//! (a route naming a tier that exists) are `capsim validate`'s job.

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::{Map, Value};

use crate::raw::{self, DIST_FAMILIES, PROFILE_KINDS, TIER_KINDS, dist, profile};

/// The JSON Schema (draft-07) of a scenario file.
pub fn scenario_schema() -> Value {
    let settings = SchemaSettings::draft07();
    let generator = settings.into_generator();
    let mut schema = generator.into_root_schema_for::<raw::RawScenario>();
    schema.insert("title".into(), "capsim scenario".into());
    schema.insert(
        "description".into(),
        "A capsim scenario (TOML). Documented field by field in docs/scenario-format.md; `capsim validate FILE` checks values and references.".into(),
    );
    let mut v = schema.to_value();
    strip_null(&mut v);
    v
}

/// TOML has no null (an optional field is left out): drops the `null`
/// alternatives schemars gives `Option` fields.
fn strip_null(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            if obj.get("default") == Some(&Value::Null) {
                obj.remove("default");
            }
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    obj.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alts)) = obj.get("anyOf")
                && alts.len() == 2
                && alts
                    .iter()
                    .any(|a| a == &serde_json::json!({ "type": "null" }))
            {
                let keep = alts
                    .iter()
                    .find(|a| *a != &serde_json::json!({ "type": "null" }))
                    .cloned()
                    .expect("two alternatives");
                obj.remove("anyOf");
                if let Value::Object(k) = keep {
                    for (name, x) in k {
                        obj.insert(name, x);
                    }
                }
            }
            obj.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// `T`'s object schema, inline, with `tag = value` added as a required
/// constant.
fn tagged<T: JsonSchema>(generator: &mut SchemaGenerator, tag: &str, value: &str) -> Value {
    let mut s = T::json_schema(generator).to_value();
    add_tag(&mut s, tag, value);
    s
}

fn add_tag(s: &mut Value, tag: &str, value: &str) {
    let obj = s.as_object_mut().expect("an object schema");
    obj.remove("title");
    let props = obj
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    props
        .as_object_mut()
        .expect("properties")
        .insert(tag.into(), serde_json::json!({ "const": value }));
    let required = obj
        .entry("required")
        .or_insert_with(|| Value::Array(vec![]));
    required
        .as_array_mut()
        .expect("required")
        .push(Value::String(tag.into()));
    obj.insert("additionalProperties".into(), Value::Bool(false));
}

/// Registers `value` as definition `name` (once) and returns a reference.
fn define(
    generator: &mut SchemaGenerator,
    name: &str,
    build: impl FnOnce(&mut SchemaGenerator) -> Value,
) -> Schema {
    if !generator.definitions().contains_key(name) {
        // Insert a placeholder first: definitions may refer to themselves.
        generator
            .definitions_mut()
            .insert(name.into(), serde_json::json!({}));
        let v = build(generator);
        generator.definitions_mut().insert(name.into(), v);
    }
    let path = generator.settings().definitions_path.to_string();
    let path = path.trim_start_matches('/').trim_end_matches('/');
    json_schema!({ "$ref": format!("#/{path}/{name}") })
}

/// A distribution table, tagged by `dist`.
pub fn dist(generator: &mut SchemaGenerator) -> Schema {
    define(generator, "Distribution", |g| {
        let families: Vec<Value> = DIST_FAMILIES
            .iter()
            .map(|f| match *f {
                "exponential" => tagged::<dist::Exponential>(g, "dist", f),
                "deterministic" => tagged::<dist::Deterministic>(g, "dist", f),
                "uniform" => tagged::<dist::Uniform>(g, "dist", f),
                "lognormal" => tagged::<dist::Lognormal>(g, "dist", f),
                "gamma" => tagged::<dist::Gamma>(g, "dist", f),
                "erlang" => tagged::<dist::Erlang>(g, "dist", f),
                "hyperexponential" => tagged::<dist::Hyperexponential>(g, "dist", f),
                "weibull" => tagged::<dist::Weibull>(g, "dist", f),
                "pareto" => tagged::<dist::Pareto>(g, "dist", f),
                "empirical" => tagged::<dist::Empirical>(g, "dist", f),
                other => unreachable!("distribution family {other} has no schema"),
            })
            .collect();
        serde_json::json!({
            "description": "A distribution of durations, e.g. { dist = \"lognormal\", mean = \"5ms\", p99 = \"40ms\" }",
            "type": "object",
            "oneOf": families
        })
    })
}

/// A rate profile: a table tagged by `kind`, or a list of them (multiplied).
pub fn profile(generator: &mut SchemaGenerator) -> Schema {
    let one = define(generator, "RateProfile", |g| {
        let kinds: Vec<Value> = PROFILE_KINDS
            .iter()
            .map(|k| match *k {
                "constant" => serde_json::json!({
                    "type": "object",
                    "properties": { "kind": { "const": "constant" } },
                    "required": ["kind"],
                    "additionalProperties": false
                }),
                "steps" => tagged::<profile::Steps>(g, "kind", k),
                "spike" => tagged::<profile::Spike>(g, "kind", k),
                "ramp" => tagged::<profile::Ramp>(g, "kind", k),
                "growth" => tagged::<profile::Growth>(g, "kind", k),
                "diurnal" | "weekly" | "seasonal" => {
                    let mut s = tagged::<profile::Calendar>(g, "kind", k);
                    let (field, n) = match *k {
                        "diurnal" => ("hours", 24),
                        "weekly" => ("days", 7),
                        _ => ("months", 12),
                    };
                    // Each calendar takes its own list, and only it.
                    let obj = s.as_object_mut().expect("object");
                    let props = obj["properties"].as_object_mut().expect("properties");
                    props.retain(|name, _| name == field || name == "utc_offset" || name == "kind");
                    props.insert(
                        field.into(),
                        serde_json::json!({
                            "type": "array",
                            "items": { "type": "number", "minimum": 0 },
                            "minItems": n,
                            "maxItems": n
                        }),
                    );
                    obj["required"]
                        .as_array_mut()
                        .expect("required")
                        .push(Value::String(field.into()));
                    s
                }
                "replay" => tagged::<profile::Replay>(g, "kind", k),
                other => unreachable!("profile kind {other} has no schema"),
            })
            .collect();
        serde_json::json!({
            "description": "A rate multiplier over time, tagged by `kind`",
            "type": "object",
            "oneOf": kinds
        })
    });
    json_schema!({
        "anyOf": [
            one,
            { "type": "array", "items": one, "minItems": 1 }
        ]
    })
}

/// The tiers: each a table tagged by `kind`, with the keys every kind takes
/// (cost, billing, scaling) and its own.
pub fn tiers(generator: &mut SchemaGenerator) -> Schema {
    let tier = define(generator, "Tier", |g| {
        let common = raw::RawTierCommon::json_schema(g).to_value();
        let kinds: Vec<Value> = TIER_KINDS
            .iter()
            .map(|k| {
                let mut s = match *k {
                    "station" => raw::RawStation::json_schema(g),
                    "api" => raw::RawApi::json_schema(g),
                    "cache" => raw::RawCache::json_schema(g),
                    "database" => raw::RawDatabase::json_schema(g),
                    "workers" => raw::RawWorkers::json_schema(g),
                    "cdn" => raw::RawCdn::json_schema(g),
                    "external" => raw::RawExternal::json_schema(g),
                    other => unreachable!("tier kind {other} has no schema"),
                }
                .to_value();
                // Kinds priced otherwise take none of the unit-billing keys.
                let per_unit = capsim_models::Kind::from_label(k)
                    .is_some_and(|k| k.vocabulary().priced_otherwise.is_none());
                if per_unit {
                    let props = s["properties"].as_object_mut().expect("properties");
                    for (name, v) in common["properties"].as_object().expect("properties") {
                        props.insert(name.clone(), v.clone());
                    }
                }
                add_tag(&mut s, "kind", k);
                s
            })
            .collect();
        serde_json::json!({
            "description": "A tier, tagged by `kind`",
            "type": "object",
            "oneOf": kinds
        })
    });
    json_schema!({
        "type": "object",
        "additionalProperties": tier
    })
}

/// `[regions.NAME.tiers.TIER]`: fields of a regional tier that differ in
/// this region (any of the tier's own fields but `kind`).
pub fn region_tiers(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "not": { "required": ["kind"] },
            "description": "Fields of the regional tier that differ in this region; `capsim validate` checks them against the tier's kind"
        }
    })
}

/// Route steps: tier names or step tables (recursive through `on_miss`
/// and `branch`).
pub fn route(generator: &mut SchemaGenerator) -> Schema {
    let d = dist(generator);
    define(generator, "Steps", move |g| {
        let path = g.settings().definitions_path.to_string();
        let path = path.trim_start_matches('/').trim_end_matches('/');
        let steps = serde_json::json!({ "$ref": format!("#/{path}/Steps") });
        let name = serde_json::json!({ "type": "string", "description": "a tier's name" });
        let step = |required: &str, props: Value| -> Value {
            let mut p = props.as_object().cloned().unwrap_or_default();
            p.insert(required.into(), name.clone());
            serde_json::json!({
                "type": "object",
                "properties": p,
                "required": [required],
                "additionalProperties": false
            })
        };
        serde_json::json!({
            "type": "array",
            "description": "Steps in order: a tier's name, or a table with one of tier, cdn, api, cpu, cache, db, call, enqueue, branch, delay",
            "items": {
                "anyOf": [
                    name.clone(),
                    step("tier", serde_json::json!({ "demand": d })),
                    step("cdn", serde_json::json!({})),
                    step("api", serde_json::json!({ "cpu": d })),
                    { "type": "object", "properties": { "cpu": d }, "required": ["cpu"], "additionalProperties": false },
                    step("cache", serde_json::json!({
                        "op": { "enum": ["get", "set"] },
                        "on_miss": steps
                    })),
                    step("db", serde_json::json!({ "query": { "type": "string" } })),
                    step("call", serde_json::json!({})),
                    step("enqueue", serde_json::json!({ "job": { "type": "string" } })),
                    {
                        "type": "object",
                        "properties": {
                            "branch": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "p": { "type": "number", "minimum": 0, "maximum": 1 },
                                        "route": steps
                                    },
                                    "required": ["p", "route"],
                                    "additionalProperties": false
                                }
                            }
                        },
                        "required": ["branch"],
                        "additionalProperties": false
                    },
                    { "type": "object", "properties": { "delay": d }, "required": ["delay"], "additionalProperties": false }
                ]
            }
        })
    })
}

/// Scaling policies: tables tagged by `type`.
pub fn policies(generator: &mut SchemaGenerator) -> Schema {
    let step = tagged::<raw::RawStepPolicy>(generator, "type", "step");
    let target = tagged::<raw::RawTargetPolicy>(generator, "type", "target");
    json_schema!({
        "type": "array",
        "items": { "type": "object", "oneOf": [step, target] }
    })
}

/// A threshold or target: a number, or a duration for latency metrics.
pub fn level(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A number (a fraction for cpu and pool_utilization), or a duration for latency_pNN metrics",
        "type": ["number", "string"]
    })
}

/// A change: whole units, or a percentage string.
pub fn change(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Units to add (negative: remove), or a percentage such as \"50%\" or \"-25%\"",
        "anyOf": [
            { "type": "integer" },
            { "type": "string", "pattern": "^\\s*[-+]?[0-9.]+\\s*%\\s*$" }
        ]
    })
}

/// A UTC offset: hours, or `"+HH:MM"`.
pub fn utc_offset(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Hours east of UTC (-12 to 14, e.g. 5.5), or \"+05:30\"",
        "anyOf": [
            { "type": "number", "minimum": -12, "maximum": 14 },
            { "type": "string", "pattern": "^[-+][0-9]{2}(:?[0-9]{2})?$" }
        ]
    })
}

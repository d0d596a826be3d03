//! One-at-a-time perturbations for `capsim sensitivity`: the numeric inputs
//! a scenario file gives, and each one moved down and up by a fraction.

use sim_engine::{SimDuration, parse_duration};

use crate::error::FieldPath;
use crate::overrides::Override;

/// Sections that are not inputs of the modelled system: how the run is
/// done, what it is judged against, and other runs.
const NOT_INPUTS: [&str; 6] = [
    "scenario",
    "simulation",
    "slos",
    "variants",
    "windows",
    "sweep",
];

/// Fields that cannot move alone: shares and branch probabilities sum to
/// one with their siblings; a seed, a percentile of an objective and a UTC
/// offset are not capacities.
const FIXED_KEYS: [&str; 5] = ["share", "p", "seed", "percentile", "utc_offset"];

/// The paths of every number and duration the scenario `text` gives (after
/// `overrides`), in file order: the inputs `capsim sensitivity` perturbs
/// when none are named. Lists of numbers (a diurnal profile's hours) are
/// shapes, not inputs, and are left out.
pub fn numeric_inputs(text: &str, overrides: &[Override]) -> Vec<String> {
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    for ov in overrides {
        let _ = ov.apply(&mut table);
    }
    let mut out = Vec::new();
    for (k, v) in &table {
        if !NOT_INPUTS.contains(&k.as_str()) {
            walk(v, &FieldPath::root().key(k), k, &mut out);
        }
    }
    out
}

fn walk(v: &toml::Value, path: &FieldPath, key: &str, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                walk(v, &path.key(k), k, out);
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                if v.is_table() || v.is_array() {
                    walk(v, &path.index(i), key, out);
                }
            }
        }
        toml::Value::Integer(_) | toml::Value::Float(_) if !FIXED_KEYS.contains(&key) => {
            out.push(path.to_string());
        }
        toml::Value::String(s) if !FIXED_KEYS.contains(&key) && is_duration(s) => {
            out.push(path.to_string());
        }
        _ => {}
    }
}

fn is_duration(s: &str) -> bool {
    // A bare number string ("5") is not a duration anyone wrote.
    s.chars().any(|c| c.is_ascii_alphabetic()) && parse_duration(s).is_ok()
}

/// A value moved by a fraction: its text as `--set` takes it, and the
/// relative change it really is (a whole number rounds).
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    pub text: String,
    pub change: f64,
}

/// The value `text` (as [`crate::sweep::values_at`] gives it) moved down and
/// up by `fraction` (in (0, 1)). Whole numbers move by at least 1 and stay
/// at least 0; durations keep whole nanoseconds. `None` for a side that
/// would not move (a zero) or that cannot be represented.
pub fn perturb(text: &str, fraction: f64) -> Result<[Option<Moved>; 2], String> {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        let step = ((i.unsigned_abs() as f64 * fraction).round() as i64).max(1);
        let side = |v: i64| {
            (v >= 0 && v != i && i != 0).then(|| Moved {
                text: v.to_string(),
                change: (v - i) as f64 / i as f64,
            })
        };
        return Ok([side(i.saturating_sub(step)), side(i.saturating_add(step))]);
    }
    if let Ok(x) = t.parse::<f64>() {
        let side = |f: f64| {
            let v = x * (1.0 + f);
            (x != 0.0 && v.is_finite()).then(|| Moved {
                text: crate::sweep::float_text(v),
                change: f,
            })
        };
        return Ok([side(-fraction), side(fraction)]);
    }
    let unquoted = t.trim_matches('"');
    match parse_duration(unquoted) {
        Ok(d) if is_duration(unquoted) => {
            let ns = d.as_nanos() as f64;
            let side = |f: f64| {
                let v = (ns * (1.0 + f)).round();
                (ns > 0.0 && v >= 1.0 && v < u64::MAX as f64).then(|| {
                    let moved = SimDuration::from_nanos(v as u64);
                    Moved {
                        text: moved.to_string(),
                        change: (v - ns) / ns,
                    }
                })
            };
            Ok([side(-fraction), side(fraction)])
        }
        _ => Err(format!(
            "`{t}` is not a number or a duration, so it cannot be moved by a percentage"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_numbers_and_durations_of_the_system() {
        let text = r#"
[scenario]
name = "x"
[simulation]
duration = "1h"
[workload]
rate_per_s = 100
profile = { kind = "diurnal", hours = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] }
[classes.web]
share = 1.0
timeout = "2s"
route = ["api", { branch = [{ p = 0.5, route = [{ delay = { dist = "deterministic", value = "5ms" } }] }, { p = 0.5, route = [] }] }]
[tiers.api]
kind = "station"
servers = 4
service = { dist = "exponential", mean = "100ms" }
[[slos]]
percentile = 99
latency = "1s"
"#;
        assert_eq!(
            numeric_inputs(text, &[]),
            vec![
                "workload.rate_per_s",
                "classes.web.timeout",
                "classes.web.route[1].branch[0].route[0].delay.value",
                "tiers.api.servers",
                "tiers.api.service.mean",
            ]
        );
    }

    #[test]
    fn values_move_by_the_fraction_or_at_least_one() {
        let m = |t: &str| perturb(t, 0.1).unwrap();
        let texts = |t: &str| m(t).map(|s| s.map(|s| s.text));
        assert_eq!(texts("20"), [Some("18".into()), Some("22".into())]);
        // 10% of 3 rounds to 0: whole numbers move by one.
        let three = m("3");
        assert_eq!(three[0].as_ref().unwrap().text, "2");
        assert!((three[1].as_ref().unwrap().change - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(texts("0"), [None, None]);
        assert_eq!(texts("1"), [Some("0".into()), Some("2".into())]);
        assert_eq!(texts("0.9"), [Some("0.81".into()), Some("0.99".into())]);
        assert_eq!(
            texts("\"2ms\""),
            [Some("1ms800us".into()), Some("2ms200us".into())]
        );
        assert!(perturb("\"least_connections\"", 0.1).is_err());
    }
}

//! Python values into the scenario format: a scenario given as a dict
//! becomes TOML text, and a `set` value that is not a string becomes the
//! TOML text `--set PATH=VALUE` would have after the `=`. Both arrive as
//! JSON (`json.dumps` in `capsim/__init__.py`), so that the scenario's own
//! parser, overrides and located errors apply to them unchanged.

use capsim_scenarios::{Diagnostic, FieldPath, Origin, ScenarioError};
use toml::Value;

/// What the messages call a scenario given as a dict.
pub const DICT_SOURCE: &str = "<dict>";

/// The TOML text of a scenario given as a dict (sent as JSON).
pub fn scenario_text(json: &str) -> Result<String, ScenarioError> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| ScenarioError::io(DICT_SOURCE, format!("not a JSON object: {e}")))?;
    match to_toml(&value, &FieldPath::root()).map_err(|d| error(vec![d]))? {
        Value::Table(table) => toml::to_string(&table)
            .map_err(|e| ScenarioError::io(DICT_SOURCE, format!("cannot be written as TOML: {e}"))),
        _ => Err(ScenarioError::io(
            DICT_SOURCE,
            "a scenario is a dict (a TOML table) of its sections".into(),
        )),
    }
}

/// `PATH=TEXT` for a `set` entry whose value came as JSON, TEXT being the
/// value as TOML (`4`, `0.5`, `true`, `["a", "b"]`, `{ mean = "5ms" }`).
pub fn set_text(path: &str, json: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("set[{path:?}]: not a value: {e}"))?;
    let field = FieldPath::parse(path).unwrap_or_else(FieldPath::root);
    let value = to_toml(&value, &field).map_err(|d| format!("set[{path:?}]: {}", d.message))?;
    Ok(format!("{path}={value}"))
}

/// Messages about a scenario given as a dict name its fields, not lines of
/// a TOML text the user never saw.
pub fn unlocated(mut e: ScenarioError) -> ScenarioError {
    if e.source == DICT_SOURCE {
        for d in &mut e.diagnostics {
            if matches!(d.origin, Origin::File { .. }) {
                d.origin = Origin::Unknown;
            }
        }
    }
    e
}

fn error(diagnostics: Vec<Diagnostic>) -> ScenarioError {
    ScenarioError {
        source: DICT_SOURCE.into(),
        diagnostics,
    }
}

fn to_toml(v: &serde_json::Value, at: &FieldPath) -> Result<Value, Diagnostic> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => {
            return Err(Diagnostic {
                origin: Origin::Unknown,
                field: at.clone(),
                message: "None has no TOML value: leave the field out for its default".into(),
            });
        }
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Integer(i),
            (None, Some(f)) if n.is_f64() => Value::Float(f),
            _ => {
                return Err(Diagnostic {
                    origin: Origin::Unknown,
                    field: at.clone(),
                    message: format!("{n} is beyond a TOML integer's range (64-bit signed)"),
                });
            }
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_toml(x, &at.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(map) => Value::Table(
            map.iter()
                .map(|(k, x)| Ok((k.clone(), to_toml(x, &at.key(k))?)))
                .collect::<Result<_, Diagnostic>>()?,
        ),
    })
}

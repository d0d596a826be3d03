//! What a sweep varies: scenario fields (by the dotted paths of `--set`) and
//! their values, as a grid or a Latin hypercube, from `--param` arguments or
//! a sweep file.
//!
//! ```text
//!   --param PATH=V1,V2 / PATH=LOW..HIGH ─┐
//!   sweep file [sweep.params] ───────────┴─► SweepSpec ──points()──► [[value text]]
//!                                                                     one per point
//! ```
//!
//! A point is a list of value texts, one per parameter, each exactly what
//! `--set PATH=TEXT` would take: the text is the point's identity, so a point
//! can be re-created (and resumed, and merged) from its text alone.

use std::path::{Path, PathBuf};

use sim_engine::{SimDuration, StreamRng, parse_duration};

use crate::doc::{self, SourceDoc};
use crate::error::{Diagnostic, FieldPath, Origin, ScenarioError, Segment};
use crate::overrides::Override;

/// The values one parameter takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Listed values, each as the text `--set` would take (`4`, `0.7`, `5m`,
    /// `"text"`, `{ dist = "exponential", mean = "5ms" }`).
    List(Vec<String>),
    /// `LOW..HIGH`, sampled by a Latin hypercube.
    Range(Range),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    Int(i64, i64),
    Float(f64, f64),
    Duration(SimDuration, SimDuration),
}

/// One swept scenario field.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The field path as `--set` takes it (normalised: `a.b[0].c`).
    pub path: String,
    pub values: Values,
}

/// How points are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sample {
    /// Every combination of the listed values (the first parameter varies slowest).
    Grid,
    /// N points of a Latin hypercube: each parameter's range (or list) is cut
    /// into N equal strata and every stratum is used exactly once.
    Latin(usize),
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sample::Grid => f.write_str("grid"),
            Sample::Latin(n) => write!(f, "latin:{n}"),
        }
    }
}

/// A whole sweep: the scenario, what stays fixed, and what varies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepSpec {
    /// A scenario file path or a bundled scenario's name.
    pub scenario: String,
    /// Fixed overrides, `PATH=VALUE`, applied to every point (and the baseline).
    pub sets: Vec<String>,
    pub seed: Option<u64>,
    pub replications: Option<u64>,
    /// The latency figure the Pareto front and verdicts use (p99 when absent).
    pub metric: Option<String>,
    pub sample: Option<Sample>,
    pub params: Vec<Param>,
}

impl SweepSpec {
    /// Adds `param`, replacing an earlier one of the same path (so `--param`
    /// on the command line wins over the sweep file).
    pub fn add_param(&mut self, param: Param) {
        match self.params.iter_mut().find(|p| p.path == param.path) {
            Some(p) => *p = param,
            None => self.params.push(param),
        }
    }
}

/// Parses `PATH=V1,V2,...` or `PATH=LOW..HIGH`.
pub fn parse_param(arg: &str) -> Result<Param, String> {
    let (path, rhs) = arg.split_once('=').ok_or_else(|| {
        format!("`{arg}` is not PATH=V1,V2,... or PATH=LOW..HIGH (e.g. tiers.api.instances=2,4,8)")
    })?;
    let path = normalise_path(path.trim())?;
    let rhs = rhs.trim();
    if rhs.is_empty() {
        return Err(format!("`{arg}` lists no values"));
    }
    if let Some(range) = parse_range(rhs)? {
        return Ok(Param {
            path,
            values: Values::Range(range),
        });
    }
    let values = split_top_level(rhs)?;
    if values.iter().any(|v| v.is_empty()) {
        return Err(format!("`{arg}` has an empty value between commas"));
    }
    Ok(Param {
        path,
        values: Values::List(values),
    })
}

fn normalise_path(path: &str) -> Result<String, String> {
    FieldPath::parse(path)
        .map(|p| p.to_string())
        .ok_or_else(|| format!("`{path}` is not a field path (e.g. tiers.api.instances)"))
}

/// `LOW..HIGH` of two integers, two numbers or two durations; `None` when the
/// text is not a range at all.
fn parse_range(s: &str) -> Result<Option<Range>, String> {
    if s.starts_with(['[', '{', '"', '\'']) {
        return Ok(None);
    }
    let Some((lo, hi)) = s.split_once("..") else {
        return Ok(None);
    };
    let (lo, hi) = (lo.trim(), hi.trim());
    let range = if let (Ok(a), Ok(b)) = (lo.parse::<i64>(), hi.parse::<i64>()) {
        Range::Int(a, b)
    } else if let (Ok(a), Ok(b)) = (lo.parse::<f64>(), hi.parse::<f64>()) {
        if !a.is_finite() || !b.is_finite() {
            return Err(format!("`{s}`: the bounds must be finite numbers"));
        }
        Range::Float(a, b)
    } else if let (Ok(a), Ok(b)) = (parse_duration(lo), parse_duration(hi)) {
        Range::Duration(a, b)
    } else {
        return Err(format!(
            "`{s}` is not a range: LOW..HIGH takes two numbers (0.5..0.9, 2..20) or two durations (1m..10m)"
        ));
    };
    let ordered = match range {
        Range::Int(a, b) => a < b,
        Range::Float(a, b) => a < b,
        Range::Duration(a, b) => a < b,
    };
    if !ordered {
        return Err(format!("`{s}`: LOW must be below HIGH"));
    }
    Ok(Some(range))
}

/// Splits at commas outside brackets, braces and quotes.
fn split_top_level(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut cur = String::new();
    let mut escaped = false;
    for ch in s.chars() {
        if let Some(q) = quote {
            cur.push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' && q == '"' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if quote.is_some() || depth != 0 {
        return Err(format!("`{s}` has an unclosed quote, bracket or brace"));
    }
    out.push(cur.trim().to_string());
    Ok(out)
}

/// Parses `grid` or `latin:N`.
pub fn parse_sample(s: &str) -> Result<Sample, String> {
    let s = s.trim();
    if s == "grid" {
        return Ok(Sample::Grid);
    }
    let n = s
        .strip_prefix("latin:")
        .ok_or_else(|| format!("`{s}` is not a sampling: write grid or latin:N (e.g. latin:20)"))?;
    match n.trim().parse::<usize>() {
        Ok(n) if n >= 2 => Ok(Sample::Latin(n)),
        _ => Err(format!(
            "`{s}`: N in latin:N must be a whole number of at least 2"
        )),
    }
}

/// The most points a sweep may have (a grid grows fast).
pub const MAX_POINTS: usize = 100_000;

/// The points of a sweep (the baseline excluded): one list of value texts per
/// point, aligned with `params`. Deterministic in `seed`.
pub fn points(params: &[Param], sample: Sample, seed: u64) -> Result<Vec<Vec<String>>, String> {
    if params.is_empty() {
        return Err("nothing to sweep: give at least one --param PATH=V1,V2,...".into());
    }
    match sample {
        Sample::Grid => {
            let mut lists = Vec::with_capacity(params.len());
            for p in params {
                match &p.values {
                    Values::List(v) => lists.push(v),
                    Values::Range(_) => {
                        return Err(format!(
                            "`{}` is a range (LOW..HIGH): sample ranges with --sample latin:N, or list the values of a grid (V1,V2,...)",
                            p.path
                        ));
                    }
                }
            }
            let count = lists
                .iter()
                .try_fold(1usize, |n, l| n.checked_mul(l.len()))
                .filter(|&n| n <= MAX_POINTS)
                .ok_or_else(|| {
                    format!(
                        "the grid has more than {MAX_POINTS} points: list fewer values or use --sample latin:N"
                    )
                })?;
            let mut out = Vec::with_capacity(count);
            for k in 0..count {
                // The last parameter varies fastest.
                let mut rest = k;
                let mut point = vec![String::new(); lists.len()];
                for (d, l) in lists.iter().enumerate().rev() {
                    point[d] = l[rest % l.len()].clone();
                    rest /= l.len();
                }
                out.push(point);
            }
            Ok(out)
        }
        Sample::Latin(n) => {
            if n > MAX_POINTS {
                return Err(format!("latin:{n} asks for more than {MAX_POINTS} points"));
            }
            let mut rng = StreamRng::new(seed, 0, "sweep-latin-hypercube");
            let mut out = vec![Vec::with_capacity(params.len()); n];
            for p in params {
                // A random permutation of the strata (Fisher-Yates), then a
                // uniform position inside each stratum.
                let mut strata: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    strata.swap(i, j);
                }
                for (point, &stratum) in out.iter_mut().zip(&strata) {
                    let u = (stratum as f64 + rng.uniform()) / n as f64;
                    point.push(value_at(&p.values, u));
                }
            }
            Ok(out)
        }
    }
}

/// The value at quantile `u` in [0, 1) of a parameter's values.
fn value_at(values: &Values, u: f64) -> String {
    match values {
        Values::List(v) => v[((u * v.len() as f64) as usize).min(v.len() - 1)].clone(),
        Values::Range(Range::Int(a, b)) => {
            // Every integer in [a, b] gets an equal share of [0, 1).
            let span = (b - a + 1) as f64;
            (a + ((u * span) as i64).min(b - a)).to_string()
        }
        Values::Range(Range::Float(a, b)) => float_text(a + u * (b - a)),
        Values::Range(Range::Duration(a, b)) => {
            let (a, b) = (a.as_nanos() as f64, b.as_nanos() as f64);
            let x = a + u * (b - a);
            // Whole seconds for ranges of ten seconds and more, else whole ms.
            let unit = if b - a >= 10e9 { 1e9 } else { 1e6 };
            let ns = ((x / unit).round() * unit) as u64;
            SimDuration::from_nanos(ns.max(1)).to_string()
        }
    }
}

/// Four significant digits, always with a decimal point (so TOML reads a float).
pub(crate) fn float_text(x: f64) -> String {
    if x == 0.0 {
        return "0.0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(1) as usize;
    let mut s = format!("{x:.digits$}");
    while s.ends_with('0') && !s.ends_with(".0") {
        s.pop();
    }
    s
}

/// The value texts the scenario `text` (after `overrides`) has at `paths`:
/// what the baseline of a sweep runs with. Empty where the file leaves the
/// field to its default (or the text does not parse; loading it reports why).
pub fn values_at(text: &str, overrides: &[Override], paths: &[String]) -> Vec<String> {
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else {
        return vec![String::new(); paths.len()];
    };
    for ov in overrides {
        let _ = ov.apply(&mut table);
    }
    let root = toml::Value::Table(table);
    paths
        .iter()
        .map(|p| {
            let Some(path) = FieldPath::parse(p) else {
                return String::new();
            };
            let mut cur = &root;
            for seg in &path.0 {
                let next = match (seg, cur) {
                    (Segment::Key(k), toml::Value::Table(t)) => t.get(k.as_str()),
                    (Segment::Index(i), toml::Value::Array(a)) => a.get(*i),
                    // A named entry of a list, as `--set` finds it.
                    (Segment::Key(k), toml::Value::Array(a)) => a
                        .iter()
                        .find(|e| e.get("name").and_then(toml::Value::as_str) == Some(k.as_str())),
                    _ => None,
                };
                match next {
                    Some(v) => cur = v,
                    None => return String::new(),
                }
            }
            value_text(cur)
        })
        .collect()
}

/// Whether `path` is a sweep file (a TOML file with a `[sweep]` table) rather
/// than a scenario.
pub fn is_sweep_file(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    toml::from_str::<toml::Table>(&text)
        .map(|t| t.contains_key("sweep"))
        .unwrap_or(false)
}

/// The keys of `[sweep]`.
const SWEEP_KEYS: &[&str] = &[
    "scenario",
    "set",
    "seed",
    "replications",
    "metric",
    "sample",
    "params",
];

/// Removes `key` from `t` and decodes it; a problem is collected, not
/// returned, so that one pass reports every bad field.
fn take_field<T: serde::de::DeserializeOwned>(
    t: &mut toml::Table,
    key: &str,
    base: &FieldPath,
    problems: &mut Vec<(FieldPath, String)>,
) -> Option<T> {
    let v = t.remove(key)?;
    crate::build::values::decode_value(v, &base.key(key))
        .map_err(|p| problems.push(p))
        .ok()
}

/// Reads a sweep file:
///
/// ```toml
/// [sweep]
/// scenario = "step-policy"        # a bundled name, or a path relative to this file
/// replications = 5                # optional, as --replications
/// seed = 4                        # optional, as --seed
/// metric = "p99"                  # optional, as --metric
/// sample = "latin:16"             # optional, as --sample (default grid)
/// set = ["simulation.duration=2h"]  # optional, as --set
///
/// [sweep.params]
/// "tiers.app.scaling.policies[0].above" = [0.6, 0.7, 0.8]
/// "tiers.app.scaling.policies[0].cooldown" = ["2m", "5m"]
/// "tiers.app.scaling.max" = "6..20"   # a range, for latin sampling
/// ```
///
/// Errors name the file, line and field, like a scenario's.
pub fn load_sweep_file(path: &Path) -> Result<SweepSpec, ScenarioError> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::io(&source, format!("cannot read the sweep file: {e}")))?;
    let fail = |field: FieldPath, message: String, pos: Option<(usize, usize)>| ScenarioError {
        source: source.clone(),
        diagnostics: vec![Diagnostic {
            origin: pos
                .map(|(line, column)| Origin::File { line, column })
                .unwrap_or(Origin::Unknown),
            field,
            message,
        }],
    };
    let doc = SourceDoc::parse(&text).map_err(|(message, pos)| {
        fail(
            FieldPath::root(),
            format!("TOML syntax error: {message}"),
            pos,
        )
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ScenarioError {
        source: source.clone(),
        diagnostics: vec![doc::decode_error(&doc, &e)],
    })?;
    let located = |mut problems: Vec<(FieldPath, String)>| ScenarioError {
        source: source.clone(),
        diagnostics: {
            // In file order.
            problems.sort_by_key(|(f, _)| doc.locate(f).unwrap_or((usize::MAX, 0)));
            problems
        }
        .into_iter()
        .map(|(field, message)| Diagnostic {
            origin: doc
                .locate(&field)
                .map(|(line, column)| Origin::File { line, column })
                .unwrap_or(Origin::Unknown),
            field,
            message,
        })
        .collect(),
    };
    let mut spec = decode_sweep(table).map_err(located)?;
    // A scenario path is relative to the sweep file; a bundled name is not a path.
    let relative: PathBuf = path.parent().unwrap_or(Path::new("")).join(&spec.scenario);
    if relative.is_file() {
        spec.scenario = relative.display().to_string();
    }
    Ok(spec)
}

/// `[sweep]` field by field, so that one pass reports every problem; the
/// scenario as written.
fn decode_sweep(table: toml::Table) -> Result<SweepSpec, Vec<(FieldPath, String)>> {
    let mut problems = Vec::new();
    let base = FieldPath::root().key("sweep");
    let mut raw = toml::Table::new();
    if !table.contains_key("sweep") {
        problems.push((base.clone(), "missing: this field is required".into()));
    }
    for (key, value) in table {
        match (key.as_str(), value) {
            ("sweep", toml::Value::Table(t)) => raw = t,
            ("sweep", other) => problems.push((
                base.clone(),
                format!("expected a table [sweep], got {}", other.type_str()),
            )),
            _ => problems.push((
                FieldPath::root().key(&key),
                format!("unknown field `{key}`, expected `sweep`"),
            )),
        }
    }
    let whole = !problems.iter().any(|(f, _)| *f == base);
    let scenario: Option<String> = take_field(&mut raw, "scenario", &base, &mut problems);
    let sets: Option<Vec<String>> = take_field(&mut raw, "set", &base, &mut problems);
    let seed: Option<u64> = take_field(&mut raw, "seed", &base, &mut problems);
    let replications: Option<u64> = take_field(&mut raw, "replications", &base, &mut problems);
    let metric: Option<String> = take_field(&mut raw, "metric", &base, &mut problems);
    let sample: Option<String> = take_field(&mut raw, "sample", &base, &mut problems);
    let params_table: Option<toml::Table> = take_field(&mut raw, "params", &base, &mut problems);
    for key in raw.keys() {
        problems.push((
            base.key(key),
            format!(
                "unknown field `{key}`, expected one of {}",
                SWEEP_KEYS
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let sample = sample.and_then(|s| {
        parse_sample(&s)
            .map_err(|m| problems.push((base.key("sample"), m)))
            .ok()
    });
    let mut params = Vec::new();
    match &params_table {
        Some(t) => {
            flatten_params(t, &base.key("params"), "", &mut params, &mut problems);
            if t.is_empty() {
                problems.push((
                    base.key("params"),
                    "lists no parameters: add e.g. \"tiers.api.instances\" = [2, 4, 8]".into(),
                ));
            }
        }
        None if whole && !problems.iter().any(|(f, _)| *f == base.key("params")) => {
            problems.push((base.key("params"), "missing: this field is required".into()))
        }
        None => {}
    }
    if whole && scenario.is_none() && !problems.iter().any(|(f, _)| *f == base.key("scenario")) {
        problems.push((
            base.key("scenario"),
            "missing: this field is required".into(),
        ));
    }
    let Some(scenario) = scenario.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    let mut spec = SweepSpec {
        scenario,
        sets: sets.unwrap_or_default(),
        seed,
        replications,
        metric,
        sample,
        params: Vec::new(),
    };
    for p in params {
        spec.add_param(p);
    }
    Ok(spec)
}

/// `[sweep.params]` entries: a quoted dotted key or nested tables name the
/// field; a list gives grid values, a "LOW..HIGH" string a range, any other
/// value a single value.
/// Problems are collected in `problems`, every entry checked.
fn flatten_params(
    table: &toml::Table,
    at: &FieldPath,
    prefix: &str,
    out: &mut Vec<Param>,
    problems: &mut Vec<(FieldPath, String)>,
) {
    for (key, value) in table {
        let here = at.key(key);
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let mut bad = |m: String| problems.push((here.clone(), m));
        let values = match value {
            toml::Value::Table(t) => {
                flatten_params(t, &here, &path, out, problems);
                continue;
            }
            toml::Value::Array(a) if a.is_empty() => {
                bad("lists no values".into());
                continue;
            }
            toml::Value::Array(a) => Values::List(a.iter().map(value_text).collect()),
            toml::Value::String(s) => match parse_range(s) {
                Ok(Some(r)) => Values::Range(r),
                Ok(None) => Values::List(vec![value_text(value)]),
                Err(m) => {
                    bad(m);
                    continue;
                }
            },
            other => Values::List(vec![value_text(other)]),
        };
        match normalise_path(&path) {
            Ok(path) => out.push(Param { path, values }),
            Err(m) => bad(m),
        }
    }
}

/// A TOML value as the text `--set` takes.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => toml::Value::String(s.clone()).to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_at_top_level_commas_only() {
        let p = parse_param("tiers.api.instances=2, 4,8").unwrap();
        assert_eq!(p.path, "tiers.api.instances");
        assert_eq!(
            p.values,
            Values::List(vec!["2".into(), "4".into(), "8".into()])
        );
        let p = parse_param(
            r#"classes.web.route[0].cpu={ dist = "exponential", mean = "5ms" },{ dist = "constant", value = "5ms" }"#,
        )
        .unwrap();
        assert_eq!(p.path, "classes.web.route[0].cpu");
        let Values::List(v) = p.values else { panic!() };
        assert_eq!(v.len(), 2);
        assert!(v[0].starts_with('{') && v[1].ends_with('}'));
        let p = parse_param(r#"scenario.description="a, b","c""#).unwrap();
        assert_eq!(
            p.values,
            Values::List(vec![r#""a, b""#.into(), r#""c""#.into()])
        );
        assert!(parse_param("x=1,,2").is_err());
        assert!(parse_param("x=[1,2").is_err());
        assert!(parse_param("no-equals").is_err());
        assert!(parse_param("a..b=1").is_err());
    }

    #[test]
    fn ranges_of_ints_floats_and_durations() {
        let r = |s: &str| parse_param(s).unwrap().values;
        assert_eq!(r("a=2..20"), Values::Range(Range::Int(2, 20)));
        assert_eq!(r("a=0.5..0.9"), Values::Range(Range::Float(0.5, 0.9)));
        assert_eq!(
            r("a=1m..10m"),
            Values::Range(Range::Duration(
                SimDuration::from_secs(60),
                SimDuration::from_secs(600)
            ))
        );
        assert!(parse_param("a=9..2").is_err());
        assert!(parse_param("a=x..y").is_err());
        assert!(parse_param("a=1..5m").is_err());
    }

    #[test]
    fn grid_varies_the_last_parameter_fastest() {
        let params = [
            parse_param("a=1,2").unwrap(),
            parse_param("b=x,y,z").unwrap(),
        ];
        let pts = points(&params, Sample::Grid, 1).unwrap();
        let flat: Vec<String> = pts.iter().map(|p| p.join(" ")).collect();
        assert_eq!(flat, ["1 x", "1 y", "1 z", "2 x", "2 y", "2 z"]);
        assert!(points(&[parse_param("a=1..3").unwrap()], Sample::Grid, 1).is_err());
        assert!(points(&[], Sample::Grid, 1).is_err());
    }

    #[test]
    fn latin_hypercube_uses_every_stratum_once() {
        let n = 16;
        let params = [
            parse_param("f=0.0..1.0").unwrap(),
            parse_param("d=1m..17m").unwrap(),
            parse_param("i=1..16").unwrap(),
            parse_param("l=a,b,c,d").unwrap(),
        ];
        let pts = points(&params, Sample::Latin(n), 9).unwrap();
        assert_eq!(pts.len(), n);
        assert_eq!(pts, points(&params, Sample::Latin(n), 9).unwrap());
        assert_ne!(pts, points(&params, Sample::Latin(n), 10).unwrap());
        let mut f: Vec<usize> = pts
            .iter()
            .map(|p| (p[0].parse::<f64>().unwrap() * n as f64) as usize)
            .collect();
        f.sort();
        assert_eq!(f, (0..n).collect::<Vec<_>>());
        let mut d: Vec<u64> = pts
            .iter()
            .map(|p| parse_duration(&p[1]).unwrap().as_nanos() / 60_000_000_000 - 1)
            .collect();
        d.sort();
        assert_eq!(d, (0..n as u64).collect::<Vec<_>>());
        let mut i: Vec<i64> = pts.iter().map(|p| p[2].parse().unwrap()).collect();
        i.sort();
        assert_eq!(i, (1..=16).collect::<Vec<i64>>());
        for l in ["a", "b", "c", "d"] {
            assert_eq!(pts.iter().filter(|p| p[3] == l).count(), 4);
        }
        // Floats always read back as TOML floats.
        assert!(pts.iter().all(|p| p[0].contains('.')));
    }

    #[test]
    fn float_texts_keep_four_significant_digits() {
        assert_eq!(float_text(0.712345), "0.7123");
        assert_eq!(float_text(12.5), "12.5");
        assert_eq!(float_text(1234.5678), "1234.6");
        assert_eq!(float_text(3.0), "3.0");
        assert_eq!(float_text(0.000123456), "0.0001235");
    }

    #[test]
    fn baseline_values_come_from_the_file_and_its_overrides() {
        let text = "[tiers.app]\ninstances = 3\ncooldown = \"5m\"\nlist = [1, 2]\n";
        let sets = [Override::parse("tiers.app.instances=4").unwrap()];
        let paths = [
            "tiers.app.instances".to_string(),
            "tiers.app.cooldown".into(),
            "tiers.app.list[1]".into(),
            "tiers.app.max".into(),
        ];
        assert_eq!(values_at(text, &sets, &paths), ["4", "\"5m\"", "2", ""]);
    }

    #[test]
    fn samples_parse() {
        assert_eq!(parse_sample("grid"), Ok(Sample::Grid));
        assert_eq!(parse_sample("latin:20"), Ok(Sample::Latin(20)));
        assert!(parse_sample("latin:1").is_err());
        assert!(parse_sample("latin").is_err());
        assert!(parse_sample("sobol:8").is_err());
    }
}

//! Decoding helpers shared by the builders: tagged tables, distributions,
//! byte sizes, fractions and rate profiles, each failing with a field path.

use serde::de::DeserializeOwned;
use sim_engine::{Dist, DistError, SimDuration};

use super::limits;
use crate::error::{FieldPath, Segment};
use crate::raw::DIST_FAMILIES;
use crate::raw::dist;

/// A problem at a field.
pub type Problem = (FieldPath, String);

/// Turns a serde error found under `base` into a problem at the full path.
pub fn serde_problem(
    base: &FieldPath,
    err: serde_path_to_error::Error<toml::de::Error>,
) -> Problem {
    let mut path = base.clone();
    for seg in err.path().iter() {
        match seg {
            serde_path_to_error::Segment::Map { key } => path.0.push(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => path.0.push(Segment::Index(*index)),
            serde_path_to_error::Segment::Enum { variant } => {
                path.0.push(Segment::Key(variant.clone()))
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = too_large(plain_types(err.inner().message().trim()));
    // A missing key is named by its path.
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(end) = rest.find('`')
    {
        path.0.push(Segment::Key(rest[..end].to_string()));
        return (path, "missing: this field is required".to_string());
    }
    // Point an unknown key at itself rather than at its table.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(end) = rest.find('`')
    {
        let key = Segment::Key(rest[..end].to_string());
        // serde_path_to_error names the key itself in some decoders.
        if path.0.last() != Some(&key) {
            path.0.push(key);
        }
    }
    (path, message)
}

/// A number TOML cannot hold, given with `--set` (which then reads it as a
/// string), said as such rather than as a string where a number belongs.
fn too_large(message: String) -> String {
    let Some(rest) = message.strip_prefix("invalid type: string \"") else {
        return message;
    };
    let Some((written, expected)) = rest.split_once("\", expected ") else {
        return message;
    };
    let whole = expected.starts_with("a whole number");
    if whole && !written.is_empty() && written.bytes().all(|b| b.is_ascii_digit()) {
        format!("{written} is too large: a whole number in TOML is at most 9223372036854775807")
    } else if expected == "a number" && written.parse::<f64>().is_ok_and(f64::is_infinite) {
        format!("{written} is too large: a number in TOML is at most about 1.8e308")
    } else {
        message
    }
}

/// serde's names of integer types, in words a scenario's author uses.
fn plain_types(message: &str) -> String {
    let mut m = message.to_string();
    for (ty, words) in [
        ("u64", "a whole number, 0 or more"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u16", "a whole number from 0 to 65535"),
        ("u8", "a whole number from 0 to 255"),
        ("i64", "a whole number"),
        ("i32", "a whole number from -2147483648 to 2147483647"),
        ("f64", "a number"),
    ] {
        if let Some(head) = m.strip_suffix(&format!("expected {ty}")) {
            m = format!("{head}expected {words}");
        }
    }
    m
}

pub fn decode<T: DeserializeOwned>(table: toml::Table, path: &FieldPath) -> Result<T, Problem> {
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| serde_problem(path, e))
}

pub fn decode_value<T: DeserializeOwned>(
    value: toml::Value,
    path: &FieldPath,
) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|e| serde_problem(path, e))
}

/// Splits the tag (`kind`, `dist`) off a tagged table.
pub fn split_tag(
    mut table: toml::Table,
    tag: &str,
    allowed: &[&str],
    path: &FieldPath,
) -> Result<(String, toml::Table), Problem> {
    let list = allowed.join(", ");
    match table.remove(tag) {
        Some(toml::Value::String(s)) if allowed.contains(&s.as_str()) => Ok((s, table)),
        Some(toml::Value::String(s)) => Err((
            path.key(tag),
            format!("unknown {tag} \"{s}\" (expected one of: {list})"),
        )),
        Some(other) => Err((
            path.key(tag),
            format!(
                "`{tag}` must be a string, one of: {list} (got {})",
                other.type_str()
            ),
        )),
        None => Err((path.clone(), format!("missing `{tag}` (one of: {list})"))),
    }
}

/// One of a fixed set of words.
pub fn choice<'a>(value: &str, allowed: &[&'a str], path: &FieldPath) -> Result<&'a str, Problem> {
    allowed
        .iter()
        .find(|a| **a == value)
        .copied()
        .ok_or_else(|| {
            (
                path.clone(),
                format!(
                    "unknown value \"{value}\" (expected one of: {})",
                    allowed.join(", ")
                ),
            )
        })
}

/// A probability or ratio in [0, 1].
pub fn fraction(x: f64, path: &FieldPath) -> Result<f64, Problem> {
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err((path.clone(), format!("must be between 0 and 1 (got {x})")))
    }
}

/// A traffic multiplier (`workload.multiplier`, a class's or a region's):
/// above zero, at most [`limits::MULTIPLIER`]; 1 when not given.
pub fn traffic_multiplier(x: Option<f64>, path: &FieldPath) -> Result<f64, Problem> {
    match x {
        None => Ok(1.0),
        Some(m) if m.is_finite() && m > 0.0 && m <= super::limits::MULTIPLIER => Ok(m),
        Some(m) => Err((
            path.clone(),
            format!(
                "a traffic multiplier is a number above 0 and at most {} (got {m})",
                super::limits::MULTIPLIER
            ),
        )),
    }
}

/// A positive whole number.
pub fn at_least_one(x: u32, path: &FieldPath) -> Result<u32, Problem> {
    if x >= 1 {
        Ok(x)
    } else {
        Err((path.clone(), "must be at least 1".into()))
    }
}

/// Parses a byte size: `"512MB"`, `"2GB"`, `"1.5GiB"`, `"2KB"`. KB, MB, GB
/// and TB are powers of 1024, as in Redis configuration; KiB, MiB, GiB, TiB
/// are accepted as synonyms.
pub fn parse_size(s: &str, path: &FieldPath) -> Result<u64, Problem> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let scale: f64 = match unit.to_ascii_uppercase().as_str() {
        "B" => 1.0,
        "KB" | "KIB" => 1024.0,
        "MB" | "MIB" => 1024.0 * 1024.0,
        "GB" | "GIB" => 1024.0 * 1024.0 * 1024.0,
        "TB" | "TIB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "" => {
            return Err((
                path.clone(),
                format!("\"{s}\" has no unit; write e.g. \"{s}GB\" (units: B, KB, MB, GB, TB)"),
            ));
        }
        _ => {
            return Err((
                path.clone(),
                format!("unknown size unit \"{unit}\" in \"{s}\" (units: B, KB, MB, GB, TB)"),
            ));
        }
    };
    let n: f64 = num.parse().map_err(|_| {
        (
            path.clone(),
            format!("\"{s}\" is not a size; write e.g. \"2GB\""),
        )
    })?;
    let bytes = n * scale;
    if !(1.0..1e18).contains(&bytes) {
        return Err((path.clone(), format!("\"{s}\" is not a usable size")));
    }
    Ok(bytes as u64)
}

fn dist_problem(path: &FieldPath, e: DistError) -> Problem {
    let field = match &e {
        DistError::NotPositive { param, .. }
        | DistError::Negative { param, .. }
        | DistError::NotFinite { param, .. } => Some(*param),
        DistError::UniformRange { .. } => Some("max"),
        DistError::LognormalP99BelowMean { .. } | DistError::LognormalP99TooFar { .. } => {
            Some("p99")
        }
        DistError::ErlangK => Some("k"),
        DistError::ParetoShape(_) => Some("shape"),
        DistError::HyperNoBranches | DistError::HyperProbSum(_) => Some("branches"),
        DistError::EmpiricalEmpty => Some("samples"),
    };
    let path = match field {
        Some(f) => path.key(f),
        None => path.clone(),
    };
    (path, e.to_string())
}

/// Builds a distribution from a table tagged by `dist`. Durations are in
/// seconds inside the model.
pub fn build_dist(table: toml::Table, path: &FieldPath) -> Result<Dist, Problem> {
    let (family, rest) = split_tag(table, "dist", DIST_FAMILIES, path)?;
    let s = |d: SimDuration| d.as_secs_f64();
    let made = match family.as_str() {
        "exponential" => {
            let p: dist::Exponential = decode(rest, path)?;
            Dist::exponential(s(*p.mean))
        }
        "deterministic" => {
            let p: dist::Deterministic = decode(rest, path)?;
            Dist::deterministic(s(*p.value))
        }
        "uniform" => {
            let p: dist::Uniform = decode(rest, path)?;
            Dist::uniform(s(*p.min), s(*p.max))
        }
        "lognormal" => {
            let p: dist::Lognormal = decode(rest, path)?;
            match (p.mean, p.p99, p.mu, p.sigma) {
                (Some(mean), Some(p99), None, None) => {
                    Dist::lognormal_from_mean_p99(s(*mean), s(*p99))
                }
                (None, None, Some(mu), Some(sigma)) => Dist::lognormal(mu, sigma),
                _ => {
                    return Err((
                        path.clone(),
                        "a lognormal needs either `mean` and `p99` (durations) or `mu` and `sigma` (of ln X, X in seconds), not a mix".into(),
                    ));
                }
            }
        }
        "gamma" => {
            let p: dist::Gamma = decode(rest, path)?;
            Dist::gamma_with_mean(p.shape, s(*p.mean))
        }
        "erlang" => {
            let p: dist::Erlang = decode(rest, path)?;
            limits::at_most(p.k, limits::ERLANG_K, &path.key("k"))?;
            Dist::erlang(p.k, s(*p.mean))
        }
        "hyperexponential" => {
            let p: dist::Hyperexponential = decode(rest, path)?;
            limits::list(&p.branches, limits::BRANCHES, &path.key("branches"))?;
            for (i, b) in p.branches.iter().enumerate() {
                fraction(b.p, &path.key("branches").index(i).key("p"))?;
            }
            let branches: Vec<(f64, f64)> = p.branches.iter().map(|b| (b.p, s(*b.mean))).collect();
            Dist::hyperexponential(&branches)
        }
        "weibull" => {
            let p: dist::Weibull = decode(rest, path)?;
            Dist::weibull(p.shape, s(*p.scale))
        }
        "pareto" => {
            let p: dist::Pareto = decode(rest, path)?;
            Dist::pareto(p.shape, s(*p.scale))
        }
        "empirical" => {
            let p: dist::Empirical = decode(rest, path)?;
            limits::list(&p.samples, limits::SAMPLES, &path.key("samples"))?;
            let xs: Vec<f64> = p.samples.iter().map(|d| s(**d)).collect();
            Dist::empirical(&xs)
        }
        _ => unreachable!("split_tag checked the family"),
    };
    let made = made.map_err(|e| dist_problem(path, e))?;
    representable(&made, path)?;
    Ok(made)
}

/// Rejects a distribution of times whose mean or 99.99th percentile (where
/// it has a closed form) is past [`limits::DIST_SECS`]: its draws would be
/// beyond any run, or past what the clock holds.
fn representable(d: &Dist, path: &FieldPath) -> Result<(), Problem> {
    let checks = [
        ("mean", Some(d.mean())),
        ("99.99th percentile", d.quantile(0.9999)),
    ];
    for (what, value) in checks {
        let Some(x) = value else { continue };
        if x.is_nan() || x > limits::DIST_SECS {
            return Err((
                path.clone(),
                format!(
                    "this {} has a {what} of {}; a distribution's mean and 99.99th percentile must be at most 1 year (\"365d\")",
                    d.family(),
                    years(x)
                ),
            ));
        }
    }
    Ok(())
}

/// `secs` in years, for a message about a value far past a run.
fn years(secs: f64) -> String {
    let y = secs / (365.0 * 86_400.0);
    if y < 1e4 {
        format!("{y:.1} years")
    } else {
        format!("{y:.1e} years")
    }
}

/// A distribution given as a TOML value at `path` (must be a table).
pub fn dist_value(value: toml::Value, path: &FieldPath) -> Result<Dist, Problem> {
    match value {
        toml::Value::Table(t) => build_dist(t, path),
        other => Err((
            path.clone(),
            format!(
                "expected a distribution table such as {{ dist = \"exponential\", mean = \"5ms\" }}, got {}",
                other.type_str()
            ),
        )),
    }
}

/// "a" or "an" before a tier kind's label ("an api tier", "a cache tier").
pub fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_too_large_for_toml_are_named_as_such() {
        let seed =
            "invalid type: string \"18446744073709551615\", expected a whole number, 0 or more";
        assert!(too_large(seed.into()).starts_with("18446744073709551615 is too large"));
        let rate = "invalid type: string \"1e400\", expected a number";
        assert!(too_large(rate.into()).starts_with("1e400 is too large"));
        let word = "invalid type: string \"high\", expected a number";
        assert_eq!(too_large(word.into()), word);
    }

    #[test]
    fn sizes() {
        let p = FieldPath::root();
        assert_eq!(parse_size("2GB", &p).unwrap(), 2 * 1024 * 1024 * 1024);
        assert_eq!(parse_size("512 MB", &p).unwrap(), 512 * 1024 * 1024);
        assert_eq!(parse_size("1.5KiB", &p).unwrap(), 1536);
        assert!(parse_size("2", &p).unwrap_err().1.contains("no unit"));
        assert!(
            parse_size("2XB", &p)
                .unwrap_err()
                .1
                .contains("unknown size unit")
        );
        assert!(parse_size("GB", &p).is_err());
    }
}

//! Rate profiles from the scenario file: a table tagged by `kind`, or a list
//! of them (their product); calendar times; replayed traces.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capsim_models::RateProfile;
use capsim_models::profile::{Calendar, replay_at};
use sim_engine::SimDuration;

use super::limits;
use super::values::{Problem, decode, split_tag};
use crate::error::FieldPath;
use crate::raw::PROFILE_KINDS;
use crate::raw::profile;

/// The default start of a run: Monday 2026-01-05 00:00 UTC.
pub const DEFAULT_START_S: i64 = 20_458 * 86_400;

/// Rows a replayed trace may have.
const MAX_TRACE_ROWS: usize = 10_000_000;

/// What a profile needs from the rest of the scenario.
#[derive(Clone, Copy)]
pub struct ProfileContext<'a> {
    pub horizon: SimDuration,
    /// The run's start, Unix seconds (UTC).
    pub start_s: i64,
    /// The rate the profile multiplies (a trace of absolute rates is divided
    /// by it); `None` if unknown (then only traces of multipliers work).
    pub base_rate: Option<f64>,
    /// Where relative trace paths are resolved.
    pub dir: Option<&'a Path>,
    /// The UTC offset of a calendar profile that gives none (a region's).
    pub utc_offset_s: i64,
}

/// Builds a rate profile from a table tagged by `kind`, or from a list of
/// such tables (multiplied).
pub fn build_profile(
    value: toml::Value,
    path: &FieldPath,
    ctx: &ProfileContext,
) -> Result<RateProfile, Vec<Problem>> {
    let profile = match value {
        toml::Value::Table(t) => build_part(t, path, ctx).map_err(|p| vec![p])?,
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err(vec![(
                    path.clone(),
                    "an empty list of profiles: give at least one, or leave `profile` out for a constant rate".into(),
                )]);
            }
            let mut parts = Vec::with_capacity(items.len());
            let mut problems = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                let ip = path.index(i);
                match item {
                    toml::Value::Table(t) => match build_part(t, &ip, ctx) {
                        Ok(p) => parts.push(p),
                        Err(p) => problems.push(p),
                    },
                    other => problems.push((
                        ip,
                        format!(
                            "expected a profile table such as {{ kind = \"spike\", ... }}, got {}",
                            other.type_str()
                        ),
                    )),
                }
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            if parts.len() == 1 {
                parts.pop().expect("one part")
            } else {
                RateProfile::Product(parts)
            }
        }
        other => {
            return Err(vec![(
                path.clone(),
                format!(
                    "expected a profile table such as {{ kind = \"spike\", ... }} or a list of them, got {}",
                    other.type_str()
                ),
            )]);
        }
    };
    if profile.envelope(ctx.horizon) <= 0.0 {
        return Err(vec![(
            path.clone(),
            "the rate multiplier is 0 throughout the run: no traffic would ever arrive".into(),
        )]);
    }
    Ok(profile)
}

fn multiplier(m: f64, p: &FieldPath) -> Result<f64, Problem> {
    if (0.0..=limits::MULTIPLIER).contains(&m) {
        Ok(m)
    } else {
        Err((
            p.clone(),
            format!(
                "a rate multiplier must be between 0 and {:e} (got {m})",
                limits::MULTIPLIER
            ),
        ))
    }
}

fn build_part(
    table: toml::Table,
    path: &FieldPath,
    ctx: &ProfileContext,
) -> Result<RateProfile, Problem> {
    let (kind, rest) = split_tag(table, "kind", PROFILE_KINDS, path)?;
    match kind.as_str() {
        "constant" => match rest.keys().next() {
            Some(k) => Err((
                path.key(k),
                "a constant profile takes no other fields".into(),
            )),
            None => Ok(RateProfile::Constant),
        },
        "steps" => steps(decode(rest, path)?, path),
        "spike" => spike(decode(rest, path)?, path, ctx.horizon),
        "ramp" => ramp(decode(rest, path)?, path),
        "growth" => growth(decode(rest, path)?, path),
        "diurnal" | "weekly" | "seasonal" => calendar(&kind, decode(rest, path)?, path, ctx),
        "replay" => replay(decode(rest, path)?, path, ctx),
        _ => unreachable!("split_tag checked the kind"),
    }
}

fn steps(p: profile::Steps, path: &FieldPath) -> Result<RateProfile, Problem> {
    if p.steps.is_empty() {
        return Err((path.key("steps"), "give at least one step".into()));
    }
    limits::list(&p.steps, limits::LIST, &path.key("steps"))?;
    let mut out = Vec::with_capacity(p.steps.len());
    for (i, st) in p.steps.iter().enumerate() {
        let sp = path.key("steps").index(i);
        if i > 0 && st.at <= p.steps[i - 1].at {
            return Err((
                sp.key("at"),
                "steps must be in increasing time order".into(),
            ));
        }
        out.push((*st.at, multiplier(st.multiplier, &sp.key("multiplier"))?));
    }
    Ok(RateProfile::Steps(out))
}

fn spike(
    p: profile::Spike,
    path: &FieldPath,
    horizon: SimDuration,
) -> Result<RateProfile, Problem> {
    let m = multiplier(p.multiplier, &path.key("multiplier"))?;
    if m < 1.0 {
        return Err((
            path.key("multiplier"),
            format!("a spike's multiplier must be at least 1 (got {m}); use `steps` for a dip"),
        ));
    }
    if p.start >= horizon {
        return Err((
            path.key("start"),
            format!(
                "the spike starts at {} but the run ends at {horizon}",
                p.start
            ),
        ));
    }
    Ok(RateProfile::Spike {
        start: *p.start,
        rise: *p.rise,
        plateau: *p.plateau,
        decay: *p.decay,
        multiplier: m,
    })
}

fn ramp(p: profile::Ramp, path: &FieldPath) -> Result<RateProfile, Problem> {
    let from = multiplier(p.from, &path.key("from"))?;
    let to = multiplier(p.to, &path.key("to"))?;
    if p.duration.is_zero() {
        return Err((
            path.key("duration"),
            "a ramp needs a duration above zero (use `steps` for a jump)".into(),
        ));
    }
    Ok(RateProfile::Ramp {
        start: *p.start,
        duration: *p.duration,
        from,
        to,
    })
}

fn growth(p: profile::Growth, path: &FieldPath) -> Result<RateProfile, Problem> {
    let factor = multiplier(p.factor, &path.key("factor"))?;
    if factor <= 0.0 {
        return Err((
            path.key("factor"),
            "a growth factor must be above zero (0.5 halves the traffic, 10 is 10x)".into(),
        ));
    }
    if p.over.is_zero() {
        return Err((
            path.key("over"),
            "growth needs a period above zero, e.g. \"26w\"".into(),
        ));
    }
    let exponential = match p.curve.as_deref() {
        None | Some("exponential") => true,
        Some("linear") => false,
        Some(other) => {
            return Err((
                path.key("curve"),
                format!("unknown curve \"{other}\": expected exponential or linear"),
            ));
        }
    };
    Ok(RateProfile::Growth {
        start: *p.start,
        over: *p.over,
        factor,
        exponential,
    })
}

/// `diurnal`, `weekly` or `seasonal`: one list of values by local hour,
/// weekday or month.
fn calendar(
    kind: &str,
    p: profile::Calendar,
    path: &FieldPath,
    ctx: &ProfileContext,
) -> Result<RateProfile, Problem> {
    let (key, want, what, values, others) = match kind {
        "diurnal" => (
            "hours",
            24,
            "one multiplier per hour of the local day, 00:00 first",
            p.hours,
            [("days", &p.days), ("months", &p.months)],
        ),
        "weekly" => (
            "days",
            7,
            "one multiplier per local weekday, Monday first",
            p.days,
            [("hours", &p.hours), ("months", &p.months)],
        ),
        _ => (
            "months",
            12,
            "one multiplier per month, January first",
            p.months,
            [("hours", &p.hours), ("days", &p.days)],
        ),
    };
    if let Some((k, _)) = others.iter().find(|(_, v)| v.is_some()) {
        return Err((
            path.key(k),
            format!("a {kind} profile takes `{key}`, not `{k}`"),
        ));
    }
    let Some(values) = values else {
        return Err((path.key(key), format!("missing: {want} numbers, {what}")));
    };
    if values.len() != want {
        return Err((
            path.key(key),
            format!("expected {want} numbers, {what} (got {})", values.len()),
        ));
    }
    for (i, &v) in values.iter().enumerate() {
        multiplier(v, &path.key(key).index(i))?;
    }
    let offset_s = match p.utc_offset {
        Some(v) => utc_offset_s(&v, &path.key("utc_offset"))?,
        None => ctx.utc_offset_s,
    };
    let local_start_s = ctx.start_s + offset_s;
    Ok(match kind {
        "diurnal" => RateProfile::Diurnal(Calendar {
            values: values.try_into().expect("24 values"),
            local_start_s,
        }),
        "weekly" => RateProfile::Weekly(Calendar {
            values: values.try_into().expect("7 values"),
            local_start_s,
        }),
        _ => RateProfile::Seasonal(Calendar {
            values: values.try_into().expect("12 values"),
            local_start_s,
        }),
    })
}

/// A replayed trace, from `skip` on, divided by the base rate if it gives
/// requests per second.
fn replay(
    p: profile::Replay,
    path: &FieldPath,
    ctx: &ProfileContext,
) -> Result<RateProfile, Problem> {
    if !(p.scale.is_finite() && p.scale > 0.0) {
        return Err((
            path.key("scale"),
            format!("a scale above zero (got {})", p.scale),
        ));
    }
    let file = resolve_path(&p.file, ctx.dir);
    let trace = read_trace(&file).map_err(|m| (path.key("file"), m))?;
    let divisor = match (trace.absolute, ctx.base_rate) {
        (false, _) => 1.0,
        (true, Some(r)) => r,
        (true, None) => {
            return Err((
                path.key("file"),
                format!(
                    "{} gives rates in requests per second, which are relative to a class's `rate_per_s` or the workload's: give one, or write the trace as multipliers (a `multiplier` column)",
                    file.display()
                ),
            ));
        }
    };
    let skip = p.skip;
    let end = trace.rows.last().map(|r| r.0).unwrap_or_default();
    if skip > end {
        return Err((
            path.key("skip"),
            format!(
                "the trace lasts {end} but `skip` is {skip}: the run would see only its last value"
            ),
        ));
    }
    // Rows from `skip` on, shifted to start at 0; the row before `skip`
    // contributes the interpolated value at 0.
    let mut rows: Vec<(SimDuration, f64)> = Vec::with_capacity(trace.rows.len());
    let at_skip = replay_at(&trace.rows, *skip);
    rows.push((SimDuration::ZERO, at_skip * p.scale / divisor));
    for &(t, v) in &trace.rows {
        if t > *skip {
            rows.push((t - *skip, v * p.scale / divisor));
        }
    }
    if let Some((i, r)) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.1 > limits::MULTIPLIER)
    {
        return Err((
            path.key("file"),
            format!(
                "row {} of {} becomes a multiplier of {} of the base rate (over {:e}): check the base rate and `scale`",
                i + 1,
                file.display(),
                r.1,
                limits::MULTIPLIER
            ),
        ));
    }
    Ok(RateProfile::Replay(Arc::from(rows)))
}

/// A UTC offset given as hours (`-5`, `5.5`) or `"+05:30"`, in seconds.
pub fn utc_offset_s(v: &toml::Value, path: &FieldPath) -> Result<i64, Problem> {
    let bad = || {
        (
            path.clone(),
            format!(
                "a UTC offset is hours (-5, 5.5) or a string \"+05:30\" between -12:00 and +14:00 (got {v})"
            ),
        )
    };
    let s = match v {
        toml::Value::Integer(h) => *h as f64 * 3600.0,
        toml::Value::Float(h) => h * 3600.0,
        toml::Value::String(s) => parse_offset(s).ok_or_else(bad)? as f64,
        _ => return Err(bad()),
    };
    if !(-12.0 * 3600.0..=14.0 * 3600.0).contains(&s) || s.fract() != 0.0 {
        return Err(bad());
    }
    Ok(s as i64)
}

/// `Z`, `+HH:MM`, `-HH:MM`, `+HHMM` or `+HH` → seconds east of UTC.
fn parse_offset(s: &str) -> Option<i64> {
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse::<i64>().ok()?),
        _ => return None,
    };
    if rest.contains(':') && rest.len() != 5 {
        return None;
    }
    if m >= 60 || h > 23 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// An RFC 3339 / ISO 8601 date and time, `YYYY-MM-DD[THH:MM[:SS[.f]]][Z|±HH:MM]`
/// (a space may stand for `T`; without an offset the time is UTC) → Unix
/// seconds, fractions dropped. Parsed by jiff, which also takes ISO 8601's
/// basic forms (`20261127T0900Z`), `±HH` offsets and a bracketed zone
/// annotation after the offset (ignored), and reads a leap second `:60` as `:59`.
pub fn parse_instant(s: &str) -> Option<i64> {
    use jiff::fmt::temporal::{Pieces, PiecesOffset};
    let pieces = Pieces::parse(s.trim()).ok()?;
    let offset = match pieces.offset() {
        None | Some(PiecesOffset::Zulu) => jiff::tz::Offset::UTC,
        Some(PiecesOffset::Numeric(n)) => n.offset(),
        Some(_) => return None,
    };
    // RFC 3339 and ISO 8601 offsets stop at ±23:59; jiff reads up to ±25:59.
    if offset.seconds().abs() >= 24 * 3600 {
        return None;
    }
    let time = pieces.time().unwrap_or(jiff::civil::Time::midnight());
    let at = offset.to_timestamp(pieces.date().to_datetime(time)).ok()?;
    Some(at.as_second())
}

fn resolve_path(file: &str, dir: Option<&Path>) -> PathBuf {
    let p = Path::new(file);
    match dir {
        Some(d) if p.is_relative() => d.join(p),
        _ => p.to_path_buf(),
    }
}

/// A replayed trace: rows of (time from the first row, value).
#[derive(Debug)]
pub struct Trace {
    pub rows: Vec<(SimDuration, f64)>,
    /// Values are requests per second (else multipliers).
    pub absolute: bool,
}

/// Reads a trace CSV: a header naming the value column (`requests_per_s`,
/// `rate_per_s`, `rps` or `multiplier`), then rows of a time (seconds, or an
/// RFC 3339 timestamp) and a value. Times are taken from the first row's and
/// must increase. Errors name the file and line.
/// Reads at most `max` bytes of `file`: a trace path pointing at a device
/// or a huge file is an error, not a run out of memory.
fn read_bounded(file: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(file).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "it is larger than {} MiB, the most a trace may be",
            max / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

pub fn read_trace(file: &Path) -> Result<Trace, String> {
    let name = file.display();
    let bytes = read_bounded(file, limits::TRACE_BYTES)
        .map_err(|e| format!("cannot read the trace {name}: {e}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes.as_slice());
    let headers = reader
        .headers()
        .map_err(|e| format!("{name} line 1: {e}"))?
        .clone();
    if headers.len() != 2 {
        return Err(format!(
            "{name} line 1: expected a header of two columns, a time and `requests_per_s` (or `multiplier`); got {} column(s): {}",
            headers.len(),
            headers.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let absolute = match headers[1].to_ascii_lowercase().as_str() {
        "requests_per_s" | "rate_per_s" | "rps" => true,
        "multiplier" => false,
        other => {
            return Err(format!(
                "{name} line 1: the second column must be `requests_per_s` (or `rate_per_s`, `rps`) or `multiplier`, not `{other}`"
            ));
        }
    };
    let mut rows: Vec<(SimDuration, f64)> = Vec::new();
    let mut first: Option<f64> = None;
    for rec in reader.records() {
        let rec = rec.map_err(|e| match e.position() {
            Some(p) => format!("{name} line {}: {e}", p.line()),
            None => format!("{name}: {e}"),
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() != 2 {
            return Err(format!(
                "{name} line {line}: expected 2 fields, a time and a value (got {})",
                rec.len()
            ));
        }
        let t = &rec[0];
        let t_s = match t.parse::<f64>() {
            Ok(x) if x.is_finite() => x,
            _ => match parse_instant(t) {
                Some(s) => s as f64,
                None => {
                    return Err(format!(
                        "{name} line {line}: time `{t}` is neither seconds nor an RFC 3339 timestamp such as 2026-11-27T09:00:00Z"
                    ));
                }
            },
        };
        let v = &rec[1];
        let value = match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => x,
            _ => {
                return Err(format!(
                    "{name} line {line}: `{}` must be a number at least 0 (got `{v}`)",
                    &headers[1]
                ));
            }
        };
        let t0 = *first.get_or_insert(t_s);
        let rel = t_s - t0;
        if let Some(&(prev, _)) = rows.last()
            && rel <= prev.as_secs_f64()
        {
            return Err(format!(
                "{name} line {line}: times must increase (`{t}` is not after the row before)"
            ));
        }
        if rel > 1e9 {
            return Err(format!(
                "{name} line {line}: `{t}` is more than 30 years after the first row"
            ));
        }
        rows.push((SimDuration::from_secs_f64(rel), value));
        if rows.len() > MAX_TRACE_ROWS {
            return Err(format!("{name}: more than {MAX_TRACE_ROWS} rows"));
        }
    }
    if rows.is_empty() {
        return Err(format!("{name}: the trace has a header but no rows"));
    }
    Ok(Trace { rows, absolute })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a UTC date's midnight.
    fn midnight(y: i16, m: i8, d: i8) -> i64 {
        jiff::tz::Offset::UTC
            .to_timestamp(jiff::civil::date(y, m, d).at(0, 0, 0, 0))
            .unwrap()
            .as_second()
    }

    #[test]
    fn instants_parse_as_rfc3339() {
        assert_eq!(parse_instant("1970-01-01"), Some(0));
        assert_eq!(parse_instant("2026-01-05T00:00:00Z"), Some(DEFAULT_START_S));
        assert_eq!(parse_instant("2026-01-05 00:00"), Some(DEFAULT_START_S));
        assert_eq!(
            parse_instant("2026-11-27T00:00:00-05:00"),
            Some(midnight(2026, 11, 27) + 5 * 3600)
        );
        assert_eq!(
            parse_instant("2026-11-27T09:30:15.250+05:30"),
            Some(midnight(2026, 11, 27) + 4 * 3600 + 15)
        );
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "2026-11-27T25:00",
            "27/11/2026",
            "2026-11-27T09:00+5",
            "2026-11-27X09:00",
            "2026-11-27T09:00:00Q",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
        assert!(parse_instant("2024-02-29").is_some());
        // ISO 8601 forms jiff adds, and the offset range RFC 3339 allows.
        let nine = midnight(2026, 11, 27) + 9 * 3600;
        assert_eq!(parse_instant("20261127T0900Z"), Some(nine));
        assert_eq!(parse_instant("2026-11-27T10:00+01"), Some(nine));
        assert_eq!(
            parse_instant("2026-11-27T10:00+01:00[Europe/Paris]"),
            Some(nine)
        );
        assert_eq!(parse_instant("2026-11-27T08:59:60Z"), Some(nine - 1));
        assert_eq!(parse_instant("2026-11-27T09:00-23:59"), Some(nine + 86_340));
        assert_eq!(parse_instant("2026-11-27T09:00-24:00"), None);
        assert_eq!(parse_instant("2026-11-27T09:00+25:00"), None);
    }

    #[test]
    fn offsets_parse_as_hours_or_strings() {
        let p = FieldPath::root();
        let v = |s: &str| toml::Value::String(s.into());
        assert_eq!(utc_offset_s(&toml::Value::Integer(-5), &p), Ok(-5 * 3600));
        assert_eq!(utc_offset_s(&toml::Value::Float(5.5), &p), Ok(19_800));
        assert_eq!(utc_offset_s(&v("+05:30"), &p), Ok(19_800));
        assert_eq!(utc_offset_s(&v("-0800"), &p), Ok(-8 * 3600));
        assert!(utc_offset_s(&toml::Value::Integer(15), &p).is_err());
        assert!(utc_offset_s(&v("05:30"), &p).is_err());
        assert!(utc_offset_s(&v("+05:75"), &p).is_err());
    }
}

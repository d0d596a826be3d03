//! Integer simulated time.
//!
//! The clock is a count of nanoseconds in a `u64` (about 584 years of range), so
//! event ordering never depends on floating-point rounding. Floats appear only at
//! the edges: when a distribution's sample (in seconds) becomes a duration, and
//! when results are reported.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// 2^63 as an `f64`.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// `ns as u64`: saturates out-of-range values and maps NaN and negatives
/// to 0 (out of line: no drawn duration comes here).
#[cold]
#[inline(never)]
fn saturating_nanos(ns: f64) -> SimDuration {
    SimDuration(ns as u64)
}

/// A point in simulated time: nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    /// The end of representable time; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    #[inline]
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The time `d` after the start of the run.
    #[inline]
    pub const fn at(d: SimDuration) -> Self {
        SimTime(d.0)
    }

    /// Time elapsed since `earlier`; zero if `earlier` is later than `self`.
    #[inline]
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Elapsed time since the start of the run.
    #[inline]
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    #[inline]
    pub fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        self.0.checked_add(d.0).map(SimTime)
    }

    #[inline]
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const MAX: SimDuration = SimDuration(u64::MAX);
    /// The longest duration a file may give (100 years): a few of them add
    /// up without overflowing (`MAX` is about 584 years).
    pub const MAX_IN_FILES: SimDuration = SimDuration(36_500 * 86_400 * NANOS_PER_SEC);

    #[inline]
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    #[inline]
    pub const fn from_micros(micros: u64) -> Self {
        SimDuration(micros * NANOS_PER_MICRO)
    }

    #[inline]
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * NANOS_PER_MILLI)
    }

    #[inline]
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * NANOS_PER_SEC)
    }

    /// Converts seconds to a duration, rounding to the nearest nanosecond.
    /// Negative and NaN inputs become zero; values past the range saturate.
    #[inline]
    pub fn from_secs_f64(secs: f64) -> Self {
        // Round half up, without a libm call on this hot path.
        let ns = secs * NANOS_PER_SEC as f64 + 0.5;
        if (0.0..I64_BOUND).contains(&ns) {
            // SAFETY: `ns` is finite, at least 0 and below 2^63: it fits an
            // i64, and truncating it is what `as u64` does. One conversion
            // instruction, where `as u64` takes two and a saturation
            // sequence, on the dependency chain from a drawn service time
            // to the event it schedules.
            SimDuration(unsafe { ns.to_int_unchecked::<i64>() } as u64)
        } else {
            saturating_nanos(ns)
        }
    }

    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    #[inline]
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_MILLI as f64
    }

    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub fn checked_mul(self, k: u64) -> Option<SimDuration> {
        self.0.checked_mul(k).map(SimDuration)
    }

    #[inline]
    pub fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;

    /// Panics on overflow in debug builds; a scenario's horizon is validated to
    /// fit, and events past it are never scheduled.
    #[inline]
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}

impl AddAssign<SimDuration> for SimTime {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}

impl Sub for SimTime {
    type Output = SimDuration;

    #[inline]
    fn sub(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0 - earlier.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;

    #[inline]
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0 + other.0)
    }
}

impl AddAssign for SimDuration {
    #[inline]
    fn add_assign(&mut self, other: SimDuration) {
        self.0 += other.0;
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;

    #[inline]
    fn sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0 - other.0)
    }
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; write a number and a unit, e.g. \"90s\"")]
    Empty,
    #[error("durations cannot be negative (\"{0}\")")]
    Negative(String),
    #[error("\"{0}\" has no unit; write e.g. \"{0}s\" (units: ns, us, ms, s, m, h, d, w)")]
    MissingUnit(String),
    #[error("unknown unit \"{unit}\" in \"{input}\" (units: ns, us, ms, s, m, h, d, w)")]
    UnknownUnit { input: String, unit: String },
    #[error(
        "\"{0}\" is not a valid duration; write a number and a unit, e.g. \"250ms\" or \"1h30m\""
    )]
    Invalid(String),
    #[error("\"{0}\" is too long: durations must fit in about 584 years")]
    Overflow(String),
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" | "min" => 60 * NANOS_PER_SEC,
        "h" => 3_600 * NANOS_PER_SEC,
        "d" => 86_400 * NANOS_PER_SEC,
        "w" => 7 * 86_400 * NANOS_PER_SEC,
        _ => return None,
    })
}

/// Parses a human duration: one or more `<number><unit>` parts, e.g. `"250ms"`,
/// `"90s"`, `"1.5h"`, `"1h30m"`, `"3d"`. Units: ns, us (or µs), ms, s, m (or min),
/// h, d, w. Whitespace between parts is allowed.
///
/// Decimal parts are converted exactly where possible (the integer and fraction
/// digits are scaled separately), so `"0.1s"` is exactly 100 ms.
pub fn parse_duration(input: &str) -> Result<SimDuration, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s.starts_with('-') {
        return Err(DurationError::Negative(s.to_string()));
    }
    let bytes = s.as_bytes();
    let mut total: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let num_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number = &s[num_start..i];
        if number.is_empty() {
            return Err(DurationError::Invalid(s.to_string()));
        }
        let unit_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() && !bytes[i].is_ascii_whitespace() {
            // The unit may contain the multi-byte 'µ'; advance by whole chars.
            let ch = s[i..].chars().next().expect("index is on a char boundary");
            if ch == '.' {
                break;
            }
            i += ch.len_utf8();
        }
        let unit = &s[unit_start..i];
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(s.to_string()));
        }
        let scale = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            input: s.to_string(),
            unit: unit.to_string(),
        })?;
        let part = scale_decimal(number, scale, s)?;
        total = total
            .checked_add(part)
            .ok_or_else(|| DurationError::Overflow(s.to_string()))?;
    }
    Ok(SimDuration(total))
}

/// `number` (digits with at most one '.') times `scale` nanoseconds, rounded to
/// the nearest nanosecond.
fn scale_decimal(number: &str, scale: u64, input: &str) -> Result<u64, DurationError> {
    let invalid = || DurationError::Invalid(input.to_string());
    let overflow = || DurationError::Overflow(input.to_string());
    let (int_part, frac_part) = match number.split_once('.') {
        Some((a, b)) => {
            if b.contains('.') || (a.is_empty() && b.is_empty()) {
                return Err(invalid());
            }
            (a, b)
        }
        None => (number, ""),
    };
    let int: u64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| overflow())?
    };
    let mut total = int.checked_mul(scale).ok_or_else(overflow)?;
    if !frac_part.is_empty() {
        // Only the first 18 fraction digits can matter at nanosecond resolution
        // for any unit up to weeks (6.048e14 ns), which keeps this in u128.
        let digits = &frac_part[..frac_part.len().min(18)];
        let frac: u128 = digits.parse().map_err(|_| invalid())?;
        let denom = 10u128.pow(digits.len() as u32);
        let nanos = (frac * scale as u128 + denom / 2) / denom;
        total = total.checked_add(nanos as u64).ok_or_else(overflow)?;
    }
    Ok(total)
}

impl FromStr for SimDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s)
    }
}

impl fmt::Display for SimDuration {
    /// Formats in the largest units that keep it exact, e.g. `1h30m`, `250ms`,
    /// so a displayed duration parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0;
        if n == 0 {
            return f.write_str("0s");
        }
        let units: [(&str, u64); 8] = [
            ("w", 7 * 86_400 * NANOS_PER_SEC),
            ("d", 86_400 * NANOS_PER_SEC),
            ("h", 3_600 * NANOS_PER_SEC),
            ("m", 60 * NANOS_PER_SEC),
            ("s", NANOS_PER_SEC),
            ("ms", NANOS_PER_MILLI),
            ("us", NANOS_PER_MICRO),
            ("ns", 1),
        ];
        for (name, size) in units {
            if n >= size {
                write!(f, "{}{}", n / size, name)?;
                n %= size;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{}", SimDuration(self.0))
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration string such as \"250ms\", \"90s\", \"5m\", \"2h\" or \"3d\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SimDuration, E> {
                let d = parse_duration(v).map_err(E::custom)?;
                if d > SimDuration::MAX_IN_FILES {
                    return Err(E::custom(format!(
                        "\"{v}\" is longer than the longest duration a scenario may give, 100 years (\"36500d\")"
                    )));
                }
                Ok(d)
            }
        }
        d.deserialize_str(V)
    }
}

/// A duration in a scenario file: a string with units.
#[cfg(feature = "schemars")]
impl schemars::JsonSchema for SimDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration with units: ns, us (µs), ms, s, m (min), h, d, w; decimals and compounds allowed, e.g. \"250ms\", \"1.5s\", \"1h30m\"",
            "pattern": "^\\s*([0-9.]+(ns|us|µs|ms|s|min|m|h|d|w)\\s*)+$",
            "examples": ["250ms", "90s", "5m", "1h30m", "3d"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> u64 {
        parse_duration(s).unwrap().as_nanos()
    }

    #[test]
    fn parses_each_unit() {
        assert_eq!(d("250ms"), 250 * NANOS_PER_MILLI);
        assert_eq!(d("90s"), 90 * NANOS_PER_SEC);
        assert_eq!(d("5m"), 300 * NANOS_PER_SEC);
        assert_eq!(d("5min"), 300 * NANOS_PER_SEC);
        assert_eq!(d("2h"), 7_200 * NANOS_PER_SEC);
        assert_eq!(d("3d"), 3 * 86_400 * NANOS_PER_SEC);
        assert_eq!(d("26w"), 26 * 7 * 86_400 * NANOS_PER_SEC);
        assert_eq!(d("10us"), 10_000);
        assert_eq!(d("10µs"), 10_000);
        assert_eq!(d("7ns"), 7);
    }

    #[test]
    fn parses_decimals_exactly_and_compounds() {
        assert_eq!(d("0.1s"), 100 * NANOS_PER_MILLI);
        assert_eq!(d("1.5h"), 5_400 * NANOS_PER_SEC);
        assert_eq!(d(".5s"), 500 * NANOS_PER_MILLI);
        assert_eq!(d("1h30m"), 5_400 * NANOS_PER_SEC);
        assert_eq!(d("1h 30m 15s"), 5_415 * NANOS_PER_SEC);
        assert_eq!(d("0.0000000004s"), 0);
        assert_eq!(d("0.0000000006s"), 1);
    }

    #[test]
    fn rejects_bad_input_with_reasons() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("  "), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative(_))
        ));
        assert!(matches!(
            parse_duration("90"),
            Err(DurationError::MissingUnit(_))
        ));
        assert!(matches!(
            parse_duration("5x"),
            Err(DurationError::UnknownUnit { unit, .. }) if unit == "x"
        ));
        assert!(matches!(
            parse_duration("s"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("1.2.3s"),
            Err(DurationError::Invalid(_))
        ));
        assert!(matches!(
            parse_duration("100000w"),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999999s"),
            Err(DurationError::Overflow(_))
        ));
        // Messages point the user at the fix.
        let msg = parse_duration("90").unwrap_err().to_string();
        assert!(msg.contains("90s"), "{msg}");
    }

    #[test]
    fn display_round_trips() {
        for s in ["1h30m", "250ms", "3d", "1w2d", "1s5ms", "7ns", "0s"] {
            let v = parse_duration(s).unwrap();
            assert_eq!(v.to_string(), s);
            assert_eq!(parse_duration(&v.to_string()).unwrap(), v);
        }
    }

    #[test]
    fn float_conversion_rounds_and_saturates() {
        assert_eq!(SimDuration::from_secs_f64(1.5e-9).as_nanos(), 2);
        assert_eq!(SimDuration::from_secs_f64(-1.0).as_nanos(), 0);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN).as_nanos(), 0);
        assert_eq!(SimDuration::from_secs_f64(1e30).as_nanos(), u64::MAX);
        assert_eq!(SimDuration::from_secs(2).as_secs_f64(), 2.0);
    }

    #[test]
    fn float_conversion_is_the_saturating_cast_on_both_paths() {
        // The fast path (0 ≤ ns < 2^63) and the saturating one give what
        // `(secs · 1e9 + 0.5) as u64` gives, on both sides of each edge.
        let edge = 9_223_372_036_854_775_808.0 / 1e9;
        let mut cases = vec![
            0.0,
            -0.0,
            -4e-10,
            -6e-10,
            -1e-9,
            4.9e-10,
            5e-10,
            0.002,
            3600.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        for k in -3..=3 {
            cases.push(edge * (1.0 + k as f64 * f64::EPSILON));
            cases.push(2.0 * edge * (1.0 + k as f64 * f64::EPSILON));
        }
        for secs in cases {
            assert_eq!(
                SimDuration::from_secs_f64(secs).as_nanos(),
                (secs * 1e9 + 0.5) as u64,
                "{secs:e} s"
            );
        }
    }
}

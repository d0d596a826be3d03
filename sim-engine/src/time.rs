//! Integer simulated time.
//!
//! The clock is a count of nanoseconds in a `u64` (about 584 years of range), so
//! event ordering never depends on floating-point rounding. Floats appear only at
//! the edges: when a distribution's sample (in seconds) becomes a duration, and
//! when results are reported.
//!
//! Arithmetic never wraps: sums saturate at [`SimTime::MAX`] ("never"), and a
//! float becomes at most [`SimDuration::MAX_DRAW`], a quarter of the range, so
//! a time within a run plus any drawn delay still fits. Conversions clamped
//! there are counted ([`clamped_conversions`]).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// [`SimDuration::MAX_DRAW`] in nanoseconds, as an `f64` (exact: a power of 2).
const MAX_DRAW_NANOS: f64 = (1u64 << 62) as f64;

/// Float conversions clamped to [`SimDuration::MAX_DRAW`], over the process.
static CLAMPED: AtomicU64 = AtomicU64::new(0);

/// How many float-to-duration conversions (drawn service times, gaps,
/// delays) were at or beyond [`SimDuration::MAX_DRAW`] and clamped to it,
/// over every run in this process. A validated scenario's distributions
/// keep this at zero in practice (their mean and 99.99th percentile are
/// bounded far below); a non-zero count says a tail was cut.
pub fn clamped_conversions() -> u64 {
    CLAMPED.load(Ordering::Relaxed)
}

/// The slow path of [`SimDuration::from_secs_f64`]: NaN and negatives become
/// 0, values at or past the limit clamp to it and are counted (out of line:
/// the drawn durations of a validated scenario do not come here).
#[cold]
#[inline(never)]
fn clamped_nanos(ns: f64) -> SimDuration {
    if ns >= MAX_DRAW_NANOS {
        CLAMPED.fetch_add(1, Ordering::Relaxed);
        SimDuration::MAX_DRAW
    } else {
        SimDuration(0)
    }
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
    /// The longest duration a float converts to: 2^62 ns, about 146 years,
    /// a quarter of the clock's range.
    pub const MAX_DRAW: SimDuration = SimDuration(1 << 62);

    #[inline]
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    #[inline]
    pub const fn from_micros(micros: u64) -> Self {
        SimDuration(micros.saturating_mul(NANOS_PER_MICRO))
    }

    #[inline]
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis.saturating_mul(NANOS_PER_MILLI))
    }

    #[inline]
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// Converts seconds to a duration, rounding to the nearest nanosecond.
    /// Negative and NaN inputs become zero; values at or past
    /// [`SimDuration::MAX_DRAW`] clamp to it and are counted
    /// ([`clamped_conversions`]).
    #[inline]
    pub fn from_secs_f64(secs: f64) -> Self {
        // Round half up, without a libm call on this hot path.
        let ns = secs * NANOS_PER_SEC as f64 + 0.5;
        if (0.0..MAX_DRAW_NANOS).contains(&ns) {
            // SAFETY: `ns` is finite, at least 0 and below 2^62: it fits an
            // i64, and truncating it is what `as u64` does. One conversion
            // instruction, where `as u64` takes two and a saturation
            // sequence, on the dependency chain from a drawn service time
            // to the event it schedules.
            SimDuration(unsafe { ns.to_int_unchecked::<i64>() } as u64)
        } else {
            clamped_nanos(ns)
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

    /// Saturates at [`SimTime::MAX`], "never": an event that far away does
    /// not happen within any run, rather than wrapping to the past.
    #[inline]
    fn add(self, d: SimDuration) -> SimTime {
        // A branch never taken, one instruction on the path that schedules
        // every event, where `saturating_add` takes a constant and a cmov.
        match self.0.checked_add(d.0) {
            Some(t) => SimTime(t),
            None => SimTime::MAX,
        }
    }
}

impl AddAssign<SimDuration> for SimTime {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
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

    /// Saturates at [`SimDuration::MAX`].
    #[inline]
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
}

impl AddAssign for SimDuration {
    #[inline]
    fn add_assign(&mut self, other: SimDuration) {
        *self = *self + other;
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
    #[error(
        "\"{0}\" has an exponent; write the number in plain digits with a unit, e.g. \"250ms\" or \"3d\""
    )]
    Exponent(String),
    #[error("\"{input}\": write the unit right after the number, e.g. \"{number}{unit}\"")]
    SpacedUnit {
        input: String,
        number: String,
        unit: String,
    },
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
            return Err(unit_apart(s, number, &s[i..]));
        }
        if let Some(rest) = unit.strip_prefix(['e', 'E'])
            && (rest.is_empty() || rest == "+" || rest == "-")
            && bytes.get(i).is_some_and(u8::is_ascii_digit)
        {
            return Err(DurationError::Exponent(s.to_string()));
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

/// A number with no unit right after it: the word after the space, if any,
/// says which mistake it is (`"5 s"`, `"5 fortnights"`, or just `"90"`).
fn unit_apart(input: &str, number: &str, rest: &str) -> DurationError {
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_ascii_digit() && !c.is_whitespace())
        .collect();
    if word.is_empty() {
        DurationError::MissingUnit(input.to_string())
    } else if unit_nanos(&word).is_some() {
        DurationError::SpacedUnit {
            input: input.to_string(),
            number: number.to_string(),
            unit: word,
        }
    } else {
        DurationError::UnknownUnit {
            input: input.to_string(),
            unit: word,
        }
    }
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
                parse_duration(v).map_err(E::custom)
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
    fn a_word_after_a_space_is_named_not_suffixed() {
        let msg = parse_duration("5 fortnights").unwrap_err().to_string();
        assert!(msg.contains("unknown unit \"fortnights\""), "{msg}");
        assert!(!msg.contains("fortnightss"), "{msg}");
        assert_eq!(
            parse_duration("5 s").unwrap_err().to_string(),
            "\"5 s\": write the unit right after the number, e.g. \"5s\""
        );
        assert!(matches!(
            parse_duration("1h 30"),
            Err(DurationError::MissingUnit(_))
        ));
    }

    #[test]
    fn an_exponent_is_named_not_taken_for_a_unit() {
        for s in ["1e30s", "1E3ms", "2e+5s", "2e-3s"] {
            assert_eq!(
                parse_duration(s),
                Err(DurationError::Exponent(s.to_string())),
                "{s}"
            );
        }
        // A unit that starts with an e but is not an exponent stays unknown.
        assert!(matches!(
            parse_duration("5eons"),
            Err(DurationError::UnknownUnit { unit, .. }) if unit == "eons"
        ));
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
        assert_eq!(SimDuration::from_secs_f64(1e30), SimDuration::MAX_DRAW);
        assert_eq!(SimDuration::from_secs(2).as_secs_f64(), 2.0);
    }

    #[test]
    fn float_conversion_is_the_cast_clamped_to_max_draw_on_both_paths() {
        // The fast path (0 ≤ ns < 2^62) and the clamping one give what
        // `(secs · 1e9 + 0.5) as u64`, at most 2^62, gives, on both sides
        // of each edge.
        let edge = MAX_DRAW_NANOS / 1e9;
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
                ((secs * 1e9 + 0.5) as u64).min(1 << 62),
                "{secs:e} s"
            );
        }
    }

    #[test]
    fn clamped_conversions_are_counted() {
        let before = clamped_conversions();
        let years_1000 = 1000.0 * 365.0 * 86_400.0;
        assert_eq!(
            SimDuration::from_secs_f64(years_1000),
            SimDuration::MAX_DRAW
        );
        assert_eq!(
            SimDuration::from_secs_f64(3600.0).as_nanos(),
            3600 * NANOS_PER_SEC
        );
        // Other tests in this process may clamp too.
        assert!(clamped_conversions() > before);
    }

    #[test]
    fn time_arithmetic_saturates_instead_of_wrapping() {
        let late = SimTime::at(SimDuration::MAX_DRAW) + SimDuration::MAX_DRAW;
        assert_eq!(late + SimDuration::MAX, SimTime::MAX);
        let mut t = late;
        t += SimDuration::MAX;
        assert_eq!(t, SimTime::MAX);
        assert_eq!(
            SimDuration::MAX + SimDuration::from_nanos(1),
            SimDuration::MAX
        );
        let mut d = SimDuration::MAX;
        d += SimDuration::MAX;
        assert_eq!(d, SimDuration::MAX);
        assert_eq!(SimDuration::from_secs(u64::MAX), SimDuration::MAX);
        // A drawn delay after the longest horizon a file may give still fits.
        assert!(SimTime::MAX.since_start() > SimDuration::MAX_DRAW + SimDuration::MAX_DRAW);
    }

    #[test]
    fn any_representable_duration_deserializes() {
        // The cap on durations in scenario files is the scenarios crate's.
        use serde::de::IntoDeserializer;
        let de: serde::de::value::StrDeserializer<serde::de::value::Error> =
            "50000d".into_deserializer();
        let v = SimDuration::deserialize(de).unwrap();
        assert_eq!(v, SimDuration::from_secs(50_000 * 86_400));
    }
}

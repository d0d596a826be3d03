//! Streaming statistics: memory never grows with the number of simulated
//! requests.
//!
//! * [`LatencyHistogram`]: HDR histogram, 1 µs to 1 h at 3 significant digits,
//!   plus an exact sum for the mean; mergeable across replications.
//!   [`LatencyRecorder`] fills one on a hot path.
//! * [`TimeWeighted`]: time-average of a piecewise-constant quantity
//!   (busy servers, queue length, instances).
//! * [`Counter`], [`IntervalCounts`] and [`IntervalAverages`]: counts and
//!   time-weighted means per fixed interval (time series).
//! * [`Estimate`]: mean over replications with a Student-t 95% interval.
//! * [`mser5_truncation`]: automatic warm-up detection.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::special::student_t_quantile;
use crate::spill::{Chunk, SPILL_CHUNK, Spill};
use crate::time::{SimDuration, SimTime};

// The lowest discernible value is 1 ns so that 3 significant digits hold from
// 1 µs upwards (hdrhistogram rounds its unit down to a power of two).
const HIST_LOW_NS: u64 = 1;
const HIST_HIGH_NS: u64 = 3_600 * 1_000_000_000;
const HIST_SIGFIG: u8 = 3;

/// Latency distribution in nanoseconds, resolvable from 1 µs to 1 h with 3
/// significant digits (about 270 KB each); values above an hour are recorded as an hour. The mean
/// is exact (kept as a separate sum), percentiles are within 0.1%.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    sum_ns: u128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        LatencyHistogram {
            hist: Histogram::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, HIST_SIGFIG)
                .expect("static histogram bounds are valid"),
            sum_ns: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, latency: SimDuration) {
        let ns = latency.as_nanos();
        self.sum_ns += ns as u128;
        self.hist.saturating_record(ns);
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("histograms share bounds and cannot overflow u64 counts");
        self.sum_ns += other.sum_ns;
    }

    pub fn clear(&mut self) {
        self.hist.reset();
        self.sum_ns = 0;
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hist.is_empty()
    }

    /// Exact mean in milliseconds (NaN when empty).
    pub fn mean_ms(&self) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        self.sum_ns as f64 / self.count() as f64 / 1e6
    }

    /// The q-quantile (0 ≤ q ≤ 1) in milliseconds (NaN when empty).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        self.hist.value_at_quantile(q) as f64 / 1e6
    }

    /// [`quantile_ms`](Self::quantile_ms) of each of `qs`, in one pass over
    /// the counts when `qs` is ascending and within [0, 1] (the plots and
    /// `latency.csv` ask for a hundred to a thousand quantiles of one
    /// histogram); one scan per quantile otherwise. All NaN when empty.
    pub fn quantiles_ms(&self, qs: &[f64]) -> Vec<f64> {
        if self.is_empty() {
            return vec![f64::NAN; qs.len()];
        }
        let in_range = qs.iter().all(|q| (0.0..=1.0).contains(q));
        if !(in_range && qs.is_sorted()) {
            return qs.iter().map(|&q| self.quantile_ms(q)).collect();
        }
        let v: Vec<f64> = self
            .hist
            .value_at_quantiles(qs.iter().copied())
            .map(|ns| ns as f64 / 1e6)
            .collect();
        debug_assert_eq!(v.len(), qs.len());
        v
    }

    /// The largest recorded value in milliseconds (NaN when empty).
    pub fn max_ms(&self) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        self.hist.max() as f64 / 1e6
    }

    /// Fraction of recorded values at or below `threshold`.
    pub fn fraction_at_or_below(&self, threshold: SimDuration) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        self.hist.count_between(0, threshold.as_nanos()) as f64 / self.count() as f64
    }

    /// Direct access for exporters (e.g. a CDF plot).
    pub fn raw(&self) -> &Histogram<u64> {
        &self.hist
    }
}

// The HDR histogram's bucket layout for the bounds above, as the crate
// derives it: `SUB_MAG` bits of sub-bucket, a unit of 2^`UNIT_MAG` ns. The
// crate keeps its index function private, and recording through
// `Histogram::saturating_record` (range checks, min/max and total per value)
// costs more: `capsim run mmc-reference --replications 2 --threads 1`
// executed 2,804 M instructions that way against 2,697 M with this layout
// (+4.0%), `tandem` 1,011 M against 986 M (+2.6%) under callgrind.
const UNIT_MAG: u32 = 63 - HIST_LOW_NS.leading_zeros();
const SUB_MAG: u32 = 64 - (2 * 10u64.pow(HIST_SIGFIG as u32) - 1).leading_zeros();
const HALF_MAG: u32 = SUB_MAG - 1;
const SUB_MASK: u64 = ((1 << SUB_MAG) - 1) << UNIT_MAG;
const LZ_BASE: u32 = 64 - UNIT_MAG - SUB_MAG;

/// The HDR histogram's counts index of `ns`.
#[inline(always)]
fn hdr_index(ns: u64) -> usize {
    let bucket = LZ_BASE - (ns | SUB_MASK).leading_zeros();
    let sub = ns >> (bucket + UNIT_MAG);
    // ((bucket + 1) << HALF_MAG) + sub - half count, without the wrap.
    ((bucket as usize) << HALF_MAG) + sub as usize
}

/// The lowest value of counts index `i` of the HDR histogram.
fn hdr_value(i: usize) -> u64 {
    let half = 1usize << HALF_MAG;
    let (bucket, sub) = match (i >> HALF_MAG).checked_sub(1) {
        Some(b) => (b, (i & (half - 1)) + half),
        None => (0, i & (half - 1)),
    };
    (sub as u64) << (bucket as u32 + UNIT_MAG)
}

/// Latencies counted for a [`LatencyHistogram`] on a hot path (every
/// answered request, every replicated write, every finished job): the
/// histogram's own buckets in a plain array, without its per-value
/// bookkeeping. [`LatencyRecorder::finish`] replays the counts
/// into a histogram, which then answers exactly as if each latency had been
/// recorded into it: the same counts, total and sum, and the same smallest
/// and largest value (the histogram reports those as its buckets' bounds,
/// so one value of a bucket stands for all of it).
#[derive(Clone, Debug)]
pub struct LatencyRecorder {
    counts: Vec<u64>,
    sum_ns: u128,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    pub fn new() -> Self {
        LatencyRecorder {
            counts: vec![0; LatencyHistogram::new().hist.distinct_values()],
            sum_ns: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, latency: SimDuration) {
        let ns = latency.as_nanos();
        self.sum_ns += ns as u128;
        let mut i = hdr_index(ns);
        if i >= self.counts.len() {
            // The histogram clamps what lies beyond its last bucket.
            i = hdr_index(HIST_HIGH_NS);
        }
        self.counts[i] += 1;
    }

    /// Adds everything `other` recorded, as recording its values here would.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum_ns += other.sum_ns;
    }

    /// [`LatencyHistogram::mean_ms`] of [`finish`](Self::finish)'s
    /// histogram, without building it.
    pub fn mean_ms(&self) -> f64 {
        let count: u64 = self.counts.iter().sum();
        if count == 0 {
            return f64::NAN;
        }
        self.sum_ns as f64 / count as f64 / 1e6
    }

    /// The histogram of everything recorded.
    pub fn finish(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for (i, &n) in self.counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            h.hist
                .record_n(hdr_value(i), n)
                .expect("a bucket's value is in range");
        }
        h.sum_ns = self.sum_ns;
        h
    }
}

/// Time-average of a piecewise-constant value.
#[derive(Clone, Debug)]
pub struct TimeWeighted {
    start: SimTime,
    last: SimTime,
    value: f64,
    area: f64,
}

impl TimeWeighted {
    pub fn new(start: SimTime, value: f64) -> Self {
        TimeWeighted {
            start,
            last: start,
            value,
            area: 0.0,
        }
    }

    /// The value changes to `value` at `now`.
    #[inline]
    pub fn set(&mut self, now: SimTime, value: f64) {
        self.area += self.value * (now - self.last).as_nanos() as f64;
        self.last = now;
        self.value = value;
    }

    /// The value changes by `delta` at `now`.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: f64) {
        let v = self.value + delta;
        self.set(now, v);
    }

    #[inline]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Average over [start, now]; the current value if no time has passed.
    pub fn mean(&self, now: SimTime) -> f64 {
        let span = (now - self.start).as_nanos();
        if span == 0 {
            return self.value;
        }
        (self.area + self.value * (now - self.last).as_nanos() as f64) / span as f64
    }

    /// Restarts averaging at `now`, keeping the current value (warm-up deletion).
    pub fn reset(&mut self, now: SimTime) {
        self.set(now, self.value);
        self.start = now;
        self.area = 0.0;
    }
}

/// The running integral of a piecewise-constant value since the start: never
/// reset, so two readings bracket any period exactly.
#[derive(Clone, Copy, Debug, Default)]
pub struct Integral {
    last: SimTime,
    value: f64,
    area: f64,
}

impl Integral {
    pub fn new(value: f64) -> Self {
        Integral {
            last: SimTime::ZERO,
            value,
            area: 0.0,
        }
    }

    /// The value changes to `value` at `now`.
    #[inline]
    pub fn set(&mut self, now: SimTime, value: f64) {
        self.area += self.value * (now - self.last).as_nanos() as f64;
        self.last = now;
        self.value = value;
    }

    #[inline]
    pub fn add(&mut self, now: SimTime, delta: f64) {
        let v = self.value + delta;
        self.set(now, v);
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    /// ∫ value dt over [0, now], in value·ns.
    #[inline]
    pub fn at(&self, now: SimTime) -> f64 {
        self.area + self.value * now.saturating_since(self.last).as_nanos() as f64
    }
}

/// A small log-linear histogram of durations in nanoseconds for quantiles
/// over short periods: 64 buckets per power of two (about 1.1% resolution)
/// up to 2^43 ns (about 2.4 hours; larger values count as the largest), 2,432
/// `u32` counts, cleared in place for the next period.
#[derive(Clone, Debug)]
pub struct CompactHistogram {
    counts: Vec<u32>,
    total: u64,
}

const CH_SUB: u32 = 64;
const CH_MAX_EXP: u32 = 42;

impl Default for CompactHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl CompactHistogram {
    pub fn new() -> Self {
        CompactHistogram {
            counts: vec![0; Self::LEN],
            total: 0,
        }
    }

    /// Buckets: 64 exact ones below 64 ns, then 64 per power of two from 2^6
    /// to 2^CH_MAX_EXP.
    const LEN: usize = ((CH_MAX_EXP - 4) * CH_SUB) as usize;

    #[inline]
    fn index(ns: u64) -> usize {
        if ns < CH_SUB as u64 {
            return ns as usize;
        }
        let e = 63 - ns.leading_zeros();
        if e > CH_MAX_EXP {
            return Self::LEN - 1;
        }
        let m = ((ns >> (e - 6)) & (CH_SUB as u64 - 1)) as u32;
        ((e - 5) * CH_SUB + m) as usize
    }

    /// The smallest value of bucket `i` and the first of the next.
    fn bounds(i: usize) -> (u64, u64) {
        let i = i as u64;
        let sub = CH_SUB as u64;
        if i < sub {
            return (i, i + 1);
        }
        let e = i / sub + 5;
        let m = i % sub;
        let lo = (sub + m) << (e - 6);
        (lo, lo + (1u64 << (e - 6)))
    }

    #[inline]
    pub fn record(&mut self, d: SimDuration) {
        self.counts[Self::index(d.as_nanos())] += 1;
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The q-quantile in ms (the middle of its bucket); NaN when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c as u64;
            if seen >= rank {
                let (lo, hi) = Self::bounds(i);
                return (lo as f64 + (hi - lo) as f64 / 2.0) / 1e6;
            }
        }
        unreachable!("rank within total")
    }

    pub fn clear(&mut self) {
        if self.total > 0 {
            self.counts.iter_mut().for_each(|c| *c = 0);
            self.total = 0;
        }
    }
}

/// A plain event counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter(u64);

impl Counter {
    #[inline]
    pub fn inc(&mut self) {
        self.0 += 1;
    }

    #[inline]
    pub fn add(&mut self, n: u64) {
        self.0 += n;
    }

    pub fn get(&self) -> u64 {
        self.0
    }

    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

/// Counts per fixed interval `[k·interval, (k+1)·interval)`. Memory grows
/// with the intervals reached, never with the event count; with a [`Spill`],
/// intervals the run has passed go to it ([`Self::spill`]) and memory holds
/// only the latest ones. Read the values once every spilled interval is
/// back ([`Self::restore`]).
#[derive(Clone, Debug)]
pub struct IntervalCounts {
    cursor: Cursor,
    bins: Window,
}

/// The part of a series held in memory: of its `len` intervals, those from
/// `base` on that have been reached (later ones are zero until added to).
/// Those before `base` were moved out (into a sum, or to a spill: then
/// `spilled` says where).
#[derive(Clone, Debug)]
struct Window {
    len: usize,
    base: usize,
    vals: Vec<f64>,
    spilled: Vec<Chunk>,
}

impl Window {
    fn new(len: usize) -> Self {
        Window {
            len,
            base: 0,
            vals: Vec::new(),
            spilled: Vec::new(),
        }
    }

    /// Adds `amount` to interval `i`, held at `k` (`i - base`): ignored past
    /// the horizon or before `base` (a bug: callers assert it in debug).
    #[inline(always)]
    fn add_at(&mut self, k: usize, i: usize, amount: f64) {
        match self.vals.get_mut(k) {
            Some(v) => *v += amount,
            None => {
                if let Some(v) = self.reach(i) {
                    *v += amount;
                }
            }
        }
    }

    #[inline(always)]
    fn add(&mut self, i: usize, amount: f64) {
        self.add_at(i.wrapping_sub(self.base), i, amount);
    }

    /// Holds the intervals up to `i` (none past the horizon or before `base`).
    #[cold]
    fn reach(&mut self, i: usize) -> Option<&mut f64> {
        if i >= self.len || i < self.base {
            return None;
        }
        grow_within(&mut self.vals, i - self.base + 1, self.len - self.base);
        self.vals.last_mut()
    }

    /// Frees the intervals before `upto` (at most the horizon), handing
    /// each held one's index and value to `f` first.
    fn advance(&mut self, upto: usize, mut f: impl FnMut(usize, f64)) {
        let upto = upto.min(self.len);
        if upto <= self.base {
            return;
        }
        let (base, held) = (self.base, (upto - self.base).min(self.vals.len()));
        for (k, v) in self.vals.drain(..held).enumerate() {
            f(base + k, v);
        }
        self.base = upto;
    }

    /// Writes the intervals before `upto` to `spill` and frees them, once
    /// at least [`SPILL_CHUNK`] of them are held (nothing if the store is
    /// off); whether it did.
    fn spill(&mut self, upto: usize, spill: &mut Spill) -> bool {
        let upto = upto.min(self.len);
        if !spill.is_active() || upto < self.base + SPILL_CHUNK {
            return false;
        }
        let n = upto - self.base;
        let held = n.min(self.vals.len());
        let words = (self.vals[..held].iter().map(|v| v.to_bits()))
            .chain(std::iter::repeat_n(0.0f64.to_bits(), n - held));
        self.spilled.push(spill.write(words));
        self.advance(upto, |_, _| {});
        true
    }

    /// Reads the spilled intervals back: every interval is held again;
    /// whether any were spilled.
    fn restore(&mut self, spill: &Spill) -> bool {
        if self.spilled.is_empty() {
            return false;
        }
        let mut v = Vec::with_capacity(self.len);
        spill.read_each(&self.spilled, |w| v.push(f64::from_bits(w)));
        debug_assert_eq!(v.len(), self.base);
        v.append(&mut self.vals);
        self.vals = v;
        self.base = 0;
        self.spilled = Vec::new();
        true
    }

    /// Every interval's value (all held: `base` is 0).
    fn values(&self) -> Vec<f64> {
        let mut v = Vec::with_capacity(self.len);
        v.extend_from_slice(&self.vals);
        v.resize(self.len, 0.0);
        v
    }

    /// Every interval's value, moved out (all held).
    fn take(&mut self) -> Vec<f64> {
        let mut v = std::mem::take(&mut self.vals);
        grow_within(&mut v, self.len, self.len);
        v
    }
}

/// The interval of a time, remembering the last one found: its start (ns),
/// index and place in a series' memory (the index less `base`, the first
/// interval held). Times mostly arrive in order, so most lookups skip
/// computing the index.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    index: IntervalIndex,
    start: u64,
    cur: usize,
    base: usize,
    slot: usize,
}

impl Cursor {
    fn new(interval: SimDuration) -> Self {
        Cursor {
            index: IntervalIndex::new(interval),
            start: 0,
            cur: 0,
            base: 0,
            slot: 0,
        }
    }

    /// The index of the interval containing `t` (ns).
    #[inline]
    fn bin_of(&mut self, t: u64) -> usize {
        let width = self.index.interval();
        if t.wrapping_sub(self.start) < width {
            return self.cur;
        }
        let i = self.index.of(t);
        self.start = i * width;
        self.cur = i as usize;
        self.slot = self.cur.wrapping_sub(self.base);
        self.cur
    }

    /// The interval containing `t` (ns) less `base`.
    #[inline]
    fn slot_of(&mut self, t: u64) -> usize {
        self.bin_of(t);
        self.slot
    }

    /// Memory now starts at interval `base`.
    fn rebase(&mut self, base: usize) {
        self.base = base;
        self.slot = self.cur.wrapping_sub(base);
    }

    /// Whether `[start of the last interval found, b)` fits in it.
    #[inline]
    fn within(&self, b: u64) -> bool {
        b - self.start <= self.index.interval()
    }

    fn width(&self) -> u64 {
        self.index.interval()
    }
}

/// `t / interval` without a division instruction on the hot path: a
/// multiply by the rounded-up reciprocal, then one exact correction.
#[derive(Clone, Copy, Debug)]
pub struct IntervalIndex {
    interval: u64,
    reciprocal: u128,
}

impl IntervalIndex {
    pub fn new(interval: SimDuration) -> Self {
        let d = interval.as_nanos();
        assert!(d > 0, "interval must be positive");
        IntervalIndex {
            interval: d,
            reciprocal: (u64::MAX as u128 + 1).div_ceil(d as u128),
        }
    }

    /// The index of the interval containing `t`.
    #[inline]
    pub fn of(&self, t: u64) -> u64 {
        // The estimate is exact or one too high.
        let q = ((t as u128 * self.reciprocal) >> 64) as u64;
        if q as u128 * self.interval as u128 > t as u128 {
            q - 1
        } else {
            q
        }
    }

    pub fn interval(&self) -> u64 {
        self.interval
    }
}

impl IntervalCounts {
    pub fn new(interval: SimDuration, horizon: SimDuration) -> Self {
        assert!(!interval.is_zero(), "interval must be positive");
        IntervalCounts {
            cursor: Cursor::new(interval),
            bins: Window::new(horizon.as_nanos().div_ceil(interval.as_nanos()) as usize),
        }
    }

    /// Adds `amount` to the interval containing `t` (ignored past the horizon).
    #[inline]
    pub fn add(&mut self, t: SimTime, amount: f64) {
        let k = self.cursor.slot_of(t.as_nanos());
        let i = self.cursor.cur;
        debug_assert!(i >= self.bins.base, "interval {i} was spilled");
        self.bins.add_at(k, i, amount);
    }

    /// Adds `rate ×` the part of `[a, b)` (ns) falling in each interval: a
    /// busy period spread over the intervals it covers.
    #[inline]
    pub fn add_span(&mut self, a: u64, b: u64, rate: f64) {
        if a >= b {
            return;
        }
        let step = self.cursor.width();
        let i = self.cursor.bin_of(a);
        if self.cursor.within(b) {
            // The common case: the span lies within one interval.
            self.add_to(i, rate * (b - a) as f64);
            return;
        }
        let (mut i, mut t) = (i, a);
        while t < b && i < self.bins.len {
            let bin_end = ((i as u64) + 1).saturating_mul(step);
            let e = bin_end.min(b);
            self.add_to(i, rate * (e - t) as f64);
            t = e;
            i += 1;
        }
    }

    /// Adds `amount` to interval `i` (ignored past the horizon). Adding to
    /// a spilled interval is a bug (debug assertion; ignored in release, as
    /// past the horizon).
    #[inline]
    pub fn add_to(&mut self, i: usize, amount: f64) {
        debug_assert!(i >= self.bins.base, "interval {i} was spilled");
        self.bins.add(i, amount);
    }

    pub fn interval(&self) -> SimDuration {
        SimDuration::from_nanos(self.cursor.width())
    }

    /// Intervals over the horizon.
    pub fn len(&self) -> usize {
        self.bins.len
    }

    pub fn is_empty(&self) -> bool {
        self.bins.len == 0
    }

    /// Writes the intervals before `upto` to `spill` and frees them here,
    /// once at least [`SPILL_CHUNK`] of them are held (nothing if the
    /// store is off). Nothing may be added to them afterwards.
    pub fn spill(&mut self, upto: usize, spill: &mut Spill) {
        if self.bins.spill(upto, spill) {
            self.cursor.rebase(self.bins.base);
        }
    }

    /// Reads the spilled intervals back from `spill`: every interval is
    /// held again.
    pub fn restore(&mut self, spill: &Spill) {
        if self.bins.restore(spill) {
            self.cursor.rebase(0);
        }
    }

    /// Every interval's count (all held: nothing spilled, or restored).
    pub fn values(&self) -> Vec<f64> {
        assert_eq!(self.bins.base, 0, "spilled intervals are restored first");
        self.bins.values()
    }

    /// The counts, moved out (at the end of a run: the results take them
    /// rather than a copy). All must be held, as for [`Self::values`].
    pub fn take_values(&mut self) -> Vec<f64> {
        assert_eq!(self.bins.base, 0, "spilled intervals are restored first");
        self.bins.take()
    }
}

/// Lengthens `v` with zeros to `n`, its room growing by doubling but never
/// past `most` (a series' intervals): what a series takes is never more
/// than its horizon's worth.
fn grow_within(v: &mut Vec<f64>, n: usize, most: usize) {
    if n > v.capacity() {
        let room = (2 * v.capacity()).max(4).clamp(n, most.max(n));
        v.reserve_exact(room - v.len());
    }
    v.resize(n, 0.0);
}

/// Counts per fixed interval, as [`IntervalCounts`], holding only the
/// intervals still open: a unit's share of its tier's series. Once the run
/// has passed an interval, [`Self::drain_into`] adds it to the tier's sum
/// and frees it here, so what a unit holds is bounded by the intervals its
/// work in flight reaches, not by the horizon. Adding to a drained interval
/// is a bug (debug assertion; ignored in release, as past the horizon).
#[derive(Clone, Debug)]
pub struct RollingCounts {
    /// The intervals not drained.
    open: Window,
    cursor: Cursor,
}

impl RollingCounts {
    pub fn new(interval: SimDuration, horizon: SimDuration) -> Self {
        assert!(!interval.is_zero(), "interval must be positive");
        RollingCounts {
            open: Window::new(horizon.as_nanos().div_ceil(interval.as_nanos()) as usize),
            cursor: Cursor::new(interval),
        }
    }

    /// Intervals over the horizon.
    pub fn len(&self) -> usize {
        self.open.len
    }

    pub fn is_empty(&self) -> bool {
        self.open.len == 0
    }

    pub fn interval(&self) -> SimDuration {
        SimDuration::from_nanos(self.cursor.width())
    }

    /// Adds `amount` to the interval containing `t` (ignored past the horizon).
    #[inline]
    pub fn add(&mut self, t: SimTime, amount: f64) {
        let i = self.cursor.bin_of(t.as_nanos());
        self.add_to(i, amount);
    }

    /// Adds `amount` to interval `i` (ignored past the horizon).
    #[inline]
    pub fn add_to(&mut self, i: usize, amount: f64) {
        debug_assert!(i >= self.open.base, "interval {i} was drained");
        self.open.add(i, amount);
    }

    /// Adds `rate ×` the part of `[a, b)` (ns) falling in each interval.
    #[inline(always)]
    pub fn add_span(&mut self, a: u64, b: u64, rate: f64) {
        if a >= b {
            return;
        }
        let i = self.cursor.bin_of(a);
        if self.cursor.within(b) {
            // The common case: the span lies within one interval.
            self.add_to(i, rate * (b - a) as f64);
        } else {
            self.add_across(i, a, b, rate);
        }
    }

    /// [`Self::add_span`] of a span starting in interval `i` and crossing
    /// into later ones.
    #[inline(never)]
    fn add_across(&mut self, i: usize, a: u64, b: u64, rate: f64) {
        let step = self.cursor.width();
        let (mut i, mut t) = (i as u64, a);
        while t < b && (i as usize) < self.open.len {
            let e = (i + 1).saturating_mul(step).min(b);
            self.add_to(i as usize, rate * (e - t) as f64);
            t = e;
            i += 1;
        }
    }

    /// Adds the intervals before `upto` to `sum` (interval by interval, in
    /// the order units are drained, as summing their whole series would)
    /// and frees them here.
    pub fn drain_into(&mut self, sum: &mut IntervalCounts, upto: usize) {
        self.open.advance(upto, |i, v| sum.add_to(i, v));
    }

    /// Frees the intervals before `upto` unread (a figure nobody reports).
    pub fn discard(&mut self, upto: usize) {
        self.open.advance(upto, |_, _| {});
    }

    /// Every interval's count, for a series never drained.
    pub fn values(&self) -> Vec<f64> {
        assert_eq!(self.open.base, 0, "a drained series keeps no counts");
        self.open.values()
    }
}

/// Time-weighted mean of a piecewise-constant value per fixed interval.
/// Memory grows with the intervals reached; with a [`Spill`], intervals the
/// run has passed go to it ([`Self::spill`]), as for [`IntervalCounts`].
#[derive(Clone, Debug)]
pub struct IntervalAverages {
    interval: u64,
    /// Integral of the value over each interval (value × ns).
    area: Window,
    last: SimTime,
    value: f64,
}

impl IntervalAverages {
    pub fn new(interval: SimDuration, horizon: SimDuration, initial: f64) -> Self {
        assert!(!interval.is_zero(), "interval must be positive");
        IntervalAverages {
            interval: interval.as_nanos(),
            area: Window::new(horizon.as_nanos().div_ceil(interval.as_nanos()) as usize),
            last: SimTime::ZERO,
            value: initial,
        }
    }

    /// The value changes to `value` at `now`.
    pub fn set(&mut self, now: SimTime, value: f64) {
        self.accumulate(now);
        self.value = value;
    }

    /// Spreads the current value over [last, now) across interval boundaries.
    #[inline]
    fn accumulate(&mut self, now: SimTime) {
        let mut t = self.last.as_nanos();
        let end = now.as_nanos();
        let (interval, value) = (self.interval, self.value);
        while t < end {
            let i = (t / interval) as usize;
            if i >= self.area.len {
                break;
            }
            debug_assert!(i >= self.area.base, "interval {i} was spilled");
            let bin_end = ((i as u64 + 1) * interval).min(end);
            self.area.add(i, value * (bin_end - t) as f64);
            t = bin_end;
        }
        self.last = now;
    }

    /// Writes the intervals before `upto` to `spill` and frees them here,
    /// once at least [`SPILL_CHUNK`] of them are held: the current value is
    /// spread up to their end first (split at an interval's bound, each
    /// interval gets the same additions). `upto`'s start must not be past
    /// the next change of value.
    pub fn spill(&mut self, upto: usize, spill: &mut Spill) {
        let upto = upto.min(self.area.len);
        if !spill.is_active() || upto < self.area.base + SPILL_CHUNK {
            return;
        }
        let bound = SimTime::from_nanos(upto as u64 * self.interval);
        if self.last < bound {
            self.accumulate(bound);
        }
        self.area.spill(upto, spill);
    }

    /// Reads the spilled intervals back from `spill`.
    pub fn restore(&mut self, spill: &Spill) {
        self.area.restore(spill);
    }

    /// Closes the series at `end` and returns the mean of each interval
    /// (a partial last interval is averaged over its covered part). The
    /// areas become the means in place: a series is finished once, with
    /// every interval held (nothing spilled, or restored).
    pub fn finish(&mut self, end: SimTime) -> Vec<f64> {
        assert_eq!(self.area.base, 0, "spilled intervals are restored first");
        self.accumulate(end);
        let end = end.as_nanos();
        let mut means = self.area.take();
        for (i, a) in means.iter_mut().enumerate() {
            let start = i as u64 * self.interval;
            let covered = ((i as u64 + 1) * self.interval)
                .min(end)
                .saturating_sub(start);
            *a = if covered == 0 {
                f64::NAN
            } else {
                *a / covered as f64
            };
        }
        means
    }
}

/// Running mean and variance (Welford), for per-observation statistics.
#[derive(Clone, Copy, Debug, Default)]
pub struct Welford {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Welford {
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.mean }
    }

    /// Sample variance (n − 1 denominator).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }
}

/// A figure estimated from independent replications: the mean and its
/// Student-t 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub estimate: f64,
    pub ci95: [f64; 2],
}

impl Estimate {
    /// The mean of `samples` (one value per replication, summed in the given
    /// order so the result is bit-identical for any thread count) with a
    /// two-sided 95% Student-t interval. Needs at least two samples; NaN samples
    /// (a replication without data for this figure) are skipped.
    pub fn from_samples(samples: &[f64]) -> Estimate {
        Self::with_confidence(samples, 0.95)
    }

    /// As [`Estimate::from_samples`] at another confidence level.
    pub fn with_confidence(samples: &[f64], level: f64) -> Estimate {
        let mut n = 0usize;
        let mut sum = 0.0;
        for &x in samples {
            if !x.is_nan() {
                n += 1;
                sum += x;
            }
        }
        if n == 0 {
            return Estimate {
                estimate: f64::NAN,
                ci95: [f64::NAN, f64::NAN],
            };
        }
        let mean = sum / n as f64;
        if n == 1 {
            return Estimate {
                estimate: mean,
                ci95: [f64::NAN, f64::NAN],
            };
        }
        let ss: f64 = samples
            .iter()
            .filter(|x| !x.is_nan())
            .map(|x| (x - mean) * (x - mean))
            .sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        let t = student_t_quantile(0.5 + level / 2.0, (n - 1) as f64);
        let half = t * sd / (n as f64).sqrt();
        Estimate {
            estimate: mean,
            ci95: [mean - half, mean + half],
        }
    }

    pub fn half_width(&self) -> f64 {
        (self.ci95[1] - self.ci95[0]) / 2.0
    }

    /// True if `x` lies inside the interval (inclusive).
    pub fn contains(&self, x: f64) -> bool {
        self.ci95[0] <= x && x <= self.ci95[1]
    }
}

/// MSER-5 warm-up detection (White 1997; Franklin & White 2008): groups the
/// output series into batches of 5, and returns how many leading observations
/// to delete so that the remaining batch means have the smallest squared
/// standard error. Only truncation points in the first half are considered, as
/// the rule prescribes. Returns 0 for series too short to judge (< 10 points).
pub fn mser5_truncation(series: &[f64]) -> usize {
    const BATCH: usize = 5;
    let batches: Vec<f64> = series
        .chunks_exact(BATCH)
        .map(|c| c.iter().sum::<f64>() / BATCH as f64)
        .collect();
    let m = batches.len();
    if m < 2 {
        return 0;
    }
    // Suffix sums make each candidate O(1).
    let mut suffix_sum = vec![0.0; m + 1];
    let mut suffix_sq = vec![0.0; m + 1];
    for j in (0..m).rev() {
        suffix_sum[j] = suffix_sum[j + 1] + batches[j];
        suffix_sq[j] = suffix_sq[j + 1] + batches[j] * batches[j];
    }
    let mut best = (f64::INFINITY, 0usize);
    for d in 0..=m / 2 {
        let k = (m - d) as f64;
        let mean = suffix_sum[d] / k;
        let ss = (suffix_sq[d] - k * mean * mean).max(0.0);
        let stat = ss / (k * k);
        if stat < best.0 {
            best = (stat, d);
        }
    }
    best.1 * BATCH
}

/// Log-linear latency buckets: exact below 64 ns, then 32 per power of two,
/// so a bucket's midpoint is within 1.6% of every value in it.
#[inline]
fn latency_bucket(ns: u64) -> u32 {
    if ns < 64 {
        ns as u32
    } else {
        let e = 63 - ns.leading_zeros();
        let m = ((ns >> (e - 5)) & 31) as u32;
        (e - 4) * 32 + m
    }
}

/// The midpoint of a bucket, in ns.
fn latency_bucket_mid(b: u32) -> f64 {
    if b < 64 {
        b as f64
    } else {
        let e = b / 32 + 4;
        let m = (b % 32) as u64;
        let width = 1u64 << (e - 5);
        ((32 + m) << (e - 5)) as f64 + (width as f64 - 1.0) / 2.0
    }
}

/// Counts over a contiguous range of buckets, grown at either end as needed.
#[derive(Clone, Debug, Default)]
struct BucketRange {
    lo: u32,
    counts: Vec<u32>,
    total: u64,
}

impl BucketRange {
    #[inline]
    fn add(&mut self, b: u32) {
        if b >= self.lo && ((b - self.lo) as usize) < self.counts.len() {
            self.counts[(b - self.lo) as usize] += 1;
            self.total += 1;
            return;
        }
        self.grow_to(b);
        self.counts[(b - self.lo) as usize] += 1;
        self.total += 1;
    }

    /// Makes room for bucket `b`: the first value opens a window of two
    /// octaves around it (most values of an interval fall in it).
    #[cold]
    fn grow_to(&mut self, b: u32) {
        if self.counts.is_empty() {
            self.lo = b.saturating_sub(32);
            self.counts = vec![0; 64];
            if b >= self.lo + 64 {
                self.counts.resize((b - self.lo) as usize + 1, 0);
            }
        } else if b < self.lo {
            let grow = (self.lo - b) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.lo = b;
        } else if (b - self.lo) as usize >= self.counts.len() {
            self.counts.resize((b - self.lo) as usize + 1, 0);
        }
    }

    fn remove(&mut self, b: u32) {
        if b >= self.lo
            && let Some(c) = self.counts.get_mut((b - self.lo) as usize)
            && *c > 0
        {
            *c -= 1;
            self.total -= 1;
        }
    }

    fn merge(&mut self, other: &BucketRange) {
        for (i, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                let b = other.lo + i as u32;
                self.add(b);
                self.counts[(b - self.lo) as usize] += c - 1;
                self.total += c as u64 - 1;
            }
        }
    }

    /// The `q` quantile in ns (the bucket midpoint of the value of rank
    /// ⌈q·n⌉), `None` when empty.
    fn quantile(&self, q: f64) -> Option<f64> {
        self.quantile_bucket(q).map(latency_bucket_mid)
    }

    /// The bucket holding the `q` quantile.
    fn quantile_bucket(&self, q: f64) -> Option<u32> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c as u64;
            if seen >= rank {
                return Some(self.lo + i as u32);
            }
        }
        unreachable!("rank is at most the total")
    }
}

/// A closed interval's quantile where it had no value.
const NO_BUCKET: u32 = u32::MAX;

/// The quantiles an [`IntervalLatency`] keeps of each interval it closes.
pub const INTERVAL_QUANTILES: [f64; 3] = [0.50, 0.95, 0.99];

/// Latency distributions per fixed interval, for percentiles over time (the
/// p95 of each minute). Values are kept in log-linear buckets (within 1.6%),
/// each interval over the range of buckets it has seen. An interval the run
/// has passed is *closed*: its [`INTERVAL_QUANTILES`] and count are kept and
/// its buckets freed, so the buckets held are those of the open intervals
/// (from the first still open to the latest recorded into), whatever the
/// horizon. Values at or after the horizon are ignored.
#[derive(Clone, Debug)]
pub struct IntervalLatency {
    index: IntervalIndex,
    /// Intervals over the horizon.
    len: usize,
    /// The first open interval: those before it are closed.
    open_from: usize,
    /// Buckets of intervals `open_from..open_from + open.len()`; later
    /// ones are opened as values arrive.
    open: Vec<BucketRange>,
    /// Each closed interval's count from `spilled_upto` on, unless its
    /// buckets were moved into another series.
    closed: Vec<u64>,
    /// And the buckets of its quantiles (`NO_BUCKET` where it had no
    /// value): 12 bytes, where the values in ms would take 24.
    closed_buckets: Vec<[u32; 3]>,
    /// Closed intervals were moved into another series ([`Self::drain_into`]):
    /// this one holds no figures for them.
    drained: bool,
    /// Closed intervals before it are in `spilled` ([`Self::spill`]).
    spilled_upto: usize,
    spilled: Vec<Chunk>,
    /// The last interval recorded into, [start, end) in ns: values mostly
    /// arrive in time order, so most records skip the index computation.
    last: (u64, u64, usize),
}

impl IntervalLatency {
    pub fn new(interval: SimDuration, horizon: SimDuration) -> Self {
        let len = horizon.as_nanos().div_ceil(interval.as_nanos()) as usize;
        IntervalLatency {
            index: IntervalIndex::new(interval),
            len,
            open_from: 0,
            open: Vec::new(),
            closed: Vec::new(),
            closed_buckets: Vec::new(),
            drained: false,
            spilled_upto: 0,
            spilled: Vec::new(),
            last: (0, 0, 0),
        }
    }

    /// A latency of a job that finished at `at`. Always inlined: it is on
    /// every answered request's path, and measured out of line it cost 2%
    /// more instructions on mmc-reference.
    #[inline(always)]
    pub fn record(&mut self, at: SimTime, latency: SimDuration) {
        let t = at.as_nanos();
        let (start, end, last) = self.last;
        let i = if t >= start && t < end {
            last
        } else {
            let i = self.index.of(t);
            let width = self.index.interval();
            self.last = (i * width, (i + 1) * width, i as usize);
            i as usize
        };
        self.record_in(i, latency);
    }

    /// A latency recorded into interval `i` directly (the caller knows the
    /// interval of the finish time). `i` is never a closed interval: values
    /// are recorded no earlier than the time they finish, and intervals close
    /// once the run has passed them.
    #[inline(always)]
    pub fn record_in(&mut self, i: usize, latency: SimDuration) {
        debug_assert!(i >= self.open_from, "interval {i} is closed");
        let b = latency_bucket(latency.as_nanos());
        match self.open.get_mut(i.wrapping_sub(self.open_from)) {
            Some(bin) => bin.add(b),
            None => self.open_to(i, b),
        }
    }

    /// Opens the intervals up to `i` (none past the horizon) and records
    /// bucket `b` there.
    #[cold]
    fn open_to(&mut self, i: usize, b: u32) {
        if i < self.len && i >= self.open_from {
            self.open
                .resize_with(i - self.open_from + 1, BucketRange::default);
            self.open[i - self.open_from].add(b);
        }
    }

    /// Takes back a value recorded with the same arguments (a job voided by
    /// a crash: it would have finished after the crash, in an open interval).
    pub fn remove(&mut self, at: SimTime, latency: SimDuration) {
        let i = self.index.of(at.as_nanos()) as usize;
        debug_assert!(
            i >= self.open_from || i >= self.len,
            "interval {i} is closed"
        );
        if let Some(bin) = self.open.get_mut(i.wrapping_sub(self.open_from)) {
            bin.remove(latency_bucket(latency.as_nanos()));
        }
    }

    /// Adds `other`'s open intervals before `upto` into this series.
    fn add_open(&mut self, other: &IntervalLatency, upto: usize) {
        assert_eq!(self.len, other.len, "same intervals");
        let end = upto.min(other.open_from + other.open.len());
        for i in other.open_from..end {
            let theirs = &other.open[i - other.open_from];
            if theirs.total == 0 {
                continue;
            }
            assert!(i >= self.open_from, "interval {i} is closed here");
            if i - self.open_from >= self.open.len() {
                self.open
                    .resize_with(i - self.open_from + 1, BucketRange::default);
            }
            let ours = &mut self.open[i - self.open_from];
            if ours.total == 0 {
                // A copy, not a merge bucket by bucket (which grows the
                // range one bucket at a time).
                ours.clone_from(theirs);
            } else {
                ours.merge(theirs);
            }
        }
    }

    /// Closes the intervals before `upto` (at most the horizon): keeps their
    /// counts and quantiles, frees their buckets.
    pub fn close(&mut self, upto: usize) {
        assert!(!self.drained, "a drained series keeps no figures");
        let upto = upto.min(self.len);
        if upto <= self.open_from {
            return;
        }
        let held = (upto - self.open_from).min(self.open.len());
        // Every interval closes by the end, or is spilled a chunk at a
        // time: room for all or for a chunk at once, rather than growing
        // (and holding up to twice the room) as they do.
        let room = (self.len - self.spilled_upto).min(SPILL_CHUNK + 1);
        self.closed
            .reserve_exact(room.saturating_sub(self.closed.len()));
        self.closed_buckets
            .reserve_exact(room.saturating_sub(self.closed_buckets.len()));
        for bin in self.open.drain(..held) {
            let mut q = [NO_BUCKET; 3];
            for (b, &p) in q.iter_mut().zip(&INTERVAL_QUANTILES) {
                *b = bin.quantile_bucket(p).unwrap_or(NO_BUCKET);
            }
            self.closed.push(bin.total);
            self.closed_buckets.push(q);
        }
        self.closed.resize(upto - self.spilled_upto, 0);
        self.closed_buckets
            .resize(upto - self.spilled_upto, [NO_BUCKET; 3]);
        self.open_from = upto;
    }

    /// Writes the closed intervals to `spill` and frees them here, once at
    /// least [`SPILL_CHUNK`] of them are held (nothing if the store is off):
    /// three words each, the count and the quantiles' buckets.
    pub fn spill(&mut self, spill: &mut Spill) {
        if !spill.is_active() || self.drained || self.closed.len() < SPILL_CHUNK {
            return;
        }
        let words = self
            .closed
            .iter()
            .zip(&self.closed_buckets)
            .flat_map(|(&n, q)| [n, q[0] as u64 | (q[1] as u64) << 32, q[2] as u64]);
        self.spilled.push(spill.write(words));
        self.spilled_upto += self.closed.len();
        self.closed.clear();
        self.closed_buckets.clear();
    }

    /// Reads the spilled intervals back from `spill`.
    pub fn restore(&mut self, spill: &Spill) {
        if self.spilled.is_empty() {
            return;
        }
        let room = self.spilled_upto + self.closed.len().max(self.len - self.open_from);
        let mut closed = Vec::with_capacity(room);
        let mut buckets = Vec::with_capacity(room);
        let mut word = [0u64; 3];
        let mut k = 0;
        spill.read_each(&self.spilled, |w| {
            word[k] = w;
            k = (k + 1) % 3;
            if k == 0 {
                closed.push(word[0]);
                buckets.push([word[1] as u32, (word[1] >> 32) as u32, word[2] as u32]);
            }
        });
        debug_assert_eq!(closed.len(), self.spilled_upto);
        closed.append(&mut self.closed);
        buckets.append(&mut self.closed_buckets);
        (self.closed, self.closed_buckets) = (closed, buckets);
        self.spilled_upto = 0;
        self.spilled = Vec::new();
    }

    /// Closes the intervals before `upto` (at most the horizon) as
    /// [`Self::close`] does, after adding them into `also` (a sum of
    /// several series, such as every class's).
    pub fn close_adding_to(&mut self, also: &mut IntervalLatency, upto: usize) {
        also.add_open(self, upto);
        self.close(upto);
    }

    /// Closes the intervals before `upto` of this sum of `units` (a tier's
    /// nodes or shards), after moving theirs in.
    pub fn close_draining<'a>(
        &mut self,
        units: impl Iterator<Item = &'a mut IntervalLatency>,
        upto: usize,
    ) {
        for u in units {
            u.drain_into(self, upto);
        }
        self.close(upto);
    }

    /// The first interval still open: those before it are closed.
    pub fn first_open(&self) -> usize {
        self.open_from
    }

    /// Moves the intervals before `upto` into `into` (a tier's sum of its
    /// units) and frees them here: this series then keeps no figures of its
    /// own for them.
    fn drain_into(&mut self, into: &mut IntervalLatency, upto: usize) {
        let upto = upto.min(self.len);
        if upto <= self.open_from {
            return;
        }
        into.add_open(self, upto);
        let held = (upto - self.open_from).min(self.open.len());
        self.open.drain(..held);
        self.open_from = upto;
        self.drained = true;
    }

    /// Values recorded in each interval.
    pub fn counts(&self) -> Vec<u64> {
        assert!(!self.drained, "a drained series keeps no figures");
        assert_eq!(self.spilled_upto, 0, "spilled intervals are restored first");
        let mut counts = self.closed.clone();
        counts.extend(self.open.iter().map(|b| b.total));
        counts.resize(self.len, 0);
        counts
    }

    /// Bucket bytes held by the open intervals that have a value, and how
    /// many intervals that is (what a run's latency series cost in memory).
    pub fn footprint(&self) -> (usize, usize) {
        self.open
            .iter()
            .filter(|b| b.total > 0)
            .fold((0, 0), |(bytes, n), b| {
                (bytes + 4 * b.counts.capacity(), n + 1)
            })
    }

    /// The `q` quantile of each interval in ms (NaN where it has no value).
    /// Of a closed interval only the [`INTERVAL_QUANTILES`] are known.
    pub fn quantile_ms(&self, q: f64) -> Vec<f64> {
        assert!(!self.drained, "a drained series keeps no figures");
        assert_eq!(self.spilled_upto, 0, "spilled intervals are restored first");
        let kept = INTERVAL_QUANTILES.iter().position(|&p| p == q);
        assert!(
            kept.is_some() || self.open_from == 0,
            "only the kept quantiles of a closed interval are known"
        );
        let k = kept.unwrap_or(0);
        let mut out: Vec<f64> = (self.closed_buckets.iter())
            .map(|b| match b[k] {
                NO_BUCKET => f64::NAN,
                b => latency_bucket_mid(b) / 1e6,
            })
            .collect();
        out.extend(
            self.open
                .iter()
                .map(|b| b.quantile(q).map_or(f64::NAN, |ns| ns / 1e6)),
        );
        out.resize(self.len, f64::NAN);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: f64) -> SimDuration {
        SimDuration::from_secs_f64(x / 1e3)
    }

    /// The recorder's histogram against recording every value directly.
    fn assert_recorder_matches(values: &[u64]) {
        let mut direct = LatencyHistogram::new();
        let mut rec = LatencyRecorder::new();
        for &ns in values {
            direct.record(SimDuration::from_nanos(ns));
            rec.record(SimDuration::from_nanos(ns));
        }
        let h = rec.finish();
        assert_eq!(rec.mean_ms().to_bits(), direct.mean_ms().to_bits());
        assert_eq!(h.count(), values.len() as u64);
        // Counts, total, range and the tracked extremes (`min_nz`, `max`).
        assert!(h.hist == direct.hist, "histograms differ for {values:?}");
        assert_eq!(h.hist.min_nz(), direct.hist.min_nz());
        assert_eq!(h.hist.max(), direct.hist.max());
        assert_eq!(h.hist.min(), direct.hist.min());
        assert_eq!(h.sum_ns, direct.sum_ns);
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(h.quantile_ms(q).to_bits(), direct.quantile_ms(q).to_bits());
        }
        assert_eq!(h.mean_ms().to_bits(), direct.mean_ms().to_bits());
    }

    #[test]
    fn recorder_uses_the_histograms_buckets() {
        // Every index maps back to itself, and its lowest value is the
        // histogram's lowest equivalent (the first 2^20 values, then powers
        // of two and their neighbours up to the top).
        let hist = LatencyHistogram::new().hist;
        let mut values: Vec<u64> = (0..1 << 20).collect();
        for shift in 20..44 {
            for d in [-1i64, 0, 1, 12_345] {
                values.push(((1i64 << shift) + d) as u64);
            }
        }
        for &v in &values {
            let i = hdr_index(v);
            if i >= hist.distinct_values() {
                assert!(v > HIST_HIGH_NS, "{v} has no bucket");
                continue;
            }
            assert_eq!(
                hdr_value(i),
                hist.lowest_equivalent(v),
                "value {v}, index {i}"
            );
            assert_eq!(hdr_index(hdr_value(i)), i);
        }
    }

    #[test]
    fn recorder_histogram_equals_direct_recording() {
        assert_recorder_matches(&[]);
        assert_recorder_matches(&[0]);
        assert_recorder_matches(&[0, 0, 5]);
        assert_recorder_matches(&[7]);
        assert_recorder_matches(&[1_000_001, 1_000_002, 1_000_003]);
        // Beyond the histogram's range: clamped to an hour, the sum exact.
        assert_recorder_matches(&[5_000_000_000_000, 3_600_000_000_001, 10]);
        assert_recorder_matches(&[u64::MAX / 2, 1]);
        // Spread over the whole range, several values per bucket.
        let mut rng = crate::rng::StreamRng::from_key(42);
        let values: Vec<u64> = (0..200_000)
            .map(|_| {
                let e = (rng.next_u64() % 43) as u32;
                rng.next_u64() >> (63 - e).min(63)
            })
            .collect();
        assert_recorder_matches(&values);
    }

    #[test]
    fn merged_recorders_equal_merged_histograms() {
        // Two recorders merged answer as two directly recorded histograms
        // merged (replication lag sums its replicas this way).
        let parts: [&[u64]; 3] = [
            &[3, 1_000_001, 7_000_000],
            &[],
            &[0, 2_500_000, 9_999_999_999],
        ];
        let mut merged = LatencyRecorder::new();
        let mut direct = LatencyHistogram::new();
        for part in parts {
            let mut rec = LatencyRecorder::new();
            let mut hist = LatencyHistogram::new();
            for &ns in part {
                rec.record(SimDuration::from_nanos(ns));
                hist.record(SimDuration::from_nanos(ns));
            }
            merged.merge(&rec);
            direct.merge(&hist);
        }
        let h = merged.finish();
        assert_eq!(merged.mean_ms().to_bits(), direct.mean_ms().to_bits());
        assert_eq!(h.count(), 6);
        assert!(h.hist == direct.hist);
        assert_eq!(
            (h.hist.min(), h.hist.max()),
            (direct.hist.min(), direct.hist.max())
        );
        assert_eq!(h.sum_ns, direct.sum_ns);
        assert_eq!(h.mean_ms().to_bits(), direct.mean_ms().to_bits());
        for q in [0.0, 0.5, 0.99, 1.0] {
            assert_eq!(h.quantile_ms(q).to_bits(), direct.quantile_ms(q).to_bits());
        }
    }

    #[test]
    fn histogram_percentiles_and_exact_mean() {
        let mut h = LatencyHistogram::new();
        for i in 1..=10_000u64 {
            h.record(SimDuration::from_micros(i * 100)); // 0.1 ms .. 1000 ms
        }
        assert_eq!(h.count(), 10_000);
        assert!((h.mean_ms() - 500.05).abs() < 1e-9);
        let p99 = h.quantile_ms(0.99);
        assert!((p99 - 990.0).abs() / 990.0 < 1e-3, "{p99}");
        let p50 = h.quantile_ms(0.5);
        assert!((p50 - 500.0).abs() / 500.0 < 1e-3, "{p50}");
        assert!((h.max_ms() - 1000.0).abs() / 1000.0 < 1e-3);
        assert!((h.fraction_at_or_below(ms(100.0)) - 0.1).abs() < 1e-3);
    }

    #[test]
    fn histogram_covers_one_microsecond_to_one_hour() {
        let mut h = LatencyHistogram::new();
        h.record(SimDuration::from_micros(1));
        h.record(SimDuration::from_secs(3_600));
        h.record(SimDuration::from_secs(10_000)); // saturates at the top
        assert_eq!(h.count(), 3);
        assert!((h.quantile_ms(0.0) - 0.001).abs() < 1e-6);
        h.record(SimDuration::from_nanos(12_345));
        // 3 significant digits at 12.3 µs.
        assert!((h.quantile_ms(0.5) - 0.012_345).abs() < 0.000_012);
        assert!((h.max_ms() - 3_600_000.0).abs() / 3.6e6 < 1e-3);
    }

    #[test]
    fn histograms_merge() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(ms(1.0));
        b.record(ms(3.0));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!((a.mean_ms() - 2.0).abs() < 1e-12);
        assert!(LatencyHistogram::new().mean_ms().is_nan());
    }

    #[test]
    fn time_weighted_mean_and_reset() {
        let t = |s: u64| SimTime::at(SimDuration::from_secs(s));
        let mut tw = TimeWeighted::new(t(0), 0.0);
        tw.set(t(10), 2.0); // 0 for 10 s
        tw.set(t(20), 4.0); // 2 for 10 s
        assert!((tw.mean(t(30)) - 2.0).abs() < 1e-12); // 4 for 10 s
        tw.reset(t(30));
        assert_eq!(tw.mean(t(30)), 4.0);
        tw.add(t(40), -4.0);
        assert!((tw.mean(t(50)) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn interval_series() {
        let t = |s: u64| SimTime::at(SimDuration::from_secs(s));
        let mut c = IntervalCounts::new(SimDuration::from_secs(60), SimDuration::from_secs(150));
        c.add(t(0), 1.0);
        c.add(t(59), 1.0);
        c.add(t(60), 1.0);
        c.add(t(149), 2.0);
        c.add(t(500), 9.0); // past the horizon: ignored
        assert_eq!(c.values(), &[2.0, 1.0, 2.0]);

        let mut a =
            IntervalAverages::new(SimDuration::from_secs(60), SimDuration::from_secs(150), 1.0);
        a.set(t(30), 3.0); // 1 for 30 s, then 3
        a.set(t(90), 0.0); // 3 until 90 s
        let means = a.finish(t(150));
        assert_eq!(means.len(), 3);
        assert!((means[0] - 2.0).abs() < 1e-12);
        assert!((means[1] - 1.5).abs() < 1e-12);
        assert!((means[2] - 0.0).abs() < 1e-12); // partial last interval
    }

    #[test]
    fn interval_counts_match_a_direct_computation_in_any_order() {
        // The cached current interval must never change a result: random
        // points and spans, mostly moving forward with jumps back, against
        // bins computed by plain division.
        let mut rng = crate::rng::StreamRng::new(9, 0, "spans");
        let width = 7_000u64;
        let n = 40usize;
        let mut c = IntervalCounts::new(
            SimDuration::from_nanos(width),
            SimDuration::from_nanos(width * n as u64 - 123),
        );
        let mut want = vec![0.0f64; n];
        let mut t = 0u64;
        for _ in 0..20_000 {
            t = if rng.below(10) == 0 {
                rng.below(width * n as u64 + 5_000)
            } else {
                t + rng.below(3_000)
            };
            if rng.below(2) == 0 {
                c.add(SimTime::from_nanos(t), 1.0);
                if let Some(b) = want.get_mut((t / width) as usize) {
                    *b += 1.0;
                }
            } else {
                let long = rng.below(4) == 0;
                let end = t + rng.below(if long { 30_000 } else { 2_000 });
                c.add_span(t, end, 0.5);
                let mut s = t;
                while s < end && ((s / width) as usize) < n {
                    let e = ((s / width + 1) * width).min(end);
                    want[(s / width) as usize] += 0.5 * (e - s) as f64;
                    s = e;
                }
            }
        }
        assert_eq!(c.values(), &want[..]);
    }

    #[test]
    fn rolling_counts_drained_as_the_run_passes_sum_to_the_whole_series() {
        // Three units add points and spans from the time reached onwards
        // (jobs in flight reach ahead); every so often the intervals passed
        // are drained into one sum, in unit order. The sum is bit for bit
        // the element-wise sum of full-horizon series, and each unit holds
        // only the intervals still open.
        let mut rng = crate::rng::StreamRng::new(9, 1, "rolling");
        let width = 7_000u64;
        let n = 40usize;
        let (i, h) = (
            SimDuration::from_nanos(width),
            SimDuration::from_nanos(width * n as u64 - 123),
        );
        let mut units: Vec<_> = (0..3).map(|_| RollingCounts::new(i, h)).collect();
        let mut whole: Vec<_> = (0..3).map(|_| IntervalCounts::new(i, h)).collect();
        let mut sum = IntervalCounts::new(i, h);
        let mut now = 0u64;
        let mut held = 0;
        for step in 0..20_000u64 {
            now += rng.below(28);
            let u = rng.below(3) as usize;
            let rate = 1.0 / (1 + rng.below(7)) as f64;
            if rng.below(2) == 0 {
                let t = SimTime::from_nanos(now + rng.below(2_000));
                units[u].add(t, rate);
                whole[u].add(t, rate);
            } else {
                let a = now + rng.below(2_000);
                let long = rng.below(4) == 0;
                let b = a + rng.below(if long { 30_000 } else { 2_000 });
                units[u].add_span(a, b, rate);
                whole[u].add_span(a, b, rate);
            }
            if step % 97 == 0 {
                let upto = (now / width) as usize;
                units.iter_mut().for_each(|r| r.drain_into(&mut sum, upto));
                held = held.max(units.iter().map(|r| r.open.vals.len()).max().unwrap());
            }
        }
        units
            .iter_mut()
            .for_each(|r| r.drain_into(&mut sum, usize::MAX));
        let want: Vec<f64> = (0..n)
            .map(|k| whole.iter().fold(0.0, |s, w| s + w.values()[k]))
            .collect();
        assert_eq!(sum.values(), &want[..]);
        assert!(now / width > 35 && held < 8, "{held} intervals held");
        assert!(units.iter().all(|r| r.open.vals.is_empty()));
    }

    #[test]
    fn interval_index_is_exact_division() {
        let mut rng = crate::rng::StreamRng::new(8, 0, "index");
        for d in [
            1u64,
            7,
            60_000_000_000,
            1_000_000_007,
            3_600_000_000_000,
            u64::MAX / 3,
        ] {
            let ix = IntervalIndex::new(SimDuration::from_nanos(d));
            for t in [0, 1, d - 1, d, d.saturating_add(1), u64::MAX - 1, u64::MAX] {
                assert_eq!(ix.of(t), t / d, "t {t} d {d}");
            }
            for _ in 0..10_000 {
                let t = rng.next_u64();
                assert_eq!(ix.of(t), t / d, "t {t} d {d}");
                let near = (t / d) * d;
                assert_eq!(ix.of(near), near / d);
                assert_eq!(ix.of(near.saturating_sub(1)), near.saturating_sub(1) / d);
            }
        }
    }

    #[test]
    fn integral_brackets_periods() {
        let t = |s: u64| SimTime::at(SimDuration::from_secs(s));
        let mut i = Integral::new(2.0);
        i.set(t(10), 4.0);
        assert_eq!(i.at(t(10)), 20e9);
        assert_eq!(i.at(t(15)) - i.at(t(10)), 20e9);
    }

    #[test]
    fn compact_histogram_quantiles_within_resolution() {
        let mut h = CompactHistogram::new();
        for i in 1..=1000u64 {
            h.record(SimDuration::from_micros(i * 100)); // 0.1 .. 100 ms
        }
        for (q, exact) in [(0.5, 50.0), (0.95, 95.0), (0.99, 99.0)] {
            let got = h.quantile_ms(q);
            assert!(
                (got - exact).abs() / exact < 0.012,
                "q {q}: {got} vs {exact}"
            );
        }
        // Tiny and huge values land in the end buckets.
        h.record(SimDuration::from_nanos(3));
        h.record(SimDuration::from_secs(100_000));
        assert_eq!(h.count(), 1002);
        h.clear();
        assert!(h.quantile_ms(0.5).is_nan());
        // Up to 2^43 ns every value has its own bucket range; beyond, the last.
        h.record(SimDuration::from_nanos((1u64 << 42) + 12_345));
        h.record(SimDuration::from_nanos((1u64 << 43) - 1));
        assert_eq!(CompactHistogram::index(u64::MAX), CompactHistogram::LEN - 1);
        // Buckets tile the range without gaps.
        for i in 0..CompactHistogram::LEN - 1 {
            assert_eq!(
                CompactHistogram::bounds(i).1,
                CompactHistogram::bounds(i + 1).0,
                "{i}"
            );
            assert_eq!(CompactHistogram::index(CompactHistogram::bounds(i).0), i);
        }
    }

    #[test]
    fn welford_matches_two_pass() {
        let xs = [1.0, 2.0, 4.0, 7.0, 11.0];
        let mut w = Welford::default();
        xs.iter().for_each(|&x| w.push(x));
        let mean = 5.0;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 4.0;
        assert!((w.mean() - mean).abs() < 1e-12);
        assert!((w.variance() - var).abs() < 1e-12);
    }

    #[test]
    fn estimate_hand_worked() {
        // Mean 5, sample sd sqrt(2.5), t_{0.975,4} = 2.776445.
        let e = Estimate::from_samples(&[3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(e.estimate, 5.0);
        let half = 2.776_445_105 * (2.5f64).sqrt() / 5f64.sqrt();
        assert!((e.half_width() - half).abs() < 1e-4, "{}", e.half_width());
        assert!(e.contains(5.0) && !e.contains(7.0));
        // NaNs are skipped; a single sample has no interval.
        let e = Estimate::from_samples(&[f64::NAN, 2.0, 4.0]);
        assert_eq!(e.estimate, 3.0);
        assert!(Estimate::from_samples(&[1.0]).ci95[0].is_nan());
    }

    #[test]
    fn estimate_covers_the_truth_about_95_percent_of_the_time() {
        // 2000 experiments of 10 N(0,1) samples each from a fixed stream.
        let mut rng = crate::rng::StreamRng::new(3, 0, "coverage");
        let mut covered = 0;
        let trials = 2_000;
        for _ in 0..trials {
            let xs: Vec<f64> = (0..10)
                .map(|_| crate::special::normal_quantile(rng.open01()))
                .collect();
            if Estimate::from_samples(&xs).contains(0.0) {
                covered += 1;
            }
        }
        let rate = covered as f64 / trials as f64;
        // Binomial sd is about 0.005: accept 3 sd either side.
        assert!((rate - 0.95).abs() < 0.016, "coverage {rate}");
    }

    #[test]
    fn mser5_finds_an_initial_transient() {
        // 100 points decaying from 50 to a noisy steady state around 10.
        let mut rng = crate::rng::StreamRng::new(4, 0, "mser");
        let series: Vec<f64> = (0..500)
            .map(|i| {
                let transient = if i < 100 {
                    40.0 * (1.0 - i as f64 / 100.0)
                } else {
                    0.0
                };
                10.0 + transient + (rng.uniform() - 0.5)
            })
            .collect();
        let d = mser5_truncation(&series);
        assert!((80..=130).contains(&d), "truncation {d}");
        assert_eq!(mser5_truncation(&[1.0, 2.0]), 0);
    }

    #[test]
    fn latency_buckets_are_monotone_and_within_two_percent() {
        let mut last = 0;
        for ns in (0..5_000u64).chain((1..2_000).map(|k| k * 7_919_993)) {
            let b = latency_bucket(ns);
            assert!(b >= last || ns < 5_000, "monotone at {ns}");
            last = b;
            let mid = latency_bucket_mid(b);
            let err = (mid - ns as f64).abs() / (ns as f64).max(1.0);
            assert!(err <= 0.016, "{ns} ns -> bucket {b} mid {mid}: {err}");
        }
        // Adjacent buckets tile the line: every bucket holds its midpoint.
        for b in 0..1_900 {
            assert_eq!(latency_bucket(latency_bucket_mid(b) as u64), b);
        }
    }

    #[test]
    fn interval_latency_quantiles_merge_and_remove() {
        let us = SimDuration::from_micros;
        let mut a = IntervalLatency::new(SimDuration::from_secs(1), SimDuration::from_secs(3));
        let mut b = a.clone();
        // Interval 0: 1..=1000 µs (p50 = 500 µs, p99 = 990 µs); interval 1
        // empty; interval 2: one value, recorded in the other series.
        for k in 1..=1000 {
            let s = if k % 2 == 0 { &mut a } else { &mut b };
            s.record(SimTime::at(us(100)), us(k));
        }
        b.record(SimTime::at(SimDuration::from_millis(2500)), us(40_000));
        // At or after the horizon: ignored.
        b.record(SimTime::at(SimDuration::from_secs(3)), us(1));
        a.add_open(&b, usize::MAX);
        assert_eq!(a.counts(), vec![1000, 0, 1]);
        let p50 = a.quantile_ms(0.5);
        let p99 = a.quantile_ms(0.99);
        assert!((p50[0] - 0.5).abs() / 0.5 < 0.016, "{p50:?}");
        assert!((p99[0] - 0.99).abs() / 0.99 < 0.016, "{p99:?}");
        assert!(p50[1].is_nan());
        assert!((p99[2] - 40.0).abs() / 40.0 < 0.016);
        a.remove(SimTime::at(SimDuration::from_millis(2500)), us(40_000));
        assert_eq!(a.counts(), vec![1000, 0, 0]);
    }

    /// Series fed the same values, one spilling its closed intervals as a
    /// run goes and restored at the end, one holding all: the same figures,
    /// bit for bit, and the spilling one holds a chunk or two of intervals.
    #[test]
    fn spilled_series_restore_to_the_same_figures() {
        let interval = SimDuration::from_secs(1);
        let horizon = SimDuration::from_secs(1_000);
        let mut spill = Spill::for_series(1_000);
        let mut off = Spill::off();
        let mut counts = [
            IntervalCounts::new(interval, horizon),
            IntervalCounts::new(interval, horizon),
        ];
        let mut averages = [
            IntervalAverages::new(interval, horizon, 2.0),
            IntervalAverages::new(interval, horizon, 2.0),
        ];
        let mut latency = [
            IntervalLatency::new(interval, horizon),
            IntervalLatency::new(interval, horizon),
        ];
        let mut rng = crate::rng::StreamRng::from_key(7);
        let mut now = 0u64;
        let mut held = 0;
        while now < 1_010_000_000_000 {
            now += rng.next_u64() % 40_000_000;
            let t = SimTime::from_nanos(now);
            let x = (rng.next_u64() % 1000) as f64 / 7.0;
            // Spans reaching into later intervals, and now and then one
            // over a dozen of them (a busy period, a bill).
            let long = if rng.next_u64().is_multiple_of(50) {
                12_000_000_000
            } else {
                0
            };
            for k in 0..2 {
                counts[k].add(t, x);
                counts[k].add_span(now, now + 3_000_000_000 + long, 0.25);
                if x < 20.0 {
                    averages[k].set(t, x);
                }
                latency[k].record(t, SimDuration::from_nanos(1 + (x * 1e6) as u64));
            }
            // Close what the run has passed, as the platform does.
            let upto = (now / 1_000_000_000) as usize;
            if upto > latency[0].first_open() {
                for (k, store) in [(0, &mut spill), (1, &mut off)] {
                    latency[k].close(upto);
                    latency[k].spill(store);
                    counts[k].spill(upto, store);
                    averages[k].spill(upto, store);
                }
                held = held.max(counts[0].bins.vals.len());
            }
        }
        assert!(counts[1].bins.spilled.is_empty() && !counts[0].bins.spilled.is_empty());
        assert!(!averages[0].area.spilled.is_empty() && !latency[0].spilled.is_empty());
        let end = SimTime::at(horizon);
        for (k, store) in [(0, &spill), (1, &off)] {
            latency[k].close(usize::MAX);
            latency[k].restore(store);
            counts[k].restore(store);
            averages[k].restore(store);
        }
        assert!(held <= 2 * SPILL_CHUNK, "{held} intervals held");
        let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
        let [c0, c1] = &mut counts;
        assert_eq!(bits(c0.take_values()), bits(c1.take_values()));
        let [a0, a1] = &mut averages;
        assert_eq!(bits(a0.finish(end)), bits(a1.finish(end)));
        for q in INTERVAL_QUANTILES {
            assert_eq!(
                bits(latency[0].quantile_ms(q)),
                bits(latency[1].quantile_ms(q))
            );
        }
        assert_eq!(latency[0].counts(), latency[1].counts());
        assert_eq!(latency[0].counts().len(), 1_000);
    }

    #[test]
    fn closed_intervals_report_what_open_ones_did_and_free_their_buckets() {
        // Three units of a tier over 50 one-second intervals, recorded in
        // time order; a copy of each is closed every 7 s as a run passes
        // the intervals, the units drained into their sum.
        let mut rng = crate::rng::StreamRng::new(9, 0, "closing");
        let (interval, horizon) = (SimDuration::from_secs(1), SimDuration::from_secs(50));
        let mut units = vec![IntervalLatency::new(interval, horizon); 3];
        let mut closing = units.clone();
        let mut sum = IntervalLatency::new(interval, horizon);
        let mut t = 0u64;
        let mut next_close = 7_000_000_000;
        while t < 50_000_000_000 {
            if t >= next_close {
                let upto = (next_close / 1_000_000_000) as usize;
                sum.close_draining(closing.iter_mut(), upto);
                next_close += 7_000_000_000;
            }
            let u = (rng.next_u64() % 3) as usize;
            let latency =
                SimDuration::from_nanos(10u64.pow(4 + (rng.next_u64() % 5) as u32) + t % 977);
            // Some values finish in a later interval than the one recorded at.
            let at = SimTime::from_nanos(t + rng.next_u64() % 1_500_000_000);
            units[u].record(at, latency);
            closing[u].record(at, latency);
            t += 1 + rng.next_u64() % 20_000_000;
        }
        sum.close_draining(closing.iter_mut(), usize::MAX);
        for u in &closing {
            assert!(u.open.is_empty() && u.footprint() == (0, 0));
        }
        let mut merged = units[0].clone();
        merged.add_open(&units[1], usize::MAX);
        merged.add_open(&units[2], usize::MAX);
        assert_eq!(sum.counts(), merged.counts());
        for q in INTERVAL_QUANTILES {
            let (a, b) = (sum.quantile_ms(q), merged.quantile_ms(q));
            assert_eq!(a.len(), 50);
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.to_bits(), y.to_bits(), "q {q}");
            }
        }
        assert!(sum.open.is_empty() && sum.closed.len() == 50);
        // A series closed part of the way reports its open part as before.
        let mut half = units[0].clone();
        half.close(25);
        assert_eq!(half.counts(), units[0].counts());
        assert_eq!(
            half.quantile_ms(0.95)
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            units[0]
                .quantile_ms(0.95)
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn quantiles_in_one_pass_equal_one_scan_each() {
        let mut rng = crate::rng::StreamRng::new(5, 0, "quantiles");
        // Ascending lists as the plots and latency.csv ask for them, with
        // the ends, repeats and neighbouring quantiles that share a bucket.
        let mut cdf: Vec<f64> = (1..1000).map(|k| k as f64 / 1000.0).collect();
        cdf.extend([0.9995, 0.9999, 1.0]);
        let lists: Vec<Vec<f64>> = vec![
            cdf,
            vec![0.0, 0.0, 0.5, 0.5, 1.0, 1.0],
            vec![0.5],
            vec![],
            // Not ascending, or out of range: one scan each, same values.
            vec![0.99, 0.5, 0.9],
            vec![-0.5, 0.5, 1.5],
        ];
        for n in [1usize, 2, 7, 1000, 50_000] {
            let mut h = LatencyHistogram::new();
            for _ in 0..n {
                // Spread over six decades so that many buckets are used.
                let ns = (10f64.powf(3.0 + 6.0 * rng.uniform())) as u64;
                h.record(SimDuration::from_nanos(ns));
            }
            for qs in &lists {
                let one_pass = h.quantiles_ms(qs);
                assert_eq!(one_pass.len(), qs.len());
                for (&q, v) in qs.iter().zip(&one_pass) {
                    let each = h.quantile_ms(q);
                    assert_eq!(v.to_bits(), each.to_bits(), "q {q}, n {n}: {v} vs {each}");
                }
            }
        }
        let empty = LatencyHistogram::new().quantiles_ms(&[0.5, 0.99]);
        assert!(empty.iter().all(|v| v.is_nan()) && empty.len() == 2);
    }
}

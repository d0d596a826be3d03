//! Bounded accumulators: exact count, sum, minimum and maximum of every
//! sample, plus a uniform reservoir of at most [`RESERVOIR`] of them for the
//! fits, the quantiles and the KS distance. Memory is per series, never per
//! span: a day of spans costs what a minute does.

use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;

/// Samples kept per series. The fits' sampling error at this size (a KS
/// distance of about 1.36 / sqrt(n) = 0.006 at 95%) is far below the
/// threshold at which a family is rejected (`fit::KS_THRESHOLD`).
pub const RESERVOIR: usize = 50_000;

/// One measured quantity (seconds), e.g. the CPU of one class.
#[derive(Debug, Clone)]
pub struct Series {
    pub n: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    cap: usize,
    keep: Vec<f64>,
    rng: XorShiftRng,
}

impl Default for Series {
    fn default() -> Self {
        Self::with_capacity(RESERVOIR)
    }
}

impl Series {
    pub fn with_capacity(cap: usize) -> Self {
        Series {
            n: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            cap,
            keep: Vec::new(),
            // A fixed seed: the same spans give the same scenario.
            rng: XorShiftRng::seed_from_u64(0x5eed_ca1b),
        }
    }

    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if self.keep.len() < self.cap {
            self.keep.push(x);
        } else {
            // Algorithm R: the n-th sample replaces a kept one with
            // probability cap / n, so the reservoir stays a uniform sample.
            let j = self.rng.random_range(0..self.n);
            if (j as usize) < self.cap {
                self.keep[j as usize] = x;
            }
        }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The kept samples, sorted.
    pub fn sorted(&self) -> Vec<f64> {
        let mut v = self.keep.clone();
        v.sort_by(f64::total_cmp);
        v
    }
}

/// The p-quantile (0..=1) of sorted samples, linear between order
/// statistics (Hyndman & Fan type 7, numpy's default).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Length of the union of intervals, each clipped to `[lo, hi]`: the time a
/// parent spent waiting on at least one child (overlapping children, e.g.
/// concurrent queries under `asyncio.gather`, count once).
pub fn union_len(intervals: &mut [(u64, u64)], lo: u64, hi: u64) -> u64 {
    intervals.sort_unstable();
    let mut total = 0;
    let mut cur: Option<(u64, u64)> = None;
    for &(s, e) in intervals.iter() {
        let (s, e) = (s.clamp(lo, hi), e.clamp(lo, hi));
        if e <= s {
            continue;
        }
        cur = match cur {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = cur {
        total += ce - cs;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_of_overlapping_children() {
        // [10,20) and [15,30) overlap: 20; [40,50) adds 10; [45,48) is inside.
        let mut v = vec![(15, 30), (10, 20), (40, 50), (45, 48)];
        assert_eq!(union_len(&mut v, 0, 100), 30);
        // Clipped to the parent [12, 45): [12,30) + [40,45).
        let mut v = vec![(15, 30), (10, 20), (40, 50), (45, 48)];
        assert_eq!(union_len(&mut v, 12, 45), 23);
        // Touching intervals join, empty and reversed ones count nothing.
        let mut v = vec![(0, 5), (5, 9), (7, 7), (20, 10)];
        assert_eq!(union_len(&mut v, 0, 100), 9);
        assert_eq!(union_len(&mut [], 0, 100), 0);
    }

    #[test]
    fn reservoir_is_bounded_and_exact_moments() {
        let mut s = Series::with_capacity(100);
        for i in 0..10_000 {
            s.push(i as f64);
        }
        assert_eq!(s.n, 10_000);
        assert_eq!(s.sorted().len(), 100);
        assert_eq!(s.min, 0.0);
        assert_eq!(s.max, 9_999.0);
        assert!((s.mean() - 4_999.5).abs() < 1e-9);
        // A uniform sample of 0..10000: its median near 5000.
        let m = quantile(&s.sorted(), 0.5);
        assert!((m - 5_000.0).abs() < 1_500.0, "{m}");
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
    }
}

//! Fixed-interval time series: one value per interval over the whole horizon,
//! warm-up included (plots show the warm-up; statistics do not).

use sim_engine::{
    INTERVAL_QUANTILES, IntervalAverages, IntervalCounts, IntervalLatency, SimDuration, Spill,
};

/// The intervals of a run.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub interval: SimDuration,
    pub horizon: SimDuration,
}

impl Spec {
    pub fn counts(&self) -> IntervalCounts {
        IntervalCounts::new(self.interval, self.horizon)
    }

    pub fn averages(&self, initial: f64) -> IntervalAverages {
        IntervalAverages::new(self.interval, self.horizon, initial)
    }

    pub fn len(&self) -> usize {
        self.horizon.as_nanos().div_ceil(self.interval.as_nanos()) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of each interval in ns (the last may be partial).
    pub fn lengths(&self) -> Vec<f64> {
        let step = self.interval.as_nanos();
        let h = self.horizon.as_nanos();
        (0..self.len() as u64)
            .map(|i| ((i + 1) * step).min(h).saturating_sub(i * step) as f64)
            .collect()
    }
}

/// One of a run's series over the whole horizon, as an owner lists them
/// for [`Accumulator::spill`] and [`Accumulator::restore`].
pub enum Accumulator<'a> {
    Counts(&'a mut IntervalCounts),
    Averages(&'a mut IntervalAverages),
    Latency(&'a mut IntervalLatency),
}

impl Accumulator<'_> {
    /// Writes its intervals before `upto` (closed: the run has passed them)
    /// to `spill`, a chunk at a time.
    pub fn spill(self, upto: usize, spill: &mut Spill) {
        match self {
            Accumulator::Counts(c) => c.spill(upto, spill),
            Accumulator::Averages(a) => a.spill(upto, spill),
            Accumulator::Latency(l) => l.spill(spill),
        }
    }

    /// Reads them back, to be reported.
    pub fn restore(self, spill: &Spill) {
        match self {
            Accumulator::Counts(c) => c.restore(spill),
            Accumulator::Averages(a) => a.restore(spill),
            Accumulator::Latency(l) => l.restore(spill),
        }
    }
}

/// The percentiles every latency series reports, with their series names.
/// They are the quantiles a closed interval keeps.
pub const LATENCY_SERIES: [(&str, f64); 3] = [
    ("latency_p50_ms", INTERVAL_QUANTILES[0]),
    ("latency_p95_ms", INTERVAL_QUANTILES[1]),
    ("latency_p99_ms", INTERVAL_QUANTILES[2]),
];

/// p50, p95 and p99 per interval, in ms (NaN where none finished).
pub fn latency_series(l: &IntervalLatency) -> Vec<(&'static str, Vec<f64>)> {
    LATENCY_SERIES
        .iter()
        .map(|&(name, q)| (name, l.quantile_ms(q)))
        .collect()
}

/// Element-wise `a / b` (NaN where b is 0).
pub fn divide(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(x, y)| if *y == 0.0 { f64::NAN } else { x / y })
        .collect()
}

/// `a / b` element-wise in `a`'s place (NaN where b is 0), as [`divide`].
pub fn divided(mut a: Vec<f64>, b: &[f64]) -> Vec<f64> {
    for (x, y) in a.iter_mut().zip(b) {
        *x = if *y == 0.0 { f64::NAN } else { *x / y };
    }
    a
}

/// Element-wise sum of several series of equal length.
pub fn sum<'a>(series: impl IntoIterator<Item = &'a [f64]>, len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    for s in series {
        for (o, v) in out.iter_mut().zip(s) {
            *o += v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_cover_the_horizon() {
        let s = Spec {
            interval: SimDuration::from_secs(60),
            horizon: SimDuration::from_secs(150),
        };
        assert_eq!(s.len(), 3);
        assert_eq!(s.lengths(), vec![60e9, 60e9, 30e9]);
        assert!(divide(&[1.0], &[0.0])[0].is_nan());
        assert_eq!(divided(vec![1.0, 3.0], &[0.0, 2.0])[1], 1.5);
        assert_eq!(sum([&[1.0, 2.0][..], &[3.0, 4.0][..]], 2), vec![4.0, 6.0]);
    }
}

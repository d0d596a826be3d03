//! Fitting service times: exponential, lognormal and gamma by maximum
//! likelihood, the best of them by Kolmogorov-Smirnov distance, and the
//! empirical quantiles when none is close enough.

use statrs::distribution::{ContinuousCDF, Exp, Gamma, LogNormal};
use statrs::function::gamma::digamma;

use crate::stats::quantile;

/// A fitted family is used when its KS distance (the largest gap between
/// its CDF and the samples') is at most this. With 50,000 samples any real
/// measurement rejects every family at the textbook 5% level, so the
/// threshold is a tolerance on shape, not a test: 0.05 keeps the CDF within
/// 5 percentage points everywhere, which holds p50..p99 within a few per
/// cent on the data of the reference stack.
pub const KS_THRESHOLD: f64 = 0.05;

/// Points of an empirical distribution: quantiles at (i + 0.5) / 200, so
/// the resampled distribution reaches the 99.75th percentile.
pub const EMPIRICAL_POINTS: usize = 200;

/// Fewer samples than this cannot tell the families apart: the mean is
/// kept, as an exponential (see docs/calibrate.md).
pub const MIN_FIT_SAMPLES: usize = 20;

/// Samples of a service time are clamped to at least this (1 ns), because
/// lognormal and gamma need positive values and a self time can be 0.
pub const FLOOR_S: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq)]
pub enum Family {
    Exponential {
        mean: f64,
    },
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        mean: f64,
    },
    Deterministic {
        value: f64,
    },
    /// Sorted values, resampled with equal probability.
    Empirical {
        points: Vec<f64>,
    },
}

impl Family {
    pub fn name(&self) -> &'static str {
        match self {
            Family::Exponential { .. } => "exponential",
            Family::Lognormal { .. } => "lognormal",
            Family::Gamma { .. } => "gamma",
            Family::Deterministic { .. } => "deterministic",
            Family::Empirical { .. } => "empirical",
        }
    }

    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            Family::Exponential { mean } => Exp::new(1.0 / mean).map_or(f64::NAN, |d| d.cdf(x)),
            Family::Lognormal { mu, sigma } => {
                LogNormal::new(*mu, *sigma).map_or(f64::NAN, |d| d.cdf(x))
            }
            Family::Gamma { shape, mean } => {
                Gamma::new(*shape, shape / mean).map_or(f64::NAN, |d| d.cdf(x))
            }
            Family::Deterministic { value } => f64::from(u8::from(x >= *value)),
            Family::Empirical { points } => {
                points.partition_point(|&p| p <= x) as f64 / points.len() as f64
            }
        }
    }

    pub fn quantile(&self, p: f64) -> f64 {
        match self {
            Family::Exponential { mean } => -mean * (1.0 - p).ln(),
            Family::Lognormal { mu, sigma } => {
                LogNormal::new(*mu, *sigma).map_or(f64::NAN, |d| d.inverse_cdf(p))
            }
            Family::Gamma { shape, mean } => {
                Gamma::new(*shape, shape / mean).map_or(f64::NAN, |d| d.inverse_cdf(p))
            }
            Family::Deterministic { value } => *value,
            Family::Empirical { points } => {
                // The resampled distribution is discrete: its p-quantile is
                // the smallest point whose CDF reaches p.
                let i = ((p * points.len() as f64).ceil() as usize).clamp(1, points.len());
                points[i - 1]
            }
        }
    }
}

/// The chosen distribution and how well it matches.
#[derive(Debug, Clone)]
pub struct Fit {
    pub family: Family,
    /// KS distance of the chosen distribution to the samples.
    pub ks: f64,
    /// Every candidate family tried and its KS distance, best first.
    pub candidates: Vec<(&'static str, f64)>,
    /// (p, fitted quantile, empirical quantile) at p50, p95, p99.
    pub quantiles: [(f64, f64, f64); 3],
    /// Samples fitted (the reservoir, at most `stats::RESERVOIR`).
    pub n: usize,
    /// Too few samples to choose a family: the mean, as an exponential.
    pub fallback: bool,
}

/// MLE of the exponential: the mean.
pub fn fit_exponential(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// MLE of the lognormal: mean and (biased, n-denominator) standard
/// deviation of ln x.
pub fn fit_lognormal(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mu = xs.iter().map(|x| x.ln()).sum::<f64>() / n;
    let var = xs.iter().map(|x| (x.ln() - mu).powi(2)).sum::<f64>() / n;
    (mu, var.sqrt())
}

/// MLE of the gamma: (shape, mean). The shape k solves
/// ln k - digamma(k) = ln(mean) - mean(ln x) (Choi & Wette 1969); the left
/// side falls monotonically from +inf to 0, so bisection on ln k always
/// converges. `None` when the samples are all equal (s = 0).
pub fn fit_gamma(xs: &[f64]) -> Option<(f64, f64)> {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let s = mean.ln() - xs.iter().map(|x| x.ln()).sum::<f64>() / n;
    if s.is_nan() || s <= 1e-12 {
        return None;
    }
    let f = |k: f64| k.ln() - digamma(k) - s;
    let (mut lo, mut hi) = (1e-4f64.ln(), 1e8f64.ln());
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid.exp()) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(((0.5 * (lo + hi)).exp(), mean))
}

/// KS distance between sorted samples and a CDF.
pub fn ks_distance(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        d = d.max(f - i as f64 / n).max((i + 1) as f64 / n - f);
    }
    d
}

/// Fits sorted positive samples (clamped to [`FLOOR_S`]) and chooses.
pub fn choose(sorted: &[f64]) -> Option<Fit> {
    if sorted.is_empty() {
        return None;
    }
    let xs: Vec<f64> = sorted.iter().map(|&x| x.max(FLOOR_S)).collect();
    let emp = |p| quantile(&xs, p);
    let finish = |family: Family, candidates: Vec<(&'static str, f64)>, fallback| {
        let ks = ks_distance(&xs, |x| family.cdf(x));
        let quantiles = [0.5, 0.95, 0.99].map(|p| (p, family.quantile(p), emp(p)));
        Some(Fit {
            family,
            ks,
            candidates,
            quantiles,
            n: xs.len(),
            fallback,
        })
    };
    if xs[0] == xs[xs.len() - 1] {
        return finish(Family::Deterministic { value: xs[0] }, Vec::new(), false);
    }
    if xs.len() < MIN_FIT_SAMPLES {
        let mean = fit_exponential(&xs);
        return finish(Family::Exponential { mean }, Vec::new(), true);
    }
    let mut tried: Vec<(Family, f64)> = Vec::new();
    let mut add = |fam: Family| {
        let d = ks_distance(&xs, |x| fam.cdf(x));
        if d.is_finite() {
            tried.push((fam, d));
        }
    };
    add(Family::Exponential {
        mean: fit_exponential(&xs),
    });
    let (mu, sigma) = fit_lognormal(&xs);
    if sigma > 0.0 {
        add(Family::Lognormal { mu, sigma });
    }
    if let Some((shape, mean)) = fit_gamma(&xs) {
        add(Family::Gamma { shape, mean });
    }
    tried.sort_by(|a, b| a.1.total_cmp(&b.1));
    let candidates: Vec<_> = tried.iter().map(|(f, d)| (f.name(), *d)).collect();
    match tried.into_iter().next() {
        Some((fam, d)) if d <= KS_THRESHOLD => finish(fam, candidates, false),
        _ => {
            let k = EMPIRICAL_POINTS.min(xs.len());
            let points = (0..k)
                .map(|i| quantile(&xs, (i as f64 + 0.5) / k as f64))
                .collect();
            finish(Family::Empirical { points }, candidates, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Distribution;
    use rand_xorshift::XorShiftRng;

    fn draw(d: impl Distribution<f64>, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = XorShiftRng::seed_from_u64(seed);
        let mut v: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        v
    }

    const N: usize = 20_000;

    /// Parameters within 4 standard errors (a false alarm about 1 in 16,000).
    fn close(got: f64, want: f64, se: f64, what: &str) {
        assert!(
            (got - want).abs() < 4.0 * se,
            "{what}: got {got}, want {want} ± 4 × {se}"
        );
    }

    #[test]
    fn lognormal_recovered() {
        let (mu, sigma) = (-5.5, 0.4);
        let xs = draw(rand_distr::LogNormal::new(mu, sigma).unwrap(), N, 1);
        let (m, s) = fit_lognormal(&xs);
        let n = N as f64;
        close(m, mu, sigma / n.sqrt(), "mu");
        close(s, sigma, sigma / (2.0 * n).sqrt(), "sigma");
        let fit = choose(&xs).unwrap();
        assert_eq!(fit.family.name(), "lognormal", "{:?}", fit.candidates);
        assert!(fit.ks < 0.02, "{}", fit.ks);
    }

    #[test]
    fn gamma_recovered() {
        let (shape, scale) = (3.0, 0.002);
        let xs = draw(rand_distr::Gamma::new(shape, scale).unwrap(), N, 2);
        let (k, mean) = fit_gamma(&xs).unwrap();
        let n = N as f64;
        // Var(k^) ≈ k / (n (k ψ'(k) - 1)); ψ'(3) = 0.3949.
        let se_k = (shape / (n * (shape * 0.394_934 - 1.0))).sqrt();
        close(k, shape, se_k, "shape");
        close(mean, shape * scale, shape.sqrt() * scale / n.sqrt(), "mean");
        let fit = choose(&xs).unwrap();
        assert_eq!(fit.family.name(), "gamma", "{:?}", fit.candidates);
    }

    #[test]
    fn exponential_recovered() {
        let mean = 0.004;
        let xs = draw(rand_distr::Exp::new(1.0 / mean).unwrap(), N, 3);
        close(fit_exponential(&xs), mean, mean / (N as f64).sqrt(), "mean");
        let fit = choose(&xs).unwrap();
        // A gamma of shape 1 is the exponential: either may win, and the
        // gamma's shape must then be 1.
        match fit.family {
            Family::Exponential { .. } => {}
            Family::Gamma { shape, .. } => {
                close(shape, 1.0, 1.0 / (N as f64).sqrt() * 1.3, "shape")
            }
            ref other => panic!("{other:?}"),
        }
        assert!(fit.ks < 0.02);
        for (p, fitted, emp) in fit.quantiles {
            assert!((fitted / emp - 1.0).abs() < 0.1, "p{p}: {fitted} vs {emp}");
        }
    }

    #[test]
    fn bimodal_falls_back_to_empirical() {
        let mut xs = draw(
            rand_distr::Normal::new(0.001, 0.00005).unwrap(),
            N * 6 / 10,
            4,
        );
        xs.extend(draw(
            rand_distr::Normal::new(0.010, 0.0005).unwrap(),
            N * 4 / 10,
            5,
        ));
        xs.sort_by(f64::total_cmp);
        let fit = choose(&xs).unwrap();
        assert!(fit.candidates[0].1 > KS_THRESHOLD);
        let Family::Empirical { points } = &fit.family else {
            panic!("{:?}", fit.family)
        };
        assert_eq!(points.len(), EMPIRICAL_POINTS);
        assert!(fit.ks < 0.01, "{}", fit.ks);
        for (p, fitted, emp) in fit.quantiles {
            assert!((fitted / emp - 1.0).abs() < 0.05, "p{p}: {fitted} vs {emp}");
        }
    }

    #[test]
    fn constant_and_tiny_samples() {
        let fit = choose(&[0.002; 50]).unwrap();
        assert_eq!(fit.family, Family::Deterministic { value: 0.002 });
        let fit = choose(&[0.001, 0.003]).unwrap();
        assert!(fit.fallback);
        assert_eq!(fit.family, Family::Exponential { mean: 0.002 });
        assert!(choose(&[]).is_none());
    }
}

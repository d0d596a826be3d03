//! Distributions of service times and other positive quantities.
//!
//! A [`Dist`] is built from validated parameters (a constructor rejects
//! impossible ones with a [`DistError`] saying why) and then sampled on the hot
//! path without allocation. Values are unit-free `f64`s; capsim's models use
//! seconds and convert to [`SimDuration`](crate::SimDuration) when scheduling.

use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

use rand::Rng;

use crate::rng::{below, open01, uniform01};
use crate::special::{gamma as gamma_fn, normal_quantile};

/// Why distribution parameters were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DistError {
    #[error("`{param}` must be a finite number greater than zero (got {value})")]
    NotPositive { param: &'static str, value: f64 },
    #[error("`{param}` must be a finite number of at least zero (got {value})")]
    Negative { param: &'static str, value: f64 },
    #[error("`{param}` must be a finite number (got {value})")]
    NotFinite { param: &'static str, value: f64 },
    #[error("uniform `max` ({high}) must not be below `min` ({low})")]
    UniformRange { low: f64, high: f64 },
    #[error(
        "lognormal p99 ({p99}) must be above its mean ({mean}): a lognormal's p99 always exceeds its mean"
    )]
    LognormalP99BelowMean { mean: f64, p99: f64 },
    #[error(
        "lognormal p99 ({p99}) is more than {max_ratio:.1}x its mean ({mean}); no lognormal has so heavy a tail for that mean. Use mu/sigma, or a hyperexponential or Pareto"
    )]
    LognormalP99TooFar { mean: f64, p99: f64, max_ratio: f64 },
    #[error("Erlang `k` must be at least 1")]
    ErlangK,
    #[error("Pareto `shape` must be above 1 for the mean to be finite (got {0})")]
    ParetoShape(f64),
    #[error("a hyperexponential needs at least one branch")]
    HyperNoBranches,
    #[error("hyperexponential branch probabilities must sum to 1 (they sum to {0})")]
    HyperProbSum(f64),
    #[error("an empirical distribution needs at least one sample")]
    EmpiricalEmpty,
}

#[derive(Clone, Debug)]
enum Kind {
    Exponential {
        mean: f64,
    },
    Deterministic {
        value: f64,
    },
    Uniform {
        low: f64,
        width: f64,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
        sampler: Gamma<f64>,
    },
    Erlang {
        k: u32,
        mean: f64,
    },
    HyperExponential {
        cumulative: Box<[f64]>,
        means: Box<[f64]>,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    Pareto {
        shape: f64,
        scale: f64,
    },
    Empirical {
        samples: Box<[f64]>,
    },
}

/// A distribution of non-negative values.
#[derive(Clone, Debug)]
pub struct Dist(Kind);

fn positive(param: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DistError::NotPositive { param, value })
    }
}

fn non_negative(param: &'static str, value: f64) -> Result<f64, DistError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(DistError::Negative { param, value })
    }
}

/// z such that Φ(z) = 0.99.
const Z99: f64 = 2.326_347_874_040_841;

impl Dist {
    /// Exponential with the given mean (rate 1/mean).
    pub fn exponential(mean: f64) -> Result<Dist, DistError> {
        Ok(Dist(Kind::Exponential {
            mean: positive("mean", mean)?,
        }))
    }

    /// Always `value`.
    pub fn deterministic(value: f64) -> Result<Dist, DistError> {
        Ok(Dist(Kind::Deterministic {
            value: non_negative("value", value)?,
        }))
    }

    /// Uniform on [min, max].
    pub fn uniform(min: f64, max: f64) -> Result<Dist, DistError> {
        let low = non_negative("min", min)?;
        let high = non_negative("max", max)?;
        if high < low {
            return Err(DistError::UniformRange { low, high });
        }
        Ok(Dist(Kind::Uniform {
            low,
            width: high - low,
        }))
    }

    /// Lognormal with ln X ~ Normal(mu, sigma²).
    pub fn lognormal(mu: f64, sigma: f64) -> Result<Dist, DistError> {
        if !mu.is_finite() {
            return Err(DistError::NotFinite {
                param: "mu",
                value: mu,
            });
        }
        Ok(Dist(Kind::LogNormal {
            mu,
            sigma: non_negative("sigma", sigma)?,
        }))
    }

    /// The lognormal with the given mean and 99th percentile, the two figures
    /// an APM dashboard shows. Solves `mean = exp(mu + sigma²/2)` and
    /// `p99 = exp(mu + z·sigma)` for the smaller sigma; that needs
    /// `mean < p99 ≤ mean·exp(z²/2)` (about 14.97 × mean).
    pub fn lognormal_from_mean_p99(mean: f64, p99: f64) -> Result<Dist, DistError> {
        let mean = positive("mean", mean)?;
        let p99 = positive("p99", p99)?;
        if p99 <= mean {
            return Err(DistError::LognormalP99BelowMean { mean, p99 });
        }
        let log_ratio = (p99 / mean).ln();
        let disc = Z99 * Z99 - 2.0 * log_ratio;
        if disc < 0.0 {
            return Err(DistError::LognormalP99TooFar {
                mean,
                p99,
                max_ratio: (Z99 * Z99 / 2.0).exp(),
            });
        }
        let sigma = Z99 - disc.sqrt();
        let mu = mean.ln() - sigma * sigma / 2.0;
        Dist::lognormal(mu, sigma)
    }

    /// Gamma with shape k and scale θ (mean kθ).
    pub fn gamma(shape: f64, scale: f64) -> Result<Dist, DistError> {
        let shape = positive("shape", shape)?;
        let scale = positive("scale", scale)?;
        let sampler = Gamma::new(shape, scale).map_err(|_| DistError::NotPositive {
            param: "shape",
            value: shape,
        })?;
        Ok(Dist(Kind::Gamma {
            shape,
            scale,
            sampler,
        }))
    }

    /// Gamma with the given shape and mean.
    pub fn gamma_with_mean(shape: f64, mean: f64) -> Result<Dist, DistError> {
        let shape = positive("shape", shape)?;
        Dist::gamma(shape, positive("mean", mean)? / shape)
    }

    /// Erlang-k: the sum of k exponential phases, with the given overall mean.
    pub fn erlang(k: u32, mean: f64) -> Result<Dist, DistError> {
        if k == 0 {
            return Err(DistError::ErlangK);
        }
        Ok(Dist(Kind::Erlang {
            k,
            mean: positive("mean", mean)?,
        }))
    }

    /// Hyperexponential: with probability `p_i`, exponential with mean `m_i`.
    pub fn hyperexponential(branches: &[(f64, f64)]) -> Result<Dist, DistError> {
        if branches.is_empty() {
            return Err(DistError::HyperNoBranches);
        }
        let mut cumulative = Vec::with_capacity(branches.len());
        let mut means = Vec::with_capacity(branches.len());
        let mut total = 0.0;
        for &(p, m) in branches {
            if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
                return Err(DistError::Negative {
                    param: "p",
                    value: p,
                });
            }
            total += p;
            cumulative.push(total);
            means.push(positive("mean", m)?);
        }
        if (total - 1.0).abs() > 1e-9 {
            return Err(DistError::HyperProbSum(total));
        }
        // Guard the last bucket against rounding so a draw always lands.
        *cumulative.last_mut().expect("non-empty") = f64::INFINITY;
        Ok(Dist(Kind::HyperExponential {
            cumulative: cumulative.into(),
            means: means.into(),
        }))
    }

    /// Weibull with shape k and scale λ.
    pub fn weibull(shape: f64, scale: f64) -> Result<Dist, DistError> {
        Ok(Dist(Kind::Weibull {
            shape: positive("shape", shape)?,
            scale: positive("scale", scale)?,
        }))
    }

    /// Pareto (type I) with shape α > 1 and scale x_m (the minimum value).
    pub fn pareto(shape: f64, scale: f64) -> Result<Dist, DistError> {
        let shape = positive("shape", shape)?;
        if shape <= 1.0 {
            return Err(DistError::ParetoShape(shape));
        }
        Ok(Dist(Kind::Pareto {
            shape,
            scale: positive("scale", scale)?,
        }))
    }

    /// Resamples the given observations with equal probability.
    pub fn empirical(samples: &[f64]) -> Result<Dist, DistError> {
        if samples.is_empty() {
            return Err(DistError::EmpiricalEmpty);
        }
        for &s in samples {
            non_negative("samples", s)?;
        }
        Ok(Dist(Kind::Empirical {
            samples: samples.into(),
        }))
    }

    /// Draws one value.
    ///
    /// The exponential, by far the most common service time, is drawn
    /// inline at each call site; the other kinds are one call away.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if let Kind::Exponential { mean } = &self.0 {
            let e: f64 = Exp1.sample(rng);
            return mean * e;
        }
        self.sample_other(rng)
    }

    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.0 {
            Kind::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Kind::Deterministic { value } => *value,
            Kind::Uniform { low, width } => low + width * uniform01(rng),
            Kind::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Kind::Gamma { sampler, .. } => sampler.sample(rng),
            Kind::Erlang { k, mean } => {
                // The product of k uniforms needs one logarithm for all phases.
                let mut prod = 1.0;
                for _ in 0..*k {
                    prod *= open01(rng);
                }
                -prod.ln() * mean / *k as f64
            }
            Kind::HyperExponential { cumulative, means } => {
                let u = uniform01(rng);
                let i = cumulative.iter().position(|&c| u < c).unwrap_or(0);
                let e: f64 = Exp1.sample(rng);
                means[i] * e
            }
            Kind::Weibull { shape, scale } => scale * (-open01(rng).ln()).powf(1.0 / shape),
            Kind::Pareto { shape, scale } => scale * open01(rng).powf(-1.0 / shape),
            Kind::Empirical { samples } => samples[below(rng, samples.len() as u64) as usize],
        }
    }

    /// The exact mean.
    pub fn mean(&self) -> f64 {
        match &self.0 {
            Kind::Exponential { mean } => *mean,
            Kind::Deterministic { value } => *value,
            Kind::Uniform { low, width } => low + width / 2.0,
            Kind::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Kind::Gamma { shape, scale, .. } => shape * scale,
            Kind::Erlang { mean, .. } => *mean,
            Kind::HyperExponential { cumulative, means } => branch_probs(cumulative)
                .zip(means.iter())
                .map(|(p, m)| p * m)
                .sum(),
            Kind::Weibull { shape, scale } => scale * gamma_fn(1.0 + 1.0 / shape),
            Kind::Pareto { shape, scale } => shape * scale / (shape - 1.0),
            Kind::Empirical { samples } => samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }

    /// The exact variance (infinite for a Pareto with shape ≤ 2).
    pub fn variance(&self) -> f64 {
        match &self.0 {
            Kind::Exponential { mean } => mean * mean,
            Kind::Deterministic { .. } => 0.0,
            Kind::Uniform { width, .. } => width * width / 12.0,
            Kind::LogNormal { mu, sigma } => {
                let s2 = sigma * sigma;
                (s2.exp() - 1.0) * (2.0 * mu + s2).exp()
            }
            Kind::Gamma { shape, scale, .. } => shape * scale * scale,
            Kind::Erlang { k, mean } => mean * mean / *k as f64,
            Kind::HyperExponential { cumulative, means } => {
                let second: f64 = branch_probs(cumulative)
                    .zip(means.iter())
                    .map(|(p, m)| 2.0 * p * m * m)
                    .sum();
                let mean = self.mean();
                second - mean * mean
            }
            Kind::Weibull { shape, scale } => {
                let g1 = gamma_fn(1.0 + 1.0 / shape);
                let g2 = gamma_fn(1.0 + 2.0 / shape);
                scale * scale * (g2 - g1 * g1)
            }
            Kind::Pareto { shape, scale } => {
                if *shape <= 2.0 {
                    f64::INFINITY
                } else {
                    scale * scale * shape / ((shape - 1.0) * (shape - 1.0) * (shape - 2.0))
                }
            }
            Kind::Empirical { samples } => {
                let n = samples.len() as f64;
                let mean = samples.iter().sum::<f64>() / n;
                samples.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / n
            }
        }
    }

    /// E[X²]: what the Pollaczek–Khinchine formula needs.
    pub fn second_moment(&self) -> f64 {
        let m = self.mean();
        self.variance() + m * m
    }

    /// Squared coefficient of variation, Var/mean².
    pub fn scv(&self) -> f64 {
        let m = self.mean();
        self.variance() / (m * m)
    }

    /// The p-quantile where it has a closed form (used to report what a
    /// scenario's figures imply); `None` otherwise.
    pub fn quantile(&self, p: f64) -> Option<f64> {
        if !(p > 0.0 && p < 1.0) {
            return None;
        }
        Some(match &self.0 {
            Kind::Exponential { mean } => -mean * (1.0 - p).ln(),
            Kind::Deterministic { value } => *value,
            Kind::Uniform { low, width } => low + width * p,
            Kind::LogNormal { mu, sigma } => (mu + sigma * normal_quantile(p)).exp(),
            Kind::Weibull { shape, scale } => scale * (-(1.0 - p).ln()).powf(1.0 / shape),
            Kind::Pareto { shape, scale } => scale * (1.0 - p).powf(-1.0 / shape),
            _ => return None,
        })
    }

    /// Multiplies every value by `factor` > 0 (e.g. a slower instance type).
    pub fn scaled(&self, factor: f64) -> Dist {
        assert!(factor.is_finite() && factor > 0.0, "scale factor {factor}");
        Dist(match &self.0 {
            Kind::Exponential { mean } => Kind::Exponential {
                mean: mean * factor,
            },
            Kind::Deterministic { value } => Kind::Deterministic {
                value: value * factor,
            },
            Kind::Uniform { low, width } => Kind::Uniform {
                low: low * factor,
                width: width * factor,
            },
            Kind::LogNormal { mu, sigma } => Kind::LogNormal {
                mu: mu + factor.ln(),
                sigma: *sigma,
            },
            Kind::Gamma { shape, scale, .. } => {
                return Dist::gamma(*shape, scale * factor).expect("scaled gamma stays valid");
            }
            Kind::Erlang { k, mean } => Kind::Erlang {
                k: *k,
                mean: mean * factor,
            },
            Kind::HyperExponential { cumulative, means } => Kind::HyperExponential {
                cumulative: cumulative.clone(),
                means: means.iter().map(|m| m * factor).collect(),
            },
            Kind::Weibull { shape, scale } => Kind::Weibull {
                shape: *shape,
                scale: scale * factor,
            },
            Kind::Pareto { shape, scale } => Kind::Pareto {
                shape: *shape,
                scale: scale * factor,
            },
            Kind::Empirical { samples } => Kind::Empirical {
                samples: samples.iter().map(|s| s * factor).collect(),
            },
        })
    }

    /// A short name of the family, for reports.
    pub fn family(&self) -> &'static str {
        match &self.0 {
            Kind::Exponential { .. } => "exponential",
            Kind::Deterministic { .. } => "deterministic",
            Kind::Uniform { .. } => "uniform",
            Kind::LogNormal { .. } => "lognormal",
            Kind::Gamma { .. } => "gamma",
            Kind::Erlang { .. } => "erlang",
            Kind::HyperExponential { .. } => "hyperexponential",
            Kind::Weibull { .. } => "weibull",
            Kind::Pareto { .. } => "pareto",
            Kind::Empirical { .. } => "empirical",
        }
    }
}

/// Branch probabilities recovered from the cumulative table (the last entry is
/// stored as infinity).
fn branch_probs(cumulative: &[f64]) -> impl Iterator<Item = f64> + '_ {
    let mut prev = 0.0;
    cumulative.iter().map(move |&c| {
        let c = if c.is_infinite() { 1.0 } else { c };
        let p = c - prev;
        prev = c;
        p
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::StreamRng;

    /// Checks the sample mean and variance of `n` draws against the exact
    /// values: the mean within 5 standard errors, the variance within 5
    /// standard errors of the sample variance (from the sample fourth moment).
    fn check_moments(d: &Dist, n: usize, seed: u64) {
        let mut rng = StreamRng::new(seed, 0, d.family());
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        assert!(xs.iter().all(|x| x.is_finite() && *x >= 0.0));
        let nf = n as f64;
        let mean = xs.iter().sum::<f64>() / nf;
        let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / nf;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf;
        let se_mean = (m2 / nf).sqrt();
        let se_var = ((m4 - m2 * m2) / nf).sqrt();
        let (em, ev) = (d.mean(), d.variance());
        assert!(
            (mean - em).abs() <= 5.0 * se_mean + 1e-12,
            "{}: mean {mean} vs {em} (se {se_mean})",
            d.family()
        );
        assert!(
            (m2 - ev).abs() <= 5.0 * se_var + 1e-12,
            "{}: variance {m2} vs {ev} (se {se_var})",
            d.family()
        );
    }

    const N: usize = 400_000;

    #[test]
    fn exponential_moments() {
        let d = Dist::exponential(0.02).unwrap();
        assert_eq!(d.mean(), 0.02);
        assert!((d.variance() - 0.0004).abs() < 1e-15);
        check_moments(&d, N, 1);
    }

    #[test]
    fn deterministic_moments() {
        let d = Dist::deterministic(1.5).unwrap();
        check_moments(&d, 1000, 2);
        assert_eq!(d.variance(), 0.0);
    }

    #[test]
    fn uniform_moments() {
        let d = Dist::uniform(1.0, 3.0).unwrap();
        assert_eq!(d.mean(), 2.0);
        assert!((d.variance() - 4.0 / 12.0).abs() < 1e-15);
        check_moments(&d, N, 3);
    }

    #[test]
    fn lognormal_moments_and_mean_p99_fit() {
        check_moments(&Dist::lognormal(-3.0, 0.5).unwrap(), N, 4);
        let d = Dist::lognormal_from_mean_p99(0.020, 0.150).unwrap();
        assert!((d.mean() - 0.020).abs() < 1e-12);
        assert!((d.quantile(0.99).unwrap() - 0.150).abs() < 1e-9);
        check_moments(&d, N, 5);
    }

    #[test]
    fn lognormal_rejects_impossible_p99() {
        assert!(matches!(
            Dist::lognormal_from_mean_p99(0.1, 0.05),
            Err(DistError::LognormalP99BelowMean { .. })
        ));
        assert!(matches!(
            Dist::lognormal_from_mean_p99(0.1, 0.1),
            Err(DistError::LognormalP99BelowMean { .. })
        ));
        assert!(matches!(
            Dist::lognormal_from_mean_p99(0.01, 0.2),
            Err(DistError::LognormalP99TooFar { .. })
        ));
    }

    #[test]
    fn gamma_moments() {
        let d = Dist::gamma(2.5, 0.004).unwrap();
        assert!((d.mean() - 0.01).abs() < 1e-15);
        check_moments(&d, N, 6);
        check_moments(&Dist::gamma_with_mean(0.5, 0.01).unwrap(), N, 7);
    }

    #[test]
    fn erlang_moments() {
        let d = Dist::erlang(4, 0.2).unwrap();
        assert!((d.variance() - 0.01).abs() < 1e-15);
        check_moments(&d, N, 8);
        assert_eq!(Dist::erlang(0, 1.0).unwrap_err(), DistError::ErlangK);
    }

    #[test]
    fn hyperexponential_moments() {
        let d = Dist::hyperexponential(&[(0.9, 0.001), (0.1, 0.05)]).unwrap();
        assert!((d.mean() - 0.0059).abs() < 1e-12);
        let second = 2.0 * (0.9 * 1e-6 + 0.1 * 0.0025);
        assert!((d.variance() - (second - 0.0059f64.powi(2))).abs() < 1e-12);
        assert!(d.scv() > 1.0);
        check_moments(&d, N, 9);
        assert!(matches!(
            Dist::hyperexponential(&[(0.5, 1.0), (0.4, 2.0)]),
            Err(DistError::HyperProbSum(_))
        ));
    }

    #[test]
    fn weibull_moments() {
        let d = Dist::weibull(1.5, 0.01).unwrap();
        check_moments(&d, N, 10);
        // Shape 1 is the exponential.
        let e = Dist::weibull(1.0, 2.0).unwrap();
        assert!((e.mean() - 2.0).abs() < 1e-12 && (e.variance() - 4.0).abs() < 1e-11);
    }

    #[test]
    fn pareto_moments() {
        // Shape 5 keeps the fourth moment finite so the variance check is sound.
        let d = Dist::pareto(5.0, 0.001).unwrap();
        assert!((d.mean() - 0.00125).abs() < 1e-15);
        check_moments(&d, N, 11);
        assert!(Dist::pareto(2.0, 1.0).unwrap().variance().is_infinite());
        assert_eq!(
            Dist::pareto(1.0, 1.0).unwrap_err(),
            DistError::ParetoShape(1.0)
        );
    }

    #[test]
    fn empirical_moments() {
        let d = Dist::empirical(&[0.001, 0.002, 0.002, 0.010]).unwrap();
        assert!((d.mean() - 0.00375).abs() < 1e-15);
        check_moments(&d, N, 12);
        assert_eq!(Dist::empirical(&[]).unwrap_err(), DistError::EmpiricalEmpty);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::exponential(-1.0).is_err());
        assert!(Dist::exponential(f64::NAN).is_err());
        assert!(Dist::uniform(2.0, 1.0).is_err());
        assert!(Dist::deterministic(-0.1).is_err());
        assert!(Dist::weibull(0.0, 1.0).is_err());
        assert!(Dist::lognormal(f64::INFINITY, 1.0).is_err());
        assert!(Dist::empirical(&[1.0, -1.0]).is_err());
    }

    #[test]
    fn scaling_scales_mean_and_variance() {
        let dists = [
            Dist::exponential(1.0).unwrap(),
            Dist::lognormal_from_mean_p99(1.0, 5.0).unwrap(),
            Dist::gamma(2.0, 0.5).unwrap(),
            Dist::erlang(3, 1.0).unwrap(),
            Dist::hyperexponential(&[(0.5, 0.5), (0.5, 1.5)]).unwrap(),
            Dist::weibull(2.0, 1.0).unwrap(),
            Dist::pareto(3.0, 1.0).unwrap(),
            Dist::uniform(1.0, 2.0).unwrap(),
            Dist::empirical(&[1.0, 2.0]).unwrap(),
        ];
        for d in dists {
            let s = d.scaled(3.0);
            assert!((s.mean() - 3.0 * d.mean()).abs() < 1e-9, "{}", d.family());
            assert!(
                (s.variance() - 9.0 * d.variance()).abs() < 1e-9,
                "{}",
                d.family()
            );
        }
    }
}

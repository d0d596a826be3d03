//! Special functions the statistics need: log-gamma, gamma, the standard
//! normal quantile and Student's t quantile, from `statrs`.

use std::f64::consts::PI;

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

pub use statrs::function::gamma::{gamma, ln_gamma};

/// The standard normal quantile Φ⁻¹(p) for 0 < p < 1.
pub fn normal_quantile(p: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0, "normal_quantile({p})");
    Normal::standard().inverse_cdf(p)
}

/// Student's t quantile: the `t` with P(T ≤ t) = p for `df` ≥ 1 degrees of
/// freedom (not necessarily whole: Welch's intervals use fractional ones).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    assert!(
        p > 0.0 && p < 1.0 && df >= 1.0,
        "student_t_quantile({p}, {df})"
    );
    if p == 0.5 {
        return 0.0;
    }
    // Closed forms at 1 and 2 degrees of freedom, on the two-sided tail `a`:
    // exact to the last bit or so, where statrs' incomplete-beta inversion is
    // off by a few ulps.
    let sign = if p > 0.5 { 1.0 } else { -1.0 };
    let a = 2.0 * if p > 0.5 { 1.0 - p } else { p };
    if (df - 1.0).abs() < 1e-12 {
        let x = a * PI / 2.0;
        return sign * x.cos() / x.sin();
    }
    if (df - 2.0).abs() < 1e-12 {
        return sign * (2.0 / (a * (2.0 - a)) - 2.0).sqrt();
    }
    StudentsT::new(0.0, 1.0, df)
        .expect("df ≥ 1 is a valid Student t")
        .inverse_cdf(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn gamma_function_known_values() {
        assert!(close(gamma(1.0), 1.0, 1e-13));
        assert!(close(gamma(5.0), 24.0, 1e-13));
        assert!(close(gamma(0.5), PI.sqrt(), 1e-13));
        assert!(close(gamma(1.5), PI.sqrt() / 2.0, 1e-13));
        assert!(close(ln_gamma(100.0), 359.134_205_369_575_4, 1e-13));
        assert!(close(gamma(0.1), 9.513_507_698_668_732, 1e-12));
    }

    #[test]
    fn normal_quantiles() {
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-14));
        assert!(close(normal_quantile(0.99), 2.326_347_874_040_841, 1e-14));
        assert!(close(normal_quantile(0.001), -3.090_232_306_167_814, 1e-14));
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn student_t_matches_tables() {
        // Two-sided 95% critical values t_{0.975, df}, to 16 digits (from the
        // regularised incomplete beta function at 40 digits).
        let table = [
            (1.0, 12.706_204_736_174_705),
            (2.0, 4.302_652_729_749_464),
            (3.0, 3.182_446_305_283_71),
            (4.0, 2.776_445_105_197_794),
            (5.0, 2.570_581_835_636_316),
            (9.0, 2.262_157_162_798_206),
            (19.0, 2.093_024_054_408_31),
            (29.0, 2.045_229_642_132_704),
            (99.0, 1.984_216_951_586_417),
            (1_000.0, 1.962_339_080_826_408),
        ];
        for (df, t) in table {
            let got = student_t_quantile(0.975, df);
            assert!(close(got, t, 1e-12), "df {df}: {got} vs {t}");
            assert!(close(student_t_quantile(0.025, df), -t, 1e-12));
        }
        // Other levels.
        assert!(close(
            student_t_quantile(0.995, 9.0),
            3.249_835_541_592_126,
            1e-12
        ));
        assert!(close(
            student_t_quantile(0.95, 4.0),
            2.131_846_786_326_65,
            1e-12
        ));
        assert_eq!(student_t_quantile(0.5, 7.0), 0.0);
    }

    #[test]
    fn student_t_closed_forms_continue_into_statrs() {
        // Fractional df (Welch) just above 1 and 2 lands near the closed forms.
        for df in [1.0, 2.0] {
            let exact = student_t_quantile(0.975, df);
            let near = student_t_quantile(0.975, df + 1e-9);
            assert!(close(near, exact, 1e-6), "df {df}: {near} vs {exact}");
        }
    }
}

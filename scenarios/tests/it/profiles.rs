//! Rate profiles: arrivals follow the profile exactly. The counts per
//! interval of a non-homogeneous Poisson process are independent Poisson
//! variables with mean `rate × ∫ multiplier`, so over every interval of every
//! replication Σ (N − Λ)² / Λ is χ² with that many degrees of freedom; the
//! tests assert it lies between the 0.1% and 99.9% quantiles (too small
//! would mean arrivals more regular than Poisson, too large a wrong rate).

use std::path::Path;

use capsim_models::{RateProfile, ReplicationResult};
use capsim_scenarios::{Scenario, load_str_in};
use sim_engine::SimDuration;

use crate::common::*;

/// χ² quantile by the Wilson–Hilferty approximation (z: the normal quantile).
fn chi2_quantile(k: f64, z: f64) -> f64 {
    let a = 2.0 / (9.0 * k);
    k * (1.0 - a + z * a.sqrt()).powi(3)
}

/// Compares every interval's arrivals with the profile's integral, class 0.
fn assert_counts_follow_profile(s: &Scenario, results: &[ReplicationResult]) {
    let class = &s.platform.classes[0];
    let rate = class.arrivals.rate_per_s;
    let profile = &class.arrivals.profile;
    let interval = s.platform.series_interval;
    let mut chi2 = 0.0;
    let mut k = 0usize;
    let (mut total_n, mut total_l) = (0.0, 0.0);
    for r in results {
        let counts = &r.classes[0].series.arrivals;
        for (i, &n) in counts.iter().enumerate() {
            let t0 = SimDuration::from_nanos(interval.as_nanos() * i as u64);
            let t1 = (t0 + interval).min(s.platform.horizon);
            let lambda = rate * profile.integral(t0, t1);
            if lambda < 5.0 {
                continue; // too few for the χ² approximation
            }
            chi2 += (n - lambda).powi(2) / lambda;
            k += 1;
            total_n += n;
            total_l += lambda;
        }
    }
    let (lo, hi) = (
        chi2_quantile(k as f64, -3.09),
        chi2_quantile(k as f64, 3.09),
    );
    eprintln!(
        "{k} intervals: chi2 {chi2:.1} in [{lo:.1}, {hi:.1}]; arrivals {total_n} vs {total_l:.1} expected"
    );
    assert!(k >= 50, "enough intervals to test ({k})");
    assert!(
        (lo..=hi).contains(&chi2),
        "counts per interval do not follow the profile: chi2 {chi2:.1} outside [{lo:.1}, {hi:.1}] with {k} degrees of freedom"
    );
    let z = (total_n - total_l) / total_l.sqrt();
    assert!(z.abs() < 3.5, "total arrivals off by {z:.2} sigma");
}

#[test]
fn composed_diurnal_weekly_and_growth_arrivals_match_the_integral() {
    // Four days from Friday 18:00 in New York (UTC−5): the diurnal curve
    // peaks at 14:00 local, the weekend is quieter, and traffic grows 3x
    // linearly over the four days.
    let s = scenario(
        r#"
[scenario]
name = "profiles"
[simulation]
duration = "4d"
interval = "1h"
replications = 3
seed = 5
start = "2026-11-27T18:00:00-05:00"
[classes.web]
rate_per_s = 2
profile = [
  { kind = "diurnal", utc_offset = -5, hours = [0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.45, 0.3] },
  { kind = "weekly", utc_offset = "-05:00", days = [1.0, 1.0, 1.0, 1.0, 1.1, 0.6, 0.5] },
  { kind = "growth", over = "4d", factor = 3, curve = "linear" },
]
route = ["web"]
[tiers.web]
kind = "station"
servers = 100
service = { dist = "deterministic", value = "1ms" }
"#,
    );
    assert!(matches!(
        s.platform.classes[0].arrivals.profile,
        RateProfile::Product(_)
    ));
    let results = run(&s);
    assert_counts_follow_profile(&s, &results);
    // The calendar is right: Saturday 14:00 local is 20 hours from the
    // start, Saturday 03:00 nine, Sunday 14:00 44.
    let p = &s.platform.classes[0].arrivals.profile;
    let at = |h: u64| p.multiplier(SimDuration::from_secs(h * 3600));
    let growth = |h: f64| 1.0 + 2.0 * h / 96.0;
    assert!((at(20) - 1.0 * 0.6 * growth(20.0)).abs() < 1e-9);
    assert!((at(9) - 0.1 * 0.6 * growth(9.0)).abs() < 1e-9);
    assert!((at(44) - 1.0 * 0.5 * growth(44.0)).abs() < 1e-9);
}

#[test]
fn a_spike_and_seasonal_months_match_the_integral() {
    let s = scenario(
        r#"
[scenario]
name = "spike-season"
[simulation]
duration = "12h"
interval = "10m"
replications = 4
seed = 9
start = "2026-11-30T18:00:00Z"
[workload]
rate_per_s = 5
profile = [
  { kind = "spike", start = "2h", rise = "30m", plateau = "1h", decay = "2h", multiplier = 6 },
  { kind = "seasonal", months = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 2.5] },
  { kind = "ramp", start = "8h", duration = "2h", to = 0.5 },
]
[classes.web]
share = 1.0
route = ["web"]
[tiers.web]
kind = "station"
servers = 100
service = { dist = "deterministic", value = "1ms" }
"#,
    );
    let results = run(&s);
    assert_counts_follow_profile(&s, &results);
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("capsim-profiles-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const REPLAY: &str = r#"
[scenario]
name = "replay"
[simulation]
duration = "3h"
interval = "5m"
replications = 4
seed = 3
[classes.web]
rate_per_s = 10
profile = { kind = "replay", file = "traffic.csv" }
route = ["web"]
[tiers.web]
kind = "station"
servers = 100
service = { dist = "deterministic", value = "1ms" }
"#;

#[test]
fn a_replayed_trace_gives_its_own_rates() {
    // A CloudWatch-style export: timestamps every 15 minutes, requests per
    // second; the class's rate_per_s (10) is only the reference.
    let dir = temp_dir("ok");
    write(
        &dir,
        "traffic.csv",
        "timestamp,requests_per_s\n\
         2026-11-27T00:00:00Z,4\n\
         2026-11-27T00:15:00Z,6\n\
         # a comment line is skipped\n\
         2026-11-27T00:30:00Z,30\n\
         2026-11-27T01:30:00Z,30\n\
         2026-11-27T02:00:00Z,8\n",
    );
    let s = load_str_in("replay.toml", REPLAY, Some(&dir), &[]).unwrap_or_else(|e| panic!("{e}"));
    let p = &s.platform.classes[0].arrivals.profile;
    let rate = |t: u64| 10.0 * p.multiplier(SimDuration::from_secs(t));
    assert!((rate(0) - 4.0).abs() < 1e-9);
    assert!((rate(450) - 5.0).abs() < 1e-9, "linear between rows");
    assert!((rate(3600) - 30.0).abs() < 1e-9);
    assert!((rate(10_000) - 8.0).abs() < 1e-9, "the last rate holds");
    let results = run(&s);
    assert_counts_follow_profile(&s, &results);

    // `skip` starts the run inside the trace, `scale` multiplies it.
    let ov = |s: &str| capsim_scenarios::Override::parse(s).unwrap();
    let s2 = load_str_in(
        "replay.toml",
        REPLAY,
        Some(&dir),
        &[
            ov("classes.web.profile.skip=30m"),
            ov("classes.web.profile.scale=2"),
        ],
    )
    .unwrap();
    let p2 = &s2.platform.classes[0].arrivals.profile;
    assert!((10.0 * p2.multiplier(SimDuration::ZERO) - 60.0).abs() < 1e-9);
    assert!((10.0 * p2.multiplier(SimDuration::from_secs(5400)) - 16.0).abs() < 1e-9);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_trace_is_reported_with_its_file_and_line() {
    let dir = temp_dir("bad");
    let cases = [
        (
            "timestamp,requests_per_s\n0,5\n60,oops\n",
            "line 3: `requests_per_s` must be a number at least 0 (got `oops`)",
        ),
        (
            "t,requests_per_s\n0,5\n60,6\n60,7\n",
            "line 4: times must increase",
        ),
        (
            "t,requests_per_s\n0,5\nyesterday,6\n",
            "line 3: time `yesterday` is neither seconds nor an RFC 3339 timestamp",
        ),
        (
            "t,bananas\n0,5\n",
            "line 1: the second column must be `requests_per_s`",
        ),
        ("t,multiplier\n0,1\n60,2,3\n", "line 3:"),
        ("t,requests_per_s\n", "the trace has a header but no rows"),
    ];
    for (csv, want) in cases {
        write(&dir, "traffic.csv", csv);
        let err = load_str_in("replay.toml", REPLAY, Some(&dir), &[])
            .err()
            .unwrap_or_else(|| panic!("{csv:?} was accepted"))
            .to_string();
        assert!(err.contains(want), "{csv:?}: {err}");
        assert!(err.contains("traffic.csv"), "names the trace: {err}");
        assert!(
            err.contains("classes.web.profile.file"),
            "names the field: {err}"
        );
        assert!(err.contains("replay.toml"), "names the scenario: {err}");
    }
    std::fs::remove_file(dir.join("traffic.csv")).unwrap();
    let err = load_str_in("replay.toml", REPLAY, Some(&dir), &[])
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("cannot read the trace"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_profiles_name_the_field() {
    let base = |profile: &str, extra: &str| {
        format!(
            r#"
[scenario]
name = "bad"
[simulation]
duration = "1h"
{extra}
[classes.web]
rate_per_s = 1
profile = {profile}
route = ["web"]
[tiers.web]
kind = "station"
servers = 1
service = {{ dist = "exponential", mean = "1ms" }}
"#
        )
    };
    let cases = [
        (
            base(r#"{ kind = "diurnal", hours = [1, 2] }"#, ""),
            "classes.web.profile.hours",
            "expected 24 numbers",
        ),
        (
            base(r#"{ kind = "weekly", hours = [1, 2] }"#, ""),
            "classes.web.profile.hours",
            "takes `days`, not `hours`",
        ),
        (
            base(
                r#"[{ kind = "growth", over = "26w", factor = 10, curve = "cubic" }]"#,
                "",
            ),
            "classes.web.profile[0].curve",
            "unknown curve",
        ),
        (
            base(
                r#"{ kind = "diurnal", hours = [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0] }"#,
                "",
            ),
            "classes.web.profile",
            "no traffic would ever arrive",
        ),
        (
            base(
                r#"{ kind = "seasonal", months = [1,1,1,1,1,1,1,1,1,1,1,1], utc_offset = "5:30" }"#,
                "",
            ),
            "classes.web.profile.utc_offset",
            "a UTC offset is hours",
        ),
        (
            base(r#"[{ kind = "ramp", duration = "0s", to = 2 }, 3]"#, ""),
            "classes.web.profile[0].duration",
            "a ramp needs a duration above zero",
        ),
        (
            base(r#"[{ kind = "ramp", duration = "1m", to = 2 }, 3]"#, ""),
            "classes.web.profile[1]",
            "expected a profile table",
        ),
        (
            base(r#"{ kind = "constant" }"#, r#"start = "2026-11-31""#),
            "simulation.start",
            "is not an RFC 3339 date",
        ),
        (
            base(
                r#"{ kind = "constant" }"#,
                r#"start = "9999-12-29T21:30:00Z""#,
            ),
            "simulation.start",
            "the run must lie between",
        ),
        (
            base(r#"{ kind = "growth", over = "1d", factr = 10 }"#, ""),
            "classes.web.profile.factr",
            "unknown field",
        ),
    ];
    for (text, field, want) in cases {
        let err = load_str_in("bad.toml", &text, None, &[])
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"))
            .to_string();
        assert!(err.contains(field), "names {field}: {err}");
        assert!(err.contains(want), "says {want}: {err}");
    }
}

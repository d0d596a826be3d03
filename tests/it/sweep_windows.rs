//! End-to-end: `capsim sweep` on a scenario run in `[windows]` is refused
//! (a sweep point is one horizon), not run as if the section were absent.

use crate::common::{capsim, input_error};

#[test]
fn a_sweep_of_a_windowed_scenario_is_refused_at_its_windows_section() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let line = include_str!("../../scenarios/library/ten-x-growth.toml")
        .lines()
        .position(|l| l.trim() == "[windows]")
        .expect("ten-x-growth runs in [windows]")
        + 1;
    let o = capsim(&[
        "sweep",
        "ten-x-growth",
        "--param",
        "workload.multiplier=1,2",
        "--replications",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = input_error(&o);
    assert!(
        err.contains(&format!("bundled scenario \"ten-x-growth\":{line}:")),
        "located at the section: {err}"
    );
    assert!(err.contains("field `windows`"), "{err}");
    assert!(err.contains("runs in [windows]"), "{err}");
    assert!(err.contains("--window K"), "says what to do: {err}");
    assert!(!out.exists(), "nothing written: {err}");
}

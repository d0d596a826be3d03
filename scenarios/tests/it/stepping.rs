//! A replication run in the steps the progress bar follows is the same run
//! as one call to the horizon: same events, same results.

use std::sync::atomic::{AtomicU64, Ordering};

use capsim_models::{simulate, simulate_reporting};
use capsim_scenarios::{Override, library, load_str};

#[test]
fn stepped_and_single_runs_give_identical_results() {
    // step-policy has policy ticks, cooldowns, boots, SLO windows and a
    // spike: every kind of timer that a step boundary could disturb.
    let b = library::find("step-policy").unwrap();
    let overrides = [Override::parse("simulation.duration=100m").unwrap()];
    let s = load_str(b.name, b.text, &overrides).unwrap();
    for replication in 0..2 {
        let single = simulate(&s.platform, s.seed, replication);
        let progress = AtomicU64::new(0);
        let stepped = simulate_reporting(&s.platform, s.seed, replication, &progress);
        assert!(!single.scaling.is_empty(), "the run scales");
        assert_eq!(single.events, stepped.events);
        assert_eq!(format!("{single:?}"), format!("{stepped:?}"));
        assert_eq!(progress.load(Ordering::Relaxed), 100 * 60 * 1000);
    }
}

//! The budget a run is held to while it runs, and the cost estimate's own
//! bounds: a pilot capped in events, a backlog seen growing.

use capsim_models::estimate::{PILOT_MAX_EVENTS, estimate};
use capsim_models::run::{CHECK_EVERY, Overrun};
use capsim_models::{RunControl, run_replications, simulate};
use sim_engine::{Dist, SimDuration};

use crate::queueing_theory::{network, station};

fn mm1(rate_per_s: f64, mean_ms: u64, horizon_s: u64) -> capsim_models::PlatformConfig {
    let service = Dist::exponential(mean_ms as f64 / 1000.0).unwrap();
    network(
        rate_per_s,
        vec![station("s", 1, service, None)],
        horizon_s,
        0,
    )
}

#[test]
fn the_event_budget_stops_a_run_and_keeps_the_replications_that_finished() {
    let cfg = mm1(1000.0, 1, 60);
    let first = simulate(&cfg, 3, 0);
    // Room for replication 0 and half of replication 1.
    let limit = first.events + first.events / 2;
    let control = RunControl::new();
    control.set_budget(Some(limit), None);
    let results = run_replications(&cfg, 3, 4, 1, &control).unwrap();
    assert_eq!(control.overrun(), Some(Overrun::Events { limit }));
    assert!(control.cancelled());
    let kept = results[0].as_ref().expect("replication 0 finished");
    assert_eq!(
        kept.events, first.events,
        "the same run as without a budget"
    );
    assert_eq!(kept.totals(), first.totals());
    assert!(results[1..].iter().all(Option::is_none), "the rest stopped");
    // It stopped within a progress step of the limit, not at the end.
    let handled = control.events.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        handled > limit && handled < limit + first.events / 4,
        "{handled} events"
    );
}

#[test]
fn no_budget_no_stop() {
    let cfg = mm1(1000.0, 1, 10);
    let control = RunControl::new();
    control.set_budget(None, None);
    let results = run_replications(&cfg, 3, 2, 1, &control).unwrap();
    assert!(results.iter().all(Option::is_some));
    assert_eq!(control.overrun(), None);
}

#[test]
fn the_pilot_of_a_billion_requests_a_second_is_capped_in_events() {
    let cfg = mm1(1e9, 1, 3600);
    let e = estimate(std::slice::from_ref(&cfg), 1, 2, 1);
    assert!(
        e.pilot.events <= PILOT_MAX_EVENTS + 2 * CHECK_EVERY,
        "{} events",
        e.pilot.events
    );
    assert!(
        e.pilot.simulated <= SimDuration::from_millis(1),
        "{}",
        e.pilot.simulated
    );
    // 7.2 T requests, at least an arrival each.
    assert!(e.events >= 7.2e12, "{} events", e.events);
}

#[test]
fn the_estimate_sees_an_overloaded_backlog_grow_and_a_stable_one_not() {
    // Ten times the capacity: about 900 requests/s pile up for an hour.
    let e = estimate(&[mm1(1000.0, 10, 3600)], 1, 2, 1);
    assert!(
        e.backlog > 0.5 * 900.0 * 3600.0,
        "backlog {} over an hour",
        e.backlog
    );
    assert!(e.memory_bytes > 150e6, "{} bytes", e.memory_bytes);
    let e = estimate(&[mm1(500.0, 1, 3600)], 1, 2, 1);
    assert_eq!(e.backlog, 0.0);
    assert!(e.memory_bytes < 100e6, "{} bytes", e.memory_bytes);
}

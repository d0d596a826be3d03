//! What a run will cost before it starts: requests, events and memory.
//!
//! Requests are exact expectations (each class's rate times the integral of
//! its profile over the horizon). Events per request come from a *pilot*:
//! replication 0 simulated for the first stretch of the horizon that holds
//! about [`PILOT_REQUESTS`] arrivals (the whole horizon if it holds fewer),
//! so they reflect the scenario's own routes, retries and scaling. Only the
//! pilot's second half counts (the difference to a pilot half as long):
//! its first seconds, with cold caches and an unscaled fleet, are not the
//! rest of the run. Memory is
//! a model of what grows with the run (the time series: a few numbers per
//! series and interval, and per-interval latency buckets while a
//! replication runs), calibrated against measured peak resident memory (see
//! docs/scenario-format.md, "Cost of a run"). Nothing grows with the number
//! of requests, so memory does not depend on the rate.

use std::time::Instant;

use sim_engine::SimDuration;

use crate::config::PlatformConfig;
use crate::results::ReplicationResult;
use crate::run::simulate;

/// Arrivals the pilot aims for.
pub const PILOT_REQUESTS: f64 = 50_000.0;

/// Resident memory of the process before any replication (binary, tables,
/// the output's buffers).
const BASE_BYTES: f64 = 8.0 * 1024.0 * 1024.0;
/// Per running replication: event queue, request arena, units.
const RUNNING_BYTES: f64 = 2.0 * 1024.0 * 1024.0;
/// A whole-run latency histogram (1 ns to 1 h at 3 significant figures):
/// one per class, kept with the results, and about one per tier while a
/// replication runs.
const HISTOGRAM_BYTES: f64 = 256.0 * 1024.0;
/// Per latency series and interval while a replication runs: the interval's
/// range of log-linear buckets (about 150 `u32`s: measured on mmc-reference
/// at 1 s intervals, 1.6 kB per interval for its two latency series and
/// their values).
const LATENCY_BUCKET_BYTES: f64 = 600.0;

/// The cost of simulating a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Expected arrivals over every replication (and window).
    pub requests: f64,
    /// Kernel events over every replication (and window).
    pub events: f64,
    pub events_per_request: f64,
    /// Peak resident memory of the process, bytes.
    pub memory_bytes: f64,
    /// Replications run at once (`min(threads, replications)`).
    pub parallel: u64,
    pub pilot: Pilot,
}

/// The pilot's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Pilot {
    pub simulated: SimDuration,
    pub requests: u64,
    pub events: u64,
    /// Wall-clock seconds it took (the only figure that is not a pure
    /// function of the scenario).
    pub wall_seconds: f64,
}

impl Estimate {
    /// Wall-clock seconds at the pilot's speed: a rough guide, since the
    /// pilot is short and the machine may be busy.
    pub fn wall_seconds(&self) -> f64 {
        if self.pilot.events == 0 || self.pilot.wall_seconds <= 0.0 {
            return 0.0;
        }
        let per_event = self.pilot.wall_seconds / self.pilot.events as f64;
        self.events * per_event / self.parallel.max(1) as f64
    }
}

/// Expected arrivals of one replication of `cfg` over `[0, until]`.
fn expected_arrivals(cfg: &PlatformConfig, until: SimDuration) -> f64 {
    cfg.classes
        .iter()
        .map(|c| c.arrivals.rate_per_s * c.arrivals.profile.integral(SimDuration::ZERO, until))
        .sum()
}

/// Expected thinning candidates of one replication of `cfg` over `[0,
/// until]` (arrivals are drawn at the envelope's rate and kept with
/// probability multiplier / envelope: one kernel event each).
fn candidates(cfg: &PlatformConfig, until: SimDuration) -> f64 {
    cfg.classes
        .iter()
        .map(|c| c.arrivals.rate_per_s * c.arrivals.profile.envelope(until) * until.as_secs_f64())
        .sum()
}

/// The shortest prefix of the horizon expected to hold `PILOT_REQUESTS`
/// arrivals, found by doubling from one second (the horizon at most).
fn pilot_horizon(cfg: &PlatformConfig) -> SimDuration {
    let mut t = SimDuration::from_secs(1).min(cfg.horizon);
    while t < cfg.horizon && expected_arrivals(cfg, t) < PILOT_REQUESTS {
        t = SimDuration::from_nanos(t.as_nanos().saturating_mul(2)).min(cfg.horizon);
    }
    t
}

/// Series of a replication's results, and how many of them are latency
/// percentiles (three per latency distribution recorded per interval).
fn series_counts(r: &ReplicationResult) -> (usize, usize) {
    let mut values = 0;
    let mut latency = 0;
    let mut count = |name: &str| {
        values += 1;
        if name == "latency_p50_ms" {
            latency += 1;
        }
    };
    for c in &r.classes {
        // arrivals, completed, failed, timed_out
        (0..4).for_each(|_| count(""));
        c.latency_series.iter().for_each(|(n, _)| count(n));
    }
    for t in &r.tiers {
        t.series.iter().for_each(|(n, _)| count(n));
    }
    r.latency_series.iter().for_each(|(n, _)| count(n));
    for region in &r.region_latency_series {
        region.iter().for_each(|(n, _)| count(n));
    }
    (values, latency)
}

/// Estimates the cost of `replications` replications of each of `runs`
/// (one platform, or one per window of a long horizon), `threads` at a time.
pub fn estimate(runs: &[PlatformConfig], seed: u64, replications: u64, threads: usize) -> Estimate {
    let first = &runs[0];
    let pilot = |horizon: SimDuration| {
        let mut cfg = first.clone();
        cfg.horizon = horizon;
        cfg.warmup = SimDuration::ZERO;
        cfg.series_interval = first.series_interval.min(horizon);
        simulate(&cfg, seed, 0)
    };
    let started = Instant::now();
    let horizon = pilot_horizon(first);
    let r = pilot(horizon);
    let wall_seconds = started.elapsed().as_secs_f64();
    let pilot_requests = r.totals().arrived;
    let per_replication: f64 = runs.iter().map(|c| expected_arrivals(c, c.horizon)).sum();
    let requests = per_replication * replications as f64;
    let simulated_s: f64 = runs.iter().map(|c| c.horizon.as_secs_f64()).sum();
    let events = if horizon == first.horizon && runs.len() == 1 {
        // The pilot was replication 0 itself.
        r.events as f64 * replications as f64
    } else {
        let half_horizon = SimDuration::from_nanos(horizon.as_nanos() / 2);
        let half = pilot(half_horizon);
        // Events of the requests themselves, beyond their thinning
        // candidates (which depend on the envelope over the whole run).
        let de = r.events.saturating_sub(half.events) as f64
            - (candidates(first, horizon) - candidates(first, half_horizon));
        let dn = pilot_requests.saturating_sub(half.totals().arrived) as f64;
        if dn > 0.0 {
            let thinning: f64 = runs.iter().map(|c| candidates(c, c.horizon)).sum();
            requests * (de / dn).max(0.0) + thinning * replications as f64
        } else {
            // No requests (yet): events that do not depend on them
            // (interval ticks, scaling and health checks), per second.
            r.events as f64 / horizon.as_secs_f64().max(1e-9) * simulated_s * replications as f64
        }
    };
    let events_per_request = if requests > 0.0 {
        events / requests
    } else {
        0.0
    };

    let (values, latency) = series_counts(&r);
    let intervals = runs
        .iter()
        .map(|c| {
            c.horizon
                .as_nanos()
                .div_ceil(c.series_interval.as_nanos().max(1)) as f64
        })
        .fold(0.0, f64::max);
    let parallel = (threads.max(1) as u64).min(replications.max(1));
    let (classes, tiers) = (r.classes.len() as f64, r.tiers.len() as f64);
    // A replication keeps its series and class histograms; a chain of
    // windows keeps a summary per window.
    let kept = if runs.len() == 1 {
        intervals * values as f64 * 8.0 + classes * HISTOGRAM_BYTES
    } else {
        runs.len() as f64 * 4096.0
    };
    let running = RUNNING_BYTES
        + (classes + tiers) * HISTOGRAM_BYTES
        + intervals * (values as f64 * 8.0 + latency as f64 * LATENCY_BUCKET_BYTES);
    let memory_bytes = BASE_BYTES + parallel as f64 * running + replications as f64 * kept;
    Estimate {
        requests,
        events,
        events_per_request,
        memory_bytes,
        parallel,
        pilot: Pilot {
            simulated: horizon,
            requests: pilot_requests,
            events: r.events,
            wall_seconds,
        },
    }
}

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

use sim_engine::{SimDuration, SimTime, Simulation, Streams};

use crate::config::PlatformConfig;
use crate::platform::Platform;
use crate::results::ReplicationResult;
use crate::run::Pace;

/// Arrivals the pilot aims for.
pub const PILOT_REQUESTS: f64 = 50_000.0;
/// Requests the pilot's second half needs for its events per request.
const MIN_PILOT_REQUESTS: f64 = 100.0;
/// Kernel events after which the pilot stops (within about a million), so
/// that `validate` stays quick whatever the scenario (well under a second
/// of one core).
pub const PILOT_MAX_EVENTS: u64 = 4_000_000;

/// Resident memory of the process before any replication (binary, tables,
/// the output's buffers and a plot's canvas).
const BASE_BYTES: f64 = 12.0 * 1024.0 * 1024.0;
/// Per series value and interval, once, when the outputs are made: the
/// merged table (estimate and interval) and the text of the largest file,
/// files being staged to disk one format at a time (measured on
/// mmc-reference at 1 s intervals, 3 and 6 hours: 234 bytes per interval
/// where the files held together took 499 at 48 bytes a value).
const OUTPUT_BYTES: f64 = 22.5;
/// Per running replication: event queue, request arena, units.
const RUNNING_BYTES: f64 = 2.0 * 1024.0 * 1024.0;
/// A whole-run latency histogram (1 ns to 1 h at 3 significant figures):
/// one per class and one per tier a route visits, kept with the results,
/// and about one more per tier while a replication runs.
const HISTOGRAM_BYTES: f64 = 256.0 * 1024.0;
/// Per latency series and open interval while a replication runs, when the
/// pilot cannot tell: the interval's range of log-linear buckets (about 150
/// `u32`s, mmc-reference at 1 s intervals). The pilot measures it when its
/// intervals are the run's: it grows with the values an interval holds.
const LATENCY_BUCKET_BYTES: f64 = 600.0;
/// Per open interval of a latency series, besides its buckets: the range's
/// header.
const BIN_BYTES: f64 = 40.0;
/// Per closed interval of a latency series: its count and the buckets of
/// three quantiles.
const CLOSED_BYTES: f64 = 20.0;
/// A replication closes the intervals it has passed at least once a
/// simulated minute (its progress step): the intervals open at once span
/// about that, and one more either side.
const OPEN_SPAN: SimDuration = SimDuration::from_secs(60);
/// Per unit of a tier (an instance, a worker, a node) while a replication
/// runs (its state, queues and counters), and in the results it keeps
/// (measured: 10,000 API instances, 2 and 10 replications).
const UNIT_BYTES: f64 = 2560.0;
const UNIT_KEPT_BYTES: f64 = 320.0;
/// Per transaction, attempt or event pending (measured: an overloaded
/// tandem holding 1.2, 2.4 and 12 M requests, two of these each), besides
/// an attempt's row of the parts of its time (8 bytes a part).
const LIVE_BYTES: f64 = 50.0;

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
    /// Requests (and their events) piling up in an overloaded platform: how
    /// many a replication would hold at its end; 0 if the pilot's did not
    /// grow.
    pub backlog: f64,
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
/// arrivals, found by doubling from a millisecond (the horizon at most).
fn pilot_horizon(cfg: &PlatformConfig) -> SimDuration {
    let mut t = SimDuration::from_millis(1).min(cfg.horizon);
    while t < cfg.horizon && expected_arrivals(cfg, t) < PILOT_REQUESTS {
        t = SimDuration::from_nanos(t.as_nanos().saturating_mul(2)).min(cfg.horizon);
    }
    t
}

/// Where the pilot stood at one moment.
#[derive(Clone, Copy, Debug, Default)]
struct Snapshot {
    at: SimDuration,
    events: u64,
    arrived: u64,
    /// Requests in the platform and events pending: what grows without
    /// bound when it is overloaded.
    live: u64,
}

/// The pilot: replication 0 of `cfg`, stopped once it has handled
/// [`PILOT_MAX_EVENTS`] events if it gets that far, with snapshots along
/// the way.
struct PilotRun {
    result: ReplicationResult,
    /// Bytes an interval of a latency series held.
    latency_bytes: Option<f64>,
    /// From the start (all zero) to where it stopped, in sixteenths.
    snapshots: Vec<Snapshot>,
}

impl PilotRun {
    fn run(cfg: &PlatformConfig, seed: u64) -> PilotRun {
        let mut model = Platform::new(cfg, Streams::new(seed, 0));
        let initial = model.initial_events();
        let mut sim = Simulation::new(model);
        for (t, e) in initial {
            sim.schedule_at(t, e);
        }
        let snapshot = |sim: &Simulation<Platform>| {
            let (arrived, live) = sim.model().load();
            Snapshot {
                at: sim.now().since_start(),
                events: sim.events_processed(),
                arrived,
                live: live + sim.pending() as u64,
            }
        };
        let mut snapshots = vec![Snapshot::default()];
        let mut pace = Pace::new(cfg.horizon);
        let mut reached = SimTime::ZERO;
        'sixteenths: for k in 1..=16u64 {
            let until = SimTime::at(SimDuration::from_nanos(
                (cfg.horizon.as_nanos() as u128 * k as u128 / 16) as u64,
            ));
            while reached < until {
                reached = pace.run(&mut sim, reached, until);
                if sim.events_processed() >= PILOT_MAX_EVENTS {
                    snapshots.push(snapshot(&sim));
                    break 'sixteenths;
                }
            }
            snapshots.push(snapshot(&sim));
        }
        let end = sim.now();
        let events = sim.events_processed();
        let latency_bytes = sim.model().latency_bytes_per_interval();
        PilotRun {
            latency_bytes,
            result: sim.into_model().finish_run(end, 0, events),
            snapshots,
        }
    }

    fn last(&self) -> Snapshot {
        *self.snapshots.last().expect("the start")
    }

    /// The snapshot nearest halfway: the pilot's second half runs from it.
    fn half(&self) -> Snapshot {
        let half = self.last().at.as_nanos() / 2;
        *self
            .snapshots
            .iter()
            .min_by_key(|s| s.at.as_nanos().abs_diff(half))
            .expect("the start")
    }
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
    let started = Instant::now();
    let mut cfg = first.clone();
    cfg.horizon = pilot_horizon(first);
    cfg.warmup = SimDuration::ZERO;
    cfg.series_interval = first.series_interval.min(cfg.horizon);
    let pilot = PilotRun::run(&cfg, seed);
    let wall_seconds = started.elapsed().as_secs_f64();
    let (half, end) = (pilot.half(), pilot.last());
    let r = &pilot.result;
    let whole = end.at == first.horizon && runs.len() == 1;

    let per_replication: f64 = runs.iter().map(|c| expected_arrivals(c, c.horizon)).sum();
    let requests = per_replication * replications as f64;
    let simulated_s: f64 = runs.iter().map(|c| c.horizon.as_secs_f64()).sum();
    let span = (end.at - half.at).as_secs_f64();
    let events = if whole {
        // The pilot was replication 0 itself.
        end.events as f64 * replications as f64
    } else {
        // Events of the requests themselves, beyond their thinning
        // candidates (drawn at the envelope's rate: the pilot's own, and
        // the whole run's below).
        let pilot_candidates: f64 = cfg
            .classes
            .iter()
            .map(|c| c.arrivals.rate_per_s * c.arrivals.profile.envelope(cfg.horizon) * span)
            .sum();
        let de = (end.events - half.events) as f64 - pilot_candidates;
        let dn = (end.arrived - half.arrived) as f64;
        let thinning: f64 = runs.iter().map(|c| candidates(c, c.horizon)).sum();
        if dn >= MIN_PILOT_REQUESTS {
            requests * (de / dn).max(0.0) + thinning * replications as f64
        } else if requests > 0.0 {
            // Cut short by its event cap before enough requests arrived
            // (thinning candidates took them): a lower bound, an arrival
            // and an answer each.
            requests * 2.0 + thinning * replications as f64
        } else {
            // No requests (yet): events that do not depend on them
            // (interval ticks, scaling and health checks), per second.
            end.events as f64 / end.at.as_secs_f64().max(1e-9) * simulated_s * replications as f64
        }
    };
    let events_per_request = if requests > 0.0 {
        events / requests
    } else {
        0.0
    };

    let (values, latency) = series_counts(r);
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
        intervals * values as f64 * 8.0
            + (classes + tiers) * HISTOGRAM_BYTES
            + fleet_units(first) as f64 * UNIT_KEPT_BYTES
    } else {
        runs.len() as f64 * 4096.0
    };
    // Requests in the platform: what the pilot ended with, and if they grew
    // in its second half (an overloaded platform), that growth over the rest
    // of the longest run.
    // Growing means a second half ending with half as much again, and by
    // more than 2% of its arrivals: a queue that fills from empty doubles,
    // a steady one wobbles by a few requests.
    let grew = end.live.saturating_sub(half.live) as f64;
    let growing = (end.live as f64) >= 1.5 * half.live as f64
        && grew > 0.02 * end.arrived.saturating_sub(half.arrived) as f64;
    let growth = if whole || span <= 0.0 || !growing {
        0.0
    } else {
        end.live.saturating_sub(half.live) as f64 / span
    };
    let longest = runs
        .iter()
        .map(|c| c.horizon)
        .max()
        .unwrap_or(first.horizon);
    let live = end.live as f64 + growth * (longest.as_secs_f64() - end.at.as_secs_f64()).max(0.0);
    // Measured by the pilot if its intervals are the run's (they hold as
    // many values), else at least the constant.
    let per_latency_interval = match pilot.latency_bytes {
        Some(b) if cfg.series_interval == first.series_interval => b,
        Some(b) => b.max(LATENCY_BUCKET_BYTES),
        None => LATENCY_BUCKET_BYTES,
    } + BIN_BYTES;
    let open = (OPEN_SPAN
        .as_nanos()
        .div_ceil(first.series_interval.as_nanos().max(1)) as f64
        + 2.0)
        .min(intervals);
    let running = RUNNING_BYTES
        + (classes + 2.0 * tiers) * HISTOGRAM_BYTES
        + intervals * (values as f64 * 8.0 + latency as f64 * CLOSED_BYTES)
        + open * latency as f64 * per_latency_interval
        + fleet_units(first) as f64 * UNIT_BYTES
        + live * (LIVE_BYTES + 8.0 * crate::platform::breakdown_width(first) as f64);
    let output = if runs.len() == 1 {
        intervals * values as f64 * OUTPUT_BYTES
    } else {
        0.0
    };
    let memory_bytes = BASE_BYTES + parallel as f64 * running + replications as f64 * kept + output;
    Estimate {
        requests,
        events,
        events_per_request,
        memory_bytes,
        parallel,
        backlog: if growth > 0.0 { live } else { 0.0 },
        pilot: Pilot {
            simulated: end.at,
            requests: end.arrived,
            events: end.events,
            wall_seconds,
        },
    }
}

/// Units of every tier at their most (a scaling policy's maximum).
fn fleet_units(cfg: &PlatformConfig) -> u64 {
    cfg.tiers
        .iter()
        .map(|t| {
            let now = t.kind.failure_units().len() as u64;
            t.scaling.as_ref().map_or(now, |s| now.max(s.max as u64))
        })
        .sum()
}

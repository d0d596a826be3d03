//! Long horizons as a chain of windows: "10x growth over six months" is not
//! simulated request by request for 180 days; each period (a week) is
//! represented by one window (its peak hours), simulated with the load of
//! that moment, and the fleet the policies chose carries into the next.
//!
//! ```text
//!   period 0                period 1                period 2
//!   |--offset--[window]-----|--offset--[window]-----|--offset--[window]--- …
//!                  │ fleet at the end ─► initial fleet │ ─► …
//!   window k: profiles read at k·every + offset + t; a cache's working set
//!   has grown for k·every + offset; units start at the counts window k−1
//!   ended with (per replication: each replication is one path through all
//!   the windows)
//! ```
//!
//! What is not carried: queues, requests in flight, booting units (each
//! window starts with its units in service and empty queues, and has its own
//! warm-up), SLO windows and cooldowns. Between windows no scaling happens:
//! a fleet scaled up for a peak starts the next window as large, and its
//! scale-in rules shrink it there if the load allows.

use std::sync::atomic::Ordering;

use sim_engine::{LatencyHistogram, RunnerError, SimDuration, run_indexed_cancellable};

use crate::config::{PlatformConfig, TierKind};
use crate::results::{ClientCounts, Figure, ReplicationResult, RequestCounts, ScalingEvent};
use crate::run::{PROGRESS_STEPS, RunControl, simulate_in_steps};
use crate::tier::Noun;

/// Which windows represent the long horizon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowPlan {
    /// One window per period of this length.
    pub every: SimDuration,
    pub count: u32,
    /// Where in each period its window starts.
    pub offset: SimDuration,
}

impl WindowPlan {
    /// Time from the start of the long horizon to window `k`'s start.
    pub fn start_of(&self, k: u32) -> SimDuration {
        SimDuration::from_nanos(self.every.as_nanos() * k as u64) + self.offset
    }
}

/// The platform of a window starting `at` into the long horizon, its
/// scalable tiers starting with `units` (one entry per tier; `None` keeps
/// the scenario's count; a count outside the tier's scaling bounds is
/// clamped to them). After the first window, caches start warm: they stayed
/// up in between.
pub fn window_config(
    base: &PlatformConfig,
    at: SimDuration,
    units: &[Option<u32>],
    first: bool,
) -> PlatformConfig {
    let mut cfg = base.clone();
    for c in &mut cfg.classes {
        c.arrivals.profile = c.arrivals.profile.shifted(at);
    }
    for (t, n) in cfg.tiers.iter_mut().zip(units) {
        if let Some(mut n) = *n {
            if let Some(s) = &t.scaling {
                n = n.clamp(s.min, s.max);
            }
            t.kind.set_scaled_units(n);
        }
        if let TierKind::Cache(c) = &mut t.kind {
            if let Some(s) = &mut c.sizing {
                s.working_set = s.working_set_at(at);
            }
            if !first {
                c.start_warm = true;
            }
        }
    }
    cfg
}

/// Window `k`'s seed: its own traffic, the same for every policy variant
/// under the same master seed (common random numbers across variants).
pub fn window_seed(seed: u64, k: u32) -> u64 {
    let mut z = seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) & (u64::MAX >> 1)
}

/// One replication of one window, reduced to what the window report needs
/// (so memory does not grow with the windows' traffic).
#[derive(Clone, Debug)]
pub struct WindowRun {
    pub window: u32,
    /// Seconds from the start of the long horizon to the window's start.
    pub start_s: f64,
    pub measured_s: f64,
    /// Mean offered rate over the window, requests per second.
    pub offered_per_s: f64,
    pub counts: RequestCounts,
    /// Timeouts and retries of the clients.
    pub client: ClientCounts,
    pub throughput_per_s: f64,
    pub latency_mean_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub cost_usd: f64,
    /// Per objective, in the scenario's order: its breach minutes, whether
    /// it held, and the share of its error budget used.
    pub breach_minutes: Vec<f64>,
    pub slo_met: Vec<bool>,
    pub budget_consumed: Vec<f64>,
    /// Per tier, in the scenario's order.
    pub tiers: Vec<WindowTier>,
    pub scaling: Vec<ScalingEvent>,
    pub events: u64,
}

/// A tier in one window.
#[derive(Clone, Debug)]
pub struct WindowTier {
    pub name: String,
    /// With autoscaling: its units at the window's start, its end and its
    /// most (`None` for tiers without scaling).
    pub units: Option<UnitSpan>,
    /// Its metrics (utilisation, hit ratio, replication lag, ...).
    pub metrics: Vec<Figure>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitSpan {
    /// What autoscaling counts (instances, replicas, ...).
    pub noun: Noun,
    pub start: u32,
    pub end: u32,
    pub peak: u32,
}

impl WindowRun {
    fn new(window: u32, at: SimDuration, cfg: &PlatformConfig, r: &ReplicationResult) -> Self {
        let secs = r.measured.as_secs_f64();
        let lat = r.latency();
        let totals = r.totals();
        let tiers = r
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| WindowTier {
                name: t.name.clone(),
                units: t.scaling.map(|s| {
                    let mut span = UnitSpan {
                        noun: s.noun,
                        start: s.initial,
                        end: s.initial,
                        peak: s.initial,
                    };
                    for e in r.scaling.iter().filter(|e| e.tier as usize == i) {
                        span.end = e.to;
                        span.peak = span.peak.max(e.to);
                    }
                    span
                }),
                metrics: t.metrics.clone(),
            })
            .collect();
        WindowRun {
            window,
            start_s: at.as_secs_f64(),
            measured_s: secs,
            offered_per_s: mean_offered(cfg),
            throughput_per_s: totals.completed as f64 / secs,
            counts: totals,
            client: r.client_totals(),
            latency_mean_ms: lat.mean_ms(),
            latency_p50_ms: lat.quantile_ms(0.50),
            latency_p95_ms: lat.quantile_ms(0.95),
            latency_p99_ms: lat.quantile_ms(0.99),
            cost_usd: r.cost_usd(),
            breach_minutes: r.slos.iter().map(|s| s.breach_minutes).collect(),
            slo_met: r.slos.iter().map(|s| s.met()).collect(),
            budget_consumed: r.slos.iter().map(|s| s.budget_consumed).collect(),
            tiers,
            scaling: r.scaling.clone(),
            events: r.events,
        }
    }
}

/// Mean offered rate over the measured part of a window.
fn mean_offered(cfg: &PlatformConfig) -> f64 {
    let secs = cfg.measured().as_secs_f64();
    cfg.classes
        .iter()
        .map(|c| {
            c.arrivals.rate_per_s * c.arrivals.profile.integral(cfg.warmup, cfg.horizon) / secs
        })
        .sum()
}

/// One replication's path through the windows: each window's figures and
/// the end-to-end latency of every window's measured requests together.
#[derive(Clone, Debug)]
pub struct Chain {
    pub windows: Vec<WindowRun>,
    pub latency: LatencyHistogram,
}

/// What a chain keeps beyond its windows' figures.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    WindowsOnly,
    PooledLatency,
}

/// Replication `replication`'s windows of `plan` in order, each starting
/// from the units the one before ended with. Stops early (fewer windows)
/// once `control.cancel` is set. The pooled latency is kept only if asked
/// for (a sweep's; a run's report has each window's own).
fn run_chain(
    base: &PlatformConfig,
    plan: &WindowPlan,
    seed: u64,
    replication: u64,
    control: &RunControl,
    keep: Keep,
) -> Chain {
    let mut units: Vec<Option<u32>> = base.tiers.iter().map(|t| t.kind.scaled_units()).collect();
    let mut chain = Chain {
        windows: Vec::with_capacity(plan.count as usize),
        latency: LatencyHistogram::new(),
    };
    for k in 0..plan.count {
        if k > 0 && control.cancel.load(Ordering::Relaxed) {
            break;
        }
        let at = plan.start_of(k);
        let cfg = window_config(base, at, &units, k == 0);
        // A window stopped part-way (Ctrl-C, the budget) is dropped.
        let Some(r) = simulate_in_steps(
            &cfg,
            window_seed(seed, k),
            replication,
            PROGRESS_STEPS,
            control,
        ) else {
            break;
        };
        let run = WindowRun::new(k, at, &cfg, &r);
        for (u, t) in units.iter_mut().zip(&run.tiers) {
            if let Some(s) = t.units {
                *u = Some(s.end);
            }
        }
        if keep == Keep::PooledLatency {
            chain.latency.merge(&r.latency());
        }
        chain.windows.push(run);
    }
    chain
}

/// Runs every window of `plan` for each replication: replications in
/// parallel on `threads` threads (0 = all cores), each one's windows in
/// order, each window starting from the units the one before ended with.
/// Results are in replication order, then window order, whatever the thread
/// count. Once `control.cancel` is set, a replication stops within the
/// window it is in (the windows done before it are kept); replications not
/// started are `None`. `control.progress_ms` counts simulated milliseconds of all
/// windows.
pub fn run_windows(
    base: &PlatformConfig,
    plan: &WindowPlan,
    seed: u64,
    replications: u64,
    threads: usize,
    control: &RunControl,
) -> Result<Vec<Option<Vec<WindowRun>>>, RunnerError> {
    run_indexed_cancellable(replications as usize, threads, &control.cancel, |j| {
        run_chain(base, plan, seed, j as u64, control, Keep::WindowsOnly).windows
    })
}

/// A sweep of a scenario run in windows: every point's chain of `plan`'s
/// windows, `replications` times each with common seeds, as
/// [`crate::run_points`] runs one horizon per point. `finish(i, chains)` is
/// called as point `i`'s chains are all complete; a point with a chain cut
/// short (cancelled) is `None`, as are skipped ones.
#[allow(clippy::too_many_arguments)]
pub fn run_window_points<R, G>(
    points: &[PlatformConfig],
    plan: &WindowPlan,
    seed: u64,
    replications: u64,
    threads: usize,
    skip: &[bool],
    control: &RunControl,
    finish: G,
) -> Result<Vec<Option<R>>, RunnerError>
where
    R: Send,
    G: Fn(usize, Vec<Chain>) -> R + Sync + Send,
{
    crate::run::each_point(
        points.len(),
        replications,
        threads,
        skip,
        control,
        |i, j| {
            let chain = run_chain(
                &points[i],
                plan,
                seed,
                j as u64,
                control,
                Keep::PooledLatency,
            );
            (chain.windows.len() == plan.count as usize).then_some(chain)
        },
        finish,
    )
}

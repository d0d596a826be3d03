//! The budget of a run: its events and memory estimated before it starts
//! (`capsim validate` prints the estimate; a run or a sweep over the limits
//! is refused unless forced), and the peak memory it used after. (Dollars
//! are `capsim_models::cost`'s.)

use capsim_models::estimate::{Estimate, estimate};
use capsim_models::run::{Overrun, RunControl};
use capsim_scenarios::Scenario;

use crate::Error;

/// Kernel events a run may take without `--force`: about half an hour of
/// one core at the engine's usual 10–15 M events/s. `CAPSIM_MAX_EVENTS`
/// changes it (a number, e.g. `1e11`).
pub const MAX_EVENTS: f64 = 2e10;
/// Peak memory a run may take without `--force`, GiB;
/// `CAPSIM_MAX_MEMORY_GIB` changes it.
pub const MAX_MEMORY_GIB: f64 = 8.0;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// The limits: the defaults, or the environment's.
fn limits() -> Result<(f64, f64), Error> {
    let read = |var: &str, default: f64| -> Result<f64, Error> {
        match std::env::var(var) {
            Err(_) => Ok(default),
            Ok(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
                _ => Err(Error::Input(format!(
                    "environment variable {var}={v}: expected a number above 0"
                ))),
            },
        }
    };
    Ok((
        read("CAPSIM_MAX_EVENTS", MAX_EVENTS)?,
        read("CAPSIM_MAX_MEMORY_GIB", MAX_MEMORY_GIB)? * GIB,
    ))
}

/// The estimate of `scenario` run `points` times (a sweep's points), its
/// replications `threads` at a time.
pub fn of(scenario: &Scenario, threads: usize, points: u64) -> Estimate {
    let mut e = estimate(
        &scenario.runs(),
        scenario.seed,
        scenario.replications,
        threads,
    );
    e.requests *= points as f64;
    e.events *= points as f64;
    e
}

pub fn si(x: f64) -> String {
    let (v, unit) = if x >= 1e12 {
        (x / 1e12, " T")
    } else if x >= 1e9 {
        (x / 1e9, " G")
    } else if x >= 1e6 {
        (x / 1e6, " M")
    } else if x >= 1e3 {
        (x / 1e3, " k")
    } else {
        return format!("{x:.0}");
    };
    format!("{v:.1}{unit}")
}

pub fn bytes(x: f64) -> String {
    let mib = x / (1024.0 * 1024.0);
    if mib >= 1024.0 * 1024.0 {
        format!("{:.1} TiB", mib / (1024.0 * 1024.0))
    } else if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

fn duration(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// One line: requests, events, time, memory.
pub fn describe(e: &Estimate, threads: usize) -> String {
    format!(
        "estimated cost: {} requests, {} events ({:.1} per request, from a pilot of {} simulated), about {} on {} thread{}, peak memory about {}",
        si(e.requests),
        si(e.events),
        e.events_per_request,
        e.pilot.simulated,
        duration(e.wall_seconds()),
        threads,
        if threads == 1 { "" } else { "s" },
        bytes(e.memory_bytes)
    )
}

/// Estimates the cost of `scenario` run `points` times and refuses it if it
/// is over the limits. With `force` nothing is checked, so the pilot is not
/// run either (on a 3-minute run of the full-stack benchmark it is 177 M of
/// 2,092 M instructions: see benches/README.md).
pub fn gate(scenario: &Scenario, threads: usize, points: u64, force: bool) -> Result<(), Error> {
    if force {
        return Ok(());
    }
    check(scenario, &of(scenario, threads, points), threads)
}

/// Sets the budget `control` holds a run to while it runs: the memory limit
/// always (it protects the machine), the event limit unless forced.
pub fn arm(control: &RunControl, force: bool) -> Result<(), Error> {
    let (max_events, max_memory) = limits()?;
    control.set_budget(
        (!force).then_some(max_events as u64),
        Some(max_memory as u64),
    );
    Ok(())
}

/// The error for a run `control` stopped: [`Error::Overrun`] if its budget
/// did (saying which limit), else [`Error::Interrupted`]; `what` says what
/// was kept.
pub fn stopped(control: &RunControl, what: String) -> Error {
    match control.overrun() {
        Some(o) => overrun_error(o, &what),
        None => Error::Interrupted(what),
    }
}

/// A run `o` stopped, `what` saying what was kept.
pub fn overrun_error(o: Overrun, what: &str) -> Error {
    Error::Overrun(format!("{}; {what}", overrun(o)))
}

/// Which limit stopped a run, and how to raise it.
pub fn overrun(o: Overrun) -> String {
    match o {
        Overrun::Events { limit } => format!(
            "stopped over the budget: more than {} events (CAPSIM_MAX_EVENTS; the estimate was low)",
            si(limit as f64)
        ),
        Overrun::Memory { limit, resident } => format!(
            "stopped over the budget: {} of memory held, over the limit of {} (CAPSIM_MAX_MEMORY_GIB)",
            bytes(resident as f64),
            bytes(limit as f64)
        ),
    }
}

/// Refuses a run over the limits, saying how to shorten it.
pub fn check(scenario: &Scenario, e: &Estimate, threads: usize) -> Result<(), Error> {
    let (max_events, max_memory) = limits()?;
    let over_events = e.events > max_events;
    let over_memory = e.memory_bytes > max_memory;
    if !over_events && !over_memory {
        return Ok(());
    }
    let p = &scenario.platform;
    let mut why = Vec::new();
    if over_events {
        why.push(format!(
            "{} events is over the limit of {} (CAPSIM_MAX_EVENTS)",
            si(e.events),
            si(max_events)
        ));
    }
    if over_memory {
        why.push(format!(
            "peak memory of about {} is over the limit of {} (CAPSIM_MAX_MEMORY_GIB)",
            bytes(e.memory_bytes),
            bytes(max_memory)
        ));
    }
    let mut how = Vec::new();
    if over_events {
        how.push(format!(
            "fewer replications (--replications, now {})",
            scenario.replications
        ));
        how.push(format!(
            "a shorter simulation.duration (now {}; --set simulation.duration=...)",
            p.horizon
        ));
        how.push("a lower rate (--set workload.rate_per_s=... or classes.NAME.rate_per_s)".into());
        if let Some(plan) = &scenario.windows {
            how.push(format!(
                "fewer or shorter windows (windows.count, now {}; windows.every)",
                plan.count
            ));
        }
    }
    if over_memory && e.backlog > 0.0 {
        how.push(format!(
            "more capacity or a lower rate: the platform is overloaded, and about {} requests and events would pile up in each replication",
            si(e.backlog)
        ));
    }
    if over_memory {
        how.push(format!(
            "a longer interval (--interval, now {}): the time series grow with the intervals",
            p.series_interval
        ));
        let fewer = format!(
            "fewer replications (--replications, now {}; each keeps its time series)",
            scenario.replications
        );
        if over_events {
            how[0] = fewer;
        } else {
            how.push(fewer);
        }
    }
    Err(Error::OverBudget(Box::new(OverBudget {
        scenario: scenario.name.clone(),
        why,
        estimate: describe(e, threads),
        how,
    })))
}

/// Why a run was refused, and how to make it fit.
#[derive(Clone, Debug, PartialEq)]
pub struct OverBudget {
    pub scenario: String,
    /// Each limit exceeded, with the figures.
    pub why: Vec<String>,
    /// The estimate, one line ([`describe`]).
    pub estimate: String,
    /// What would bring it under the limits.
    pub how: Vec<String>,
}

impl OverBudget {
    /// `scenario: why`.
    pub fn reason(&self) -> String {
        format!("{}: {}", self.scenario, self.why.join("; "))
    }

    /// `shorten it with …; or pass --force to run it anyway`.
    pub fn remedy(&self) -> String {
        format!(
            "shorten it with {}; or pass --force to run it anyway",
            self.how.join(", ")
        )
    }
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}\n{}", self.reason(), self.estimate, self.remedy())
    }
}

/// Peak resident memory of this process so far, bytes (Linux; `None`
/// elsewhere).
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

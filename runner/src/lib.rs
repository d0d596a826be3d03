//! Running capsim scenarios, as a library: the `capsim` command parses its
//! flags, calls these and prints; a notebook or another program can call
//! them the same way.
//!
//! ```text
//!   name or file ──load──► Scenario ──run::execute──► Outcome (summary or windows report,
//!        │                    │                        files written, events, wall time)
//!        │                    └── budget::gate (events and memory, before anything runs),
//!        │                        budget::arm (the same limits while it runs)
//!        └─ sweep::spec ──► sweep::plan ──► Planned::prepare (shard, resume) ──► Pending::run
//!                                            points/NNNNN.json as each finishes ──► SweepOutcome
//!           sweep::merge (shards' directories) ──► the same files as an unsharded sweep
//! ```
//!
//! A run is stopped through its [`RunControl`] (the CLI sets it on Ctrl-C;
//! its budget sets it over a limit): what finished is written, and the
//! outcome says so and why ([`StopReason`]).

pub mod budget;
pub mod error;
pub mod headroom;
mod outcome;
pub mod run;
pub mod sensitivity;
pub mod sweep;
pub mod validate;
mod windows;

pub use capsim_models::RunControl;
pub use error::Error;
pub use run::{Interruption, Outcome, RunOptions, StopReason};

use capsim_scenarios::{Override, Scenario, Source};

/// The most worker threads per core [`threads`] accepts. Each replication
/// is single-threaded and CPU-bound, so threads beyond the cores only share
/// them (and each holds a replication in memory); a few per core leave room
/// for a core count that undercounts, while `--threads 100000` by mistake
/// is refused instead of loading the host with as many threads.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// Worker threads for `--threads n`: one per core for 0, else `n` if at
/// most [`MAX_THREADS_PER_CORE`] per core.
pub fn threads(n: usize) -> Result<usize, Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cores * MAX_THREADS_PER_CORE;
    match n {
        0 => Ok(cores),
        n if n > max => Err(Error::Input(format!(
            "--threads {n}: at most {max} ({MAX_THREADS_PER_CORE} per core, {cores} core{} here); 0 runs one per core, and results do not depend on it",
            if cores == 1 { "" } else { "s" }
        ))),
        n => Ok(n),
    }
}

/// Overrides from `--set PATH=VALUE` texts and the flags that are
/// shorthands for them (seed, replications, series interval).
pub fn overrides(
    sets: &[String],
    seed: Option<u64>,
    replications: Option<u64>,
    interval: Option<&str>,
) -> Result<Vec<Override>, Error> {
    let mut out = Vec::with_capacity(sets.len() + 3);
    for s in sets {
        out.push(Override::parse(s).map_err(|m| Error::Input(format!("--set {s}: {m}")))?);
    }
    let int_flag = |flag: &str, path: &str, v: u64| -> Result<Override, Error> {
        let v = i64::try_from(v)
            .map_err(|_| Error::Input(format!("{flag} must be at most {}", i64::MAX)))?;
        Override::parse(&format!("{path}={v}")).map_err(Error::Input)
    };
    if let Some(seed) = seed {
        let mut ov = int_flag("--seed", "simulation.seed", seed)?;
        ov.raw = format!("from --seed {seed}");
        out.push(ov);
    }
    if let Some(n) = replications {
        let mut ov = int_flag("--replications", "simulation.replications", n)?;
        ov.raw = format!("from --replications {n}");
        out.push(ov);
    }
    if let Some(every) = interval {
        let mut ov = Override::parse(&format!("simulation.interval={every}"))
            .map_err(|m| Error::Input(format!("--interval {every}: {m}")))?;
        ov.raw = format!("from --interval {every}");
        out.push(ov);
    }
    Ok(out)
}

/// Resolves a scenario by file or bundled name, applies its `variant`, then
/// `overrides`. Returns the source, every override applied (the variant's
/// first), and the scenario.
pub fn load(
    scenario: &str,
    variant: Option<&str>,
    overrides: Vec<Override>,
) -> Result<(Source, Vec<Override>, Scenario), Error> {
    let source = capsim_scenarios::resolve(scenario)?;
    let (all, scenario) = source.load_variant(variant, overrides)?;
    Ok((source, all, scenario))
}

/// Simulated milliseconds a run of `scenario` goes through, over all its
/// replications and windows: the total of `RunControl::progress_ms`.
pub fn simulated_ms(scenario: &Scenario) -> u64 {
    let windows = scenario.windows.as_ref().map_or(1, |w| w.count as u64);
    scenario.replications * windows * (scenario.platform.horizon.as_nanos() / 1_000_000)
}

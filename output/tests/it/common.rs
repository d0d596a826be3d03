//! Runs a scenario's replications and summarises them as the CLI does.

use capsim_models::{ReplicationResult, RunControl, RunDescription, run_replications};
use capsim_output::{RunInfo, Summary};
use capsim_scenarios::{Override, load_str};

/// A scenario run: its description, summary and replications.
pub struct Ran {
    pub run: RunDescription,
    pub summary: Summary,
    pub results: Vec<ReplicationResult>,
}

/// Loads `text` (named `source`) with `overrides`, runs every replication
/// on one thread and summarises them.
pub fn run_summarized(source: &str, text: &str, overrides: &[Override]) -> Ran {
    let s = load_str(source, text, overrides).unwrap_or_else(|e| panic!("{e}"));
    let results: Vec<ReplicationResult> = run_replications(
        &s.platform,
        s.seed,
        s.replications,
        0,
        &RunControl::default(),
    )
    .unwrap()
    .into_iter()
    .map(Option::unwrap)
    .collect();
    let run = RunDescription::new(&s.platform);
    let summary = Summary::new(
        &RunInfo {
            run: &run,
            scenario: &s.name,
            description: &s.description,
            seed: s.seed,
            simulated_seconds: s.platform.horizon.as_secs_f64(),
            warmup_seconds: s.platform.warmup.as_secs_f64(),
            wall_seconds: 0.0,
            threads: 1,
        },
        &results,
    );
    Ran {
        run,
        summary,
        results,
    }
}

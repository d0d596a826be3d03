//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "capsim",
    version,
    about = "Discrete-event capacity simulator for web platforms",
    long_about = "Discrete-event capacity simulator for web platforms.\n\n\
        Describe a stack and its traffic in a scenario file (TOML), run replications, and get \
        latency percentiles with confidence intervals.\n\n\
        Exit codes: 0 success, 1 an objective was breached (with `run --check`), 2 bad input \
        or usage, 3 the run failed (e.g. output not writable)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (a file, or a bundled scenario's name)
    Run(RunArgs),
    /// Check a scenario without running it
    Validate(ValidateArgs),
    /// List or print the bundled scenarios
    #[command(subcommand)]
    Scenarios(ScenariosCommand),
    /// Print the instance catalogue (prices, vCPUs, memory, sources)
    Catalogue,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML) or bundled scenario name (see `capsim scenarios list`)
    pub scenario: String,

    /// Directory for output files (summary.json, report.md, timeseries.csv,
    /// latency.csv, events.csv, plots/); created if missing
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Master seed (overrides simulation.seed)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Number of independent replications (overrides simulation.replications)
    #[arg(long, value_name = "N")]
    pub replications: Option<u64>,

    /// Worker threads; 0 = one per core. Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Override a scenario field by its dotted path, e.g. --set tiers.api.servers=4
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,

    /// Interval of timeseries.csv and the plots, e.g. 30s or 5m (overrides
    /// simulation.interval; default 1m)
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,

    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print summary.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// Exit with code 1 if any objective ([[slos]]) was breached in any
    /// replication, 0 if all held: a CI gate for policy changes
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario file (TOML) or bundled scenario name
    pub scenario: String,

    /// Override a field as `run --set` does
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ScenariosCommand {
    /// List the bundled scenarios
    List,
    /// Print a bundled scenario's file, to copy and edit
    Show {
        /// Bundled scenario name
        name: String,
    },
}

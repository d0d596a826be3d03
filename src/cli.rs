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
        Exit codes: 0 success, 1 an objective was breached or an expectation contradicted (with `run --check`) or no point \
        meets every objective (with `sweep --check`), 2 bad input \
        or usage, or over the event or memory budget (CAPSIM_MAX_EVENTS, CAPSIM_MAX_MEMORY_GIB; \
        a run stopped by it keeps what finished), 3 the run failed (e.g. an output file or stdout not writable), 130 \
        interrupted (Ctrl-C: what finished is written, marked as interrupted). A reader that \
        closes stdout early (`| head`) is not an error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario (a file, or a bundled scenario's name)
    Run(RunArgs),
    /// Run a scenario over a grid or a Latin hypercube of parameter values
    Sweep(SweepArgs),
    /// Combine the output directories of sweep shards (--shard K/N) into the
    /// files one unsharded sweep writes
    Merge(MergeArgs),
    /// Find the largest traffic multiplier at which every objective still
    /// holds, and what breaks first
    Headroom(HeadroomArgs),
    /// Move each numeric input by ±x% alone and rank the inputs by their
    /// effect on latency and cost
    Sensitivity(SensitivityArgs),
    /// Check a scenario without running it, and estimate what running it
    /// costs (requests, events, time, memory)
    Validate(ValidateArgs),
    /// Two run directories or scenarios side by side: every figure, the
    /// difference and its 95% CI (paired when the seeds allow)
    Compare(crate::compare::CompareArgs),
    /// List or print the bundled scenarios
    #[command(subcommand)]
    Scenarios(ScenariosCommand),
    /// Print a price catalogue (prices, vCPUs, memory, billing, sources and
    /// dates): the default aws-us-east-1, a bundled one by name, or a
    /// catalogue file, which is checked first; --list lists the bundled ones
    Catalogue(CatalogueArgs),
    /// Make a commented scenario from OpenTelemetry spans (OTLP JSON lines,
    /// the Collector's file exporter format); see docs/calibrate.md
    Calibrate(CalibrateArgs),
    /// Print the JSON Schema of the scenario format, for editors
    /// (e.g. `capsim schema > capsim.schema.json`, then `#:schema
    /// ./capsim.schema.json` atop a scenario with Taplo / Even Better TOML)
    Schema,
}

#[derive(Debug, Args)]
pub struct CatalogueArgs {
    /// A bundled catalogue's name (see --list) or the path of a catalogue
    /// file (default: aws-us-east-1)
    pub catalogue: Option<String>,

    /// List the bundled catalogues: provider, region, types, dates
    #[arg(long, conflicts_with = "catalogue")]
    pub list: bool,
}

/// Which scenario, and what to change in it: shared by `run` and `validate`.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// Scenario file (TOML) or bundled scenario name (see `capsim scenarios list`)
    pub scenario: String,

    /// Master seed (overrides simulation.seed)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Number of independent replications (overrides simulation.replications)
    #[arg(long, value_name = "N")]
    pub replications: Option<u64>,

    /// Override a scenario field by its dotted path, e.g. --set tiers.api.servers=4
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,

    /// Apply the scenario's [variants.NAME] (a named list of --set
    /// overrides, listed by `capsim scenarios list`) before any --set
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,

    /// Interval of timeseries.csv and the plots, e.g. 30s or 5m (overrides
    /// simulation.interval; default 1m)
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,

    /// Of a scenario run in [windows], run window K (from 1) alone, as one
    /// horizon: its traffic as the chain draws it, from the scenario's
    /// starting fleet
    #[arg(long, value_name = "K")]
    pub window: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,

    /// Directory for output files (summary.json, report.md, timeseries.csv,
    /// latency.csv, events.csv, plots/); created if missing
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Worker threads; 0 = one per core, at most 4 per core. Results do not
    /// depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print summary.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// Exit with code 1 if any objective ([[slos]]) was breached in any
    /// replication or the run contradicts an expectation
    /// ([[expectations]]), 0 if all held: a CI gate for policy changes
    #[arg(long)]
    pub check: bool,

    /// Run even if the estimated cost (see `capsim validate`) is over the
    /// limits: 2e10 events or 8 GiB of memory
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    capsim sweep step-policy --param 'tiers.app.scaling.policies[0].above=0.5,0.6,0.7' \\\n    \
    --param 'tiers.app.scaling.policies[0].cooldown=2m,5m' --out sweep-out\n  \
    capsim sweep step-policy --param tiers.app.scaling.max=6..20 \\\n    \
    --param 'tiers.app.scaling.policies[0].above=0.5..0.9' --sample latin:20 --out lhs-out\n  \
    capsim sweep my-sweep.toml --out sweep-out --shard 2/4\n\n\
    Every point runs replication j with the same random streams as the baseline (the \
    scenario as written), so its differences to the baseline are paired. Re-running with \
    the same --out skips the points already done. See docs/sweeps.md.")]
pub struct SweepArgs {
    /// Scenario file, bundled scenario name, or sweep file (TOML with a
    /// [sweep] table; see docs/sweeps.md)
    pub scenario: String,

    /// A field to vary and its values: PATH=V1,V2,... for a grid, or
    /// PATH=LOW..HIGH (numbers or durations) with --sample latin:N.
    /// Repeat for more fields (each at most once); the grid is every
    /// combination.
    #[arg(long = "param", value_name = "PATH=VALUES")]
    pub params: Vec<String>,

    /// How to choose points: grid (default) or latin:N, N points of a Latin
    /// hypercube over the ranges and lists
    #[arg(long, value_name = "grid|latin:N")]
    pub sample: Option<String>,

    /// Directory for sweep.csv, pareto.csv, sweep.json, plots/ and one file
    /// per point (points/); created if missing. Re-using it resumes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Run only the K-th of N shares of the points (1 ≤ K ≤ N); combine the
    /// shards' directories with `capsim merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// The latency figure of the Pareto front and the table: mean, p50, p90,
    /// p95, p99 (default) or p999
    #[arg(long, value_name = "FIGURE")]
    pub metric: Option<String>,

    /// Master seed (overrides simulation.seed)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Replications per point (overrides simulation.replications)
    #[arg(long, value_name = "N")]
    pub replications: Option<u64>,

    /// Worker threads; 0 = one per core, at most 4 per core. Results do not
    /// depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Override a field for every point (and the baseline), as `run --set`
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,

    /// Start every point (and the baseline) from the scenario's
    /// [variants.NAME], as `run --variant`; --set applies after it
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,

    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print sweep.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// Exit with code 1 if no point meets every objective ([[slos]]) in
    /// every replication, 0 if one does: a CI gate
    #[arg(long)]
    pub check: bool,

    /// Run even if the estimated cost of the points to run is over the
    /// limits: 2e10 events or 8 GiB of memory
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    capsim headroom step-policy --out headroom-out\n  \
    capsim headroom black-friday --class order --step 0.25\n  \
    capsim headroom geo-expansion --region ap-south --replications 5\n\n\
    Every probe runs the scenario with its traffic times m, with the same seed and \
    replications (common random numbers). The answer is a bracket: the largest m where \
    no replication breached an objective, and the first where some and where all did. \
    Re-running with the same --out reuses the probes done. See docs/explain.md.")]
pub struct HeadroomArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,

    /// Scale only this class's traffic (classes.NAME.multiplier)
    #[arg(long, value_name = "NAME")]
    pub class: Option<String>,

    /// Scale only the traffic of this region's users (regions.NAME.multiplier)
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,

    /// Resolution of the multiplier (1 must be a whole number of steps)
    #[arg(long, value_name = "X", default_value_t = 0.1)]
    pub step: f64,

    /// The largest multiplier to try
    #[arg(long, value_name = "X", default_value_t = 100.0)]
    pub max: f64,

    /// The latency figure shown: mean, p50, p90, p95, p99 (default) or p999
    #[arg(long, value_name = "FIGURE", default_value = "p99")]
    pub metric: String,

    /// Directory for report.md, headroom.json, headroom.csv, plots/ and the
    /// probes (probes/); created if missing. Re-using it resumes.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Worker threads; 0 = one per core, at most 4 per core. Results do not
    /// depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print headroom.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// Run probes even if their estimated cost is over the limits: 2e10
    /// events or 8 GiB of memory
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    capsim sensitivity tandem --out sens-out\n  \
    capsim sensitivity black-friday --input tiers.api.cpu.mean --input tiers.redis.hit_ratio --by 20%\n  \
    capsim sensitivity black-friday --out sens-out --shard 1/4   (then capsim merge)\n\n\
    Without --input every number and duration of the scenario file is moved (not \
    [simulation], [[slos]], shares or branch probabilities). Every point runs with the \
    baseline's seed and replications, so each difference has a paired CI. It is a sweep \
    underneath: re-running with the same --out resumes, --shard and `capsim merge` spread it \
    over machines. See docs/explain.md.")]
pub struct SensitivityArgs {
    /// Scenario file or bundled scenario name
    pub scenario: String,

    /// A field to move (its dotted path, as --set takes it); repeat for
    /// more. Default: every numeric input of the scenario file
    #[arg(long = "input", value_name = "PATH")]
    pub inputs: Vec<String>,

    /// How far to move each input, down and up: a percentage, e.g. 10%
    #[arg(long, value_name = "PERCENT", default_value = "10%")]
    pub by: String,

    /// The latency figure ranked: mean, p50, p90, p95, p99 (default) or p999
    #[arg(long, value_name = "FIGURE", default_value = "p99")]
    pub metric: String,

    /// Directory for report.md, sensitivity.csv, sensitivity.json,
    /// plots/tornado, the sweep's files and its points; created if missing.
    /// Re-using it resumes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Run only the K-th of N shares of the points; combine with `capsim merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// Of a scenario run in [windows], analyse window K (from 1) alone
    #[arg(long, value_name = "K")]
    pub window: Option<u32>,

    /// Master seed (overrides simulation.seed)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Replications per point (overrides simulation.replications)
    #[arg(long, value_name = "N")]
    pub replications: Option<u64>,

    /// Override a field for every point (and the baseline), as `run --set`
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,

    /// Worker threads; 0 = one per core, at most 4 per core. Results do not
    /// depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Inputs shown in the terminal table (all are in the files)
    #[arg(long, value_name = "N", default_value_t = 15)]
    pub top: usize,

    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,

    /// Print sensitivity.json to stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// Run even if the estimated cost of the points is over the limits:
    /// 2e10 events or 8 GiB of memory
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output directories of the shards (`capsim sweep ... --shard K/N --out DIR`)
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,

    /// Directory for the merged sweep (may be one of the shards' directories)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario as `run` would take it (the estimate counts its
    /// replications and intervals)
    #[command(flatten)]
    pub input: ScenarioArgs,

    /// Threads the cost estimate assumes (replications at once); 0 = one
    /// per core, at most 4 per core
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Span files: one OTLP JSON ExportTraceServiceRequest per line
    #[arg(required = true, value_name = "SPANS")]
    pub spans: Vec<PathBuf>,

    /// The scenario file to write (atomically)
    #[arg(long, value_name = "FILE", default_value = "scenario.toml")]
    pub out: PathBuf,

    /// Scenario name (default: the output file's stem)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Fewest requests a route needs to be fitted; a rarer route is an error
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub min_samples: u64,

    /// The API serves requests on threads or several cores, not one event
    /// loop per process: keep other requests' CPU time inside waits, and
    /// write a request's CPU as one burst
    #[arg(long)]
    pub threaded: bool,

    /// Replace the output file if it exists
    #[arg(long)]
    pub force: bool,

    /// Print nothing but errors (and no progress bar)
    #[arg(long, short)]
    pub quiet: bool,
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

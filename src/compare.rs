//! `capsim compare A B`: two run directories, two scenarios (run here with
//! common random numbers), or one of each, side by side.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use capsim_models::RunDescription;
use capsim_output::compare::{Comparison, Side};
use capsim_output::replications::ReplicationTable;
use capsim_runner::RunOptions;
use capsim_runner::run::Results;
use capsim_scenarios::Scenario;

use crate::Failure;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    capsim compare before/ after/            two `capsim run --out` directories\n  \
    capsim compare black-friday black-friday --set-b tiers.web.instances=12\n  \
    capsim compare geo-expansion geo-expansion --variant-a single-region --markdown\n  \
    capsim compare before/ candidate.toml     runs the scenario with before/'s seed and replications\n\n\
    Two runs with the same seed and replications pair by replication (common random numbers): \
    each difference's interval comes from the per-replication differences, as a sweep's do. \
    Otherwise the interval is Welch's, unpaired, and the output says why. See docs/outputs.md.")]
pub struct CompareArgs {
    /// A: a run directory (`capsim run --out DIR`), a scenario file or a
    /// bundled scenario name
    pub a: String,

    /// B, as A; differences are B − A
    pub b: String,

    /// Master seed of the scenarios run here (default: the scenario's, or
    /// that of the run directory on the other side)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Replications of the scenarios run here (default: as --seed)
    #[arg(long, value_name = "N")]
    pub replications: Option<u64>,

    /// Override a field of both scenarios, as `run --set`
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,

    /// Override a field of scenario A only (after --set)
    #[arg(long = "set-a", value_name = "PATH=VALUE")]
    pub sets_a: Vec<String>,

    /// Override a field of scenario B only (after --set)
    #[arg(long = "set-b", value_name = "PATH=VALUE")]
    pub sets_b: Vec<String>,

    /// Apply scenario A's [variants.NAME] first
    #[arg(long, value_name = "NAME")]
    pub variant_a: Option<String>,

    /// Apply scenario B's [variants.NAME] first
    #[arg(long, value_name = "NAME")]
    pub variant_b: Option<String>,

    /// Every figure (per unit, retries, those 0 on both sides, ...), not
    /// only the key ones
    #[arg(long)]
    pub all: bool,

    /// Print a markdown table (for a pull request) instead of the terminal table
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,

    /// Print the comparison as JSON: every figure, both sides and the difference
    #[arg(long)]
    pub json: bool,

    /// Worker threads; 0 = one per core, at most 4 per core. Results do not
    /// depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Run even if a scenario's estimated cost is over the limits
    #[arg(long)]
    pub force: bool,

    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

/// One side before it runs: a finished run read from its directory, or a
/// scenario to run.
enum Input {
    Dir(Side),
    Scenario {
        source: String,
        scenario: Box<Scenario>,
    },
}

pub fn compare(args: CompareArgs) -> Result<(), Failure> {
    let threads = capsim_runner::threads(args.threads)?;
    let dir_a = read_side("A", &args.a)?;
    let dir_b = read_side("B", &args.b)?;
    // A scenario against a run directory runs as that run did, so the two pair.
    let run_as = |d: &Option<Side>| {
        d.as_ref()
            .map(|s| (s.table.seed, s.table.replications.len() as u64))
    };
    let (as_a, as_b) = (run_as(&dir_a), run_as(&dir_b));
    let a = prepare(&args, "A", &args.a, dir_a, as_b)?;
    let b = prepare(&args, "B", &args.b, dir_b, as_a)?;
    let control = &crate::interrupt::CONTROL;
    let scenarios = [&a, &b].map(|i| match i {
        Input::Scenario { scenario, .. } => {
            Some((capsim_runner::simulated_ms(scenario), scenario.replications))
        }
        Input::Dir(_) => None,
    });
    let to_run = scenarios.iter().flatten().count();
    let total_ms: u64 = scenarios.iter().flatten().map(|s| s.0).sum();
    let replications: u64 = scenarios.iter().flatten().map(|s| s.1).sum();
    let finished = AtomicBool::new(false);
    let opts = RunOptions {
        threads,
        out: None,
        force: args.force,
    };
    let (a, b) = std::thread::scope(|scope| {
        if to_run > 0 && crate::progress::wanted(args.quiet) {
            scope.spawn(|| crate::progress::show(control, total_ms, replications, &finished));
        }
        let sides = run(a, &opts).and_then(|a| Ok((a, run(b, &opts)?)));
        finished.store(true, Ordering::Relaxed);
        sides
    })?;
    let c = Comparison::new(&a, &b).map_err(Failure::Input)?;
    let text = if args.json {
        c.to_json()
    } else if args.markdown {
        c.markdown(args.all).into_bytes()
    } else {
        c.table(args.all).into_bytes()
    };
    crate::out::print(text)
}

/// The scenario of a side that is not a run directory, with the flags
/// applied; a directory side as it is.
fn prepare(
    args: &CompareArgs,
    which: &str,
    spec: &str,
    dir: Option<Side>,
    other_dir: Option<(u64, u64)>,
) -> Result<Input, Failure> {
    if let Some(side) = dir {
        return Ok(Input::Dir(side));
    }
    let (variant, own) = if which == "A" {
        (args.variant_a.as_deref(), &args.sets_a)
    } else {
        (args.variant_b.as_deref(), &args.sets_b)
    };
    if !Path::new(spec).exists() && (spec.contains('/') || spec.ends_with(".toml")) {
        return Err(Failure::Input(format!(
            "{which}: {spec}: no such run directory or scenario file"
        )));
    }
    let sets: Vec<String> = args.sets.iter().chain(own).cloned().collect();
    let seed = args.seed.or(other_dir.map(|o| o.0));
    let replications = args.replications.or(other_dir.map(|o| o.1));
    let overrides = capsim_runner::overrides(&sets, seed, replications, None)?;
    let (_, applied, scenario) = capsim_runner::load(spec, variant, overrides)
        .map_err(|e| Failure::Input(format!("{which}: {e}")))?;
    if scenario.windows.is_some() {
        return Err(Failure::Input(format!(
            "{which}: {spec} runs in [windows]: compare takes runs without them (compare its windows.csv instead)"
        )));
    }
    let mut source = spec.to_string();
    if let Some(v) = variant {
        source.push_str(&format!(" --variant {v}"));
    }
    for o in applied.iter().filter(|o| !o.raw.starts_with("from ")) {
        source.push_str(&format!(" --set {}", o.raw));
    }
    Ok(Input::Scenario {
        source,
        scenario: Box::new(scenario),
    })
}

/// Runs a scenario side (nothing written) into its per-replication figures.
fn run(input: Input, opts: &RunOptions) -> Result<Side, Failure> {
    let (source, scenario) = match input {
        Input::Dir(side) => return Ok(side),
        Input::Scenario { source, scenario } => (source, scenario),
    };
    let outcome = capsim_runner::run::execute(&scenario, opts, &crate::interrupt::CONTROL)?;
    if let Some(e) = outcome.interruption() {
        return Err(e.into());
    }
    let Results::Run {
        summary,
        replications,
    } = &outcome.results
    else {
        unreachable!("a scenario without [windows] runs replications");
    };
    let run = RunDescription::new(&scenario.platform);
    Ok(Side {
        source,
        table: ReplicationTable::of(&run, summary, replications),
    })
}

/// The run in directory `spec`, or `None` when `spec` is not a directory
/// (then it names a scenario). An error names the file at fault.
fn read_side(which: &str, spec: &str) -> Result<Option<Side>, Failure> {
    let dir = Path::new(spec);
    if !dir.is_dir() {
        return Ok(None);
    }
    let bad = |m: String| Failure::Input(format!("{which}: {m}"));
    let summary_path = dir.join("summary.json");
    if !summary_path.exists() {
        let what = if dir.join("windows.json").exists() {
            "is a run in [windows] (windows.json): compare takes runs without them"
        } else if dir.join("sweep.json").exists() || dir.join("sweep-plan.json").exists() {
            "is a sweep's directory: its points are compared in its sweep.csv (or `capsim run` two points with --out)"
        } else {
            "has no summary.json: not the directory of a `capsim run --out`"
        };
        return Err(bad(format!("{} {what}", dir.display())));
    }
    let text = std::fs::read(&summary_path)
        .map_err(|e| bad(format!("cannot read {}: {e}", summary_path.display())))?;
    let summary: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        bad(format!(
            "{}: not JSON ({e}): a damaged or partial file?",
            summary_path.display()
        ))
    })?;
    let field = |k: &str| {
        summary.get(k).ok_or_else(|| {
            bad(format!(
                "{}: no `{k}` field: not a capsim summary",
                summary_path.display()
            ))
        })
    };
    let scenario = field("scenario")?.as_str().unwrap_or_default().to_string();
    let seed = field("seed")?.as_u64();
    let replications = field("replications")?.as_u64();
    let csv_path = dir.join("replications.csv");
    let bytes = std::fs::read(&csv_path).map_err(|e| {
        bad(if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{} is missing: compare needs each replication's figures, which `capsim run --out` writes there; run it again",
                csv_path.display()
            )
        } else {
            format!("cannot read {}: {e}", csv_path.display())
        })
    })?;
    let table = ReplicationTable::from_csv(&bytes)
        .map_err(|m| bad(format!("{}: {m}", csv_path.display())))?;
    if table.scenario != scenario
        || Some(table.seed) != seed
        || Some(table.replications.len() as u64) != replications
    {
        return Err(bad(format!(
            "{} is not from the run of {} (scenario, seed or replications differ)",
            csv_path.display(),
            summary_path.display()
        )));
    }
    Ok(Some(Side {
        source: dir.display().to_string(),
        table,
    }))
}

//! The `capsim` command.

mod calibrate;
mod cli;
mod compare;
mod gha;
mod headroom;
mod interrupt;
mod out;
mod progress;
mod run;
mod sensitivity;
mod sweep;

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use capsim_scenarios::{Override, ScenarioError, library};
use cli::{Cli, Command, ScenariosCommand};

/// How a command failed; decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// `run --check` found a breached objective: exit 1 (outputs are written).
    SloBreached(Vec<String>),
    /// `run --check` found results that contradict the scenario's
    /// expectations (and maybe breached objectives): exit 1.
    Contradicted {
        breached: Vec<String>,
        contradicted: Vec<String>,
    },
    /// Bad input or usage: exit 2.
    Input(String),
    /// The run itself failed (I/O, threads, a plot): exit 3.
    Run(String),
    /// Ctrl-C: what finished was written; exit 130.
    Interrupted(String),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

impl From<capsim_runner::Error> for Failure {
    fn from(e: capsim_runner::Error) -> Self {
        match e {
            capsim_runner::Error::Interrupted(m) => Failure::Interrupted(m),
            e if e.is_input() => Failure::Input(e.to_string()),
            e => Failure::Run(e.to_string()),
        }
    }
}

pub const EXIT_SLO: u8 = 1;
pub const EXIT_INPUT: u8 = 2;
pub const EXIT_RUN: u8 = 3;

impl cli::ScenarioArgs {
    /// Resolves the scenario by file or bundled name, applies its
    /// `--variant`, then `--set` and the flags that are shorthands for it.
    /// Returns the source, the overrides applied, and the scenario.
    pub fn load(
        &self,
    ) -> Result<
        (
            capsim_scenarios::Source,
            Vec<Override>,
            capsim_scenarios::Scenario,
        ),
        Failure,
    > {
        let overrides = capsim_runner::overrides(
            &self.overrides,
            self.seed,
            self.replications,
            self.interval.as_deref(),
        )?;
        let (source, applied, scenario) =
            capsim_runner::load(&self.scenario, self.variant.as_deref(), overrides)?;
        let scenario = match self.window {
            Some(_) => scenario
                .one_window(self.window)
                .map_err(capsim_runner::Error::Input)?,
            None => scenario,
        };
        if scenario.replications == 1 {
            out::warn(
                "note: 1 replication: the figures carry no confidence interval (ci95 is null in summary.json, ± is blank); give 2 or more for one",
            );
        }
        Ok((source, applied, scenario))
    }
}

/// What `--window K` leaves out, said where it matters (after the first).
pub(crate) fn window_note(window: Option<u32>) {
    if let Some(k) = window.filter(|&k| k > 1) {
        out::warn(&format!(
            "note: window {k} runs alone, from the scenario's starting fleet; the chain reaches it with the fleet its windows.csv gives for window {k}: --set the tiers' counts to start there"
        ));
    }
}

/// `capsim catalogue`: print one catalogue's text, or list the bundled.
fn catalogue(args: cli::CatalogueArgs) -> Result<(), Failure> {
    use capsim_scenarios::catalogue::{self as cat, Catalogue};
    if args.list {
        let mut text = String::new();
        for (name, _) in cat::BUNDLED {
            let c = Catalogue::bundled_named(name).expect("bundled");
            let mut dates: Vec<&str> = c.instances.values().map(|t| t.date.as_str()).collect();
            dates.sort_unstable();
            dates.dedup();
            let services: Vec<&str> = [
                cat::Service::Compute,
                cat::Service::Database,
                cat::Service::Cache,
            ]
            .into_iter()
            .filter(|s| !c.names_of(*s).is_empty())
            .map(|s| c.service_label(s))
            .collect();
            let _ = writeln!(
                text,
                "{name:16}  {} {} ({}), {} types: {}; prices dated {}{}",
                c.meta.provider,
                c.meta.region,
                c.meta.currency,
                c.instances.len(),
                services.join(", "),
                dates.join(", "),
                if *name == cat::DEFAULT {
                    "  [default]"
                } else {
                    ""
                }
            );
        }
        return out::print(text);
    }
    let name = args.catalogue.as_deref().unwrap_or(cat::DEFAULT);
    if cat::is_path(name) {
        let path = std::path::Path::new(name);
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Input(format!("cannot read the catalogue file {name}: {e}")))?;
        Catalogue::parse(&text, name).map_err(Failure::Input)?;
        return out::print(text);
    }
    match cat::BUNDLED.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => out::print(*text),
        None => Err(Failure::Input(
            cat::choose(name, None).err().unwrap_or_default(),
        )),
    }
}

fn scenarios(cmd: ScenariosCommand) -> Result<(), Failure> {
    match cmd {
        ScenariosCommand::List => {
            let width = library::all()
                .iter()
                .map(|b| b.name.len())
                .max()
                .unwrap_or(0);
            let mut text = String::new();
            for b in library::all() {
                let s = capsim_scenarios::load_str(b.name, b.text, &[])?;
                let _ = writeln!(text, "{:width$}  {}", b.name, s.description);
                for v in &s.variants {
                    let _ = writeln!(
                        text,
                        "{:width$}    --variant {}: {}",
                        "", v.name, v.description
                    );
                }
            }
            out::print(text)
        }
        ScenariosCommand::Show { name } => match library::find(&name) {
            Some(b) => out::print(b.text),
            None => {
                let names: Vec<&str> = library::all().iter().map(|b| b.name).collect();
                Err(Failure::Input(format!(
                    "no bundled scenario \"{name}\" (bundled: {})",
                    names.join(", ")
                )))
            }
        },
    }
}

fn validate(args: cli::ValidateArgs) -> Result<(), Failure> {
    let threads = capsim_runner::threads(args.threads)?;
    let (source, overrides, s) = args.input.load()?;
    out::print(capsim_runner::validate::report(
        &source, &overrides, &s, threads,
    )?)
}

/// The scenario's capacity check: over the long horizon for a chain of
/// windows.
pub fn capacity(s: &capsim_scenarios::Scenario) -> capsim_models::laws::CapacityCheck {
    capsim_runner::validate::capacity(s)
}

/// Parse errors, `--help` and `--version`, as clap prints them; help and
/// version go to stdout, so a failure to write them is exit 3 as for any
/// output.
fn clap_exit(e: clap::Error) -> ExitCode {
    let code = ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_INPUT));
    let printed = e.print().and_then(|()| std::io::stdout().flush());
    match printed {
        Err(io) if !e.use_stderr() => match out::failed(io) {
            Ok(()) => code,
            Err(failure) => report(Err(failure)),
        },
        _ => code,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    if matches!(
        cli.command,
        Command::Run(_)
            | Command::Sweep(_)
            | Command::Compare(_)
            | Command::Headroom(_)
            | Command::Sensitivity(_)
    ) {
        interrupt::install();
    }
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => sweep::merge(args),
        Command::Headroom(args) => headroom::headroom(args),
        Command::Sensitivity(args) => sensitivity::sensitivity(args),
        Command::Validate(args) => validate(args),
        Command::Compare(args) => compare::compare(args),
        Command::Calibrate(args) => calibrate::calibrate(args),
        Command::Scenarios(cmd) => scenarios(cmd),
        Command::Schema => {
            let schema = capsim_scenarios::schema::scenario_schema();
            let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value");
            text.push('\n');
            out::print(text)
        }
        Command::Catalogue(args) => catalogue(args),
    };
    report(result)
}

/// The exit code of a command's result, with its message on stderr.
fn report(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::SloBreached(names)) => {
            out::warn(&format!(
                "check failed: objective breached: {}",
                names.join(", ")
            ));
            ExitCode::from(EXIT_SLO)
        }
        Err(Failure::Contradicted {
            breached,
            contradicted,
        }) => {
            if !breached.is_empty() {
                out::warn(&format!(
                    "check failed: objective breached: {}",
                    breached.join(", ")
                ));
            }
            for c in contradicted {
                out::warn(&format!("check failed: the run contradicts {c}"));
            }
            ExitCode::from(EXIT_SLO)
        }
        Err(Failure::Input(msg)) => {
            for line in msg.lines() {
                out::warn(&format!("error: {line}"));
            }
            ExitCode::from(EXIT_INPUT)
        }
        Err(Failure::Run(e)) => {
            out::warn(&format!("error: {e}"));
            ExitCode::from(EXIT_RUN)
        }
        Err(Failure::Interrupted(msg)) => {
            out::warn(&format!("interrupted: {msg}"));
            ExitCode::from(interrupt::EXIT_INTERRUPTED)
        }
    }
}

//! `capsim run`.

use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::Context as _;
use capsim_output::{OutputFile, RunInfo, Summary};

use crate::cli::RunArgs;
use crate::{Failure, parse_overrides};

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let overrides = parse_overrides(&args.overrides, args.seed, args.replications)?;
    let scenario = capsim_scenarios::load(&args.scenario, &overrides)?;
    let platform = &scenario.platform;
    if args.check && platform.slos.is_empty() {
        return Err(Failure::Input(format!(
            "--check gates on objectives, but {} defines none: add [[slos]] (see docs/scenario-format.md)",
            args.scenario
        )));
    }

    let threads = if args.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        args.threads
    };
    let started = Instant::now();
    let cancel = AtomicBool::new(false);
    let results = capsim_models::run_replications(
        platform,
        scenario.seed,
        scenario.replications,
        threads,
        &cancel,
    )
    .map_err(|e| Failure::Run(e.into()))?;
    let results: Vec<_> = results.into_iter().flatten().collect();
    let wall_seconds = started.elapsed().as_secs_f64();

    let summary = Summary::new(
        &RunInfo {
            platform,
            scenario: &scenario.name,
            description: &scenario.description,
            seed: scenario.seed,
            simulated_seconds: platform.horizon.as_secs_f64(),
            warmup_seconds: platform.warmup.as_secs_f64(),
            wall_seconds,
            threads,
        },
        &results,
    );
    let json = summary.to_json();

    let mut written = Vec::new();
    if let Some(dir) = &args.out {
        let series = capsim_output::time_series(platform, &results);
        let mut files = vec![
            OutputFile {
                relative: "summary.json".into(),
                bytes: json.clone(),
            },
            OutputFile {
                relative: "events.csv".into(),
                bytes: capsim_output::events_csv(platform, &results),
            },
            OutputFile {
                relative: "timeseries.csv".into(),
                bytes: capsim_output::timeseries_csv(&series, &scenario.name, scenario.seed),
            },
            OutputFile {
                relative: "latency.csv".into(),
                bytes: capsim_output::latency_csv(
                    platform,
                    &scenario.name,
                    scenario.seed,
                    &results,
                ),
            },
        ];
        files.extend(
            capsim_output::plots::plots(&capsim_output::plots::PlotInput {
                cfg: platform,
                summary: &summary,
                series: &series,
                results: &results,
            })
            .map_err(|e| Failure::Run(anyhow::anyhow!(e)))?,
        );
        written = capsim_output::write_all(dir, &files)
            .with_context(|| format!("writing results to {}", dir.display()))
            .map_err(Failure::Run)?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let _ = out.write_all(&json);
    } else if !args.quiet {
        let _ = out.write_all(capsim_output::table::render(&summary).as_bytes());
        if let Some(first) = results.first() {
            let timeline = capsim_output::table::scaling_timeline(platform, first, 12);
            if !timeline.is_empty() {
                let _ = writeln!(out);
                let _ = out.write_all(timeline.as_bytes());
            }
        }
        if !written.is_empty() {
            let _ = writeln!(out);
            for p in &written {
                let _ = writeln!(out, "wrote {}", p.display());
            }
        }
        let _ = writeln!(
            out,
            "\n{} events in {:.2} s on {} thread{} ({:.1} M events/s)",
            summary.engine.events,
            wall_seconds,
            threads,
            if threads == 1 { "" } else { "s" },
            summary.engine.events_per_second / 1e6
        );
    }
    if args.check {
        let breached: Vec<String> = summary
            .slos
            .iter()
            .filter(|(_, s)| !s.met)
            .map(|(n, s)| {
                format!(
                    "{n} ({} of {} replications)",
                    s.replications_breached, summary.replications
                )
            })
            .collect();
        if !breached.is_empty() {
            return Err(Failure::SloBreached(breached));
        }
    }
    Ok(())
}

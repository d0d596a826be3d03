//! `capsim run`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use capsim_models::{RunControl, RunDescription};
use capsim_output::{OutputFile, RunInfo, Summary};

use crate::Failure;
use crate::cli::RunArgs;

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let (_, _, scenario) = args.input.load()?;
    let platform = &scenario.platform;
    if args.check && platform.slos.is_empty() {
        return Err(Failure::Input(format!(
            "--check gates on objectives, but {} defines none: add [[slos]] (see docs/scenario-format.md)",
            args.input.scenario
        )));
    }

    let threads = crate::threads(args.threads);
    crate::cost::gate(&scenario, threads, 1, args.force)?;
    if let Some(plan) = scenario.windows {
        return crate::windows::run(&args, &scenario, &plan, threads);
    }
    let started = Instant::now();
    let control: &RunControl = &crate::interrupt::CONTROL;
    let finished = AtomicBool::new(false);
    let total_ms = scenario.replications * (platform.horizon.as_nanos() / 1_000_000);
    let results = std::thread::scope(|scope| {
        if crate::progress::wanted(args.quiet) {
            scope.spawn(|| {
                crate::progress::show(control, total_ms, scenario.replications, &finished)
            });
        }
        let results = capsim_models::run_replications(
            platform,
            scenario.seed,
            scenario.replications,
            threads,
            control,
        );
        finished.store(true, Ordering::Relaxed);
        results
    })
    .map_err(|e| Failure::Run(e.into()))?;
    let results: Vec<_> = results.into_iter().flatten().collect();
    let wall_seconds = started.elapsed().as_secs_f64();
    let interrupted = crate::interrupt::interrupted();
    if interrupted && results.is_empty() {
        return Err(Failure::Interrupted(format!(
            "no replication of {} had finished: nothing written",
            scenario.name
        )));
    }

    // What the outputs know of the configuration.
    let run = RunDescription::new(platform);
    let summary = Summary::new(
        &RunInfo {
            run: &run,
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
        let series = capsim_output::time_series(&run, &results);
        let file = |relative: &str, bytes: Vec<u8>| OutputFile {
            relative: relative.into(),
            bytes,
        };
        let (name, seed) = (&scenario.name, scenario.seed);
        let files = vec![
            file("summary.json", json.clone()),
            file(
                "report.md",
                capsim_output::report::report_md(&summary, &results),
            ),
            file(
                "timeseries.csv",
                capsim_output::timeseries_csv(&series, name, seed),
            ),
            file(
                "latency.csv",
                capsim_output::latency_csv(name, seed, &results),
            ),
            file(
                "events.csv",
                capsim_output::events_csv(&run, seed, &results),
            ),
        ];
        let plotted = capsim_output::plots::plots(&capsim_output::plots::PlotInput {
            run: &run,
            summary: &summary,
            series: &series,
            results: &results,
        });
        written = write_with_plots(dir, files, plotted)?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let _ = out.write_all(&json);
    } else if !args.quiet {
        let _ = out.write_all(capsim_output::table::render(&summary).as_bytes());
        if let Some(first) = results.first() {
            let timeline = capsim_output::table::scaling_timeline(first, 12);
            if !timeline.is_empty() {
                let _ = writeln!(out);
                let _ = out.write_all(timeline.as_bytes());
            }
        }
        print_footer(
            &mut out,
            &written,
            summary.engine.events,
            wall_seconds,
            threads,
        );
    }
    if interrupted {
        let wrote = match &args.out {
            Some(dir) => format!("; the outputs in {} cover those", dir.display()),
            None => String::new(),
        };
        return Err(Failure::Interrupted(format!(
            "{} of {} replications finished{wrote}; run again to complete the {}",
            results.len(),
            scenario.replications,
            scenario.replications
        )));
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

/// Writes `files` and the `plotted` plots into `dir`, atomically. A plot
/// that cannot be drawn must not cost the user the data: the other files
/// are written, then the plot's error is returned.
pub fn write_with_plots(
    dir: &Path,
    mut files: Vec<OutputFile>,
    plotted: Result<Vec<OutputFile>, String>,
) -> Result<Vec<PathBuf>, Failure> {
    let plot_error = match plotted {
        Ok(plots) => {
            files.extend(plots);
            None
        }
        Err(e) => Some(e),
    };
    let written = capsim_output::write_all(dir, &files)
        .with_context(|| format!("writing results to {}", dir.display()))
        .map_err(Failure::Run)?;
    match plot_error {
        Some(e) => Err(Failure::Run(anyhow::anyhow!(
            "{e} (the other results were written to {})",
            dir.display()
        ))),
        None => Ok(written),
    }
}

/// The files written and the engine's speed, under a run's table.
pub fn print_footer(
    out: &mut impl Write,
    written: &[PathBuf],
    events: u64,
    wall_seconds: f64,
    threads: usize,
) {
    if !written.is_empty() {
        let _ = writeln!(out);
        for p in written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
    }
    let rate = if wall_seconds > 0.0 {
        events as f64 / wall_seconds
    } else {
        0.0
    };
    let peak = crate::cost::peak_memory()
        .map(|b| format!(", peak memory {}", crate::cost::bytes(b as f64)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\n{} events in {:.2} s on {} thread{} ({:.1} M events/s{peak})",
        events,
        wall_seconds,
        threads,
        if threads == 1 { "" } else { "s" },
        rate / 1e6
    );
}

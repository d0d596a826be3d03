//! `capsim run`: the flags to a run, the run (capsim-runner), and what it
//! prints.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use capsim_runner::{RunOptions, budget};

use crate::Failure;
use crate::cli::RunArgs;

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let threads = capsim_runner::threads(args.threads)?;
    let (_, _, scenario) = args.input.load()?;
    if args.check && scenario.platform.slos.is_empty() && scenario.expectations.is_empty() {
        return Err(Failure::Input(format!(
            "--check gates on objectives and expectations, but {} defines neither: add [[slos]] or [[expectations]] (see docs/scenario-format.md)",
            args.input.scenario
        )));
    }
    if !args.quiet {
        crate::window_note(args.input.window);
        // Before the run: an overloaded tier explains a slow run and its queues.
        for w in crate::capacity(&scenario).warnings() {
            crate::out::warn(&format!("warning: {w}"));
        }
    }
    let opts = RunOptions {
        threads,
        out: args.out.clone(),
        force: args.force,
    };
    let control = &crate::interrupt::CONTROL;
    let finished = AtomicBool::new(false);
    let total_ms = capsim_runner::simulated_ms(&scenario);
    let clamped_before = sim_engine::clamped_conversions();
    let outcome = std::thread::scope(|scope| {
        if crate::progress::wanted(args.quiet) {
            scope.spawn(|| {
                crate::progress::show(control, total_ms, scenario.replications, &finished)
            });
        }
        let outcome = capsim_runner::run::execute(&scenario, &opts, control);
        finished.store(true, Ordering::Relaxed);
        outcome
    })?;

    // The counter is the process's; this process runs one scenario.
    let clamped = sim_engine::clamped_conversions() - clamped_before;
    if clamped > 0 && !args.quiet {
        crate::out::warn(&format!(
            "warning: {clamped} drawn durations were beyond about 146 years (2^62 ns) and were cut to it (a distribution's far tail): the requests that drew them never finish within the run"
        ));
    }
    if args.json {
        crate::out::print(&outcome.json)?;
    } else if !args.quiet {
        let mut text = outcome.table();
        text.push_str(&footer(
            &outcome.written,
            outcome.events,
            outcome.wall_seconds,
            outcome.threads,
        ));
        crate::out::print(text)?;
    }
    if let Some(e) = outcome.interruption() {
        return Err(e.into());
    }
    // A metric the results lack is a mistake in the scenario, found only
    // now: the files are written, the exit code says bad input.
    let problems = capsim_output::claims::problems(outcome.expectations());
    if !problems.is_empty() {
        return Err(Failure::Input(problems.join("\n")));
    }
    if args.check {
        if crate::gha::active() {
            crate::gha::run_check(&outcome, args.json)?;
        }
        let breached = outcome.breached();
        let contradicted = capsim_output::claims::contradicted(outcome.expectations());
        if !contradicted.is_empty() {
            return Err(Failure::Contradicted {
                breached,
                contradicted,
            });
        }
        if !breached.is_empty() {
            return Err(Failure::SloBreached(breached));
        }
    }
    Ok(())
}

/// The files written and the engine's speed, under a run's table.
fn footer(written: &[PathBuf], events: u64, wall_seconds: f64, threads: usize) -> String {
    let mut out = String::new();
    if !written.is_empty() {
        out.push('\n');
        for p in written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
    }
    let rate = if wall_seconds > 0.0 {
        events as f64 / wall_seconds
    } else {
        0.0
    };
    let peak = budget::peak_memory()
        .map(|b| format!(", peak memory {}", budget::bytes(b as f64)))
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
    out
}

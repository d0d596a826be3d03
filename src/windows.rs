//! `capsim run` of a scenario with `[windows]`: a long horizon as a chain
//! of windows (see `capsim_models::windows` and docs/long-horizons.md).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use capsim_models::windows::{WindowPlan, run_windows};
use capsim_models::{RunControl, RunDescription};
use capsim_output::OutputFile;
use capsim_output::windows::WindowsReport;
use capsim_scenarios::Scenario;

use crate::Failure;
use crate::cli::RunArgs;

pub fn run(
    args: &RunArgs,
    scenario: &Scenario,
    plan: &WindowPlan,
    threads: usize,
) -> Result<(), Failure> {
    let platform = &scenario.platform;
    let started = Instant::now();
    let control: &RunControl = &crate::interrupt::CONTROL;
    let finished = AtomicBool::new(false);
    let total_ms =
        scenario.replications * plan.count as u64 * (platform.horizon.as_nanos() / 1_000_000);
    let runs = std::thread::scope(|scope| {
        if crate::progress::wanted(args.quiet) {
            scope.spawn(|| {
                crate::progress::show(control, total_ms, scenario.replications, &finished)
            });
        }
        let runs = run_windows(
            platform,
            plan,
            scenario.seed,
            scenario.replications,
            threads,
            control,
        );
        finished.store(true, Ordering::Relaxed);
        runs
    })
    .map_err(|e| Failure::Run(e.into()))?;
    let mut runs: Vec<_> = runs.into_iter().flatten().collect();
    let wall_seconds = started.elapsed().as_secs_f64();
    // Interrupted: keep the windows every finished replication has.
    let interrupted = crate::interrupt::interrupted();
    let windows_done = runs.iter().map(Vec::len).min().unwrap_or(0);
    if interrupted {
        if windows_done == 0 {
            return Err(Failure::Interrupted(format!(
                "no window of {} had finished: nothing written",
                scenario.name
            )));
        }
        for r in &mut runs {
            r.truncate(windows_done);
        }
    }
    let events: u64 = runs.iter().flatten().map(|w| w.events).sum();

    let report = WindowsReport::new(
        &RunDescription::new(platform),
        plan,
        &scenario.name,
        scenario.seed,
        scenario.start_s,
        &runs,
    );
    let json = report.to_json();

    let mut written = Vec::new();
    if let Some(dir) = &args.out {
        let files = vec![
            OutputFile {
                relative: "windows.json".into(),
                bytes: json.clone(),
            },
            OutputFile {
                relative: "windows.csv".into(),
                bytes: report.to_csv(),
            },
        ];
        let plotted = capsim_output::windows_plots::plots(&report);
        written = crate::run::write_with_plots(dir, files, plotted)?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let _ = out.write_all(&json);
    } else if !args.quiet {
        let _ = out.write_all(report.table(20).as_bytes());
        crate::run::print_footer(&mut out, &written, events, wall_seconds, threads);
    }
    if interrupted {
        return Err(Failure::Interrupted(format!(
            "the first {windows_done} of {} windows finished in {} replications; the outputs cover those",
            plan.count,
            runs.len()
        )));
    }
    if args.check {
        let breached = report.breached();
        if !breached.is_empty() {
            return Err(Failure::SloBreached(breached));
        }
    }
    Ok(())
}

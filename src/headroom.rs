//! `capsim headroom`: flags in, the search (capsim-runner), and what it
//! prints.

use std::fmt::Write;

use capsim_runner::headroom::{self, HeadroomRequest};

use crate::Failure;
use crate::cli::HeadroomArgs;

pub fn headroom(args: HeadroomArgs) -> Result<(), Failure> {
    let threads = capsim_runner::threads(args.threads)?;
    if args.input.interval.is_some() {
        return Err(Failure::Input(
            "--interval: headroom writes no time series; leave it out".into(),
        ));
    }
    let search = headroom::prepare(HeadroomRequest {
        scenario: args.input.scenario.clone(),
        variant: args.input.variant.clone(),
        sets: args.input.overrides.clone(),
        seed: args.input.seed,
        replications: args.input.replications,
        class: args.class.clone(),
        region: args.region.clone(),
        step: args.step,
        max: args.max,
        metric: args.metric.clone(),
        window: args.input.window,
    })?;
    let talk = !args.quiet && !args.json;
    if talk {
        crate::out::warn(&format!(
            "{}: probing traffic multipliers, {} replications each",
            search.scenario_name(),
            search.replications()
        ));
        crate::window_note(args.input.window);
    }
    let outcome = search.run(
        args.out.as_deref(),
        threads,
        args.force,
        &crate::interrupt::CONTROL,
        |m| {
            if talk && crate::progress::wanted(false) {
                crate::out::warn(&format!("  probe ×{m}"));
            }
        },
    )?;
    let report = &outcome.report;
    if args.json {
        crate::out::print(report.to_json())?;
    } else if !args.quiet {
        let mut out = report.table();
        if !outcome.written.is_empty() {
            out.push('\n');
        }
        for p in &outcome.written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
        let _ = writeln!(
            out,
            "\n{} probes ({} run, {} resumed) × {} replications in {:.2} s on {threads} thread{}",
            report.probes.len(),
            outcome.ran,
            outcome.resumed,
            report.replications,
            outcome.wall_seconds,
            if threads == 1 { "" } else { "s" }
        );
        crate::out::print(out)?;
    }
    Ok(())
}

//! `capsim sweep` and `capsim merge`: flags in, the sweep (capsim-runner),
//! and what they print.

use std::fmt::Write;

use capsim_models::SweepPlan;
use capsim_output::sweep::SweepReport;
use capsim_runner::sweep::{self, Shard, SweepRequest};

use crate::Failure;
use crate::cli::{MergeArgs, SweepArgs};

pub fn sweep(args: SweepArgs) -> Result<(), Failure> {
    let threads = capsim_runner::threads(args.threads)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let spec = sweep::spec(&SweepRequest {
        scenario: args.scenario.clone(),
        params: args.params.clone(),
        sets: args.overrides.clone(),
        variant: args.variant.clone(),
        seed: args.seed,
        replications: args.replications,
        metric: args.metric.clone(),
        sample: args.sample.clone(),
    })?;
    let dir = &args.out;
    let planned = sweep::plan(&spec)?;
    if args.check {
        checkable(&planned, &spec.scenario, shard.as_ref())?;
    }
    let pending = planned.prepare(dir, shard, threads, args.force)?;
    let outcome = run_points(pending, dir, args.quiet, !args.quiet && !args.json);
    let o = outcome?;
    let plan = &o.plan;
    let wall = o.wall_seconds;
    let Some((report, written)) = &o.finished else {
        let s = o
            .shard
            .expect("only a shard of several leaves the sweep unfinished");
        if !args.quiet {
            crate::out::print(format!(
                "shard {}/{} of {}: {} points run, {} resumed, {} of {} in {} ({wall:.1} s on {threads} threads)\ncombine the shards with: capsim merge DIR1 DIR2 ... --out DIR\n",
                s.k,
                s.of,
                plan.scenario,
                o.ran,
                o.resumed,
                o.in_shard,
                plan.points.len(),
                dir.join("points").display()
            ))?;
        }
        return Ok(());
    };
    if args.json {
        crate::out::print(report.to_json())?;
    } else if !args.quiet {
        let mut out = report.table(plan);
        out.push('\n');
        for p in written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
        let _ = writeln!(
            out,
            "\n{} points run ({} resumed) × {} replications of {} in {wall:.2} s on {threads} thread{} ({:.1} points/min)",
            o.ran,
            o.resumed,
            plan.replications,
            plan.scenario,
            if threads == 1 { "" } else { "s" },
            if wall > 0.0 {
                o.ran as f64 / wall * 60.0
            } else {
                0.0
            }
        );
        crate::out::print(out)?;
    }
    if args.check {
        check(report, plan, args.json)?;
    }
    Ok(())
}

/// `--check` needs objectives and the whole sweep: refused before running.
fn checkable(
    planned: &sweep::Planned,
    scenario: &str,
    shard: Option<&Shard>,
) -> Result<(), Failure> {
    if planned.baseline.platform.slos.is_empty() {
        return Err(Failure::Input(format!(
            "--check gates on objectives, but {scenario} defines none: add [[slos]] (see docs/scenario-format.md)"
        )));
    }
    if shard.is_some_and(|s| s.of > 1) {
        return Err(Failure::Input(
            "--check judges the whole sweep, not one shard: run `capsim merge`, then the same `capsim sweep ... --check` with --out the merged directory (every point is done, so nothing runs again)".into(),
        ));
    }
    Ok(())
}

/// `--check`: exit 1 when no point meets every objective, with annotations
/// and a step summary under GitHub Actions.
fn check(report: &SweepReport, plan: &SweepPlan, json: bool) -> Result<(), Failure> {
    if crate::gha::active() {
        crate::gha::sweep_check(report, plan, json)?;
    }
    if report.cheapest_meeting_slos.is_none() {
        return Err(Failure::SloBreached(crate::gha::sweep_breaches(report)));
    }
    Ok(())
}

/// Runs a prepared sweep's points with a progress bar (unless `quiet`),
/// saying first how many an earlier run did (when `talk`).
pub fn run_points(
    pending: sweep::Pending,
    dir: &std::path::Path,
    quiet: bool,
    talk: bool,
) -> Result<sweep::SweepOutcome, capsim_runner::Error> {
    if talk && pending.done > 0 {
        crate::out::warn(&format!(
            "resuming {}: {} of {} points already done",
            dir.display(),
            pending.done,
            pending.in_shard
        ));
    }
    let bar = crate::progress::points_bar(quiet, pending.in_shard as u64, pending.done as u64);
    let outcome = pending.run(&crate::interrupt::CONTROL, || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    outcome
}

pub fn merge(args: MergeArgs) -> Result<(), Failure> {
    let (plan, report, written) = sweep::merge(&args.dirs, &args.out)?;
    if !args.quiet {
        let mut out = report.table(&plan);
        out.push('\n');
        let _ = writeln!(
            out,
            "merged {} points from {} director{}",
            plan.points.len(),
            args.dirs.len(),
            if args.dirs.len() == 1 { "y" } else { "ies" }
        );
        for p in &written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
        crate::out::print(out)?;
    }
    Ok(())
}

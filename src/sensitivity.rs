//! `capsim sensitivity`: flags in, a one-at-a-time sweep (capsim-runner),
//! and the ranking it prints.

use std::fmt::Write;

use capsim_output::sensitivity::SensitivityReport;
use capsim_runner::sensitivity::{self, SensitivityRequest};
use capsim_runner::sweep::Shard;

use crate::Failure;
use crate::cli::SensitivityArgs;

pub fn sensitivity(args: SensitivityArgs) -> Result<(), Failure> {
    let threads = capsim_runner::threads(args.threads)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let fraction = percent(&args.by)?;
    let (planned, skipped) = sensitivity::plan(&SensitivityRequest {
        scenario: args.scenario.clone(),
        sets: args.overrides.clone(),
        seed: args.seed,
        replications: args.replications,
        inputs: args.inputs.clone(),
        fraction,
        metric: args.metric.clone(),
        window: args.window,
    })?;
    let talk = !args.quiet && !args.json;
    if talk {
        for s in &skipped {
            crate::out::warn(&format!("not run: {} = {}: {}", s.input, s.value, s.why));
        }
        crate::window_note(args.window);
    }
    let dir = &args.out;
    let pending = planned.prepare(dir, shard, threads, args.force)?;
    let outcome = crate::sweep::run_points(pending, dir, args.quiet, talk);
    let o = outcome?;
    let Some((report, written)) = &o.finished else {
        if !args.quiet {
            let s = o
                .shard
                .expect("only a shard of several leaves it unfinished");
            crate::out::print(format!(
                "shard {}/{}: {} points run, {} resumed, {} of {}\ncombine the shards with: capsim merge DIR1 DIR2 ... --out DIR\n",
                s.k,
                s.of,
                o.ran,
                o.resumed,
                o.in_shard,
                o.plan.points.len()
            ))?;
        }
        return Ok(());
    };
    let s = SensitivityReport::new(&o.plan, report);
    if args.json {
        crate::out::print(s.to_json())?;
    } else if !args.quiet {
        let mut out = s.table(args.top);
        out.push('\n');
        for p in written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
        let _ = writeln!(
            out,
            "\n{} points run ({} resumed) × {} replications of {} in {:.2} s on {threads} thread{}",
            o.ran,
            o.resumed,
            o.plan.replications,
            o.plan.scenario,
            o.wall_seconds,
            if threads == 1 { "" } else { "s" }
        );
        crate::out::print(out)?;
    }
    Ok(())
}

/// `10%` or `0.1` as a fraction.
fn percent(s: &str) -> Result<f64, Failure> {
    let t = s.trim();
    let x = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    match x {
        Ok(f) if f.is_finite() && f > 0.0 && f < 1.0 => Ok(f),
        _ => Err(Failure::Input(format!(
            "--by {s}: a change is a percentage above 0% and below 100%, e.g. 10%"
        ))),
    }
}

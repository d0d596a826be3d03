//! `capsim sweep` and `capsim merge`.
//!
//! ```text
//!   spec (--param, sweep file) ──► plan ──► sweep-plan.json
//!        │                          │
//!        │            points not done yet (resume) in this shard
//!        │                          ▼
//!        │        run_points (rayon: points × replications, common seeds)
//!        │                          │ as each point finishes
//!        │                          ▼
//!        │                 points/NNNNN.json (atomic)
//!        ▼                          │ unsharded run, or `capsim merge`
//!   read back every point file ─────┴──► SweepReport ──► sweep.csv, pareto.csv,
//!                                                         sweep.json, plots/
//! ```
//!
//! The final files are computed from the point files on disk in both the
//! unsharded and the merged case, so they are byte-identical.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use capsim_models::{PlatformConfig, RunControl};
use capsim_output::OutputFile;
use capsim_output::sweep::{PointRecord, SWEEP_SCHEMA_VERSION, SweepPlan, SweepReport, fnv64};
use capsim_scenarios::Override;
use capsim_scenarios::sweep::{self as spec, Sample, SweepSpec};

use crate::cli::{MergeArgs, SweepArgs};
use crate::{Failure, parse_overrides};

const PLAN_FILE: &str = "sweep-plan.json";

/// Parses `K/N`.
fn parse_shard(s: &str) -> Result<(usize, usize), Failure> {
    let bad = |why: &str| Failure::Input(format!("--shard {s}: {why}"));
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| bad("write K/N, e.g. 2/8 for the second of eight shards"))?;
    let (k, n): (usize, usize) = match (k.trim().parse(), n.trim().parse()) {
        (Ok(k), Ok(n)) => (k, n),
        _ => return Err(bad("K and N must be whole numbers, e.g. 2/8")),
    };
    if n == 0 {
        return Err(bad("N must be at least 1"));
    }
    if k == 0 || k > n {
        return Err(bad(&format!(
            "K must be between 1 and {n} (shards are numbered from 1)"
        )));
    }
    Ok((k, n))
}

/// The sweep as the user described it: a sweep file and/or flags.
fn sweep_spec(args: &SweepArgs) -> Result<SweepSpec, Failure> {
    let path = Path::new(&args.scenario);
    let mut s = if spec::is_sweep_file(path) {
        spec::load_sweep_file(path)?
    } else {
        SweepSpec {
            scenario: args.scenario.clone(),
            ..SweepSpec::default()
        }
    };
    for p in &args.params {
        s.add_param(spec::parse_param(p).map_err(|m| Failure::Input(format!("--param {p}: {m}")))?);
    }
    s.sets.extend(args.overrides.iter().cloned());
    if args.seed.is_some() {
        s.seed = args.seed;
    }
    if args.replications.is_some() {
        s.replications = args.replications;
    }
    if let Some(m) = &args.metric {
        s.metric = Some(m.clone());
    }
    if let Some(sample) = &args.sample {
        s.sample = Some(
            spec::parse_sample(sample)
                .map_err(|m| Failure::Input(format!("--sample {sample}: {m}")))?,
        );
    }
    for p in &s.params {
        if matches!(
            p.path.as_str(),
            "simulation.seed" | "simulation.replications"
        ) {
            return Err(Failure::Input(format!(
                "--param {}: a sweep keeps the seed and the replications fixed, so every point sees the same traffic; use --seed or --replications",
                p.path
            )));
        }
    }
    Ok(s)
}

/// A validated sweep: its plan and every point's platform.
struct Planned {
    baseline: capsim_scenarios::Scenario,
    plan: SweepPlan,
    platforms: Vec<PlatformConfig>,
}

fn plan(s: &SweepSpec) -> Result<Planned, Failure> {
    let metric = s.metric.clone().unwrap_or_else(|| "p99".into());
    capsim_output::sweep::metric_key(&metric)
        .map_err(|m| Failure::Input(format!("--metric: {m}")))?;
    let source = capsim_scenarios::resolve(&s.scenario)?;
    let fixed = parse_overrides(&s.sets, s.seed, s.replications, None)?;
    let baseline = source.load(&fixed)?;
    if baseline.replications < 2 {
        return Err(Failure::Input(format!(
            "{}: a sweep needs at least 2 replications per point for its confidence intervals (it has {}); use --replications",
            source.name, baseline.replications
        )));
    }
    let sample = s.sample.unwrap_or(Sample::Grid);
    let points = spec::points(&s.params, sample, baseline.seed).map_err(Failure::Input)?;
    let params: Vec<String> = s.params.iter().map(|p| p.path.clone()).collect();
    let mut all_points = Vec::with_capacity(points.len() + 1);
    all_points.push(spec::values_at(&source.text, &fixed, &params));
    all_points.extend(points);

    let plan = SweepPlan {
        schema_version: SWEEP_SCHEMA_VERSION,
        scenario: baseline.name.clone(),
        source: s.scenario.clone(),
        scenario_fnv64: format!("{:016x}", fnv64(source.text.as_bytes())),
        sets: s.sets.clone(),
        seed: baseline.seed,
        replications: baseline.replications,
        sample: sample.to_string(),
        metric,
        params,
        points: all_points,
    };

    // Build every point before running any, so a bad value fails in
    // seconds, not after hours of simulation.
    let mut platforms = Vec::with_capacity(plan.points.len());
    platforms.push(baseline.platform.clone());
    for i in 1..plan.points.len() {
        let mut overrides = fixed.clone();
        for set in plan.point_sets(i) {
            let mut ov = Override::parse(&set)
                .map_err(|m| Failure::Input(format!("point {i}: --param {set}: {m}")))?;
            ov.raw = format!("from --param {set}");
            overrides.push(ov);
        }
        let s = source
            .load(&overrides)
            .map_err(|e| Failure::Input(format!("point {i} of the sweep: {e}")))?;
        platforms.push(s.platform);
    }
    Ok(Planned {
        baseline,
        plan,
        platforms,
    })
}

/// Reads `dir/sweep-plan.json` if there is one.
fn read_plan(dir: &Path) -> Result<Option<SweepPlan>, Failure> {
    let path = dir.join(PLAN_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => SweepPlan::from_json(&bytes)
            .map(Some)
            .map_err(|m| Failure::Input(format!("{}: {m}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::Run(
            anyhow::Error::new(e).context(format!("reading {}", path.display())),
        )),
    }
}

/// The point file of `index` in `dir`, if it is complete and belongs to
/// `plan` (whose identity is `identity`).
fn read_point(
    dir: &Path,
    plan: &SweepPlan,
    identity: &str,
    index: usize,
) -> Option<(PointRecord, Vec<u8>)> {
    let bytes = std::fs::read(dir.join(SweepPlan::point_file(index))).ok()?;
    let rec = PointRecord::from_json(&bytes).ok()?;
    let ok = rec.plan == identity
        && rec.index == index
        && rec.values == plan.points[index]
        && rec.replications.len() as u64 == plan.replications;
    ok.then_some((rec, bytes))
}

pub fn sweep(args: SweepArgs) -> Result<(), Failure> {
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let s = sweep_spec(&args)?;
    let Planned {
        baseline,
        plan,
        platforms,
    } = plan(&s)?;
    let dir = &args.out;
    let threads = crate::threads(args.threads);
    // The cost of this shard's points, at the baseline's cost per point.
    let n = plan.points.len();
    let in_shard = (0..n)
        .filter(|&i| shard.is_none_or(|(k, of)| SweepPlan::in_shard(i, k, of)))
        .count();
    crate::cost::gate(&baseline, threads, in_shard as u64, args.force)?;

    let identity = plan.identity();
    if let Some(old) = read_plan(dir)?
        && old.identity() != identity
    {
        return Err(Failure::Input(format!(
            "{} holds another sweep (its scenario, parameters, seed or replications differ), so its points cannot be resumed: use another --out, or delete it",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir.join("points"))
        .with_context(|| format!("creating {}", dir.join("points").display()))
        .map_err(Failure::Run)?;
    capsim_output::write_atomic(&dir.join(PLAN_FILE), &plan.to_json())
        .with_context(|| format!("writing {}", dir.join(PLAN_FILE).display()))
        .map_err(Failure::Run)?;

    let mine: Vec<bool> = (0..n)
        .map(|i| shard.is_none_or(|(k, of)| SweepPlan::in_shard(i, k, of)))
        .collect();
    let done: Vec<bool> = (0..n)
        .map(|i| mine[i] && read_point(dir, &plan, &identity, i).is_some())
        .collect();
    let skip: Vec<bool> = (0..n).map(|i| !mine[i] || done[i]).collect();
    let (count_mine, count_done) = (
        mine.iter().filter(|&&m| m).count(),
        done.iter().filter(|&&d| d).count(),
    );
    if !args.quiet && !args.json && count_done > 0 {
        eprintln!(
            "resuming {}: {count_done} of {count_mine} points already done",
            dir.display()
        );
    }

    let started = Instant::now();
    let bar = crate::progress::points_bar(args.quiet, count_mine as u64, count_done as u64);
    let control: &RunControl = &crate::interrupt::CONTROL;
    let outcome = capsim_models::run_points(
        &platforms,
        plan.seed,
        plan.replications,
        threads,
        &skip,
        control,
        |i, results| {
            let rec = capsim_output::sweep::point_record(&plan, &identity, i, &results);
            drop(results);
            let path = dir.join(SweepPlan::point_file(i));
            let written = capsim_output::write_atomic(&path, &rec.to_json())
                .with_context(|| format!("writing {}", path.display()));
            if let Some(b) = &bar {
                b.inc(1);
            }
            written
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let outcome = outcome.map_err(|e| Failure::Run(e.into()))?;
    let mut finished_now = 0;
    for r in outcome.into_iter().flatten() {
        r.map_err(Failure::Run)?;
        finished_now += 1;
    }
    let wall = started.elapsed().as_secs_f64();
    if crate::interrupt::interrupted() {
        // Each finished point is on disk; the sweep's tables need them all.
        return Err(Failure::Interrupted(format!(
            "{} of {count_mine} points done ({finished_now} in this run, {count_done} before) in {}; run the same command again to resume",
            finished_now + count_done,
            dir.join("points").display()
        )));
    }
    let ran = count_mine - count_done;

    if let Some((k, of)) = shard.filter(|&(_, of)| of > 1) {
        if !args.quiet {
            println!(
                "shard {k}/{of} of {}: {ran} points run, {count_done} resumed, {count_mine} of {n} in {} ({wall:.1} s on {threads} threads)\ncombine the shards with: capsim merge DIR1 DIR2 ... --out DIR",
                plan.scenario,
                dir.join("points").display()
            );
        }
        return Ok(());
    }

    let (report, written) = finish(dir, &plan, std::slice::from_ref(dir))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let _ = out.write_all(&report.to_json());
    } else if !args.quiet {
        let _ = out.write_all(report.table(&plan).as_bytes());
        let _ = writeln!(out);
        for p in &written {
            let _ = writeln!(out, "wrote {}", p.display());
        }
        let _ = writeln!(
            out,
            "\n{ran} points run ({count_done} resumed) × {} replications of {} in {wall:.2} s on {threads} thread{} ({:.1} points/min)",
            plan.replications,
            plan.scenario,
            if threads == 1 { "" } else { "s" },
            if wall > 0.0 {
                ran as f64 / wall * 60.0
            } else {
                0.0
            }
        );
    }
    Ok(())
}

/// Reads every point of `plan` from `dirs` (a point found in several must be
/// identical in all) and writes the plan, the points and the aggregated files
/// into `out`, all or nothing.
fn finish(
    out: &Path,
    plan: &SweepPlan,
    dirs: &[PathBuf],
) -> Result<(SweepReport, Vec<PathBuf>), Failure> {
    let identity = plan.identity();
    let mut found: BTreeMap<usize, (PointRecord, Vec<u8>, &Path)> = BTreeMap::new();
    let mut missing = Vec::new();
    for i in 0..plan.points.len() {
        for d in dirs {
            let Some((rec, bytes)) = read_point(d, plan, &identity, i) else {
                continue;
            };
            if let Some((_, first, where_)) = found.get(&i) {
                if *first != bytes {
                    return Err(Failure::Input(format!(
                        "point {i} differs between {} and {}: were they run by different capsim versions?",
                        where_.display(),
                        d.display()
                    )));
                }
                continue;
            }
            found.insert(i, (rec, bytes, d));
        }
        if !found.contains_key(&i) {
            missing.push(i);
        }
    }
    if !missing.is_empty() {
        let listed: Vec<String> = missing.iter().take(20).map(|i| i.to_string()).collect();
        return Err(Failure::Input(format!(
            "{} of {} points are missing from {}: {}{} (point i belongs to shard (i mod N) + 1 of N; re-run those shards with the same --out, which resumes them)",
            missing.len(),
            plan.points.len(),
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            listed.join(", "),
            if missing.len() > 20 { ", …" } else { "" }
        )));
    }
    let records: Vec<PointRecord> = found.values().map(|(r, _, _)| r.clone()).collect();
    let report = SweepReport::new(plan, &records).map_err(Failure::Input)?;

    let mut files = vec![OutputFile {
        relative: PLAN_FILE.into(),
        bytes: plan.to_json(),
    }];
    // Points read from `out` itself are there already, byte for byte (each
    // was written atomically when it finished): only copy the others.
    for (i, (_, bytes, from)) in &found {
        if *from == out {
            continue;
        }
        files.push(OutputFile {
            relative: SweepPlan::point_file(*i).into(),
            bytes: bytes.clone(),
        });
    }
    files.push(OutputFile {
        relative: "sweep.csv".into(),
        bytes: report.sweep_csv(),
    });
    files.push(OutputFile {
        relative: "pareto.csv".into(),
        bytes: report.pareto_csv(),
    });
    files.push(OutputFile {
        relative: "sweep.json".into(),
        bytes: report.to_json(),
    });
    let plots = capsim_output::sweep_plots::plots(&report, plan);
    let plot_error = match plots {
        Ok(p) => {
            files.extend(p);
            None
        }
        Err(e) => Some(e),
    };
    let written = capsim_output::write_all(out, &files)
        .with_context(|| format!("writing the sweep's results to {}", out.display()))
        .map_err(Failure::Run)?;
    if let Some(e) = plot_error {
        return Err(Failure::Run(anyhow::anyhow!(
            "{e} (the other results were written to {})",
            out.display()
        )));
    }
    // List what a person opens, not every point file.
    let shown = written
        .into_iter()
        .filter(|p| !p.starts_with(out.join("points")) && !p.ends_with(PLAN_FILE))
        .collect();
    Ok((report, shown))
}

pub fn merge(args: MergeArgs) -> Result<(), Failure> {
    let mut plan: Option<(SweepPlan, &Path)> = None;
    for d in &args.dirs {
        let p = read_plan(d)?.ok_or_else(|| {
            Failure::Input(format!(
                "{}: no {PLAN_FILE}, so not the output of `capsim sweep`",
                d.display()
            ))
        })?;
        match &plan {
            None => plan = Some((p, d)),
            Some((first, from)) => {
                if *first != p {
                    return Err(Failure::Input(format!(
                        "{} and {} are shards of different sweeps (their {PLAN_FILE} differ): run every shard with the same command but --shard",
                        from.display(),
                        d.display()
                    )));
                }
            }
        }
    }
    let (plan, _) = plan.expect("clap requires at least one directory");
    let (report, written) = finish(&args.out, &plan, &args.dirs)?;
    if !args.quiet {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = out.write_all(report.table(&plan).as_bytes());
        let _ = writeln!(out);
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
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_stay_in_range() {
        assert!(matches!(parse_shard("2/4"), Ok((2, 4))));
        assert!(matches!(parse_shard("1/1"), Ok((1, 1))));
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/3"] {
            assert!(matches!(parse_shard(bad), Err(Failure::Input(_))), "{bad}");
        }
    }
}

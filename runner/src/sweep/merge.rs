//! Aggregating a sweep's point files, from its own directory or from the
//! directories of its shards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use capsim_models::SweepPlan;
use capsim_output::OutputFile;
use capsim_output::export::{self, SweepResults};
use capsim_output::sweep::{PointRecord, SweepReport};

use super::files::{self, PLAN_FILE, point_file, read_plan, read_point};
use crate::Error;

/// Merges the shards in `dirs` (each holding the same plan) into `out`:
/// the plan, every point and the aggregated files, exactly as an unsharded
/// sweep writes them. Returns the plan, the report and the files a person
/// opens.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
) -> Result<(SweepPlan, SweepReport, Vec<PathBuf>), Error> {
    let mut plan: Option<(SweepPlan, &Path)> = None;
    for d in dirs {
        let p = read_plan(d)?.ok_or_else(|| {
            Error::Input(format!(
                "{}: no {PLAN_FILE}, so not the output of `capsim sweep`",
                d.display()
            ))
        })?;
        match &plan {
            None => plan = Some((p, d)),
            Some((first, from)) => {
                if *first != p {
                    return Err(Error::Input(format!(
                        "{} and {} are shards of different sweeps (their {PLAN_FILE} differ): run every shard with the same command but --shard",
                        from.display(),
                        d.display()
                    )));
                }
            }
        }
    }
    let Some((plan, _)) = plan else {
        return Err(Error::Input("no directory to merge".into()));
    };
    let (report, written) = finish(out, &plan, dirs)?;
    Ok((plan, report, written))
}

/// A point found on disk: its record, its bytes and where.
type Found<'d> = BTreeMap<usize, (PointRecord, Vec<u8>, &'d Path)>;

/// Reads every point of `plan` from `dirs` (a point found in several must be
/// identical in all) and writes the plan, the points and the aggregated files
/// into `out`, all or nothing.
pub(super) fn finish(
    out: &Path,
    plan: &SweepPlan,
    dirs: &[PathBuf],
) -> Result<(SweepReport, Vec<PathBuf>), Error> {
    let found = find_points(plan, dirs)?;
    let records: Vec<PointRecord> = found.values().map(|(r, _, _)| r.clone()).collect();
    let report = SweepReport::new(plan, &records).map_err(Error::Input)?;

    let mut files = vec![OutputFile {
        relative: PLAN_FILE.into(),
        bytes: files::plan_to_json(plan),
    }];
    // Points read from `out` itself are there already, byte for byte (each
    // was written atomically when it finished): only copy the others.
    for (i, (_, bytes, from)) in &found {
        if *from != out {
            files.push(OutputFile {
                relative: point_file(*i).into(),
                bytes: bytes.clone(),
            });
        }
    }
    let made = export::export(
        &SweepResults {
            report: &report,
            plan,
        },
        &export::sweep_formats(),
    );
    files.extend(made.files);
    let written = crate::outcome::write_files(out, &files, "the sweep's results")?;
    if !made.errors.is_empty() {
        return Err(Error::Export {
            message: made.errors.join("; "),
            dir: out.to_path_buf(),
        });
    }
    // List what a person opens, not every point file.
    let shown = written
        .into_iter()
        .filter(|p| !p.starts_with(out.join("points")) && !p.ends_with(PLAN_FILE))
        .collect();
    Ok((report, shown))
}

fn find_points<'d>(plan: &SweepPlan, dirs: &'d [PathBuf]) -> Result<Found<'d>, Error> {
    let identity = files::identity(plan);
    let mut found: Found = BTreeMap::new();
    let mut missing = Vec::new();
    for i in 0..plan.points.len() {
        for d in dirs {
            let Some((rec, bytes)) = read_point(d, plan, &identity, i)? else {
                continue;
            };
            if let Some((_, first, where_)) = found.get(&i) {
                if *first != bytes {
                    return Err(Error::Input(format!(
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
    if missing.is_empty() {
        return Ok(found);
    }
    let listed: Vec<String> = missing.iter().take(20).map(|i| i.to_string()).collect();
    Err(Error::Input(format!(
        "{} of {} points are missing from {}: {}{} (point i belongs to shard (i mod N) + 1 of N; re-run those shards with the same --out, which resumes them)",
        missing.len(),
        plan.points.len(),
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        listed.join(", "),
        if missing.len() > 20 { ", …" } else { "" }
    )))
}

//! A sweep's directory: `sweep-plan.json`, written before any point runs,
//! and `points/NNNNN.json`, one per point as it finishes. A point file is
//! reused (resumed, merged) only if it belongs to the same plan.

use std::path::Path;

use capsim_models::SweepPlan;
use capsim_output::sweep::PointRecord;
pub use capsim_output::sweep::fnv64;

use crate::Error;

pub const PLAN_FILE: &str = "sweep-plan.json";

/// What decides the points' results: everything in the plan but `source`
/// and `metric`. Point files carry it; a point file of another identity is
/// never reused.
pub fn identity(plan: &SweepPlan) -> String {
    let key = serde_json::json!({
        "schema_version": plan.schema_version,
        "scenario_fnv64": plan.scenario_fnv64,
        "sets": plan.sets,
        "seed": plan.seed,
        "replications": plan.replications,
        "params": plan.params,
        "points": plan.points,
    });
    format!("{:016x}", fnv64(key.to_string().as_bytes()))
}

pub fn plan_to_json(plan: &SweepPlan) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(plan).expect("a plan always serialises");
    out.push(b'\n');
    out
}

pub fn plan_from_json(bytes: &[u8]) -> Result<SweepPlan, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not a capsim sweep plan: {e}"))
}

/// The file a point's result is written to, relative to the sweep's
/// directory.
pub fn point_file(index: usize) -> String {
    format!("points/{index:05}.json")
}

/// Reads `dir/sweep-plan.json` if there is one.
pub fn read_plan(dir: &Path) -> Result<Option<SweepPlan>, Error> {
    let path = dir.join(PLAN_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => plan_from_json(&bytes)
            .map(Some)
            .map_err(|m| Error::Input(format!("{}: {m}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()))(e)),
    }
}

/// The point file of `index` in `dir`, if it is complete and belongs to
/// `plan` (whose identity is `identity`), with its bytes. A file that is
/// absent, truncated, another sweep's or without a checksum is `None` (the
/// point is run again); one whose contents no longer match its checksum
/// (edited or damaged since it was written) is an error naming it, never
/// used nor silently replaced.
pub fn read_point(
    dir: &Path,
    plan: &SweepPlan,
    identity: &str,
    index: usize,
) -> Result<Option<(PointRecord, Vec<u8>)>, Error> {
    let path = dir.join(point_file(index));
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(None);
    };
    let Ok(rec) = PointRecord::from_json(&bytes) else {
        return Ok(None);
    };
    if rec.checksum.is_empty() {
        // Written by a capsim without checksums: run the point again.
        return Ok(None);
    }
    if !rec.checksum_matches() {
        return Err(Error::Input(format!(
            "{}: its contents do not match its checksum, so it was edited or damaged after capsim wrote it: delete it and run its sweep (or shard) again with the same --out, which recomputes that point",
            path.display()
        )));
    }
    let ok = rec.plan == identity
        && rec.index == index
        && rec.values == plan.points[index]
        && rec.replications.len() as u64 == plan.replications;
    Ok(ok.then_some((rec, bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SweepPlan {
        SweepPlan {
            schema_version: 1,
            scenario: "s".into(),
            source: "s".into(),
            scenario_fnv64: "0".into(),
            sets: vec![],
            seed: 1,
            replications: 3,
            sample: "grid".into(),
            metric: "p99".into(),
            params: vec!["a".into()],
            latency_objectives: Vec::new(),
            windows: None,
            points: (0..3).map(|i| vec![i.to_string()]).collect(),
        }
    }

    #[test]
    fn identity_ignores_source_and_metric() {
        let a = plan();
        let mut b = a.clone();
        b.source = "./elsewhere.toml".into();
        b.metric = "p95".into();
        assert_eq!(identity(&a), identity(&b));
        b.seed = 2;
        assert_ne!(identity(&a), identity(&b));
    }

    #[test]
    fn plans_round_trip_and_points_have_fixed_names() {
        let p = plan();
        assert_eq!(plan_from_json(&plan_to_json(&p)), Ok(p));
        assert!(plan_from_json(b"{}").is_err());
        assert_eq!(point_file(7), "points/00007.json");
    }
}

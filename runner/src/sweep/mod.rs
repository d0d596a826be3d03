//! Sweeps: a plan of points, run in shards, resumed, and merged.
//!
//! ```text
//!   SweepRequest (flags, sweep file) ──spec──► SweepSpec ──plan──► Planned ──► sweep-plan.json
//!                                                                    │
//!                          prepare: points of this shard not done yet (resume)
//!                                                                    ▼
//!                  Pending::run (points × replications, common seeds; rayon)
//!                                                                    │ as each point finishes
//!                                                                    ▼
//!                                                  points/NNNNN.json (atomic)
//!                                                                    │ unsharded, or `merge`
//!   read back every point file ◄────────────────────────────────────┘
//!        └──► SweepReport ──► sweep.csv, pareto.csv, sweep.json, plots/
//! ```
//!
//! The final files are computed from the point files on disk in both the
//! unsharded and the merged case, so they are byte-identical.

pub mod files;
mod memory;
mod merge;

use std::path::{Path, PathBuf};
use std::time::Instant;

use capsim_models::description::LatencyObjective;
use capsim_models::windows::WindowPlan;
use capsim_models::{PlatformConfig, RunControl, SweepPlan, SweepWindows};
use capsim_output::sweep::{
    PointRecord, SWEEP_SCHEMA_VERSION, SweepReport, chain_point_record, point_record,
};
use capsim_scenarios::sweep::{self as spec, Sample, SweepSpec};
use capsim_scenarios::{Override, Source};

pub use memory::MemorySweep;
pub use merge::merge;

use crate::Error;
use files::{PLAN_FILE, fnv64, identity, point_file, read_plan, read_point};

/// A sweep as asked for: a scenario (or a sweep file) and flags.
#[derive(Clone, Debug, Default)]
pub struct SweepRequest {
    /// A scenario (file or bundled name) or a sweep file.
    pub scenario: String,
    /// `PATH=V1,V2` or `PATH=LOW..HIGH`, added to the sweep file's.
    pub params: Vec<String>,
    /// Fixed overrides, `PATH=VALUE`.
    pub sets: Vec<String>,
    /// A variant of the scenario whose settings every point starts from
    /// (before `sets`).
    pub variant: Option<String>,
    pub seed: Option<u64>,
    pub replications: Option<u64>,
    /// The latency figure verdicts use (`p99`, …).
    pub metric: Option<String>,
    /// `grid` or `latin:N`.
    pub sample: Option<String>,
}

/// Shard `k` of `of` (1-based): points are dealt round robin, so every
/// shard gets a similar mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub of: usize,
}

impl Shard {
    /// Parses `K/N`.
    pub fn parse(s: &str) -> Result<Shard, Error> {
        let bad = |why: &str| Error::Input(format!("--shard {s}: {why}"));
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
        Ok(Shard { k, of: n })
    }

    /// Whether point `index` is this shard's.
    pub fn runs(&self, index: usize) -> bool {
        index % self.of == self.k - 1
    }
}

/// The sweep as the user described it: a sweep file and/or flags.
pub fn spec(req: &SweepRequest) -> Result<SweepSpec, Error> {
    let path = Path::new(&req.scenario);
    let mut s = if spec::is_sweep_file(path) {
        spec::load_sweep_file(path)?
    } else {
        SweepSpec {
            scenario: req.scenario.clone(),
            ..SweepSpec::default()
        }
    };
    let mut given: Vec<String> = Vec::with_capacity(req.params.len());
    for p in &req.params {
        let param = spec::parse_param(p).map_err(|m| Error::Input(format!("--param {p}: {m}")))?;
        // A second --param of a path would replace the first: one of them
        // is a mistake, and which one the user meant is not ours to guess.
        if given.contains(&param.path) {
            return Err(Error::Input(format!(
                "--param {}: given twice; list every value in one --param, e.g. {}=V1,V2,V3",
                param.path, param.path
            )));
        }
        given.push(param.path.clone());
        s.add_param(param);
    }
    if let Some(v) = &req.variant {
        // The variant's settings first, as `run --variant` applies them.
        let mut sets = capsim_scenarios::resolve(&s.scenario)?.variant_sets(v)?;
        sets.append(&mut s.sets);
        s.sets = sets;
    }
    s.sets.extend(req.sets.iter().cloned());
    if req.seed.is_some() {
        s.seed = req.seed;
    }
    if req.replications.is_some() {
        s.replications = req.replications;
    }
    if let Some(m) = &req.metric {
        s.metric = Some(m.clone());
    }
    if let Some(sample) = &req.sample {
        s.sample = Some(
            spec::parse_sample(sample)
                .map_err(|m| Error::Input(format!("--sample {sample}: {m}")))?,
        );
    }
    for p in &s.params {
        if p.path == "windows" || p.path.starts_with("windows.") {
            return Err(Error::Input(format!(
                "--param {}: every point of a sweep runs the same chain of windows, so its figures compare; sweep the scenario's settings, and change [windows] with --set",
                p.path
            )));
        }
        if matches!(
            p.path.as_str(),
            "simulation.seed" | "simulation.replications"
        ) {
            return Err(Error::Input(format!(
                "--param {}: a sweep keeps the seed and the replications fixed, so every point sees the same traffic; use --seed or --replications",
                p.path
            )));
        }
    }
    Ok(s)
}

/// A validated sweep: its plan and every point's platform.
pub struct Planned {
    pub baseline: capsim_scenarios::Scenario,
    pub plan: SweepPlan,
    platforms: Vec<PlatformConfig>,
    /// The chain of windows every point runs, for a scenario in `[windows]`.
    windows: Option<WindowPlan>,
}

impl Planned {
    /// A plan made elsewhere (`capsim sensitivity`), with the platform of
    /// each of its points, the baseline's first.
    pub fn from_parts(
        baseline: capsim_scenarios::Scenario,
        plan: SweepPlan,
        platforms: Vec<PlatformConfig>,
    ) -> Planned {
        assert_eq!(plan.points.len(), platforms.len(), "a platform per point");
        Planned {
            windows: baseline.windows,
            baseline,
            plan,
            platforms,
        }
    }
}

impl Planned {
    /// Runs the points not in `skip`, each point's replications with common
    /// seeds (a chain of windows each, for a scenario in `[windows]`), and
    /// hands each point's record to `each` as the point finishes.
    fn run_points<R: Send>(
        &self,
        identity: &str,
        threads: usize,
        skip: &[bool],
        control: &RunControl,
        each: impl Fn(usize, PointRecord) -> R + Sync + Send,
    ) -> Result<Vec<Option<R>>, Error> {
        let (plan, platforms) = (&self.plan, &self.platforms);
        Ok(match &self.windows {
            None => capsim_models::run_points(
                platforms,
                plan.seed,
                plan.replications,
                threads,
                skip,
                control,
                |i, results| each(i, point_record(plan, identity, i, &results)),
            )?,
            Some(windows) => capsim_models::windows::run_window_points(
                platforms,
                windows,
                plan.seed,
                plan.replications,
                threads,
                skip,
                control,
                |i, chains| {
                    let objectives: Vec<String> =
                        platforms[i].slos.iter().map(|s| s.name.clone()).collect();
                    each(
                        i,
                        chain_point_record(plan, identity, i, &objectives, &chains),
                    )
                },
            )?,
        })
    }
}

/// Plans `s` and builds every point before running any, so that a bad
/// value fails in seconds, not after hours of simulation.
pub fn plan(s: &SweepSpec) -> Result<Planned, Error> {
    plan_source(s, capsim_scenarios::resolve(&s.scenario)?)
}

/// [`plan`] of a scenario given by its text rather than found by
/// `s.scenario` (the Python package's scenarios given as a dict).
pub fn plan_source(s: &SweepSpec, source: Source) -> Result<Planned, Error> {
    let metric = s.metric.clone().unwrap_or_else(|| "p99".into());
    capsim_output::sweep::metric_key(&metric)
        .map_err(|m| Error::Input(format!("--metric: {m}")))?;
    let fixed = crate::overrides(&s.sets, s.seed, s.replications, None)?;
    let baseline = source.load(&fixed)?;
    if baseline.replications < 2 {
        return Err(Error::Input(format!(
            "{}: a sweep needs at least 2 replications per point for its confidence intervals (it has {}); use --replications",
            source.name, baseline.replications
        )));
    }
    let sample = s.sample.unwrap_or(Sample::Grid);
    let points = spec::points(&s.params, sample, baseline.seed).map_err(Error::Input)?;
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
        latency_objectives: LatencyObjective::of(&baseline.platform.slos),
        windows: baseline.windows.map(|w| SweepWindows {
            count: w.count,
            every_s: w.every.as_secs_f64(),
            offset_s: w.offset.as_secs_f64(),
            window_s: baseline.platform.horizon.as_secs_f64(),
        }),
        points: all_points,
    };
    let mut platforms = Vec::with_capacity(plan.points.len());
    platforms.push(baseline.platform.clone());
    for i in 1..plan.points.len() {
        let mut overrides = fixed.clone();
        for set in plan.point_sets(i) {
            let mut ov = Override::parse(&set)
                .map_err(|m| Error::Input(format!("point {i}: --param {set}: {m}")))?;
            ov.raw = format!("from --param {set}");
            overrides.push(ov);
        }
        let s = source
            .load(&overrides)
            .map_err(|e| Error::Input(format!("point {i} of the sweep: {e}")))?;
        platforms.push(s.platform);
    }
    Ok(Planned {
        windows: baseline.windows,
        baseline,
        plan,
        platforms,
    })
}

/// A sweep ready to run in its directory: its plan written, the points of
/// its shard that are done already found.
pub struct Pending {
    planned: Planned,
    dir: PathBuf,
    shard: Option<Shard>,
    threads: usize,
    /// Run anyway, over the event budget (the memory budget still holds).
    force: bool,
    identity: String,
    skip: Vec<bool>,
    /// Points of this shard.
    pub in_shard: usize,
    /// Of those, the ones done by an earlier run (resumed).
    pub done: usize,
}

impl Planned {
    /// Checks the budget of this shard's points (unless `force`), refuses a
    /// directory that holds another sweep, writes the plan and finds the
    /// points done already.
    pub fn prepare(
        self,
        dir: &Path,
        shard: Option<Shard>,
        threads: usize,
        force: bool,
    ) -> Result<Pending, Error> {
        let n = self.plan.points.len();
        let mine: Vec<bool> = (0..n).map(|i| shard.is_none_or(|s| s.runs(i))).collect();
        let in_shard = mine.iter().filter(|&&m| m).count();
        // The cost of this shard's points, at the baseline's cost per point.
        crate::budget::gate(&self.baseline, threads, in_shard as u64, force)?;

        let identity = identity(&self.plan);
        if let Some(old) = read_plan(dir)?
            && files::identity(&old) != identity
        {
            return Err(Error::Input(format!(
                "{} holds another sweep (its scenario, parameters, seed or replications differ), so its points cannot be resumed: use another --out, or delete it",
                dir.display()
            )));
        }
        let points = dir.join("points");
        std::fs::create_dir_all(&points)
            .map_err(Error::io(format!("creating {}", points.display())))?;
        let plan_path = dir.join(PLAN_FILE);
        capsim_output::write_atomic(&plan_path, &files::plan_to_json(&self.plan))
            .map_err(Error::io(format!("writing {}", plan_path.display())))?;
        let mut skip = Vec::with_capacity(n);
        for (i, &m) in mine.iter().enumerate() {
            skip.push(!m || read_point(dir, &self.plan, &identity, i)?.is_some());
        }
        let done = in_shard - skip.iter().filter(|&&s| !s).count();
        Ok(Pending {
            planned: self,
            dir: dir.to_path_buf(),
            shard,
            threads,
            force,
            identity,
            skip,
            in_shard,
            done,
        })
    }
}

/// What a sweep (or one shard of it) did.
pub struct SweepOutcome {
    pub plan: SweepPlan,
    pub shard: Option<Shard>,
    /// Points run now, resumed, and this shard's in all.
    pub ran: usize,
    pub resumed: usize,
    pub in_shard: usize,
    pub wall_seconds: f64,
    pub threads: usize,
    /// The aggregated report and the files a person opens, when the sweep
    /// is whole (not one shard of several).
    pub finished: Option<(SweepReport, Vec<PathBuf>)>,
}

impl Pending {
    /// Runs the points not done yet, writing each point's file as it
    /// finishes (`on_point` is called after each), then, unless this is one
    /// shard of several, aggregates every point into the sweep's files. A
    /// stop through `control` keeps the finished points on disk and is an
    /// [`Error::Interrupted`] saying how to resume.
    pub fn run(
        self,
        control: &RunControl,
        on_point: impl Fn() + Sync + Send,
    ) -> Result<SweepOutcome, Error> {
        let Pending {
            planned,
            dir,
            shard,
            threads,
            force,
            identity,
            skip,
            in_shard,
            done,
        } = self;
        crate::budget::arm(control, force)?;
        let started = Instant::now();
        let outcome = planned.run_points(&identity, threads, &skip, control, |i, rec| {
            let path = dir.join(point_file(i));
            let written = capsim_output::write_atomic(&path, &rec.to_json())
                .map_err(Error::io(format!("writing {}", path.display())));
            on_point();
            written
        })?;
        let plan = planned.plan;
        let mut ran = 0;
        for r in outcome.into_iter().flatten() {
            r?;
            ran += 1;
        }
        let wall_seconds = started.elapsed().as_secs_f64();
        if control.cancelled() {
            // Each finished point is on disk; the sweep's tables need them all.
            return Err(crate::budget::stopped(
                control,
                format!(
                    "{} of {in_shard} points done ({ran} in this run, {done} before) in {}; run the same command again to resume",
                    ran + done,
                    dir.join("points").display()
                ),
            ));
        }
        let finished = match shard {
            Some(s) if s.of > 1 => None,
            _ => Some(merge::finish(&dir, &plan, std::slice::from_ref(&dir))?),
        };
        Ok(SweepOutcome {
            plan,
            shard,
            ran,
            resumed: done,
            in_shard,
            wall_seconds,
            threads,
            finished,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_stay_in_range() {
        assert_eq!(Shard::parse("2/4").ok(), Some(Shard { k: 2, of: 4 }));
        assert_eq!(Shard::parse("1/1").ok(), Some(Shard { k: 1, of: 1 }));
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/3"] {
            assert!(matches!(Shard::parse(bad), Err(Error::Input(_))), "{bad}");
        }
    }

    #[test]
    fn shards_deal_points_round_robin() {
        let s = |k, of| Shard { k, of };
        assert!(s(1, 3).runs(0) && s(2, 3).runs(4) && s(3, 3).runs(2));
        assert!(!s(1, 3).runs(1));
        let all: usize = (1..=4)
            .map(|k| (0..10).filter(|&i| s(k, 4).runs(i)).count())
            .sum();
        assert_eq!(all, 10);
    }
}

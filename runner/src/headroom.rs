//! `capsim headroom`: the largest traffic multiplier at which every
//! objective still holds, bracketed honestly.
//!
//! ```text
//!   HeadroomRequest ──► Search: probe ×1, then up (or down) to a probe
//!   where all replications breach, then bisect twice on the grid of
//!   `step`: the last ×m where no replication breaches, and the first ×m
//!   where all do ──► probes/xNNNN.json (atomic, resumable) ──► HeadroomReport
//! ```
//!
//! Each probe is the scenario with its traffic multiplier (a field:
//! `workload.multiplier`, `classes.NAME.multiplier` or
//! `regions.NAME.multiplier`) times m, run with the same seed and
//! replications as every other probe: replication j sees the same random
//! streams at every m (common random numbers), so verdicts move together.
//! A replication "holds" when it breached no objective. Between the last
//! multiplier where every replication holds and the first where every one
//! breaches lies the uncertain zone; the report gives both ends rather
//! than one false point.

use std::path::{Path, PathBuf};
use std::time::Instant;

use capsim_models::description::{LatencyObjective, shell_word};
use capsim_models::laws::capacity_check;
use capsim_models::{PlatformConfig, RunControl, SweepPlan};
use capsim_output::headroom::{HeadroomReport, Probe, Saturation, Traffic};
use capsim_output::sweep::{PointRecord, SWEEP_SCHEMA_VERSION, point_record};
use capsim_scenarios::{Override, Scenario, Source};

use crate::Error;
use crate::sweep::files::fnv64;

/// A headroom search as asked for.
#[derive(Clone, Debug)]
pub struct HeadroomRequest {
    pub scenario: String,
    pub variant: Option<String>,
    pub sets: Vec<String>,
    pub seed: Option<u64>,
    pub replications: Option<u64>,
    /// Scale one class's traffic (else every class's).
    pub class: Option<String>,
    /// Scale one region's users (else every region's).
    pub region: Option<String>,
    /// Resolution of the multiplier; 1/step must be a whole number.
    pub step: f64,
    /// The largest multiplier tried.
    pub max: f64,
    /// The latency figure the report shows (`p99`, …).
    pub metric: String,
    /// Of a scenario run in `[windows]`: the window searched (from 1).
    pub window: Option<u32>,
}

impl Default for HeadroomRequest {
    fn default() -> Self {
        HeadroomRequest {
            scenario: String::new(),
            variant: None,
            sets: Vec::new(),
            seed: None,
            replications: None,
            class: None,
            region: None,
            step: 0.1,
            max: 100.0,
            metric: "p99".into(),
            window: None,
        }
    }
}

/// A search ready to run: the scenario loaded, its traffic field found.
pub struct Headroom {
    req: HeadroomRequest,
    source: Source,
    fixed: Vec<Override>,
    baseline: Scenario,
    traffic: Traffic,
    /// The field's value in the scenario (1 if not given).
    base: f64,
    /// Grid points per 1.0 of multiplier (1/step).
    per_unit: u64,
    /// Highest grid index tried.
    k_max: u64,
    identity: String,
    /// The scenario's seed (a window's probes run on the window's own).
    master_seed: u64,
    /// What the operational laws say before any probe (no simulation).
    laws: Option<Saturation>,
}

/// What the search did.
pub struct HeadroomOutcome {
    pub report: HeadroomReport,
    /// Probes run now, and read back from an earlier run.
    pub ran: usize,
    pub resumed: usize,
    pub wall_seconds: f64,
    pub written: Vec<PathBuf>,
}

const PROBES_DIR: &str = "probes";

/// Loads the scenario and checks the request.
pub fn prepare(req: HeadroomRequest) -> Result<Headroom, Error> {
    let bad = |m: String| Error::Input(m);
    if !(req.step.is_finite() && req.step > 0.0 && req.step <= 1.0) {
        return Err(bad(format!(
            "--step {}: a step is above 0 and at most 1, e.g. 0.1",
            req.step
        )));
    }
    let per_unit = (1.0 / req.step).round() as u64;
    if ((per_unit as f64) * req.step - 1.0).abs() > 1e-9 || per_unit > 1000 {
        return Err(bad(format!(
            "--step {}: 1 must be a whole number of steps, at most 1000 (e.g. 0.5, 0.25, 0.1, 0.05, 0.01)",
            req.step
        )));
    }
    if !(req.max.is_finite() && req.max >= 1.0 && req.max <= 1e4) {
        return Err(bad(format!(
            "--max {}: the largest multiplier to try is at least 1 and at most 10000",
            req.max
        )));
    }
    capsim_output::sweep::metric_key(&req.metric)
        .map_err(|m| Error::Input(format!("--metric: {m}")))?;
    if req.class.is_some() && req.region.is_some() {
        return Err(bad(
            "give --class or --region, not both (a class's users in one region: scale the region, or the class)".into(),
        ));
    }
    let fixed = crate::overrides(&req.sets, req.seed, req.replications, None)?;
    let (source, fixed, baseline) = crate::load(&req.scenario, req.variant.as_deref(), fixed)?;
    // A window draws its own seed from the scenario's; reports and the
    // commands they print name the scenario's.
    let master_seed = baseline.seed;
    let baseline = baseline
        .one_window(req.window)
        .map_err(|m| bad(format!("headroom searches one horizon: {m}")))?;
    if baseline.platform.slos.is_empty() {
        return Err(bad(format!(
            "{}: headroom looks for the traffic at which an objective breaks, and the scenario has none: add [[slos]] (see docs/cost-and-slos.md)",
            source.name
        )));
    }
    if baseline.replications < 2 {
        return Err(bad(format!(
            "{}: headroom needs at least 2 replications per probe (it has {}); use --replications",
            source.name, baseline.replications
        )));
    }
    let traffic = traffic(&req, &source, &baseline)?;
    let path = traffic.path();
    let written =
        capsim_scenarios::sweep::values_at(&source.text, &fixed, std::slice::from_ref(&path));
    let base = match written[0].as_str() {
        "" => 1.0,
        v => v.parse::<f64>().map_err(|_| {
            bad(format!(
                "{}: {path} = {v} is not a number; headroom scales it",
                source.name
            ))
        })?,
    };
    let k_max = (req.max * per_unit as f64).floor() as u64;
    let identity = format!(
        "{:016x}",
        fnv64(
            format!(
                "{}\n{:?}\n{:?}\n{}\n{}\n{path}\n{per_unit}\n{}\n{:?}\n{SWEEP_SCHEMA_VERSION}",
                source.text,
                req.variant,
                req.sets,
                baseline.seed,
                baseline.replications,
                req.metric,
                req.window
            )
            .as_bytes()
        )
    );
    let mut headroom = Headroom {
        req,
        source,
        fixed,
        baseline,
        traffic,
        base,
        per_unit,
        k_max,
        identity,
        master_seed,
        laws: None,
    };
    headroom.laws = headroom.saturation();
    Ok(headroom)
}

/// Which traffic the search scales, checked against the scenario.
fn traffic(req: &HeadroomRequest, source: &Source, s: &Scenario) -> Result<Traffic, Error> {
    if let Some(c) = &req.class {
        // With regions a class has a copy per region, `NAME@REGION`.
        let mut known: Vec<String> = Vec::new();
        for cl in &s.platform.classes {
            let name = cl.name.split('@').next().unwrap_or(&cl.name).to_string();
            if !known.contains(&name) {
                known.push(name);
            }
        }
        if !known.contains(c) {
            return Err(Error::Input(format!(
                "--class {c}: {} has no class named {c} (classes: {})",
                source.name,
                known.join(", ")
            )));
        }
        return Ok(Traffic::Class(c.clone()));
    }
    if let Some(r) = &req.region {
        let known: Vec<String> = s
            .platform
            .regions
            .as_ref()
            .map(|g| g.regions.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default();
        if known.is_empty() {
            return Err(Error::Input(format!(
                "--region {r}: {} has no regions",
                source.name
            )));
        }
        if !known.contains(r) {
            return Err(Error::Input(format!(
                "--region {r}: {} has no region named {r} (regions: {})",
                source.name,
                known.join(", ")
            )));
        }
        return Ok(Traffic::Region(r.clone()));
    }
    Ok(Traffic::All)
}

/// What one probe found, and what the search knows so far.
struct Found {
    k: u64,
    breaching: u64,
}

impl Headroom {
    /// The seed and replications every probe runs with.
    pub fn replications(&self) -> u64 {
        self.baseline.replications
    }

    pub fn scenario_name(&self) -> &str {
        &self.baseline.name
    }

    /// The multiplier at which, by the operational laws, a resource's
    /// utilisation bound at the peak reaches 100% of what it can reach:
    /// the load is linear in the scaled traffic, so the check at ×1 and ×2
    /// gives each resource's share of it.
    fn saturation(&self) -> Option<Saturation> {
        let at1 = capacity_check(&self.baseline.platform);
        let (_, p2) = self.platform_at(2.0).ok()?;
        let at2 = capacity_check(&p2);
        at1.resources
            .iter()
            .zip(&at2.resources)
            .filter_map(|(r1, r2)| {
                let (u1, u2) = (
                    r1.utilization_peak_reachable(),
                    r2.utilization_peak_reachable(),
                );
                let part = u2 - u1;
                (part > 1e-12 && u1.is_finite() && u2.is_finite())
                    .then(|| (r1.label(), 1.0 + (1.0 - u1) / part))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(resource, multiplier)| Saturation {
                resource,
                multiplier: multiplier.max(0.0),
            })
    }

    /// The multiplier of grid index `k`.
    fn multiplier(&self, k: u64) -> f64 {
        k as f64 / self.per_unit as f64
    }

    /// The traffic field's value at `m` times the written, as `--set`
    /// takes it.
    fn value_at(&self, m: f64) -> String {
        format!("{}", self.base * m)
    }

    fn probe_path(dir: &Path, k: u64, per_unit: u64) -> PathBuf {
        dir.join(PROBES_DIR)
            .join(format!("x{:08}-{per_unit}.json", k))
    }

    /// The platform of the probe at `k`.
    fn platform(&self, k: u64) -> Result<(Scenario, PlatformConfig), Error> {
        self.platform_at(self.multiplier(k))
    }

    /// The scenario with its traffic at `m` times the written.
    fn platform_at(&self, m: f64) -> Result<(Scenario, PlatformConfig), Error> {
        let mut overrides = self.fixed.clone();
        let set = format!("{}={}", self.traffic.path(), self.value_at(m));
        let mut ov = Override::parse(&set).map_err(Error::Input)?;
        ov.raw = format!("from headroom ×{m}");
        overrides.push(ov);
        let s = self
            .source
            .load(&overrides)
            .map_err(|e| Error::Input(format!("the probe at ×{m}: {e}")))?
            .one_window(self.req.window)
            .map_err(Error::Input)?;
        let p = s.platform.clone();
        Ok((s, p))
    }

    /// Runs the search; `on_probe(multiplier)` is called as each probe
    /// starts. With `dir`, each probe is written there as it finishes and
    /// a second run reads them back (resume).
    pub fn run(
        self,
        dir: Option<&Path>,
        threads: usize,
        force: bool,
        control: &RunControl,
        on_probe: impl Fn(f64),
    ) -> Result<HeadroomOutcome, Error> {
        crate::budget::arm(control, force)?;
        if let Some(d) = dir {
            let probes = d.join(PROBES_DIR);
            std::fs::create_dir_all(&probes)
                .map_err(Error::io(format!("creating {}", probes.display())))?;
        }
        let started = Instant::now();
        let reps = self.baseline.replications;
        let mut probes: Vec<(u64, PointRecord)> = Vec::new();
        let mut ran = 0;
        let mut resumed = 0;
        let mut eval = |k: u64, probes: &mut Vec<(u64, PointRecord)>| -> Result<u64, Error> {
            if let Some((_, r)) = probes.iter().find(|(j, _)| *j == k) {
                return Ok(breaching(r));
            }
            on_probe(self.multiplier(k));
            let record = match dir.map(|d| self.read_probe(d, k)).transpose()?.flatten() {
                Some(r) => {
                    resumed += 1;
                    r
                }
                None => {
                    let r = self.run_probe(k, threads, force, control)?;
                    if let Some(d) = dir {
                        let path = Self::probe_path(d, k, self.per_unit);
                        capsim_output::write_atomic(&path, &r.to_json())
                            .map_err(Error::io(format!("writing {}", path.display())))?;
                    }
                    ran += 1;
                    r
                }
            };
            let b = breaching(&record);
            probes.push((k, record));
            Ok(b)
        };
        let stop = |e: Error, probes: &[(u64, PointRecord)]| -> Error {
            match e {
                Error::Interrupted(_) | Error::Overrun(_) => crate::budget::stopped(
                    control,
                    match dir {
                        Some(d) => format!(
                            "{} probes done in {}; run the same command again to resume",
                            probes.len(),
                            d.join(PROBES_DIR).display()
                        ),
                        None => format!(
                            "{} probes done (give --out to keep them and resume)",
                            probes.len()
                        ),
                    },
                ),
                e => e,
            }
        };
        let search = self.search(&mut |k| eval(k, &mut probes), reps);
        if let Err(e) = search {
            return Err(stop(e, &probes));
        }
        let wall_seconds = started.elapsed().as_secs_f64();
        let report = self.report(&probes);
        let mut written = Vec::new();
        if let Some(d) = dir {
            let (files, plots) = capsim_output::headroom::files(&report);
            written = capsim_output::write_all(d, &files)
                .map_err(Error::io(format!("writing into {}", d.display())))?;
            let plots = plots.map_err(|message| Error::Export {
                message,
                dir: d.to_path_buf(),
            })?;
            written.extend(
                capsim_output::write_all(d, &plots)
                    .map_err(Error::io(format!("writing into {}", d.display())))?,
            );
        }
        Ok(HeadroomOutcome {
            report,
            ran,
            resumed,
            wall_seconds,
            written,
        })
    }

    /// The search over grid indices; `eval(k)` returns how many
    /// replications breached at k. Assumes more traffic never helps, and
    /// reports where the probes say otherwise.
    fn search(
        &self,
        eval: &mut dyn FnMut(u64) -> Result<u64, Error>,
        reps: u64,
    ) -> Result<(), Error> {
        let one = self.per_unit;
        let mut found: Vec<Found> = Vec::new();
        let mut probe = |k: u64, found: &mut Vec<Found>| -> Result<u64, Error> {
            let b = eval(k)?;
            if !found.iter().any(|f| f.k == k) {
                found.push(Found { k, breaching: b });
            }
            Ok(b)
        };
        // An end where every replication holds, and one where every one
        // breaches: up from ×1 (by the laws' saturation, then growing), or
        // down by halving.
        let b1 = probe(one, &mut found)?;
        if b1 < reps {
            // Saturation by the laws is where an open system's queues grow
            // without bound: the probes double toward it (a limit the laws
            // do not see, a connection pool, can break far below it, and a
            // probe far past saturation costs the most), then grow by half
            // past it (the laws are pessimistic only by what they leave
            // out: a replica that takes reads, a fleet that scales).
            let hint = self.laws.as_ref().filter(|s| s.multiplier > 1.0).map(|s| {
                ((s.multiplier * one as f64).ceil() as u64).clamp(one + 1, self.k_max.max(one + 1))
            });
            let mut k = one;
            while k < self.k_max {
                k = match hint {
                    Some(h) if k < h => (k * 2).min(h),
                    Some(_) => (k as f64 * 1.5).ceil() as u64,
                    None => k * 2,
                }
                .max(k + 1)
                .min(self.k_max);
                if probe(k, &mut found)? == reps {
                    break;
                }
            }
        }
        if b1 > 0 {
            let mut k = one;
            loop {
                let b = probe(k, &mut found)?;
                if b == 0 || k <= 1 {
                    break;
                }
                k = (k / 2).max(1);
            }
        }
        // Bisect for the last index where none breaches, then for the first
        // where all do.
        for all in [false, true] {
            loop {
                let holds = |f: &Found| {
                    if all {
                        f.breaching < reps
                    } else {
                        f.breaching == 0
                    }
                };
                let lo = found.iter().filter(|f| holds(f)).map(|f| f.k).max();
                let hi = found
                    .iter()
                    .filter(|f| !holds(f) && lo.is_none_or(|l| f.k > l))
                    .map(|f| f.k)
                    .min();
                match (lo, hi) {
                    (Some(l), Some(h)) if h > l + 1 => {
                        probe(l + (h - l) / 2, &mut found)?;
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }

    /// A probe file of this search, if there is one.
    fn read_probe(&self, dir: &Path, k: u64) -> Result<Option<PointRecord>, Error> {
        let path = Self::probe_path(dir, k, self.per_unit);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()))(e)),
        };
        let bad = |why: &str| {
            Error::Input(format!(
                "{}: {why}; delete it (or the directory) and run again",
                path.display()
            ))
        };
        let r = PointRecord::from_json(&bytes).map_err(|m| bad(&m))?;
        if r.plan != self.identity {
            return Err(bad(
                "it belongs to another headroom search (its scenario, overrides, seed, replications, traffic, step, window or capsim's point format differ): use another --out",
            ));
        }
        if !r.checksum_matches() {
            return Err(bad("it was changed after it was written (checksum)"));
        }
        Ok(Some(r))
    }

    /// Runs the probe at `k`: every replication, under the budget.
    fn run_probe(
        &self,
        k: u64,
        threads: usize,
        force: bool,
        control: &RunControl,
    ) -> Result<PointRecord, Error> {
        let (scenario, platform) = self.platform(k)?;
        crate::budget::gate(&scenario, threads, 1, force).map_err(|e| match e {
            Error::Input(m) => Error::Input(format!(
                "the probe at ×{}: {m} (or lower --max)",
                self.multiplier(k)
            )),
            e => e,
        })?;
        let plan = self.plan(k);
        let identity = &self.identity;
        let mut out = capsim_models::run_points(
            std::slice::from_ref(&platform),
            self.baseline.seed,
            self.baseline.replications,
            threads,
            &[false],
            control,
            |_, results| {
                let mut rec = point_record(&plan, identity, 0, &results);
                add_utilisations(&mut rec, &results);
                add_tails(&mut rec, &results, &platform.slos);
                rec
            },
        )?;
        match out.pop().flatten() {
            Some(r) if !control.cancelled() => Ok(r),
            _ => Err(Error::Interrupted(String::new())),
        }
    }

    /// A one-point plan naming the probe (what its record carries).
    fn plan(&self, k: u64) -> SweepPlan {
        SweepPlan {
            schema_version: SWEEP_SCHEMA_VERSION,
            scenario: self.baseline.name.clone(),
            source: self.req.scenario.clone(),
            scenario_fnv64: format!("{:016x}", fnv64(self.source.text.as_bytes())),
            sets: self.req.sets.clone(),
            seed: self.baseline.seed,
            replications: self.baseline.replications,
            sample: format!("headroom:{}", self.req.step),
            metric: self.req.metric.clone(),
            params: vec![self.traffic.path()],
            latency_objectives: Vec::new(),
            windows: None,
            points: vec![vec![self.value_at(self.multiplier(k))]],
        }
    }

    fn report(&self, probes: &[(u64, PointRecord)]) -> HeadroomReport {
        let metric = format!("latency_{}_ms", self.req.metric);
        let mut sorted: Vec<&(u64, PointRecord)> = probes.iter().collect();
        sorted.sort_by_key(|(k, _)| *k);
        let probes: Vec<Probe> = sorted
            .iter()
            .map(|(k, r)| Probe::of(self.multiplier(*k), r, &metric))
            .collect();
        let mut reproduce = format!("capsim run {}", shell_word(&self.req.scenario));
        if let Some(v) = &self.req.variant {
            reproduce.push_str(&format!(" --variant {}", shell_word(v)));
        }
        for s in &self.req.sets {
            reproduce.push_str(&format!(" --set {}", shell_word(s)));
        }
        if let Some(k) = self.req.window {
            reproduce.push_str(&format!(" --window {k}"));
        }
        HeadroomReport::new(
            &self.baseline.name,
            self.master_seed,
            self.baseline.replications,
            self.traffic.clone(),
            self.base,
            self.req.step,
            self.req.max,
            &self.req.metric,
            // A closed class's rate is a bound, not what it offers: no
            // offered load to state then.
            if self
                .baseline
                .platform
                .classes
                .iter()
                .any(|c| c.arrivals.closed.is_some())
            {
                0.0
            } else {
                self.baseline.platform.mean_rate_per_s()
            },
            LatencyObjective::of(&self.baseline.platform.slos)
                .into_iter()
                .map(|o| (o.name, o.threshold_ms))
                .collect(),
            self.baseline
                .platform
                .slos
                .iter()
                .filter(|s| {
                    matches!(
                        s.objective,
                        capsim_models::slo::Objective::ErrorRate { .. }
                            | capsim_models::slo::Objective::Availability { .. }
                    )
                })
                .map(|s| s.name.clone())
                .collect(),
            probes,
            self.laws.clone(),
            reproduce,
        )
    }
}

/// Replications of a probe that breached at least one objective.
fn breaching(r: &PointRecord) -> u64 {
    r.samples("slos_breached")
        .iter()
        .filter(|&&x| x > 0.0)
        .count() as u64
}

/// Each tier's utilisation per replication (`util:TIER`), for "what
/// saturates first".
fn add_utilisations(rec: &mut PointRecord, results: &[capsim_models::ReplicationResult]) {
    let Some(first) = results.first() else {
        return;
    };
    for (i, t) in first.tiers.iter().enumerate() {
        if t.metric("utilization").is_none() {
            continue;
        }
        rec.figures.push(format!("util:{}", t.name));
        for (row, r) in rec.replications.iter_mut().zip(results) {
            row.push(r.tiers[i].metric("utilization").filter(|x| x.is_finite()));
        }
    }
    // Where errors come from (`errs:TIER`, requests a tier rejected or
    // failed, per replication): for an error-rate or availability breach.
    for (i, t) in first.tiers.iter().enumerate() {
        if t.metric("rejected").is_none() && t.metric("errors").is_none() {
            continue;
        }
        rec.figures.push(format!("errs:{}", t.name));
        for (row, r) in rec.replications.iter_mut().zip(results) {
            let tier = &r.tiers[i];
            let n = tier.metric("rejected").unwrap_or(0.0) + tier.metric("errors").unwrap_or(0.0);
            row.push(Some(n).filter(|x| x.is_finite()));
        }
    }
}

/// For each end-to-end latency objective, where the time of its slowest
/// requests went, per replication (`tail:OBJECTIVE:PART`): the parts of the
/// slowest 1% of each of its classes, weighted by the class's answered
/// requests, as shares of their sum. "What breaks first" then says which
/// tier's queue or service a latency breach comes from.
fn add_tails(
    rec: &mut PointRecord,
    results: &[capsim_models::ReplicationResult],
    slos: &[capsim_models::slo::SloConfig],
) {
    use std::collections::BTreeMap;
    let Some(first) = results.first() else {
        return;
    };
    for slo in slos {
        if !matches!(slo.objective, capsim_models::slo::Objective::Latency { .. }) {
            continue;
        }
        let classes: Vec<usize> = if slo.classes.is_empty() {
            (0..first.classes.len()).collect()
        } else {
            slo.classes.iter().map(|&c| c as usize).collect()
        };
        let label = |t: Option<capsim_models::TierId>, part: capsim_models::results::Part| {
            capsim_output::breakdown::part_label(
                t.map(|t| first.tiers[t as usize].name.as_str()),
                part.label(),
            )
        };
        let per_rep: Vec<BTreeMap<String, f64>> = results
            .iter()
            .map(|r| {
                let mut parts = BTreeMap::new();
                for &c in &classes {
                    let class = &r.classes[c];
                    let n = class.latency.count() as f64;
                    let b = &class.breakdown;
                    for (k, comp) in b.components.iter().enumerate() {
                        let ms = b.tail_mean_ms.get(k).copied().unwrap_or(f64::NAN);
                        if ms.is_finite() && n > 0.0 {
                            *parts.entry(label(comp.tier, comp.part)).or_insert(0.0) += ms * n;
                        }
                    }
                }
                let total: f64 = parts.values().sum();
                parts
                    .into_iter()
                    .map(|(k, v)| (k, if total > 0.0 { v / total } else { f64::NAN }))
                    .collect()
            })
            .collect();
        let mut labels: Vec<&String> = per_rep.iter().flat_map(|m| m.keys()).collect();
        labels.sort();
        labels.dedup();
        let labels: Vec<String> = labels.into_iter().cloned().collect();
        for l in labels {
            rec.figures.push(format!("tail:{}:{l}", slo.name));
            for (row, m) in rec.replications.iter_mut().zip(&per_rep) {
                row.push(Some(m.get(&l).copied().unwrap_or(0.0)).filter(|x| x.is_finite()));
            }
        }
    }
}

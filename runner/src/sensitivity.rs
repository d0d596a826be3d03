//! `capsim sensitivity`: each numeric input moved down and up by a
//! fraction, one at a time, as a sweep.
//!
//! ```text
//!   SensitivityRequest ──► inputs (named, or every number and duration of
//!   the file) ──► per input: −x% and +x%, each loaded and checked
//!   ──► a sweep plan (sample "one-at-a-time:x") ──► the sweep machinery:
//!   common random numbers, shards, resume, merge ──► sweep files plus
//!   sensitivity.json, sensitivity.csv, report.md, plots/tornado
//! ```

use capsim_models::description::LatencyObjective;
use capsim_models::description::ONE_AT_A_TIME;
use capsim_models::{PlatformConfig, SweepPlan};
use capsim_output::sweep::SWEEP_SCHEMA_VERSION;
use capsim_scenarios::Override;
use capsim_scenarios::sensitivity::{numeric_inputs, perturb};
use capsim_scenarios::sweep::{MAX_POINTS, values_at};

use crate::Error;
use crate::sweep::Planned;
use crate::sweep::files::fnv64;

/// A sensitivity analysis as asked for.
#[derive(Clone, Debug)]
pub struct SensitivityRequest {
    pub scenario: String,
    pub sets: Vec<String>,
    pub seed: Option<u64>,
    pub replications: Option<u64>,
    /// The fields to move (empty: every number and duration of the file).
    pub inputs: Vec<String>,
    /// How far, as a fraction (0.1 for ±10%).
    pub fraction: f64,
    /// The latency figure ranked (`p99`, …).
    pub metric: String,
    /// Of a scenario run in `[windows]`: the window analysed (from 1).
    pub window: Option<u32>,
}

/// A side of an input that is not run, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub input: String,
    pub value: String,
    pub why: String,
}

/// Plans the analysis: every point loaded and checked. Sides whose moved
/// value the scenario refuses (a ratio above 1, zero instances) are left
/// out and returned with the reason.
pub fn plan(req: &SensitivityRequest) -> Result<(Planned, Vec<Skipped>), Error> {
    if !(req.fraction.is_finite() && req.fraction > 0.0 && req.fraction < 1.0) {
        return Err(Error::Input(format!(
            "--by {}: a change is a percentage above 0% and below 100%, e.g. 10%",
            req.fraction * 100.0
        )));
    }
    capsim_output::sweep::metric_key(&req.metric)
        .map_err(|m| Error::Input(format!("--metric: {m}")))?;
    let fixed = crate::overrides(&req.sets, req.seed, req.replications, None)?;
    let (source, fixed, baseline) = crate::load(&req.scenario, None, fixed)?;
    let windowed = baseline.windows.is_some();
    let baseline = baseline
        .one_window(req.window)
        .map_err(|m| Error::Input(format!("sensitivity analyses one horizon: {m}")))?;
    if baseline.replications < 2 {
        return Err(Error::Input(format!(
            "{}: sensitivity needs at least 2 replications per point for its paired intervals (it has {}); use --replications",
            source.name, baseline.replications
        )));
    }
    let inputs = if req.inputs.is_empty() {
        // One window's inputs: the chain's own fields do not apply.
        numeric_inputs(&source.text, &fixed)
            .into_iter()
            .filter(|p| !(windowed && p.starts_with("windows.")))
            .collect()
    } else {
        req.inputs.clone()
    };
    if inputs.is_empty() {
        return Err(Error::Input(format!(
            "{}: no numeric input to move",
            source.name
        )));
    }
    let base = values_at(&source.text, &fixed, &inputs);
    let mut points = vec![base.clone()];
    let mut platforms: Vec<PlatformConfig> = vec![baseline.platform.clone()];
    let mut skipped = Vec::new();
    for (i, path) in inputs.iter().enumerate() {
        if base[i].is_empty() {
            return Err(Error::Input(format!(
                "--input {path}: {} does not give this field (a default cannot be moved: write it into the scenario, or --set it)",
                source.name
            )));
        }
        // A whole number in the file is a count only where the field takes
        // nothing else (servers, workers): `rate_per_s = 2` is a rate, and
        // moving it by one would be ±50%.
        let text = match base[i].trim().parse::<i64>() {
            Ok(n) => {
                let mut ov = Override::parse(&format!("{path}={n}.5"))
                    .map_err(|m| Error::Input(format!("--input {path}: {m}")))?;
                ov.raw = format!("from sensitivity: {path}={n}.5");
                let mut overrides = fixed.clone();
                overrides.push(ov);
                if source.load(&overrides).is_ok() {
                    format!("{n}.0")
                } else {
                    base[i].clone()
                }
            }
            Err(_) => base[i].clone(),
        };
        let sides = perturb(&text, req.fraction)
            .map_err(|m| Error::Input(format!("--input {path}: {m}")))?;
        for moved in sides.into_iter().flatten() {
            let set = format!("{path}={}", moved.text);
            let mut ov = Override::parse(&set).map_err(|m| Error::Input(format!("{set}: {m}")))?;
            ov.raw = format!("from sensitivity: {set}");
            let mut overrides = fixed.clone();
            overrides.push(ov);
            let one = source
                .load(&overrides)
                .map_err(|e| {
                    e.diagnostics
                        .first()
                        .map_or_else(|| e.to_string(), |d| d.message.clone())
                })
                .and_then(|s| s.one_window(req.window));
            match one {
                Ok(s) => {
                    let mut row = base.clone();
                    row[i] = moved.text;
                    points.push(row);
                    platforms.push(s.platform);
                }
                Err(why) => skipped.push(Skipped {
                    input: path.clone(),
                    value: moved.text,
                    why,
                }),
            }
        }
        if points.len() > MAX_POINTS {
            return Err(Error::Input(format!(
                "more than {MAX_POINTS} points: name fewer inputs with --input"
            )));
        }
    }
    let plan = SweepPlan {
        schema_version: SWEEP_SCHEMA_VERSION,
        scenario: baseline.name.clone(),
        source: req.scenario.clone(),
        scenario_fnv64: format!("{:016x}", fnv64(source.text.as_bytes())),
        sets: req.sets.clone(),
        seed: baseline.seed,
        replications: baseline.replications,
        sample: format!("{ONE_AT_A_TIME}:{}", req.fraction),
        metric: req.metric.clone(),
        params: inputs,
        latency_objectives: LatencyObjective::of(&baseline.platform.slos),
        windows: None,
        points,
    };
    Ok((Planned::from_parts(baseline, plan, platforms), skipped))
}

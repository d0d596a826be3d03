//! Every figure of a run, replication by replication: `replications.csv`.
//!
//! ```text
//!   ReplicationResult[j] ──► Summary of replication j alone ──► flatten ──► rows (j, figure, value)
//! ```
//!
//! A figure is named by its path in `summary.json` (`latency_ms.p99`,
//! `classes.browse.requests.failed`, `tiers.db.utilization`, ...), and its
//! value for replication `j` is what the summary averages for it: the
//! summary of replication `j` alone gives it, so the two cannot drift apart.
//! `capsim compare` pairs two runs by these rows: replication `j` of two runs
//! with the same seed saw the same random streams.

use std::collections::HashMap;

use serde_json::Value;

use capsim_models::{ReplicationResult, RunDescription};

use crate::summary::{RunInfo, Summary};

/// Each replication's figures: indices of the replications (from 0, as
/// the run numbered them), the figure names in summary order, and one value
/// per figure and replication (NaN where a replication has none).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationTable {
    pub scenario: String,
    pub seed: u64,
    pub replications: Vec<u64>,
    pub figures: Vec<String>,
    /// `values[f][j]`: figure `f` in the `j`-th of `replications`.
    pub values: Vec<Vec<f64>>,
}

/// The figures of `summary` in order, each with its estimate. A figure is
/// an `{"estimate", "ci95"}` object; an objective's `replications_breached`
/// is one too (`slos.NAME.breached`, 0 or 1 for one replication).
pub fn flatten(summary: &Summary) -> Vec<(String, f64)> {
    let value = serde_json::to_value(summary).expect("a summary always serialises");
    let mut out = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            // How the run went as a computation, not a figure of the system.
            if k != "engine" {
                walk(&k, &v, &mut out);
            }
        }
    }
    out
}

fn walk(path: &str, v: &Value, out: &mut Vec<(String, f64)>) {
    if let Value::Array(items) = v {
        // A list of records (a class's breakdown parts) names each by its
        // text fields: `classes.browse.breakdown.pg.pool_wait.mean_ms`.
        for item in items {
            if let Value::Object(m) = item {
                let name: Vec<&str> = m.values().filter_map(Value::as_str).collect();
                walk(&format!("{path}.{}", name.join(".")), item, out);
            }
        }
        return;
    }
    let Value::Object(map) = v else {
        return;
    };
    if map.contains_key("estimate") && map.contains_key("ci95") {
        out.push((
            path.to_string(),
            map["estimate"].as_f64().unwrap_or(f64::NAN),
        ));
        return;
    }
    for (k, child) in map {
        if k == "replications_breached" {
            let n = child.as_f64().unwrap_or(f64::NAN);
            out.push((format!("{path}.breached"), n));
        } else {
            walk(&format!("{path}.{k}"), child, out);
        }
    }
}

impl ReplicationTable {
    /// The table of a run: `results` in replication order, numbered as the
    /// summary says (the completed ones of an interrupted run).
    pub fn of(run: &RunDescription, summary: &Summary, results: &[ReplicationResult]) -> Self {
        let info = RunInfo {
            run,
            scenario: &summary.scenario,
            description: &summary.description,
            seed: summary.seed,
            simulated_seconds: summary.simulated_seconds,
            warmup_seconds: summary.warmup_seconds,
            wall_seconds: 0.0,
            threads: 0,
        };
        let replications: Vec<u64> = match &summary.interruption {
            Some(i) => i.completed_replications.clone(),
            None => (0..results.len() as u64).collect(),
        };
        let mut figures: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut values: Vec<Vec<f64>> = Vec::new();
        for (j, r) in results.iter().enumerate() {
            let one = Summary::new(&info, std::slice::from_ref(r));
            for (name, x) in flatten(&one) {
                // Autoscaling gives replications different units: a unit's
                // figures start where a replication first has it.
                let f = *index.entry(name.clone()).or_insert_with(|| {
                    figures.push(name);
                    values.push(vec![f64::NAN; results.len()]);
                    values.len() - 1
                });
                values[f][j] = x;
            }
        }
        ReplicationTable {
            scenario: summary.scenario.clone(),
            seed: summary.seed,
            replications,
            figures,
            values,
        }
    }

    /// `replications.csv`: `scenario,seed,replication,figure,value`, one row
    /// per replication and figure, replication by replication; the value
    /// exact (it reads back bit for bit), empty where there is none.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let seed = self.seed.to_string();
        w.write_record(["scenario", "seed", "replication", "figure", "value"])
            .expect("writing to memory cannot fail");
        for (j, rep) in self.replications.iter().enumerate() {
            let rep = rep.to_string();
            for (f, name) in self.figures.iter().enumerate() {
                let x = self.values[f][j];
                let value = if x.is_finite() {
                    x.to_string()
                } else {
                    String::new()
                };
                w.write_record([self.scenario.as_str(), &seed, &rep, name, &value])
                    .expect("writing to memory cannot fail");
            }
        }
        w.into_inner().expect("writing to memory cannot fail")
    }

    /// Reads `replications.csv` back. An error says what is wrong and on
    /// which line.
    pub fn from_csv(bytes: &[u8]) -> Result<ReplicationTable, String> {
        let mut r = csv::ReaderBuilder::new().from_reader(bytes);
        let header = r.headers().map_err(|e| format!("unreadable header: {e}"))?;
        if header != vec!["scenario", "seed", "replication", "figure", "value"] {
            return Err(
                "line 1: expected the header scenario,seed,replication,figure,value".into(),
            );
        }
        let mut table = ReplicationTable {
            scenario: String::new(),
            seed: 0,
            replications: Vec::new(),
            figures: Vec::new(),
            values: Vec::new(),
        };
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| format!("line {line}: {e}"))?;
            let field = |k: usize, name: &str| -> Result<&str, String> {
                rec.get(k)
                    .ok_or_else(|| format!("line {line}: no {name} field"))
            };
            let seed: u64 = field(1, "seed")?
                .parse()
                .map_err(|_| format!("line {line}, field seed: not a whole number"))?;
            let rep: u64 = field(2, "replication")?
                .parse()
                .map_err(|_| format!("line {line}, field replication: not a whole number"))?;
            let name = field(3, "figure")?;
            let text = field(4, "value")?;
            let x = if text.is_empty() {
                f64::NAN
            } else {
                text.parse::<f64>()
                    .map_err(|_| format!("line {line}, field value: `{text}` is not a number"))?
            };
            if i == 0 {
                table.scenario = field(0, "scenario")?.to_string();
                table.seed = seed;
            } else if seed != table.seed || field(0, "scenario")? != table.scenario {
                return Err(format!(
                    "line {line}: scenario and seed differ from line 2's: not one run"
                ));
            }
            if table.replications.last() != Some(&rep) {
                if table.replications.contains(&rep) {
                    return Err(format!(
                        "line {line}, field replication: replication {rep} appears twice"
                    ));
                }
                table.replications.push(rep);
                for v in &mut table.values {
                    v.push(f64::NAN);
                }
            }
            let j = table.replications.len() - 1;
            let f = *index.entry(name.to_string()).or_insert_with(|| {
                table.figures.push(name.to_string());
                table.values.push(vec![f64::NAN; j + 1]);
                table.values.len() - 1
            });
            table.values[f][j] = x;
        }
        if table.replications.is_empty() {
            return Err("no rows: no replication's figures".into());
        }
        Ok(table)
    }

    /// Figure `name`'s values, replication by replication.
    pub fn samples(&self, name: &str) -> Option<&[f64]> {
        self.figures
            .iter()
            .position(|f| f == name)
            .map(|i| self.values[i].as_slice())
    }
}

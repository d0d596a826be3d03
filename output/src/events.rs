//! `events.csv`: what happened when, in every replication: scaling actions,
//! failures and recoveries, and SLO breach windows.
//!
//! Columns (fixed order): `scenario`, `seed`, `replication` (1-based),
//! `time_s` (seconds since the start of the run), `kind` (`scaling`,
//! `failure`, `routing`, `slo_breach`), `tier`, `unit` (failures; the region
//! for routing), `from` and `to` (scaling: desired units; routing: `alive`,
//! `dead`), `detail` (the scaling reason, the failure kind, what routing
//! does, or the objective's name).
//! Rows are sorted by replication, then time, then kind.

use capsim_models::{ReplicationResult, RunDescription};

struct Row {
    replication: u64,
    time_s: f64,
    order: u8,
    kind: &'static str,
    tier: String,
    unit: String,
    from: String,
    to: String,
    detail: String,
}

/// The CSV bytes, header included.
pub fn events_csv(run: &RunDescription, seed: u64, results: &[ReplicationResult]) -> Vec<u8> {
    let mut rows: Vec<Row> = Vec::new();
    for r in results {
        scaling_rows(r, &mut rows);
        failure_rows(r, &mut rows);
        routing_rows(run, r, &mut rows);
        breach_rows(run, r, &mut rows);
    }
    // Stable: events of one kind keep the order they happened in.
    rows.sort_by(|a, b| {
        a.replication
            .cmp(&b.replication)
            .then(a.time_s.total_cmp(&b.time_s))
            .then(a.order.cmp(&b.order))
    });
    to_csv(&run.scenario, seed, rows)
}

/// Replication `r`'s scaling actions.
fn scaling_rows(r: &ReplicationResult, rows: &mut Vec<Row>) {
    for e in &r.scaling {
        rows.push(Row {
            replication: r.replication + 1,
            time_s: e.at.as_secs_f64(),
            order: 0,
            kind: "scaling",
            tier: r.tiers[e.tier as usize].name.clone(),
            unit: String::new(),
            from: e.from.to_string(),
            to: e.to.to_string(),
            detail: e.reason.clone(),
        });
    }
}

/// Replication `r`'s failures and recoveries of units.
fn failure_rows(r: &ReplicationResult, rows: &mut Vec<Row>) {
    for f in &r.failures {
        rows.push(Row {
            replication: r.replication + 1,
            time_s: f.at.as_secs_f64(),
            order: 1,
            kind: "failure",
            tier: r.tiers[f.tier as usize].name.clone(),
            unit: f.unit.to_string(),
            from: String::new(),
            to: String::new(),
            detail: f.what.to_string(),
        });
    }
}

/// Replication `r`'s regions going dead or alive for routing.
fn routing_rows(run: &RunDescription, r: &ReplicationResult, rows: &mut Vec<Row>) {
    for e in &r.routing {
        let name = run
            .regions
            .get(e.region as usize)
            .map_or("", |region| region.name.as_str());
        let (from, to, detail) = if e.alive {
            (
                "dead",
                "alive",
                format!("{name}: alive again at this health check; its users come back"),
            )
        } else {
            (
                "alive",
                "dead",
                format!(
                    "{name}: an API tier has no instance in service; its users go to the next region"
                ),
            )
        };
        rows.push(Row {
            replication: r.replication + 1,
            time_s: e.at.as_secs_f64(),
            order: 1,
            kind: "routing",
            tier: String::new(),
            unit: name.to_string(),
            from: from.into(),
            to: to.into(),
            detail,
        });
    }
}

/// Replication `r`'s starts of SLO evaluation windows that breached.
fn breach_rows(run: &RunDescription, r: &ReplicationResult, rows: &mut Vec<Row>) {
    for (i, s) in r.slos.iter().enumerate() {
        let tier = run.objectives[i].tier.clone().unwrap_or_default();
        for &t in &s.breach_starts_s {
            rows.push(Row {
                replication: r.replication + 1,
                time_s: t,
                order: 2,
                kind: "slo_breach",
                tier: tier.clone(),
                unit: String::new(),
                from: String::new(),
                to: String::new(),
                detail: s.name.clone(),
            });
        }
    }
}

/// The sorted rows as CSV, header first.
fn to_csv(scenario: &str, seed: u64, rows: Vec<Row>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "seed",
        "replication",
        "time_s",
        "kind",
        "tier",
        "unit",
        "from",
        "to",
        "detail",
    ])
    .expect("writing to memory");
    for r in rows {
        w.write_record([
            scenario.to_string(),
            seed.to_string(),
            r.replication.to_string(),
            format!("{}", r.time_s),
            r.kind.to_string(),
            r.tier,
            r.unit,
            r.from,
            r.to,
            r.detail,
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

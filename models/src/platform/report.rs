//! Collecting a replication's results at the end of the run.

use sim_engine::SimTime;

use super::{NO_TXN, Platform, Tier, TxnState};
use crate::results::{ClassResult, ReplicationResult, TierResult, TrafficCost, UnitResult};
use crate::series::{LATENCY_SERIES, Spec, latency_series, merged_latency};

impl Platform<'_> {
    // ---- results ---------------------------------------------------------

    pub(super) fn warmup_end(&mut self, now: SimTime) {
        for tier in &mut self.tiers {
            match tier {
                Tier::Api(a) => a.restart_statistics(now),
                Tier::Workers(w) => w.restart_statistics(now),
                Tier::Cache(c) => c.restart_statistics(now),
                _ => {}
            }
        }
    }

    /// Collects the replication's results at the end of the run.
    pub fn finish_run(mut self, now: SimTime, replication: u64, events: u64) -> ReplicationResult {
        self.bill_remaining(now);
        for tier in &mut self.tiers {
            tier.settle_units();
        }
        for (_, t) in self.txns.iter() {
            if t.measured && t.state != TxnState::Done {
                self.classes[t.class as usize].counts.in_flight += 1;
            }
        }
        for (_, a) in self.attempts.iter() {
            if a.txn == NO_TXN && a.measured && !a.stopped {
                self.classes[a.class as usize].counts.in_flight += 1;
            }
        }
        // Every class's answered requests, per interval: the classes' series
        // merged (bucket counts add exactly).
        let all_latency = merged_latency(self.classes.iter().map(|c| &c.latency_series))
            .map(|all| latency_series(&all))
            .expect("at least one class");
        let classes: Vec<ClassResult> = self
            .classes
            .into_iter()
            .zip(&self.cfg.classes)
            .map(|(state, cfg)| ClassResult {
                name: cfg.name.clone(),
                counts: state.counts,
                client: state.client,
                latency: state.latency.finish(),
                series: state.series,
                latency_series: latency_series(&state.latency_series),
                region: cfg.region,
                served_by: state.served_by,
            })
            .collect();
        let lengths = Spec {
            interval: self.cfg.series_interval,
            horizon: self.cfg.horizon,
        }
        .lengths();
        let tiers = self
            .tiers
            .iter_mut()
            .zip(&self.cfg.tiers)
            .zip(&self.costs)
            .map(|((state, cfg), cost)| {
                let mut series = match &mut *state {
                    Tier::Station(s) => s.series(),
                    Tier::Api(a) => a.series(),
                    Tier::Cache(c) => c.series(),
                    Tier::Database(d) => d.series(),
                    Tier::Workers(w) => w.series(),
                    Tier::Cdn {
                        requests_series,
                        hits_series,
                        ..
                    } => {
                        let zeros = vec![0.0; lengths.len()];
                        vec![
                            ("arrivals", requests_series.values().to_vec()),
                            ("completed", requests_series.values().to_vec()),
                            ("errors", zeros.clone()),
                            ("utilization", zeros.clone()),
                            ("queue_length", zeros),
                            (
                                "hit_ratio",
                                crate::series::divide(
                                    hits_series.values(),
                                    requests_series.values(),
                                ),
                            ),
                        ]
                    }
                };
                let latency = match &*state {
                    Tier::Station(s) => unit_latency(&s.unit).cloned(),
                    Tier::Api(a) => Some(a.latency_series.clone()),
                    Tier::Cache(c) => {
                        merged_latency(c.shards.iter().filter_map(|s| unit_latency(&s.unit)))
                    }
                    Tier::Database(d) => {
                        merged_latency(d.nodes.iter().filter_map(|n| unit_latency(&n.pool)))
                    }
                    Tier::Workers(w) => Some(w.latency_series.clone()),
                    Tier::Cdn { .. } => None,
                };
                match latency {
                    Some(l) => series.extend(latency_series(&l)),
                    None => series.extend(
                        LATENCY_SERIES
                            .iter()
                            .map(|&(name, _)| (name, vec![f64::NAN; lengths.len()])),
                    ),
                }
                series.push(("cost_usd", cost.series.values().to_vec()));
                let state = &*state;
                let (mut metrics, units, unit_prefix) = match state {
                    Tier::Station(s) => (s.metrics(), Vec::new(), ""),
                    Tier::Api(a) => (a.metrics(now), a.unit_metrics(), "instance"),
                    Tier::Cache(c) => (c.metrics(now), c.unit_metrics(), "shard"),
                    Tier::Database(d) => (d.metrics(), d.unit_metrics(), "node"),
                    Tier::Workers(w) => (w.metrics(now), Vec::new(), ""),
                    Tier::Cdn { requests, hits, .. } => {
                        let secs = self.window.len_ns() as f64 / 1e9;
                        let hit_ratio = if *requests == 0 {
                            f64::NAN
                        } else {
                            *hits as f64 / *requests as f64
                        };
                        (
                            vec![
                                ("utilization", 0.0),
                                ("queue_wait_ms", 0.0),
                                ("queue_length", 0.0),
                                ("throughput_per_s", *requests as f64 / secs),
                                ("hit_ratio", hit_ratio),
                                ("edge_hits", *hits as f64),
                                ("origin_requests", (*requests - *hits) as f64),
                            ],
                            Vec::new(),
                            "",
                        )
                    }
                };
                metrics.push(("cost_usd", cost.total_usd));
                // A region's replica set lists its replicas only.
                let stand_in = matches!(state, Tier::Database(d) if !d.local_primary);
                let units = units
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| !(stand_in && *i == 0))
                    .map(|(i, metrics)| UnitResult {
                        name: match (state, i) {
                            (Tier::Database(_), 0) => "primary".to_string(),
                            (Tier::Database(_), i) => format!("replica-{i}"),
                            _ => format!("{unit_prefix}-{i}"),
                        },
                        metrics,
                    })
                    .collect();
                TierResult {
                    name: cfg.name.clone(),
                    kind: cfg.kind.label(),
                    metrics,
                    units,
                    series,
                }
            })
            .collect();
        let slos = self
            .slos
            .into_iter()
            .zip(&self.cfg.slos)
            .map(|(t, c)| t.finish(&c.name))
            .collect();
        let [cdn, egress] = self.traffic;
        let traffic = TrafficCost {
            cdn_usd: cdn.total_usd,
            egress_usd: egress.total_usd,
            series: cdn
                .series
                .values()
                .iter()
                .zip(egress.series.values())
                .map(|(a, b)| a + b)
                .collect(),
        };
        ReplicationResult {
            replication,
            events,
            measured: self.cfg.measured(),
            classes,
            tiers,
            failures: self.failure_log,
            scaling: self.scaling_log,
            slos,
            traffic,
            latency_series: all_latency,
            region_latency_series: self.region_latency.iter().map(latency_series).collect(),
            routing: self.routing_log,
        }
    }
}

/// A unit's sojourn times per interval, if it keeps them.
fn unit_latency(u: &crate::fcfs::FcfsUnit) -> Option<&sim_engine::IntervalLatency> {
    u.series()?.jobs.as_ref().map(|j| &j.latency)
}

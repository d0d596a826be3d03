//! Collecting a replication's results at the end of the run.

use std::collections::VecDeque;

use sim_engine::{Chunk, SimTime, Spill};

use super::{NO_TXN, Platform, TxnState};
use crate::cost::{SURPLUS_LINE, bytes_to_gb};
use crate::results::{
    BillLine, ClassResult, Figure, ListPrice, LoadBalancerCost, ReplicationResult, ScaledUnits,
    TierBill, TierResult, TrafficCost, Unit,
};
use crate::series::{LATENCY_SERIES, Spec, latency_series};
use crate::tier::{TierId, TierKind};

impl Platform<'_> {
    pub(super) fn warmup_end(&mut self, now: SimTime) {
        for t in 0..self.tiers.len() as TierId {
            self.tiers.model(t).restart_statistics(now);
        }
    }

    /// Collects the replication's results at the end of the run. In a long
    /// run the results' series are parked in the spill as they are made and
    /// read back once the run's state is freed: the two are never held at
    /// once.
    pub fn finish_run(mut self, now: SimTime, replication: u64, events: u64) -> ReplicationResult {
        let mut parked = Parked {
            spill: std::mem::take(&mut self.spill),
            chunks: VecDeque::new(),
        };
        let mut result = self.results(now, replication, events, &mut parked);
        parked.unpark(&mut result);
        result
    }

    /// The results, their series parked; the run's state is dropped at the
    /// end.
    fn results(
        mut self,
        now: SimTime,
        replication: u64,
        events: u64,
        parked: &mut Parked,
    ) -> ReplicationResult {
        self.bill_remaining(now);
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
        self.close_intervals_before(usize::MAX, now);
        let tiers = (0..self.tiers.len() as TierId)
            .map(|t| {
                let spill = &parked.spill;
                self.tiers.model(t).accumulators(&mut |a| a.restore(spill));
                let mut r = self.tier_result(t, now);
                parked.park(tier_series(&mut r));
                r
            })
            .collect();
        let classes: Vec<ClassResult> = self
            .classes
            .into_iter()
            .zip(&self.cfg.classes)
            .zip(self.breakdown.finish())
            .map(|((mut state, cfg), breakdown)| {
                state.latency_series.restore(&parked.spill);
                let mut c = ClassResult {
                    name: cfg.name.clone(),
                    counts: state.counts,
                    client: state.client,
                    latency: state.latency.finish(),
                    series: state.series.finish(&parked.spill),
                    latency_series: latency_series(&state.latency_series),
                    region: cfg.region,
                    served_by: state.served_by,
                    breakdown,
                };
                parked.park(class_series(&mut c));
                c
            })
            .collect();
        self.all_latency.restore(&parked.spill);
        let all_latency = latency_series(&self.all_latency);
        let region_latency = (self.region_latency.iter_mut())
            .map(|r| {
                r.restore(&parked.spill);
                latency_series(r)
            })
            .collect();
        let slos = self
            .slos
            .into_iter()
            .zip(&self.cfg.slos)
            .map(|(t, c)| t.finish(&c.name))
            .collect();
        let [cdn, egress, cross] = self.traffic;
        let traffic = TrafficCost {
            cdn_usd: cdn.total_usd,
            egress_usd: egress.total_usd,
            cross_region_usd: cross.total_usd,
            cross_region_gb: bytes_to_gb(self.cross_region_bytes),
            cross_region_per_gb: self.cfg.traffic.cross_region_per_gb,
            series: cdn
                .series
                .values()
                .iter()
                .zip(egress.series.values())
                .zip(cross.series.values())
                .map(|((a, b), c)| a + b + c)
                .collect(),
        };
        let mut lb = self.load_balancers;
        let load_balancers = LoadBalancerCost {
            balancers: lb.count,
            per_hour: lb.per_hour,
            usd: lb.bill.total_usd,
            series: lb.bill.series.take_values(),
        };
        let mut r = ReplicationResult {
            replication,
            events,
            measured: self.cfg.measured(),
            classes,
            tiers,
            failures: self.failure_log,
            scaling: self.scaling_log,
            slos,
            traffic,
            load_balancers,
            latency_series: all_latency,
            region_latency_series: region_latency,
            routing: self.routing_log,
        };
        parked.park(other_series(&mut r));
        r
    }

    /// Tier `t`'s report from its own module, with its latency percentiles
    /// (NaN where it keeps none), its bill, and its scaling and price as
    /// configured (so outputs need not read the configuration).
    fn tier_result(&mut self, t: TierId, now: SimTime) -> TierResult {
        let kind = &self.cfg.tiers[t as usize].kind;
        let (slot, model) = self.tiers.split(t);
        let report = model.report(now);
        if let Some(s) = model.take_surplus() {
            slot.bill
                .bill_usage(SURPLUS_LINE, (s.from, s.to), s.usd, s.vcpu_hours);
        }
        let own_price = model.list_price();
        let mut series = report.series;
        match &report.latency {
            Some(l) => series.extend(latency_series(l)),
            None => {
                let len = Spec {
                    interval: self.cfg.series_interval,
                    horizon: self.cfg.horizon,
                }
                .len();
                series.extend(
                    LATENCY_SERIES
                        .iter()
                        .map(|&(name, _)| (name, vec![f64::NAN; len])),
                )
            }
        }
        series.push(("cost_usd", slot.bill.series.take_values()));
        let mut metrics = report.metrics;
        metrics.push(Figure::new("cost_usd", Unit::Usd, slot.bill.total_usd));
        let scaled = (kind.scaled_units(), kind.kind().vocabulary().scaled_unit());
        let scaling = match (slot.scaling, scaled) {
            (Some(s), (Some(initial), Some(noun))) => Some(ScaledUnits {
                noun,
                initial,
                min: s.min,
                max: s.max,
            }),
            _ => None,
        };
        let bill = slot.billing.map(|b| {
            let line = |name, label: &str, list: f64, rate: f64, i: usize| {
                let t = slot.bill.lines[i];
                BillLine {
                    name,
                    label: label.to_string(),
                    list_per_hour: list,
                    rate_per_hour: rate,
                    unit_hours: t.unit_hours,
                    top_up_usd: t.top_up_usd,
                    usd: t.accrued_usd + t.top_up_usd,
                }
            };
            let lines = match kind {
                TierKind::Database(d) => {
                    let replica_label = b.replica_label.as_deref().unwrap_or(&b.label);
                    let list = b.replica_price_per_hour.unwrap_or(b.price_per_hour);
                    let replicas = line("replicas", replica_label, list, b.replica_rate(), 1);
                    if d.local_primary {
                        vec![
                            line("primary", &b.label, b.price_per_hour, b.rate(), 0),
                            replicas,
                        ]
                    } else {
                        vec![replicas]
                    }
                }
                TierKind::Api(a) => {
                    let mut lines = vec![line("units", &b.label, b.price_per_hour, b.rate(), 0)];
                    // Unlimited mode bills surplus credits at their own
                    // flat rate per vCPU-hour, whatever the purchase mix.
                    if let Some(c) = a.credits.filter(|c| c.unlimited) {
                        let per_vcpu_hour = c.surplus_price * 60.0;
                        lines.push(line(
                            "surplus_credits",
                            &format!("{} surplus vCPU-hours", b.label),
                            per_vcpu_hour,
                            per_vcpu_hour,
                            SURPLUS_LINE,
                        ));
                    }
                    lines
                }
                _ => vec![line("units", &b.label, b.price_per_hour, b.rate(), 0)],
            };
            TierBill { mix: b.mix, lines }
        });
        TierResult {
            bill,
            name: slot.name.to_string(),
            kind: kind.kind(),
            serving: report.serving,
            scaling,
            list_price: slot
                .billing
                .map(|b| ListPrice {
                    label: b.label.clone(),
                    per_hour: b.price_per_hour,
                })
                .or(own_price),
            metrics,
            units: report.units,
            series,
            // Taken: each recorder is freed once replayed, not held to the end.
            visits: self.visits[t as usize].take().map(|r| r.finish()),
        }
    }
}

/// A replication's result series written to its spill while the run's state
/// is still held, in the order they were made.
struct Parked {
    spill: Spill,
    chunks: VecDeque<Chunk>,
}

impl Parked {
    /// Writes each series out and empties it (nothing in a short run).
    fn park<'a>(&mut self, series: impl Iterator<Item = &'a mut Vec<f64>>) {
        if !self.spill.is_active() {
            return;
        }
        for v in series {
            let words = v.iter().map(|x| x.to_bits());
            self.chunks.push_back(self.spill.write(words));
            *v = Vec::new();
        }
    }

    /// Reads every series of `r` back, in the order parked.
    fn unpark(mut self, r: &mut ReplicationResult) {
        if !self.spill.is_active() {
            return;
        }
        let tiers = r.tiers.iter_mut().flat_map(tier_series);
        let classes = r.classes.iter_mut().flat_map(class_series);
        let all: Vec<&mut Vec<f64>> = tiers.chain(classes).collect();
        for v in all {
            *v = self.take();
        }
        for v in other_series(r) {
            *v = self.take();
        }
        debug_assert!(self.chunks.is_empty(), "every parked series read back");
    }

    fn take(&mut self) -> Vec<f64> {
        let chunk = self.chunks.pop_front().expect("a series parked");
        let mut v = Vec::with_capacity(chunk.words());
        (self.spill).read_each(std::slice::from_ref(&chunk), |w| v.push(f64::from_bits(w)));
        v
    }
}

/// A tier's series, in the order they are parked and read back.
fn tier_series(t: &mut TierResult) -> impl Iterator<Item = &mut Vec<f64>> {
    t.series.iter_mut().map(|(_, v)| v)
}

/// A class's series, in the order they are parked and read back.
fn class_series(c: &mut ClassResult) -> impl Iterator<Item = &mut Vec<f64>> {
    let s = &mut c.series;
    [
        &mut s.arrivals,
        &mut s.completed,
        &mut s.failed,
        &mut s.timed_out,
    ]
    .into_iter()
    .chain(c.latency_series.iter_mut().map(|(_, v)| v))
}

/// The series of all classes and of the bill's other lines, in the order
/// they are parked and read back.
fn other_series(r: &mut ReplicationResult) -> impl Iterator<Item = &mut Vec<f64>> {
    let latency = r.latency_series.iter_mut();
    let regions = r.region_latency_series.iter_mut().flatten();
    latency
        .chain(regions)
        .map(|(_, v)| v)
        .chain([&mut r.traffic.series, &mut r.load_balancers.series])
}

//! Capacity over time: metrics ticks, scaling actions, units launching,
//! draining and terminating, and the bill each unit runs up.
//!
//! ```text
//!   Tick ──► sample each scaling tier ──► Scaler::evaluate ──► scale_to
//!   Scheduled ─────────────────────────────────────────────────► scale_to
//!   scale_to: launch (→ UnitReady after boot + warm-up) or drain (→ terminate,
//!             or DrainTimeout) ── termination bills the unit
//! ```

use sim_engine::{Context, SimTime};

use super::{Event, Platform};
use crate::cost::SURPLUS_LINE;
use crate::results::ScalingEvent;
use crate::scaling::Metric;
use crate::tier::{Handle, TierId};

impl Platform<'_> {
    pub(super) fn tick(&mut self, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let prev = self.last_tick;
        self.last_tick = now;
        let tick = self.tick.expect("ticks only when configured");
        if now + tick <= SimTime::at(self.cfg.horizon) {
            ctx.schedule_in(tick, Event::Tick);
        }
        for t in 0..self.tiers.len() as TierId {
            let (slot, model) = self.tiers.split(t);
            model.on_tick(now);
            if let Some(s) = model.take_surplus() {
                slot.bill
                    .bill_usage(SURPLUS_LINE, (s.from, s.to), s.usd, s.vcpu_hours);
            }
            let (Some(scaler), Some(cfg), Some(elastic)) =
                (&mut slot.scaler, slot.scaling, model.elastic())
            else {
                continue;
            };
            let metrics: Vec<Metric> = scaler.metrics().to_vec();
            let values = elastic.sample(prev, now, &metrics);
            let ready = elastic.ready_count();
            scaler.push(values);
            if let Some(d) = scaler.evaluate(cfg, now, ready) {
                self.scale_to(t, d.to, d.reason, ctx);
            }
        }
    }

    /// Sets tier `tier`'s desired capacity to `to`: launches units, or drains
    /// the ones the termination order picks. Logged with its reason.
    pub(super) fn scale_to(
        &mut self,
        tier: TierId,
        to: u32,
        reason: String,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let (slot, model) = self.tiers.split(tier);
        let (Some(cfg), Some(scaler), Some(elastic)) =
            (slot.scaling, slot.scaler.as_mut(), model.elastic())
        else {
            return;
        };
        let from = scaler.desired;
        if to == from {
            return;
        }
        scaler.desired = to;
        scaler.last_action = Some(now);
        self.scaling_log.push(ScalingEvent {
            at: now,
            tier,
            from,
            to,
            reason,
        });
        let ready_in = cfg.boot + cfg.warmup;
        if to > from {
            for _ in from..to {
                let unit = self
                    .tiers
                    .model(tier)
                    .elastic()
                    .expect("checked")
                    .launch(now);
                ctx.schedule_in(ready_in, Event::UnitReady { tier, unit });
                self.launched_in_outage(tier, unit, ctx);
            }
        } else {
            for unit in elastic.scale_in_choice(from - to, cfg.termination) {
                let elastic = self.tiers.model(tier).elastic().expect("checked");
                if elastic.begin_drain(unit, now) {
                    self.bill_terminated(tier, unit, now);
                } else {
                    ctx.schedule_in(cfg.drain_timeout, Event::DrainTimeout { tier, unit });
                }
            }
        }
    }

    pub(super) fn unit_ready(&mut self, tier: TierId, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let handle = self.tiers.slots[tier as usize].handle;
        if let Some(elastic) = self.tiers.model(tier).elastic() {
            elastic.ready(unit, now);
        }
        if let Handle::Workers(w) = handle {
            self.fill_worker(w, unit, ctx);
        }
    }

    /// A draining unit's time is up: what it still holds fails (requests at
    /// an instance, jobs on a worker). Replicas and shards terminate at once.
    pub(super) fn drain_timeout(&mut self, tier: TierId, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let handle = self.tiers.slots[tier as usize].handle;
        let Some(drained) = self
            .tiers
            .model(tier)
            .elastic()
            .and_then(|e| e.drain_timeout(unit, now))
        else {
            return;
        };
        self.bill_terminated(tier, unit, now);
        self.unpark(&drained.dropped);
        match handle {
            Handle::Workers(w) if drained.jobs => self.fail_jobs_on(w, unit, ctx),
            _ => self.fail_attempts_on((tier, unit, drained.epoch), drained.queued, ctx),
        }
    }

    pub(super) fn scheduled(&mut self, tier: TierId, action: u16, ctx: &mut Context<'_, Event>) {
        let slot = &mut self.tiers.slots[tier as usize];
        let (Some(cfg), Some(scaler)) = (slot.scaling, slot.scaler.as_mut()) else {
            return;
        };
        let a = &cfg.scheduled[action as usize];
        if let Some(min) = a.min {
            scaler.min = min;
        }
        if let Some(max) = a.max {
            scaler.max = max;
        }
        let to = a
            .desired
            .unwrap_or(scaler.desired)
            .clamp(scaler.min, scaler.max);
        let mut what = Vec::new();
        if let Some(v) = a.min {
            what.push(format!("min {v}"));
        }
        if let Some(v) = a.max {
            what.push(format!("max {v}"));
        }
        if let Some(v) = a.desired {
            what.push(format!("desired {v}"));
        }
        let reason = format!("scheduled action at {}: {}", a.at, what.join(", "));
        if to != scaler.desired {
            self.scale_to(tier, to, reason, ctx);
        }
    }

    /// Bills a unit that just terminated.
    pub(super) fn bill_terminated(&mut self, tier: TierId, unit: u32, now: SimTime) {
        let (slot, model) = self.tiers.split(tier);
        if let Some(b) = slot.billing {
            let rate = model.unit_rate(unit, b);
            let launched = model.lifetime(unit).launched;
            let line = model.bill_line(unit);
            slot.bill
                .bill_unit(line, (launched, now), true, rate, b.granularity);
        }
    }

    /// At the end of the run: bills every unit still running up to `end`, and
    /// the load balancers (for the whole run: they run from its start).
    pub(super) fn bill_remaining(&mut self, end: SimTime) {
        for t in 0..self.tiers.len() as TierId {
            let (slot, model) = self.tiers.split(t);
            let Some(b) = slot.billing else {
                continue;
            };
            for unit in 0..model.billed_units() {
                let life = model.lifetime(unit);
                if life.ended.is_none() {
                    let rate = model.unit_rate(unit, b);
                    let line = model.bill_line(unit);
                    slot.bill
                        .bill_unit(line, (life.launched, end), false, rate, b.granularity);
                }
            }
            if b.load_balancer_per_hour > 0.0 {
                self.load_balancers.count += 1;
                self.load_balancers.per_hour = b.load_balancer_per_hour;
                let lb = &mut self.load_balancers.bill;
                let before = lb.total_usd;
                lb.accrue(SimTime::ZERO, end, b.load_balancer_per_hour);
                lb.lines[0].accrued_usd += lb.total_usd - before;
            }
        }
    }
}

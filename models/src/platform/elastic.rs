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

use super::life::Lifetime;
use super::{Event, Platform, Tier};
use crate::config::TierKind;
use crate::results::ScalingEvent;
use crate::scaling::Metric;

/// Units a tier wants now: its autoscaler's starting point.
pub(super) fn desired_of(tier: &Tier) -> u32 {
    match tier {
        Tier::Api(a) => a.desired_count(),
        Tier::Workers(w) => w.desired_count(),
        Tier::Database(d) => d.desired_count(),
        Tier::Cache(c) => c.desired_count(),
        Tier::Station(_) | Tier::Cdn { .. } => 1,
    }
}

impl Platform<'_> {
    pub(super) fn tick(&mut self, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let prev = self.last_tick;
        self.last_tick = now;
        let tick = self.tick.expect("ticks only when configured");
        if now + tick <= SimTime::at(self.cfg.horizon) {
            ctx.schedule_in(tick, Event::Tick);
        }
        for t in 0..self.tiers.len() {
            if let Tier::Cache(c) = &mut self.tiers[t] {
                c.update_hit_ratio(now);
            }
            let Some(scaler) = &self.scalers[t] else {
                continue;
            };
            let metrics: Vec<Metric> = scaler.metrics().to_vec();
            let values = self.sample_tier(t, prev, now, &metrics);
            let ready = self.ready_of(t);
            let scaler = self.scalers[t].as_mut().expect("checked");
            scaler.push(values);
            let cfg = self.cfg.tiers[t]
                .scaling
                .as_ref()
                .expect("scaler has config");
            if let Some(d) = scaler.evaluate(cfg, now, ready) {
                self.scale_to(t as u16, d.to, d.reason, ctx);
            }
        }
    }

    fn ready_of(&self, tier: usize) -> u32 {
        match &self.tiers[tier] {
            Tier::Api(a) => a.ready_count(),
            Tier::Workers(w) => w.ready_count(),
            Tier::Database(d) => d.ready_count(),
            Tier::Cache(c) => c.ready_count(),
            Tier::Station(_) | Tier::Cdn { .. } => 1,
        }
    }

    /// Numerator and denominator of each metric over the tick that ends now,
    /// then ∫ units in service dt and the tick's length (the units that
    /// produced the metrics, for target tracking). The scenario is validated
    /// so that each metric suits its tier's kind.
    fn sample_tier(
        &mut self,
        tier: usize,
        prev: SimTime,
        now: SimTime,
        metrics: &[Metric],
    ) -> Vec<(f64, f64)> {
        match &mut self.tiers[tier] {
            Tier::Api(a) => {
                let s = a.sample(prev, now);
                metrics
                    .iter()
                    .map(|m| match m {
                        Metric::Cpu => (s.busy, s.capacity),
                        Metric::RequestRate => (s.requests, s.instance_seconds),
                        Metric::QueueDepth => (s.backlog_area, s.length),
                        // From the policy's own histogram.
                        _ => (0.0, 0.0),
                    })
                    .chain([(s.instance_seconds * 1e9, s.length)])
                    .collect()
            }
            Tier::Workers(w) => {
                let s = w.sample(prev, now);
                metrics
                    .iter()
                    .map(|m| match m {
                        Metric::Cpu => (s.running_area, s.slots_area),
                        Metric::QueueDepth => (s.depth_area, s.length),
                        Metric::BacklogPerWorker => (s.depth_area, s.workers_area),
                        _ => (0.0, 0.0),
                    })
                    .chain([(s.workers_area, s.length)])
                    .collect()
            }
            Tier::Database(d) => {
                let s = d.sample(prev, now);
                metrics
                    .iter()
                    .map(|m| match m {
                        Metric::PoolUtilization => (s.pool_busy, s.pool_capacity),
                        Metric::ReadWriteRatio => (s.reads, s.writes),
                        _ => (0.0, 0.0),
                    })
                    .chain([(s.replica_area, s.length)])
                    .collect()
            }
            Tier::Cache(c) => {
                let s = c.sample(now);
                let len = now.saturating_since(prev).as_nanos() as f64;
                metrics
                    .iter()
                    .map(|m| match m {
                        Metric::DatasetToMemory => (s.working_set, s.memory),
                        _ => (0.0, 0.0),
                    })
                    .chain([(c.ready_count() as f64 * len, len)])
                    .collect()
            }
            Tier::Station(_) | Tier::Cdn { .. } => vec![(0.0, 0.0); metrics.len() + 1],
        }
    }

    /// Sets tier `tier`'s desired capacity to `to`: launches units, or drains
    /// the ones the termination order picks. Logged with its reason.
    pub(super) fn scale_to(
        &mut self,
        tier: u16,
        to: u32,
        reason: String,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let cfg = self.cfg.tiers[tier as usize]
            .scaling
            .as_ref()
            .expect("scaling tiers only");
        let scaler = self.scalers[tier as usize]
            .as_mut()
            .expect("scaling tiers only");
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
                let unit = match &mut self.tiers[tier as usize] {
                    Tier::Api(a) => a.launch(now),
                    Tier::Workers(w) => w.launch(now),
                    Tier::Database(d) => d.launch(now),
                    Tier::Cache(c) => c.launch(now),
                    Tier::Station(_) | Tier::Cdn { .. } => unreachable!("validated: not scalable"),
                };
                ctx.schedule_in(ready_in, Event::UnitReady { tier, unit });
            }
        } else {
            let victims = match &self.tiers[tier as usize] {
                Tier::Api(a) => a.scale_in_choice(from - to, cfg.termination),
                Tier::Workers(w) => w.scale_in_choice(from - to, cfg.termination),
                Tier::Database(d) => d.scale_in_choice(from - to, cfg.termination),
                Tier::Cache(c) => c.scale_in_choice(from - to, cfg.termination),
                Tier::Station(_) | Tier::Cdn { .. } => unreachable!("validated: not scalable"),
            };
            for unit in victims {
                let terminated = match &mut self.tiers[tier as usize] {
                    Tier::Api(a) => a.begin_drain(unit, now),
                    Tier::Workers(w) => w.begin_drain(unit, now),
                    Tier::Database(d) => d.begin_drain(unit, now),
                    Tier::Cache(c) => c.begin_drain(unit, now),
                    Tier::Station(_) | Tier::Cdn { .. } => unreachable!(),
                };
                if terminated {
                    self.bill_terminated(tier, unit, now);
                } else {
                    ctx.schedule_in(cfg.drain_timeout, Event::DrainTimeout { tier, unit });
                }
            }
        }
    }

    pub(super) fn unit_ready(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        match &mut self.tiers[tier as usize] {
            Tier::Api(a) => a.ready(unit, now),
            Tier::Workers(w) => {
                w.ready(unit, now);
                self.fill_worker(tier, unit, ctx);
            }
            Tier::Database(d) => d.ready(unit, now),
            Tier::Cache(c) => c.ready(unit, now),
            Tier::Station(_) | Tier::Cdn { .. } => {}
        }
    }

    pub(super) fn drain_timeout(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        match &mut self.tiers[tier as usize] {
            Tier::Api(a) => {
                let epoch = a.instances[unit as usize].epoch;
                if let Some(waiting) = a.drain_timeout(unit, now) {
                    self.bill_terminated(tier, unit, now);
                    self.fail_attempts_on((tier, unit, epoch), waiting, ctx);
                }
            }
            Tier::Workers(w) => {
                if w.drain_timeout(unit, now) {
                    self.bill_terminated(tier, unit, now);
                    self.fail_jobs_on(tier, unit, ctx);
                }
            }
            // Replicas and shards terminate at once.
            Tier::Database(_) | Tier::Cache(_) | Tier::Station(_) | Tier::Cdn { .. } => {}
        }
    }

    pub(super) fn scheduled(&mut self, tier: u16, action: u16, ctx: &mut Context<'_, Event>) {
        let cfg = self.cfg.tiers[tier as usize]
            .scaling
            .as_ref()
            .expect("scaling tiers only");
        let a = &cfg.scheduled[action as usize];
        let scaler = self.scalers[tier as usize]
            .as_mut()
            .expect("scaling tiers only");
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

    fn lifetime(&self, tier: u16, unit: u32) -> Lifetime {
        match &self.tiers[tier as usize] {
            Tier::Api(a) => a.instances[unit as usize].life,
            Tier::Workers(w) => w.workers[unit as usize].life,
            Tier::Database(d) => d.nodes[unit as usize].life,
            Tier::Cache(c) => c.shards[unit as usize].life,
            Tier::Station(_) | Tier::Cdn { .. } => Lifetime::running(SimTime::ZERO),
        }
    }

    /// The hourly rate of one unit (a database replica may differ from its
    /// primary).
    fn unit_rate(&self, tier: u16, unit: u32) -> Option<(f64, crate::cost::Granularity)> {
        let t = &self.cfg.tiers[tier as usize];
        let b = t.billing.as_ref()?;
        let rate = match (&t.kind, unit) {
            (TierKind::Database(_), u) if u > 0 => b.replica_rate(),
            _ => b.rate(),
        };
        Some((rate, b.granularity))
    }

    /// Bills a unit that just terminated.
    pub(super) fn bill_terminated(&mut self, tier: u16, unit: u32, now: SimTime) {
        if let Some((rate, granularity)) = self.unit_rate(tier, unit) {
            let launched = self.lifetime(tier, unit).launched;
            self.costs[tier as usize].bill_unit(launched, now, true, rate, granularity);
        }
    }

    /// At the end of the run: bills every unit still running up to `end`, and
    /// each tier's fixed charges.
    pub(super) fn bill_remaining(&mut self, end: SimTime) {
        for t in 0..self.tiers.len() {
            let tier = t as u16;
            let units = match &self.tiers[t] {
                Tier::Api(a) => a.instances.len(),
                Tier::Workers(w) => w.workers.len(),
                Tier::Database(d) => d.nodes.len(),
                Tier::Cache(c) => c.shards.len(),
                Tier::Station(_) => 1,
                Tier::Cdn { .. } => 0,
            } as u32;
            for unit in 0..units {
                let life = self.lifetime(tier, unit);
                if life.ended.is_none()
                    && let Some((rate, granularity)) = self.unit_rate(tier, unit)
                {
                    self.costs[t].bill_unit(life.launched, end, false, rate, granularity);
                }
            }
            if let Some(b) = &self.cfg.tiers[t].billing
                && b.fixed_per_hour > 0.0
            {
                self.costs[t].accrue(SimTime::ZERO, end, b.fixed_per_hour);
            }
        }
    }
}

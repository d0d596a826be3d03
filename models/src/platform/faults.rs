//! Failure injection: crashes, flushes and recoveries of units.

use sim_engine::{Context, SimDuration, exp1};

use super::{Event, Failure, Platform, Tier};
use crate::config::{FailureAction, FailureTiming};
use crate::results::FailureRecord;

impl Platform<'_> {
    // ---- failures ------------------------------------------------------

    pub(super) fn inject(&mut self, failure: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let fcfg = &self.cfg.failures[failure as usize];
        let tier = fcfg.tier;
        self.failure_log.push(FailureRecord {
            at: now,
            tier,
            unit,
            what: match fcfg.action {
                FailureAction::Crash => "crash",
                FailureAction::Flush => "flush",
            },
        });
        match fcfg.action {
            FailureAction::Flush => {
                if let Tier::Cache(c) = &mut self.tiers[tier as usize] {
                    c.flush(unit);
                }
            }
            FailureAction::Crash => {
                let first = {
                    let dc = down_count(&mut self.tiers[tier as usize], unit);
                    *dc += 1;
                    *dc == 1
                };
                if first {
                    self.crash(tier, unit, ctx);
                }
                let recover_in = match &fcfg.timing {
                    FailureTiming::At { down_for, .. } => *down_for,
                    FailureTiming::Random { mttr, .. } => {
                        Some(self.draw_exponential(failure, unit, *mttr))
                    }
                };
                if let Some(d) = recover_in {
                    ctx.schedule_in(d, Event::Recover { failure, unit });
                }
            }
        }
    }

    pub(super) fn recover(&mut self, failure: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let fcfg = &self.cfg.failures[failure as usize];
        let tier = fcfg.tier;
        let last = {
            let dc = down_count(&mut self.tiers[tier as usize], unit);
            *dc -= 1;
            *dc == 0
        };
        if last {
            self.failure_log.push(FailureRecord {
                at: now,
                tier,
                unit,
                what: "recover",
            });
            match &mut self.tiers[tier as usize] {
                Tier::Station(s) => {
                    s.up = true;
                    s.epoch += 1;
                }
                Tier::Api(a) => a.recover(unit, now),
                Tier::Cache(c) => c.recover(unit),
                Tier::Database(d) => d.recover(unit, now),
                Tier::Workers(w) => w.recover(unit, now),
                Tier::Cdn { .. } => {}
            }
            if matches!(self.tiers[tier as usize], Tier::Workers(_)) {
                // Its free slots take waiting jobs at once.
                self.fill_worker(tier, unit, ctx);
            }
        }
        if let FailureTiming::Random { mtbf, .. } = &fcfg.timing {
            let next = self.draw_exponential(failure, unit, *mtbf);
            ctx.schedule_in(next, Event::Fail { failure, unit });
        }
    }

    /// Starts queued jobs on worker `unit` until its slots are full.
    /// An exponential time of mean `mean` from `unit`'s stream of `failure`.
    fn draw_exponential(&mut self, failure: u16, unit: u32, mean: SimDuration) -> SimDuration {
        let f = &mut self.failures[failure as usize];
        let k = f
            .units
            .iter()
            .position(|&u| u == unit)
            .expect("unit of this failure");
        SimDuration::from_secs_f64(exp1(&mut f.rngs[k]) * mean.as_secs_f64())
    }

    pub(super) fn fill_worker(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        loop {
            let Tier::Workers(w) = &mut self.tiers[tier as usize] else {
                unreachable!()
            };
            match w.next_for(unit, ctx.now()) {
                Some(job) => self.run_job(tier, job, unit, ctx),
                None => break,
            }
        }
    }

    /// Unit `unit` of `tier` goes down: the work in flight on it fails.
    fn crash(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        // Attempts to fail: those whose pending step runs on the unit, and
        // for an API instance also those admitted on or queued at it.
        let mut doomed: Vec<u32> = Vec::new();
        let old_epoch = match &mut self.tiers[tier as usize] {
            Tier::Station(s) => {
                let e = s.epoch;
                s.up = false;
                s.epoch += 1;
                s.unit.crash(now);
                e
            }
            Tier::Api(a) => {
                let e = a.instances[unit as usize].epoch;
                doomed.extend(a.crash(unit, now));
                // A draining instance has nothing left to drain.
                if a.drain_timeout(unit, now).is_some() {
                    self.bill_terminated(tier, unit, now);
                }
                e
            }
            Tier::Cache(c) => {
                let e = c.shards[unit as usize].epoch;
                c.crash(unit, now);
                e
            }
            Tier::Database(d) => {
                let e = d.nodes[unit as usize].epoch;
                d.crash(unit, now);
                e
            }
            Tier::Workers(w) => {
                w.crash(unit, now);
                if w.drain_timeout(unit, now) {
                    self.bill_terminated(tier, unit, now);
                }
                self.fail_jobs_on(tier, unit, ctx);
                return;
            }
            Tier::Cdn { .. } => return,
        };
        self.fail_attempts_on((tier, unit, old_epoch), doomed, ctx);
    }

    /// The jobs running on worker `unit` fail (their worker is gone).
    pub(super) fn fail_jobs_on(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let running: Vec<u32> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.tier == tier && j.worker == Some(unit) && !j.done)
            .map(|(id, _)| id)
            .collect();
        for job in running {
            // Its pending JobDone is now stale (no worker).
            self.jobs[job].worker = None;
            self.job_failed_run(tier, job, ctx);
        }
    }

    /// Fails the attempts at `place` (its unit went away): those in `doomed`
    /// and those whose step runs there, admitted there or queued there.
    pub(super) fn fail_attempts_on(
        &mut self,
        place: super::Place,
        mut doomed: Vec<u32>,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let tier = place.0;
        for (id, a) in self.attempts.iter() {
            if a.stopped || doomed.contains(&id) {
                continue;
            }
            if a.at == Some(place) || a.api == Some(place) || a.queued_on == Some(place) {
                doomed.push(id);
            }
        }
        for &id in &doomed {
            let a = &mut self.attempts[id];
            if a.api.is_some_and(|p| p == place) {
                // Its instance is gone: nothing to give back.
                a.api = None;
            }
            a.queued_on = None;
        }
        let n = doomed.len() as u64;
        match &mut self.tiers[tier as usize] {
            Tier::Station(_) => {}
            Tier::Api(a) => a.add_errors(now, n),
            Tier::Cache(c) => c.add_errors(now, n),
            Tier::Database(d) => d.add_errors(now, n),
            Tier::Workers(_) | Tier::Cdn { .. } => {}
        }
        for id in doomed {
            if !self.attempts[id].stopped {
                self.fail(id, Failure::Error, ctx);
            }
        }
    }
}

pub(super) fn unit_count(tier: &Tier) -> u32 {
    match tier {
        Tier::Station(_) => 1,
        Tier::Api(a) => a.instances.len() as u32,
        Tier::Cache(c) => c.shards.len() as u32,
        Tier::Database(d) => d.nodes.len() as u32,
        Tier::Workers(w) => w.workers.len() as u32,
        Tier::Cdn { .. } => 0,
    }
}

/// The first unit a failure of "every unit" strikes: a replica set in a
/// region without the primary starts at its first replica.
pub(super) fn first_unit(tier: &Tier) -> u32 {
    match tier {
        Tier::Database(d) if !d.local_primary => 1,
        _ => 0,
    }
}

fn down_count(tier: &mut Tier, unit: u32) -> &mut u32 {
    match tier {
        Tier::Station(s) => &mut s.down_count,
        Tier::Api(a) => &mut a.instances[unit as usize].down_count,
        Tier::Cache(c) => &mut c.shards[unit as usize].down_count,
        Tier::Database(d) => &mut d.nodes[unit as usize].down_count,
        Tier::Workers(w) => &mut w.workers[unit as usize].down_count,
        Tier::Cdn { .. } => unreachable!("validated: no failures on a CDN"),
    }
}

const _: () = assert!(std::mem::size_of::<Event>() == 8);

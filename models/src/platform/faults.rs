//! Failure injection: crashes, flushes and recoveries of units.

use sim_engine::{Context, SimDuration, exp1};

use super::{Event, Failure, Place, Platform};
use crate::config::{FailureAction, FailureTiming};
use crate::results::FailureRecord;
use crate::tier::Handle;

impl Platform<'_> {
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
            FailureAction::Flush => self.tiers.model(tier).flush(unit),
            FailureAction::Crash => {
                self.crash(tier, unit, ctx);
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
        if self.tiers.model(tier).recover(unit, now) {
            self.failure_log.push(FailureRecord {
                at: now,
                tier,
                unit,
                what: "recover",
            });
            if let Handle::Workers(w) = self.tiers.slots[tier as usize].handle {
                // Its free slots take waiting jobs at once.
                self.fill_worker(w, unit, ctx);
            }
        }
        if let FailureTiming::Random { mtbf, .. } = &fcfg.timing {
            let next = self.draw_exponential(failure, unit, *mtbf);
            ctx.schedule_in(next, Event::Fail { failure, unit });
        }
    }

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

    /// Unit `unit` of `tier` goes down (unless an overlapping failure already
    /// took it down): the work in flight on it fails.
    fn crash(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let Some(crash) = self.tiers.model(tier).crash(unit, now) else {
            return;
        };
        if crash.terminated {
            self.bill_terminated(tier, unit, now);
        }
        self.unpark(&crash.dropped);
        match self.tiers.slots[tier as usize].handle {
            Handle::Workers(w) if crash.jobs => self.fail_jobs_on(w, unit, ctx),
            _ => self.fail_attempts_on((tier, unit, crash.epoch), crash.queued, ctx),
        }
    }

    /// The unit the attempts `dropped` were parked at dropped their steps: no
    /// event will resume them. Those already stopped are freed; the others
    /// are when they fail.
    pub(super) fn unpark(&mut self, dropped: &[u32]) {
        for &id in dropped {
            self.attempts[id].pending_event = false;
            self.maybe_free_attempt(id);
        }
    }

    /// Fails the attempts at `place` (its unit went away): those in `doomed`
    /// and those whose step runs there, admitted there or queued there.
    pub(super) fn fail_attempts_on(
        &mut self,
        place: Place,
        mut doomed: Vec<u32>,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let tier = place.0;
        let on = |p: Option<super::OnApi>| p.is_some_and(|p| p.place() == place);
        for (id, a) in self.attempts.iter() {
            if a.stopped || doomed.contains(&id) {
                continue;
            }
            if a.at == Some(place) || on(a.api) || on(a.queued_on) {
                doomed.push(id);
            }
        }
        for &id in &doomed {
            let a = &mut self.attempts[id];
            if on(a.api) {
                // Its instance is gone: nothing to give back.
                a.api = None;
            }
            a.queued_on = None;
        }
        self.tiers.model(tier).add_errors(now, doomed.len() as u64);
        for id in doomed {
            if !self.attempts[id].stopped {
                self.fail(id, Failure::Error, ctx);
            }
        }
    }
}

const _: () = assert!(std::mem::size_of::<Event>() == 8);

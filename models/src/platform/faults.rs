//! Failure injection: crashes, flushes and recoveries of units.

use sim_engine::{Context, SimDuration, exp1};

use super::{Event, Failure, Place, Platform};
use crate::config::{FailureAction, FailureTiming};
use crate::results::FailureRecord;
use crate::tier::Handle;
use crate::tier::life::Life;

/// The unit of a `Fail`/`Recover` event of an outage of every unit of a
/// tier: the units are found when it starts.
pub(super) const WHOLE_TIER: u32 = u32::MAX;

impl Platform<'_> {
    pub(super) fn inject(&mut self, failure: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        if unit == WHOLE_TIER {
            return self.begin_outage(failure, ctx);
        }
        let fcfg = &self.cfg.failures[failure as usize];
        let tier = fcfg.tier;
        let what = match fcfg.action {
            FailureAction::Crash => "crash",
            FailureAction::Flush => "flush",
        };
        self.log_failure(tier, unit, what, ctx.now());
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

    /// An outage of every unit of a tier starts: the units it has now
    /// (not terminated) crash or are flushed; a crash's units recover
    /// together after its `duration`, with those launched meanwhile.
    fn begin_outage(&mut self, failure: u16, ctx: &mut Context<'_, Event>) {
        let fcfg = &self.cfg.failures[failure as usize];
        let (tier, action) = (fcfg.tier, fcfg.action);
        let model = self.tiers.model(tier);
        let units: Vec<u32> = model
            .failure_units()
            .filter(|&u| model.lifetime(u).life != Life::Terminated)
            .collect();
        match action {
            FailureAction::Flush => {
                for u in units {
                    self.log_failure(tier, u, "flush", ctx.now());
                    self.tiers.model(tier).flush(u);
                }
            }
            FailureAction::Crash => {
                self.failures[failure as usize].struck = Some(Vec::new());
                for u in units {
                    self.strike(failure, u, ctx);
                }
                if let FailureTiming::At {
                    down_for: Some(d), ..
                } = fcfg.timing
                {
                    ctx.schedule_in(
                        d,
                        Event::Recover {
                            failure,
                            unit: WHOLE_TIER,
                        },
                    );
                }
            }
        }
    }

    /// Unit `unit` goes down with outage `failure`.
    fn strike(&mut self, failure: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let tier = self.cfg.failures[failure as usize].tier;
        self.log_failure(tier, unit, "crash", ctx.now());
        self.crash(tier, unit, ctx);
        if let Some(struck) = &mut self.failures[failure as usize].struck {
            struck.push(unit);
        }
    }

    /// A unit of `tier` was launched: an outage of the whole tier under way
    /// takes it down too (it boots into a dead region).
    pub(super) fn launched_in_outage(
        &mut self,
        tier: u16,
        unit: u32,
        ctx: &mut Context<'_, Event>,
    ) {
        for f in 0..self.failures.len() {
            if self.failures[f].struck.is_some() && self.cfg.failures[f].tier == tier {
                self.strike(f as u16, unit, ctx);
            }
        }
    }

    fn log_failure(&mut self, tier: u16, unit: u32, what: &'static str, at: sim_engine::SimTime) {
        self.failure_log.push(FailureRecord {
            at,
            tier,
            unit,
            what,
        });
    }

    /// An outage of a whole tier ends: every unit it took down recovers
    /// (but those terminated meanwhile, which stay gone).
    fn end_outage(&mut self, failure: u16, ctx: &mut Context<'_, Event>) {
        let tier = self.cfg.failures[failure as usize].tier;
        let struck = self.failures[failure as usize]
            .struck
            .take()
            .unwrap_or_default();
        for unit in struck {
            if self.tiers.model(tier).lifetime(unit).life != Life::Terminated {
                self.recover_unit(tier, unit, ctx);
            }
        }
    }

    pub(super) fn recover(&mut self, failure: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        if unit == WHOLE_TIER {
            return self.end_outage(failure, ctx);
        }
        let fcfg = &self.cfg.failures[failure as usize];
        self.recover_unit(fcfg.tier, unit, ctx);
        if let FailureTiming::Random { mtbf, .. } = &fcfg.timing {
            let next = self.draw_exponential(failure, unit, *mtbf);
            ctx.schedule_in(next, Event::Fail { failure, unit });
        }
    }

    /// One failure of `unit` of `tier` ends; logged if the unit is up again.
    fn recover_unit(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        if self.tiers.model(tier).recover(unit, now) {
            self.log_failure(tier, unit, "recover", now);
            if let Handle::Workers(w) = self.tiers.slots[tier as usize].handle {
                // Its free slots take waiting jobs at once.
                self.fill_worker(w, unit, ctx);
            }
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

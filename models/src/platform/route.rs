//! The route interpreter: the one place where a request moves between
//! tiers. Each step reaches its tier through the typed handle the scenario
//! builder resolved, so no step can name a tier of the wrong kind.

use sim_engine::{Context, Dist, SimDuration, SimTime, sub_key};

use super::{Event, Failure, NO_TXN, OnApi, Place, Platform, draw};
use crate::config::{DelayOf, Op};
use crate::event_unit::Outcome as Departure;
use crate::results::Part;
use crate::tier::api::{Cpu, Entry};
use crate::tier::database::{Outcome, QueryDraws};
use crate::tier::external::Answer;
use crate::tier::{ApiRef, CacheRef, CdnRef, DatabaseRef, ExternalRef, StationRef};

/// What a step did with the attempt.
enum Step {
    /// Nothing to wait for: go on at this op.
    Go(usize),
    /// Wait until this time, at this place (a unit whose crash fails it),
    /// then go on at this op.
    Wait(SimTime, Option<Place>, usize),
    /// The step took the attempt elsewhere (it ended, failed, queued or
    /// waits on a query); the interpreter stops.
    Left,
}

impl Platform<'_> {
    /// Runs attempt `req` (of class `class`, draws keyed by `key`) from op
    /// `pc` until a step makes it wait, which schedules its resumption, or
    /// until it ends or fails. The attempt's record is looked up only where
    /// a step reads or writes it: the interpreter keeps `pc` itself.
    pub(super) fn exec(
        &mut self,
        req: u32,
        class: usize,
        mut pc: usize,
        key: u64,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let program = &self.cfg.classes[class].program;
        loop {
            let step = match &program[pc] {
                Op::Jump { target } => Step::Go(*target as usize),
                Op::Branch {
                    cumulative,
                    targets,
                } => {
                    let u = draw(key, pc).uniform01();
                    let i = cumulative
                        .iter()
                        .position(|&c| u < c)
                        .unwrap_or(targets.len() - 1);
                    Step::Go(targets[i] as usize)
                }
                Op::Route { choices } => {
                    let (region, target) = choices
                        .iter()
                        .copied()
                        .find(|&(r, _)| self.region_takes_users(r))
                        .unwrap_or(choices[0]);
                    if self.attempts[req].measured {
                        self.classes[class].served_by[region as usize] += 1;
                    }
                    Step::Go(target as usize)
                }
                Op::RemoteDb { local, query, hop } => {
                    self.remote_db(req, class, *local, *query, *hop, key, pc, ctx)
                }
                Op::CrossToPrimary { tier, rtt, bytes } => {
                    self.cross_region(now, *bytes);
                    self.breakdown.delay(req, class, DelayOf::Tier(*tier), *rtt);
                    Step::Wait(now + *rtt, None, pc + 1)
                }
                Op::Enqueue { tier, job, bytes } => {
                    if *bytes > 0.0 {
                        self.cross_region(now, *bytes);
                    }
                    self.enqueue_job(*tier, *job, sub_key(key, pc as u64), ctx);
                    Step::Go(pc + 1)
                }
                Op::ApiEnter { tier } => self.api_enter(req, *tier, pc, ctx),
                Op::Cpu { demand } => self.cpu(req, class, demand, key, pc, ctx),
                Op::Station { tier, demand } => {
                    self.station(req, class, *tier, demand.as_ref(), key, pc, ctx)
                }
                Op::Cdn { tier } => self.cdn(req, class, *tier, key, pc, now, program.len() - 1),
                Op::Call { tier } => self.call(req, class, *tier, key, pc, ctx),
                Op::CacheGet { tier, on_hit } => {
                    self.cache_get(req, class, *tier, *on_hit as usize, key, pc, now)
                }
                Op::CacheSet { tier } => self.cache_set(req, class, *tier, key, pc, now),
                Op::Db { tier, query } => {
                    let cfg = self.tiers.database[tier.index()].cfg;
                    let d = QueryDraws::new(cfg, *query, &mut draw(key, pc));
                    self.query(req, class, *tier, &d, d.u1, pc + 1, ctx);
                    Step::Left
                }
                Op::Delay { demand, of } => {
                    let d = SimDuration::from_secs_f64(demand.sample(&mut draw(key, pc)));
                    self.breakdown.delay(req, class, *of, d);
                    Step::Wait(now + d, None, pc + 1)
                }
                Op::End => {
                    self.finish(req, ctx);
                    Step::Left
                }
            };
            match step {
                Step::Go(next) => pc = next,
                Step::Wait(until, place, next_pc) => {
                    self.wait(req, until, place, next_pc, ctx);
                    return;
                }
                Step::Left => return,
            }
        }
    }

    /// Pass the balancer and enter an instance: admitted (go on), queued in
    /// its backlog (admission continues it), or rejected.
    #[inline(always)]
    fn api_enter(
        &mut self,
        req: u32,
        tier: ApiRef,
        pc: usize,
        ctx: &mut Context<'_, Event>,
    ) -> Step {
        let now = ctx.now();
        let api = &mut self.tiers.api[tier.index()];
        let entry = api.enter(req, now);
        let a = &mut self.attempts[req];
        a.api_since = now;
        match entry {
            Entry::Admitted(unit) => {
                let epoch = api.instances[unit as usize].epoch;
                a.api = Some(OnApi { tier, unit, epoch });
                Step::Go(pc + 1)
            }
            Entry::Queued(unit) => {
                let epoch = api.instances[unit as usize].epoch;
                a.queued_on = Some(OnApi { tier, unit, epoch });
                a.pc = pc as u16;
                Step::Left
            }
            Entry::Rejected => {
                self.fail(req, Failure::Rejected, ctx);
                Step::Left
            }
        }
    }

    /// A CPU burst on the attempt's API instance.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn cpu(
        &mut self,
        req: u32,
        class: usize,
        demand: &Dist,
        key: u64,
        pc: usize,
        ctx: &mut Context<'_, Event>,
    ) -> Step {
        // One look-up of the attempt for the step and its wait.
        let a = &mut self.attempts[req];
        let on = a.api.expect("validated: Cpu after ApiEnter");
        let api = &mut self.tiers.api[on.tier.index()];
        let now = ctx.now();
        let inst = &mut api.instances[on.unit as usize];
        // A multiplication rather than a test: times 1 is exact.
        let d = SimDuration::from_secs_f64(demand.sample(&mut draw(key, pc)) * inst.slowdown);
        let (start, end) = match &mut inst.cpu {
            Cpu::Fcfs(u) => u.submit(now, d),
            Cpu::Shared(u) => {
                u.arrive(now, req, d, 0, None);
                a.park(Some(on.place()), pc + 1);
                if let Some(at) = u.arm(now) {
                    let (tier, unit) = (on.tier.id, on.unit);
                    ctx.schedule_at(at, Event::Unit { tier, unit });
                }
                return Step::Left;
            }
        };
        a.park(Some(on.place()), pc + 1);
        let parts = [(Part::Queue, start - now), (Part::Service, end - start)];
        self.breakdown.spend(req, class, on.tier.id, parts);
        ctx.schedule_at(end, Event::Resume { req });
        Step::Left
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn station(
        &mut self,
        req: u32,
        class: usize,
        tier: StationRef,
        demand: Option<&Dist>,
        key: u64,
        pc: usize,
        ctx: &mut Context<'_, Event>,
    ) -> Step {
        let st = &mut self.tiers.station[tier.index()];
        if st.events.is_some() {
            return self.station_join(req, class, tier, demand, key, pc, ctx);
        }
        let dist = demand.unwrap_or(&st.cfg.service);
        let d = SimDuration::from_secs_f64(dist.sample(&mut draw(key, pc)));
        let now = ctx.now();
        match st.arrive(now, d) {
            Some((start, end)) => {
                let place = Some((tier.id, 0, st.health.epoch));
                let parts = [(Part::Queue, start - now), (Part::Service, end - start)];
                self.breakdown.spend(req, class, tier.id, parts);
                self.visited(tier.id, now, end);
                Step::Wait(end, place, pc + 1)
            }
            None => {
                self.fail(req, Failure::Rejected, ctx);
                Step::Left
            }
        }
    }

    /// A request joins an event-driven station (processor sharing,
    /// priorities, a deadline or callers' patience): it waits there until the
    /// station's event says it left.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn station_join(
        &mut self,
        req: u32,
        class: usize,
        tier: StationRef,
        demand: Option<&Dist>,
        key: u64,
        pc: usize,
        ctx: &mut Context<'_, Event>,
    ) -> Step {
        let st = &mut self.tiers.station[tier.index()];
        let mut rng = draw(key, pc);
        let d = demand.unwrap_or(&st.cfg.service).sample(&mut rng);
        let patience = st.cfg.patience.as_ref().map(|p| p.sample(&mut rng));
        let rank = u8::MAX - self.cfg.classes[class].priority;
        let now = ctx.now();
        let joined = st.join(
            now,
            req,
            SimDuration::from_secs_f64(d),
            rank,
            patience.map(SimDuration::from_secs_f64),
        );
        if !joined {
            self.fail(req, Failure::Rejected, ctx);
            return Step::Left;
        }
        let place = Some((tier.id, 0, st.health.epoch));
        self.attempts[req].park(place, pc + 1);
        self.arm_station(tier, ctx);
        Step::Left
    }

    fn arm_station(&mut self, tier: StationRef, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        if let Some(at) = self.tiers.station[tier.index()].event_unit().arm(now) {
            ctx.schedule_at(
                at,
                Event::Unit {
                    tier: tier.id,
                    unit: 0,
                },
            );
        }
    }

    /// An event-driven station's next change: the requests that left it go
    /// on (served) or fail (dropped at the deadline, or their callers gave up).
    pub(super) fn unit_due(&mut self, tier: u16, unit: u32, ctx: &mut Context<'_, Event>) {
        match self.tiers.slots[tier as usize].handle {
            crate::tier::Handle::Station(s) => self.station_due(s, ctx),
            crate::tier::Handle::Api(a) => self.cpu_due(a, unit, ctx),
            _ => unreachable!("only stations and API CPUs are event-driven"),
        }
    }

    /// Bursts on instance `unit`'s shared CPU ended: their requests go on.
    fn cpu_due(&mut self, tier: ApiRef, unit: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let mut done = std::mem::take(&mut self.departed);
        let Cpu::Shared(u) = &mut self.tiers.api[tier.index()].instances[unit as usize].cpu else {
            unreachable!("an FCFS CPU has no events")
        };
        u.advance(now, &mut done);
        if let Some(at) = u.arm(now) {
            ctx.schedule_at(
                at,
                Event::Unit {
                    tier: tier.id,
                    unit,
                },
            );
        }
        for &(req, outcome) in &done {
            let Departure::Done { arrival, start } = outcome else {
                unreachable!("bursts do not give up")
            };
            let a = &self.attempts[req];
            if !a.stopped {
                let parts = [(Part::Queue, start - arrival), (Part::Service, now - start)];
                self.breakdown.spend(req, a.class as usize, tier.id, parts);
            }
            self.resume(req, ctx);
        }
        done.clear();
        self.departed = done;
    }

    fn station_due(&mut self, tier: StationRef, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let mut left = std::mem::take(&mut self.departed);
        self.tiers.station[tier.index()].advance(now, &mut left);
        self.arm_station(tier, ctx);
        for &(req, outcome) in &left {
            match outcome {
                Departure::Done { arrival, start } => {
                    let a = &self.attempts[req];
                    if !a.stopped {
                        let class = a.class as usize;
                        let parts = [(Part::Queue, start - arrival), (Part::Service, now - start)];
                        self.breakdown.spend(req, class, tier.id, parts);
                        self.visited(tier.id, arrival, now);
                    }
                    self.resume(req, ctx);
                }
                Departure::Expired | Departure::Abandoned => {
                    // No event resumes it: free it if stopped, else it fails.
                    let stopped = self.attempts[req].stopped;
                    self.attempts[req].at = None;
                    self.unpark(&[req]);
                    if !stopped {
                        self.fail(req, Failure::Rejected, ctx);
                    }
                }
            }
        }
        left.clear();
        self.departed = left;
    }

    /// The CDN edge: a hit ends the request there (at `end`, the program's
    /// last op), a miss goes on to the origin.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn cdn(
        &mut self,
        req: u32,
        class: usize,
        tier: CdnRef,
        key: u64,
        pc: usize,
        now: SimTime,
        end: usize,
    ) -> Step {
        let (until, hit) = self.tiers.cdn[tier.index()].visit(now, &mut draw(key, pc));
        // A hit is served at the edge; a miss's latency is its way to the origin.
        let part = if hit { Part::Service } else { Part::Network };
        self.breakdown
            .spend(req, class, tier.id, [(part, until - now)]);
        self.visited(tier.id, now, until);
        Step::Wait(until, None, if hit { end } else { pc + 1 })
    }

    /// A call to an external API: the request waits for its answer; an
    /// error answer or a 429 fails it then, an outage at once.
    #[inline(always)]
    fn call(
        &mut self,
        req: u32,
        class: usize,
        tier: ExternalRef,
        key: u64,
        pc: usize,
        ctx: &mut Context<'_, Event>,
    ) -> Step {
        let now = ctx.now();
        let ext = &mut self.tiers.external[tier.index()];
        let place = Some((tier.id, 0, ext.health.epoch));
        let (at, why) = match ext.call(now, &mut draw(key, pc)) {
            Answer::Answered { at, error: false } => {
                let price = ext.price();
                if price > 0.0 {
                    self.tiers.slots[tier.id as usize].bill.charge(now, price);
                }
                self.breakdown
                    .spend(req, class, tier.id, [(Part::Service, at - now)]);
                self.visited(tier.id, now, at);
                return Step::Wait(at, place, pc + 1);
            }
            Answer::Answered { at, error: true } => {
                self.visited(tier.id, now, at);
                (at, Failure::Error)
            }
            Answer::Limited { at } => (at, Failure::Rejected),
            Answer::Down => {
                self.fail(req, Failure::Error, ctx);
                return Step::Left;
            }
        };
        self.attempts[req].pending_error = Some(why);
        self.wait(req, at, place, pc + 1, ctx);
        Step::Left
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn cache_get(
        &mut self,
        req: u32,
        class: usize,
        tier: CacheRef,
        on_hit: usize,
        key: u64,
        pc: usize,
        now: SimTime,
    ) -> Step {
        let cache = &mut self.tiers.cache[tier.index()];
        let mut r = draw(key, pc);
        let service = SimDuration::from_secs_f64(cache.cfg.get_service.sample(&mut r));
        let u = r.uniform01();
        let rtt = cache.cfg.rtt;
        let shard = cache.shard_of(key, tier.id);
        match cache.get(shard, now, service, u) {
            Some((start, end, hit)) => {
                let place = (tier.id, shard, cache.shards[shard as usize].epoch);
                self.spent_on_cache(req, class, tier, now, start, end);
                Step::Wait(end + rtt, Some(place), if hit { on_hit } else { pc + 1 })
            }
            // The shard is down: the application falls back to a miss.
            None => {
                self.breakdown
                    .spend(req, class, tier.id, [(Part::Network, rtt)]);
                Step::Wait(now + rtt, None, pc + 1)
            }
        }
    }

    /// A cache command queued from `now`, was served from `start` to `end`,
    /// and paid the round trip.
    #[inline(always)]
    fn spent_on_cache(
        &mut self,
        req: u32,
        class: usize,
        tier: CacheRef,
        now: SimTime,
        start: SimTime,
        end: SimTime,
    ) {
        let rtt = self.tiers.cache[tier.index()].cfg.rtt;
        let parts = [
            (Part::Queue, start - now),
            (Part::Service, end - start),
            (Part::Network, rtt),
        ];
        self.breakdown.spend(req, class, tier.id, parts);
        self.visited(tier.id, now, end);
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn cache_set(
        &mut self,
        req: u32,
        class: usize,
        tier: CacheRef,
        key: u64,
        pc: usize,
        now: SimTime,
    ) -> Step {
        let cache = &mut self.tiers.cache[tier.index()];
        let service = SimDuration::from_secs_f64(cache.cfg.set_service.sample(&mut draw(key, pc)));
        let rtt = cache.cfg.rtt;
        let shard = cache.shard_of(key, tier.id);
        match cache.set(shard, now, service) {
            Some((start, end)) => {
                let place = (tier.id, shard, cache.shards[shard as usize].epoch);
                self.spent_on_cache(req, class, tier, now, start, end);
                Step::Wait(end + rtt, Some(place), pc + 1)
            }
            None => {
                self.breakdown
                    .spend(req, class, tier.id, [(Part::Network, rtt)]);
                Step::Wait(now + rtt, None, pc + 1)
            }
        }
    }

    /// A query from a region without the primary: a read on a local
    /// replica, or (a write, a read sent to the primary, no replica up) the
    /// hop to the primary's region (its query at pc + 1, the way back at
    /// pc + 2).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn remote_db(
        &mut self,
        req: u32,
        class: usize,
        local: DatabaseRef,
        query: u16,
        hop: SimDuration,
        key: u64,
        pc: usize,
        ctx: &mut Context<'_, Event>,
    ) -> Step {
        let db = &self.tiers.database[local.index()];
        let d = QueryDraws::new(db.cfg, query, &mut draw(key, pc));
        if d.write || d.u1 < db.cfg.read_primary_fraction || !db.has_replica_up() {
            self.breakdown
                .spend(req, class, local.id, [(Part::Network, hop)]);
            // The query goes to the primary's region and its answer comes back.
            let bytes = self.cfg.tiers[local.id as usize].transfer.round_trip();
            self.cross_region(ctx.now(), bytes);
            return Step::Wait(ctx.now() + hop, None, pc + 1);
        }
        // A replica-only tier routes every read to a replica.
        self.query(req, class, local, &d, 1.0, pc + 3, ctx);
        Step::Left
    }

    /// The attempt waits until `until` for a step at `place`, then continues
    /// at `next_pc`.
    #[inline(always)]
    pub(super) fn wait(
        &mut self,
        req: u32,
        until: SimTime,
        place: Option<Place>,
        next_pc: usize,
        ctx: &mut Context<'_, Event>,
    ) {
        self.attempts[req].park(place, next_pc);
        ctx.schedule_at(until, Event::Resume { req });
    }

    pub(super) fn resume(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let a = &mut self.attempts[req];
        a.pending_event = false;
        a.at = None;
        if a.stopped {
            self.maybe_free_attempt(req);
            return;
        }
        if let Some(why) = a.pending_error.take() {
            self.fail(req, why, ctx);
            return;
        }
        let (class, pc, key) = (a.class as usize, a.pc as usize, a.key);
        self.exec(req, class, pc, key, ctx);
    }

    /// The attempt completed its program.
    fn finish(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        self.release_api(req, ctx);
        let a = &mut self.attempts[req];
        a.stopped = true;
        let (txn, attempt_no, abandoned, class) = (a.txn, a.attempt_no, a.abandoned, a.class);
        let counted = if txn == NO_TXN {
            let (created, measured) = (a.created, a.measured);
            self.answered(class, created, measured, ctx);
            measured.then(|| now - created)
        } else if abandoned {
            if self.measuring(now) {
                self.classes[class as usize].client.wasted += 1;
            }
            None
        } else {
            self.txn_succeeded(txn, attempt_no, ctx)
        };
        self.breakdown.end(req, class as usize, counted);
        self.maybe_free_attempt(req);
    }

    /// The attempt failed: it stops here and its client hears of it.
    pub(super) fn fail(&mut self, req: u32, why: Failure, ctx: &mut Context<'_, Event>) {
        self.release_api(req, ctx);
        let a = &mut self.attempts[req];
        a.stopped = true;
        self.breakdown.end(req, a.class as usize, None);
        let a = &self.attempts[req];
        let (txn, attempt_no, abandoned) = (a.txn, a.attempt_no, a.abandoned);
        if txn == NO_TXN {
            let (class, measured) = (a.class, a.measured);
            self.gave_up(class, measured, why, ctx);
        } else if !abandoned {
            self.txn_failed(txn, attempt_no, why, ctx);
        }
        self.maybe_free_attempt(req);
    }

    /// Gives back the attempt's place on its API instance; the next request
    /// in that instance's backlog is admitted (it continues via a zero-delay
    /// event, keeping the call stack flat).
    fn release_api(&mut self, req: u32, ctx: &mut Context<'_, Event>) {
        let a = &mut self.attempts[req];
        let Some(on) = a.api.take() else {
            return;
        };
        let since = a.api_since;
        let now = ctx.now();
        let api = &mut self.tiers.api[on.tier.index()];
        if api.instances[on.unit as usize].epoch != on.epoch {
            return;
        }
        let leave = api.leave(on.unit, since, now);
        self.visited(on.tier.id, since, now);
        if let Some(scaler) = &mut self.tiers.slots[on.tier.id as usize].scaler
            && scaler.wants_latency()
        {
            scaler.record_latency(now - since);
        }
        if leave.terminated {
            self.bill_terminated(on.tier.id, on.unit, now);
        }
        if let Some(next) = leave.next {
            let a = &mut self.attempts[next];
            a.queued_on = None;
            a.api = Some(on);
            let next_pc = a.pc as usize + 1;
            let (class, queued) = (a.class as usize, now - a.api_since);
            self.breakdown
                .spend(next, class, on.tier.id, [(Part::Queue, queued)]);
            self.wait(next, now, None, next_pc, ctx);
        }
    }

    /// Issues the query drawn in `d` on database `tier` (`u1` decides
    /// whether a read goes to the primary); the attempt continues at
    /// `next_pc` once it is answered and the answer is back.
    #[allow(clippy::too_many_arguments)]
    fn query(
        &mut self,
        req: u32,
        class: usize,
        tier: DatabaseRef,
        d: &QueryDraws,
        u1: f64,
        next_pc: usize,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        let db = &mut self.tiers.database[tier.index()];
        let rtt = db.cfg.rtt;
        match db.query(d, u1, now) {
            Outcome::Done {
                node,
                at,
                conn,
                cpu,
            } => {
                let place = (tier.id, node, db.nodes[node as usize].epoch);
                // With one region no write goes further: one test, no call.
                let remote = d.write && !db.remote.is_empty();
                let parts = [
                    (Part::PoolWait, conn - now),
                    (Part::Queue, cpu - conn),
                    (Part::Service, at - cpu),
                    (Part::Network, rtt),
                ];
                self.breakdown.spend(req, class, tier.id, parts);
                self.visited(tier.id, now, at);
                if remote {
                    self.replicate_remote(tier, at, d.apply);
                }
                self.wait(req, at + rtt, Some(place), next_pc, ctx);
            }
            Outcome::Failed { node, at } => {
                let place = node.map(|n| (tier.id, n, db.nodes[n as usize].epoch));
                self.attempts[req].pending_error = Some(Failure::Error);
                self.wait(req, at + rtt, place, next_pc, ctx);
            }
        }
    }

    /// A write committed on `tier`'s primary at `commit` travels to the
    /// replica sets of the other regions: its bytes cross once per replica
    /// that receives it (each streams from the primary). Out of line, so
    /// that queries in a run with one region do not pay for its body.
    #[inline(never)]
    fn replicate_remote(&mut self, tier: DatabaseRef, commit: SimTime, apply: SimDuration) {
        for k in 0..self.tiers.database[tier.index()].remote.len() {
            let (remote, one_way) = self.tiers.database[tier.index()].remote[k];
            let replicas = &mut self.tiers.database[remote.index()];
            let reached = replicas.replicate(commit, commit + one_way, apply);
            let bytes = self.cfg.tiers[tier.id as usize].transfer.replication_bytes;
            if reached > 0 && bytes > 0.0 {
                self.cross_region(commit, bytes * reached as f64);
            }
        }
    }

    pub(super) fn maybe_free_attempt(&mut self, req: u32) {
        let a = &self.attempts[req];
        if a.stopped && !a.pending_event {
            self.attempts.free(req);
        }
    }
}

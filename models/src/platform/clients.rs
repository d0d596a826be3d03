//! Clients: arrivals, transactions and their attempts, timeouts, retries
//! with backoff, and what a client finally hears.

use sim_engine::{Context, SimDuration, SimTime, exp1, sub_key};

use super::{Attempt, Deadline, Event, Failure, NO_TXN, Platform, Txn, TxnState, draw};
use crate::config::{ClientPolicy, Process, RateProfile};
use crate::cost::bytes_to_gb;
use crate::slo::Objective;

impl<'c> Platform<'c> {
    #[inline]
    pub(super) fn envelope_gap(&mut self, class: usize) -> SimDuration {
        let c = &mut self.classes[class];
        SimDuration::from_secs_f64(exp1(&mut c.arrivals) * c.envelope_gap_s)
    }

    pub(super) fn arrival(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let ci = class as usize;
        if !self.classes[ci].poisson {
            self.other_arrival(class, ctx);
            return;
        }
        let gap = self.envelope_gap(ci);
        // Each class's arrivals are one event ahead: a lane of their own
        // keeps them out of the heap (same order of events).
        ctx.schedule_lane_in(ci, gap, Event::Arrival { class });
        if !self.thinned_out(ci, now) {
            self.admit(class, ctx);
        }
    }

    /// Thinning: drops the candidate with probability 1 − rate(t) / envelope.
    #[inline(always)]
    fn thinned_out(&mut self, ci: usize, now: SimTime) -> bool {
        let profile = &self.cfg.classes[ci].arrivals.profile;
        if *profile != RateProfile::Constant {
            let m = profile.multiplier(now.since_start());
            let c = &mut self.classes[ci];
            return c.arrivals.uniform() * c.envelope_multiplier >= m;
        }
        false
    }

    /// A renewal or batch class's arrival, apart from the Poisson path
    /// (which it would slow down).
    #[inline(never)]
    fn other_arrival(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let ci = class as usize;
        let process = &self.cfg.classes[ci].arrivals.process;
        if let Process::Renewal(gaps) = process {
            let gap = SimDuration::from_secs_f64(gaps.sample(&mut self.classes[ci].arrivals));
            ctx.schedule_lane_in(ci, gap, Event::Arrival { class });
            // Unthinned: a renewal class's profile is constant.
            self.admit(class, ctx);
            return;
        }
        let gap = self.envelope_gap(ci);
        ctx.schedule_lane_in(ci, gap, Event::Arrival { class });
        if self.thinned_out(ci, now) {
            return;
        }
        match process {
            Process::Batch(sizes) => {
                let u = self.classes[ci].arrivals.uniform();
                let n = sizes
                    .iter()
                    .find(|&&(_, cum)| u < cum)
                    .map_or(sizes[sizes.len() - 1].0, |&(n, _)| n);
                for _ in 0..n {
                    self.admit(class, ctx);
                }
            }
            Process::Mmpp { rates, means_s } => {
                // The state at this candidate: its changes up to now, each
                // lasting an exponential time of its state's mean.
                let c = &mut self.classes[ci];
                while c.burst.1 <= now {
                    c.burst.0 ^= 1;
                    let rest = exp1(&mut c.arrivals) * means_s[c.burst.0];
                    c.burst.1 += SimDuration::from_secs_f64(rest);
                }
                // Candidates come at the higher rate: keep this state's share.
                let keep = rates[c.burst.0] / rates[0].max(rates[1]);
                if keep >= 1.0 || c.arrivals.uniform() < keep {
                    self.admit(class, ctx);
                }
            }
            Process::Poisson | Process::Renewal(_) => {
                unreachable!("Poisson arrivals take `arrival`'s path, renewal ones return above")
            }
        }
    }

    /// A think time of closed class `class`, from its arrivals stream.
    pub(super) fn think(&mut self, class: usize) -> SimDuration {
        let pop = self.cfg.classes[class].arrivals.closed.as_ref();
        let think = pop.map_or(0.0, |p| p.think.sample(&mut self.classes[class].arrivals));
        SimDuration::from_secs_f64(think)
    }

    /// A user of a closed class is done thinking: it asks, unless the
    /// population has shrunk below the users there are (then it leaves).
    pub(super) fn user_asks(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let ci = class as usize;
        let a = &self.cfg.classes[ci].arrivals;
        if let Some(pop) = &a.closed
            && a.profile != RateProfile::Constant
            && self.classes[ci].users > pop.at(a.profile.multiplier(ctx.now().since_start()))
        {
            self.classes[ci].users -= 1;
            return;
        }
        self.admit(class, ctx);
    }

    /// A closed class's population follows its profile: the users it
    /// lacks join, each starting with a think time. (Users beyond it leave
    /// when they next would ask.)
    pub(super) fn population(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let ci = class as usize;
        let a = &self.cfg.classes[ci].arrivals;
        let Some(pop) = &a.closed else { return };
        let target = pop.at(a.profile.multiplier(ctx.now().since_start()));
        while self.classes[ci].users < target {
            self.classes[ci].users += 1;
            let think = self.think(ci);
            ctx.schedule_in(think, Event::User { class });
        }
        ctx.schedule_in(super::POPULATION_STEP, Event::Population { class });
    }

    /// The client of a closed class is done with its request: it thinks,
    /// then asks again.
    #[inline(always)]
    fn next_request(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        if self.classes[class as usize].closed {
            let think = self.think(class as usize);
            ctx.schedule_in(think, Event::User { class });
        }
    }

    /// A request of `class` arrives: its transaction (or, without a client
    /// policy, its one attempt) starts. Inlined: it is the arrival's body.
    #[inline(always)]
    fn admit(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let ci = class as usize;
        let measured = self.measuring(now);
        let c = &mut self.classes[ci];
        let key = c.demands.next_u64();
        if measured {
            c.counts.arrived += 1;
        }
        c.series.arrivals.add(now, 1.0);
        if c.direct {
            // The same key derivation as attempt 0 of a transaction, so a
            // class draws the same numbers with or without one.
            let key = sub_key(key, 0);
            let req = self.attempts.insert(Attempt {
                txn: NO_TXN,
                created: now,
                measured,
                class,
                pc: 0,
                attempt_no: 0,
                stopped: false,
                pending_event: false,
                abandoned: false,
                pending_error: None,
                api: None,
                api_since: now,
                queued_on: None,
                at: None,
                key,
            });
            self.breakdown.start(req);
            self.exec(req, ci, 0, key, ctx);
            return;
        }
        let serial = self.txn_serial;
        self.txn_serial += 1;
        let txn = self.txns.insert(Txn {
            class,
            created: now,
            measured,
            attempt_no: 0,
            current: self.attempts.next_id(),
            state: TxnState::Active,
            pending: 0,
            key,
            serial,
        });
        self.launch_attempt(txn, class, 0, now, measured, key, serial, ctx);
    }

    fn policy(&self, class: u16) -> &'c ClientPolicy {
        &self.cfg.classes[class as usize].client
    }

    /// Starts the transaction's next attempt (a retry).
    fn start_attempt(&mut self, txn: u32, ctx: &mut Context<'_, Event>) {
        let current = self.attempts.next_id();
        let t = &mut self.txns[txn];
        t.current = current;
        let (class, attempt_no, created, measured) = (t.class, t.attempt_no, t.created, t.measured);
        let (key, serial) = (t.key, t.serial);
        self.launch_attempt(txn, class, attempt_no, created, measured, key, serial, ctx);
    }

    /// Starts attempt `attempt_no` of transaction `txn` (whose fields the
    /// caller hands over, `current` already naming the attempt's id): the
    /// client's deadline, then its program.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn launch_attempt(
        &mut self,
        txn: u32,
        class: u16,
        attempt_no: u16,
        created: SimTime,
        measured: bool,
        txn_key: u64,
        serial: u64,
        ctx: &mut Context<'_, Event>,
    ) {
        let key = sub_key(txn_key, attempt_no as u64);
        let req = self.attempts.insert(Attempt {
            txn,
            created,
            measured,
            class,
            pc: 0,
            attempt_no,
            stopped: false,
            pending_event: false,
            abandoned: false,
            pending_error: None,
            api: None,
            api_since: SimTime::ZERO,
            queued_on: None,
            at: None,
            key,
        });
        debug_assert_eq!(self.txns[txn].current, req);
        self.breakdown.start(req);
        if attempt_no > 0 {
            self.breakdown
                .retried(req, class as usize, ctx.now() - created);
        }
        if let Some(timeout) = self.policy(class).timeout {
            let deadline = ctx.now() + timeout;
            let c = &mut self.classes[class as usize];
            c.deadlines.push_back(Deadline {
                at: deadline,
                txn,
                attempt: attempt_no,
                serial,
            });
            if !c.check_pending {
                c.check_pending = true;
                ctx.schedule_at(deadline, Event::TimeoutCheck { class });
            }
        }
        self.exec(req, class as usize, 0, key, ctx);
    }

    /// Attempt `attempt_no` of `txn` finished: if the client still waits on
    /// it, the transaction is answered. Its latency, if it counts in the
    /// statistics (created in the measured period).
    pub(super) fn txn_succeeded(
        &mut self,
        txn: u32,
        attempt_no: u16,
        ctx: &mut Context<'_, Event>,
    ) -> Option<SimDuration> {
        let now = ctx.now();
        let t = &mut self.txns[txn];
        if t.state != TxnState::Active || t.attempt_no != attempt_no {
            return None;
        }
        // An active transaction has no retry pending (only a backoff
        // does): it is done and can go.
        debug_assert_eq!(t.pending, 0);
        let (class, created, measured) = (t.class, t.created, t.measured);
        self.txns.free(txn);
        self.answered(class, created, measured, ctx);
        measured.then(|| now - created)
    }

    /// A client got its answer: counts, latency, objectives, traffic.
    pub(super) fn answered(
        &mut self,
        class: u16,
        created: SimTime,
        measured: bool,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        self.next_request(class, ctx);
        let latency = now - created;
        let c = &mut self.classes[class as usize];
        if measured {
            c.counts.completed += 1;
            c.latency.record(latency);
        }
        c.series.completed.add(now, 1.0);
        c.latency_series.record(now, latency);
        if let Some(r) = self.cfg.classes[class as usize].region {
            self.region_latency[r as usize].record(now, latency);
        }
        for &s in &self.class_slos[class as usize] {
            let tracker = &mut self.slos[s as usize];
            let good = match &self.cfg.slos[s as usize].objective {
                Objective::Latency { threshold, .. } => latency <= *threshold,
                _ => true,
            };
            tracker.record(now, good);
        }
        let bytes = self.cfg.classes[class as usize].response_bytes;
        if bytes > 0.0 {
            let prices = self.cfg.traffic;
            let (line, price) = if self.has_cdn[class as usize] {
                (0, prices.cdn_per_gb)
            } else {
                (1, prices.egress_per_gb)
            };
            if price > 0.0 {
                self.traffic[line].charge(now, bytes_to_gb(bytes) * price);
            }
        }
    }

    /// A client gave up for good (failed or rejected).
    pub(super) fn gave_up(
        &mut self,
        class: u16,
        measured: bool,
        why: Failure,
        ctx: &mut Context<'_, Event>,
    ) {
        let now = ctx.now();
        self.next_request(class, ctx);
        let c = &mut self.classes[class as usize];
        if measured {
            match why {
                Failure::Rejected => c.counts.rejected += 1,
                Failure::Error => c.counts.failed += 1,
            }
        }
        c.series.failed.add(now, 1.0);
        for &s in &self.class_slos[class as usize] {
            // A latency objective judges answered requests only.
            if !matches!(
                self.cfg.slos[s as usize].objective,
                Objective::Latency { .. }
            ) {
                self.slos[s as usize].record(now, false);
            }
        }
    }

    pub(super) fn txn_failed(
        &mut self,
        txn: u32,
        attempt_no: u16,
        why: Failure,
        ctx: &mut Context<'_, Event>,
    ) {
        let t = &self.txns[txn];
        if t.state != TxnState::Active || t.attempt_no != attempt_no {
            return;
        }
        let policy = self.policy(t.class);
        if policy.retry_on_error && t.attempt_no < policy.retries {
            self.schedule_retry(txn, ctx);
        } else {
            self.end_txn_failed(txn, why, ctx);
        }
    }

    fn end_txn_failed(&mut self, txn: u32, why: Failure, ctx: &mut Context<'_, Event>) {
        let t = &mut self.txns[txn];
        t.state = TxnState::Done;
        let (class, measured) = (t.class, t.measured);
        self.gave_up(class, measured, why, ctx);
        self.maybe_free_txn(txn);
    }

    pub(super) fn timeout_check(&mut self, class: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        self.classes[class as usize].check_pending = false;
        while let Some(&d) = self.classes[class as usize].deadlines.front() {
            let waiting = self.client_waits(d);
            if d.at > now && waiting {
                self.classes[class as usize].check_pending = true;
                ctx.schedule_at(d.at, Event::TimeoutCheck { class });
                break;
            }
            // Either the deadline has come, or the client no longer waits on
            // this attempt (it finished, failed or was retried): drop the
            // deadline now rather than waking up for it.
            self.classes[class as usize].deadlines.pop_front();
            if waiting {
                self.timeout(d.txn, d.attempt, ctx);
            }
        }
    }

    /// Whether the client still waits on the attempt of deadline `d`.
    #[inline]
    fn client_waits(&self, d: Deadline) -> bool {
        self.txns.get(d.txn).is_some_and(|t| {
            t.serial == d.serial && t.state == TxnState::Active && t.attempt_no == d.attempt
        })
    }

    /// The client of attempt `attempt_no` of `txn`, still waiting, gives up.
    fn timeout(&mut self, txn: u32, attempt_no: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let t = &self.txns[txn];
        debug_assert!(t.state == TxnState::Active && t.attempt_no == attempt_no);
        let (class, current, measured) = (t.class, t.current, t.measured);
        let a = &mut self.attempts[current];
        a.abandoned = true;
        let c = &mut self.classes[class as usize];
        if measured {
            c.client.timed_out += 1;
        }
        c.series.timed_out.add(now, 1.0);
        if attempt_no < self.policy(class).retries {
            self.schedule_retry(txn, ctx);
        } else {
            self.end_txn_failed(txn, Failure::Error, ctx);
        }
    }

    fn schedule_retry(&mut self, txn: u32, ctx: &mut Context<'_, Event>) {
        let t = &mut self.txns[txn];
        t.state = TxnState::Backoff;
        t.pending += 1;
        let (class, k, key, measured) = (t.class, t.attempt_no as u32 + 1, t.key, t.measured);
        let p = self.policy(class);
        let exp = p.backoff_base.as_secs_f64() * 2f64.powi(k as i32 - 1);
        let capped = exp.min(p.backoff_max.as_secs_f64());
        let u = draw(key, 0xB0FF_0000 + k as usize).uniform01();
        let delay = SimDuration::from_secs_f64(capped * (1.0 - p.jitter * u));
        if measured {
            self.classes[class as usize].client.retries += 1;
        }
        ctx.schedule_in(delay, Event::Retry { txn });
    }

    pub(super) fn retry(&mut self, txn: u32, ctx: &mut Context<'_, Event>) {
        let t = &mut self.txns[txn];
        t.pending -= 1;
        debug_assert!(t.state == TxnState::Backoff);
        t.attempt_no += 1;
        t.state = TxnState::Active;
        self.start_attempt(txn, ctx);
    }

    fn maybe_free_txn(&mut self, txn: u32) {
        let t = &self.txns[txn];
        if t.state == TxnState::Done && t.pending == 0 {
            self.txns.free(txn);
        }
    }
}

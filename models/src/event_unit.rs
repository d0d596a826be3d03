//! A multi-server unit whose jobs' ends are not known when they arrive:
//! processor sharing, non-preemptive priorities, and queues that jobs leave
//! unserved (a server-side deadline, callers' patience).
//!
//! ```text
//!   arrive ─► waiting (FCFS, or highest priority first; FCFS within one)
//!               │   └─► leaves unserved when its deadline or patience runs out
//!               ▼
//!             in service:  dedicated  one job per server, ends at start + demand
//!                          shared     all jobs share the servers: each is served at
//!                                     rate min(1, servers / n) (processor sharing),
//!                                     at most `limit` at once
//! ```
//!
//! Unlike [`crate::fcfs::FcfsUnit`] the unit is driven by events: the platform
//! asks [`EventUnit::arm`] when the unit next changes on its own (a job ends
//! or runs out of time) and calls [`EventUnit::advance`] then. Figures are the
//! same as an FCFS unit's ([`crate::fcfs::FcfsStats`], [`crate::fcfs::UnitSeries`]),
//! kept as time integrals of the unit's state between changes; a job that
//! leaves unserved counts as an arrival whose wait and time in the unit end
//! when it leaves.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use sim_engine::{IntervalLatency, SimDuration, SimTime};

use crate::fcfs::{FcfsStats, Figures, Measured, UnitSeries};

/// How a unit picks and serves its jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discipline {
    /// First come, first served: one job per server.
    Fcfs,
    /// One job per server; a freed server takes the waiting job of the highest
    /// priority, FCFS within a priority (non-preemptive).
    Priority,
    /// Processor sharing: the jobs in service share the servers equally, each
    /// at rate min(1, servers / jobs); with a limit, at most `limit` jobs are
    /// in service and the others wait (FCFS).
    Shared { limit: Option<u32> },
}

/// How a job left the unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Served: it arrived at `arrival` and started at `start`.
    Done { arrival: SimTime, start: SimTime },
    /// Dropped by the server: it waited past the unit's deadline.
    Expired,
    /// Its caller gave up waiting (patience).
    Abandoned,
}

#[derive(Clone, Copy, Debug)]
struct Job {
    req: u32,
    arrival: u64,
    demand: u64,
    /// Whether it gives up (if it does) at the unit's deadline.
    deadline: bool,
}

/// A job in service: its end (dedicated servers) or its finish tag in
/// virtual time (shared), then the arrival sequence for ties.
#[derive(Clone, Copy, Debug)]
struct Serving {
    key: u128,
    seq: u64,
    req: u32,
    arrival: u64,
    start: u64,
}

impl PartialEq for Serving {
    fn eq(&self, o: &Self) -> bool {
        (self.key, self.seq) == (o.key, o.seq)
    }
}
impl Eq for Serving {}
impl PartialOrd for Serving {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Serving {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.key, self.seq).cmp(&(o.key, o.seq))
    }
}

/// Work in a shared unit's virtual time is kept in units of 2^-16 ns, so that
/// finish tags are exact integers and a run's results do not depend on
/// floating-point rounding order.
const VSHIFT: u32 = 16;

/// `a / b`, in 64 bits when both fit (the usual case: a 128-bit division is
/// a library call, and these run at every change of a shared unit).
#[inline]
fn div(a: u128, b: u128) -> u128 {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => (a / b) as u128,
        _ => a / b,
    }
}

/// `⌈a / b⌉`, as [`div`].
#[inline]
fn div_ceil(a: u128, b: u128) -> u128 {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => a.div_ceil(b) as u128,
        _ => a.div_ceil(b),
    }
}

#[derive(Clone, Debug)]
pub struct EventUnit {
    servers: u32,
    discipline: Discipline,
    /// Most jobs in service at once.
    limit: usize,
    measured: Measured,
    /// Waiting jobs by (rank, arrival sequence): rank 0 is served first.
    waiting: BTreeMap<(u8, u64), Job>,
    /// (gives-up time, rank, seq) of waiting jobs; entries of jobs that have
    /// started are skipped when they come up.
    give_ups: BinaryHeap<Reverse<(u64, u8, u64)>>,
    serving: BinaryHeap<Reverse<Serving>>,
    seq: u64,
    /// Shared service: virtual time (work each job in service has received
    /// since the last idle moment), in 2^-16 ns, at `last`.
    virtual_now: u128,
    /// When the time integrals were last brought up to date.
    last: u64,
    /// The series are up to date to here (at least `last`): a tier closing
    /// intervals brings them to the interval's end before the next event.
    series_to: u64,
    /// The earliest time the platform has an event scheduled for this unit.
    armed: Option<u64>,
    /// Busy server·ns over the whole run (for autoscaling's CPU metric).
    busy_total: u128,
    stats: FcfsStats,
    series: Option<UnitSeries>,
    expired: u64,
    abandoned: u64,
}

impl EventUnit {
    pub fn new(servers: u32, discipline: Discipline, measured: Measured) -> Self {
        assert!(servers >= 1);
        let limit = match discipline {
            Discipline::Shared { limit } => limit.map_or(usize::MAX, |l| l as usize),
            _ => servers as usize,
        };
        EventUnit {
            servers,
            discipline,
            limit,
            measured,
            waiting: BTreeMap::new(),
            give_ups: BinaryHeap::new(),
            serving: BinaryHeap::new(),
            seq: 0,
            virtual_now: 0,
            last: 0,
            series_to: 0,
            armed: None,
            busy_total: 0,
            stats: FcfsStats::default(),
            series: None,
            expired: 0,
            abandoned: 0,
        }
    }

    /// Also records per-interval figures over `[0, horizon)` (see
    /// [`crate::fcfs::FcfsUnit::with_series`]).
    pub fn with_series(
        mut self,
        interval: SimDuration,
        horizon: SimDuration,
        count_jobs: bool,
    ) -> Self {
        self.series = Some(UnitSeries::new(interval, horizon, count_jobs));
        self
    }

    fn shared(&self) -> bool {
        matches!(self.discipline, Discipline::Shared { .. })
    }

    /// Jobs waiting or in service.
    pub fn in_system(&self) -> usize {
        self.waiting.len() + self.serving.len()
    }

    /// Jobs that waited past the deadline, and callers that gave up, among
    /// arrivals in the measured period.
    pub fn expired(&self) -> u64 {
        self.expired
    }

    pub fn abandoned(&self) -> u64 {
        self.abandoned
    }

    /// Busy server·ns from the start of the run to `now`.
    pub fn busy_until(&mut self, now: SimTime) -> u128 {
        self.catch_up(now.as_nanos());
        self.busy_total
    }

    fn busy_servers(&self) -> u64 {
        (self.serving.len() as u64).min(self.servers as u64)
    }

    /// Brings the time integrals (and a shared unit's virtual time) to `now`.
    fn catch_up(&mut self, now: u64) {
        let last = self.last;
        if now <= last {
            return;
        }
        self.last = now;
        let busy = self.busy_servers();
        let waiting = self.waiting.len() as u64;
        let n = self.serving.len() as u64;
        self.busy_total += ((now - last) * busy) as u128;
        if self.shared() && n > 0 {
            // Each job gets busy / n of a server.
            self.virtual_now += div(((now - last) as u128 * busy as u128) << VSHIFT, n as u128);
        }
        let w = self.measured;
        let span = w.overlap(last, now) as u128;
        if span > 0 {
            self.stats.busy_ns += span * busy as u128;
            self.stats.waiting_ns += span * waiting as u128;
            self.stats.in_system_ns += span * (waiting + n) as u128;
        }
        self.add_series(last, now, busy, waiting);
    }

    /// Spreads the busy servers and waiting jobs, unchanged since `last`,
    /// over the series from where they stand to `to`.
    fn add_series(&mut self, last: u64, to: u64, busy: u64, waiting: u64) {
        let from = last.max(self.series_to);
        if to <= from {
            return;
        }
        self.series_to = to;
        if let Some(s) = &mut self.series {
            if busy > 0 {
                s.busy.add_span(from, to, busy as f64);
            }
            if waiting > 0 {
                s.waiting.add_span(from, to, waiting as f64);
            }
        }
    }

    /// Brings the series to `to` (at least the end of the intervals closing,
    /// at most the next event: the unit is unchanged until then) and lends
    /// them, for the tier to drain. Only the series move: the statistics and
    /// a shared unit's virtual time are brought up to date at events alone,
    /// as before, so results do not depend on when intervals close. A span
    /// split at `to` adds the same to each interval: servers or jobs times
    /// nanoseconds, integers, exact in an `f64`.
    pub fn closing_series(&mut self, to: SimTime) -> Option<&mut UnitSeries> {
        let (busy, waiting) = (self.busy_servers(), self.waiting.len() as u64);
        self.add_series(self.last, to.as_nanos(), busy, waiting);
        self.series.as_mut()
    }

    /// A job of `demand` arrives at `now` for request `req`. `rank` orders a
    /// priority unit's queue (0 first); `gives_up` is when it leaves if it has
    /// not started (deadline or patience, whichever comes first), and
    /// `deadline` says which of the two.
    pub fn arrive(
        &mut self,
        now: SimTime,
        req: u32,
        demand: SimDuration,
        rank: u8,
        gives_up: Option<(SimTime, bool)>,
    ) {
        let t = now.as_nanos();
        self.catch_up(t);
        if let Some(jobs) = self.series.as_mut().and_then(|s| s.jobs.as_mut()) {
            jobs.arrivals.add(now, 1.0);
        }
        let rank = if self.discipline == Discipline::Priority {
            rank
        } else {
            0
        };
        let (gives_up, deadline) = gives_up.map_or((u64::MAX, false), |(g, d)| (g.as_nanos(), d));
        let job = Job {
            req,
            arrival: t,
            demand: demand.as_nanos(),
            deadline,
        };
        self.seq += 1;
        if self.serving.len() < self.limit && self.waiting.is_empty() {
            self.start(job, t, self.seq);
        } else {
            self.waiting.insert((rank, self.seq), job);
            if gives_up != u64::MAX {
                self.give_ups.push(Reverse((gives_up, rank, self.seq)));
            }
        }
    }

    fn start(&mut self, job: Job, now: u64, seq: u64) {
        let key = if self.shared() {
            self.virtual_now + ((job.demand as u128) << VSHIFT)
        } else {
            (now + job.demand) as u128
        };
        self.serving.push(Reverse(Serving {
            key,
            seq,
            req: job.req,
            arrival: job.arrival,
            start: now,
        }));
    }

    /// When the job in service ends first.
    fn next_end(&self) -> Option<u64> {
        let Reverse(head) = self.serving.peek()?;
        if !self.shared() {
            return Some(head.key as u64);
        }
        let n = self.serving.len() as u128;
        let busy = self.busy_servers() as u128;
        let left = head.key.saturating_sub(self.virtual_now);
        // Virtual time grows by busy / n per ns (in 2^-16 ns units).
        let ns = div_ceil(left * n, busy << VSHIFT);
        Some(
            self.last
                .saturating_add(u64::try_from(ns).unwrap_or(u64::MAX)),
        )
    }

    /// When the unit next changes on its own: a job ends or a waiting one
    /// gives up.
    fn next_due(&mut self) -> Option<u64> {
        while let Some(&Reverse((_, rank, seq))) = self.give_ups.peek() {
            if self.waiting.contains_key(&(rank, seq)) {
                break;
            }
            self.give_ups.pop();
        }
        let give_up = self.give_ups.peek().map(|Reverse((t, _, _))| *t);
        match (self.next_end(), give_up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The time the platform must schedule this unit's next event at, if
    /// none it has scheduled comes earlier. Call after every change.
    pub fn arm(&mut self, now: SimTime) -> Option<SimTime> {
        let next = self.next_due()?;
        let now = now.as_nanos();
        match self.armed {
            Some(a) if a > now && a <= next => None,
            _ => {
                self.armed = Some(next);
                Some(SimTime::from_nanos(next))
            }
        }
    }

    /// Ends the jobs due by `now` and lets waiting ones give up or start;
    /// pushes `(request, outcome)` for each job that left, in order.
    pub fn advance(&mut self, now: SimTime, left: &mut Vec<(u32, Outcome)>) {
        let t = now.as_nanos();
        self.catch_up(t);
        loop {
            let mut changed = false;
            while let Some(end) = self.next_end()
                && end <= t
            {
                let Reverse(s) = self.serving.pop().expect("a job in service");
                if self.shared() {
                    // Rounding of the end up to a whole ns: the job has its work.
                    self.virtual_now = self.virtual_now.max(s.key);
                }
                if self.serving.is_empty() {
                    self.virtual_now = 0;
                }
                self.finished(s.arrival, s.start, t, true);
                left.push((
                    s.req,
                    Outcome::Done {
                        arrival: SimTime::from_nanos(s.arrival),
                        start: SimTime::from_nanos(s.start),
                    },
                ));
                changed = true;
            }
            while let Some(&Reverse((g, rank, seq))) = self.give_ups.peek()
                && g <= t
            {
                self.give_ups.pop();
                if let Some(job) = self.waiting.remove(&(rank, seq)) {
                    self.finished(job.arrival, t, t, false);
                    let arrived = self.measured.contains(job.arrival);
                    let outcome = if job.deadline {
                        self.expired += arrived as u64;
                        Outcome::Expired
                    } else {
                        self.abandoned += arrived as u64;
                        Outcome::Abandoned
                    };
                    left.push((job.req, outcome));
                    changed = true;
                }
            }
            while self.serving.len() < self.limit
                && let Some(((_, seq), job)) = self.waiting.pop_first()
            {
                self.start(job, t, seq);
                changed = true;
            }
            if !changed {
                break;
            }
        }
    }

    /// Accounts a job that leaves at `end`, served (`start` its start) or not
    /// (`start` = `end`).
    fn finished(&mut self, arrival: u64, start: u64, end: u64, served: bool) {
        let w = self.measured;
        if w.contains(arrival) {
            let s = &mut self.stats;
            s.arrivals += 1;
            if start > arrival {
                s.waited += 1;
                s.wait_ns += (start - arrival) as u128;
            }
            s.sojourn_ns += (end - arrival) as u128;
        }
        if served && w.contains(end) {
            self.stats.completed += 1;
        }
        if served && let Some(jobs) = self.series.as_mut().and_then(|s| s.jobs.as_mut()) {
            let at = SimTime::from_nanos(end);
            jobs.completed.add(at, 1.0);
            jobs.latency
                .record(at, SimDuration::from_nanos(end - arrival));
        }
    }

    /// The unit fails at `now`: every job in it is lost. Returns their
    /// requests.
    pub fn crash(&mut self, now: SimTime) -> Vec<u32> {
        self.catch_up(now.as_nanos());
        let mut lost: Vec<u32> = self.serving.drain().map(|Reverse(s)| s.req).collect();
        lost.extend(
            std::mem::take(&mut self.waiting)
                .into_values()
                .map(|j| j.req),
        );
        self.give_ups.clear();
        self.virtual_now = 0;
        lost
    }

    /// The sojourn times per interval, if kept (recorded as jobs leave).
    pub fn latency_mut(&mut self) -> Option<&mut IntervalLatency> {
        self.series.as_mut()?.jobs.as_mut().map(|j| &mut j.latency)
    }

    /// Brings the figures to the end of the run.
    pub fn settle(&mut self, now: SimTime) {
        self.catch_up(now.as_nanos());
    }
}

impl Figures for EventUnit {
    fn stats(&self) -> &FcfsStats {
        &self.stats
    }
    fn series(&self) -> Option<&UnitSeries> {
        self.series.as_ref()
    }
    fn servers(&self) -> u32 {
        self.servers
    }
    fn measured(&self) -> Measured {
        self.measured
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_engine::IntervalCounts;

    fn t(ns: u64) -> SimTime {
        SimTime::from_nanos(ns)
    }

    /// Runs the unit through `jobs` (arrival, demand, rank, gives_up) as the
    /// platform would, returning each job's (index, outcome, leaving time).
    fn drive(
        unit: &mut EventUnit,
        jobs: &[(u64, u64, u8, Option<u64>)],
    ) -> Vec<(u32, Outcome, u64)> {
        drive_closing(unit, jobs, |_, _| {})
    }

    /// As [`drive`], calling `before(now, unit)` before each event.
    fn drive_closing(
        unit: &mut EventUnit,
        jobs: &[(u64, u64, u8, Option<u64>)],
        mut before: impl FnMut(u64, &mut EventUnit),
    ) -> Vec<(u32, Outcome, u64)> {
        let mut out = Vec::new();
        let mut due: Vec<u64> = Vec::new();
        let mut left = Vec::new();
        let mut k = 0;
        loop {
            let next_arrival = jobs.get(k).map(|j| j.0);
            let next_due = due.iter().copied().min();
            let now = match (next_arrival, next_due) {
                (None, None) => break,
                (Some(a), Some(d)) if d <= a => d,
                (Some(a), _) => a,
                (None, Some(d)) => d,
            };
            before(now, unit);
            if next_due == Some(now) {
                due.retain(|&d| d != now);
                unit.advance(t(now), &mut left);
                out.extend(left.drain(..).map(|(r, o)| (r, o, now)));
            } else {
                let (a, d, rank, g) = jobs[k];
                unit.arrive(
                    t(a),
                    k as u32,
                    SimDuration::from_nanos(d),
                    rank,
                    g.map(|g| (t(a + g), true)),
                );
                k += 1;
            }
            if let Some(at) = unit.arm(t(now)) {
                due.push(at.as_nanos());
            }
        }
        out
    }

    fn ends(out: &[(u32, Outcome, u64)]) -> Vec<(u32, u64)> {
        let mut v: Vec<(u32, u64)> = out.iter().map(|&(r, _, at)| (r, at)).collect();
        v.sort();
        v
    }

    #[test]
    fn fcfs_matches_the_recursion() {
        let w = Measured { from: 0, to: 1_000 };
        let mut u = EventUnit::new(1, Discipline::Fcfs, w);
        let out = drive(
            &mut u,
            &[
                (0, 3, 0, None),
                (1, 3, 0, None),
                (2, 3, 0, None),
                (10, 3, 0, None),
            ],
        );
        assert_eq!(ends(&out), vec![(0, 3), (1, 6), (2, 9), (3, 13)]);
        assert_eq!(u.stats().wait_ns, 6);
        assert_eq!(u.stats().busy_ns, 12);
    }

    #[test]
    fn processor_sharing_splits_the_server() {
        // Two jobs of 10 at once on one server: both end at 20. A third of 5
        // arriving at 4 shares with them: by 4 each has 2 done; three share
        // until the short one ends at 4 + 3·5 = 19; the others have 8 − 5 = 3
        // left each, done at 19 + 2·3 = 25.
        let w = Measured { from: 0, to: 1_000 };
        let mut u = EventUnit::new(1, Discipline::Shared { limit: None }, w);
        let out = drive(
            &mut u,
            &[(0, 10, 0, None), (0, 10, 0, None), (4, 5, 0, None)],
        );
        assert_eq!(ends(&out), vec![(0, 25), (1, 25), (2, 19)]);
        assert_eq!(u.stats().busy_ns, 25);
        // Two servers, three jobs: each at rate 2/3.
        let mut u = EventUnit::new(2, Discipline::Shared { limit: None }, w);
        let out = drive(&mut u, &[(0, 6, 0, None), (0, 6, 0, None), (0, 6, 0, None)]);
        assert_eq!(ends(&out), vec![(0, 9), (1, 9), (2, 9)]);
        assert_eq!(u.stats().busy_ns, 18);
    }

    #[test]
    fn a_limit_queues_the_rest() {
        let w = Measured { from: 0, to: 1_000 };
        let mut u = EventUnit::new(1, Discipline::Shared { limit: Some(2) }, w);
        let out = drive(
            &mut u,
            &[(0, 10, 0, None), (0, 10, 0, None), (0, 10, 0, None)],
        );
        assert_eq!(ends(&out), vec![(0, 20), (1, 20), (2, 30)]);
        assert_eq!(u.stats().wait_ns, 20);
    }

    #[test]
    fn priority_serves_the_higher_rank_next_without_preempting() {
        let w = Measured { from: 0, to: 1_000 };
        let mut u = EventUnit::new(1, Discipline::Priority, w);
        // Job 0 (rank 1) is in service; 1 (rank 1) and 2 (rank 0) wait: 2 goes first.
        let out = drive(
            &mut u,
            &[(0, 10, 1, None), (1, 10, 1, None), (2, 10, 0, None)],
        );
        assert_eq!(ends(&out), vec![(0, 10), (1, 30), (2, 20)]);
    }

    #[test]
    fn waiting_jobs_give_up_and_served_ones_do_not() {
        let w = Measured { from: 0, to: 1_000 };
        let mut u = EventUnit::new(1, Discipline::Fcfs, w);
        // Job 1 would start at 10 but gives up at 1 + 5; job 2 starts at 10.
        let out = drive(
            &mut u,
            &[
                (0, 10, 0, Some(5)),
                (1, 10, 0, Some(5)),
                (2, 10, 0, Some(50)),
            ],
        );
        assert_eq!(ends(&out), vec![(0, 10), (1, 6), (2, 20)]);
        assert_eq!(out.iter().find(|o| o.0 == 1).unwrap().1, Outcome::Expired);
        assert_eq!(u.expired(), 1);
        assert_eq!(u.stats().arrivals, 3);
        assert_eq!(u.stats().completed, 2);
        assert_eq!(u.stats().wait_ns, 5 + 8);
    }

    #[test]
    fn series_drained_as_intervals_close_sum_to_the_series_kept_whole() {
        // A shared unit (2 servers, at most 3 in service) with random jobs;
        // one copy has the intervals the next event has passed drained into
        // sums before each event, its series brought to the event's time
        // (mid-interval, as its tier does), the other keeps its series
        // whole. Same busy and waiting time, bit for bit, and the
        // same finishing times: draining does not touch the unit's state.
        let w = Measured { from: 0, to: 5_000 };
        let width = 50u64;
        let (i, h) = (
            SimDuration::from_nanos(width),
            SimDuration::from_nanos(5_000),
        );
        let mut rng = sim_engine::StreamRng::new(3, 0, "drain");
        let mut jobs = Vec::new();
        let mut a = 0;
        while a < 4_500 {
            a += rng.below(40);
            jobs.push((a, 1 + rng.below(120), 0, None));
        }
        let new =
            || EventUnit::new(2, Discipline::Shared { limit: Some(3) }, w).with_series(i, h, false);
        let mut whole = new();
        let kept = drive(&mut whole, &jobs);
        whole.settle(t(5_000));
        let mut rolling = new();
        let (mut busy, mut waiting) = (IntervalCounts::new(i, h), IntervalCounts::new(i, h));
        let mut drain = |to: u64, u: &mut EventUnit| {
            let sums = crate::fcfs::Sums {
                busy: Some(&mut busy),
                waiting: Some(&mut waiting),
                ..Default::default()
            };
            let upto = (to / width) as usize;
            u.closing_series(t(to)).unwrap().drain_into(sums, upto);
        };
        let drained = drive_closing(&mut rolling, &jobs, |now, u| drain(now.min(5_000), u));
        rolling.settle(t(5_000));
        drain(5_000, &mut rolling);
        assert_eq!(ends(&drained), ends(&kept));
        let series = whole.series().unwrap();
        assert!(series.waiting.values().iter().sum::<f64>() > 0.0);
        assert_eq!(busy.values(), &series.busy.values()[..]);
        assert_eq!(waiting.values(), &series.waiting.values()[..]);
    }

    #[test]
    fn a_crash_loses_every_job() {
        let w = Measured { from: 0, to: 1_000 };
        let mut u = EventUnit::new(1, Discipline::Shared { limit: Some(1) }, w);
        let out = drive(&mut u, &[(0, 10, 0, None), (1, 10, 0, None)]);
        assert_eq!(out.len(), 2);
        let mut u = EventUnit::new(1, Discipline::Fcfs, w);
        u.arrive(t(0), 7, SimDuration::from_nanos(10), 0, None);
        u.arrive(t(1), 8, SimDuration::from_nanos(10), 0, None);
        let mut lost = u.crash(t(5));
        lost.sort();
        assert_eq!(lost, vec![7, 8]);
        assert_eq!(u.in_system(), 0);
        assert_eq!(u.busy_until(t(9)), 5);
    }
}

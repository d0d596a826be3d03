//! A first-come-first-served multi-server unit, computed by the
//! Kiefer–Wolfowitz recursion instead of simulated event by event.
//!
//! ```text
//!   submit(now, demand):  start = max(now, earliest free server)
//!                         end   = start + demand      (that server is now free at `end`)
//! ```
//!
//! Because jobs are submitted in time order (the kernel's clock never goes
//! back) and served in submission order, the start and end of a job are known
//! the moment it arrives: its step needs a single completion event, and the
//! unit's statistics are exact interval overlaps with the measured period
//! rather than sampled:
//!
//! * busy time = Σ |[start, end) ∩ measured| (utilisation = busy / (servers · measured period)),
//! * waiting time = Σ |[arrival, start) ∩ measured| (time-average queue length),
//! * in-system time = Σ |[arrival, end) ∩ measured|.
//!
//! Jobs in flight are kept in a heap ordered by end, so the number in the
//! system is known (for capacity limits and least-busy routing) and a crash can
//! void exactly the work that had not happened yet.
//!
//! Nearly every job lies wholly inside one interval of the series and inside
//! the measured period. Such jobs only add to a few running sums of the current
//! interval (a *run*), folded into the statistics and the series when a job
//! arrives in a later interval, and by [`FcfsUnit::settle`] before they are
//! read. All figures are integer nanoseconds and counts, so the totals do not
//! depend on whether a job was added on its own or as part of a run (the
//! series hold integers exactly up to 2^53 ns per interval, about 104 days of
//! busy time).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use sim_engine::{IntervalCounts, IntervalLatency, RollingCounts, SimDuration, SimTime};

/// The measured part of a run, `[from, to)` in nanoseconds: after the
/// warm-up, to the end of the horizon.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    pub from: u64,
    pub to: u64,
}

impl Measured {
    pub fn new(from: SimTime, to: SimTime) -> Self {
        Measured {
            from: from.as_nanos(),
            to: to.as_nanos(),
        }
    }

    /// Length of `[a, b) ∩ [from, to)`.
    #[inline]
    pub fn overlap(&self, a: u64, b: u64) -> u64 {
        let lo = a.max(self.from);
        let hi = b.min(self.to);
        hi.saturating_sub(lo)
    }

    pub fn contains(&self, t: u64) -> bool {
        t >= self.from && t < self.to
    }

    pub fn len_ns(&self) -> u64 {
        self.to - self.from
    }
}

/// A job in flight: (end, start, arrival), ordered by end.
type Flight = Reverse<(u64, u64, u64)>;

/// Statistics of a unit over the measured period.
#[derive(Clone, Debug, Default)]
pub struct FcfsStats {
    /// Jobs that arrived in the measured period.
    pub arrivals: u64,
    /// Of those, jobs that had to wait for a server.
    pub waited: u64,
    /// Of those, total wait and total time in the unit.
    pub wait_ns: u128,
    pub sojourn_ns: u128,
    /// Jobs that finished in the measured period.
    pub completed: u64,
    /// Time-integrals over the measured period (ns and server·ns).
    pub busy_ns: u128,
    pub waiting_ns: u128,
    pub in_system_ns: u128,
}

/// Per-interval figures of a unit, over the intervals still open: a tier
/// drains those the run has passed into its sums over its units
/// ([`UnitSeries::drain_into`]), so a unit holds a few intervals whatever
/// the horizon; a unit that is its tier (a station) keeps them all.
#[derive(Clone, Debug)]
pub struct UnitSeries {
    /// Busy server·ns per interval.
    pub busy: RollingCounts,
    /// Waiting job·ns per interval.
    pub waiting: RollingCounts,
    /// Jobs arriving and finishing per interval, when asked for.
    pub jobs: Option<JobCounts>,
}

#[derive(Clone, Debug)]
pub struct JobCounts {
    pub arrivals: RollingCounts,
    pub completed: RollingCounts,
    /// Sojourn times (arrival to end), by the interval of the end.
    pub latency: IntervalLatency,
}

/// A tier's sums over its units, which [`UnitSeries::drain_into`] adds to:
/// `None` for a figure the tier does not report (a unit's is freed).
#[derive(Default)]
pub struct Sums<'a> {
    pub busy: Option<&'a mut IntervalCounts>,
    pub waiting: Option<&'a mut IntervalCounts>,
    pub completed: Option<&'a mut IntervalCounts>,
}

impl UnitSeries {
    pub fn new(interval: SimDuration, horizon: SimDuration, count_jobs: bool) -> Self {
        let c = || RollingCounts::new(interval, horizon);
        UnitSeries {
            busy: c(),
            waiting: c(),
            jobs: count_jobs.then(|| JobCounts {
                arrivals: c(),
                completed: c(),
                latency: IntervalLatency::new(interval, horizon),
            }),
        }
    }

    /// Jobs finishing per interval (the unit must count jobs, and keep its
    /// series).
    pub fn completed(&self) -> Vec<f64> {
        self.jobs
            .as_ref()
            .expect("unit counts jobs")
            .completed
            .values()
    }

    /// Jobs arriving per interval (as [`Self::completed`]).
    pub fn arrivals(&self) -> Vec<f64> {
        self.jobs
            .as_ref()
            .expect("unit counts jobs")
            .arrivals
            .values()
    }

    /// Adds the intervals before `upto` to the tier's `sums` and frees them
    /// here (the unit must be settled up to them). Units are drained in the
    /// same order at every close, so each interval's sum is added up in the
    /// order a sum of whole series would be: the figures are bit-identical.
    pub fn drain_into(&mut self, sums: Sums, upto: usize) {
        let drain = |r: &mut RollingCounts, sum: Option<&mut IntervalCounts>| match sum {
            Some(sum) => r.drain_into(sum, upto),
            None => r.discard(upto),
        };
        drain(&mut self.busy, sums.busy);
        drain(&mut self.waiting, sums.waiting);
        if let Some(jobs) = &mut self.jobs {
            drain(&mut jobs.completed, sums.completed);
            jobs.arrivals.discard(upto);
        }
    }
}

/// Sums of the jobs lying wholly inside `[lo, hi)`: one interval of the
/// series (the whole measured period for a unit without series), clipped to the
/// measured period.
#[derive(Clone, Debug, Default)]
struct Run {
    lo: u64,
    hi: u64,
    /// The interval's index in the series.
    bin: usize,
    jobs: u64,
    waited: u64,
    busy_ns: u128,
    waiting_ns: u128,
}

/// When the servers of a unit are free. Servers are alike, so only the
/// multiset of free times matters; and a server free by the latest arrival
/// is as good as idle, since every later job starts at `max(free, arrival)`
/// with a later arrival.
#[derive(Clone, Debug)]
enum Servers {
    One(u64),
    /// Earliest first.
    Two(u64, u64),
    /// The free times of the servers busy past the latest arrival (a binary
    /// min-heap) and the number of the others. A lightly loaded pool of
    /// twenty connections has a heap of one or two: a job's end is pushed on
    /// a short heap and popped from it once an arrival passes it, instead of
    /// sifting through all twenty free times.
    Many {
        busy: Vec<u64>,
        idle: usize,
    },
}

#[derive(Clone, Debug)]
pub struct FcfsUnit {
    free: Servers,
    servers: usize,
    /// Jobs not yet finished, kept only when something needs them (see
    /// [`FcfsUnit::tracking`]).
    in_flight: BinaryHeap<Flight>,
    track: bool,
    measured: Measured,
    /// Service time of every job submitted (minus work voided by crashes).
    committed_ns: u128,
    /// Jobs of the current interval not yet in `stats` and `series`.
    run: Run,
    stats: FcfsStats,
    series: Option<UnitSeries>,
}

impl FcfsUnit {
    pub fn new(servers: u32, measured: Measured) -> Self {
        assert!(servers >= 1);
        FcfsUnit {
            free: match servers {
                1 => Servers::One(0),
                2 => Servers::Two(0, 0),
                n => Servers::Many {
                    busy: Vec::with_capacity(n as usize),
                    idle: n as usize,
                },
            },
            servers: servers as usize,
            in_flight: BinaryHeap::new(),
            track: true,
            measured,
            committed_ns: 0,
            // Empty: the first job opens a run.
            run: Run::default(),
            stats: FcfsStats::default(),
            series: None,
        }
    }

    /// Statistics over the measured period (the unit must be settled).
    pub fn stats(&self) -> &FcfsStats {
        self.assert_settled();
        &self.stats
    }

    /// The per-interval series, if kept (the unit must be settled).
    pub fn series(&self) -> Option<&UnitSeries> {
        self.assert_settled();
        self.series.as_ref()
    }

    /// The sojourn times per interval, if kept. Unlike [`Self::series`], it
    /// needs no settling: they are recorded as jobs arrive.
    pub fn latency_mut(&mut self) -> Option<&mut IntervalLatency> {
        self.series.as_mut()?.jobs.as_mut().map(|j| &mut j.latency)
    }

    /// Settles the unit and lends its series, for its tier to drain the
    /// intervals the run has passed: jobs still to come add only to
    /// intervals from their arrival on, and a crash voids work from its
    /// time on.
    pub fn closing_series(&mut self) -> Option<&mut UnitSeries> {
        self.settle();
        self.series.as_mut()
    }

    fn assert_settled(&self) {
        assert!(
            self.run.jobs == 0,
            "FcfsUnit read with jobs not yet folded in: call settle() first"
        );
    }

    /// Folds the jobs of the current run into the statistics and series.
    pub fn settle(&mut self) {
        let r = &mut self.run;
        if r.jobs == 0 {
            return;
        }
        // Each job of a run arrived and finished in the measured period and in the
        // same interval: it adds its wait to the waiting time and to the
        // waits of arrivals, and its time in the unit to both in-system
        // integrals.
        let s = &mut self.stats;
        let in_system = r.busy_ns + r.waiting_ns;
        s.busy_ns += r.busy_ns;
        s.waiting_ns += r.waiting_ns;
        s.wait_ns += r.waiting_ns;
        s.in_system_ns += in_system;
        s.sojourn_ns += in_system;
        s.arrivals += r.jobs;
        s.completed += r.jobs;
        s.waited += r.waited;
        if let Some(series) = &mut self.series {
            series.busy.add_to(r.bin, r.busy_ns as f64);
            series.waiting.add_to(r.bin, r.waiting_ns as f64);
            if let Some(jobs) = &mut series.jobs {
                jobs.arrivals.add_to(r.bin, r.jobs as f64);
                jobs.completed.add_to(r.bin, r.jobs as f64);
            }
        }
        r.jobs = 0;
        r.waited = 0;
        r.busy_ns = 0;
        r.waiting_ns = 0;
    }

    /// Settles and starts the run of the interval containing `arr` (of the
    /// measured period's first interval for an arrival before the measured period).
    fn open_run(&mut self, arr: u64) {
        self.settle();
        let w = self.measured;
        let t = arr.max(w.from);
        let (lo, hi, bin) = match &self.series {
            Some(series) => {
                let width = series.busy.interval().as_nanos();
                let i = t / width;
                let end = (series.busy.len() as u64).saturating_mul(width);
                let hi = (i + 1).saturating_mul(width).min(w.to).min(end);
                (i * width, hi, i as usize)
            }
            None => (w.from, w.to, 0),
        };
        let lo = lo.max(w.from);
        // A run past the measured period or the horizon stays empty (and is never
        // reopened: no arrival reaches `u64::MAX`).
        let (lo, hi) = if lo < hi {
            (lo, hi)
        } else {
            (u64::MAX, u64::MAX)
        };
        self.run.lo = lo;
        self.run.hi = hi;
        self.run.bin = bin;
    }

    /// Whether to keep jobs in flight: needed for [`FcfsUnit::in_system`]
    /// (capacity limits, least-busy routing) and for an exact
    /// [`FcfsUnit::crash`]; off, submitting is cheaper.
    pub fn tracking(mut self, on: bool) -> Self {
        self.track = on;
        self
    }

    /// Also records per-interval busy and waiting time over `[0, horizon)`,
    /// and with `count_jobs` arrivals and completions too.
    pub fn with_series(
        mut self,
        interval: SimDuration,
        horizon: SimDuration,
        count_jobs: bool,
    ) -> Self {
        self.series = Some(UnitSeries::new(interval, horizon, count_jobs));
        self
    }

    pub fn servers(&self) -> u32 {
        self.servers as u32
    }

    /// Drops jobs that have finished by `now` from the in-flight heap.
    #[inline]
    fn retire(&mut self, now: u64) {
        while let Some(Reverse((end, _, _))) = self.in_flight.peek() {
            if *end > now {
                break;
            }
            self.in_flight.pop();
        }
    }

    /// Jobs waiting or in service at `now`.
    #[inline]
    pub fn in_system(&mut self, now: SimTime) -> usize {
        debug_assert!(self.track, "in_system needs a tracking unit");
        self.retire(now.as_nanos());
        self.in_flight.len()
    }

    /// When a job submitted at `now` would start (without submitting it).
    #[inline]
    pub fn next_start(&self, now: SimTime) -> SimTime {
        let f = match &self.free {
            Servers::One(f) | Servers::Two(f, _) => *f,
            Servers::Many { idle, .. } if *idle > 0 => 0,
            Servers::Many { busy, .. } => busy[0],
        };
        SimTime::from_nanos(f.max(now.as_nanos()))
    }

    /// Queues a job of length `demand` arriving at `now`; returns its start and
    /// end.
    ///
    /// Inlined where it is called: the common unit keeps no jobs in flight,
    /// and its job lies inside the current run. Anything else is one call
    /// away, so the inlined part stays small.
    #[inline(always)]
    pub fn submit(&mut self, now: SimTime, demand: SimDuration) -> (SimTime, SimTime) {
        if self.track {
            return self.submit_tracked(now, demand);
        }
        let arr = now.as_nanos();
        let (start, end) = self.serve(arr, demand.as_nanos());
        self.record_job(arr, start, end)
    }

    /// [`FcfsUnit::submit`] for a unit that keeps its jobs in flight.
    #[inline(never)]
    fn submit_tracked(&mut self, now: SimTime, demand: SimDuration) -> (SimTime, SimTime) {
        let arr = now.as_nanos();
        self.retire(arr);
        let (start, end) = self.serve(arr, demand.as_nanos());
        self.in_flight.push(Reverse((end, start, arr)));
        self.record_job(arr, start, end)
    }

    /// Adds a served job to the unit's run, or to its statistics and series
    /// directly when it falls outside the run; returns the job's start and end.
    #[inline(always)]
    fn record_job(&mut self, arr: u64, start: u64, end: u64) -> (SimTime, SimTime) {
        if arr >= self.run.lo && end < self.run.hi {
            self.add_to_run(arr, start, end);
        } else {
            self.add_outside_run(arr, start, end);
        }
        (SimTime::from_nanos(start), SimTime::from_nanos(end))
    }

    /// The earliest free server takes the job: its start and end.
    #[inline(always)]
    fn serve(&mut self, arr: u64, demand: u64) -> (u64, u64) {
        self.committed_ns += demand as u128;
        match &mut self.free {
            Servers::One(f) => {
                let start = (*f).max(arr);
                *f = start + demand;
                (start, start + demand)
            }
            Servers::Two(first, second) => {
                let start = (*first).max(arr);
                let end = start + demand;
                // The pair restored with selects (`first` stays the
                // earliest), not a branch on which server frees first (as
                // good as random).
                let other = *second;
                *first = end.min(other);
                *second = end.max(other);
                (start, end)
            }
            Servers::Many { busy, idle } => serve_many(busy, idle, arr, demand),
        }
    }

    #[inline(always)]
    fn add_to_run(&mut self, arr: u64, start: u64, end: u64) {
        let r = &mut self.run;
        r.jobs += 1;
        r.waited += (start > arr) as u64;
        r.busy_ns += (end - start) as u128;
        r.waiting_ns += (start - arr) as u128;
        if let Some(jobs) = self.series.as_mut().and_then(|s| s.jobs.as_mut()) {
            jobs.latency
                .record_in(r.bin, SimDuration::from_nanos(end - arr));
        }
    }

    /// A job not inside the current run: it opens the run of a later
    /// interval, or (straddling an interval's end or the measured period's edges) is
    /// accounted on its own.
    #[inline(never)]
    fn add_outside_run(&mut self, arr: u64, start: u64, end: u64) {
        if arr >= self.run.hi {
            self.open_run(arr);
            if arr >= self.run.lo && end < self.run.hi {
                self.add_to_run(arr, start, end);
                return;
            }
        }
        self.account(arr, start, end, 1);
    }

    /// Adds (sign = 1) or removes (sign = −1) a job's contribution to the
    /// statistics.
    #[inline]
    fn account(&mut self, arr: u64, start: u64, end: u64, sign: i8) {
        // Jobs inside one interval and the measured period go to a run instead
        // (`add_to_run`); what comes here straddles an edge or is voided.
        let w = self.measured;
        let busy = w.overlap(start, end) as u128;
        let waiting = w.overlap(arr, start) as u128;
        let in_system = w.overlap(arr, end) as u128;
        if sign > 0 {
            self.stats.busy_ns += busy;
            self.stats.waiting_ns += waiting;
            self.stats.in_system_ns += in_system;
            if w.contains(arr) {
                self.stats.arrivals += 1;
                if start > arr {
                    self.stats.waited += 1;
                    self.stats.wait_ns += (start - arr) as u128;
                }
                self.stats.sojourn_ns += (end - arr) as u128;
            }
            if w.contains(end) {
                self.stats.completed += 1;
            }
            self.add_series(arr, start, end);
        } else {
            self.stats.busy_ns -= busy;
            self.stats.waiting_ns -= waiting;
            self.stats.in_system_ns -= in_system;
            if let Some(series) = &mut self.series {
                series.busy.add_span(start, end, -1.0);
                series.waiting.add_span(arr, start, -1.0);
                if let Some(jobs) = &mut series.jobs {
                    jobs.completed.add(SimTime::from_nanos(end), -1.0);
                }
            }
        }
    }

    /// Adds a job to the per-interval series.
    #[inline]
    fn add_series(&mut self, arr: u64, start: u64, end: u64) {
        if let Some(series) = &mut self.series {
            series.busy.add_span(start, end, 1.0);
            series.waiting.add_span(arr, start, 1.0);
            if let Some(jobs) = &mut series.jobs {
                jobs.arrivals.add(SimTime::from_nanos(arr), 1.0);
                jobs.completed.add(SimTime::from_nanos(end), 1.0);
                jobs.latency
                    .record(SimTime::from_nanos(end), SimDuration::from_nanos(end - arr));
            }
        }
    }

    /// The unit fails at `now`: work not yet done is voided (removed from the
    /// statistics from `now` on) and every server is idle. Returns how many
    /// jobs were in flight.
    pub fn crash(&mut self, now: SimTime) -> usize {
        debug_assert!(self.track, "an exact crash needs a tracking unit");
        // What is voided comes off the statistics: fold the run in first.
        self.settle();
        let now = now.as_nanos();
        self.retire(now);
        let voided = self.in_flight.len();
        let flights: Vec<Flight> = self.in_flight.drain().collect();
        for Reverse((end, start, arr)) in flights {
            if let Some(jobs) = self.series.as_mut().and_then(|s| s.jobs.as_mut()) {
                jobs.latency
                    .remove(SimTime::from_nanos(end), SimDuration::from_nanos(end - arr));
            }
            // Remove the part of the job after `now`; what happened before
            // `now` stays.
            self.account(arr.max(now), start.max(now), end, -1);
            if self.measured.contains(end) {
                self.stats.completed -= 1;
            }
        }
        // Work the servers had ahead of them is voided: each is free at
        // `now` at the latest.
        self.committed_ns -= self.work_ahead(now);
        match &mut self.free {
            Servers::One(f) => *f = (*f).min(now),
            Servers::Two(first, second) => {
                *first = (*first).min(now);
                *second = (*second).min(now);
            }
            Servers::Many { busy, idle } => {
                *idle += busy.len();
                busy.clear();
            }
        }
        voided
    }

    /// Total busy server-time before `now`, in ns, exactly. All committed
    /// work arrived by `now`, so after `now` each server works without a gap
    /// until its free time: the work still ahead is Σ (free − now)⁺.
    pub fn busy_until(&self, now: SimTime) -> u128 {
        self.committed_ns - self.work_ahead(now.as_nanos())
    }

    /// Σ (free − now)⁺ over the servers (idle ones have none).
    fn work_ahead(&self, now: u64) -> u128 {
        let ahead = |f: &u64| f.saturating_sub(now) as u128;
        match &self.free {
            Servers::One(f) => ahead(f),
            Servers::Two(first, second) => ahead(first) + ahead(second),
            Servers::Many { busy, .. } => busy.iter().map(ahead).sum(),
        }
    }
}

/// What a unit reports over the measured period, from its statistics and
/// series (an FCFS unit must be settled first).
pub trait Figures {
    fn stats(&self) -> &FcfsStats;
    fn series(&self) -> Option<&UnitSeries>;
    fn servers(&self) -> u32;
    fn measured(&self) -> Measured;

    /// Time-average number of busy servers over the measured period, divided by servers.
    fn utilization(&self) -> f64 {
        self.stats().busy_ns as f64 / (self.servers() as f64 * self.measured().len_ns() as f64)
    }

    /// Time-average number waiting over the measured period.
    fn mean_waiting(&self) -> f64 {
        self.stats().waiting_ns as f64 / self.measured().len_ns() as f64
    }

    /// Mean wait of jobs arriving in the measured period, ms (NaN if none).
    fn mean_wait_ms(&self) -> f64 {
        let s = self.stats();
        ratio(s.wait_ns as f64 / 1e6, s.arrivals)
    }

    /// Fraction of jobs arriving in the measured period that waited.
    fn wait_probability(&self) -> f64 {
        let s = self.stats();
        ratio(s.waited as f64, s.arrivals)
    }

    /// Mean time in the unit of jobs arriving in the measured period, ms.
    fn mean_sojourn_ms(&self) -> f64 {
        let s = self.stats();
        ratio(s.sojourn_ns as f64 / 1e6, s.arrivals)
    }

    /// Busy servers per interval, as a fraction of servers (each interval's
    /// length from `lengths`, in ns).
    fn utilization_series(&self, lengths: &[f64]) -> Option<Vec<f64>> {
        self.series().map(|s| {
            s.busy
                .values()
                .iter()
                .zip(lengths)
                .map(|(b, len)| b / (len * self.servers() as f64))
                .collect()
        })
    }
}

impl Figures for FcfsUnit {
    fn stats(&self) -> &FcfsStats {
        FcfsUnit::stats(self)
    }
    fn series(&self) -> Option<&UnitSeries> {
        FcfsUnit::series(self)
    }
    fn servers(&self) -> u32 {
        FcfsUnit::servers(self)
    }
    fn measured(&self) -> Measured {
        self.measured
    }
}

/// The series of a unit built `with_series`.
/// A unit's sojourn times per interval, if it counts its jobs.
pub fn latency_of<F: Figures + ?Sized>(u: &F) -> Option<&IntervalLatency> {
    u.series()?.jobs.as_ref().map(|j| &j.latency)
}

pub fn series_of<F: Figures + ?Sized>(u: &F) -> &UnitSeries {
    u.series().expect("unit built with series")
}

/// `x / n`, NaN when `n` is zero.
pub fn ratio(x: f64, n: u64) -> f64 {
    if n == 0 { f64::NAN } else { x / n as f64 }
}

/// [`FcfsUnit::serve`] for three or more servers: `busy` is a binary
/// min-heap of the free times after the latest arrival, `idle` the number of
/// other servers.
#[inline(never)]
fn serve_many(busy: &mut Vec<u64>, idle: &mut usize, arr: u64, demand: u64) -> (u64, u64) {
    // Servers that have finished by `arr` join the idle ones.
    while let Some(&f) = busy.first()
        && f <= arr
    {
        let last = busy.pop().expect("not empty");
        if !busy.is_empty() {
            sift_down(busy, last);
        }
        *idle += 1;
    }
    if *idle > 0 {
        *idle -= 1;
        let end = arr + demand;
        sift_up(busy, end);
        (arr, end)
    } else {
        // Every server is busy: the earliest free takes the job.
        let start = busy[0];
        let end = start + demand;
        sift_down(busy, end);
        (start, end)
    }
}

/// Puts `v` at the root of the min-heap `h` (replacing it) and restores the
/// heap.
#[inline]
fn sift_down(h: &mut [u64], v: u64) {
    let n = h.len();
    let mut hole = 0;
    loop {
        let l = 2 * hole + 1;
        if l >= n {
            break;
        }
        let c = if l + 1 < n && h[l + 1] < h[l] {
            l + 1
        } else {
            l
        };
        if h[c] >= v {
            break;
        }
        h[hole] = h[c];
        hole = c;
    }
    h[hole] = v;
}

/// Adds `v` to the min-heap `h`.
#[inline]
fn sift_up(h: &mut Vec<u64>, v: u64) {
    let mut hole = h.len();
    h.push(v);
    while hole > 0 {
        let parent = (hole - 1) / 2;
        if h[parent] <= v {
            break;
        }
        h[hole] = h[parent];
        hole = parent;
    }
    h[hole] = v;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::from_nanos(s)
    }

    fn d(s: u64) -> SimDuration {
        SimDuration::from_nanos(s)
    }

    #[test]
    fn single_server_is_lindley() {
        // Arrivals 0, 1, 2, 10 with service 3 each:
        // starts 0, 3, 6, 10; ends 3, 6, 9, 13.
        let mut u = FcfsUnit::new(1, Measured { from: 0, to: 20 });
        let got: Vec<(u64, u64)> = [0, 1, 2, 10]
            .iter()
            .map(|&a| {
                let (s, e) = u.submit(t(a), d(3));
                (s.as_nanos(), e.as_nanos())
            })
            .collect();
        assert_eq!(got, vec![(0, 3), (3, 6), (6, 9), (10, 13)]);
        u.settle();
        // Busy 12 of 20; waits 0+2+4+0 = 6 over 4 arrivals; 2 of 4 waited.
        assert!((u.utilization() - 0.6).abs() < 1e-12);
        assert!((u.mean_waiting() - 6.0 / 20.0).abs() < 1e-12);
        assert_eq!(u.stats().waited, 2);
        assert_eq!(u.stats().wait_ns, 6);
        assert_eq!(u.stats().completed, 4);
    }

    #[test]
    fn two_servers_take_the_earliest_free() {
        // Service 10; arrivals 0, 0, 0, 5: third waits for the first server
        // (free at 10), fourth for the second (free at 10).
        let mut u = FcfsUnit::new(2, Measured { from: 0, to: 100 });
        let ends: Vec<u64> = [0, 0, 0, 5]
            .iter()
            .map(|&a| u.submit(t(a), d(10)).1.as_nanos())
            .collect();
        assert_eq!(ends, vec![10, 10, 20, 20]);
        assert_eq!(u.in_system(t(15)), 2);
        assert_eq!(u.in_system(t(20)), 0);
    }

    #[test]
    fn starts_and_ends_match_a_plain_list_of_free_times() {
        // Every server count takes the earliest free server, whether the
        // unit keeps its free times in place (one or two servers) or as a
        // heap of the busy ones, and whether or not it keeps its jobs in
        // flight (two submission paths). Phases of overload (all servers
        // busy) alternate with light load (most idle); tracking units crash
        // now and then.
        let mut rng = sim_engine::StreamRng::new(5, 0, "fcfs/reference");
        let cases = [1u32, 2, 3, 5, 8, 20]
            .into_iter()
            .flat_map(|servers| [(servers, true), (servers, false)]);
        for (servers, track) in cases {
            let mut u = FcfsUnit::new(
                servers,
                Measured {
                    from: 0,
                    to: u64::MAX,
                },
            )
            .tracking(track);
            let mut free = vec![0u64; servers as usize];
            let mut committed = 0u128;
            let mut now = 0;
            for k in 0..6_000 {
                let gap = if (k / 500) % 2 == 0 { 40 } else { 400 };
                now += rng.next_u64() % gap;
                if track && k % 700 == 699 {
                    u.crash(t(now));
                    for f in &mut free {
                        committed -= f.saturating_sub(now) as u128;
                        *f = (*f).min(now);
                    }
                }
                let demand = rng.next_u64() % (60 * servers as u64);
                let (i, &earliest) = free.iter().enumerate().min_by_key(|&(_, f)| *f).unwrap();
                let start = earliest.max(now);
                free[i] = start + demand;
                committed += demand as u128;
                let case = format!("{servers} servers, tracking {track}, job {k}");
                assert_eq!(
                    u.submit(t(now), d(demand)),
                    (t(start), t(start + demand)),
                    "{case}"
                );
                assert_eq!(
                    u.next_start(t(now)),
                    t(now.max(*free.iter().min().unwrap())),
                    "{case}"
                );
                let ahead: u128 = free.iter().map(|f| f.saturating_sub(now) as u128).sum();
                assert_eq!(u.busy_until(t(now)), committed - ahead, "{case}");
            }
        }
    }

    #[test]
    fn runs_add_up_to_the_job_by_job_figures() {
        // Jobs in runs (wholly inside one interval and the measured period) and jobs
        // straddling an interval's end or the measured period's edges, against the
        // figures computed job by job from their (arrival, start, end).
        let mut rng = sim_engine::StreamRng::new(11, 0, "fcfs/runs");
        for (servers, interval, series) in [(1u32, 97, true), (2, 250, true), (3, 40, false)] {
            let (from, to, horizon) = (300, 2_600, 3_000);
            let mut u = FcfsUnit::new(servers, Measured { from, to });
            if series {
                u = u.with_series(d(interval), d(horizon), true);
            }
            let mut jobs = Vec::new();
            let mut now = 0;
            while now < horizon {
                // Utilisation about 0.8: queues form and clear, most jobs
                // lie inside one interval, some straddle two.
                let (start, end) = u.submit(t(now), d(rng.next_u64() % 20));
                jobs.push((now, start.as_nanos(), end.as_nanos()));
                now += rng.next_u64() % (24 * servers as u64);
            }
            u.settle();
            let w = Measured { from, to };
            let inside = jobs
                .iter()
                .filter(|j| j.0 >= from && j.2 < to && j.0 / interval == j.2 / interval)
                .count();
            assert!(
                inside > jobs.len() / 2 && inside < jobs.len(),
                "{inside} of {}",
                jobs.len()
            );
            let measured_jobs: Vec<_> = jobs.iter().filter(|j| w.contains(j.0)).collect();
            let s = u.stats();
            let sum = |f: &dyn Fn(&(u64, u64, u64)) -> u64| jobs.iter().map(f).sum::<u64>() as u128;
            assert_eq!(s.busy_ns, sum(&|j| w.overlap(j.1, j.2)));
            assert_eq!(s.waiting_ns, sum(&|j| w.overlap(j.0, j.1)));
            assert_eq!(s.in_system_ns, sum(&|j| w.overlap(j.0, j.2)));
            assert_eq!(s.arrivals, measured_jobs.len() as u64);
            assert_eq!(
                s.waited,
                measured_jobs.iter().filter(|j| j.1 > j.0).count() as u64
            );
            let waits: u64 = measured_jobs.iter().map(|j| j.1 - j.0).sum();
            let sojourns: u64 = measured_jobs.iter().map(|j| j.2 - j.0).sum();
            assert_eq!((s.wait_ns, s.sojourn_ns), (waits as u128, sojourns as u128));
            assert_eq!(
                s.completed,
                jobs.iter().filter(|j| w.contains(j.2)).count() as u64
            );
            if !series {
                assert!(u.series().is_none());
                continue;
            }
            let se = u.series().unwrap();
            let bins = horizon.div_ceil(interval) as usize;
            let mut want = vec![[0u64; 4]; bins];
            for (k, bin) in want.iter_mut().enumerate() {
                let iv = Measured {
                    from: k as u64 * interval,
                    to: (k as u64 + 1) * interval,
                };
                for &(a, st, e) in &jobs {
                    bin[0] += iv.overlap(st, e);
                    bin[1] += iv.overlap(a, st);
                    bin[2] += iv.contains(a) as u64;
                    bin[3] += iv.contains(e) as u64;
                }
            }
            let col = |c: usize| want.iter().map(|b| b[c] as f64).collect::<Vec<_>>();
            assert_eq!(se.busy.values(), &col(0)[..], "busy, interval {interval}");
            assert_eq!(se.waiting.values(), &col(1)[..]);
            assert_eq!(se.arrivals(), &col(2)[..]);
            assert_eq!(se.completed(), &col(3)[..]);
            let counted: u64 = se.jobs.as_ref().unwrap().latency.counts().iter().sum();
            // The last interval runs past the horizon (3,007 ns with 97 ns
            // intervals); latencies count by the interval of their end.
            let covered = bins as u64 * interval;
            assert_eq!(
                counted,
                jobs.iter().filter(|j| j.2 < covered).count() as u64
            );
        }
    }

    #[test]
    fn reading_an_unsettled_unit_panics() {
        let mut u = FcfsUnit::new(1, Measured { from: 0, to: 100 });
        u.submit(t(1), d(2));
        assert!(std::panic::catch_unwind(|| u.stats().arrivals).is_err());
        u.settle();
        assert_eq!(u.stats().arrivals, 1);
    }

    #[test]
    fn busy_until_now_is_exact() {
        // Two servers: jobs [0,10) and [0,4), then a job at 2 waiting for [4,9).
        let mut u = FcfsUnit::new(2, Measured { from: 0, to: 100 });
        u.submit(t(0), d(10));
        u.submit(t(0), d(4));
        u.submit(t(2), d(5));
        assert_eq!(u.busy_until(t(2)), 4);
        assert_eq!(u.busy_until(t(6)), 6 + 4 + 2);
        assert_eq!(u.busy_until(t(50)), 19);
        // A crash at 6 voids what had not been done.
        u.crash(t(6));
        assert_eq!(u.busy_until(t(50)), 12);
    }

    #[test]
    fn the_measured_period_clips_statistics() {
        // Measured [10, 20): a job busy over [5, 15) counts 5 of busy time; its
        // arrival at 5 is outside the measured period, so it is not an arrival.
        let mut u = FcfsUnit::new(1, Measured { from: 10, to: 20 });
        u.submit(t(5), d(10));
        u.settle();
        assert_eq!(u.stats().busy_ns, 5);
        assert_eq!(u.stats().arrivals, 0);
        assert_eq!(u.stats().completed, 1);
    }

    #[test]
    fn crash_voids_future_work_only() {
        // Jobs at 0 (busy [0,10)) and 2 (waits [2,10), busy [10,20)); crash at 5.
        let mut u = FcfsUnit::new(1, Measured { from: 0, to: 100 });
        u.submit(t(0), d(10));
        u.submit(t(2), d(10));
        assert_eq!(u.crash(t(5)), 2);
        // Busy only [0,5); waiting only [2,5).
        assert_eq!(u.stats().busy_ns, 5);
        assert_eq!(u.stats().waiting_ns, 3);
        assert_eq!(u.stats().completed, 0);
        assert_eq!(u.in_system(t(5)), 0);
        // The server is free again at once.
        assert_eq!(u.submit(t(6), d(1)), (t(6), t(7)));
    }

    #[test]
    fn series_spreads_busy_time_over_intervals() {
        let mut u = FcfsUnit::new(1, Measured { from: 0, to: 30 }).with_series(
            SimDuration::from_nanos(10),
            SimDuration::from_nanos(30),
            true,
        );
        u.submit(t(5), d(20)); // busy [5, 25)
        u.submit(t(6), d(2)); // waits [6, 25), busy [25, 27)
        u.settle();
        assert_eq!(
            u.utilization_series(&[10.0, 10.0, 10.0]).unwrap(),
            vec![0.5, 1.0, 0.7]
        );
        let s = u.series().unwrap();
        assert_eq!(s.waiting.values(), &[4.0, 10.0, 5.0]);
        assert_eq!(s.arrivals(), &[2.0, 0.0, 0.0]);
        assert_eq!(s.completed(), &[0.0, 0.0, 2.0]);
        // A crash at 20 voids what had not happened yet.
        u.crash(t(20));
        u.settle();
        let s = u.series().unwrap();
        assert_eq!(s.busy.values(), &[5.0, 10.0, 0.0]);
        assert_eq!(s.waiting.values(), &[4.0, 10.0, 0.0]);
        assert_eq!(s.completed(), &[0.0, 0.0, 0.0]);
    }
}

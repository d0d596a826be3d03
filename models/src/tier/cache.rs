//! A sharded cache (Redis): each shard executes one command at a time (FCFS),
//! computed on submission.
//!
//! A request's keys on a cache live on one shard, chosen from the request's
//! key, so the SET that fills a miss goes where its GET went. A shard's hit
//! probability is `hit_ratio · y^(1−skew)`, where y is how full it is relative
//! to warm (most popular keys first); a new, flushed or restarted shard
//! starts empty and fills by one key per SET.
//!
//! Keys are placed by jump consistent hashing over the shards in service:
//! adding a shard moves about 1/n of the keys (to the new, cold shard) and
//! leaves the rest where they were.

use std::ops::Range;

use sim_engine::{
    Dist, IntervalAverages, IntervalCounts, IntervalLatency, SimDuration, SimTime, TimeWeighted,
};

use super::life::{Life, Lifetime};
use super::{BuildContext, Crash, Elastic, Noun, ScalingFacts, TierModel, TierReport, Vocabulary};
use crate::fcfs::{FcfsUnit, Figures, Measured, Sums, ratio};
use crate::scaling::{Metric, Termination};
use crate::series::{Accumulator, Spec, divide, divided, sum};
use crate::tier::report::{Figure, Serving, Unit, UnitResult};

/// What a cache scales and serves with.
pub const SHARD: Noun = Noun::new("shard", "shards");

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "cache",
    // An ElastiCache shard: node creation and slot migration.
    scaling: Some(ScalingFacts {
        unit: SHARD,
        least: 1,
        boot: SimDuration::from_secs(300),
        warmup: SimDuration::from_secs(0),
        metrics: &["dataset_to_memory"],
    }),
    own_bill: true,
    priced_otherwise: None,
};

/// A sharded cache.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    pub shards: u32,
    /// Service time of one command on a shard (a GET or a SET).
    pub get_service: Dist,
    pub set_service: Dist,
    /// Network round trip between client and cache, added to each command.
    pub rtt: SimDuration,
    /// Steady-state (warm) hit ratio in [0, 1].
    pub hit_ratio: f64,
    /// Popularity skew α in [0, 1): a shard holding a fraction y of its warm
    /// contents (most popular first) hits with probability `hit_ratio · y^(1−α)`.
    pub skew: f64,
    /// Keys a warm shard holds; each SET to a shard that is not yet warm adds
    /// one. Sets how fast a cold shard warms.
    pub keys_per_shard: u64,
    /// Whether shards start the run warm.
    pub start_warm: bool,
    /// When the hit ratio is derived from memory and working set: it then
    /// follows the shard count and the working set's growth.
    pub sizing: Option<CacheSizing>,
}

impl super::ConfigUnits for CacheConfig {
    fn scaled_units(&self) -> Option<u32> {
        Some(self.shards)
    }
    fn set_scaled_units(&mut self, n: u32) {
        self.shards = n;
    }
    fn failure_units(&self) -> Range<u32> {
        0..self.shards
    }
}

/// Memory against working set: the warm hit ratio is
/// `min(1, shards × memory_per_shard / working_set(t))^(1 − skew)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheSizing {
    pub memory_per_shard: f64,
    /// Bytes at the start of the run.
    pub working_set: f64,
    /// Bytes per second of growth.
    pub growth_per_s: f64,
}

impl CacheSizing {
    pub fn working_set_at(&self, t: SimDuration) -> f64 {
        self.working_set + self.growth_per_s * t.as_secs_f64()
    }

    pub fn hit_ratio(&self, shards: u32, skew: f64, t: SimDuration) -> f64 {
        let ws = self.working_set_at(t);
        if ws <= 0.0 {
            return 1.0;
        }
        (shards as f64 * self.memory_per_shard / ws)
            .min(1.0)
            .powf(1.0 - skew)
    }
}

/// Jump consistent hash (Lamping & Veach 2014): a bucket in `0..buckets`.
#[inline]
pub(crate) fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    if buckets == 1 {
        // What the loop below gives for one bucket, without its division
        // (a one-shard cache hashes every request).
        return 0;
    }
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// One metrics tick of the cache.
#[derive(Clone, Copy, Debug, Default)]
struct CacheSample {
    working_set: f64,
    memory: f64,
}

pub(crate) struct Shard {
    /// Not crashed.
    up: bool,
    life: Lifetime,
    pub epoch: u32,
    unit: FcfsUnit,
    /// Keys held, up to `keys_per_shard`.
    fill: u64,
    down_count: u32,
}

pub(crate) struct CacheTier<'c> {
    pub cfg: &'c CacheConfig,
    pub shards: Vec<Shard>,
    /// Shards in the hash ring: the first `ring` shards, those in service.
    ring: u32,
    sizing: Option<CacheSizing>,
    track: bool,
    keys_per_shard: u64,
    hit_ratio: f64,
    skew: f64,
    measured: Measured,
    gets: u64,
    hits: u64,
    sets: u64,
    errors: u64,
    /// GETs answered as misses because their shard was down.
    down_misses: u64,
    spec: Spec,
    gets_series: IntervalCounts,
    hits_series: IntervalCounts,
    sets_series: IntervalCounts,
    errors_series: IntervalCounts,
    /// Shards in service (in the ring) over time.
    ring_tw: TimeWeighted,
    ring_series: IntervalAverages,
    /// Every shard's sojourn times, their closed intervals added up.
    latency: IntervalLatency,
    /// Every shard's busy and waiting time and completions, summed as
    /// intervals close.
    busy_series: IntervalCounts,
    waiting_series: IntervalCounts,
    completed_series: IntervalCounts,
}

impl<'c> CacheTier<'c> {
    pub fn new(cfg: &'c CacheConfig, ctx: &BuildContext) -> Self {
        let spec = ctx.spec;
        let mut tier = CacheTier {
            cfg,
            shards: Vec::with_capacity(cfg.shards as usize),
            ring: cfg.shards,
            sizing: cfg.sizing,
            track: ctx.voidable,
            keys_per_shard: cfg.keys_per_shard,
            hit_ratio: cfg.hit_ratio,
            skew: cfg.skew,
            measured: ctx.measured,
            gets: 0,
            hits: 0,
            sets: 0,
            errors: 0,
            down_misses: 0,
            spec,
            latency: IntervalLatency::new(spec.interval, spec.horizon),
            busy_series: spec.counts(),
            waiting_series: spec.counts(),
            completed_series: spec.counts(),
            gets_series: spec.counts(),
            hits_series: spec.counts(),
            sets_series: spec.counts(),
            errors_series: spec.counts(),
            ring_tw: TimeWeighted::new(SimTime::ZERO, cfg.shards as f64),
            ring_series: spec.averages(cfg.shards as f64),
        };
        let fill = if cfg.start_warm {
            cfg.keys_per_shard
        } else {
            0
        };
        for _ in 0..cfg.shards {
            let shard = tier.new_shard(Lifetime::running(SimTime::ZERO), fill);
            tier.shards.push(shard);
        }
        tier
    }

    /// Its working set grows, so its derived hit ratio changes over time.
    pub fn grows(&self) -> bool {
        self.cfg.sizing.is_some_and(|s| s.growth_per_s != 0.0)
    }

    /// The shard holding a request's keys.
    #[inline]
    pub fn shard_of(&self, request_key: u64, tier: u16) -> u32 {
        let h = sim_engine::sub_key(request_key, 0xCAC4E ^ tier as u64);
        jump_hash(h, self.ring)
    }

    fn new_shard(&self, life: Lifetime, fill: u64) -> Shard {
        Shard {
            up: true,
            life,
            epoch: 0,
            unit: FcfsUnit::new(1, self.measured)
                .tracking(self.track)
                .with_series(self.spec.interval, self.spec.horizon, true),
            fill,
            down_count: 0,
        }
    }

    fn refresh_ring(&mut self, now: SimTime) {
        // Shards join in launch order and leave from the end, so those in
        // service are a prefix.
        self.ring = self
            .shards
            .iter()
            .take_while(|s| s.life.in_service())
            .count() as u32;
        self.ring_tw.set(now, self.ring as f64);
        self.ring_series.set(now, self.ring as f64);
        self.update_hit_ratio(now);
    }

    /// With a derived hit ratio: follow the shards in service and the
    /// working set's growth.
    fn update_hit_ratio(&mut self, now: SimTime) {
        if let Some(sizing) = self.sizing {
            self.hit_ratio = sizing.hit_ratio(self.ring, self.skew, now.since_start());
        }
    }

    fn sample_tick(&mut self, now: SimTime) -> CacheSample {
        self.update_hit_ratio(now);
        match self.sizing {
            Some(s) => CacheSample {
                working_set: s.working_set_at(now.since_start()),
                memory: self.ring as f64 * s.memory_per_shard,
            },
            None => CacheSample::default(),
        }
    }

    /// Hit probability of shard `s` now.
    #[inline]
    fn hit_probability(&self, s: u32) -> f64 {
        let fill = self.shards[s as usize].fill;
        if fill >= self.keys_per_shard {
            self.hit_ratio
        } else {
            let y = fill as f64 / self.keys_per_shard as f64;
            self.hit_ratio * y.powf(1.0 - self.skew)
        }
    }

    /// A GET at `now`; `u` is the request's uniform draw for this op. Returns
    /// (when the shard starts on it, when it answers, hit?) or `None` when
    /// the shard is down (the application treats it as a miss).
    #[inline]
    pub fn get(
        &mut self,
        s: u32,
        now: SimTime,
        service: SimDuration,
        u: f64,
    ) -> Option<(SimTime, SimTime, bool)> {
        let measuring = self.measured.contains(now.as_nanos());
        if measuring {
            self.gets += 1;
        }
        self.gets_series.add(now, 1.0);
        if !self.shards[s as usize].up {
            if measuring {
                self.down_misses += 1;
            }
            return None;
        }
        let hit = u < self.hit_probability(s);
        if hit {
            if measuring {
                self.hits += 1;
            }
            self.hits_series.add(now, 1.0);
        }
        let (start, end) = self.shards[s as usize].unit.submit(now, service);
        Some((start, end, hit))
    }

    /// A SET at `now`: fills the shard by one key. When the shard starts on
    /// it and when it answers; `None` when it is down (the write is dropped).
    #[inline]
    pub fn set(
        &mut self,
        s: u32,
        now: SimTime,
        service: SimDuration,
    ) -> Option<(SimTime, SimTime)> {
        if self.measured.contains(now.as_nanos()) {
            self.sets += 1;
        }
        self.sets_series.add(now, 1.0);
        let keys = self.keys_per_shard;
        let shard = &mut self.shards[s as usize];
        if !shard.up {
            return None;
        }
        if shard.fill < keys {
            shard.fill += 1;
        }
        Some(shard.unit.submit(now, service))
    }

    fn metrics(&self, now: SimTime) -> Vec<Figure> {
        // Shard-time in service: the capacity utilisation is measured against.
        let n = self.ring_tw.mean(now);
        let secs = self.measured.len_ns() as f64 / 1e9;
        let sum = |f: &dyn Fn(&Shard) -> f64| self.shards.iter().map(f).sum::<f64>();
        let arrivals: u64 = self.shards.iter().map(|s| s.unit.stats().arrivals).sum();
        let wait_ns = sum(&|s| s.unit.stats().wait_ns as f64);
        let completed = sum(&|s| s.unit.stats().completed as f64);
        use Unit::*;
        vec![
            Figure::new("utilization", Fraction, sum(&|s| s.unit.utilization()) / n),
            Figure::new(
                "queue_wait_ms",
                Milliseconds,
                ratio(wait_ns / 1e6, arrivals),
            ),
            Figure::new("queue_length", Average, sum(&|s| s.unit.mean_waiting())),
            Figure::new("throughput_per_s", PerSecond, completed / secs),
            Figure::new("hit_ratio", Fraction, ratio(self.hits as f64, self.gets)),
            Figure::new("gets", Count, self.gets as f64),
            Figure::new("hits", Count, self.hits as f64),
            Figure::new("sets", Count, self.sets as f64),
            Figure::new("misses_while_down", Count, self.down_misses as f64),
            Figure::new("errors", Count, self.errors as f64),
            Figure::new("shards", Average, n),
        ]
    }

    fn unit_results(&self) -> Vec<UnitResult> {
        let secs = self.measured.len_ns() as f64 / 1e9;
        self.shards
            .iter()
            .enumerate()
            .map(|(k, s)| UnitResult {
                name: format!("shard-{k}"),
                metrics: vec![
                    Figure::new("utilization", Unit::Fraction, s.unit.utilization()),
                    Figure::new("queue_wait_ms", Unit::Milliseconds, s.unit.mean_wait_ms()),
                    Figure::new(
                        "ops_per_s",
                        Unit::PerSecond,
                        s.unit.stats().completed as f64 / secs,
                    ),
                ],
            })
            .collect()
    }

    fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let n = self.spec.len();
        let up = self.ring_series.finish(SimTime::at(self.spec.horizon));
        let capacity: Vec<f64> = lengths.iter().zip(&up).map(|(l, u)| l * u).collect();
        let gets = self.gets_series.take_values();
        let arrivals = sum([&gets[..], &self.sets_series.values()], n);
        vec![
            ("arrivals", arrivals),
            ("completed", self.completed_series.take_values()),
            ("errors", self.errors_series.take_values()),
            (
                "utilization",
                divided(self.busy_series.take_values(), &capacity),
            ),
            (
                "queue_length",
                divided(self.waiting_series.take_values(), &lengths),
            ),
            ("hit_ratio", divide(&self.hits_series.values(), &gets)),
            ("gets", gets),
            ("hits", self.hits_series.take_values()),
            ("sets", self.sets_series.take_values()),
            (SHARD.many, up),
        ]
    }
}

impl TierModel for CacheTier<'_> {
    fn failure_units(&self) -> Range<u32> {
        0..self.shards.len() as u32
    }

    /// A crashed shard loses its contents and recovers cold.
    fn crash(&mut self, s: u32, now: SimTime) -> Option<Crash> {
        let shard = &mut self.shards[s as usize];
        shard.down_count += 1;
        if shard.down_count > 1 {
            return None;
        }
        let epoch = shard.epoch;
        shard.up = false;
        shard.epoch += 1;
        shard.fill = 0;
        shard.unit.crash(now);
        Some(Crash {
            epoch,
            queued: Vec::new(),
            dropped: Vec::new(),
            terminated: false,
            jobs: false,
        })
    }

    fn recover(&mut self, s: u32, _now: SimTime) -> bool {
        let shard = &mut self.shards[s as usize];
        shard.down_count -= 1;
        if shard.down_count > 0 {
            return false;
        }
        shard.up = true;
        shard.epoch += 1;
        true
    }

    fn flush(&mut self, s: u32) {
        self.shards[s as usize].fill = 0;
    }

    /// Requests that failed on this cache (their shard crashed under them).
    fn add_errors(&mut self, now: SimTime, n: u64) {
        if self.measured.contains(now.as_nanos()) {
            self.errors += n;
        }
        self.errors_series.add(now, n as f64);
    }

    fn on_tick(&mut self, now: SimTime) {
        self.update_hit_ratio(now);
    }

    fn restart_statistics(&mut self, now: SimTime) {
        self.ring_tw.reset(now);
    }

    fn billed_units(&self) -> u32 {
        self.shards.len() as u32
    }

    fn lifetime(&self, unit: u32) -> Lifetime {
        self.shards[unit as usize].life
    }

    fn elastic(&mut self) -> Option<&mut dyn Elastic> {
        Some(self)
    }

    fn close_intervals(&mut self, upto: usize, _reached: SimTime) {
        let units = self.shards.iter_mut().filter_map(|s| s.unit.latency_mut());
        self.latency.close_draining(units, upto);
        for s in &mut self.shards {
            let sums = Sums {
                busy: Some(&mut self.busy_series),
                waiting: Some(&mut self.waiting_series),
                completed: Some(&mut self.completed_series),
            };
            let series = s.unit.closing_series().expect("shards keep series");
            series.drain_into(sums, upto);
        }
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        for c in [
            &mut self.gets_series,
            &mut self.hits_series,
            &mut self.sets_series,
            &mut self.errors_series,
            &mut self.busy_series,
            &mut self.waiting_series,
            &mut self.completed_series,
        ] {
            f(Accumulator::Counts(c));
        }
        f(Accumulator::Averages(&mut self.ring_series));
        f(Accumulator::Latency(&mut self.latency));
    }

    fn report(&mut self, now: SimTime) -> TierReport {
        self.shards.iter_mut().for_each(|s| s.unit.settle());
        TierReport {
            series: self.series(),
            latency: (!self.shards.is_empty()).then(|| self.latency.clone()),
            metrics: self.metrics(now),
            units: self.unit_results(),
            serving: Some(Serving::series(SHARD)),
        }
    }
}

impl Elastic for CacheTier<'_> {
    fn desired_count(&self) -> u32 {
        self.shards.iter().filter(|s| s.life.is_desired()).count() as u32
    }

    fn ready_count(&self) -> u32 {
        self.ring
    }

    /// Adds a shard; it joins the hash ring, empty, once `ready`.
    fn launch(&mut self, now: SimTime) -> u32 {
        let shard = self.new_shard(Lifetime::booting(now), 0);
        self.shards.push(shard);
        (self.shards.len() - 1) as u32
    }

    fn ready(&mut self, s: u32, now: SimTime) {
        if self.shards[s as usize].life.life == Life::Booting {
            self.shards[s as usize].life.ready(now);
            self.refresh_ring(now);
        }
    }

    /// Booting shards first, then the last of the ring (consistent hashing
    /// removes from the end whatever the order asked).
    fn scale_in_choice(&self, n: u32, _order: Termination) -> Vec<u32> {
        let mut out: Vec<u32> = (0..self.shards.len() as u32)
            .rev()
            .filter(|&s| self.shards[s as usize].life.life == Life::Booting)
            .collect();
        out.extend((0..self.ring).rev());
        out.truncate(n as usize);
        out
    }

    /// Removes shard `s` (the last in the ring); its keys move to the others.
    /// Terminates at once: always true.
    fn begin_drain(&mut self, s: u32, now: SimTime) -> bool {
        self.shards[s as usize].life.terminate(now);
        self.refresh_ring(now);
        true
    }

    fn sample(&mut self, prev: SimTime, now: SimTime, metrics: &[Metric]) -> Vec<(f64, f64)> {
        let s = self.sample_tick(now);
        let len = now.saturating_since(prev).as_nanos() as f64;
        let ready = self.ready_count();
        metrics
            .iter()
            .map(|m| match m {
                Metric::DatasetToMemory => (s.working_set, s.memory),
                _ => (0.0, 0.0),
            })
            .chain([(ready as f64 * len, len)])
            .collect()
    }
}

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

use sim_engine::{IntervalAverages, IntervalCounts, SimDuration, SimTime, TimeWeighted};

use crate::config::{CacheConfig, CacheSizing};
use crate::fcfs::{FcfsUnit, Window, ratio, series_of};
use crate::scaling::Termination;
use crate::series::{Spec, divide, sum};

use super::life::{Life, Lifetime};

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
pub(crate) struct CacheSample {
    pub working_set: f64,
    pub memory: f64,
}

pub(crate) struct Shard {
    /// Not crashed.
    pub up: bool,
    pub life: Lifetime,
    pub epoch: u32,
    pub unit: FcfsUnit,
    /// Keys held, up to `keys_per_shard`.
    pub fill: u64,
    pub down_count: u32,
}

pub(crate) struct CacheTier {
    pub shards: Vec<Shard>,
    /// Shards in the hash ring: the first `ring` shards, those in service.
    ring: u32,
    sizing: Option<CacheSizing>,
    track: bool,
    keys_per_shard: u64,
    hit_ratio: f64,
    skew: f64,
    window: Window,
    pub gets: u64,
    pub hits: u64,
    pub sets: u64,
    pub errors: u64,
    /// GETs answered as misses because their shard was down.
    pub down_misses: u64,
    spec: Spec,
    gets_series: IntervalCounts,
    hits_series: IntervalCounts,
    sets_series: IntervalCounts,
    errors_series: IntervalCounts,
    /// Shards in service (in the ring) over time.
    ring_tw: TimeWeighted,
    ring_series: IntervalAverages,
}

impl CacheTier {
    pub fn new(cfg: &CacheConfig, window: Window, spec: Spec, fails: bool) -> Self {
        let shards = (0..cfg.shards)
            .map(|_| Shard {
                up: true,
                life: Lifetime::running(SimTime::ZERO),
                epoch: 0,
                unit: FcfsUnit::new(1, window).tracking(fails).with_series(
                    spec.interval,
                    spec.horizon,
                    true,
                ),
                fill: if cfg.start_warm {
                    cfg.keys_per_shard
                } else {
                    0
                },
                down_count: 0,
            })
            .collect();
        CacheTier {
            shards,
            ring: cfg.shards,
            sizing: cfg.sizing,
            track: fails,
            keys_per_shard: cfg.keys_per_shard,
            hit_ratio: cfg.hit_ratio,
            skew: cfg.skew,
            window,
            gets: 0,
            hits: 0,
            sets: 0,
            errors: 0,
            down_misses: 0,
            spec,
            gets_series: spec.counts(),
            hits_series: spec.counts(),
            sets_series: spec.counts(),
            errors_series: spec.counts(),
            ring_tw: TimeWeighted::new(SimTime::ZERO, cfg.shards as f64),
            ring_series: spec.averages(cfg.shards as f64),
        }
    }

    pub fn restart_statistics(&mut self, now: SimTime) {
        self.ring_tw.reset(now);
    }

    /// Requests that failed on this cache (their shard crashed under them).
    pub fn add_errors(&mut self, now: SimTime, n: u64) {
        if self.window.contains(now.as_nanos()) {
            self.errors += n;
        }
        self.errors_series.add(now, n as f64);
    }

    /// The shard holding a request's keys.
    #[inline]
    pub fn shard_of(&self, request_key: u64, tier: u16) -> u32 {
        let h = sim_engine::sub_key(request_key, 0xCAC4E ^ tier as u64);
        jump_hash(h, self.ring)
    }

    // ---- scaling (shards) -------------------------------------------------

    /// Adds a shard; it joins the hash ring, empty, once `ready`.
    pub fn launch(&mut self, now: SimTime) -> u32 {
        let window = self.window;
        let spec = self.spec;
        self.shards.push(Shard {
            up: true,
            life: Lifetime::booting(now),
            epoch: 0,
            unit: FcfsUnit::new(1, window).tracking(self.track).with_series(
                spec.interval,
                spec.horizon,
                true,
            ),
            fill: 0,
            down_count: 0,
        });
        (self.shards.len() - 1) as u32
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

    pub fn ready(&mut self, s: u32, now: SimTime) {
        if self.shards[s as usize].life.life == Life::Booting {
            self.shards[s as usize].life.ready(now);
            self.refresh_ring(now);
        }
    }

    /// Removes shard `s` (the last in the ring); its keys move to the others.
    /// Terminates at once: always true.
    pub fn begin_drain(&mut self, s: u32, now: SimTime) -> bool {
        self.shards[s as usize].life.terminate(now);
        self.refresh_ring(now);
        true
    }

    pub fn desired_count(&self) -> u32 {
        self.shards.iter().filter(|s| s.life.is_desired()).count() as u32
    }

    pub fn ready_count(&self) -> u32 {
        self.ring
    }

    /// Shards scale-in removes: booting ones first, then the last of the ring
    /// (consistent hashing removes from the end whatever the order asked).
    pub fn scale_in_choice(&self, n: u32, _order: Termination) -> Vec<u32> {
        let mut out: Vec<u32> = (0..self.shards.len() as u32)
            .rev()
            .filter(|&s| self.shards[s as usize].life.life == Life::Booting)
            .collect();
        out.extend((0..self.ring).rev());
        out.truncate(n as usize);
        out
    }

    /// With a derived hit ratio: follow the shards in service and the
    /// working set's growth.
    pub fn update_hit_ratio(&mut self, now: SimTime) {
        if let Some(sizing) = self.sizing {
            self.hit_ratio = sizing.hit_ratio(self.ring, self.skew, now.since_start());
        }
    }

    pub fn sample(&mut self, now: SimTime) -> CacheSample {
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
    pub fn hit_probability(&self, s: u32) -> f64 {
        let fill = self.shards[s as usize].fill;
        if fill >= self.keys_per_shard {
            self.hit_ratio
        } else {
            let y = fill as f64 / self.keys_per_shard as f64;
            self.hit_ratio * y.powf(1.0 - self.skew)
        }
    }

    /// A GET at `now`; `u` is the request's uniform draw for this op. Returns
    /// (when the shard answers, hit?) or `None` when the shard is down (the
    /// application treats it as a miss).
    #[inline]
    pub fn get(
        &mut self,
        s: u32,
        now: SimTime,
        service: SimDuration,
        u: f64,
    ) -> Option<(SimTime, bool)> {
        let measuring = self.window.contains(now.as_nanos());
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
        let (_, end) = self.shards[s as usize].unit.submit(now, service);
        Some((end, hit))
    }

    /// A SET at `now`: fills the shard by one key. `None` when it is down
    /// (the write is dropped).
    #[inline]
    pub fn set(&mut self, s: u32, now: SimTime, service: SimDuration) -> Option<SimTime> {
        if self.window.contains(now.as_nanos()) {
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
        Some(shard.unit.submit(now, service).1)
    }

    pub fn flush(&mut self, s: u32) {
        self.shards[s as usize].fill = 0;
    }

    pub fn crash(&mut self, s: u32, now: SimTime) {
        let shard = &mut self.shards[s as usize];
        shard.up = false;
        shard.epoch += 1;
        shard.fill = 0;
        shard.unit.crash(now);
    }

    pub fn recover(&mut self, s: u32) {
        let shard = &mut self.shards[s as usize];
        shard.up = true;
        shard.epoch += 1;
    }

    pub fn metrics(&self, now: SimTime) -> Vec<(&'static str, f64)> {
        // Shard-time in service: the capacity utilisation is measured against.
        let n = self.ring_tw.mean(now);
        let secs = self.window.len_ns() as f64 / 1e9;
        let sum = |f: &dyn Fn(&Shard) -> f64| self.shards.iter().map(f).sum::<f64>();
        let arrivals: u64 = self.shards.iter().map(|s| s.unit.stats().arrivals).sum();
        let wait_ns = sum(&|s| s.unit.stats().wait_ns as f64);
        let completed = sum(&|s| s.unit.stats().completed as f64);
        vec![
            ("utilization", sum(&|s| s.unit.utilization()) / n),
            ("queue_wait_ms", ratio(wait_ns / 1e6, arrivals)),
            ("queue_length", sum(&|s| s.unit.mean_waiting())),
            ("throughput_per_s", completed / secs),
            ("hit_ratio", ratio(self.hits as f64, self.gets)),
            ("gets", self.gets as f64),
            ("hits", self.hits as f64),
            ("sets", self.sets as f64),
            ("misses_while_down", self.down_misses as f64),
            ("errors", self.errors as f64),
            ("shards", n),
        ]
    }

    pub fn unit_metrics(&self) -> Vec<Vec<(&'static str, f64)>> {
        let secs = self.window.len_ns() as f64 / 1e9;
        self.shards
            .iter()
            .map(|s| {
                vec![
                    ("utilization", s.unit.utilization()),
                    ("queue_wait_ms", s.unit.mean_wait_ms()),
                    ("ops_per_s", s.unit.stats().completed as f64 / secs),
                ]
            })
            .collect()
    }

    pub fn series(&mut self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let n = self.spec.len();
        let up = self.ring_series.finish(SimTime::at(self.spec.horizon));
        let busy = sum(
            self.shards.iter().map(|s| series_of(&s.unit).busy.values()),
            n,
        );
        let capacity: Vec<f64> = lengths.iter().zip(&up).map(|(l, u)| l * u).collect();
        let waiting = sum(
            self.shards
                .iter()
                .map(|s| series_of(&s.unit).waiting.values()),
            n,
        );
        let gets = self.gets_series.values().to_vec();
        let arrivals = sum([&gets[..], self.sets_series.values()], n);
        vec![
            ("arrivals", arrivals),
            (
                "completed",
                sum(
                    self.shards.iter().map(|s| series_of(&s.unit).completed()),
                    n,
                ),
            ),
            ("errors", self.errors_series.values().to_vec()),
            ("utilization", divide(&busy, &capacity)),
            ("queue_length", divide(&waiting, &lengths)),
            ("hit_ratio", divide(self.hits_series.values(), &gets)),
            ("gets", gets),
            ("hits", self.hits_series.values().to_vec()),
            ("sets", self.sets_series.values().to_vec()),
            ("shards", up),
        ]
    }
}

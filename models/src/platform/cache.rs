//! A sharded cache (Redis): each shard executes one command at a time (FCFS),
//! computed on submission.
//!
//! A request's keys on a cache live on one shard, chosen from the request's
//! key, so the SET that fills a miss goes where its GET went. A shard's hit
//! probability is `hit_ratio · y^(1−skew)`, where y is how full it is relative
//! to warm (most popular keys first); a new, flushed or restarted shard
//! starts empty and fills by one key per SET.

use sim_engine::{IntervalCounts, SimDuration, SimTime};

use crate::config::CacheConfig;
use crate::fcfs::{FcfsUnit, Window, ratio, series_of};
use crate::series::{Spec, divide, sum};

pub(crate) struct Shard {
    pub up: bool,
    pub epoch: u32,
    pub unit: FcfsUnit,
    /// Keys held, up to `keys_per_shard`.
    pub fill: u64,
    pub down_count: u32,
}

pub(crate) struct CacheTier {
    pub shards: Vec<Shard>,
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
}

impl CacheTier {
    pub fn new(cfg: &CacheConfig, window: Window, spec: Spec, fails: bool) -> Self {
        let shards = (0..cfg.shards)
            .map(|_| Shard {
                up: true,
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
        }
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
        ((h as u128 * self.shards.len() as u128) >> 64) as u32
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

    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let n = self.shards.len() as f64;
        let secs = self.window.len_ns() as f64 / 1e9;
        let sum = |f: &dyn Fn(&Shard) -> f64| self.shards.iter().map(f).sum::<f64>();
        let arrivals: u64 = self.shards.iter().map(|s| s.unit.stats.arrivals).sum();
        let wait_ns = sum(&|s| s.unit.stats.wait_ns as f64);
        let completed = sum(&|s| s.unit.stats.completed as f64);
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
                    ("ops_per_s", s.unit.stats.completed as f64 / secs),
                ]
            })
            .collect()
    }

    pub fn series(&self) -> Vec<(&'static str, Vec<f64>)> {
        let lengths = self.spec.lengths();
        let n = self.spec.len();
        let shards = self.shards.len() as f64;
        let busy = sum(
            self.shards.iter().map(|s| series_of(&s.unit).busy.values()),
            n,
        );
        let capacity: Vec<f64> = lengths.iter().map(|l| l * shards).collect();
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
        ]
    }
}

//! An external dependency: a third-party HTTP API (payments, e-mail, maps)
//! that a route calls. Its servers are not ours to model: from our side a
//! call simply takes a drawn latency, however many are in flight (M/G/∞).
//! What the provider does to us is modelled instead:
//!
//! * a rate limit of `calls` per fixed window of `per` (windows aligned to
//!   the start of the run, as most providers count): a call beyond it is
//!   answered 429 after `rejection_latency`, and the request fails as
//!   turned away (its client may retry);
//! * `error_ratio` of the accepted calls are answered with an error (5xx)
//!   after their latency;
//! * an outage is a failure of its one unit (`[[failures]]`): a call made
//!   during it fails at once, and calls in flight when it starts fail;
//! * `price_per_call` USD for each call answered with success, charged when
//!   the call is made (a call cut short by an outage is still charged).

use std::ops::Range;

use sim_engine::{Dist, IntervalCounts, IntervalLatency, KeyedRng, SimDuration, SimTime};

use super::life::Lifetime;
use super::{BuildContext, Crash, Health, TierModel, TierReport, Vocabulary};
use crate::fcfs::{Measured, ratio};
use crate::series::{Accumulator, Spec};
use crate::tier::report::{Figure, ListPrice, Unit};

pub const VOCABULARY: Vocabulary = Vocabulary {
    label: "external",
    scaling: None,
    own_bill: true,
    priced_otherwise: Some("an external API is priced per call (`price_per_call`), not per unit"),
};

/// A provider's quota: at most `calls` in each window of `per`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub calls: u32,
    pub per: SimDuration,
}

#[derive(Clone, Debug)]
pub struct ExternalConfig {
    /// Time to answer an accepted call, network included, seconds.
    pub latency: Dist,
    pub rate_limit: Option<RateLimit>,
    /// Time to answer a call with 429.
    pub rejection_latency: SimDuration,
    /// Fraction of accepted calls answered with an error, in [0, 1].
    pub error_ratio: f64,
    /// USD per call answered with success.
    pub price_per_call: f64,
}

impl super::ConfigUnits for ExternalConfig {
    fn failure_units(&self) -> Range<u32> {
        0..1
    }
}

/// How a call went, decided when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Answered at this time, with success or (`error`) a 5xx.
    Answered { at: SimTime, error: bool },
    /// Over the rate limit: 429 at this time.
    Limited { at: SimTime },
    /// The provider is down.
    Down,
}

pub(crate) struct ExternalTier<'c> {
    pub cfg: &'c ExternalConfig,
    measured: Measured,
    spec: Spec,
    /// The current rate-limit window and the calls accepted in it.
    window: u64,
    in_window: u32,
    pub health: Health,
    /// Measured-period counts.
    calls: u64,
    answered: u64,
    errors: u64,
    limited: u64,
    down: u64,
    /// Sum of the answered calls' latencies, seconds.
    latency_sum: f64,
    calls_series: IntervalCounts,
    answered_series: IntervalCounts,
    ok_series: IntervalCounts,
    latency_series: IntervalLatency,
}

impl<'c> ExternalTier<'c> {
    pub fn new(cfg: &'c ExternalConfig, ctx: &BuildContext) -> Self {
        ExternalTier {
            cfg,
            measured: ctx.measured,
            spec: ctx.spec,
            window: u64::MAX,
            in_window: 0,
            health: Health::default(),
            calls: 0,
            answered: 0,
            errors: 0,
            limited: 0,
            down: 0,
            latency_sum: 0.0,
            calls_series: ctx.spec.counts(),
            answered_series: ctx.spec.counts(),
            ok_series: ctx.spec.counts(),
            latency_series: IntervalLatency::new(ctx.spec.interval, ctx.spec.horizon),
        }
    }

    /// A call made at `now`, drawing from `r`.
    #[inline]
    pub fn call(&mut self, now: SimTime, r: &mut KeyedRng) -> Answer {
        let measuring = self.measured.contains(now.as_nanos());
        self.calls += u64::from(measuring);
        self.calls_series.add(now, 1.0);
        let answer = self.answer(now, r);
        match answer {
            Answer::Answered { at, error } => {
                let d = at - now;
                self.latency_series.record(now, d);
                self.answered_series.add(now, 1.0);
                if !error {
                    self.ok_series.add(now, 1.0);
                }
                if measuring {
                    self.answered += 1;
                    self.errors += u64::from(error);
                    self.latency_sum += d.as_secs_f64();
                }
            }
            Answer::Limited { .. } => self.limited += u64::from(measuring),
            Answer::Down => self.down += u64::from(measuring),
        }
        answer
    }

    fn answer(&mut self, now: SimTime, r: &mut KeyedRng) -> Answer {
        if !self.health.is_up() {
            return Answer::Down;
        }
        if let Some(limit) = self.cfg.rate_limit {
            let window = now.as_nanos() / limit.per.as_nanos();
            if window != self.window {
                self.window = window;
                self.in_window = 0;
            }
            if self.in_window >= limit.calls {
                return Answer::Limited {
                    at: now + self.cfg.rejection_latency,
                };
            }
            self.in_window += 1;
        }
        let d = SimDuration::from_secs_f64(self.cfg.latency.sample(r));
        let error = r.uniform01() < self.cfg.error_ratio;
        Answer::Answered { at: now + d, error }
    }

    /// Price of a successful call (the route charges it to the tier's bill).
    pub fn price(&self) -> f64 {
        self.cfg.price_per_call
    }

    fn metrics(&self) -> Vec<Figure> {
        let secs = self.measured.len_ns() as f64 / 1e9;
        let ok = self.answered - self.errors;
        // The share of the provider's quota used: accepted calls against
        // what the limit allows over the measured period.
        let quota_used = match self.cfg.rate_limit {
            Some(l) => self.answered as f64 / (f64::from(l.calls) * secs / l.per.as_secs_f64()),
            None => 0.0,
        };
        let mean_ms = if self.answered == 0 {
            f64::NAN
        } else {
            1e3 * self.latency_sum / self.answered as f64
        };
        use Unit::*;
        vec![
            Figure::new("utilization", Fraction, quota_used),
            Figure::new("queue_wait_ms", Milliseconds, 0.0),
            Figure::new("queue_length", Average, 0.0),
            Figure::new("throughput_per_s", PerSecond, ok as f64 / secs),
            Figure::new("response_ms", Milliseconds, mean_ms),
            Figure::new("calls", Count, self.calls as f64),
            Figure::new("succeeded", Count, ok as f64),
            Figure::new("errors", Count, self.errors as f64),
            Figure::new("rate_limited", Count, self.limited as f64),
            Figure::new("failed_in_outage", Count, self.down as f64),
            Figure::new(
                "rate_limited_ratio",
                Fraction,
                ratio(self.limited as f64, self.calls),
            ),
            Figure::new(
                "error_ratio",
                Fraction,
                ratio((self.errors + self.down) as f64, self.calls),
            ),
        ]
    }
}

impl TierModel for ExternalTier<'_> {
    /// The provider as a whole: an outage is a failure of unit 0.
    fn failure_units(&self) -> Range<u32> {
        0..1
    }

    fn crash(&mut self, _unit: u32, _now: SimTime) -> Option<Crash> {
        let epoch = self.health.fail()?;
        Some(Crash {
            epoch,
            queued: Vec::new(),
            dropped: Vec::new(),
            terminated: false,
            jobs: false,
        })
    }

    fn recover(&mut self, _unit: u32, _now: SimTime) -> bool {
        self.health.recover()
    }

    /// Billed per call, not per unit.
    fn billed_units(&self) -> u32 {
        0
    }

    fn lifetime(&self, _unit: u32) -> Lifetime {
        Lifetime::running(SimTime::ZERO)
    }

    fn list_price(&self) -> Option<ListPrice> {
        (self.cfg.price_per_call > 0.0).then(|| ListPrice {
            label: format!("${} per call", self.cfg.price_per_call),
            // Not a unit-hour price: shown as "–".
            per_hour: f64::NAN,
        })
    }

    fn close_intervals(&mut self, upto: usize, _reached: SimTime) {
        self.latency_series.close(upto);
    }

    fn accumulators(&mut self, f: &mut dyn FnMut(Accumulator<'_>)) {
        f(Accumulator::Counts(&mut self.calls_series));
        f(Accumulator::Counts(&mut self.answered_series));
        f(Accumulator::Counts(&mut self.ok_series));
        f(Accumulator::Latency(&mut self.latency_series));
    }

    fn report(&mut self, _now: SimTime) -> TierReport {
        let calls = self.calls_series.values();
        let ok = self.ok_series.values();
        // Quota used per interval, as the `utilization` figure.
        let quota: Vec<f64> = match self.cfg.rate_limit {
            Some(l) => {
                let per = l.per.as_nanos() as f64;
                self.answered_series
                    .values()
                    .iter()
                    .zip(self.spec.lengths())
                    .map(|(&a, len)| a / (f64::from(l.calls) * len / per))
                    .collect()
            }
            None => vec![0.0; self.spec.len()],
        };
        TierReport {
            series: vec![
                ("arrivals", calls.to_vec()),
                ("completed", ok.to_vec()),
                ("errors", calls.iter().zip(ok).map(|(c, k)| c - k).collect()),
                ("utilization", quota),
                ("queue_length", vec![0.0; self.spec.len()]),
            ],
            latency: Some(self.latency_series.clone()),
            metrics: self.metrics(),
            units: Vec::new(),
            // The provider's capacity is not ours to count.
            serving: None,
        }
    }
}

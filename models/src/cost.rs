//! Cost: what running a unit for a while costs, and the meter that adds it up.
//!
//! A unit (an API instance, a cache shard, a database node, a worker, a
//! station) is billed from launch to termination at its tier's blended hourly
//! rate, with the tier's billing granularity:
//!
//! * per second with a minimum (EC2 Linux: 60 s; RDS: 10 min): a unit that
//!   lives less than the minimum is billed the minimum when it terminates;
//! * per hour: every started hour is billed; the rest of the last hour is
//!   billed when the unit terminates.
//!
//! Units still running at the end of the run are billed up to the end (the
//! bill continues beyond it). Cost counts in the measured period: accrual
//! inside it, and top-ups (minimums, partial hours) at a termination inside
//! it.

use sim_engine::{IntervalCounts, SimDuration, SimTime};

use crate::fcfs::Measured;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Granularity {
    PerSecond { minimum: SimDuration },
    PerHour,
}

/// Shares of unit-hours bought each way, and their discounts off list price.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PurchaseMix {
    pub on_demand: f64,
    pub reserved: f64,
    pub spot: f64,
    /// Fraction off the list price, in [0, 1).
    pub reserved_discount: f64,
    pub spot_discount: f64,
}

impl Default for PurchaseMix {
    fn default() -> Self {
        PurchaseMix {
            on_demand: 1.0,
            reserved: 0.0,
            spot: 0.0,
            reserved_discount: 0.0,
            spot_discount: 0.0,
        }
    }
}

impl PurchaseMix {
    /// The blended fraction of list price paid.
    pub fn factor(&self) -> f64 {
        self.on_demand
            + self.reserved * (1.0 - self.reserved_discount)
            + self.spot * (1.0 - self.spot_discount)
    }
}

/// How a tier's units are billed.
#[derive(Clone, Debug, PartialEq)]
pub struct Billing {
    /// What it is, for reports (an instance type, or "custom").
    pub label: String,
    /// Database tiers: what a replica is, when it differs.
    pub replica_label: Option<String>,
    /// List price per unit-hour, USD.
    pub price_per_hour: f64,
    /// Database tiers: the price of a replica, when it differs.
    pub replica_price_per_hour: Option<f64>,
    pub granularity: Granularity,
    pub mix: PurchaseMix,
    /// A fixed hourly charge for the tier as a whole (a load balancer).
    pub fixed_per_hour: f64,
}

impl Billing {
    /// The blended rate, USD per unit-hour.
    pub fn rate(&self) -> f64 {
        self.price_per_hour * self.mix.factor()
    }

    pub fn replica_rate(&self) -> f64 {
        self.replica_price_per_hour.unwrap_or(self.price_per_hour) * self.mix.factor()
    }
}

/// Prices of traffic, USD per GB.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrafficPrices {
    /// Bytes delivered through a CDN (hits and misses alike).
    pub cdn_per_gb: f64,
    /// Bytes the origin sends to the internet directly (no CDN step).
    pub egress_per_gb: f64,
}

const GB: f64 = 1024.0 * 1024.0 * 1024.0;

pub fn bytes_to_gb(bytes: f64) -> f64 {
    bytes / GB
}

/// Adds up the cost of one tier's units (or a traffic line) in the measured
/// period, and per interval over the whole run.
#[derive(Clone, Debug)]
pub struct CostMeter {
    measured: Measured,
    /// USD in the measured period.
    pub total_usd: f64,
    /// USD per interval of the time series.
    pub series: IntervalCounts,
}

impl CostMeter {
    pub fn new(measured: Measured, interval: SimDuration, horizon: SimDuration) -> Self {
        CostMeter {
            measured,
            total_usd: 0.0,
            series: IntervalCounts::new(interval, horizon),
        }
    }

    /// Accrues `rate_per_hour` over `[from, to)`.
    pub fn accrue(&mut self, from: SimTime, to: SimTime, rate_per_hour: f64) {
        let (a, b) = (from.as_nanos(), to.as_nanos());
        if b <= a {
            return;
        }
        let per_ns = rate_per_hour / 3.6e12;
        self.total_usd += per_ns * self.measured.overlap(a, b) as f64;
        self.series.add_span(a, b, per_ns);
    }

    /// A one-off charge at `at` (a billing minimum, a partial hour, traffic).
    pub fn charge(&mut self, at: SimTime, usd: f64) {
        if self.measured.contains(at.as_nanos()) {
            self.total_usd += usd;
        }
        self.series.add(at, usd);
    }

    /// Bills a unit that ran over `[launched, ended)`; `terminated` says
    /// whether it stopped then (rather than the run ending). Accrual for the
    /// whole life, plus the granularity's top-up at termination.
    pub fn bill_unit(
        &mut self,
        launched: SimTime,
        ended: SimTime,
        terminated: bool,
        rate_per_hour: f64,
        granularity: Granularity,
    ) {
        self.accrue(launched, ended, rate_per_hour);
        if !terminated {
            return;
        }
        let life = ended.saturating_since(launched).as_secs_f64();
        let billed = match granularity {
            Granularity::PerSecond { minimum } => life.max(minimum.as_secs_f64()),
            Granularity::PerHour => (life / 3600.0).ceil().max(1.0) * 3600.0,
        };
        let top_up = (billed - life).max(0.0);
        if top_up > 0.0 {
            self.charge(ended, rate_per_hour * top_up / 3600.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime::at(SimDuration::from_secs(s))
    }

    fn meter() -> CostMeter {
        CostMeter::new(
            Measured::new(t(0), t(7_200)),
            SimDuration::from_secs(3_600),
            SimDuration::from_secs(7_200),
        )
    }

    #[test]
    fn a_fixed_fleet_costs_rate_times_hours() {
        let mut m = meter();
        for _ in 0..3 {
            m.bill_unit(
                t(0),
                t(7_200),
                false,
                0.192,
                Granularity::PerSecond {
                    minimum: SimDuration::from_secs(60),
                },
            );
        }
        assert!(
            (m.total_usd - 3.0 * 0.192 * 2.0).abs() < 1e-9,
            "{}",
            m.total_usd
        );
        assert!((m.series.values()[0] - 3.0 * 0.192).abs() < 1e-9);
    }

    #[test]
    fn billing_minimums_apply_at_termination() {
        let mut m = meter();
        // 30 s of a $0.192/h instance billed per second with a 60 s minimum.
        m.bill_unit(
            t(100),
            t(130),
            true,
            0.192,
            Granularity::PerSecond {
                minimum: SimDuration::from_secs(60),
            },
        );
        assert!(
            (m.total_usd - 0.192 * 60.0 / 3600.0).abs() < 1e-12,
            "{}",
            m.total_usd
        );
        // 61 minutes billed per hour: two hours.
        let mut m = meter();
        m.bill_unit(t(0), t(3_660), true, 1.0, Granularity::PerHour);
        assert!((m.total_usd - 2.0).abs() < 1e-9, "{}", m.total_usd);
    }

    #[test]
    fn blended_purchase_mix() {
        let mix = PurchaseMix {
            on_demand: 0.1,
            reserved: 0.6,
            spot: 0.3,
            reserved_discount: 0.4,
            spot_discount: 0.7,
        };
        assert!((mix.factor() - (0.1 + 0.6 * 0.6 + 0.3 * 0.3)).abs() < 1e-12);
    }

    #[test]
    fn only_the_measured_period_counts() {
        let mut m = CostMeter::new(
            Measured::new(t(3_600), t(7_200)),
            SimDuration::from_secs(3_600),
            SimDuration::from_secs(7_200),
        );
        m.bill_unit(t(0), t(7_200), false, 1.0, Granularity::PerHour);
        assert!((m.total_usd - 1.0).abs() < 1e-9);
        assert_eq!(m.series.values().len(), 2);
    }
}

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
//! it. A meter keeps, per line of the bill (a tier's units; a database's
//! primary and replicas), the unit-hours and top-ups that make it up, so
//! that a reported line multiplies out: unit-hours × rate + top-ups.

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
    /// The hourly charge of the load balancer in front of the tier (an API
    /// tier's), billed on the bill's load-balancer line, not the tier's.
    pub load_balancer_per_hour: f64,
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
    /// Bytes sent from one region to another (with regions).
    pub cross_region_per_gb: f64,
}

/// Bytes a tier exchanges per visit, billed where they cross regions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TransferSizes {
    /// A request to the tier: a query, a cache command, a job message.
    pub request_bytes: f64,
    /// Its answer.
    pub response_bytes: f64,
    /// A database: what a committed write ships to each replica.
    pub replication_bytes: f64,
}

impl TransferSizes {
    /// A request and its answer.
    pub fn round_trip(&self) -> f64 {
        self.request_bytes + self.response_bytes
    }
}

const GB: f64 = 1024.0 * 1024.0 * 1024.0;

pub fn bytes_to_gb(bytes: f64) -> f64 {
    bytes / GB
}

/// The line of a tier's bill for the surplus CPU credits its burstable
/// instances spend in unlimited mode (lines 0 and 1: units, a database's
/// replicas).
pub const SURPLUS_LINE: usize = 2;

/// What one line of a tier's bill is made of, in the measured period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LineTally {
    /// Units × hours accrued.
    pub unit_hours: f64,
    /// USD of the accrual (unit-hours × the line's rate).
    pub accrued_usd: f64,
    /// USD of billing minimums and partial hours topped up at terminations.
    pub top_up_usd: f64,
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
    /// Per line of units ([`CostMeter::bill_unit`]'s `line`): 0 the units
    /// (a database's primary), 1 a database's replicas; [`SURPLUS_LINE`].
    pub lines: [LineTally; 3],
}

impl CostMeter {
    pub fn new(measured: Measured, interval: SimDuration, horizon: SimDuration) -> Self {
        CostMeter {
            measured,
            total_usd: 0.0,
            series: IntervalCounts::new(interval, horizon),
            lines: [LineTally::default(); 3],
        }
    }

    /// Whether `at` is in the measured period.
    pub fn measures(&self, at: SimTime) -> bool {
        self.measured.contains(at.as_nanos())
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

    /// Bills `usd` of usage (`unit_hours` of it) spent evenly over
    /// `[from, to)` on line `line`: the measured window gets its share.
    pub fn bill_usage(
        &mut self,
        line: usize,
        (from, to): (SimTime, SimTime),
        usd: f64,
        unit_hours: f64,
    ) {
        let (a, b) = (from.as_nanos(), to.as_nanos());
        if b <= a {
            return;
        }
        let share = self.measured.overlap(a, b) as f64 / (b - a) as f64;
        self.total_usd += usd * share;
        self.lines[line].accrued_usd += usd * share;
        self.lines[line].unit_hours += unit_hours * share;
        self.series.add_span(a, b, usd / (b - a) as f64);
    }

    /// A one-off charge at `at` (a billing minimum, a partial hour, traffic).
    pub fn charge(&mut self, at: SimTime, usd: f64) {
        if self.measured.contains(at.as_nanos()) {
            self.total_usd += usd;
        }
        self.series.add(at, usd);
    }

    /// Bills a unit of line `line` that ran over `[launched, ended)`;
    /// `terminated` says whether it stopped then (rather than the run
    /// ending). Accrual for the whole life, plus the granularity's top-up at
    /// termination.
    pub fn bill_unit(
        &mut self,
        line: usize,
        (launched, ended): (SimTime, SimTime),
        terminated: bool,
        rate_per_hour: f64,
        granularity: Granularity,
    ) {
        let before = self.total_usd;
        self.accrue(launched, ended, rate_per_hour);
        let tally = &mut self.lines[line];
        tally.accrued_usd += self.total_usd - before;
        if ended > launched {
            let overlap = self.measured.overlap(launched.as_nanos(), ended.as_nanos());
            tally.unit_hours += overlap as f64 / 3.6e12;
        }
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
            let usd = rate_per_hour * top_up / 3600.0;
            if self.measures(ended) {
                self.lines[line].top_up_usd += usd;
            }
            self.charge(ended, usd);
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
                0,
                (t(0), t(7_200)),
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
            0,
            (t(100), t(130)),
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
        m.bill_unit(0, (t(0), t(3_660)), true, 1.0, Granularity::PerHour);
        assert!((m.total_usd - 2.0).abs() < 1e-9, "{}", m.total_usd);
        // The line: 61 minutes accrued plus 59 minutes topped up.
        let l = m.lines[0];
        assert!((l.unit_hours - 61.0 / 60.0).abs() < 1e-12);
        assert!((l.top_up_usd - 59.0 / 60.0).abs() < 1e-9);
        assert!((l.unit_hours * 1.0 + l.top_up_usd - m.total_usd).abs() < 1e-9);
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
        m.bill_unit(1, (t(0), t(7_200)), false, 1.0, Granularity::PerHour);
        assert!((m.total_usd - 1.0).abs() < 1e-9);
        assert!((m.lines[1].unit_hours - 1.0).abs() < 1e-12);
        assert_eq!(m.lines[0], LineTally::default());
        assert_eq!(m.series.values().len(), 2);
    }
}

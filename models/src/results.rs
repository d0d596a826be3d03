//! What one replication measured. Figures cover the measured period (after
//! warm-up) unless they are time series, which cover the whole horizon.

use sim_engine::{LatencyHistogram, SimDuration, SimTime};

use crate::tier::Kind;
// What a tier reports is declared with the tiers (they fill it in); results
// gather it.
pub use crate::tier::report::{
    Figure, ListPrice, ScaledUnits, Serving, ServingCount, Unit, UnitResult, figure,
};

/// Transactions (what clients asked for) created in the measured period.
/// Conservation holds per class:
/// `arrived = completed + failed + rejected + in_flight`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub arrived: u64,
    /// Answered successfully (possibly after retries).
    pub completed: u64,
    /// Ended in an error or a final timeout.
    pub failed: u64,
    /// Ended in a rejection (no room at the balancer or a station).
    pub rejected: u64,
    /// Still waiting when the run ended.
    pub in_flight: u64,
}

impl RequestCounts {
    pub fn add(&mut self, o: &RequestCounts) {
        self.arrived += o.arrived;
        self.completed += o.completed;
        self.failed += o.failed;
        self.rejected += o.rejected;
        self.in_flight += o.in_flight;
    }

    pub fn is_conserved(&self) -> bool {
        self.arrived == self.completed + self.failed + self.rejected + self.in_flight
    }

    /// Failed and rejected requests over those that ended (completed,
    /// failed or rejected); `None` when none ended.
    pub fn error_rate(&self) -> Option<f64> {
        let ended = self.completed + self.failed + self.rejected;
        (ended > 0).then(|| (self.failed + self.rejected) as f64 / ended as f64)
    }
}

/// What clients did beyond single attempts, in the measured period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientCounts {
    /// Attempts the client gave up on.
    pub timed_out: u64,
    /// Attempts started after the first.
    pub retries: u64,
    /// Attempts the servers finished after their client had given up: work
    /// done for no one.
    pub wasted: u64,
}

impl ClientCounts {
    pub fn add(&mut self, o: &ClientCounts) {
        self.timed_out += o.timed_out;
        self.retries += o.retries;
        self.wasted += o.wasted;
    }
}

/// Per-interval counts of a class over the whole horizon.
#[derive(Clone, Debug, Default)]
pub struct ClassSeries {
    pub arrivals: Vec<f64>,
    pub completed: Vec<f64>,
    pub failed: Vec<f64>,
    pub timed_out: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct ClassResult {
    pub name: String,
    pub counts: RequestCounts,
    pub client: ClientCounts,
    /// End-to-end latency of completed transactions, retries included.
    pub latency: LatencyHistogram,
    pub series: ClassSeries,
    /// `latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms` per interval of
    /// the whole run: end-to-end latency of the requests answered in it (NaN
    /// where none were).
    pub latency_series: Vec<(&'static str, Vec<f64>)>,
    /// With regions: the region its users are in.
    pub region: Option<u16>,
    /// With regions: measured attempts routed to each region (empty
    /// without regions).
    pub served_by: Vec<u64>,
    /// Where the time of its answered requests went.
    pub breakdown: Breakdown,
}

/// A part of a request's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// Waiting for a server, core, worker or shard of the tier.
    Queue = 0,
    /// Waiting for a pooled database connection.
    PoolWait = 1,
    /// Being served (CPU, a query's CPU and I/O, a cache command, an edge
    /// hit, an external call).
    Service = 2,
    /// Network trips: a round trip to a cache or database, a balancer, a
    /// CDN miss's way to the origin, a hop to another region.
    Network = 3,
    /// Before the answered attempt began: earlier attempts and backoffs.
    Retry = 4,
    /// The route's own `delay` steps.
    Delay = 5,
}

impl Part {
    pub fn label(self) -> &'static str {
        match self {
            Part::Queue => "queue",
            Part::PoolWait => "pool_wait",
            Part::Service => "service",
            Part::Network => "network",
            Part::Retry => "retry",
            Part::Delay => "delay",
        }
    }
}

/// A part at a tier (`None`: at no tier: retries, delay steps, and as
/// network the users' trip to the region serving them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    pub tier: Option<crate::tier::TierId>,
    pub part: Part,
}

/// A class's latency split into components: the mean of each over its
/// answered requests, and over the slowest 1% of them (the requests above
/// p99). Each set of means adds up to the mean latency of its requests.
#[derive(Clone, Debug, Default)]
pub struct Breakdown {
    /// Every component the class's route can spend time on, in route order
    /// (retry and delay first).
    pub components: Vec<Component>,
    /// Answered requests counted (the measured period's).
    pub requests: u64,
    /// Per component: its mean over every answered request, ms (NaN when
    /// none was answered).
    pub mean_ms: Vec<f64>,
    /// Per component: its mean over the slowest 1%, ms.
    pub tail_mean_ms: Vec<f64>,
}

/// A tier's figures in a fixed order per tier kind, and what an output
/// needs to name and count them. Every kind starts with `utilization`,
/// `queue_wait_ms`, `queue_length`, `throughput_per_s`.
#[derive(Clone, Debug)]
pub struct TierResult {
    pub name: String,
    pub kind: Kind,
    /// Its units in service (`None`: it has none, a CDN).
    pub serving: Option<Serving>,
    /// Its autoscaling (`None`: it has no scaling table).
    pub scaling: Option<ScaledUnits>,
    /// `None`: unpriced (not part of the bill).
    pub list_price: Option<ListPrice>,
    /// What its bill of units is made of (`None`: no price per unit-hour).
    pub bill: Option<TierBill>,
    pub metrics: Vec<Figure>,
    pub units: Vec<UnitResult>,
    /// Per-interval figures over the whole horizon, in a fixed order per kind:
    /// `arrivals`, `completed`, `errors` (counts per interval), `utilization`,
    /// `queue_length` (interval averages), then kind-specific ones, then
    /// `latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms` (NaN where
    /// nothing finished) and `cost_usd`.
    pub series: Vec<(&'static str, Vec<f64>)>,
    /// The time of each request's visit that began in the measured period,
    /// as the tier's latency series counts it: an API from the balancer
    /// until leaving the instance, a station from joining to leaving, a
    /// cache command or a database query from its arrival until answered
    /// (the network round trip excluded; a query that found no connection
    /// in time is not served), an external call until its answer, a CDN
    /// edge until the hit is served or the miss goes on. `None`: no route
    /// visits it (workers, a tier off every route).
    pub visits: Option<LatencyHistogram>,
}

impl TierResult {
    pub fn metric(&self, name: &str) -> Option<f64> {
        figure(&self.metrics, name)
    }

    pub fn series(&self, name: &str) -> Option<&[f64]> {
        self.series
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// A failure or recovery that happened during the run.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureRecord {
    pub at: SimTime,
    pub tier: u16,
    pub unit: u32,
    /// "crash", "flush" or "recover".
    pub what: &'static str,
}

#[derive(Clone, Debug)]
pub struct ReplicationResult {
    pub replication: u64,
    /// Events the kernel handled (warm-up included).
    pub events: u64,
    /// Length of the measured period.
    pub measured: SimDuration,
    pub classes: Vec<ClassResult>,
    pub tiers: Vec<TierResult>,
    pub failures: Vec<FailureRecord>,
    /// Every change of a tier's desired capacity, in time order.
    pub scaling: Vec<ScalingEvent>,
    /// One per objective, in the scenario's order.
    pub slos: Vec<crate::slo::SloResult>,
    pub traffic: TrafficCost,
    pub load_balancers: LoadBalancerCost,
    /// End-to-end latency percentiles per interval over all classes (as
    /// [`ClassResult::latency_series`]).
    pub latency_series: Vec<(&'static str, Vec<f64>)>,
    /// With regions: the same for each region's users (empty without).
    pub region_latency_series: Vec<Vec<(&'static str, Vec<f64>)>>,
    /// With regions: when a health check found a region dead or alive again.
    pub routing: Vec<RoutingEvent>,
}

/// A health check changed its verdict on a region.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutingEvent {
    pub at: SimTime,
    pub region: u16,
    /// Alive (takes users again) or dead (its users go elsewhere).
    pub alive: bool,
}

impl ReplicationResult {
    /// Counts over all classes.
    pub fn totals(&self) -> RequestCounts {
        let mut t = RequestCounts::default();
        for c in &self.classes {
            t.add(&c.counts);
        }
        t
    }

    pub fn client_totals(&self) -> ClientCounts {
        let mut t = ClientCounts::default();
        for c in &self.classes {
            t.add(&c.client);
        }
        t
    }

    /// End-to-end latency over all classes.
    pub fn latency(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for c in &self.classes {
            h.merge(&c.latency);
        }
        h
    }

    pub fn tier(&self, name: &str) -> Option<&TierResult> {
        self.tiers.iter().find(|t| t.name == name)
    }

    pub fn class(&self, name: &str) -> Option<&ClassResult> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// Total cost in the measured period: every tier, the load balancers
    /// and traffic, USD.
    pub fn cost_usd(&self) -> f64 {
        self.tiers
            .iter()
            .filter_map(|t| t.metric("cost_usd"))
            .sum::<f64>()
            + self.load_balancers.usd
            + self.traffic.cdn_usd
            + self.traffic.egress_usd
            + self.traffic.cross_region_usd
    }

    /// The whole bill per interval of the run (warm-up included), USD:
    /// every tier, the load balancers and traffic.
    pub fn cost_series(&self) -> Vec<f64> {
        let mut total = self.traffic.series.clone();
        let tiers = self.tiers.iter().filter_map(|t| t.series("cost_usd"));
        for s in tiers.chain([self.load_balancers.series.as_slice()]) {
            if total.len() < s.len() {
                total.resize(s.len(), 0.0);
            }
            for (a, b) in total.iter_mut().zip(s) {
                *a += b;
            }
        }
        total
    }
}

/// A change of a tier's desired capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingEvent {
    pub at: SimTime,
    pub tier: u16,
    pub from: u32,
    pub to: u32,
    /// What triggered it, in words (the policy and the figures it saw).
    pub reason: String,
}

/// The traffic bill of one replication (the tiers' own is `cost_usd` in
/// each tier's metrics and series).
#[derive(Clone, Debug, Default)]
pub struct TrafficCost {
    /// USD in the measured period: CDN delivery, origin egress, and bytes
    /// crossing regions.
    pub cdn_usd: f64,
    pub egress_usd: f64,
    pub cross_region_usd: f64,
    /// GB (2^30 bytes) that crossed regions in the measured period.
    pub cross_region_gb: f64,
    /// The price they were billed at, USD per GB.
    pub cross_region_per_gb: f64,
    /// USD per interval, every line together.
    pub series: Vec<f64>,
}

/// The load balancers in front of the priced API tiers: one per tier,
/// billed by the hour from the start of the run to its end.
#[derive(Clone, Debug, Default)]
pub struct LoadBalancerCost {
    pub balancers: u32,
    /// USD per balancer-hour.
    pub per_hour: f64,
    /// USD in the measured period (balancers × measured hours × per_hour).
    pub usd: f64,
    /// USD per interval.
    pub series: Vec<f64>,
}

/// What a tier's bill of units is made of: one line per kind of unit (a
/// tier's units; a database's primary and replicas), each multiplying out
/// as `unit_hours × rate_per_hour + top_up_usd = usd`.
#[derive(Clone, Debug, PartialEq)]
pub struct TierBill {
    /// The purchase mix its rates blend.
    pub mix: crate::cost::PurchaseMix,
    pub lines: Vec<BillLine>,
}

/// One line of a tier's bill, in the measured period.
#[derive(Clone, Debug, PartialEq)]
pub struct BillLine {
    /// `units`, or a database's `primary` and `replicas`.
    pub name: &'static str,
    /// The instance type, marked when its price is overridden, or "custom".
    pub label: String,
    /// List price, USD per unit-hour.
    pub list_per_hour: f64,
    /// The rate billed: the list price blended by the purchase mix.
    pub rate_per_hour: f64,
    /// Units × hours accrued.
    pub unit_hours: f64,
    /// USD of billing minimums and partial hours topped up at terminations.
    pub top_up_usd: f64,
    /// USD: unit-hours × rate + top-ups.
    pub usd: f64,
}

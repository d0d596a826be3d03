//! What a tier reports about itself: named figures with their units, its
//! units in service and what autoscaling counts, its list price. Each kind's
//! module fills these in; `results` gathers them per replication.

use super::Noun;

/// What a figure measures, so that outputs can label, convert and combine
/// it without knowing which tier kind produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A fraction in [0, 1] (`utilization`, `hit_ratio`).
    Fraction,
    /// Milliseconds; the name ends in `_ms`.
    Milliseconds,
    /// Seconds; the name ends in `_s`.
    Seconds,
    /// Per second; the name ends in `_per_s`.
    PerSecond,
    /// Events counted in the measured period.
    Count,
    /// A level averaged over time (queue length, units in service).
    Average,
    /// The highest a level reached.
    Peak,
    /// US dollars; the name ends in `_usd`.
    Usd,
}

/// A named figure of a tier or unit. Names carry their unit as a suffix
/// where it has one (`_ms`, `_per_s`, `_usd`), and `unit` says it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    pub unit: Unit,
    pub value: f64,
}

impl Figure {
    pub fn new(name: &'static str, unit: Unit, value: f64) -> Self {
        Figure { name, unit, value }
    }
}

/// A figure named `name` among `figures`.
pub fn figure(figures: &[Figure], name: &str) -> Option<f64> {
    figures.iter().find(|f| f.name == name).map(|f| f.value)
}

/// One unit of a tier: an API instance, a cache shard, a database node.
#[derive(Clone, Debug)]
pub struct UnitResult {
    pub name: String,
    pub metrics: Vec<Figure>,
}

impl UnitResult {
    pub fn metric(&self, name: &str) -> Option<f64> {
        figure(&self.metrics, name)
    }
}

/// A tier's units in service: what they are called and where their count
/// is. Filled by the tier's module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serving {
    pub noun: Noun,
    pub count: ServingCount,
}

impl Serving {
    /// Counted in the tier's series named after them (`instances`, ...).
    pub const fn series(noun: Noun) -> Serving {
        Serving {
            noun,
            count: ServingCount::Series(noun.many),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServingCount {
    /// Time-averaged per interval, in the tier's series of this name.
    Series(&'static str),
    /// The same for the whole run (a station's servers).
    Fixed(u32),
}

/// What a tier's autoscaling counts, its bounds and where it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaledUnits {
    /// A database counts its replicas here, not its primary: not always
    /// the units of [`Serving`].
    pub noun: Noun,
    pub initial: u32,
    pub min: u32,
    pub max: u32,
}

/// The list price of a tier's units.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPrice {
    /// An instance type, or "custom".
    pub label: String,
    /// USD per unit-hour.
    pub per_hour: f64,
}

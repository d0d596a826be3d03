//! One home per tier kind: each module below owns its kind's validated
//! configuration, its runtime state, the scaling signals it offers, its
//! report (metrics, units, series) and its vocabulary.
//!
//! ```text
//!   TierConfig { name, kind: TierKind, scaling, billing, region }     (declaration order = TierId)
//!        │  handles(): each tier's typed handle, Ref<K> = (TierId, index among its kind)
//!        ▼
//!   Tiers: the platform's one collection ── a Vec per kind (the route interpreter
//!        │  reaches a tier through its typed handle: no kind match, no impossible arm)
//!        └─ per TierId: its handle, autoscaler and bill; `model(id)` gives the
//!           kind-independent face (TierModel: failures, capacity, billing, report)
//! ```
//!
//! A new kind is a module here (its config implementing [`ConfigUnits`], its
//! runtime implementing [`TierModel`], its `VOCABULARY`), one line in
//! `tier_kinds!` below, its route step in the interpreter, and in
//! `capsim-scenarios` its file format (a struct in `raw`) and builder arm.
//! What a tier reports about itself is declared in [`report`].

pub mod api;
pub mod cache;
pub mod cdn;
pub mod database;
pub mod external;
pub(crate) mod life;
pub mod report;
pub mod station;
pub mod workers;

use std::marker::PhantomData;
use std::ops::Range;

use sim_engine::{IntervalLatency, SimDuration, SimTime, Streams};

use crate::cost::{Billing, CostMeter, TransferSizes};
use crate::fcfs::Measured;
use crate::scaling::{Metric, Scaler, ScalingConfig, Termination};
use crate::series::{Accumulator, Spec};
use report::{Figure, ListPrice, Serving, UnitResult};

pub use api::{ApiConfig, ApiCredits, ApiMemory, Balancer, WorkerMode};
pub use cache::{CacheConfig, CacheSizing};
pub use cdn::CdnConfig;
pub use database::{DatabaseConfig, QueryConfig, ReadRouting};
pub use external::{ExternalConfig, RateLimit};
pub use station::StationConfig;
pub use workers::{JobConfig, QueueConfig, WorkersConfig};

use life::Lifetime;

pub use crate::ids::TierId;

/// A tier of kind `K` (its configuration type): its [`TierId`] and its
/// index among the tiers of its kind. Handles come from [`handles`], so a
/// route step, a replication stream or a health check names a tier of the
/// right kind by construction.
pub struct Ref<K> {
    pub id: TierId,
    index: u16,
    kind: PhantomData<fn() -> K>,
}

impl<K> Ref<K> {
    fn new(id: TierId, index: u16) -> Self {
        Ref {
            id,
            index,
            kind: PhantomData,
        }
    }

    /// Its place among the tiers of its kind.
    #[inline(always)]
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl<K> Clone for Ref<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Ref<K> {}

impl<K> PartialEq for Ref<K> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<K> Eq for Ref<K> {}

impl<K> std::fmt::Debug for Ref<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tier {}", self.id)
    }
}

/// Declares the tier kinds from one list: for each, its handle type, its
/// variants of [`Handle`], [`Typed`], [`TierKind`] and [`Kind`], its
/// vocabulary and its vector in [`Tiers`]. Adding a kind is one line here
/// (its module implements [`ConfigUnits`] and [`TierModel`]).
macro_rules! tier_kinds {
    ($(
        $(#[$doc:meta])*
        $Kind:ident($Config:ident) as $Ref:ident, in $module:ident: $Tier:ty;
    )*) => {
        $( pub type $Ref = Ref<$Config>; )*

        /// A tier's typed handle, whatever its kind.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Handle {
            $( $Kind($Ref), )*
        }

        impl Handle {
            pub fn id(self) -> TierId {
                match self {
                    $( Handle::$Kind(r) => r.id, )*
                }
            }
        }

        /// A tier's typed handle with its kind's configuration: what the
        /// scenario builder resolves a route's tier names to.
        #[derive(Clone, Copy, Debug)]
        pub enum Typed<'a> {
            $( $Kind($Ref, &'a $Config), )*
        }

        impl Typed<'_> {
            pub fn handle(&self) -> Handle {
                match *self {
                    $( Typed::$Kind(r, _) => Handle::$Kind(r), )*
                }
            }

            fn new(kind: &TierKind, id: TierId, index: u16) -> Typed<'_> {
                match kind {
                    $( TierKind::$Kind(c) => Typed::$Kind(Ref::new(id, index), c), )*
                }
            }
        }

        /// A tier's kind with its validated configuration.
        #[derive(Clone, Debug)]
        pub enum TierKind {
            $( $(#[$doc])* $Kind($Config), )*
        }

        impl TierKind {
            pub fn kind(&self) -> Kind {
                match self {
                    $( TierKind::$Kind(_) => Kind::$Kind, )*
                }
            }

            fn units(&self) -> &dyn ConfigUnits {
                match self {
                    $( TierKind::$Kind(c) => c, )*
                }
            }

            fn units_mut(&mut self) -> &mut dyn ConfigUnits {
                match self {
                    $( TierKind::$Kind(c) => c, )*
                }
            }
        }

        /// A tier's kind, without its configuration: what results carry.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind {
            $( $Kind, )*
        }

        impl Kind {
            pub const ALL: [Kind; [$( stringify!($Kind) ),*].len()] = [$( Kind::$Kind ),*];

            /// How the kind speaks of itself and its units.
            pub fn vocabulary(self) -> &'static Vocabulary {
                match self {
                    $( Kind::$Kind => &$module::VOCABULARY, )*
                }
            }
        }

        /// The platform's tiers: a collection per kind, reached by typed
        /// handles, and per tier (by [`TierId`]) its [`Slot`].
        pub(crate) struct Tiers<'c> {
            $( pub $module: Vec<$Tier>, )*
            pub slots: Vec<Slot<'c>>,
        }

        impl<'c> Tiers<'c> {
            fn with_capacity(n: usize) -> Self {
                Tiers {
                    $( $module: Vec::new(), )*
                    slots: Vec::with_capacity(n),
                }
            }

            fn push_runtime(&mut self, kind: &'c TierKind, ctx: &BuildContext) {
                match kind {
                    $( TierKind::$Kind(c) => self.$module.push(<$Tier>::new(c, ctx)), )*
                }
            }

            /// Tier `id`'s slot and model at once.
            pub fn split(&mut self, id: TierId) -> (&mut Slot<'c>, &mut dyn TierModel) {
                let slot = &mut self.slots[id as usize];
                let model: &mut dyn TierModel = match slot.handle {
                    $( Handle::$Kind(r) => &mut self.$module[r.index()], )*
                };
                (slot, model)
            }
        }
    };
}

tier_kinds! {
    /// A generic FCFS multi-server queue: the textbook station.
    Station(StationConfig) as StationRef, in station: station::StationTier<'c>;
    /// Load balancer in front of a pool of API instances.
    Api(ApiConfig) as ApiRef, in api: api::ApiTier;
    /// A sharded in-memory cache (Redis): one command at a time per shard.
    Cache(CacheConfig) as CacheRef, in cache: cache::CacheTier<'c>;
    /// A database: a primary for writes, replicas for reads (Postgres).
    Database(DatabaseConfig) as DatabaseRef, in database: database::DbTier<'c>;
    /// Background workers consuming prioritised job queues (Celery, BullMQ).
    Workers(WorkersConfig) as WorkersRef, in workers: workers::WorkersTier<'c>;
    /// A CDN edge: infinite capacity, a hit ratio and latencies.
    Cdn(CdnConfig) as CdnRef, in cdn: cdn::CdnTier<'c>;
    /// A third-party HTTP API: latency, rate limit (429s), errors, outages,
    /// a price per call.
    External(ExternalConfig) as ExternalRef, in external: external::ExternalTier<'c>;
}

/// Every tier, typed, in declaration order: the one place where a tier's
/// index among its kind is decided (the scenario builder and [`Tiers`] both
/// go through it).
pub fn typed(tiers: &[TierConfig]) -> Vec<Typed<'_>> {
    let mut count = [0u16; Kind::ALL.len()];
    tiers
        .iter()
        .enumerate()
        .map(|(id, t)| {
            let slot = &mut count[t.kind.kind() as usize];
            let index = *slot;
            *slot += 1;
            Typed::new(&t.kind, id as TierId, index)
        })
        .collect()
}

/// Every tier's handle, in declaration order.
pub fn handles(tiers: &[TierConfig]) -> Vec<Handle> {
    typed(tiers).iter().map(Typed::handle).collect()
}

/// A tier of the scenario.
#[derive(Clone, Debug)]
pub struct TierConfig {
    pub name: String,
    pub kind: TierKind,
    /// Autoscaling (API instances, workers, database replicas, cache shards).
    pub scaling: Option<ScalingConfig>,
    /// How its units are billed; `None`: free (not part of the bill).
    pub billing: Option<Billing>,
    /// The region it runs in (with regions; `None` for a global tier).
    pub region: Option<u16>,
    /// Bytes of its requests, answers and replication, billed where they
    /// cross regions.
    pub transfer: TransferSizes,
}

/// What a kind's configuration says about its units; each kind's module
/// implements it.
pub trait ConfigUnits {
    /// The units autoscaling counts, at the start (instances, workers,
    /// replicas, shards); `None` for kinds that do not scale.
    fn scaled_units(&self) -> Option<u32> {
        None
    }
    /// Starts the tier with `n` of the units autoscaling counts (kinds that
    /// scale).
    fn set_scaled_units(&mut self, _n: u32) {}
    /// The units a failure may name: `0..n`.
    fn failure_units(&self) -> Range<u32>;
}

impl TierKind {
    /// The units autoscaling counts, at the start (instances, workers,
    /// replicas, shards); `None` for kinds that do not scale.
    pub fn scaled_units(&self) -> Option<u32> {
        self.units().scaled_units()
    }

    /// Starts the tier with `n` of the units autoscaling counts (a no-op
    /// for kinds that do not scale).
    pub fn set_scaled_units(&mut self, n: u32) {
        self.units_mut().set_scaled_units(n)
    }

    /// The units a failure may name: `0..n` (a database's node 0 is its
    /// primary, then its replicas).
    pub fn failure_units(&self) -> Range<u32> {
        self.units().failure_units()
    }

    /// Servers of a station (its fixed capacity); `None` for other kinds.
    pub fn servers(&self) -> Option<u32> {
        match self {
            TierKind::Station(s) => Some(s.servers),
            _ => None,
        }
    }
}

impl Kind {
    /// `kind =` in a scenario file; `kind` in every output.
    pub fn label(self) -> &'static str {
        self.vocabulary().label
    }

    /// The kind a scenario's `kind =` names.
    pub fn from_label(label: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.label() == label)
    }
}

/// How a tier kind names itself and counts its units.
#[derive(Debug)]
pub struct Vocabulary {
    /// `kind =` in a scenario file; `kind` in outputs.
    pub label: &'static str,
    /// How the kind scales, if it does.
    pub scaling: Option<ScalingFacts>,
    /// The tier has a bill of its own (per unit-hour, or per call); a
    /// CDN's is traffic, priced per GB on the platform's bill.
    pub own_bill: bool,
    /// How the kind is priced when not per unit-hour, in a scenario's words:
    /// the reason its instance and billing keys are refused.
    pub priced_otherwise: Option<&'static str>,
}

/// What autoscaling changes in a tier of a kind, and its defaults.
#[derive(Debug)]
pub struct ScalingFacts {
    /// What it counts: instances, workers, replicas, shards.
    pub unit: Noun,
    /// The smallest `min` allowed.
    pub least: u32,
    /// Default time from launch until a unit runs, and from running until
    /// it takes work.
    pub boot: SimDuration,
    pub warmup: SimDuration,
    /// The metrics its policies may use (`latency_pNN` for any quantile).
    pub metrics: &'static [&'static str],
}

impl Vocabulary {
    /// What autoscaling counts, if the kind scales.
    pub fn scaled_unit(&self) -> Option<Noun> {
        self.scaling.as_ref().map(|s| s.unit)
    }
}

/// A noun in both numbers: what a tier kind calls its units. Each kind's
/// module defines its own, so a word is written once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Noun {
    pub one: &'static str,
    pub many: &'static str,
}

impl Noun {
    pub const fn new(one: &'static str, many: &'static str) -> Noun {
        Noun { one, many }
    }
}

/// What a tier's runtime is built with.
pub(crate) struct BuildContext<'a> {
    pub name: &'a str,
    pub measured: Measured,
    pub spec: Spec,
    /// Its units can lose their work (failures or scale-in target it): they
    /// track jobs in flight to void them exactly.
    pub voidable: bool,
    /// The replication's streams, for kinds that draw (a balancer).
    pub streams: &'a Streams,
}

/// A unit's failures, which nest: only the first of overlapping ones takes
/// it down, and it is up again when the last ends. Its epoch changes at
/// both, so work placed on it before either can be told apart.
#[derive(Default)]
pub(crate) struct Health {
    down: u32,
    pub epoch: u32,
}

impl Health {
    pub fn is_up(&self) -> bool {
        self.down == 0
    }

    /// A failure starts: the epoch before it if this took the unit down.
    pub fn fail(&mut self) -> Option<u32> {
        self.down += 1;
        (self.down == 1).then(|| {
            self.epoch += 1;
            self.epoch - 1
        })
    }

    /// A failure ends: true if the unit is up again.
    pub fn recover(&mut self) -> bool {
        self.down -= 1;
        if self.down > 0 {
            return false;
        }
        self.epoch += 1;
        true
    }
}

/// What a crash took down with its unit.
pub(crate) struct Crash {
    /// The unit's epoch before the crash: attempts whose step runs there
    /// (at `(tier, unit, epoch)`) fail.
    pub epoch: u32,
    /// Attempts that were waiting at the unit (an API instance's backlog).
    pub queued: Vec<u32>,
    /// Attempts whose pending step the unit held and dropped: no event will
    /// resume them (an event-driven unit's jobs).
    pub dropped: Vec<u32>,
    /// A draining unit had nothing left to drain and terminated.
    pub terminated: bool,
    /// The jobs running on it fail (a worker): no attempt runs there.
    pub jobs: bool,
}

/// What a drain timeout cut short.
pub(crate) struct Drained {
    pub epoch: u32,
    /// Attempts waiting at the unit, which fail (with those running there).
    pub queued: Vec<u32>,
    /// As [`Crash::dropped`].
    pub dropped: Vec<u32>,
    /// The jobs running on it fail instead (a worker).
    pub jobs: bool,
}

/// A tier's figures at the end of a run, from its own module.
pub(crate) struct TierReport {
    /// Starting with `utilization`, `queue_wait_ms`, `queue_length`,
    /// `throughput_per_s`.
    pub metrics: Vec<Figure>,
    pub units: Vec<UnitResult>,
    /// `arrivals`, `completed`, `errors`, `utilization`, `queue_length`,
    /// then the kind's own.
    pub series: Vec<(&'static str, Vec<f64>)>,
    /// Time spent at the tier, per interval, if it keeps it.
    pub latency: Option<IntervalLatency>,
    /// Its units in service, if it has units.
    pub serving: Option<Serving>,
}

/// Surplus CPU credits spent over `[from, to)`, to be billed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Surplus {
    pub from: SimTime,
    pub to: SimTime,
    pub usd: f64,
    pub vcpu_hours: f64,
}

/// What the platform asks of every tier, whatever its kind. The route
/// interpreter does not go through it: it reaches each kind's own methods
/// through typed handles.
pub(crate) trait TierModel {
    /// The units a failure of "every unit" strikes.
    fn failure_units(&self) -> Range<u32>;
    /// Unit `unit` fails. Failures nest: only the first of overlapping ones
    /// takes it down (`Some`).
    fn crash(&mut self, unit: u32, now: SimTime) -> Option<Crash>;
    /// One failure of unit `unit` ends; true when it is up again (the last
    /// of overlapping failures ended).
    fn recover(&mut self, unit: u32, now: SimTime) -> bool;
    /// A cache shard loses its contents (other kinds have none to lose).
    fn flush(&mut self, _unit: u32) {}
    /// Requests that failed at the tier because a unit went away.
    fn add_errors(&mut self, _now: SimTime, _n: u64) {}
    /// The autoscalers' tick (before the tier is sampled).
    fn on_tick(&mut self, _now: SimTime) {}
    /// The warm-up ended: time-averages restart.
    fn restart_statistics(&mut self, _now: SimTime) {}
    /// Units ever launched (unit numbers `0..n`), for billing.
    fn billed_units(&self) -> u32;
    fn lifetime(&self, unit: u32) -> Lifetime;
    /// The hourly rate of unit `unit` (a database's replicas may differ from
    /// its primary).
    fn unit_rate(&self, _unit: u32, billing: &Billing) -> f64 {
        billing.rate()
    }
    /// The line of the bill unit `unit` is billed on: 0, or 1 for a
    /// database's replicas (priced apart from its primary).
    fn bill_line(&self, _unit: u32) -> usize {
        0
    }
    /// Its list price when it is not billed per unit-hour (a price per
    /// call); `None` takes the tier's billing.
    fn list_price(&self) -> Option<ListPrice> {
        None
    }
    /// The tier's capacity, if the kind scales.
    fn elastic(&mut self) -> Option<&mut dyn Elastic> {
        None
    }
    /// Usage billed apart from unit-hours since the last call: surplus CPU
    /// credits spent over `[from, to)` (USD, vCPU-hours). Taken after every
    /// tick and after [`TierModel::report`].
    fn take_surplus(&mut self) -> Option<Surplus> {
        None
    }
    /// Closes its series' intervals before `upto`, which end by `reached`
    /// (see `Platform::close_intervals`): latency keeps its quantiles, units
    /// add theirs to the tier's sums. Every interval before the end of the
    /// run is closed before [`TierModel::report`].
    fn close_intervals(&mut self, _upto: usize, _reached: SimTime) {}
    /// Calls `f` on each of its series over the whole horizon that takes
    /// nothing once an interval is closed (sums over its units, counts at
    /// the time of an event): the platform spills their closed intervals
    /// as the run goes and restores them before [`TierModel::report`].
    /// A series left out is held whole in memory.
    fn accumulators(&mut self, _f: &mut dyn FnMut(Accumulator<'_>)) {}
    /// Its figures at `now`, the end of the run.
    fn report(&mut self, now: SimTime) -> TierReport;
}

/// The capacity of a tier that scales: units launch, become ready, drain
/// and terminate (see [`life`]).
pub(crate) trait Elastic {
    /// Launched and not leaving: what the autoscaler's desired count counts.
    fn desired_count(&self) -> u32;
    /// In service (what the HPA formula calls current replicas).
    fn ready_count(&self) -> u32;
    /// Launches a unit; it serves once `ready`.
    fn launch(&mut self, now: SimTime) -> u32;
    /// A launched unit is ready (a no-op if it was cancelled while booting).
    fn ready(&mut self, unit: u32, now: SimTime);
    /// The `n` units scale-in removes.
    fn scale_in_choice(&self, n: u32, order: Termination) -> Vec<u32>;
    /// Unit `unit` starts leaving; true if it terminated at once.
    fn begin_drain(&mut self, unit: u32, now: SimTime) -> bool;
    /// The drain timeout of `unit` passed: what it still held fails.
    /// `None` if it had terminated (or its kind terminates at once).
    fn drain_timeout(&mut self, _unit: u32, _now: SimTime) -> Option<Drained> {
        None
    }
    /// Numerator and denominator of each of `metrics` over the tick from
    /// `prev` to `now`, then ∫ units in service dt and the tick's length
    /// (the units that produced the metrics, for target tracking). The
    /// scenario is validated so that each metric suits the kind.
    fn sample(&mut self, prev: SimTime, now: SimTime, metrics: &[Metric]) -> Vec<(f64, f64)>;
}

/// Per tier: what every tier has besides its kind's state.
pub(crate) struct Slot<'c> {
    pub handle: Handle,
    pub name: &'c str,
    pub scaling: Option<&'c ScalingConfig>,
    pub billing: Option<&'c Billing>,
    /// Its autoscaler, if it has a scaling table.
    pub scaler: Option<Scaler>,
    /// Its bill.
    pub bill: CostMeter,
}

impl<'c> Tiers<'c> {
    /// Builds every tier's runtime; `context(id)` gives what tier `id` is
    /// built with.
    pub fn new<'a>(
        tiers: &'c [TierConfig],
        mut context: impl FnMut(TierId) -> BuildContext<'a>,
        bill: impl Fn() -> CostMeter,
    ) -> Self {
        let mut t = Tiers::with_capacity(tiers.len());
        for (handle, cfg) in handles(tiers).into_iter().zip(tiers) {
            t.push_runtime(&cfg.kind, &context(t.slots.len() as TierId));
            t.slots.push(Slot {
                handle,
                name: &cfg.name,
                scaling: cfg.scaling.as_ref(),
                billing: cfg.billing.as_ref(),
                scaler: None,
                bill: bill(),
            });
        }
        t
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Tier `id`'s kind-independent face.
    pub fn model(&mut self, id: TierId) -> &mut dyn TierModel {
        self.split(id).1
    }
}

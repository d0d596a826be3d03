//! The lifecycle of a scalable unit (an API instance, a worker, a database
//! replica, a cache shard):
//!
//! ```text
//!   launch ─► Booting ──(boot + warm-up)──► InService ──(scale-in)──► Draining ──(idle or timeout)──► Terminated
//!                └──────────────(scale-in before it is ready)───────────────────────────────────────────┘
//! ```
//!
//! A unit is billed from launch to termination. Only in-service units get
//! work and count in metrics. A crash is separate: a crashed unit keeps its
//! lifecycle state but gets nothing until it recovers.

use sim_engine::SimTime;

use crate::scaling::Termination;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Life {
    Booting,
    InService,
    Draining,
    Terminated,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Lifetime {
    pub life: Life,
    pub launched: SimTime,
    /// When it entered service (meaningful once in service).
    pub since: SimTime,
    pub ended: Option<SimTime>,
}

impl Lifetime {
    /// A unit in service from `now` (the initial fleet).
    pub fn running(now: SimTime) -> Self {
        Lifetime {
            life: Life::InService,
            launched: now,
            since: now,
            ended: None,
        }
    }

    /// A unit that never runs (a stand-in: a replica set's primary in
    /// another region).
    pub fn absent() -> Self {
        Lifetime {
            life: Life::Terminated,
            launched: SimTime::ZERO,
            since: SimTime::ZERO,
            ended: Some(SimTime::ZERO),
        }
    }

    /// A unit launched at `now`, not yet ready.
    pub fn booting(now: SimTime) -> Self {
        Lifetime {
            life: Life::Booting,
            launched: now,
            since: now,
            ended: None,
        }
    }

    /// Booting or in service: what the desired count counts.
    pub fn is_desired(&self) -> bool {
        matches!(self.life, Life::Booting | Life::InService)
    }

    pub fn in_service(&self) -> bool {
        self.life == Life::InService
    }

    pub fn ready(&mut self, now: SimTime) {
        debug_assert_eq!(self.life, Life::Booting);
        self.life = Life::InService;
        self.since = now;
    }

    pub fn terminate(&mut self, now: SimTime) {
        self.life = Life::Terminated;
        self.ended = Some(now);
    }
}

/// The `n` units scale-in removes, from the units' lifetimes in launch order
/// (index = unit number; the first `keep` are never removed, e.g. a
/// database primary): booting units first (newest first), then units in
/// service in the termination order.
pub(crate) fn scale_in_choice(
    lives: impl Iterator<Item = Lifetime>,
    keep: usize,
    n: u32,
    order: Termination,
) -> Vec<u32> {
    let mut booting = Vec::new();
    let mut serving = Vec::new();
    for (i, l) in lives.enumerate().skip(keep) {
        match l.life {
            Life::Booting => booting.push(i as u32),
            Life::InService => serving.push(i as u32),
            Life::Draining | Life::Terminated => {}
        }
    }
    booting.reverse();
    if order == Termination::NewestFirst {
        serving.reverse();
    }
    booting
        .into_iter()
        .chain(serving)
        .take(n as usize)
        .collect()
}

//! What one replication measured. Everything here covers the measured window
//! only (after warm-up); requests created during warm-up are not counted.

use sim_engine::{LatencyHistogram, SimDuration};

/// Counts of requests created in the measured window. Conservation holds per
/// class: `arrived = completed + failed + rejected + in_flight`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    /// Still in the system when the run ended.
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
}

#[derive(Clone, Debug)]
pub struct ClassResult {
    pub name: String,
    pub counts: RequestCounts,
    /// End-to-end latency of completed requests.
    pub latency: LatencyHistogram,
}

/// A tier's figures as named scalars in a fixed order per tier kind. Names
/// carry units (`_ms`, `_per_s`); fractions are in [0, 1].
#[derive(Clone, Debug)]
pub struct TierResult {
    pub name: String,
    pub kind: &'static str,
    pub metrics: Vec<(&'static str, f64)>,
}

impl TierResult {
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }
}

#[derive(Clone, Debug)]
pub struct ReplicationResult {
    pub replication: u64,
    /// Events the kernel handled (warm-up included).
    pub events: u64,
    /// Length of the measured window.
    pub measured: SimDuration,
    pub classes: Vec<ClassResult>,
    pub tiers: Vec<TierResult>,
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
}

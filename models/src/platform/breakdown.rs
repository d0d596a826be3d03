//! Where a request's time goes. Each attempt carries a row of parts, in
//! nanoseconds: at every tier its route visits, the time it queued, waited
//! for a pooled connection, was served, and spent on the network; plus the
//! route's own `delay` steps, the users' trip to the region serving them
//! and, for a retried transaction, the time before
//! its answered attempt began. The parts of an answered request add up to
//! its latency exactly. Answered requests' rows are added up per class by
//! latency bucket (an eighth of an octave wide), so at the end the parts'
//! means come out both over every request and over the slowest 1%.

use sim_engine::SimDuration;

use crate::config::{ClassConfig, DelayOf, Op};
use crate::results::{Breakdown, Component, Part};
use crate::tier::TierId;

/// Latency buckets per octave (as a shift: 8).
const SUB_BITS: u32 = 3;
/// No component: the class never spends time on that part of that tier.
const NONE: u16 = u16::MAX;

/// The latency bucket of `ns`: octave and the next three bits.
#[inline(always)]
fn bucket(ns: u64) -> usize {
    let ns = ns.max(1 << SUB_BITS);
    let octave = 63 - ns.leading_zeros();
    let sub = (ns >> (octave - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    (((octave - SUB_BITS) << SUB_BITS) as u64 + sub) as usize
}

/// The lowest and the first value past bucket `b`, ns.
#[cfg(test)]
fn bucket_bounds(b: usize) -> (f64, f64) {
    let octave = (b >> SUB_BITS) as i32 + SUB_BITS as i32;
    let sub = (b & ((1 << SUB_BITS) - 1)) as f64;
    let step = 2f64.powi(octave - SUB_BITS as i32);
    let lo = 2f64.powi(octave) + sub * step;
    (lo, lo + step)
}

/// How many requests bucket `b`'s integer sums take before they could
/// overflow: each part of a request in it is below 2^(octave + 1) ns.
fn bucket_room(b: usize) -> u64 {
    let octave = (b >> SUB_BITS) as u32 + SUB_BITS;
    1u64 << (63 - octave).min(40)
}

/// The parts a step spends time on, per op: (tier, part).
fn parts_of(op: &Op, mut add: impl FnMut(Option<TierId>, Part)) {
    use Part::*;
    let mut tier = |t: TierId, parts: &[Part]| parts.iter().for_each(|&p| add(Some(t), p));
    match op {
        Op::Station { tier: t, .. } => tier(t.id, &[Queue, Service]),
        // Admission to an instance, then its cores (`Op::Cpu` runs on the
        // instance its class entered).
        Op::ApiEnter { tier: t } => tier(t.id, &[Queue, Service]),
        Op::Cdn { tier: t } => tier(t.id, &[Service, Network]),
        Op::Call { tier: t } => tier(t.id, &[Service]),
        Op::CacheGet { tier: t, .. } | Op::CacheSet { tier: t } => {
            tier(t.id, &[Queue, Service, Network])
        }
        Op::Db { tier: t, .. } => tier(t.id, &[PoolWait, Queue, Service, Network]),
        Op::RemoteDb { local, .. } => tier(local.id, &[PoolWait, Queue, Service, Network]),
        Op::CrossToPrimary { tier: t, .. } => tier(*t, &[Network]),
        Op::Delay { of, .. } => match *of {
            DelayOf::Tier(t) => tier(t, &[Network]),
            DelayOf::Route => add(None, Delay),
            DelayOf::Users => add(None, Network),
        },
        Op::Jump { .. }
        | Op::Branch { .. }
        | Op::Route { .. }
        | Op::Cpu { .. }
        | Op::Enqueue { .. }
        | Op::End => {}
    }
}

/// One class's components and what its answered requests spent on each.
struct ClassTally {
    /// Per component: (tier, part); index = position.
    components: Vec<Component>,
    /// The component of retries, if the class retries.
    retry: Option<usize>,
    /// Per latency bucket: answered requests.
    counts: Vec<u64>,
    /// Per latency bucket, per component: ns summed since the bucket last
    /// spilled into `spilled` (`components.len()` per bucket).
    sums: Vec<u64>,
    spilled: Vec<f64>,
    /// Per latency bucket: requests until its sums spill.
    room: Vec<u64>,
}

impl ClassTally {
    /// The class's components in route order (`slots` gets, per tier and
    /// part, its index), retries last.
    fn new(cfg: &ClassConfig, tiers: usize, slots: &mut [u16]) -> Self {
        let mut components: Vec<Component> = Vec::new();
        let mut slot = |tier: Option<TierId>, part: Part| {
            let c = Component { tier, part };
            if components.contains(&c) {
                return;
            }
            if let Some(t) = tier {
                slots[t as usize * PARTS + part as usize] = components.len() as u16;
            }
            components.push(c);
        };
        for op in &cfg.program {
            parts_of(op, &mut slot);
        }
        let retry = (cfg.client.retries > 0).then(|| {
            components.push(Component {
                tier: None,
                part: Part::Retry,
            });
            components.len() - 1
        });
        debug_assert!(slots.len() == tiers * PARTS);
        ClassTally {
            components,
            retry,
            counts: Vec::new(),
            sums: Vec::new(),
            spilled: Vec::new(),
            room: Vec::new(),
        }
    }

    fn width(&self) -> usize {
        self.components.len()
    }

    /// Adds an answered request's row, leaving it zero.
    #[inline]
    fn add(&mut self, latency: SimDuration, row: &mut [u64]) {
        let b = bucket(latency.as_nanos());
        let k = row.len();
        if b >= self.counts.len() {
            self.grow(b);
        }
        self.counts[b] += 1;
        let sums = &mut self.sums[b * k..(b + 1) * k];
        for i in 0..k {
            sums[i] += std::mem::take(&mut row[i]);
        }
        self.room[b] -= 1;
        if self.room[b] == 0 {
            self.spill(b);
        }
    }

    #[cold]
    fn grow(&mut self, b: usize) {
        let k = self.width();
        let from = self.counts.len();
        self.counts.resize(b + 1, 0);
        self.sums.resize((b + 1) * k, 0);
        self.spilled.resize((b + 1) * k, 0.0);
        self.room.extend((from..=b).map(bucket_room));
    }

    /// Moves bucket `b`'s integer sums into its floating-point ones.
    #[cold]
    fn spill(&mut self, b: usize) {
        let k = self.width();
        for (f, s) in self.spilled[b * k..(b + 1) * k]
            .iter_mut()
            .zip(&mut self.sums[b * k..(b + 1) * k])
        {
            *f += *s as f64;
            *s = 0;
        }
        self.room[b] = bucket_room(b);
    }

    /// The means over every answered request and over the slowest 1%.
    fn finish(mut self) -> Breakdown {
        for b in 0..self.counts.len() {
            self.spill(b);
        }
        let k = self.width();
        let n: u64 = self.counts.iter().sum();
        let sums = &self.spilled;
        let mut total = vec![0.0; k];
        for b in 0..self.counts.len() {
            for (t, s) in total.iter_mut().zip(&sums[b * k..(b + 1) * k]) {
                *t += s;
            }
        }
        // The slowest 1%: whole buckets from the top, and the share of the
        // bucket the cut falls in that lies above it (uniform within it).
        let want = n as f64 * 0.01;
        let mut tail = vec![0.0; k];
        let mut taken = 0.0;
        for b in (0..self.counts.len()).rev() {
            if taken >= want || n == 0 {
                break;
            }
            let c = self.counts[b] as f64;
            if c == 0.0 {
                continue;
            }
            let w = ((want - taken) / c).min(1.0);
            taken += w * c;
            for (t, s) in tail.iter_mut().zip(&sums[b * k..(b + 1) * k]) {
                *t += w * s;
            }
        }
        let ms = |ns: f64, of: f64| if of > 0.0 { ns / of / 1e6 } else { f64::NAN };
        Breakdown {
            components: self.components,
            requests: n,
            mean_ms: total.iter().map(|&t| ms(t, n as f64)).collect(),
            tail_mean_ms: tail.iter().map(|&t| ms(t, taken)).collect(),
        }
    }
}

/// The parts of a tier's slots (`Part as usize` below this).
const PARTS: usize = 4;

/// Whether a route of `classes` visits tier `tier` (an API it enters, a
/// tier a step serves it at; not a network trip alone).
pub(super) fn visited(classes: &[ClassConfig], tier: TierId) -> bool {
    classes.iter().flat_map(|c| &c.program).any(|op| match op {
        Op::Station { tier: t, .. } => t.id == tier,
        Op::Cdn { tier: t } => t.id == tier,
        Op::Call { tier: t } => t.id == tier,
        Op::RemoteDb { local, .. } => local.id == tier,
        Op::ApiEnter { tier: t } => t.id == tier,
        Op::CacheGet { tier: t, .. } | Op::CacheSet { tier: t } => t.id == tier,
        Op::Db { tier: t, .. } => t.id == tier,
        _ => false,
    })
}

/// The rows of the attempts alive and the classes' tallies.
pub(super) struct Breakdowns {
    classes: Vec<ClassTally>,
    /// Per class, per tier, per tier part: its component, or [`NONE`]
    /// (`tiers × PARTS` per class).
    slots: Vec<u16>,
    /// Per class: the components of its `delay` steps and of its users'
    /// trips, or [`NONE`].
    delay: Vec<[u16; 2]>,
    per_class: usize,
    /// Components per row (the widest class's).
    width: usize,
    /// Per attempt id: its parts so far, ns.
    rows: Vec<u64>,
}

impl Breakdowns {
    pub(super) fn new(classes: &[ClassConfig], tiers: usize) -> Self {
        let per_class = tiers * PARTS;
        let mut slots = vec![NONE; classes.len() * per_class];
        let tallies: Vec<ClassTally> = classes
            .iter()
            .zip(slots.chunks_mut(per_class.max(1)))
            .map(|(c, s)| ClassTally::new(c, tiers, s))
            .collect();
        let delay = tallies
            .iter()
            .map(|t| {
                let find = |part| {
                    let c = Component { tier: None, part };
                    t.components
                        .iter()
                        .position(|&x| x == c)
                        .map_or(NONE, |i| i as u16)
                };
                [find(Part::Delay), find(Part::Network)]
            })
            .collect();
        let width = tallies.iter().map(ClassTally::width).max().unwrap_or(0);
        Breakdowns {
            classes: tallies,
            slots,
            delay,
            per_class,
            width,
            rows: Vec::new(),
        }
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }

    /// Makes room for attempt `req`'s row (zero, as every free row is).
    #[inline]
    pub(super) fn start(&mut self, req: u32) {
        let end = (req as usize + 1) * self.width;
        if end > self.rows.len() {
            self.rows.resize(end, 0);
        }
    }

    /// Attempt `req` of `class`, a retry, began `before` after its
    /// transaction.
    #[inline]
    pub(super) fn retried(&mut self, req: u32, class: usize, before: SimDuration) {
        if let Some(r) = self.classes[class].retry {
            self.rows[req as usize * self.width + r] = before.as_nanos();
        }
    }

    /// Attempt `req` of `class` spent, at tier `tier`, each duration on its
    /// part.
    #[inline(always)]
    pub(super) fn spend<const N: usize>(
        &mut self,
        req: u32,
        class: usize,
        tier: TierId,
        parts: [(Part, SimDuration); N],
    ) {
        let at = class * self.per_class + tier as usize * PARTS;
        let slots = &self.slots[at..at + PARTS];
        let w = self.width;
        let row = &mut self.rows[req as usize * w..(req as usize + 1) * w];
        for (part, d) in parts {
            let k = slots[part as usize];
            debug_assert!(k != NONE, "a part off the class's route");
            row[k as usize] += d.as_nanos();
        }
    }

    /// Attempt `req` of `class` spent `d` in a delay op.
    #[inline(always)]
    pub(super) fn delay(&mut self, req: u32, class: usize, of: DelayOf, d: SimDuration) {
        let k = match of {
            DelayOf::Route => self.delay[class][0],
            DelayOf::Users => self.delay[class][1],
            DelayOf::Tier(t) => return self.spend(req, class, t, [(Part::Network, d)]),
        };
        debug_assert!(k != NONE, "a delay off the class's route");
        self.rows[req as usize * self.width + k as usize] += d.as_nanos();
    }

    /// Attempt `req` of `class` ended: answered after `latency` and counted
    /// in the statistics, or not (failed, abandoned, not measured). Its row
    /// is left zero for the next attempt to take its id.
    #[inline]
    pub(super) fn end(&mut self, req: u32, class: usize, latency: Option<SimDuration>) {
        let tally = &mut self.classes[class];
        let k = tally.width();
        let at = req as usize * self.width;
        let row = &mut self.rows[at..at + k];
        match latency {
            Some(latency) => {
                debug_assert_eq!(
                    row.iter().sum::<u64>(),
                    latency.as_nanos(),
                    "the parts of a request add up to its latency"
                );
                tally.add(latency, row);
            }
            None => row.fill(0),
        }
    }

    pub(super) fn finish(self) -> Vec<Breakdown> {
        self.classes.into_iter().map(ClassTally::finish).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_an_eighth_of_an_octave_and_contiguous() {
        for b in 0..400 {
            let (lo, hi) = bucket_bounds(b);
            assert_eq!(bucket(lo as u64), b);
            assert_eq!(bucket(hi as u64 - 1), b);
            assert_eq!(bucket(hi as u64), b + 1);
            assert!(hi / lo <= 1.0 + 1.0 / 8.0 + 1e-12);
        }
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(u64::MAX), bucket(1 << 63) + 7);
    }
}

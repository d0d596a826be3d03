//! The near-future part of the event list: a calendar of time slots.
//!
//! ```text
//!   slot width 2^shift ns, SLOTS slots in a ring ─ covers [base, base + SLOTS) in slot numbers
//!
//!   heads: ┌───┬───┬───┬───┬───┬─ ─ ─┐   each slot: its events as a list sorted by key
//!          │ · │ ● │   │ ● │   │     │   occupied: one bit per slot, to skip empty ones
//!          └───┴─┬─┴───┴─┬─┴───┴─ ─ ─┘
//!                ▼       ▼
//!              (k1)    (k4)→(k7)
//! ```
//!
//! Most events of a web-stack model are due soon (a CPU burst, a cache or
//! database call): they fall into a slot near the front, usually an empty
//! one, so scheduling is a shift, a link and a bit set, and taking the
//! earliest is an unlink and a scan of the occupied bits. An event beyond the
//! ring (or before its base, which only a stand-alone queue can ask for) is
//! refused and the caller keeps it elsewhere (the heap of
//! [`crate::queue::EventQueue`]).
//!
//! Events are ordered by the same `u128` key as the heap, so where an event
//! is kept never changes the order of delivery. The slot width only changes
//! speed: it adapts to the density of events (finer when slots fill up,
//! coarser when too many events fall beyond the ring), and an adaptation
//! moves the events to their new slots, keys unchanged. With fewer than
//! `FEW` events pending in the whole queue (an M/M/10 has about ten) a heap
//! is as cheap, and the calendar refuses everything until more are pending;
//! what it holds drains as it comes due.

/// Slots in the ring (a power of two).
const SLOTS: usize = 4096;
const WORDS: usize = SLOTS / 64;
const NIL: u32 = u32::MAX;
/// Stands for "no event" where a key is compared (an empty heap's root, no
/// lane event, an empty calendar): above every real key (a real key would
/// need both time and sequence number at `u64::MAX`).
pub(crate) const EMPTY: u128 = u128::MAX;

/// Initial slot width: 2^17 ns ≈ 131 µs.
const INITIAL_SHIFT: u32 = 17;
const MAX_SHIFT: u32 = 40;
/// Schedulings (sequence numbers) per adaptation check.
pub(crate) const PERIOD: u64 = 8192;
/// Below this many pending events (all of the queue) the calendar refuses
/// new events: a heap that small is as cheap.
const FEW: usize = 32;

struct Node<E> {
    key: u128,
    next: u32,
    event: Option<E>,
}

pub(crate) struct Wheel<E> {
    shift: u32,
    /// Takes events (else refuses all: few events pending).
    on: bool,
    /// Slot number (time >> shift) of the latest time taken from the whole
    /// queue: no event kept here is earlier.
    base: u64,
    /// The first node of each slot's list (`NIL` if empty). A fixed-size
    /// array, so a slot number masked to the ring needs no bounds check.
    heads: Box<[u32; SLOTS]>,
    occupied: [u64; WORDS],
    nodes: Vec<Node<E>>,
    free: u32,
    len: usize,
    /// The smallest key here (EMPTY when empty) and its slot.
    top: u128,
    top_slot: usize,
    // Adaptation counters over the current period.
    /// Nodes passed over to find a place in a sorted slot.
    walked: u32,
    /// Events refused for being beyond the ring.
    beyond: u32,
    /// Bitmap words read to find the next occupied slot.
    words: u32,
}

impl<E> Wheel<E> {
    pub(crate) fn new() -> Self {
        Wheel {
            shift: INITIAL_SHIFT,
            on: false,
            base: 0,
            heads: Box::new([NIL; SLOTS]),
            occupied: [0; WORDS],
            nodes: Vec::new(),
            free: NIL,
            len: 0,
            top: EMPTY,
            top_slot: 0,
            walked: 0,
            beyond: 0,
            words: 0,
        }
    }

    /// The smallest key kept here, `EMPTY` if none.
    #[inline]
    pub(crate) fn top(&self) -> u128 {
        self.top
    }

    /// Takes events (else every insert is refused).
    #[inline]
    pub(crate) fn on(&self) -> bool {
        self.on
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The queue delivered an event at `time` (ns): nothing earlier will be
    /// kept here any more.
    #[inline]
    pub(crate) fn advance(&mut self, time: u64) {
        // A select, not a branch: whether a pop crosses into a new slot is
        // as good as random.
        self.base = self.base.max(time >> self.shift);
    }

    /// Keeps `event` under `key` (its time is `key >> 64`), or gives it back
    /// when its slot lies outside the ring.
    #[inline(always)]
    pub(crate) fn insert(&mut self, key: u128, event: E) -> Result<(), E> {
        let s = ((key >> 64) as u64) >> self.shift;
        let ahead = s.wrapping_sub(self.base);
        if ahead >= SLOTS as u64 {
            if s >= self.base {
                self.beyond += 1;
            }
            return Err(event);
        }
        let slot = (s as usize) & (SLOTS - 1);
        let node = self.alloc(key, event);
        let head = self.heads[slot];
        if head == NIL || key < self.node(head).key {
            self.node_mut(node).next = head;
            self.heads[slot] = node;
            self.occupied[slot / 64] |= 1 << (slot % 64);
        } else {
            self.link_after(head, node, key);
        }
        self.len += 1;
        if key < self.top {
            self.top = key;
            self.top_slot = slot;
        }
        Ok(())
    }

    /// Links `node` into the sorted list that starts at `head`, after the
    /// head (whose key is smaller).
    #[inline(never)]
    fn link_after(&mut self, head: u32, node: u32, key: u128) {
        let mut at = head;
        loop {
            self.walked += 1;
            let next = self.node(at).next;
            if next == NIL || key < self.node(next).key {
                self.node_mut(node).next = next;
                self.node_mut(at).next = node;
                return;
            }
            at = next;
        }
    }

    /// Node `i`, which the caller got from a list, the free list or
    /// `heads`: every such id names a node (nodes are never removed but by
    /// `clear`, which empties every list too).
    #[inline(always)]
    fn node(&self, i: u32) -> &Node<E> {
        debug_assert!((i as usize) < self.nodes.len());
        // SAFETY: see above; the hot path of every event goes through here,
        // where a bounds check per access adds up.
        unsafe { self.nodes.get_unchecked(i as usize) }
    }

    #[inline(always)]
    fn node_mut(&mut self, i: u32) -> &mut Node<E> {
        debug_assert!((i as usize) < self.nodes.len());
        // SAFETY: as in `node`.
        unsafe { self.nodes.get_unchecked_mut(i as usize) }
    }

    #[inline(always)]
    fn alloc(&mut self, key: u128, event: E) -> u32 {
        if self.free != NIL {
            let i = self.free;
            let n = self.node_mut(i);
            let next = n.next;
            n.key = key;
            n.event = Some(event);
            self.free = next;
            i
        } else {
            self.nodes.push(Node {
                key,
                next: NIL,
                event: Some(event),
            });
            (self.nodes.len() - 1) as u32
        }
    }

    /// Takes the event with the smallest key; there must be one.
    #[inline]
    pub(crate) fn pop(&mut self) -> (u128, E) {
        // (Masked: `top_slot` is a slot number, and the mask spares the
        // bounds checks.)
        let slot = self.top_slot & (SLOTS - 1);
        let i = self.heads[slot];
        let free = self.free;
        let n = self.node_mut(i);
        let (key, next) = (n.key, n.next);
        let event = n.event.take();
        debug_assert!(event.is_some(), "the top slot holds an event");
        // SAFETY: a node in a slot's list holds an event (`alloc` puts one
        // in; only this pop and `reshape` take it, unlinking the node).
        let event = unsafe { event.unwrap_unchecked() };
        n.next = free;
        self.free = i;
        self.len -= 1;
        self.heads[slot] = next;
        if next != NIL {
            self.top = self.node(next).key;
        } else {
            self.occupied[slot / 64] &= !(1 << (slot % 64));
            self.find_top(slot);
        }
        (key, event)
    }

    /// Sets `top` to the head of the first occupied slot at or after `from`
    /// (ring order; every event lies within one turn of the ring).
    fn find_top(&mut self, from: usize) {
        if self.len == 0 {
            self.top = EMPTY;
            return;
        }
        let mut w = from / 64;
        // Bits of the first word at or after `from`.
        let mut bits = self.occupied[w] & (u64::MAX << (from % 64));
        loop {
            self.words += 1;
            if bits != 0 {
                let slot = (w * 64 + bits.trailing_zeros() as usize) & (SLOTS - 1);
                self.top_slot = slot;
                self.top = self.node(self.heads[slot]).key;
                return;
            }
            w = (w + 1) % WORDS;
            bits = self.occupied[w];
        }
    }

    /// Once per period of `PERIOD` schedulings (the caller counts), with `pending` events in
    /// the whole queue: on or off by the number pending, then a finer slot
    /// width when events share slots (sorted insertion walks), a coarser one
    /// when many events fall beyond the ring or occupied slots are far
    /// apart. Events that no longer fit in the ring go to `spill`.
    pub(crate) fn adapt(&mut self, pending: usize, spill: impl FnMut(u128, E)) {
        let period = PERIOD as u32;
        let (walked, beyond, words) = (self.walked, self.beyond, self.words);
        self.walked = 0;
        self.beyond = 0;
        self.words = 0;
        self.on = pending >= FEW;
        if !self.on {
            // Its events drain as they come due; none are added.
            return;
        }
        // Finer when insertions walk lists (two nodes each on average), or
        // when a few share slots while occupied slots lie close together
        // (under one bitmap word read per pop) and hardly any event falls
        // beyond the ring: an empty slot is then the rule, and the branches
        // on whether a slot is empty predict well.
        let crowded =
            walked > 2 * period || (walked > period / 16 && words < period && beyond < period / 16);
        if crowded && self.shift > 0 {
            self.reshape(self.shift - 1, spill);
        } else if walked < period / 2
            && (beyond > period / 4 || words > 4 * period)
            && self.shift < MAX_SHIFT
        {
            self.reshape(self.shift + 1, spill);
        }
    }

    /// Moves every event to its slot under a new width; those that no longer
    /// fit in the ring go to `spill`.
    fn reshape(&mut self, shift: u32, mut spill: impl FnMut(u128, E)) {
        let mut moved: Vec<(u128, E)> = Vec::with_capacity(self.len);
        for slot in 0..SLOTS {
            let mut i = self.heads[slot];
            while i != NIL {
                let n = &mut self.nodes[i as usize];
                moved.push((n.key, n.event.take().expect("linked nodes hold events")));
                i = n.next;
            }
        }
        // The base keeps its time: the start of its old slot.
        let base_time = self.base << self.shift;
        self.shift = shift;
        self.base = base_time >> shift;
        self.clear();
        for (key, event) in moved {
            if let Err(event) = self.insert(key, event) {
                spill(key, event);
            }
        }
        self.walked = 0;
        self.beyond = 0;
    }

    /// Drops every event; the slot width stays.
    pub(crate) fn clear(&mut self) {
        self.heads.fill(NIL);
        self.occupied = [0; WORDS];
        self.nodes.clear();
        self.free = NIL;
        self.len = 0;
        self.top = EMPTY;
    }

    #[cfg(test)]
    pub(crate) fn shift(&self) -> u32 {
        self.shift
    }
}

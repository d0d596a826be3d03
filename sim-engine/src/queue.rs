//! The future event list.
//!
//! A 4-ary min-heap keyed on `(time, sequence number)`. The sequence number is
//! assigned at scheduling, so events at the same instant come out in the order
//! they were scheduled (FIFO) and a run is exactly reproducible. Entries hold
//! the event by value: with a small `Copy` event enum nothing is boxed and the
//! heap's buffer is the only allocation, reused for the whole run.
//!
//! Why 4-ary: simulation does about as many pops as pushes, and a pop sifts
//! down the whole height. Four children per node halve the height. Keys live
//! in their own array (`time << 64 | seq` as one `u128`), so the four
//! children's keys of a node share one cache line and compare in one step;
//! events move alongside in a parallel array.

use std::ptr;

use crate::time::SimTime;

const ARITY: usize = 4;

/// Pending events ordered by `(time, sequence number)`.
pub struct EventQueue<E> {
    /// `time << 64 | seq` of each entry: one comparison orders by time, then
    /// FIFO. Heap-ordered; `events[i]` belongs to `keys[i]`.
    keys: Vec<u128>,
    events: Vec<E>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(64)
    }

    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            keys: Vec::with_capacity(capacity),
            events: Vec::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`. Among events with equal times, earlier calls
    /// are delivered first.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let k = (time.as_nanos() as u128) << 64 | self.next_seq as u128;
        self.next_seq += 1;
        let mut hole = self.keys.len();
        self.keys.push(k);
        self.events.push(event);
        // SAFETY: `hole` and every parent index are below `len` of both
        // vectors (pushed together). The event at `hole` is read out once and
        // written back once; in between only bitwise moves of other entries
        // into the hole happen, and nothing can panic.
        unsafe {
            let keys = self.keys.as_mut_ptr();
            let events = self.events.as_mut_ptr();
            let moving = ptr::read(events.add(hole));
            while hole > 0 {
                let parent = (hole - 1) / ARITY;
                let pk = *keys.add(parent);
                if pk <= k {
                    break;
                }
                *keys.add(hole) = pk;
                ptr::copy_nonoverlapping(events.add(parent), events.add(hole), 1);
                hole = parent;
            }
            *keys.add(hole) = k;
            ptr::write(events.add(hole), moving);
        }
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let len = self.keys.len();
        if len == 0 {
            return None;
        }
        let n = len - 1;
        // SAFETY: indices stay below `len`. The root event is read out (the
        // caller owns it), the last event is read out and written into the
        // final hole, and `set_len(n)` drops the duplicated last slot without
        // dropping it. Between the reads and the write only bitwise moves
        // happen and nothing can panic.
        unsafe {
            let keys = self.keys.as_mut_ptr();
            let events = self.events.as_mut_ptr();
            let root_key = *keys;
            let root = ptr::read(events);
            if n > 0 {
                let k = *keys.add(n);
                let last = ptr::read(events.add(n));
                let mut hole = 0;
                loop {
                    let first = hole * ARITY + 1;
                    if first >= n {
                        break;
                    }
                    let (best, best_key) = if first + ARITY <= n {
                        // All four children exist: a branch-free tournament
                        // (keys are unique, so the minimum is too). Which
                        // child wins is data-dependent and unpredictable; a
                        // compare-and-branch chain here mispredicts about
                        // once per level.
                        min_of_four(keys.add(first), first)
                    } else {
                        let mut best = first;
                        let mut best_key = *keys.add(first);
                        let mut c = first + 1;
                        while c < n {
                            let ck = *keys.add(c);
                            if ck < best_key {
                                best = c;
                                best_key = ck;
                            }
                            c += 1;
                        }
                        (best, best_key)
                    };
                    if best_key >= k {
                        break;
                    }
                    *keys.add(hole) = best_key;
                    ptr::copy_nonoverlapping(events.add(best), events.add(hole), 1);
                    hole = best;
                }
                *keys.add(hole) = k;
                ptr::write(events.add(hole), last);
            }
            self.keys.set_len(n);
            self.events.set_len(n);
            Some((SimTime::from_nanos((root_key >> 64) as u64), root))
        }
    }

    /// The time of the earliest pending event.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.keys
            .first()
            .map(|k| SimTime::from_nanos((k >> 64) as u64))
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Drops every pending event; sequence numbers keep increasing so ordering
    /// stays total across a clear.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.events.clear();
    }
}

/// The index (`base` + 0..4) and key of the smallest of the four keys at
/// `p`, chosen with selects rather than branches.
///
/// # Safety
/// `p` must point to four readable keys.
#[inline(always)]
unsafe fn min_of_four(p: *const u128, base: usize) -> (usize, u128) {
    // SAFETY: the caller guarantees four keys at `p`.
    let (k0, k1, k2, k3) = unsafe { (*p, *p.add(1), *p.add(2), *p.add(3)) };
    let l = k1 < k0;
    let (a, ia) = (if l { k1 } else { k0 }, l as usize);
    let r = k3 < k2;
    let (b, ib) = (if r { k3 } else { k2 }, 2 + r as usize);
    let right = b < a;
    let (key, i) = if right { (b, ib) } else { (a, ia) };
    (base + i, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::StreamRng;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        for (t, e) in [(5, 'a'), (1, 'b'), (3, 'c'), (2, 'd')] {
            q.push(SimTime::from_nanos(t), e);
        }
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'c', 'a']);
    }

    #[test]
    fn equal_times_are_fifo() {
        let mut q = EventQueue::new();
        let t = SimTime::from_nanos(10);
        for i in 0..1000 {
            q.push(t, i);
            // Interleave other times so the heap really reorders entries.
            q.push(SimTime::from_nanos(20 + (i % 7) as u64), -1);
        }
        let mut seen = Vec::new();
        while let Some((time, e)) = q.pop() {
            if time == t {
                seen.push(e);
            }
        }
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn matches_a_sorted_reference_under_random_interleaving() {
        // Random pushes and pops against a stable sort by (time, push order).
        let mut rng = StreamRng::new(1, 0, "queue");
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for _ in 0..20_000 {
            if rng.below(3) < 2 || reference.is_empty() {
                let t = now + rng.below(50);
                q.push(SimTime::from_nanos(t), seq);
                reference.push((t, seq));
                seq += 1;
            } else {
                let (i, _) = reference
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, r)| (r.0, r.1))
                    .unwrap();
                let want = reference.swap_remove(i);
                let (t, e) = q.pop().unwrap();
                assert_eq!((t.as_nanos(), e), want);
                now = t.as_nanos();
            }
        }
        assert_eq!(q.len(), reference.len());
    }

    #[test]
    fn owned_events_are_neither_leaked_nor_dropped_twice() {
        // Events with destructors (Strings) through many pushes and pops: Miri
        // or a double free would catch a bad move; here the contents must
        // survive intact and in order.
        let mut q = EventQueue::new();
        let mut rng = StreamRng::new(2, 0, "owned");
        for i in 0..5_000u64 {
            q.push(SimTime::from_nanos(rng.below(1_000)), format!("event {i}"));
            if i % 3 == 0 {
                let (_, s) = q.pop().unwrap();
                assert!(s.starts_with("event "));
            }
        }
        let mut last = 0;
        while let Some((t, s)) = q.pop() {
            assert!(t.as_nanos() >= last);
            assert!(s.starts_with("event "));
            last = t.as_nanos();
        }
    }

    #[test]
    fn far_apart_times_and_many_ties() {
        // Times spanning the whole u64 range, and bursts of equal times.
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        for (i, t) in [0u64, u64::MAX, 1, 1 << 40, 1 << 40, 7, u64::MAX, 1 << 63]
            .iter()
            .enumerate()
        {
            q.push(SimTime::from_nanos(*t), i);
            expected.push((*t, i));
        }
        expected.sort();
        let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.as_nanos(), e))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn peek_and_len() {
        let mut q = EventQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.peek_time(), None);
        q.push(SimTime::from_nanos(7), ());
        q.push(SimTime::from_nanos(4), ());
        assert_eq!(q.len(), 2);
        assert_eq!(q.peek_time(), Some(SimTime::from_nanos(4)));
        q.clear();
        assert!(q.is_empty());
    }
}

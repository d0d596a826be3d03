//! The yardstick for the kernel: the M/M/c reference written by hand as a
//! plain simulation would be, with no engine. A `BinaryHeap` keyed by
//! (time, sequence number) so ties resolve first in first out, two
//! xoshiro256++ generators from `rand_xoshiro`, exponential draws from
//! `rand_distr`, and the same statistics the kernel's run keeps (an HDR
//! latency histogram, time-weighted busy servers and queue length), so the
//! two differ only in the loop, the event queue and the draws.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand_core::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;
use sim_engine::{LatencyHistogram, SimDuration, SimTime, TimeWeighted};

use crate::{LAMBDA, MU, MmcOutcome, SERVERS};

/// An event: 0 is an arrival; any other value is a departure of the
/// customer who arrived at that time (in nanoseconds, plus one).
type Entry = Reverse<(u64, u64, u64)>;

/// Runs the hand-written M/M/c: `warmup` departures discarded, then
/// `measured` departures recorded. Same model as [`crate::mmc_reference`];
/// different draws (its own generators), so the same statistics only in
/// distribution.
pub fn hand_mmc(warmup: u64, measured: u64, seed: u64) -> MmcOutcome {
    let mut arrivals = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut service = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15);
    let draw = |rng: &mut Xoshiro256PlusPlus, mean: f64| -> u64 {
        let x: f64 = Exp1.sample(rng);
        SimDuration::from_secs_f64(x * mean).as_nanos()
    };
    let mut heap: BinaryHeap<Entry> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<Entry>, at: u64, what: u64| {
        heap.push(Reverse((at, seq, what)));
        seq += 1;
    };
    push(&mut heap, 0, 0);
    let (mut busy, mut departures, mut events, mut peak_waiting) = (0u32, 0u64, 0u64, 0usize);
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let mut busy_tw = TimeWeighted::new(SimTime::ZERO, 0.0);
    let mut queue_tw = TimeWeighted::new(SimTime::ZERO, 0.0);
    let mut sojourn = LatencyHistogram::new();
    let stop_after = warmup + measured;
    let mut now = 0u64;
    while let Some(Reverse((at, _, what))) = heap.pop() {
        now = at;
        events += 1;
        let t = SimTime::from_nanos(now);
        if what == 0 {
            let gap = draw(&mut arrivals, 1.0 / LAMBDA);
            push(&mut heap, now + gap, 0);
            if busy < SERVERS {
                busy += 1;
                busy_tw.set(t, busy as f64);
                let s = draw(&mut service, 1.0 / MU);
                push(&mut heap, now + s, now + 1);
            } else {
                waiting.push_back(now);
                peak_waiting = peak_waiting.max(waiting.capacity());
                queue_tw.set(t, waiting.len() as f64);
            }
        } else {
            let arrived = what - 1;
            departures += 1;
            if departures > warmup {
                sojourn.record(SimDuration::from_nanos(now - arrived));
            } else if departures == warmup {
                busy_tw.reset(t);
                queue_tw.reset(t);
            }
            if let Some(next) = waiting.pop_front() {
                queue_tw.set(t, waiting.len() as f64);
                let s = draw(&mut service, 1.0 / MU);
                push(&mut heap, now + s, next + 1);
            } else {
                busy -= 1;
                busy_tw.set(t, busy as f64);
            }
            if departures == stop_after {
                break;
            }
        }
    }
    let end = SimTime::from_nanos(now);
    MmcOutcome {
        customers: measured,
        events,
        mean_sojourn_s: sojourn.mean_ms() / 1e3,
        p99_sojourn_s: sojourn.quantile_ms(0.99) / 1e3,
        utilization: busy_tw.mean(end) / SERVERS as f64,
        mean_queue_length: queue_tw.mean(end),
        peak_waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_loop_simulates_the_same_queue() {
        // Erlang C for M/M/10 at ρ = 0.9: mean sojourn 1.66873 s.
        let o = hand_mmc(20_000, 400_000, 1);
        assert!((o.mean_sojourn_s - 1.66873).abs() < 0.05, "{o:?}");
        assert!((o.utilization - 0.9).abs() < 0.01, "{o:?}");
    }
}

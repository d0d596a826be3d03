//! Benchmark workloads, shared by the criterion benches and the memory probe.
//!
//! The M/M/c reference: Poisson arrivals (λ = 9/s) into c = 10 FCFS servers
//! with exponential service (μ = 1/s each), built from the kernel pieces the
//! models use: the event queue and run loop, named streams, an HDR latency
//! histogram and time-weighted accumulators, arrivals in an event lane as the
//! platform schedules them. A fixed number of departures is discarded as
//! warm-up, then a fixed number measured.

use std::collections::VecDeque;

pub mod hand;
pub use hand::hand_mmc;

use sim_engine::{
    Context, LatencyHistogram, Model, SimDuration, SimTime, Simulation, StreamRng, Streams,
    TimeWeighted, exp1,
};

pub const LAMBDA: f64 = 9.0;
pub const MU: f64 = 1.0;
pub const SERVERS: u32 = 10;

#[derive(Clone, Copy)]
enum Event {
    Arrival,
    /// A server finishes the customer that arrived at this time.
    Departure {
        arrived: SimTime,
    },
}

struct Mmc {
    arrivals: StreamRng,
    service: StreamRng,
    mean_interarrival: f64,
    mean_service: f64,
    busy: u32,
    waiting: VecDeque<SimTime>,
    busy_tw: TimeWeighted,
    queue_tw: TimeWeighted,
    sojourn: LatencyHistogram,
    departures: u64,
    warmup: u64,
    stop_after: u64,
}

impl Mmc {
    #[inline]
    fn start_service(&mut self, arrived: SimTime, ctx: &mut Context<'_, Event>) {
        let s = SimDuration::from_secs_f64(exp1(&mut self.service) * self.mean_service);
        ctx.schedule_in(s, Event::Departure { arrived });
    }
}

impl Model for Mmc {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        match event {
            Event::Arrival => {
                let gap =
                    SimDuration::from_secs_f64(exp1(&mut self.arrivals) * self.mean_interarrival);
                // The next arrival waits in a lane beside the heap, as each
                // class's does in the platform: half the events never sift.
                ctx.schedule_lane_in(0, gap, Event::Arrival);
                if self.busy < SERVERS {
                    self.busy += 1;
                    self.busy_tw.set(now, self.busy as f64);
                    self.start_service(now, ctx);
                } else {
                    self.waiting.push_back(now);
                    self.queue_tw.set(now, self.waiting.len() as f64);
                }
            }
            Event::Departure { arrived } => {
                self.departures += 1;
                if self.departures > self.warmup {
                    self.sojourn.record(now - arrived);
                } else if self.departures == self.warmup {
                    self.busy_tw.reset(now);
                    self.queue_tw.reset(now);
                }
                if let Some(next) = self.waiting.pop_front() {
                    self.queue_tw.set(now, self.waiting.len() as f64);
                    self.start_service(next, ctx);
                } else {
                    self.busy -= 1;
                    self.busy_tw.set(now, self.busy as f64);
                }
                if self.departures == self.stop_after {
                    ctx.stop();
                }
            }
        }
    }
}

/// What a reference run measured.
#[derive(Clone, Debug)]
pub struct MmcOutcome {
    pub customers: u64,
    pub events: u64,
    pub mean_sojourn_s: f64,
    pub p99_sojourn_s: f64,
    pub utilization: f64,
    pub mean_queue_length: f64,
    /// Peak number of pending events: bounded, whatever the customer count.
    pub peak_waiting: usize,
}

/// Runs the M/M/c reference: `warmup` departures discarded, then `measured`
/// departures recorded.
pub fn mmc_reference(warmup: u64, measured: u64, seed: u64) -> MmcOutcome {
    let streams = Streams::new(seed, 0);
    let model = Mmc {
        arrivals: streams.stream("arrivals"),
        service: streams.stream("service"),
        mean_interarrival: 1.0 / LAMBDA,
        mean_service: 1.0 / MU,
        busy: 0,
        waiting: VecDeque::new(),
        busy_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
        queue_tw: TimeWeighted::new(SimTime::ZERO, 0.0),
        sojourn: LatencyHistogram::new(),
        departures: 0,
        warmup,
        stop_after: warmup + measured,
    };
    let mut sim = Simulation::new(model);
    sim.schedule_at(SimTime::ZERO, Event::Arrival);
    let mut peak_waiting = 0;
    // Run in slices so the probe can watch the queue without touching the hot loop.
    while !sim.is_stopped() {
        for _ in 0..100_000 {
            if !sim.step() {
                break;
            }
        }
        peak_waiting = peak_waiting.max(sim.model().waiting.capacity());
    }
    let now = sim.now();
    let events = sim.events_processed();
    let m = sim.into_model();
    MmcOutcome {
        customers: measured,
        events,
        mean_sojourn_s: m.sojourn.mean_ms() / 1e3,
        p99_sojourn_s: m.sojourn.quantile_ms(0.99) / 1e3,
        utilization: m.busy_tw.mean(now) / SERVERS as f64,
        mean_queue_length: m.queue_tw.mean(now),
        peak_waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_run_is_sane() {
        // Loose checks only: the validation suite checks the theory precisely.
        let o = mmc_reference(20_000, 200_000, 1);
        assert_eq!(o.customers, 200_000);
        assert!((o.utilization - 0.9).abs() < 0.02, "{o:?}");
        assert!((o.mean_sojourn_s - 1.6687).abs() < 0.15, "{o:?}");
        assert!(o.events >= 2 * 220_000);
    }
}

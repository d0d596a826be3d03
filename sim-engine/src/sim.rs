//! The run loop.
//!
//! ```text
//!   Simulation<M> ──pop earliest──► M::handle(event, ctx) ──ctx.schedule_*──┐
//!        ▲                                                                  │
//!        └────────────────────── EventQueue<M::Event> ◄──────────────────────┘
//! ```
//!
//! The loop is generic over the model, so `handle` is statically dispatched and
//! inlined; a model's events are one enum matched in `handle`.

use crate::queue::EventQueue;
use crate::time::{SimDuration, SimTime};

/// A model driven by the kernel.
pub trait Model {
    /// The model's event type: keep it a small `Copy` enum carrying ids.
    type Event;

    /// Reacts to `event` at `ctx.now()`, scheduling follow-up events via `ctx`.
    fn handle(&mut self, event: Self::Event, ctx: &mut Context<'_, Self::Event>);
}

/// What a model sees while handling an event: the clock and the event list.
pub struct Context<'a, E> {
    now: SimTime,
    queue: &'a mut EventQueue<E>,
    stop: &'a mut bool,
}

impl<E> Context<'_, E> {
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at absolute time `at`, which must not be in the past.
    #[inline]
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        self.queue.push(at, event);
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// Schedules `event` after `delay` in lane `lane`, which must hold no
    /// other event (see [`EventQueue::push_lane`]): for a stream whose next
    /// event is scheduled only once the previous one has happened. Delivered
    /// exactly as [`Context::schedule_in`] would; it only saves the heap.
    #[inline]
    pub fn schedule_lane_in(&mut self, lane: usize, delay: SimDuration, event: E) {
        self.queue.push_lane(lane, self.now + delay, event);
    }

    /// Ends the run after this event: `run` and `run_until` return.
    pub fn stop(&mut self) {
        *self.stop = true;
    }

    /// Number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// A model together with its clock and event list.
pub struct Simulation<M: Model> {
    model: M,
    queue: EventQueue<M::Event>,
    now: SimTime,
    events: u64,
    stopped: bool,
}

impl<M: Model> Simulation<M> {
    pub fn new(model: M) -> Self {
        Simulation {
            model,
            queue: EventQueue::new(),
            now: SimTime::ZERO,
            events: 0,
            stopped: false,
        }
    }

    /// Schedules an event from outside the model, e.g. the first arrivals.
    pub fn schedule_at(&mut self, at: SimTime, event: M::Event) {
        assert!(at >= self.now, "event scheduled in the past");
        self.queue.push(at, event);
    }

    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn model(&self) -> &M {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    pub fn into_model(self) -> M {
        self.model
    }

    /// Events handled so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    /// Events waiting in the queue.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// True once the model called [`Context::stop`].
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Handles the earliest event. Returns false when there was none or the model
    /// has stopped the run.
    #[inline]
    pub fn step(&mut self) -> bool {
        if self.stopped {
            return false;
        }
        match self.queue.pop() {
            Some((time, event)) => {
                self.dispatch(time, event);
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    fn dispatch(&mut self, time: SimTime, event: M::Event) {
        self.now = time;
        self.events += 1;
        let mut ctx = Context {
            now: time,
            queue: &mut self.queue,
            stop: &mut self.stopped,
        };
        self.model.handle(event, &mut ctx);
    }

    /// Handles every event with a time at or before `until`, then advances the
    /// clock to `until` (unless the model stopped earlier). Events scheduled
    /// exactly at `until` are handled.
    pub fn run_until(&mut self, until: SimTime) {
        while !self.stopped {
            match self.queue.pop_until(until) {
                Some((time, event)) => self.dispatch(time, event),
                None => break,
            }
        }
        if !self.stopped && self.now < until {
            self.now = until;
        }
    }

    /// Handles events until none remain or the model stops the run.
    pub fn run(&mut self) {
        while self.step() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the order events arrive in; a `Spawn` schedules children.
    #[derive(Default)]
    struct Recorder {
        log: Vec<(u64, u32)>,
    }

    #[derive(Clone, Copy)]
    enum Ev {
        Mark(u32),
        Spawn(u32),
        Halt,
    }

    impl Model for Recorder {
        type Event = Ev;
        fn handle(&mut self, event: Ev, ctx: &mut Context<'_, Ev>) {
            match event {
                Ev::Mark(id) => self.log.push((ctx.now().as_nanos(), id)),
                Ev::Spawn(id) => {
                    self.log.push((ctx.now().as_nanos(), id));
                    // Same-time children are delivered after everything already
                    // pending at this instant.
                    ctx.schedule_in(SimDuration::ZERO, Ev::Mark(id + 100));
                    ctx.schedule_in(SimDuration::from_nanos(5), Ev::Mark(id + 200));
                }
                Ev::Halt => ctx.stop(),
            }
        }
    }

    #[test]
    fn run_delivers_in_time_then_fifo_order() {
        let mut sim = Simulation::new(Recorder::default());
        sim.schedule_at(SimTime::from_nanos(10), Ev::Spawn(1));
        sim.schedule_at(SimTime::from_nanos(10), Ev::Mark(2));
        sim.schedule_at(SimTime::from_nanos(3), Ev::Mark(3));
        sim.run();
        assert_eq!(
            sim.model().log,
            vec![(3, 3), (10, 1), (10, 2), (10, 101), (15, 201)]
        );
        assert_eq!(sim.events_processed(), 5);
        assert_eq!(sim.now(), SimTime::from_nanos(15));
    }

    #[test]
    fn run_until_is_inclusive_and_advances_clock() {
        let mut sim = Simulation::new(Recorder::default());
        sim.schedule_at(SimTime::from_nanos(5), Ev::Mark(1));
        sim.schedule_at(SimTime::from_nanos(10), Ev::Mark(2));
        sim.schedule_at(SimTime::from_nanos(11), Ev::Mark(3));
        sim.run_until(SimTime::from_nanos(10));
        assert_eq!(sim.model().log, vec![(5, 1), (10, 2)]);
        assert_eq!(sim.now(), SimTime::from_nanos(10));
        assert_eq!(sim.pending(), 1);
        sim.run_until(SimTime::from_nanos(100));
        assert_eq!(sim.now(), SimTime::from_nanos(100));
        assert_eq!(sim.model().log.len(), 3);
    }

    #[test]
    fn stop_ends_the_run() {
        let mut sim = Simulation::new(Recorder::default());
        sim.schedule_at(SimTime::from_nanos(1), Ev::Mark(1));
        sim.schedule_at(SimTime::from_nanos(2), Ev::Halt);
        sim.schedule_at(SimTime::from_nanos(3), Ev::Mark(3));
        sim.run();
        assert!(sim.is_stopped());
        assert_eq!(sim.model().log, vec![(1, 1)]);
        assert!(!sim.step());
    }
}

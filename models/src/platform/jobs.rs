//! Background jobs: enqueued by requests, run by a worker tier, retried
//! with backoff when a run fails; their latency feeds queue objectives.

use sim_engine::{Context, SimDuration};

use super::{Event, Job, Platform, draw};
use crate::slo::Objective;
use crate::tier::WorkersRef;

impl Platform<'_> {
    pub(super) fn enqueue_job(
        &mut self,
        tier: WorkersRef,
        kind: u16,
        key: u64,
        ctx: &mut Context<'_, Event>,
    ) {
        let queue = self.tiers.workers[tier.index()].cfg.jobs[kind as usize].queue;
        let job = self.jobs.insert(Job {
            tier,
            kind,
            queue,
            enqueued: ctx.now(),
            key,
            run: 0,
            worker: None,
            pending: 0,
            done: false,
        });
        self.dispatch_job(tier, job, true, ctx);
    }

    fn dispatch_job(
        &mut self,
        tier: WorkersRef,
        job: u32,
        first: bool,
        ctx: &mut Context<'_, Event>,
    ) {
        let queue = self.jobs[job].queue;
        let w = &mut self.tiers.workers[tier.index()];
        if let Some(worker) = w.enqueue(job, queue, ctx.now(), first) {
            self.run_job(tier, job, worker, ctx);
        }
    }

    fn run_job(&mut self, tier: WorkersRef, job: u32, worker: u32, ctx: &mut Context<'_, Event>) {
        let wcfg = self.tiers.workers[tier.index()].cfg;
        let j = &mut self.jobs[job];
        j.worker = Some(worker);
        j.run += 1;
        j.pending += 1;
        let d = wcfg.jobs[j.kind as usize]
            .service
            .sample(&mut draw(j.key, j.run as usize));
        ctx.schedule_in(
            SimDuration::from_secs_f64(d),
            Event::JobDone { job, run: j.run },
        );
    }

    pub(super) fn job_done(&mut self, job: u32, run: u16, ctx: &mut Context<'_, Event>) {
        let now = ctx.now();
        let j = &mut self.jobs[job];
        let tier = j.tier;
        j.pending -= 1;
        if j.run != run || j.worker.is_none() {
            // This run died with its worker.
            self.maybe_free_job(job);
            return;
        }
        let worker = j.worker.take().expect("checked");
        let wcfg = self.tiers.workers[tier.index()].cfg;
        let jcfg = &wcfg.jobs[j.kind as usize];
        let mut r = draw(j.key, j.run as usize);
        r.uniform01(); // the service draw's stream position is fixed
        let failed = r.uniform01() < jcfg.failure_probability;
        if failed {
            self.job_failed_run(job, ctx);
        } else {
            let enqueued = self.jobs[job].enqueued;
            self.jobs[job].done = true;
            let w = &mut self.tiers.workers[tier.index()];
            w.record_success(enqueued, now);
            for &s in &w.slos {
                let good = match &self.cfg.slos[s as usize].objective {
                    Objective::QueueLatency { threshold, .. } => now - enqueued <= *threshold,
                    _ => true,
                };
                self.slos[s as usize].record(now, good);
            }
        }
        let w = &mut self.tiers.workers[tier.index()];
        let (next, terminated) = w.finish_on(worker, now);
        if let Some(next) = next {
            self.run_job(tier, next, worker, ctx);
        }
        if terminated {
            self.bill_terminated(tier.id, worker, now);
        }
        self.maybe_free_job(job);
    }

    /// A run of `job` failed: retry after backoff, or give up.
    pub(super) fn job_failed_run(&mut self, job: u32, ctx: &mut Context<'_, Event>) {
        let j = &mut self.jobs[job];
        let w = &mut self.tiers.workers[j.tier.index()];
        let wcfg = w.cfg;
        let jcfg = &wcfg.jobs[j.kind as usize];
        let retry = j.run <= jcfg.retries;
        w.record_failed_run(j.enqueued, ctx.now(), retry);
        if retry {
            j.pending += 1;
            let delay = jcfg.backoff.as_secs_f64() * 2f64.powi(j.run as i32 - 1);
            ctx.schedule_in(SimDuration::from_secs_f64(delay), Event::JobRetry { job });
        } else {
            j.done = true;
            // A dead job misses its queue-latency objectives.
            let now = ctx.now();
            for &s in &w.slos {
                self.slos[s as usize].record(now, false);
            }
        }
    }

    pub(super) fn job_retry(&mut self, job: u32, ctx: &mut Context<'_, Event>) {
        let j = &mut self.jobs[job];
        j.pending -= 1;
        let tier = j.tier;
        self.dispatch_job(tier, job, false, ctx);
    }

    /// Starts queued jobs on worker `unit` until its slots are full.
    pub(super) fn fill_worker(
        &mut self,
        tier: WorkersRef,
        unit: u32,
        ctx: &mut Context<'_, Event>,
    ) {
        while let Some(job) = self.tiers.workers[tier.index()].next_for(unit, ctx.now()) {
            self.run_job(tier, job, unit, ctx);
        }
    }

    /// The jobs running on worker `unit` fail (their worker is gone).
    pub(super) fn fail_jobs_on(
        &mut self,
        tier: WorkersRef,
        unit: u32,
        ctx: &mut Context<'_, Event>,
    ) {
        let running: Vec<u32> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.tier == tier && j.worker == Some(unit) && !j.done)
            .map(|(id, _)| id)
            .collect();
        for job in running {
            // Its pending JobDone is now stale (no worker).
            self.jobs[job].worker = None;
            self.job_failed_run(job, ctx);
        }
    }

    fn maybe_free_job(&mut self, job: u32) {
        let j = &self.jobs[job];
        if j.done && j.pending == 0 {
            self.jobs.free(job);
        }
    }
}

//! A whole sweep run in memory: no directory, no point files, no resume.
//! For callers that hand the results over as values (the Python package);
//! the report is the one `prepare` and `run` make from their point files,
//! since a point record reads back from its JSON unchanged.

use std::time::Instant;

use capsim_models::{RunControl, SweepPlan};
use capsim_output::sweep::SweepReport;

use super::Planned;
use super::files::identity;
use crate::Error;

/// What an in-memory sweep made.
pub struct MemorySweep {
    pub plan: SweepPlan,
    pub report: SweepReport,
    pub wall_seconds: f64,
    pub threads: usize,
}

impl Planned {
    /// Runs every point (refused first if over the budget, unless
    /// `force`). A stop through `control` keeps nothing: the sweep's tables
    /// need every point, so it is an [`Error::Interrupted`] (or
    /// [`Error::Overrun`]).
    pub fn run_in_memory(
        self,
        threads: usize,
        force: bool,
        control: &RunControl,
    ) -> Result<MemorySweep, Error> {
        let n = self.plan.points.len();
        crate::budget::gate(&self.baseline, threads, n as u64, force)?;
        crate::budget::arm(control, force)?;
        let identity = identity(&self.plan);
        let started = Instant::now();
        let records = self.run_points(&identity, threads, &vec![false; n], control, |_, r| r)?;
        let plan = self.plan;
        let wall_seconds = started.elapsed().as_secs_f64();
        let done: Vec<_> = records.into_iter().flatten().collect();
        if control.cancelled() && done.len() < n {
            return Err(crate::budget::stopped(
                control,
                format!(
                    "{} of {n} points of {} done, none kept (a sweep run in memory does not resume: give it a directory for that)",
                    done.len(),
                    plan.scenario
                ),
            ));
        }
        let report = SweepReport::new(&plan, &done).map_err(Error::Input)?;
        Ok(MemorySweep {
            plan,
            report,
            wall_seconds,
            threads,
        })
    }
}

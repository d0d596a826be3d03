//! Replications in parallel, each single-threaded.
//!
//! ```text
//!   index 0 ──► f(0) ─┐
//!   index 1 ──► f(1) ─┼──► Vec in index order ──► sequential reduction
//!   index n ──► f(n) ─┘   (rayon, any thread count)
//! ```
//!
//! Each job sees only its index, from which it derives its own random streams,
//! and results are collected in index order; the caller reduces them
//! sequentially. So the output is bit-identical for any `--threads`.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

/// Why a batch of replications could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("could not start {threads} worker threads: {source}")]
    ThreadPool {
        threads: usize,
        source: rayon::ThreadPoolBuildError,
    },
}

/// Runs `job(i)` for `i in 0..count` on `threads` threads (0 = one per core)
/// and returns the results in index order.
pub fn run_indexed<T, F>(count: usize, threads: usize, job: F) -> Result<Vec<T>, RunnerError>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|source| RunnerError::ThreadPool { threads, source })?;
    Ok(pool.install(|| (0..count).into_par_iter().map(&job).collect()))
}

/// As [`run_indexed`], but jobs not yet started when `cancel` becomes true are
/// skipped (`None`); jobs already running finish. Used for Ctrl-C handling:
/// completed work is kept and reported.
pub fn run_indexed_cancellable<T, F>(
    count: usize,
    threads: usize,
    cancel: &AtomicBool,
    job: F,
) -> Result<Vec<Option<T>>, RunnerError>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    run_indexed(count, threads, |i| {
        if cancel.load(Ordering::Relaxed) {
            None
        } else {
            Some(job(i))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::StreamRng;

    fn job(i: usize) -> f64 {
        let mut r = StreamRng::new(11, i as u64, "job");
        (0..10_000).map(|_| r.uniform()).sum()
    }

    #[test]
    fn results_are_in_index_order_and_thread_count_independent() {
        let one = run_indexed(16, 1, job).unwrap();
        let two = run_indexed(16, 2, job).unwrap();
        let many = run_indexed(16, 7, job).unwrap();
        assert_eq!(one, two);
        assert_eq!(one, many);
        let expected: Vec<f64> = (0..16).map(job).collect();
        assert_eq!(one, expected);
    }

    #[test]
    fn cancelled_jobs_are_skipped() {
        let cancel = AtomicBool::new(true);
        let out = run_indexed_cancellable(4, 2, &cancel, job).unwrap();
        assert!(out.iter().all(Option::is_none));
        cancel.store(false, Ordering::Relaxed);
        let out = run_indexed_cancellable(4, 2, &cancel, job).unwrap();
        assert!(out.iter().all(Option::is_some));
    }
}

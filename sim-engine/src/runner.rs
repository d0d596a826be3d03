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

/// Runs `job(i, j)` for every outer index `i in 0..outer` and inner index
/// `j in 0..inner` on `threads` threads (0 = one per core): a sweep's points ×
/// replications. As soon as every inner job of `i` is done, `finish(i, results)`
/// runs (results in inner order) and its value is returned at index `i`.
/// Outer indices in `skip` are neither run nor finished (`None`), and nor are
/// those not yet started once `cancel` is set.
///
/// All `outer × inner` jobs share one pool, so a few long points still keep
/// every thread busy; each `finish(i, ..)` sees the same results whatever the
/// thread count.
pub fn run_nested<T, R, F, G>(
    outer: usize,
    inner: usize,
    threads: usize,
    skip: &[bool],
    cancel: &AtomicBool,
    job: F,
    finish: G,
) -> Result<Vec<Option<R>>, RunnerError>
where
    T: Send,
    R: Send,
    F: Fn(usize, usize) -> T + Sync + Send,
    G: Fn(usize, Vec<T>) -> R + Sync + Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|source| RunnerError::ThreadPool { threads, source })?;
    Ok(pool.install(|| {
        (0..outer)
            .into_par_iter()
            .map(|i| {
                if skip.get(i).copied().unwrap_or(false) || cancel.load(Ordering::Relaxed) {
                    return None;
                }
                let results: Vec<T> = (0..inner).into_par_iter().map(|j| job(i, j)).collect();
                Some(finish(i, results))
            })
            .collect()
    }))
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
    fn nested_jobs_finish_each_outer_index_in_inner_order() {
        let cancel = AtomicBool::new(false);
        let skip = [false, true, false];
        let run = |threads| {
            run_nested(
                3,
                4,
                threads,
                &skip,
                &cancel,
                |i, j| job(i * 10 + j),
                |i, v: Vec<f64>| (i, v),
            )
            .unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(5));
        assert!(one[1].is_none());
        let (i, v) = one[2].clone().unwrap();
        assert_eq!(i, 2);
        assert_eq!(v, (20..24).map(job).collect::<Vec<_>>());
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

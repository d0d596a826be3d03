//! Running the engine without the GIL, and Ctrl-C.
//!
//! ```text
//!   calling thread (GIL released) ── waits for the result, and every 100 ms
//!        │                            takes the GIL to run Python's signal
//!        │                            handlers (PyErr_CheckSignals)
//!        └── scoped thread: the work ──► replications / points on the
//!                                        engine's worker threads
//! ```
//!
//! Python handles SIGINT by setting a flag that only the main thread acts
//! on, from bytecode. While the engine runs, no bytecode does, so the
//! calling thread polls for it: on KeyboardInterrupt (or any exception a
//! signal handler raises) it cancels the run's [`RunControl`] (running
//! replications stop at their next step, as with the CLI's Ctrl-C) and
//! raises that exception once the work has returned.

use std::sync::mpsc;
use std::time::Duration;

use capsim_models::RunControl;
use pyo3::prelude::*;

/// How often the calling thread looks for a signal.
const POLL: Duration = Duration::from_millis(100);

/// Runs `work` with a fresh [`RunControl`] with the GIL released, other
/// Python threads running meanwhile.
pub fn run<T: Send>(py: Python<'_>, work: impl FnOnce(&RunControl) -> T + Send) -> PyResult<T> {
    let control = RunControl::new();
    let (done, finished) = mpsc::channel::<()>();
    let (out, signal) = py.detach(move || {
        std::thread::scope(|scope| {
            let control = &control;
            let worker = scope.spawn(move || {
                let out = work(control);
                let _ = done.send(());
                out
            });
            let mut signal = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(POLL) {
                if signal.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    control
                        .cancel
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    signal = Some(e);
                }
            }
            (worker.join(), signal)
        })
    });
    if let Some(e) = signal {
        return Err(e);
    }
    out.map_err(|_| {
        pyo3::exceptions::PyRuntimeError::new_err(
            "capsim's engine panicked: please report it with the scenario that caused it",
        )
    })
}

//! Ctrl-C (SIGINT, and SIGTERM): the first stops the run cleanly — no new
//! replication or sweep point starts, running ones stop at their next step,
//! and what finished is written as usual; the second quits at once. Either
//! way the exit code is [`EXIT_INTERRUPTED`] (128 + SIGINT, as shells report).

use std::sync::atomic::{AtomicU32, Ordering};

use capsim_models::RunControl;

/// 128 + 2: what a shell reports for a process ended by SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The one run of this process.
pub static CONTROL: RunControl = RunControl::new();

static SIGNALS: AtomicU32 = AtomicU32::new(0);

/// Installs the handler (once; a failure to install leaves the default,
/// which kills the process).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
            CONTROL.cancel.store(true, Ordering::SeqCst);
            crate::out::warn(
                "\ninterrupted: stopping; what finished will be written (Ctrl-C again to quit now)",
            );
        } else {
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    });
}

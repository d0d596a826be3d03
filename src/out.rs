//! Everything the CLI prints goes through here. A failed write to stdout
//! (a full disk behind `> file`, `/dev/full`) fails the command like a file
//! that cannot be written (exit 3), never a truncated file and exit 0.
//!
//! A reader that stops early (`capsim run ... | head -1`) closes the pipe.
//! That is not an error: the reader has what it wanted. The rest of the
//! output is dropped quietly and the command ends with the code it would
//! have had (0, 1 for a breached `--check`, 130 interrupted). Not 141 (the
//! shell's code for a process killed by SIGPIPE): under `set -o pipefail`
//! it would fail a pipeline whose every step did its job. Rust ignores
//! SIGPIPE, so the write fails with EPIPE instead (and `println!` panics).

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Failure;

/// Set once the reader of stdout has gone: nothing more is written.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout and flushes it.
pub fn print(text: impl AsRef<[u8]>) -> Result<(), Failure> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => failed(e),
    }
}

/// What a failed write to stdout means: nothing if the reader has gone,
/// else a run failure.
pub fn failed(e: std::io::Error) -> Result<(), Failure> {
    if e.kind() == ErrorKind::BrokenPipe {
        CLOSED.store(true, Ordering::Relaxed);
        Ok(())
    } else {
        Err(Failure::Run(format!("writing to standard output: {e}")))
    }
}

/// Writes a line to stderr. A failure is ignored: there is nowhere left to
/// report it, and the exit code still says how the command ended.
pub fn warn(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

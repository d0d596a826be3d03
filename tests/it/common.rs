//! Helpers shared by the end-to-end tests: run the `capsim` binary built
//! by this workspace and read what it printed and wrote.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

pub fn capsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .output()
        .expect("the capsim binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A JSON file the binary wrote (summary.json, sweep.json, ...).
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// stdout of a command that exited 0 (else the test fails with its stderr).
#[track_caller]
pub fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    stdout(o)
}

/// stderr of a command refused as bad input: exit code 2, nothing on stdout.
#[track_caller]
pub fn input_error(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(o), stderr(o));
    assert!(stdout(o).is_empty(), "{}", stdout(o));
    stderr(o)
}

//! Helpers shared by the end-to-end tests: run the `capsim` binary built
//! by this workspace and read what it printed.
#![allow(dead_code)]

use std::process::{Command, Output};

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

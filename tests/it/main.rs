//! End-to-end tests of the `capsim` binary, in one test binary: a module
//! per topic, helpers shared in `common`. A new topic is a new module here,
//! not a new file in tests/ (each of those is linked as its own binary).

mod common;

mod bad_input;
mod breakdown;
mod calibrate;
mod capacity;
mod case_studies;
mod cli;
mod closed;
mod compare;
mod expectations;
mod gates;
mod guards;
mod headroom;
mod limits;
mod regions;
mod sensitivity;
mod sweep;
mod sweep_windows;
mod windows;

//! The exporters on real runs, in one test binary with a module per topic;
//! a new topic is a new module here.

mod common;
mod cost;
mod plots;
mod sweep;

//! The scenario-level tests, in one test binary: scenarios written as a
//! user writes them, loaded and run, against known answers. A module per
//! topic, helpers shared in `common`; a new topic is a new module here.
//! (tests/allocations.rs is apart: it needs its own global allocator.)

mod common;

mod autoscaling;
mod capacity;
mod cost;
mod external;
mod hardware;
mod library;
mod multiplier;
mod perturb;
mod profiles;
mod random_platform;
mod regions;
mod schema;
mod series;
mod slo;
mod stepping;
mod structured;
mod web_stack;

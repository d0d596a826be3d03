//! The models against known answers, in one test binary with a module per
//! topic; a new topic is a new module here.

mod arrivals;
mod budget;
mod closed;
mod disciplines;
mod queueing_theory;

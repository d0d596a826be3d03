//! capsim's outputs: pure exporters from results to bytes, and an atomic
//! writer that is the only part touching the file system.
//!
//! ```text
//!   ReplicationResult[] ──► Summary ──► summary.json, terminal table
//!   RunDescription ─────┘            └► fs::write_all (temp name + rename)
//! ```
//!
//! Each format is an [`export::Exporter`]; [`export`] lists which ones a
//! run, a windowed run and a sweep write. Exporters read the results, which name their tiers' kinds, units and
//! figures, and a [`capsim_models::RunDescription`] of the run; never the
//! scenario's configuration.

pub mod breakdown;
pub mod capacity;
pub mod claims;
pub mod compare;
pub mod csv_series;
pub mod events;
pub mod export;
pub mod fs;
pub mod headroom;
pub mod plots;
pub mod replications;
pub mod report;
pub mod sections;
pub mod sensitivity;
pub mod summary;
pub mod sweep;
pub mod sweep_plots;
pub mod table;
pub mod windows;
pub mod windows_plots;

pub use csv_series::{Col, Scope, SeriesRow, TimeSeries, latency_csv, time_series, timeseries_csv};
pub use events::events_csv;
pub use fs::{OutputFile, Staging, write_all, write_atomic};
pub use summary::{Interruption, RunInfo, SCHEMA_VERSION, Summary};

//! Data generators for Ballista's tests, examples and the `ballista gen` command.
//!
//! Each generator writes a directory of Parquet files and publishes it
//! atomically: files are written into a private temporary directory beside the
//! target, a `_SUCCESS` marker is added, and the directory is renamed into
//! place. A directory that already holds `_SUCCESS` is left alone, so
//! concurrent processes (parallel test binaries) share one copy and never read
//! half-written data.
//!
//! - [`tpch`]: the eight TPC-H tables at a scale factor (`tpchgen`).
//! - [`nyctaxi`]: synthetic NYC yellow-taxi trips with the TLC's column names
//!   and types, deterministic for a seed.
//!
//! This crate only writes files; it knows nothing of query engines.

mod error;
pub mod nyctaxi;
mod output;
pub mod tpch;

pub use error::{DatagenError, Result};
pub use output::{Outcome, SUCCESS_MARKER};

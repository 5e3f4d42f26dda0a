//! Ballista core: the canonical plan spec (`proto/ballista/v1`) and the
//! DataFusion plans on either side of it.
//!
//! - [`serde`] converts logical and physical plans between the spec and
//!   DataFusion, both ways, with errors that name the offending field;
//! - [`hash`] is the spec's shuffle hash (Spark-compatible Murmur3, seed 42)
//!   that puts every row in the same partition on every executor;
//! - [`json`] renders and parses spec messages in the canonical protobuf
//!   JSON mapping (the format of the conformance golden files);
//! - [`capabilities`] reads what a stage plan needs from an executor and
//!   checks it against what an executor advertises;
//! - [`error`] is the crate's single error type.
//!
//! This crate knows nothing of networking, scheduling or executors: those
//! layers depend on it, never the other way round.

pub mod capabilities;
pub mod error;
pub mod hash;
pub mod json;
pub mod serde;
pub mod udf;

pub use error::{BallistaError, Result};

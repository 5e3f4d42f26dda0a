//! Shared test support.
pub mod physical;
pub mod tpch;

//! Shared test support.
pub mod tpch;

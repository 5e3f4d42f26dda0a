//! Test cases, one module per concern.

mod logical_errors;
mod logical_nodes;
mod logical_support;
mod logical_tpch;
mod physical_tpch;

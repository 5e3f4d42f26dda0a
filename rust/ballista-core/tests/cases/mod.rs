//! Test cases, one module per concern.

mod fuzz;
mod logical_errors;
mod logical_nodes;
mod logical_support;
mod logical_tpch;
mod physical_extension;
mod physical_nodes;
mod physical_tpch;

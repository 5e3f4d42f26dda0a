//! Test cases, one module per concern.

mod logical_tpch;
mod physical_nodes;
mod physical_tpch;

//! Conversions between the canonical plan spec and DataFusion.
//!
//! - [`types`]: Arrow data types, literals, schemas;
//! - `common`: conversions shared by the logical and physical codecs
//!   (operators, join types, null equality, window frames);
//! - [`logical`]: the logical plan (`Relation`, `Expression`) to and from
//!   DataFusion `LogicalPlan` / `Expr`;
//! - [`physical`]: the physical stage plan (`PhysicalPlanNode`,
//!   `PhysicalExpr`) to and from DataFusion `ExecutionPlan` / `PhysicalExpr`.

pub(crate) mod common;
pub mod logical;
pub mod physical;
pub mod types;

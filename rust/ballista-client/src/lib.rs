//! Ballista's Rust client: builders for the canonical logical plan, and
//! [`BallistaContext`], which runs them on a cluster.
//!
//! - [`DataFrame`] builds a plan (`ballista.v1.Relation`) relation by
//!   relation: `read_table`, `filter`, `select`, `aggregate`, `join`, ...;
//! - [`expr`] builds expressions (`col`, `lit`, operators, `when`, ...);
//! - [`functions`] names common scalar, aggregate and window functions.
//!
//! ```
//! use ballista_client::DataFrame;
//! use ballista_client::expr::{col, lit};
//! use ballista_client::functions::sum;
//!
//! let plan = DataFrame::read_table("orders")
//!     .filter(col("amount").gt(lit(10_i64)))
//!     .aggregate([col("customer")], [sum(col("amount")).alias("total")])
//!     .into_plan();
//! assert!(plan.rel_type.is_some());
//! ```
//!
//! The builders produce exactly the messages of `proto/ballista/v1`, with
//! names unresolved. Python and Java offer the same builders under the same
//! names (`snake_case` / `camelCase`), and the golden vectors in
//! `integration/conformance/` check that all of them emit identical bytes.
//! This crate must not resolve names or plan queries: that is the
//! scheduler's job, so a plan means the same whichever language built it.

pub mod context;
pub mod dataframe;
pub mod expr;
pub mod functions;
#[cfg(feature = "standalone")]
pub mod standalone;

pub use ballista_core::{BallistaError, Result};
pub use context::{BallistaContext, QueryResult};
pub use dataframe::{DataFrame, GroupBy, JoinType, ReadOptions, TableRef};
pub use expr::{Expr, SortKey, Window};

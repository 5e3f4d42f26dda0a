//! The logical plan codec: spec `Relation` / `Expression`
//! (`proto/ballista/v1/logical.proto`) to and from DataFusion
//! [`LogicalPlan`] / [`Expr`].
//!
//! - [`logical_plan_from_proto`] resolves a client's plan against the
//!   scheduler's [`SessionState`]: tables against its catalog, functions
//!   against its registry, column names against the input schemas. It is
//!   `async` because tables, file schemas and SQL text may need I/O; that
//!   I/O happens in one first pass over the message, after which the tree is
//!   converted synchronously (as DataFusion's SQL planner does).
//! - [`logical_plan_to_proto`] encodes a DataFusion plan (typically an
//!   unoptimised one, straight from SQL) in the spec, so that a plan can be
//!   shipped, stored or compared without any DataFusion-specific bytes.
//!
//! This module must not depend on `datafusion-proto` nor emit engine
//! extensions: a node the spec cannot express is a
//! [`BallistaError::NotImplemented`] naming the node.
//!
//! # Column resolution and `plan_id`
//!
//! A `ColumnRef` is resolved by name (and qualifier, if given) against the
//! input schema of the relation holding the expression; failures list the
//! valid columns. A `ColumnRef` with `plan_id` refers to the output of the
//! relation carrying that id, as in Spark Connect: when both inputs of a
//! `Join` expose a column with the same (qualified) name, the decoder gives
//! each conflicting input a generated alias (`__ballista_plan_<id>`, or
//! `__ballista_left` / `__ballista_right` when the input has no id) and
//! `plan_id` references are resolved through it.
//!
//! # `ReadFiles` options
//!
//! Options are string key/values; unknown keys are rejected, listing the
//! valid ones for the format.
//!
//! | format  | key              | meaning (default)                                  |
//! |---------|------------------|----------------------------------------------------|
//! | all     | `file_extension` | only read files with this suffix (format default)  |
//! | csv     | `has_header`     | `true` / `false` (`true`)                          |
//! | csv     | `delimiter`      | one ASCII character (`,`)                          |
//! | csv     | `quote`          | one ASCII character (`"`)                          |
//! | csv     | `escape`         | one ASCII character (none)                         |
//! | csv     | `comment`        | one ASCII character (none)                         |
//! | csv     | `null_regex`     | values matching this regex read as null (none)     |
//! | csv/json| `schema_infer_max_records` | rows read to infer a schema (1000)      |
//!
//! Avro is not compiled into this build and is reported as not implemented.
//! The files' table has the name `?table?`, as DataFusion's `read_*` methods.

mod from_proto;
mod to_proto;

pub use from_proto::{logical_expr_from_proto, logical_plan_from_proto, read_files_provider};
pub use to_proto::{logical_expr_to_proto, logical_plan_to_proto};

#[cfg(doc)]
use crate::error::BallistaError;
#[cfg(doc)]
use datafusion::{execution::SessionState, logical_expr::Expr, logical_expr::LogicalPlan};

/// Name DataFusion gives a scan of files that are not a catalog table; a
/// `TableScan` with this name is encoded as `ReadFiles`.
pub const UNNAMED_TABLE: &str = "?table?";

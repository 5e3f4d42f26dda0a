//! The hook through which code outside this module takes part in the
//! physical codec.
//!
//! Two kinds of node need it:
//!
//! - *runtime operators of the spec* (`ShuffleWriteExec`, `ShuffleReadExec`,
//!   `ResultSinkExec`, `MapBatchesExec`, and the `PhysicalUdfCall`
//!   expression): they are canonical spec nodes, but their DataFusion
//!   implementations live in the executor crate, which depends on this one.
//!   The executor supplies a [`PhysicalExtensionCodec`] that builds and
//!   recognises them;
//! - *engine extensions* (`ExtensionExec`, `PhysicalExtensionExpr`):
//!   operators and expressions outside the spec, carried as an opaque
//!   [`pb::EngineExtension`] for one named engine only.
//!
//! This module must not know any concrete runtime operator: it only defines
//! the trait and the default that refuses everything with a clear error.

use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::Schema;
use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::ExecutionPlan;

use crate::error::{BallistaError, Result};

/// Encodes and decodes the physical nodes that the core codec cannot handle
/// by itself. Every method has a default that declines (encode) or fails
/// with a `NotImplemented` error naming the node (decode), so an
/// implementation overrides only what it supports.
pub trait PhysicalExtensionCodec: Debug + Send + Sync {
    /// Encodes an operator the core codec does not know as a *spec* node
    /// (for example the executor's shuffle writer as `ShuffleWriteExec`).
    /// `inputs` are the plan's children, already encoded, in
    /// `plan.children()` order. `Ok(None)` declines.
    fn try_encode_node(
        &self,
        _plan: &Arc<dyn ExecutionPlan>,
        _inputs: &[pb::PhysicalPlanNode],
    ) -> Result<Option<pb::PhysicalPlanNode>> {
        Ok(None)
    }

    /// Decodes a runtime spec node (`ShuffleReadExec`, `ShuffleWriteExec`,
    /// `ResultSinkExec`, `MapBatchesExec`). `inputs` holds the decoded
    /// `input` field for the nodes that have one.
    fn try_decode_node(
        &self,
        node: &pb::PhysicalPlanNode,
        _inputs: Vec<Arc<dyn ExecutionPlan>>,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(BallistaError::NotImplemented(format!(
            "{} is a runtime operator of the Ballista spec; it is provided by the \
             executor, and no extension codec that handles it was given",
            super::node_name(node)
        )))
    }

    /// Encodes an operator outside the spec as an engine extension.
    /// `Ok(None)` declines, and encoding fails.
    fn try_encode_extension(
        &self,
        _plan: &Arc<dyn ExecutionPlan>,
    ) -> Result<Option<pb::EngineExtension>> {
        Ok(None)
    }

    /// Decodes an `ExtensionExec` whose inputs are already decoded.
    fn try_decode_extension(
        &self,
        extension: &pb::EngineExtension,
        _inputs: Vec<Arc<dyn ExecutionPlan>>,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(BallistaError::NotImplemented(format!(
            "ExtensionExec `{}` of engine `{}`: no extension codec handles it",
            extension.name, extension.engine
        )))
    }

    /// Encodes an expression the core codec does not know, either as a spec
    /// expression (for example a `PhysicalUdfCall`) or as a
    /// `PhysicalExtensionExpr`; `Ok(None)` declines.
    fn try_encode_expr(&self, _expr: &Arc<dyn PhysicalExpr>) -> Result<Option<pb::PhysicalExpr>> {
        Ok(None)
    }

    /// Decodes a `PhysicalUdfCall` whose arguments are already decoded.
    fn try_decode_udf(
        &self,
        udf: &pb::PhysicalUdfCall,
        _arguments: Vec<Arc<dyn PhysicalExpr>>,
        _input_schema: &Schema,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let name = udf.function.as_ref().map_or("?", |f| f.name.as_str());
        Err(BallistaError::NotImplemented(format!(
            "PhysicalUdfCall `{name}`: user-defined functions are run by the executor, \
             and no extension codec that handles them was given"
        )))
    }

    /// Decodes a `PhysicalExtensionExpr` whose children are already decoded.
    fn try_decode_expr_extension(
        &self,
        extension: &pb::EngineExtension,
        _children: Vec<Arc<dyn PhysicalExpr>>,
        _input_schema: &Schema,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        Err(BallistaError::NotImplemented(format!(
            "PhysicalExtensionExpr `{}` of engine `{}`: no extension codec handles it",
            extension.name, extension.engine
        )))
    }
}

/// The codec that handles nothing: plans must be entirely in the spec.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultPhysicalExtensionCodec;

impl PhysicalExtensionCodec for DefaultPhysicalExtensionCodec {}

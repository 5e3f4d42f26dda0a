//! The physical plan codec: DataFusion `ExecutionPlan` / `PhysicalExpr`
//! to and from the spec's `PhysicalPlanNode` / `PhysicalExpr`.
//!
//! The scheduler encodes each stage with [`physical_plan_to_proto`]; an
//! executor decodes it with [`physical_plan_from_proto`] against its
//! `TaskContext` (function registry, session config, object stores). What
//! travels is the canonical spec only: no DataFusion-specific bytes, except
//! inside explicit engine extensions, which [`count_extension_nodes`]
//! counts so `explain` can report them.
//!
//! - [`expr`]: expressions, sort keys, join filters, window frames;
//! - `to_proto` / `from_proto`: operators;
//! - [`extension`]: the [`PhysicalExtensionCodec`] hook through which the
//!   executor supplies runtime operators (shuffle read/write, result sink,
//!   map batches, UDF calls) and engine extensions.
//!
//! # Decisions
//!
//! - **Dynamic filters.** DataFusion 55 plants `DynamicFilterPhysicalExpr`s
//!   (filled at run time by hash joins, TopK sorts and aggregates) in scan
//!   predicates. They are only pruning hints, and an encoded stage is sent
//!   before it runs, so the encoder *snapshots* them (their value before
//!   execution is `true`) and drops `true` conjuncts from scan predicates.
//!   Joins and sorts rebuild their own dynamic filters on decode; the link
//!   to the scan is lost, which costs pruning, never correctness.
//! - **Settings without a spec field** that DataFusion pushes into
//!   operators (`fetch` of `FilterExec`/`HashJoinExec`, a memory source's
//!   limit) become a `LocalLimitExec` above the node, which DataFusion
//!   evaluates identically (per partition). Scan projections with computed
//!   expressions become a `ProjectionExec` over the scan.
//! - **Hints** the spec omits are dropped: statistics, a scan's declared
//!   output partitioning, secondary equivalent orderings, batch sizes
//!   (taken from the decoding session).
//! - **Hash repartitioning** inside a stage is encoded with
//!   `HASH_FUNCTION_ENGINE_LOCAL`, since DataFusion's hash never leaves
//!   the task; only shuffle writes use the spec hash.
//!
//! This module must not know any executor-side operator: those come in
//! through [`PhysicalExtensionCodec`].

use std::sync::Arc;

use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use prost::Message;
use prost_reflect::{DynamicMessage, ReflectMessage, Value};

use crate::error::Result;

pub mod expr;
pub mod extension;
mod from_proto;
mod to_proto;

pub use expr::{physical_expr_from_proto, physical_expr_to_proto};
pub use extension::{DefaultPhysicalExtensionCodec, PhysicalExtensionCodec};

/// Adjusts a DataFusion session config so that its physical plans fit the
/// spec: uncorrelated scalar subqueries are planned as joins
/// (`ScalarSubqueryToJoin`) instead of DataFusion 55's `ScalarSubqueryExec`,
/// which the spec has no operator for. DataFusion keeps this switch as the
/// escape hatch for distributed engines; note that the join form does not
/// raise an error when such a subquery returns more than one row.
pub fn configure_session_for_spec(
    config: datafusion::prelude::SessionConfig,
) -> datafusion::prelude::SessionConfig {
    let mut config = config;
    config
        .options_mut()
        .optimizer
        .enable_physical_uncorrelated_scalar_subquery = false;
    config
}

/// Encodes a DataFusion execution plan as a spec `PhysicalPlanNode`.
///
/// Fails with `NotImplemented` naming the operator when a node is neither
/// in the spec nor handled by `codec`.
pub fn physical_plan_to_proto(
    plan: &Arc<dyn ExecutionPlan>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalPlanNode> {
    to_proto::encode_plan(plan, codec)
}

/// Decodes a spec `PhysicalPlanNode` into a DataFusion execution plan.
///
/// `ctx` provides the function registry (scalar, aggregate and window
/// functions by name), the session config and the object stores the scans
/// read from. Errors name the offending field by its path.
pub fn physical_plan_from_proto(
    node: &pb::PhysicalPlanNode,
    ctx: &TaskContext,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Arc<dyn ExecutionPlan>> {
    // Last line of defence: DataFusion constructors assume well-formed
    // inputs and some panic (or overflow in debug builds) on meaningless
    // ones. A plan from the network must never take a server down, so a
    // panic becomes an error; the fuzz test treats that error as a bug.
    crate::error::catch_decoder_panic(|| {
        from_proto::decode_plan(node, expr::DecodeCtx { task: ctx, codec }, "")
    })
}

/// Decodes an encoded `PhysicalPlanNode` message (for example a task's
/// plan bytes) into a DataFusion execution plan.
pub fn physical_plan_from_bytes(
    bytes: &[u8],
    ctx: &TaskContext,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Arc<dyn ExecutionPlan>> {
    let node = pb::PhysicalPlanNode::decode(bytes)?;
    physical_plan_from_proto(&node, ctx, codec)
}

/// Encodes a partitioning scheme (for example a shuffle write's). Hash
/// partitioning records `function`: `Unspecified` is the spec hash, which
/// every executor must compute alike; `EngineLocal` is an engine's own hash
/// for redistribution within one task.
pub fn partitioning_to_proto(
    partitioning: &datafusion::physical_expr::Partitioning,
    function: pb::HashFunction,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::Partitioning> {
    to_proto::encode_partitioning(partitioning, function, codec)
}

/// Decodes a partitioning scheme whose hash keys (if any) are evaluated over
/// `schema`, and returns it with the hash function it names. `path` prefixes
/// the field paths in errors.
pub fn partitioning_from_proto(
    partitioning: &pb::Partitioning,
    schema: &arrow::datatypes::SchemaRef,
    ctx: &TaskContext,
    codec: &dyn PhysicalExtensionCodec,
    path: &str,
) -> Result<(datafusion::physical_expr::Partitioning, pb::HashFunction)> {
    crate::error::catch_decoder_panic(|| {
        from_proto::decode_partitioning(
            partitioning,
            schema,
            expr::DecodeCtx { task: ctx, codec },
            path,
        )
    })
}

/// The spec message name of a node's operator, e.g. `"HashJoinExec"`.
pub fn node_name(node: &pb::PhysicalPlanNode) -> &'static str {
    use pb::physical_plan_node::Node;
    match &node.node {
        None => "PhysicalPlanNode",
        Some(n) => match n {
            Node::FileScan(_) => "FileScanExec",
            Node::ShuffleRead(_) => "ShuffleReadExec",
            Node::Filter(_) => "FilterExec",
            Node::Projection(_) => "ProjectionExec",
            Node::Aggregate(_) => "AggregateExec",
            Node::HashJoin(_) => "HashJoinExec",
            Node::SortMergeJoin(_) => "SortMergeJoinExec",
            Node::NestedLoopJoin(_) => "NestedLoopJoinExec",
            Node::CrossJoin(_) => "CrossJoinExec",
            Node::Sort(_) => "SortExec",
            Node::SortPreservingMerge(_) => "SortPreservingMergeExec",
            Node::GlobalLimit(_) => "GlobalLimitExec",
            Node::LocalLimit(_) => "LocalLimitExec",
            Node::Union(_) => "UnionExec",
            Node::Window(_) => "WindowExec",
            Node::CoalescePartitions(_) => "CoalescePartitionsExec",
            Node::CoalesceBatches(_) => "CoalesceBatchesExec",
            Node::Repartition(_) => "RepartitionExec",
            Node::Empty(_) => "EmptyExec",
            Node::PlaceholderRow(_) => "PlaceholderRowExec",
            Node::Values(_) => "ValuesExec",
            Node::ShuffleWrite(_) => "ShuffleWriteExec",
            Node::ResultSink(_) => "ResultSinkExec",
            Node::MapBatches(_) => "MapBatchesExec",
            Node::Extension(_) => "ExtensionExec",
        },
    }
}

/// Counts the engine extensions in a plan: `ExtensionExec` operators and
/// `PhysicalExtensionExpr` expressions, wherever they are nested.
///
/// The walk is generic over the message descriptors, so fields added to
/// the spec later are covered without touching this function.
pub fn count_extension_nodes(node: &pb::PhysicalPlanNode) -> usize {
    let pool = &*ballista_proto::DESCRIPTOR_POOL;
    let Some(desc) = pool.get_message_by_name("ballista.v1.PhysicalPlanNode") else {
        return 0;
    };
    // Re-decoding our own encoding with the same descriptors cannot fail.
    match DynamicMessage::decode(desc, node.encode_to_vec().as_slice()) {
        Ok(msg) => count_in(&msg),
        Err(_) => 0,
    }
}

fn count_in(msg: &DynamicMessage) -> usize {
    let own = matches!(
        msg.descriptor().full_name(),
        "ballista.v1.ExtensionExec" | "ballista.v1.PhysicalExtensionExpr"
    ) as usize;
    own + msg.fields().map(|(_, v)| count_value(v)).sum::<usize>()
}

fn count_value(v: &Value) -> usize {
    match v {
        Value::Message(m) => count_in(m),
        Value::List(items) => items.iter().map(count_value).sum(),
        _ => 0,
    }
}

//! Spec `PhysicalPlanNode` -> DataFusion `ExecutionPlan`.
//!
//! Every field is checked before DataFusion sees it: required fields,
//! enum values, column indices, predicate types. Errors name the field by
//! its path from the root, e.g. `ProjectionExec.input.HashJoinExec.on[1].left`.
//! This module must not build runtime operators (shuffle, result sink, map
//! batches) itself: those come from the extension codec.

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema, SchemaRef};
use ballista_proto::v1 as pb;
use datafusion::common::JoinType;
use datafusion::common::config::{CsvOptions, TableParquetOptions};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{
    ArrowSource, CsvSource, FileGroup, FileScanConfigBuilder, FileSource, JsonSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::WindowFunctionDefinition;
use datafusion::object_store::ObjectMeta;
use datafusion::object_store::path::Path as ObjectPath;
use datafusion::physical_expr::aggregate::AggregateExprBuilder;
use datafusion::physical_expr::{LexOrdering, Partitioning, PhysicalExpr};
use datafusion::physical_plan::aggregates::{
    AggregateExec, AggregateMode, LimitOptions, PhysicalGroupBy,
};
#[allow(deprecated)] // DataFusion 55 still plans it; the spec keeps the node
use datafusion::physical_plan::coalesce_batches::CoalesceBatchesExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, PartitionMode, SortMergeJoinExec,
};
use datafusion::physical_plan::limit::{GlobalLimitExec, LocalLimitExec};
use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::windows::{
    BoundedWindowAggExec, WindowAggExec, create_window_expr, get_window_mode,
    schema_add_window_field,
};
use datafusion::physical_plan::{ExecutionPlan, InputOrderMode};

use super::expr::{
    DecodeCtx, decode_exprs, decode_required, did_you_mean, field_names, join_filter_from_proto,
    sort_exprs_from_proto, type_at, window_frame_from_proto,
};
use crate::error::{BallistaError, Result, known_enum, required};
use crate::serde::common::{join_type_from_proto, null_equality_from_proto};
use crate::serde::types::{
    batches_from_ipc, field_from_proto, required_schema, scalar_from_proto, sort_options_from_proto,
};

use pb::physical_plan_node::Node;

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn usize_of(v: u64, path: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| BallistaError::invalid(path, format!("{v} is too large")))
}

/// Decodes a required child operator at `path`.
fn input(
    n: &Option<Box<pb::PhysicalPlanNode>>,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    match n {
        Some(n) => decode_plan(n, ctx, path),
        None => Err(BallistaError::missing(path)),
    }
}

/// Checks a projection (column indices) against a schema of `len` columns.
fn projection(
    p: &Option<pb::ColumnIndices>,
    schema: &Schema,
    path: &str,
) -> Result<Option<Vec<usize>>> {
    let Some(p) = p else { return Ok(None) };
    p.indices
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if c as usize >= schema.fields().len() {
                Err(BallistaError::invalid(
                    &format!("{path}.indices[{i}]"),
                    format!(
                        "column index {c} is out of range: there are {} columns ({})",
                        schema.fields().len(),
                        field_names(schema)
                    ),
                ))
            } else {
                Ok(c as usize)
            }
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

type JoinOn = Vec<(Arc<dyn PhysicalExpr>, Arc<dyn PhysicalExpr>)>;

fn join_on(
    on: &[pb::PhysicalJoinOn],
    left: &Schema,
    right: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<JoinOn> {
    on.iter()
        .enumerate()
        .map(|(i, k)| {
            let p = format!("{path}[{i}]");
            let l = decode_required(&k.left, left, ctx, &format!("{p}.left"))?;
            let r = decode_required(&k.right, right, ctx, &format!("{p}.right"))?;
            let (lt, rt) = (type_at(&l, left, &p)?, type_at(&r, right, &p)?);
            if lt != rt {
                return Err(BallistaError::Plan(format!(
                    "{p}: join keys must have the same type, found {lt} and {rt}"
                )));
            }
            Ok((l, r))
        })
        .collect()
}

/// Decodes an operator tree; `path` is the field path of `node` ("" at the root).
pub(crate) fn decode_plan(
    node: &pb::PhysicalPlanNode,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Arc<dyn ExecutionPlan>> {
    let Some(n) = &node.node else {
        return Err(BallistaError::invalid(
            if path.is_empty() {
                "PhysicalPlanNode"
            } else {
                path
            },
            "no operator is set",
        ));
    };
    let p = join(path, super::node_name(node));
    let p = p.as_str();
    let f = |field: &str| format!("{p}.{field}");
    Ok(match n {
        Node::FileScan(s) => file_scan(s, ctx, p)?,
        Node::Filter(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            let schema = inp.schema();
            let pred = decode_required(&x.predicate, &schema, ctx, &f("predicate"))?;
            let dt = type_at(&pred, &schema, &f("predicate"))?;
            if dt != DataType::Boolean {
                return Err(BallistaError::Plan(format!(
                    "{}: a filter predicate must be boolean, found {dt}",
                    f("predicate")
                )));
            }
            let proj = projection(&x.projection, &schema, &f("projection"))?;
            let selectivity = u8::try_from(x.default_selectivity)
                .ok()
                .filter(|s| *s <= 100)
                .ok_or_else(|| {
                    BallistaError::invalid(
                        &f("default_selectivity"),
                        "must be a percentage (0..=100)",
                    )
                })?;
            Arc::new(
                FilterExecBuilder::new(pred, inp)
                    .apply_projection(proj)?
                    .with_default_selectivity(selectivity)
                    .with_batch_size(ctx.task.session_config().batch_size())
                    .build()?,
            )
        }
        Node::Projection(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            let schema = inp.schema();
            let exprs = x
                .expressions
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let ep = format!("{p}.expressions[{i}].expression");
                    Ok(ProjectionExpr::new(
                        decode_required(&e.expression, &schema, ctx, &ep)?,
                        e.name.clone(),
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Arc::new(ProjectionExec::try_new(exprs, inp)?)
        }
        Node::Aggregate(x) => aggregate(x, ctx, p)?,
        Node::HashJoin(x) => {
            let left = input(&x.left, ctx, &f("left"))?;
            let right = input(&x.right, ctx, &f("right"))?;
            let (ls, rs) = (left.schema(), right.schema());
            let on = join_on(&x.on, &ls, &rs, ctx, &f("on"))?;
            let filter = x
                .filter
                .as_ref()
                .map(|j| join_filter_from_proto(j, &ls, &rs, ctx, &f("filter")))
                .transpose()?;
            let jt = join_type_from_proto(x.join_type, &f("join_type"))?;
            let mode = match known_enum(x.partition_mode, &f("partition_mode"))? {
                pb::PartitionMode::Unspecified => {
                    return Err(BallistaError::invalid(
                        &f("partition_mode"),
                        "partition mode is not set",
                    ));
                }
                pb::PartitionMode::Partitioned => PartitionMode::Partitioned,
                pb::PartitionMode::CollectLeft => PartitionMode::CollectLeft,
                pb::PartitionMode::Auto => PartitionMode::Auto,
            };
            let join_schema = join_output_schema(&ls, &rs, &jt);
            let proj = projection(&x.projection, &join_schema, &f("projection"))?;
            Arc::new(HashJoinExec::try_new(
                left,
                right,
                on,
                filter,
                &jt,
                proj,
                mode,
                null_equality_from_proto(x.null_equality, &f("null_equality"))?,
                x.null_aware,
            )?)
        }
        Node::SortMergeJoin(x) => {
            let left = input(&x.left, ctx, &f("left"))?;
            let right = input(&x.right, ctx, &f("right"))?;
            let (ls, rs) = (left.schema(), right.schema());
            let on = join_on(&x.on, &ls, &rs, ctx, &f("on"))?;
            if x.sort_options.len() != on.len() {
                return Err(BallistaError::invalid(
                    &f("sort_options"),
                    format!(
                        "{} sort options for {} join keys",
                        x.sort_options.len(),
                        on.len()
                    ),
                ));
            }
            let filter = x
                .filter
                .as_ref()
                .map(|j| join_filter_from_proto(j, &ls, &rs, ctx, &f("filter")))
                .transpose()?;
            Arc::new(SortMergeJoinExec::try_new(
                left,
                right,
                on,
                filter,
                join_type_from_proto(x.join_type, &f("join_type"))?,
                x.sort_options
                    .iter()
                    .map(|o| sort_options_from_proto(Some(o)))
                    .collect(),
                null_equality_from_proto(x.null_equality, &f("null_equality"))?,
            )?)
        }
        Node::NestedLoopJoin(x) => {
            let left = input(&x.left, ctx, &f("left"))?;
            let right = input(&x.right, ctx, &f("right"))?;
            let (ls, rs) = (left.schema(), right.schema());
            let filter = x
                .filter
                .as_ref()
                .map(|j| join_filter_from_proto(j, &ls, &rs, ctx, &f("filter")))
                .transpose()?;
            let jt = join_type_from_proto(x.join_type, &f("join_type"))?;
            let join_schema = join_output_schema(&ls, &rs, &jt);
            let proj = projection(&x.projection, &join_schema, &f("projection"))?;
            Arc::new(NestedLoopJoinExec::try_new(left, right, filter, &jt, proj)?)
        }
        Node::CrossJoin(x) => Arc::new(CrossJoinExec::new(
            input(&x.left, ctx, &f("left"))?,
            input(&x.right, ctx, &f("right"))?,
        )),
        Node::Sort(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            let order = ordering(&x.order, &inp.schema(), ctx, &f("order"))?;
            let fetch = x.fetch.map(|v| usize_of(v, &f("fetch"))).transpose()?;
            Arc::new(
                SortExec::new(order, inp)
                    .with_fetch(fetch)
                    .with_preserve_partitioning(x.preserve_partitioning),
            )
        }
        Node::SortPreservingMerge(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            let order = ordering(&x.order, &inp.schema(), ctx, &f("order"))?;
            let fetch = x.fetch.map(|v| usize_of(v, &f("fetch"))).transpose()?;
            Arc::new(SortPreservingMergeExec::new(order, inp).with_fetch(fetch))
        }
        Node::GlobalLimit(x) => Arc::new(GlobalLimitExec::new(
            input(&x.input, ctx, &f("input"))?,
            usize_of(x.skip, &f("skip"))?,
            x.fetch.map(|v| usize_of(v, &f("fetch"))).transpose()?,
        )),
        Node::LocalLimit(x) => Arc::new(LocalLimitExec::new(
            input(&x.input, ctx, &f("input"))?,
            usize_of(x.fetch, &f("fetch"))?,
        )),
        Node::Union(x) => {
            let inputs = x
                .inputs
                .iter()
                .enumerate()
                .map(|(i, n)| decode_plan(n, ctx, &format!("{p}.inputs[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            if inputs.is_empty() {
                return Err(BallistaError::invalid(
                    &f("inputs"),
                    "a union needs at least one input",
                ));
            }
            UnionExec::try_new(inputs)?
        }
        Node::Window(x) => window(x, ctx, p)?,
        Node::CoalescePartitions(x) => Arc::new(
            CoalescePartitionsExec::new(input(&x.input, ctx, &f("input"))?)
                .with_fetch(x.fetch.map(|v| usize_of(v, &f("fetch"))).transpose()?),
        ),
        #[allow(deprecated)] // still produced by DataFusion 55's planner
        Node::CoalesceBatches(x) => Arc::new(
            CoalesceBatchesExec::new(
                input(&x.input, ctx, &f("input"))?,
                usize_of(x.target_batch_size, &f("target_batch_size"))?,
            )
            .with_fetch(x.fetch.map(|v| usize_of(v, &f("fetch"))).transpose()?),
        ),
        Node::Repartition(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            let pp = f("partitioning");
            let (partitioning, function) =
                decode_partitioning(required(&x.partitioning, &pp)?, &inp.schema(), ctx, &pp)?;
            if matches!(partitioning, Partitioning::Hash(..))
                && function != pb::HashFunction::EngineLocal
            {
                return Err(BallistaError::NotImplemented(format!(
                    "{pp}.hash.function: a RepartitionExec with the spec hash function is not \
                     supported by this executor; DataFusion repartitions with its own \
                     hash (HASH_FUNCTION_ENGINE_LOCAL)"
                )));
            }
            let r = RepartitionExec::try_new(inp, partitioning)?;
            Arc::new(if x.preserve_order {
                r.with_preserve_order()
            } else {
                r
            })
        }
        Node::Empty(x) => Arc::new(
            EmptyExec::new(required_schema(&x.schema, &f("schema"))?)
                .with_partitions(positive(x.partitions, &f("partitions"))?),
        ),
        Node::PlaceholderRow(x) => Arc::new(
            PlaceholderRowExec::new(required_schema(&x.schema, &f("schema"))?)
                .with_partitions(positive(x.partitions, &f("partitions"))?),
        ),
        Node::Values(x) => {
            let schema = required_schema(&x.schema, &f("schema"))?;
            let partitions = x
                .partitions
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let pp = format!("{p}.partitions[{i}].arrow_ipc_stream");
                    let (s, batches) = batches_from_ipc(&part.arrow_ipc_stream, &pp)?;
                    if s.fields() != schema.fields() {
                        return Err(BallistaError::invalid(
                            &pp,
                            format!(
                                "stream schema ({}) differs from ValuesExec.schema ({})",
                                field_names(&s),
                                field_names(&schema)
                            ),
                        ));
                    }
                    Ok(batches)
                })
                .collect::<Result<Vec<_>>>()?;
            MemorySourceConfig::try_new_exec(&partitions, schema, None)?
        }
        Node::ShuffleRead(_) => ctx.codec.try_decode_node(node, vec![], ctx.task)?,
        Node::ShuffleWrite(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            ctx.codec.try_decode_node(node, vec![inp], ctx.task)?
        }
        Node::ResultSink(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            ctx.codec.try_decode_node(node, vec![inp], ctx.task)?
        }
        Node::MapBatches(x) => {
            let inp = input(&x.input, ctx, &f("input"))?;
            ctx.codec.try_decode_node(node, vec![inp], ctx.task)?
        }
        Node::Extension(x) => {
            let ext = required(&x.extension, &f("extension"))?;
            let inputs = x
                .inputs
                .iter()
                .enumerate()
                .map(|(i, n)| decode_plan(n, ctx, &format!("{p}.inputs[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            ctx.codec.try_decode_extension(ext, inputs, ctx.task)?
        }
    })
}

fn positive(n: u32, path: &str) -> Result<usize> {
    if n == 0 {
        Err(BallistaError::invalid(path, "must be at least 1"))
    } else {
        Ok(n as usize)
    }
}

fn ordering(
    exprs: &[pb::PhysicalSortExpr],
    schema: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<LexOrdering> {
    LexOrdering::new(sort_exprs_from_proto(exprs, schema, ctx, path)?)
        .ok_or_else(|| BallistaError::invalid(path, "at least one sort key is required"))
}

/// The schema a join produces before its projection.
fn join_output_schema(left: &Schema, right: &Schema, jt: &JoinType) -> Schema {
    datafusion::physical_plan::joins::utils::build_join_schema(left, right, jt).0
}

fn aggregate(x: &pb::AggregateExec, ctx: DecodeCtx<'_>, p: &str) -> Result<Arc<dyn ExecutionPlan>> {
    let f = |field: &str| format!("{p}.{field}");
    let inp = input(&x.input, ctx, &f("input"))?;
    let child_schema = inp.schema();
    let mode = match known_enum(x.mode, &f("mode"))? {
        pb::AggregateMode::Unspecified => {
            return Err(BallistaError::invalid(
                &f("mode"),
                "aggregate mode is not set",
            ));
        }
        pb::AggregateMode::Partial => AggregateMode::Partial,
        pb::AggregateMode::Final => AggregateMode::Final,
        pb::AggregateMode::FinalPartitioned => AggregateMode::FinalPartitioned,
        pb::AggregateMode::Single => AggregateMode::Single,
        pb::AggregateMode::SinglePartitioned => AggregateMode::SinglePartitioned,
        pb::AggregateMode::PartialReduce => AggregateMode::PartialReduce,
    };
    let input_schema: SchemaRef = required_schema(&x.input_schema, &f("input_schema"))?;
    let named = |v: &[pb::NamedPhysicalExpr],
                 field: &str|
     -> Result<Vec<(Arc<dyn PhysicalExpr>, String)>> {
        v.iter()
            .enumerate()
            .map(|(i, e)| {
                let ep = format!("{p}.{field}[{i}].expression");
                Ok((
                    decode_required(&e.expression, &child_schema, ctx, &ep)?,
                    e.name.clone(),
                ))
            })
            .collect()
    };
    let group_expr = named(&x.group_by, "group_by")?;
    let has_grouping_set = !x.grouping_sets.is_empty();
    let (null_expr, groups) = if has_grouping_set {
        if x.null_group_by.len() != group_expr.len() {
            return Err(BallistaError::invalid(
                &f("null_group_by"),
                format!(
                    "{} entries for {} group-by expressions",
                    x.null_group_by.len(),
                    group_expr.len()
                ),
            ));
        }
        let groups = x
            .grouping_sets
            .iter()
            .enumerate()
            .map(|(i, g)| {
                if g.is_null.len() != group_expr.len() {
                    return Err(BallistaError::invalid(
                        &format!("{p}.grouping_sets[{i}].is_null"),
                        format!(
                            "{} flags for {} group-by expressions",
                            g.is_null.len(),
                            group_expr.len()
                        ),
                    ));
                }
                Ok(g.is_null.clone())
            })
            .collect::<Result<Vec<_>>>()?;
        (named(&x.null_group_by, "null_group_by")?, groups)
    } else {
        (vec![], vec![vec![false; group_expr.len()]])
    };
    let mut aggr_expr = Vec::with_capacity(x.aggregates.len());
    let mut filters = Vec::with_capacity(x.aggregates.len());
    let registry = ctx.task.aggregate_functions();
    for (i, a) in x.aggregates.iter().enumerate() {
        let ap = format!("{p}.aggregates[{i}]");
        let Some(udaf) = registry
            .get(&a.name)
            .or_else(|| registry.get(&a.name.to_lowercase()))
        else {
            return Err(BallistaError::Plan(format!(
                "{ap}.name: unknown aggregate function `{}`{}",
                a.name,
                did_you_mean(&a.name, registry.keys())
            )));
        };
        let args = decode_exprs(&a.arguments, &input_schema, ctx, &format!("{ap}.arguments"))?;
        let order_by =
            sort_exprs_from_proto(&a.order_by, &input_schema, ctx, &format!("{ap}.order_by"))?;
        let agg = AggregateExprBuilder::new(Arc::clone(udaf), args)
            .schema(Arc::clone(&input_schema))
            .alias(&a.output_name)
            .with_ignore_nulls(a.ignore_nulls)
            .with_distinct(a.distinct)
            .order_by(order_by)
            .build()
            .map_err(|e| BallistaError::Plan(format!("{ap}: {e}")))?;
        aggr_expr.push(Arc::new(agg));
        let fp = format!("{ap}.filter");
        filters.push(
            a.filter
                .as_ref()
                .map(|e| {
                    let pred = super::expr::decode_expr(e, &input_schema, ctx, &fp)?;
                    let dt = type_at(&pred, &input_schema, &fp)?;
                    if dt != DataType::Boolean {
                        return Err(BallistaError::Plan(format!(
                            "{fp}: an aggregate filter must be boolean, found {dt}"
                        )));
                    }
                    Ok(pred)
                })
                .transpose()?,
        );
    }
    let group_by = PhysicalGroupBy::new(group_expr, null_expr, groups, has_grouping_set);
    let agg = AggregateExec::try_new(mode, group_by, aggr_expr, filters, inp, input_schema)?;
    let limit = x.limit.map(|l| usize_of(l, &f("limit"))).transpose()?;
    Ok(Arc::new(
        agg.with_limit_options(limit.map(LimitOptions::new)),
    ))
}

fn window(x: &pb::WindowExec, ctx: DecodeCtx<'_>, p: &str) -> Result<Arc<dyn ExecutionPlan>> {
    let inp = input(&x.input, ctx, &format!("{p}.input"))?;
    let schema = inp.schema();
    let mut exprs = Vec::with_capacity(x.calls.len());
    for (i, c) in x.calls.iter().enumerate() {
        let cp = format!("{p}.calls[{i}]");
        let fun = if let Some(w) = ctx.task.window_functions().get(&c.name) {
            WindowFunctionDefinition::WindowUDF(Arc::clone(w))
        } else if let Some(a) = ctx.task.aggregate_functions().get(&c.name) {
            WindowFunctionDefinition::AggregateUDF(Arc::clone(a))
        } else {
            let names: Vec<&String> = ctx
                .task
                .window_functions()
                .keys()
                .chain(ctx.task.aggregate_functions().keys())
                .collect();
            return Err(BallistaError::Plan(format!(
                "{cp}.name: unknown window function `{}`{}",
                c.name,
                did_you_mean(&c.name, names.into_iter())
            )));
        };
        let args = decode_exprs(&c.arguments, &schema, ctx, &format!("{cp}.arguments"))?;
        let partition_by =
            decode_exprs(&c.partition_by, &schema, ctx, &format!("{cp}.partition_by"))?;
        let order_by = sort_exprs_from_proto(&c.order_by, &schema, ctx, &format!("{cp}.order_by"))?;
        let fp = format!("{cp}.frame");
        let frame = window_frame_from_proto(required(&c.frame, &fp)?, &fp)?;
        let extended = schema_add_window_field(&args, &schema, &fun, &c.output_name)?;
        exprs.push(
            create_window_expr(
                &fun,
                c.output_name.clone(),
                &args,
                &partition_by,
                &order_by,
                Arc::new(frame),
                extended,
                c.ignore_nulls,
                c.distinct,
                None,
            )
            .map_err(|e| BallistaError::Plan(format!("{cp}: {e}")))?,
        );
    }
    if exprs.is_empty() {
        return Err(BallistaError::invalid(
            &format!("{p}.calls"),
            "a window needs at least one call",
        ));
    }
    let partition_keys = decode_exprs(
        &x.partition_keys,
        &schema,
        ctx,
        &format!("{p}.partition_keys"),
    )?;
    let can_repartition = !partition_keys.is_empty();
    if x.bounded {
        // The spec leaves the input order mode to the engine: recompute it
        // from the input's ordering as DataFusion's planner does.
        let mode = get_window_mode(exprs[0].partition_by(), exprs[0].order_by(), &inp)?
            .map(|(_, m)| m)
            .unwrap_or(InputOrderMode::Sorted);
        Ok(Arc::new(BoundedWindowAggExec::try_new(
            exprs,
            inp,
            mode,
            can_repartition,
        )?))
    } else {
        Ok(Arc::new(WindowAggExec::try_new(
            exprs,
            inp,
            can_repartition,
        )?))
    }
}

/// Splits a spec file path (an absolute local path or a URL) into the
/// object store URL and the path within the store.
fn split_path(path: &str, field: &str) -> Result<(ObjectStoreUrl, ObjectPath)> {
    let (base, rest) = match path.find("://") {
        None if path.starts_with('/') => ("file://", path),
        None => {
            return Err(BallistaError::invalid(
                field,
                format!("`{path}` is neither an absolute path nor a URL"),
            ));
        }
        Some(i) => {
            let after = &path[i + 3..];
            let slash = after.find('/').unwrap_or(after.len());
            path.split_at(i + 3 + slash)
        }
    };
    let url = ObjectStoreUrl::parse(base).map_err(|e| {
        BallistaError::invalid(field, format!("bad object store URL `{base}`: {e}"))
    })?;
    let location = ObjectPath::parse(rest.trim_start_matches('/'))
        .map_err(|e| BallistaError::invalid(field, format!("bad path `{rest}`: {e}")))?;
    Ok((url, location))
}

fn file_scan(s: &pb::FileScanExec, ctx: DecodeCtx<'_>, p: &str) -> Result<Arc<dyn ExecutionPlan>> {
    let f = |field: &str| format!("{p}.{field}");
    let file_schema = required_schema(&s.file_schema, &f("file_schema"))?;
    let partition_cols = s
        .partition_columns
        .iter()
        .enumerate()
        .map(|(i, c)| field_from_proto(c, &format!("{p}.partition_columns[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let table_schema = TableSchema::builder(Arc::clone(&file_schema))
        .with_table_partition_cols(partition_cols.clone())
        .build();
    let full_schema = Schema::new(
        file_schema
            .fields()
            .iter()
            .cloned()
            .chain(partition_cols.iter().cloned())
            .collect::<Vec<_>>(),
    );
    let format: pb::FileFormat = known_enum(s.format, &f("format"))?;
    let pruning = s
        .pruning_predicate
        .as_ref()
        .map(|e| super::expr::decode_expr(e, &full_schema, ctx, &f("pruning_predicate")))
        .transpose()?;
    let source: Arc<dyn FileSource> = match format {
        pb::FileFormat::Unspecified => {
            return Err(BallistaError::invalid(
                &f("format"),
                "file format is not set",
            ));
        }
        pb::FileFormat::Parquet => {
            let mut options = TableParquetOptions {
                global: ctx
                    .task
                    .session_config()
                    .options()
                    .execution
                    .parquet
                    .clone(),
                ..Default::default()
            };
            if let Some(pb::file_scan_exec::FormatOptions::Parquet(o)) = &s.format_options {
                options.global.pushdown_filters = o.pushdown_filters;
                options.global.reorder_filters = o.reorder_filters;
                options.global.enable_page_index = o.enable_page_index;
            }
            let mut src = ParquetSource::new(table_schema).with_table_parquet_options(options);
            if let Some(pred) = pruning {
                src = src.with_predicate(pred);
            }
            Arc::new(src)
        }
        pb::FileFormat::Csv => {
            let Some(pb::file_scan_exec::FormatOptions::Csv(o)) = &s.format_options else {
                return Err(BallistaError::missing(&f("csv")));
            };
            let byte = |v: &str, field: &str| -> Result<u8> {
                match v.as_bytes() {
                    [b] => Ok(*b),
                    _ => Err(BallistaError::invalid(
                        &format!("{p}.csv.{field}"),
                        format!("must be exactly one byte, got {v:?}"),
                    )),
                }
            };
            let opt =
                |v: &Option<String>, field: &str| v.as_deref().map(|v| byte(v, field)).transpose();
            let options = CsvOptions {
                has_header: Some(o.has_header),
                delimiter: byte(&o.delimiter, "delimiter")?,
                quote: byte(&o.quote, "quote")?,
                newlines_in_values: Some(o.newlines_in_values),
                ..Default::default()
            };
            Arc::new(
                CsvSource::new(table_schema)
                    .with_csv_options(options)
                    .with_escape(opt(&o.escape, "escape")?)
                    .with_terminator(opt(&o.terminator, "terminator")?)
                    .with_comment(opt(&o.comment, "comment")?),
            )
        }
        pb::FileFormat::Json => Arc::new(JsonSource::new(table_schema)),
        pb::FileFormat::Arrow => Arc::new(ArrowSource::new_file_source(table_schema)),
        pb::FileFormat::Avro => {
            return Err(BallistaError::NotImplemented(format!(
                "{}: Avro scans are not supported by this executor (DataFusion is built \
                 without the `avro` feature)",
                f("format")
            )));
        }
    };

    let mut store_url: Option<ObjectStoreUrl> = None;
    let mut groups = Vec::with_capacity(s.file_groups.len());
    for (gi, g) in s.file_groups.iter().enumerate() {
        let mut files = Vec::with_capacity(g.files.len());
        for (fi, file) in g.files.iter().enumerate() {
            let fp = format!("{p}.file_groups[{gi}].files[{fi}]");
            let (url, location) = split_path(&file.path, &format!("{fp}.path"))?;
            match &store_url {
                None => store_url = Some(url),
                Some(u) if u.as_str() == url.as_str() => {}
                Some(u) => {
                    return Err(BallistaError::invalid(
                        &format!("{fp}.path"),
                        format!(
                            "all files of a scan must be in one object store; `{}` is not in `{}`",
                            file.path,
                            u.as_str()
                        ),
                    ));
                }
            }
            let last_modified =
                arrow::temporal_conversions::timestamp_ms_to_datetime(file.last_modified_ms)
                    .ok_or_else(|| {
                        BallistaError::invalid(&format!("{fp}.last_modified_ms"), "out of range")
                    })?
                    .and_utc();
            let mut pf = PartitionedFile::new_from_meta(ObjectMeta {
                location,
                last_modified,
                size: file.size,
                e_tag: None,
                version: None,
            });
            if let Some(r) = &file.range {
                if r.start < 0 || r.end < r.start {
                    return Err(BallistaError::invalid(
                        &format!("{fp}.range"),
                        format!("invalid byte range {}..{}", r.start, r.end),
                    ));
                }
                pf = pf.with_range(r.start, r.end);
            }
            if file.partition_values.len() != partition_cols.len() {
                return Err(BallistaError::invalid(
                    &format!("{fp}.partition_values"),
                    format!(
                        "{} values for {} partition columns",
                        file.partition_values.len(),
                        partition_cols.len()
                    ),
                ));
            }
            pf.partition_values = file
                .partition_values
                .iter()
                .enumerate()
                .map(|(i, v)| scalar_from_proto(v, &format!("{fp}.partition_values[{i}]")))
                .collect::<Result<_>>()?;
            files.push(pf);
        }
        groups.push(FileGroup::new(files));
    }
    let store_url = store_url.unwrap_or_else(ObjectStoreUrl::local_filesystem);
    let source = with_cached_footers(source, &store_url, ctx);
    let ordering = if s.output_ordering.is_empty() {
        vec![]
    } else {
        LexOrdering::new(sort_exprs_from_proto(
            &s.output_ordering,
            &full_schema,
            ctx,
            &f("output_ordering"),
        )?)
        .into_iter()
        .collect()
    };
    let compression = match known_enum(s.compression, &f("compression"))? {
        pb::FileCompression::Unspecified => FileCompressionType::UNCOMPRESSED,
        pb::FileCompression::Gzip => FileCompressionType::GZIP,
        pb::FileCompression::Bzip2 => FileCompressionType::BZIP2,
        pb::FileCompression::Xz => FileCompressionType::XZ,
        pb::FileCompression::Zstd => FileCompressionType::ZSTD,
    };
    let proj = projection(&s.projection, &full_schema, &f("projection"))?;
    let conf = FileScanConfigBuilder::new(store_url, source)
        .with_file_groups(groups)
        .with_projection_indices(proj)?
        .with_limit(s.limit.map(|l| usize_of(l, &f("limit"))).transpose()?)
        .with_output_ordering(ordering)
        .with_file_compression_type(compression)
        .build();
    Ok(DataSourceExec::from_data_source(conf))
}

/// A Parquet source that reads footers and page indexes through the
/// runtime's file metadata cache, as DataFusion's own Parquet tables do: an
/// executor then reads a file's footer once, not once per task. (The cache
/// checks each file's size and modification time, which the spec carries.)
/// Other sources, and stores the runtime doesn't know (the scan reports
/// that when it runs), are left as they are.
fn with_cached_footers(
    source: Arc<dyn FileSource>,
    store_url: &ObjectStoreUrl,
    ctx: DecodeCtx<'_>,
) -> Arc<dyn FileSource> {
    let Some(parquet) = source.downcast_ref::<ParquetSource>() else {
        return source;
    };
    let runtime = ctx.task.runtime_env();
    let Ok(store) = runtime.object_store(store_url) else {
        return source;
    };
    let footers = runtime.cache_manager.get_file_metadata_cache();
    Arc::new(parquet.clone().with_parquet_file_reader_factory(Arc::new(
        CachedParquetFileReaderFactory::new(store, footers),
    )))
}

/// Decodes a partitioning scheme over `schema`, with the hash function it
/// names (meaningful for hash partitioning only).
pub(crate) fn decode_partitioning(
    part: &pb::Partitioning,
    schema: &SchemaRef,
    ctx: DecodeCtx<'_>,
    pp: &str,
) -> Result<(Partitioning, pb::HashFunction)> {
    Ok(match &part.scheme {
        Some(pb::partitioning::Scheme::Hash(h)) => {
            let function =
                known_enum::<pb::HashFunction>(h.function, &format!("{pp}.hash.function"))?;
            let keys = decode_exprs(&h.keys, schema, ctx, &format!("{pp}.hash.keys"))?;
            let n = positive(h.partition_count, &format!("{pp}.hash.partition_count"))?;
            (Partitioning::Hash(keys, n), function)
        }
        Some(pb::partitioning::Scheme::RoundRobin(n)) => (
            Partitioning::RoundRobinBatch(positive(*n, &format!("{pp}.round_robin"))?),
            pb::HashFunction::Unspecified,
        ),
        Some(pb::partitioning::Scheme::Unknown(n)) => (
            Partitioning::UnknownPartitioning(positive(*n, &format!("{pp}.unknown"))?),
            pb::HashFunction::Unspecified,
        ),
        None => return Err(BallistaError::invalid(pp, "no scheme is set")),
    })
}

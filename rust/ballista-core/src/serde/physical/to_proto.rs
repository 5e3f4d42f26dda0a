//! DataFusion `ExecutionPlan` -> spec `PhysicalPlanNode`.
//!
//! Operators are recognised by downcasting; anything else goes to the
//! extension codec, first as a spec node (runtime operators), then as an
//! engine extension, and otherwise fails naming the operator. This module
//! must not emit DataFusion-specific bytes outside `ExtensionExec` /
//! `PhysicalExtensionExpr`.
//!
//! Where a DataFusion operator carries a setting the spec has no field for
//! but an equivalent spec shape exists, the encoder emits that shape rather
//! than dropping it: a `fetch` on `FilterExec`, `HashJoinExec` or
//! `ProjectionExec`-free scans becomes a `LocalLimitExec` above the node
//! (DataFusion applies these fetches per partition), and a scan projection
//! with computed expressions becomes a scan of all columns under a
//! `ProjectionExec`. Re-encoding the decoded plan gives the same bytes.

use std::sync::Arc;

use arrow::datatypes::Schema;
use ballista_proto::v1 as pb;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::{CsvSource, FileScanConfig, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{BinaryExpr, Column, Literal};
use datafusion::physical_expr::window::{
    PlainAggregateWindowExpr, SlidingAggregateWindowExpr, StandardWindowExpr,
};
use datafusion::physical_expr::{Partitioning, PhysicalExpr};
use datafusion::physical_expr_common::physical_expr::snapshot_physical_expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::WindowExpr;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
#[allow(deprecated)] // DataFusion 55 still plans it; the spec keeps the node
use datafusion::physical_plan::coalesce_batches::CoalesceBatchesExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, PartitionMode, SortMergeJoinExec,
};
use datafusion::physical_plan::limit::{GlobalLimitExec, LocalLimitExec};
use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec, WindowUDFExpr};

use super::expr::{
    exprs_to_proto, index_to_u32, join_filter_to_proto, physical_expr_to_proto, sort_exprs_to_proto,
};
use super::extension::PhysicalExtensionCodec;
use crate::error::{BallistaError, Result};
use crate::serde::common::{join_type_to_proto, null_equality_to_proto, window_frame_to_proto};
use crate::serde::types::{batches_to_ipc, field_to_proto, scalar_to_proto, schema_to_proto};

use pb::physical_plan_node::Node;

fn node(n: Node) -> pb::PhysicalPlanNode {
    pb::PhysicalPlanNode { node: Some(n) }
}

fn child(
    plan: &Arc<dyn ExecutionPlan>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Option<Box<pb::PhysicalPlanNode>>> {
    Ok(Some(Box::new(encode_plan(plan, codec)?)))
}

fn u64_of(n: usize) -> u64 {
    n as u64
}

fn u32_of(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| BallistaError::Internal(format!("{what} {n} exceeds u32")))
}

fn indices(v: &[usize]) -> Result<pb::ColumnIndices> {
    Ok(pb::ColumnIndices {
        indices: v.iter().map(|i| index_to_u32(*i)).collect::<Result<_>>()?,
    })
}

/// Wraps `n` in a `LocalLimitExec` when `fetch` is set (see module doc).
fn with_local_fetch(n: pb::PhysicalPlanNode, fetch: Option<usize>) -> pb::PhysicalPlanNode {
    match fetch {
        None => n,
        Some(f) => node(Node::LocalLimit(Box::new(pb::LocalLimitExec {
            input: Some(Box::new(n)),
            fetch: u64_of(f),
        }))),
    }
}

fn join_on_to_proto(
    on: datafusion::physical_plan::joins::utils::JoinOnRef<'_>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Vec<pb::PhysicalJoinOn>> {
    on.iter()
        .map(|(l, r)| {
            Ok(pb::PhysicalJoinOn {
                left: Some(physical_expr_to_proto(l, codec)?),
                right: Some(physical_expr_to_proto(r, codec)?),
            })
        })
        .collect()
}

/// Encodes an execution plan tree.
pub(crate) fn encode_plan(
    plan: &Arc<dyn ExecutionPlan>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalPlanNode> {
    let any: &dyn ExecutionPlan = plan.as_ref();
    if let Some(ds) = any.downcast_ref::<DataSourceExec>() {
        let source = ds.data_source();
        if let Some(conf) = source.downcast_ref::<FileScanConfig>() {
            return file_scan_to_proto(conf, codec);
        }
        if let Some(mem) = source.downcast_ref::<MemorySourceConfig>() {
            return memory_to_proto(mem);
        }
    } else if let Some(f) = any.downcast_ref::<FilterExec>() {
        let n = node(Node::Filter(Box::new(pb::FilterExec {
            input: child(f.input(), codec)?,
            predicate: Some(physical_expr_to_proto(f.predicate(), codec)?),
            projection: f.projection().as_ref().map(|p| indices(p)).transpose()?,
            default_selectivity: u32::from(f.default_selectivity()),
        })));
        return Ok(with_local_fetch(n, f.fetch()));
    } else if let Some(p) = any.downcast_ref::<ProjectionExec>() {
        return Ok(node(Node::Projection(Box::new(pb::ProjectionExec {
            input: child(p.input(), codec)?,
            expressions: p
                .expr()
                .iter()
                .map(|e| {
                    Ok(pb::NamedPhysicalExpr {
                        expression: Some(physical_expr_to_proto(&e.expr, codec)?),
                        name: e.alias.clone(),
                    })
                })
                .collect::<Result<_>>()?,
        }))));
    } else if let Some(a) = any.downcast_ref::<AggregateExec>() {
        return aggregate_to_proto(a, codec);
    } else if let Some(j) = any.downcast_ref::<HashJoinExec>() {
        let n = node(Node::HashJoin(Box::new(pb::HashJoinExec {
            left: child(j.left(), codec)?,
            right: child(j.right(), codec)?,
            on: join_on_to_proto(j.on(), codec)?,
            filter: j
                .filter()
                .map(|f| join_filter_to_proto(f, codec))
                .transpose()?,
            join_type: join_type_to_proto(*j.join_type()) as i32,
            partition_mode: match j.partition_mode() {
                PartitionMode::Partitioned => pb::PartitionMode::Partitioned,
                PartitionMode::CollectLeft => pb::PartitionMode::CollectLeft,
                PartitionMode::Auto => pb::PartitionMode::Auto,
            } as i32,
            null_equality: null_equality_to_proto(j.null_equality()) as i32,
            projection: j.projection.as_ref().map(|p| indices(p)).transpose()?,
            null_aware: j.null_aware,
        })));
        return Ok(with_local_fetch(n, j.fetch()));
    } else if let Some(j) = any.downcast_ref::<SortMergeJoinExec>() {
        return Ok(node(Node::SortMergeJoin(Box::new(pb::SortMergeJoinExec {
            left: child(j.left(), codec)?,
            right: child(j.right(), codec)?,
            on: join_on_to_proto(j.on(), codec)?,
            filter: j
                .filter()
                .as_ref()
                .map(|f| join_filter_to_proto(f, codec))
                .transpose()?,
            join_type: join_type_to_proto(j.join_type()) as i32,
            sort_options: j
                .sort_options()
                .iter()
                .map(crate::serde::types::sort_options_to_proto)
                .collect(),
            null_equality: null_equality_to_proto(j.null_equality()) as i32,
        }))));
    } else if let Some(j) = any.downcast_ref::<NestedLoopJoinExec>() {
        return Ok(node(Node::NestedLoopJoin(Box::new(
            pb::NestedLoopJoinExec {
                left: child(j.left(), codec)?,
                right: child(j.right(), codec)?,
                join_type: join_type_to_proto(*j.join_type()) as i32,
                filter: j
                    .filter()
                    .map(|f| join_filter_to_proto(f, codec))
                    .transpose()?,
                projection: j.projection().as_ref().map(|p| indices(p)).transpose()?,
            },
        ))));
    } else if let Some(j) = any.downcast_ref::<CrossJoinExec>() {
        return Ok(node(Node::CrossJoin(Box::new(pb::CrossJoinExec {
            left: child(j.left(), codec)?,
            right: child(j.right(), codec)?,
        }))));
    } else if let Some(s) = any.downcast_ref::<SortExec>() {
        return Ok(node(Node::Sort(Box::new(pb::SortExec {
            input: child(s.input(), codec)?,
            order: sort_exprs_to_proto(s.expr().iter(), codec)?,
            fetch: s.fetch().map(u64_of),
            preserve_partitioning: s.preserve_partitioning(),
        }))));
    } else if let Some(s) = any.downcast_ref::<SortPreservingMergeExec>() {
        return Ok(node(Node::SortPreservingMerge(Box::new(
            pb::SortPreservingMergeExec {
                input: child(s.input(), codec)?,
                order: sort_exprs_to_proto(s.expr().iter(), codec)?,
                fetch: s.fetch().map(u64_of),
            },
        ))));
    } else if let Some(l) = any.downcast_ref::<GlobalLimitExec>() {
        return Ok(node(Node::GlobalLimit(Box::new(pb::GlobalLimitExec {
            input: child(l.input(), codec)?,
            skip: u64_of(l.skip()),
            fetch: l.fetch().map(u64_of),
        }))));
    } else if let Some(l) = any.downcast_ref::<LocalLimitExec>() {
        return Ok(node(Node::LocalLimit(Box::new(pb::LocalLimitExec {
            input: child(l.input(), codec)?,
            fetch: u64_of(l.fetch()),
        }))));
    } else if let Some(u) = any.downcast_ref::<UnionExec>() {
        return Ok(node(Node::Union(pb::UnionExec {
            inputs: u
                .inputs()
                .iter()
                .map(|i| encode_plan(i, codec))
                .collect::<Result<_>>()?,
        })));
    } else if let Some(w) = any.downcast_ref::<WindowAggExec>() {
        return window_to_proto(w.input(), w.window_expr(), w.partition_keys(), false, codec);
    } else if let Some(w) = any.downcast_ref::<BoundedWindowAggExec>() {
        return window_to_proto(w.input(), w.window_expr(), w.partition_keys(), true, codec);
    } else if let Some(c) = any.downcast_ref::<CoalescePartitionsExec>() {
        return Ok(node(Node::CoalescePartitions(Box::new(
            pb::CoalescePartitionsExec {
                input: child(c.input(), codec)?,
                fetch: c.fetch().map(u64_of),
            },
        ))));
    } else if let Some(c) = {
        #[allow(deprecated)]
        any.downcast_ref::<CoalesceBatchesExec>()
    } {
        return Ok(node(Node::CoalesceBatches(Box::new(
            pb::CoalesceBatchesExec {
                input: child(c.input(), codec)?,
                target_batch_size: u64_of(c.target_batch_size()),
                fetch: c.fetch().map(u64_of),
            },
        ))));
    } else if let Some(r) = any.downcast_ref::<RepartitionExec>() {
        // DataFusion's repartition hash never leaves the task, so it need not
        // be the spec hash.
        let partitioning =
            encode_partitioning(r.partitioning(), pb::HashFunction::EngineLocal, codec)?;
        return Ok(node(Node::Repartition(Box::new(pb::RepartitionExec {
            input: child(r.input(), codec)?,
            partitioning: Some(partitioning),
            preserve_order: r.preserve_order(),
        }))));
    } else if let Some(e) = any.downcast_ref::<EmptyExec>() {
        return Ok(node(Node::Empty(pb::EmptyExec {
            schema: Some(schema_to_proto(&e.schema())?),
            partitions: u32_of(e.properties().partitioning.partition_count(), "partitions")?,
        })));
    } else if let Some(e) = any.downcast_ref::<PlaceholderRowExec>() {
        return Ok(node(Node::PlaceholderRow(pb::PlaceholderRowExec {
            schema: Some(schema_to_proto(&e.schema())?),
            partitions: u32_of(e.properties().partitioning.partition_count(), "partitions")?,
        })));
    }

    // Not a spec operator DataFusion ships: a runtime operator or an
    // engine extension, through the codec.
    let inputs = plan
        .children()
        .into_iter()
        .map(|c| encode_plan(c, codec))
        .collect::<Result<Vec<_>>>()?;
    if let Some(n) = codec.try_encode_node(plan, &inputs)? {
        return Ok(n);
    }
    if let Some(m) = any.downcast_ref::<crate::udf::MapBatchesExec>() {
        let [input] = <[_; 1]>::try_from(inputs).map_err(|i| {
            BallistaError::Internal(format!("MapBatchesExec has one input, {} encoded", i.len()))
        })?;
        return Ok(node(Node::MapBatches(Box::new(pb::MapBatchesExec {
            input: Some(Box::new(input)),
            function: Some(m.function().clone()),
            output_schema: Some(schema_to_proto(&m.schema())?),
        }))));
    }
    if let Some(extension) = codec.try_encode_extension(plan)? {
        return Ok(node(Node::Extension(pb::ExtensionExec {
            extension: Some(extension),
            inputs,
            schema: Some(schema_to_proto(&plan.schema())?),
        })));
    }
    Err(BallistaError::NotImplemented(format!(
        "operator {} is not in the Ballista spec and no extension codec handles it",
        plan.name()
    )))
}

fn aggregate_to_proto(
    a: &AggregateExec,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalPlanNode> {
    let limit = match a.limit_options() {
        None => None,
        Some(l) if l.descending().is_none() => Some(u64_of(l.limit())),
        Some(_) => {
            return Err(BallistaError::NotImplemented(
                "AggregateExec with an ordered (top-k by min/max) limit is not in the Ballista \
                 spec"
                    .to_string(),
            ));
        }
    };
    let group_by = a.group_expr();
    let named = |v: &[(Arc<dyn PhysicalExpr>, String)]| -> Result<Vec<pb::NamedPhysicalExpr>> {
        v.iter()
            .map(|(e, name)| {
                Ok(pb::NamedPhysicalExpr {
                    expression: Some(physical_expr_to_proto(e, codec)?),
                    name: name.clone(),
                })
            })
            .collect()
    };
    let aggregates = a
        .aggr_expr()
        .iter()
        .zip(a.filter_expr())
        .map(|(agg, filter)| {
            if agg.is_reversed() {
                return Err(BallistaError::NotImplemented(format!(
                    "reversed aggregate `{}` is not in the Ballista spec",
                    agg.name()
                )));
            }
            Ok(pb::PhysicalAggregateCall {
                name: agg.fun().name().to_string(),
                arguments: exprs_to_proto(&agg.expressions(), codec)?,
                distinct: agg.is_distinct(),
                ignore_nulls: agg.ignore_nulls(),
                order_by: sort_exprs_to_proto(agg.order_bys(), codec)?,
                output_name: agg.name().to_string(),
                filter: filter
                    .as_ref()
                    .map(|f| physical_expr_to_proto(f, codec))
                    .transpose()?,
            })
        })
        .collect::<Result<_>>()?;
    // A plain GROUP BY is one all-false set; the spec leaves it implicit so
    // that simple plans stay small.
    let grouping_sets = if group_by.has_grouping_set() {
        group_by
            .groups()
            .iter()
            .map(|g| pb::GroupingSetMask { is_null: g.clone() })
            .collect()
    } else {
        vec![]
    };
    Ok(node(Node::Aggregate(Box::new(pb::AggregateExec {
        input: child(a.input(), codec)?,
        mode: match a.mode() {
            AggregateMode::Partial => pb::AggregateMode::Partial,
            AggregateMode::Final => pb::AggregateMode::Final,
            AggregateMode::FinalPartitioned => pb::AggregateMode::FinalPartitioned,
            AggregateMode::Single => pb::AggregateMode::Single,
            AggregateMode::SinglePartitioned => pb::AggregateMode::SinglePartitioned,
            AggregateMode::PartialReduce => pb::AggregateMode::PartialReduce,
        } as i32,
        group_by: named(group_by.expr())?,
        aggregates,
        input_schema: Some(schema_to_proto(&a.input_schema())?),
        grouping_sets,
        null_group_by: if group_by.has_grouping_set() {
            named(group_by.null_expr())?
        } else {
            vec![]
        },
        limit,
    }))))
}

fn window_to_proto(
    input: &Arc<dyn ExecutionPlan>,
    exprs: &[Arc<dyn WindowExpr>],
    partition_keys: Vec<Arc<dyn PhysicalExpr>>,
    bounded: bool,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalPlanNode> {
    let calls = exprs
        .iter()
        .map(|w| {
            let any = w.as_any();
            let mut args = w.expressions();
            let (name, ignore_nulls, distinct) =
                if let Some(p) = any.downcast_ref::<PlainAggregateWindowExpr>() {
                    let a = p.get_aggregate_expr();
                    (
                        a.fun().name().to_string(),
                        a.ignore_nulls(),
                        a.is_distinct(),
                    )
                } else if let Some(s) = any.downcast_ref::<SlidingAggregateWindowExpr>() {
                    let a = s.get_aggregate_expr();
                    (
                        a.fun().name().to_string(),
                        a.ignore_nulls(),
                        a.is_distinct(),
                    )
                } else if let Some(s) = any.downcast_ref::<StandardWindowExpr>() {
                    let Some(udf) = s
                        .get_standard_func_expr()
                        .as_any()
                        .downcast_ref::<WindowUDFExpr>()
                    else {
                        return Err(BallistaError::NotImplemented(format!(
                            "window expression `{}` is not in the Ballista spec",
                            w.name()
                        )));
                    };
                    // The full argument list, including literal arguments
                    // (e.g. the offset of `lag`).
                    args = udf.args().to_vec();
                    (udf.fun().name().to_string(), false, false)
                } else {
                    return Err(BallistaError::NotImplemented(format!(
                        "window expression `{}` is not in the Ballista spec",
                        w.name()
                    )));
                };
            Ok(pb::PhysicalWindowCall {
                name,
                arguments: exprs_to_proto(&args, codec)?,
                partition_by: exprs_to_proto(w.partition_by(), codec)?,
                order_by: sort_exprs_to_proto(w.order_by(), codec)?,
                frame: Some(window_frame_to_proto(w.get_window_frame())?),
                output_name: w.name().to_string(),
                ignore_nulls,
                distinct,
            })
        })
        .collect::<Result<_>>()?;
    Ok(node(Node::Window(Box::new(pb::WindowExec {
        input: child(input, codec)?,
        calls,
        partition_keys: exprs_to_proto(&partition_keys, codec)?,
        bounded,
    }))))
}

fn memory_to_proto(mem: &MemorySourceConfig) -> Result<pb::PhysicalPlanNode> {
    let original = mem.original_schema();
    let (schema, partitions) = match mem.projection() {
        None => (original, mem.partitions().to_vec()),
        Some(p) => (
            Arc::new(original.project(p)?),
            mem.partitions()
                .iter()
                .map(|batches| {
                    batches
                        .iter()
                        .map(|b| b.project(p))
                        .collect::<std::result::Result<Vec<_>, _>>()
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
        ),
    };
    let partitions = partitions
        .iter()
        .map(|batches| {
            Ok(pb::ValuesPartition {
                arrow_ipc_stream: batches_to_ipc(&schema, batches)?,
            })
        })
        .collect::<Result<_>>()?;
    let n = node(Node::Values(pb::ValuesExec {
        schema: Some(schema_to_proto(&schema)?),
        partitions,
    }));
    Ok(with_local_fetch(
        n,
        datafusion::datasource::source::DataSource::fetch(mem),
    ))
}

/// Drops `true` conjuncts (left by snapshotting unfilled dynamic filters)
/// from a scan predicate; `None` when nothing is left.
fn prune_true(expr: Arc<dyn PhysicalExpr>) -> Option<Arc<dyn PhysicalExpr>> {
    if let Some(l) = expr.downcast_ref::<Literal>()
        && l.value() == &datafusion::common::ScalarValue::Boolean(Some(true))
    {
        return None;
    }
    if let Some(b) = expr.downcast_ref::<BinaryExpr>()
        && b.op() == &Operator::And
    {
        let l = prune_true(Arc::clone(b.left()));
        let r = prune_true(Arc::clone(b.right()));
        return match (l, r) {
            (None, None) => None,
            (Some(x), None) | (None, Some(x)) => Some(x),
            (Some(l), Some(r)) => Some(Arc::new(BinaryExpr::new(l, Operator::And, r))),
        };
    }
    Some(expr)
}

fn file_scan_to_proto(
    conf: &FileScanConfig,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalPlanNode> {
    let source = conf.file_source();
    let file_type = source.file_type();
    let format = match file_type {
        "parquet" => pb::FileFormat::Parquet,
        "csv" => pb::FileFormat::Csv,
        "json" => pb::FileFormat::Json,
        "arrow" => pb::FileFormat::Arrow,
        "avro" => pb::FileFormat::Avro,
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "DataSourceExec over `{other}` files is not in the Ballista spec"
            )));
        }
    };
    let format_options = if let Some(p) = source.downcast_ref::<ParquetSource>() {
        let o = &p.table_parquet_options().global;
        Some(pb::file_scan_exec::FormatOptions::Parquet(
            pb::ParquetScanOptions {
                pushdown_filters: o.pushdown_filters,
                reorder_filters: o.reorder_filters,
                enable_page_index: o.enable_page_index,
            },
        ))
    } else if let Some(c) = source.downcast_ref::<CsvSource>() {
        let ch = |b: u8| (b as char).to_string();
        Some(pb::file_scan_exec::FormatOptions::Csv(pb::CsvScanOptions {
            has_header: c.has_header(),
            delimiter: ch(c.delimiter()),
            quote: ch(c.quote()),
            escape: c.escape().map(ch),
            terminator: c.terminator().map(ch),
            comment: c.comment().map(ch),
            newlines_in_values: c.newlines_in_values(),
        }))
    } else {
        None
    };

    // The scan's projection: plain columns travel as indices; anything
    // computed becomes a ProjectionExec over a scan of all columns.
    let mut wrap_projection = None;
    let projection = match source.projection() {
        None => None,
        Some(p) => {
            let cols: Option<Vec<usize>> = p
                .iter()
                .map(|e| {
                    e.expr
                        .downcast_ref::<Column>()
                        .filter(|c| c.name() == e.alias)
                        .map(|c| c.index())
                })
                .collect();
            match cols {
                Some(cols) => Some(indices(cols.as_slice())?),
                None => {
                    wrap_projection = Some(
                        p.iter()
                            .map(|e| {
                                Ok(pb::NamedPhysicalExpr {
                                    expression: Some(physical_expr_to_proto(&e.expr, codec)?),
                                    name: e.alias.clone(),
                                })
                            })
                            .collect::<Result<Vec<_>>>()?,
                    );
                    None
                }
            }
        }
    };

    let pruning_predicate = match source.filter() {
        None => None,
        Some(f) => prune_true(snapshot_physical_expr(f)?)
            .map(|f| physical_expr_to_proto(&f, codec))
            .transpose()?,
    };

    let store = conf.object_store_url.as_str();
    let sep = if store.ends_with('/') { "" } else { "/" };
    let file_groups = conf
        .file_groups
        .iter()
        .map(|g| {
            Ok(pb::FileGroup {
                files: g
                    .files()
                    .iter()
                    .map(|f| {
                        Ok(pb::PartitionedFile {
                            path: format!("{store}{sep}{}", f.object_meta.location),
                            size: f.object_meta.size,
                            last_modified_ms: f.object_meta.last_modified.timestamp_millis(),
                            range: f.range.as_ref().map(|r| pb::FileRange {
                                start: r.start,
                                end: r.end,
                            }),
                            partition_values: f
                                .partition_values
                                .iter()
                                .map(scalar_to_proto)
                                .collect::<Result<_>>()?,
                        })
                    })
                    .collect::<Result<_>>()?,
            })
        })
        .collect::<Result<_>>()?;

    let compression = match conf.file_compression_type {
        c if c == FileCompressionType::GZIP => pb::FileCompression::Gzip,
        c if c == FileCompressionType::BZIP2 => pb::FileCompression::Bzip2,
        c if c == FileCompressionType::XZ => pb::FileCompression::Xz,
        c if c == FileCompressionType::ZSTD => pb::FileCompression::Zstd,
        _ => pb::FileCompression::Unspecified,
    };

    let file_schema: &Schema = conf.file_schema();
    let scan = node(Node::FileScan(pb::FileScanExec {
        format: format as i32,
        file_schema: Some(schema_to_proto(file_schema)?),
        file_groups,
        projection,
        limit: conf.limit.map(u64_of),
        partition_columns: conf
            .table_partition_cols()
            .iter()
            .map(|f| field_to_proto(f))
            .collect::<Result<_>>()?,
        pruning_predicate,
        output_ordering: match conf.output_ordering.first() {
            Some(o) => sort_exprs_to_proto(o.iter(), codec)?,
            None => vec![],
        },
        compression: compression as i32,
        format_options,
    }));
    Ok(match wrap_projection {
        None => scan,
        Some(expressions) => node(Node::Projection(Box::new(pb::ProjectionExec {
            input: Some(Box::new(scan)),
            expressions,
        }))),
    })
}

/// Encodes a partitioning scheme; hash partitioning records `function`.
pub(crate) fn encode_partitioning(
    partitioning: &Partitioning,
    function: pb::HashFunction,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::Partitioning> {
    let scheme = match partitioning {
        Partitioning::Hash(keys, n) => pb::partitioning::Scheme::Hash(pb::HashPartitioning {
            keys: exprs_to_proto(keys.as_slice(), codec)?,
            partition_count: u32_of(*n, "partition count")?,
            function: function as i32,
        }),
        Partitioning::RoundRobinBatch(n) => {
            pb::partitioning::Scheme::RoundRobin(u32_of(*n, "partition count")?)
        }
        Partitioning::UnknownPartitioning(n) => {
            pb::partitioning::Scheme::Unknown(u32_of(*n, "partition count")?)
        }
        other => {
            return Err(BallistaError::NotImplemented(format!(
                "partitioning {other} is not in the Ballista spec"
            )));
        }
    };
    Ok(pb::Partitioning {
        scheme: Some(scheme),
    })
}

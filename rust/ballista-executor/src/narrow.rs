//! Narrowing a stage plan to the one partition a task runs.
//!
//! A task runs partition `p` of its stage plan. Executed as it arrives, the
//! plan still describes every partition of the stage, and DataFusion's
//! operators that coordinate across partitions of one process — above all
//! the dynamic filters of hash joins, which wait until the build side of
//! *every* partition has reported — would wait for partitions that run in
//! other tasks, on other executors. So those filters cannot be used as is,
//! and a hash join's probe input is read in full even when the build side
//! keeps a handful of keys (TPC-H Q18 joins 1.5 M orders with 6 M line items
//! to keep 57 orders).
//!
//! [`narrow`] rewrites the plan into a one-partition plan equal to
//! partition `p`: each file scan keeps only file group `p`, each shuffle
//! read only output partition `p`, and the operators above them are rebuilt
//! over their narrowed inputs. In that plan "every partition" is the task's
//! own, so DataFusion's filter pushdown (run by [`optimize_narrowed`]) plants
//! dynamic filters that the task fills itself: hash joins, TopK sorts and
//! aggregates filter their inputs inside the stage — shuffle reads apply them
//! as batches are polled, Parquet scans prune with them.
//!
//! Only operators whose partition `p` is a function of their inputs'
//! partition `p` are rewritten. Anything else (a union, a repartition inside
//! the stage, an operator this module does not know) leaves the plan as it
//! is, and the task runs partition `p` of the whole plan as before: narrowing
//! is an optimisation, never a condition of correctness.
//!
//! Joins that emit unmatched build rows from a broadcast build side count
//! probe partitions across the process; the scheduler already rewrites them
//! (`task_local.rs`), and they are not narrowed unless the stage has one task.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::JoinType;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::filter_pushdown::FilterPushdown;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, PartitionMode, SortMergeJoinExec,
};
use datafusion::physical_plan::limit::{GlobalLimitExec, LocalLimitExec};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, replace_children_if_necessary,
};

use crate::shuffle::ShuffleReaderExec;

/// A one-partition plan equal to partition `partition` of `plan`, or `None`
/// when `plan` holds an operator that cannot be narrowed (then run
/// `plan.execute(partition)` instead).
pub fn narrow(
    plan: &Arc<dyn ExecutionPlan>,
    partition: usize,
) -> datafusion::common::Result<Option<Arc<dyn ExecutionPlan>>> {
    let count = plan.output_partitioning().partition_count();
    if partition >= count {
        return Ok(None);
    }
    if count == 1 {
        // Already the task's whole input; the operators below may still
        // read several partitions each, which is theirs to do.
        return Ok(Some(Arc::clone(plan)));
    }
    let node: &dyn ExecutionPlan = plan.as_ref();

    // Leaves: keep only the task's share.
    if let Some(read) = node.downcast_ref::<ShuffleReaderExec>() {
        return Ok(read
            .narrowed(partition)
            .map(|r| Arc::new(r) as Arc<dyn ExecutionPlan>));
    }
    if let Some(scan) = node.downcast_ref::<DataSourceExec>() {
        return Ok(narrow_file_scan(scan, partition));
    }

    // Joins whose build side is read in full by every partition.
    if let Some(join) = node.downcast_ref::<HashJoinExec>() {
        return match join.partition_mode() {
            PartitionMode::Partitioned => narrow_children(plan, partition, &[true, true]),
            PartitionMode::CollectLeft if !emits_unmatched_build_rows(*join.join_type()) => {
                narrow_children(plan, partition, &[false, true])
            }
            _ => Ok(None),
        };
    }
    if let Some(join) = node.downcast_ref::<NestedLoopJoinExec>() {
        if emits_unmatched_build_rows(*join.join_type()) {
            return Ok(None);
        }
        return narrow_children(plan, partition, &[false, true]);
    }
    if node.downcast_ref::<CrossJoinExec>().is_some() {
        return narrow_children(plan, partition, &[false, true]);
    }
    if node.downcast_ref::<SortMergeJoinExec>().is_some() {
        return narrow_children(plan, partition, &[true, true]);
    }

    // Operators whose partition p reads partition p of their one input.
    let preserves_partitions = node.downcast_ref::<FilterExec>().is_some()
        || node.downcast_ref::<ProjectionExec>().is_some()
        || node.downcast_ref::<AggregateExec>().is_some()
        || node.downcast_ref::<SortExec>().is_some()
        || node.downcast_ref::<LocalLimitExec>().is_some()
        || node.downcast_ref::<GlobalLimitExec>().is_some()
        || node.downcast_ref::<WindowAggExec>().is_some()
        || node.downcast_ref::<BoundedWindowAggExec>().is_some();
    if preserves_partitions && plan.children().len() == 1 {
        return narrow_children(plan, partition, &[true]);
    }
    Ok(None)
}

/// Runs DataFusion's post-optimisation filter pushdown on a narrowed plan,
/// so that joins, TopK sorts and aggregates create dynamic filters and push
/// them into the shuffle reads and scans of the same stage.
pub fn optimize_narrowed(
    plan: Arc<dyn ExecutionPlan>,
    config: &ConfigOptions,
) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
    FilterPushdown::new_post_optimization().optimize(plan, config)
}

/// Rebuilds `plan` over its children, narrowing child `i` to `partition`
/// where `narrowed[i]`, and keeping it whole otherwise (a build side every
/// partition reads in full).
fn narrow_children(
    plan: &Arc<dyn ExecutionPlan>,
    partition: usize,
    narrowed: &[bool],
) -> datafusion::common::Result<Option<Arc<dyn ExecutionPlan>>> {
    let count = plan.output_partitioning().partition_count();
    let children = plan.children();
    if children.len() != narrowed.len() {
        return Ok(None);
    }
    let mut new_children = Vec::with_capacity(children.len());
    for (child, &narrow_it) in children.into_iter().zip(narrowed) {
        if !narrow_it {
            new_children.push(Arc::clone(child));
            continue;
        }
        // Partition p of this operator must be partition p of the child.
        if child.output_partitioning().partition_count() != count {
            return Ok(None);
        }
        match narrow(child, partition)? {
            Some(c) => new_children.push(c),
            None => return Ok(None),
        }
    }
    let rebuilt = replace_children_if_necessary(Arc::clone(plan), new_children)?;
    Ok((rebuilt.output_partitioning().partition_count() == 1).then_some(rebuilt))
}

/// A file scan of file group `partition` only.
fn narrow_file_scan(scan: &DataSourceExec, partition: usize) -> Option<Arc<dyn ExecutionPlan>> {
    let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
    let group = config.file_groups.get(partition)?.clone();
    let narrowed = FileScanConfigBuilder::from(config.clone())
        .with_file_groups(vec![group])
        .build();
    Some(DataSourceExec::from_data_source(narrowed))
}

/// Whether a join with a build side shared by all probe partitions emits
/// build rows that no probe partition matched: only the last partition of
/// the process to finish knows which those are.
fn emits_unmatched_build_rows(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Left
            | JoinType::Full
            | JoinType::LeftSemi
            | JoinType::LeftAnti
            | JoinType::LeftMark
    )
}

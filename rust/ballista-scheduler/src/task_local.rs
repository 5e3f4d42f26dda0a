//! Rewrites that make a DataFusion plan correct when each partition runs
//! as a separate task, in its own process.
//!
//! DataFusion runs all partitions of a plan in one process, and a few
//! operators rely on that: state shared between the partitions of one
//! operator instance. On a cluster every task decodes its own copy of the
//! stage plan and runs a single partition, so that state is never shared.
//! The case that matters is a join that collects its build (left) side once
//! for all partitions and must emit the build rows that found no match:
//! `Left`, `Full`, `LeftSemi`, `LeftAnti` and `LeftMark` joins. DataFusion
//! emits those rows from whichever partition finishes last, counted over
//! all partitions; a lone task never sees the count reach zero, so the rows
//! are never emitted (or, counted per task, would be emitted once per
//! task). The rewrites:
//!
//! - a `CollectLeft` `LeftSemi` / `LeftAnti` hash join without a join
//!   filter keeps its broadcast build side and never shuffles its probe
//!   side ([`semi_join_by_found_keys`]): each probe task keeps the keys of
//!   its rows that the build side has (a `RightSemi` join, which emits probe
//!   rows and so is task-local), their distinct values are merged into one
//!   partition, and one task joins the build side against those;
//! - any other `CollectLeft` hash join of such a type becomes a
//!   `Partitioned` one, with both sides hash-repartitioned on the join
//!   keys; each partition then owns its build rows outright;
//! - a null-aware anti join (`NOT IN`), which must see every probe row to
//!   know whether the probe side holds a null, and a nested-loop join of
//!   such a type (no keys to partition on) keep collecting the build side
//!   but read the probe side as one partition, so one task does the join.
//!
//! Joins whose output is driven by the probe side alone (`Inner`, `Right*`)
//! stay broadcast joins: every task reads the whole build side.

use std::sync::Arc;

use ballista_core::Result;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{JoinType, NullEquality};
use datafusion::config::ConfigOptions;
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr};
use datafusion::physical_expr::{Distribution, Partitioning, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::combine_partial_final_agg::CombinePartialFinalAggregate;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, PhysicalGroupBy};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::{
    HashJoinExec, HashJoinExecBuilder, NestedLoopJoinExec, PartitionMode,
};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, replace_children_if_necessary,
};

/// Applies the rewrites of this module everywhere in `plan`, then drops the
/// repartitions they made redundant ([`drop_satisfied_repartition`]). A
/// partial and a final aggregation left next to each other become one
/// (DataFusion's own `CombinePartialFinalAggregate`): the rows of a group
/// are all in one partition already.
pub fn make_task_local(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let plan = plan.transform_up(rewrite_join)?.data;
    let dropped = plan.transform_up(drop_satisfied_repartition)?;
    if !dropped.transformed {
        // DataFusion combined what it could when it planned.
        return Ok(dropped.data);
    }
    Ok(CombinePartialFinalAggregate::new().optimize(dropped.data, &ConfigOptions::default())?)
}

/// A hash `RepartitionExec` whose input is already hash-partitioned on the
/// same keys, into as many partitions, moves no row between partitions:
/// it is dropped, and with it a shuffle and a stage boundary.
///
/// Why there are such: a join rewritten above into a `Partitioned` one
/// emits rows partitioned by its keys, which DataFusion did not know when
/// it placed the repartition of an aggregation grouped by those keys (TPC-H
/// Q13 groups its customer–orders left join by the customer key).
fn drop_satisfied_repartition(
    plan: Arc<dyn ExecutionPlan>,
) -> datafusion::common::Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let node: &dyn ExecutionPlan = plan.as_ref();
    let Some(repartition) = node.downcast_ref::<RepartitionExec>() else {
        return Ok(Transformed::no(plan));
    };
    let (Partitioning::Hash(keys, n), input) = (repartition.partitioning(), repartition.input())
    else {
        return Ok(Transformed::no(plan));
    };
    let has = input.output_partitioning();
    let satisfied = matches!(has, Partitioning::Hash(_, count) if count == n)
        && has
            .satisfaction(
                &Distribution::KeyPartitioned(keys.clone()),
                input.equivalence_properties(),
                false,
            )
            .is_satisfied();
    if satisfied {
        Ok(Transformed::yes(Arc::clone(input)))
    } else {
        Ok(Transformed::no(plan))
    }
}

/// Whether a join of this type emits build-side rows after the whole probe
/// side has been seen (DataFusion's `need_produce_result_in_final`).
fn emits_build_rows_at_end(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Left
            | JoinType::Full
            | JoinType::LeftSemi
            | JoinType::LeftAnti
            | JoinType::LeftMark
    )
}

fn rewrite_join(
    plan: Arc<dyn ExecutionPlan>,
) -> datafusion::common::Result<Transformed<Arc<dyn ExecutionPlan>>> {
    let node: &dyn ExecutionPlan = plan.as_ref();
    if let Some(join) = node.downcast_ref::<HashJoinExec>() {
        if join.mode != PartitionMode::CollectLeft || !emits_build_rows_at_end(join.join_type) {
            return Ok(Transformed::no(plan));
        }
        if join.null_aware {
            return probe_as_one_partition(&plan, &join.left, &join.right);
        }
        if let Some(rewritten) = semi_join_by_found_keys(join)? {
            return Ok(Transformed::yes(rewritten));
        }
        // As many partitions as the probe side had: the parallelism the
        // planner chose for this part of the query.
        let n = join.right.output_partitioning().partition_count().max(1);
        let left_input = match join.left.downcast_ref::<CoalescePartitionsExec>() {
            Some(c) if c.fetch().is_none() => Arc::clone(c.input()),
            _ => Arc::clone(&join.left),
        };
        let (left_keys, right_keys): (Vec<_>, Vec<_>) = join.on.iter().cloned().unzip();
        let left = hash_partitioned(left_input, left_keys, n)?;
        let right = hash_partitioned(Arc::clone(&join.right), right_keys, n)?;
        let rewritten = join
            .builder()
            .with_partition_mode(PartitionMode::Partitioned)
            .with_new_children(vec![left, right])?
            .reset_state()
            .build()?;
        // The filter DataFusion pushed into the probe side's scans stays
        // this join's: the scheduler fills it in (crate::runtime_filter).
        let rewritten = match join.dynamic_expressions_produced().into_iter().next() {
            Some(filter) => match Arc::downcast::<DynamicFilterPhysicalExpr>(filter) {
                Ok(filter) => rewritten.with_dynamic_filter_expr(filter)?,
                Err(_) => rewritten,
            },
            None => rewritten,
        };
        return Ok(Transformed::yes(Arc::new(rewritten)));
    }
    if let Some(join) = node.downcast_ref::<NestedLoopJoinExec>()
        && emits_build_rows_at_end(*join.join_type())
    {
        return probe_as_one_partition(&plan, join.left(), join.right());
    }
    Ok(Transformed::no(plan))
}

/// A broadcast `LeftSemi` / `LeftAnti` join on plain probe columns, with
/// no join filter, as a join against the distinct keys the probe side
/// found (module documentation); `None` for any other join.
///
/// The probe side is usually the large one (TPC-H Q4's lineitem, Q22's
/// orders): partitioning the join would shuffle all of it. This way only
/// distinct matched keys leave its tasks, at most as many as the build
/// side has rows. The build side is read twice, by the probe tasks and by
/// the final join: the same plan node, which becomes one stage.
fn semi_join_by_found_keys(
    join: &HashJoinExec,
) -> datafusion::common::Result<Option<Arc<dyn ExecutionPlan>>> {
    let plain = matches!(join.join_type, JoinType::LeftSemi | JoinType::LeftAnti)
        && join.filter.is_none()
        && join.null_equality == NullEquality::NullEqualsNothing
        && join.right.output_partitioning().partition_count() > 1;
    if !plain {
        return Ok(None);
    }
    let mut keys = Vec::with_capacity(join.on.len());
    for (_, probe_key) in &join.on {
        let Some(column) = probe_key.downcast_ref::<Column>() else {
            return Ok(None);
        };
        if keys.iter().any(|(_, name)| name == column.name()) {
            // One column twice: the distinct keys would need new names.
            return Ok(None);
        }
        keys.push((Arc::clone(probe_key), column.name().to_string()));
    }
    let probe_schema = join.right.schema();
    // 1. Each probe task: its rows whose keys the build side has. The
    //    filter DataFusion pushed into the probe side's scans narrows them
    //    the same way, filled in by the executor (its `narrow.rs`).
    let mut found = HashJoinExecBuilder::new(
        Arc::clone(&join.left),
        Arc::clone(&join.right),
        join.on.clone(),
        JoinType::RightSemi,
    )
    .with_partition_mode(PartitionMode::CollectLeft)
    .build()?;
    if let Some(filter) = join.dynamic_expressions_produced().into_iter().next()
        && let Ok(filter) = Arc::downcast::<DynamicFilterPhysicalExpr>(filter)
    {
        found = found.with_dynamic_filter_expr(filter)?;
    }
    // 2. Their distinct keys, in one partition.
    let partial = Arc::new(AggregateExec::try_new(
        AggregateMode::Partial,
        PhysicalGroupBy::new_single(keys),
        vec![],
        vec![],
        Arc::new(found),
        Arc::clone(&probe_schema),
    )?);
    let merged = Arc::new(CoalescePartitionsExec::new(
        Arc::clone(&partial) as Arc<dyn ExecutionPlan>
    ));
    let distinct: Arc<dyn ExecutionPlan> = Arc::new(AggregateExec::try_new(
        AggregateMode::Final,
        partial.group_expr().as_final(),
        vec![],
        vec![],
        merged,
        probe_schema,
    )?);
    // 3. The join itself, over those keys, in one task.
    let distinct_schema = distinct.schema();
    let on = join
        .on
        .iter()
        .enumerate()
        .map(|(i, (build_key, _))| {
            let key: Arc<dyn PhysicalExpr> =
                Arc::new(Column::new(distinct_schema.field(i).name(), i));
            (Arc::clone(build_key), key)
        })
        .collect();
    let rewritten = join
        .builder()
        .with_new_children(vec![Arc::clone(&join.left), distinct])?
        .with_on(on)
        .reset_state()
        .build()?;
    Ok(Some(Arc::new(rewritten)))
}

/// `plan` (a join) with its probe side merged into one partition.
fn probe_as_one_partition(
    plan: &Arc<dyn ExecutionPlan>,
    left: &Arc<dyn ExecutionPlan>,
    right: &Arc<dyn ExecutionPlan>,
) -> datafusion::common::Result<Transformed<Arc<dyn ExecutionPlan>>> {
    if right.output_partitioning().partition_count() <= 1 {
        return Ok(Transformed::no(Arc::clone(plan)));
    }
    let right: Arc<dyn ExecutionPlan> = Arc::new(CoalescePartitionsExec::new(Arc::clone(right)));
    let rewritten = replace_children_if_necessary(Arc::clone(plan), vec![Arc::clone(left), right])?;
    Ok(Transformed::yes(rewritten))
}

/// `input` hash-repartitioned on `keys` into `n` partitions. Where it
/// already is partitioned so, [`drop_satisfied_repartition`] removes the
/// repartition again.
fn hash_partitioned(
    input: Arc<dyn ExecutionPlan>,
    keys: Vec<Arc<dyn PhysicalExpr>>,
    n: usize,
) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
    Ok(Arc::new(RepartitionExec::try_new(
        input,
        Partitioning::Hash(keys, n),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::physical_expr::expressions::col;
    use datafusion::physical_plan::joins::utils::JoinOn;
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::SessionContext;

    fn schema(name: &str) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, true)]))
    }

    /// Two partitions of `values` (split in half) in a column `name`.
    fn scan(name: &str, values: &[Option<i64>]) -> Arc<dyn ExecutionPlan> {
        let schema = schema(name);
        let (a, b) = values.split_at(values.len() / 2);
        let batch = |v: &[Option<i64>]| {
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![Arc::new(Int64Array::from(v.to_vec()))],
            )
            .unwrap()
        };
        MemorySourceConfig::try_new_exec(&[vec![batch(a)], vec![batch(b)]], schema, None).unwrap()
    }

    /// `build JOIN probe ON l = r` in `CollectLeft` mode, as DataFusion
    /// plans a small build side.
    fn collect_left(join_type: JoinType, null_aware: bool) -> Arc<dyn ExecutionPlan> {
        let build = scan("l", &[Some(1), Some(2), Some(3), Some(4)]);
        let probe = scan("r", &[Some(2), Some(2), Some(4), Some(9), Some(1), Some(7)]);
        let on: JoinOn = vec![(
            col("l", &build.schema()).unwrap(),
            col("r", &probe.schema()).unwrap(),
        )];
        let build: Arc<dyn ExecutionPlan> = Arc::new(CoalescePartitionsExec::new(build));
        Arc::new(
            HashJoinExec::try_new(
                build,
                probe,
                on,
                None,
                &join_type,
                None,
                PartitionMode::CollectLeft,
                NullEquality::NullEqualsNothing,
                null_aware,
            )
            .unwrap(),
        )
    }

    /// Runs each partition of `plan` on its own copy of the plan, as tasks
    /// do, and returns all rows of the first column, sorted.
    async fn run_as_tasks(plan: &Arc<dyn ExecutionPlan>) -> Vec<Option<i64>> {
        let ctx = SessionContext::new();
        let mut rows = vec![];
        for p in 0..plan.output_partitioning().partition_count() {
            // A fresh copy: no state shared with the other tasks' copies.
            let copy = Arc::clone(plan).reset_state().unwrap();
            let stream = copy.execute(p, ctx.task_ctx()).unwrap();
            let batches: Vec<RecordBatch> = datafusion::physical_plan::common::collect(stream)
                .await
                .unwrap();
            for b in batches {
                let c = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                rows.extend(c.iter());
            }
        }
        rows.sort();
        rows
    }

    async fn run_in_one_process(plan: &Arc<dyn ExecutionPlan>) -> Vec<Option<i64>> {
        let batches = collect(Arc::clone(plan), SessionContext::new().task_ctx())
            .await
            .unwrap();
        let mut rows: Vec<Option<i64>> = batches
            .iter()
            .flat_map(|b| {
                let c = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                c.iter().collect::<Vec<_>>()
            })
            .collect();
        rows.sort();
        rows
    }

    #[tokio::test]
    async fn joins_emitting_build_rows_give_the_same_rows_when_run_as_tasks() {
        for join_type in [
            JoinType::Left,
            JoinType::Full,
            JoinType::LeftSemi,
            JoinType::LeftAnti,
        ] {
            let plan = collect_left(join_type, false);
            let expected = run_in_one_process(&plan).await;
            assert!(!expected.is_empty());
            // Without the rewrite, tasks lose the unmatched build rows.
            assert_ne!(run_as_tasks(&plan).await, expected, "{join_type}");

            let rewritten = make_task_local(Arc::clone(&plan)).unwrap();
            let text = displayable(rewritten.as_ref()).indent(true).to_string();
            if matches!(join_type, JoinType::LeftSemi | JoinType::LeftAnti) {
                // The probe side stays where it is: each of its partitions
                // finds its keys on the build side, and one task joins.
                assert!(text.contains("join_type=RightSemi"), "{join_type}: {text}");
                assert!(!text.contains("RepartitionExec"), "{join_type}: {text}");
                assert_eq!(rewritten.output_partitioning().partition_count(), 1);
            } else {
                assert!(text.contains("mode=Partitioned"), "{join_type}: {text}");
            }
            assert_eq!(run_as_tasks(&rewritten).await, expected, "{join_type}");
        }
    }

    #[tokio::test]
    async fn a_null_aware_anti_join_reads_its_probe_side_as_one_partition() {
        let plan = collect_left(JoinType::LeftAnti, true);
        let expected = run_in_one_process(&plan).await;
        let rewritten = make_task_local(Arc::clone(&plan)).unwrap();
        assert_eq!(rewritten.output_partitioning().partition_count(), 1);
        assert_eq!(run_as_tasks(&rewritten).await, expected);
    }

    #[tokio::test]
    async fn broadcast_joins_driven_by_the_probe_side_are_kept() {
        for join_type in [JoinType::Inner, JoinType::Right, JoinType::RightSemi] {
            let plan = collect_left(join_type, false);
            let rewritten = make_task_local(Arc::clone(&plan)).unwrap();
            assert!(Arc::ptr_eq(&plan, &rewritten), "{join_type}");
            assert_eq!(
                run_as_tasks(&plan).await,
                run_in_one_process(&plan).await,
                "{join_type}"
            );
        }
    }

    /// `SELECT <key> FROM build LEFT JOIN probe GROUP BY <key>` as DataFusion
    /// plans it over a `CollectLeft` join: partial aggregation, a hash
    /// repartition on the key, final aggregation.
    fn grouped_left_join(key: &str) -> Arc<dyn ExecutionPlan> {
        let join = collect_left(JoinType::Left, false);
        let group_by =
            PhysicalGroupBy::new_single(vec![(col(key, &join.schema()).unwrap(), key.to_string())]);
        let partial = Arc::new(
            AggregateExec::try_new(
                AggregateMode::Partial,
                group_by.clone(),
                vec![],
                vec![],
                Arc::clone(&join),
                join.schema(),
            )
            .unwrap(),
        );
        let keys = vec![col(key, &partial.schema()).unwrap()];
        let repartition =
            Arc::new(RepartitionExec::try_new(partial, Partitioning::Hash(keys, 2)).unwrap());
        Arc::new(
            AggregateExec::try_new(
                AggregateMode::FinalPartitioned,
                group_by.as_final(),
                vec![],
                vec![],
                repartition,
                join.schema(),
            )
            .unwrap(),
        )
    }

    #[tokio::test]
    async fn an_aggregation_by_the_key_of_a_partitioned_join_is_not_shuffled_again() {
        let repartitions = |plan: &Arc<dyn ExecutionPlan>| {
            let text = displayable(plan.as_ref()).indent(true).to_string();
            text.matches("RepartitionExec").count()
        };
        // Grouped by the join's key: the join's output is partitioned by it
        // once the join is `Partitioned`, so only its inputs are shuffled.
        let plan = grouped_left_join("l");
        let expected = run_in_one_process(&plan).await;
        assert_eq!(expected, vec![Some(1), Some(2), Some(3), Some(4)]);
        let rewritten = make_task_local(Arc::clone(&plan)).unwrap();
        assert_eq!(repartitions(&rewritten), 2);
        // ... and the partial and final aggregations are one.
        let text = displayable(rewritten.as_ref()).indent(true).to_string();
        assert_eq!(text.matches("AggregateExec").count(), 1, "{text}");
        assert!(text.contains("mode=SinglePartitioned"), "{text}");
        assert_eq!(run_as_tasks(&rewritten).await, expected);

        // Grouped by another column: that repartition stays.
        let plan = grouped_left_join("r");
        let rewritten = make_task_local(Arc::clone(&plan)).unwrap();
        assert_eq!(repartitions(&rewritten), 3);
        assert_eq!(
            run_as_tasks(&rewritten).await,
            run_in_one_process(&plan).await
        );
    }
}

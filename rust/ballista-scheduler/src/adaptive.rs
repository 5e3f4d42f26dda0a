//! Adaptive broadcast: a partitioned hash join whose build side turns out
//! small becomes a broadcast join once that side has run, and the scan on
//! its probe side, not yet run, moves into the join's stage instead of
//! being shuffled.
//!
//! DataFusion chooses between a partitioned and a broadcast (`CollectLeft`)
//! join from *estimated* sizes. An estimate through filters and joins is
//! often far off: TPC-H Q5 at SF 10 joins lineitem (60 M rows) with the
//! customers' orders of one year, estimated above the broadcast threshold
//! but 2.3 M rows (37 MB) in fact; partitioned, all of lineitem goes
//! through shuffle files. Once the build stage has run, its size is known
//! exactly (the partition statistics of its output):
//!
//! 1. at planning ([`find`]): a partitioned join whose output is driven by
//!    its probe side (`Inner`, `Right*`: it may run as a broadcast join on
//!    each task alone), whose two sides are whole stage outputs, and whose
//!    probe stage is a scan stage read by this join alone (and not
//!    narrowed by another join's runtime filter), is a candidate.
//!    Its probe stage waits for its build stage. Nothing above the join in
//!    its stage may rely on the join's output being hash-partitioned (only
//!    projections, filters, partial aggregations and probe sides of
//!    broadcast joins are allowed there);
//! 2. once the build stage is done, and the join's runtime filter (if it
//!    has one) filled in or given up, the scheduler (`Job::adapt`) leaves a
//!    build side that filled the filter in to that filter (a filtered scan
//!    beats probing a hash table with every row), and otherwise
//!    ([`worth_it`]) compares its bytes with
//!    [`MAX_BROADCAST_BYTES`] and with the probe side's estimated size; if
//!    broadcasting moves less data, the join stage is
//!    rewritten ([`broadcast`]): `CollectLeft` over the whole build output
//!    (every task reads all of it), with the probe stage's plan in place of
//!    the read of its output. The probe stage is dropped without running.
//!
//! Executors need nothing new: the rewritten stage is an ordinary broadcast
//! join over a shuffle read and a scan.

use std::sync::Arc;

use ballista_core::Result;
use datafusion::common::JoinType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::physical_expr::Partitioning;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{ExecutionPlan, StatisticsArgs, StatisticsContext};

use crate::planner::{QueryStage, StageInput, StageOutput};
use crate::runtime_filter::{RuntimeFilter, depends_on};

/// Build sides up to this size (as written, Arrow IPC) are broadcast. Each
/// task builds its own hash table of the whole side, so the bar bounds the
/// memory one join takes per task slot: at 64 MiB, about 200 MiB.
pub const MAX_BROADCAST_BYTES: u64 = 64 * 1024 * 1024;

/// A partitioned join that becomes a broadcast join if its build side turns
/// out small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastCandidate {
    /// The stage of the join.
    pub join_stage: u32,
    /// The stage whose output is the join's build side.
    pub build_stage: u32,
    /// The scan stage whose output is the join's probe side; it waits for
    /// the build stage, and does not run if the join is broadcast.
    pub probe_stage: u32,
}

/// The candidates of a staged plan (one join per stage at most: the first
/// found from the stage's root). A `reused` probe stage (read in place of
/// an equal one, [`crate::planner::StageOptions::reuse_stages`]) stays a
/// stage: its other readers need its output.
pub fn find(
    stages: &[QueryStage],
    filters: &[Arc<RuntimeFilter>],
    reused: &[u32],
) -> Vec<BroadcastCandidate> {
    // (stage, the build stage it waits for), to refuse waits in a cycle.
    let mut waits: Vec<(u32, u32)> = filters
        .iter()
        .flat_map(|f| f.probe_stages.iter().map(|&p| (p, f.build_stage)))
        .collect();
    let mut found = Vec::new();
    for stage in stages {
        let Some((build, probe)) = join_over_stages(&stage.plan) else {
            continue;
        };
        let Some(probe_stage) = stages.get((probe as usize).wrapping_sub(1)) else {
            continue;
        };
        let read_once = stages.iter().filter(|s| s.inputs.contains(&probe)).count() == 1;
        let shuffled = matches!(
            probe_stage.output,
            StageOutput::Shuffle(Partitioning::Hash(..))
        );
        // A probe stage that another join's runtime filter narrows is
        // better shuffled: filtered, it is often tiny (TPC-H Q18's orders),
        // while folded into the join's stage it would be read whole.
        let filtered_by_another = filters
            .iter()
            .any(|f| f.build_stage != build && f.probe_stages.contains(&probe));
        if build == probe
            || reused.contains(&probe)
            || filtered_by_another
            || !read_once
            || !shuffled
            || !probe_stage.inputs.is_empty()
            || probe_stage.partitions() != stage.partitions()
            || depends_on(stages, &waits, build, probe)
        {
            continue;
        }
        waits.push((probe, build));
        found.push(BroadcastCandidate {
            join_stage: stage.id,
            build_stage: build,
            probe_stage: probe,
        });
    }
    found
}

/// The (build, probe) stages of the partitioned join at the top of `plan`,
/// under operators that don't rely on how their input is partitioned.
fn join_over_stages(plan: &Arc<dyn ExecutionPlan>) -> Option<(u32, u32)> {
    let node: &dyn ExecutionPlan = plan.as_ref();
    if let Some(join) = node.downcast_ref::<HashJoinExec>() {
        if !probe_driven(join.join_type) || join.null_aware {
            return None;
        }
        return match join.mode {
            PartitionMode::Partitioned => {
                let build = join.left().downcast_ref::<StageInput>()?;
                let probe = join.right().downcast_ref::<StageInput>()?;
                (!build.whole && !probe.whole).then_some((build.stage_id, probe.stage_id))
            }
            PartitionMode::CollectLeft => join_over_stages(join.right()),
            PartitionMode::Auto => None,
        };
    }
    let agnostic = node.downcast_ref::<ProjectionExec>().is_some()
        || node.downcast_ref::<FilterExec>().is_some()
        || node
            .downcast_ref::<AggregateExec>()
            .is_some_and(|a| *a.mode() == AggregateMode::Partial);
    match plan.children().as_slice() {
        [child] if agnostic => join_over_stages(child),
        _ => None,
    }
}

/// Joins whose every output row comes from one probe row: each task may
/// run them over the whole build side and its own probe rows.
fn probe_driven(join_type: JoinType) -> bool {
    matches!(
        join_type,
        JoinType::Inner | JoinType::Right | JoinType::RightSemi | JoinType::RightAnti
    )
}

/// Whether to broadcast a build side of `build_bytes` to `tasks` tasks
/// rather than shuffle a probe side estimated at `probe_bytes`.
pub fn worth_it(build_bytes: u64, tasks: usize, probe_bytes: Option<usize>) -> bool {
    build_bytes <= MAX_BROADCAST_BYTES
        && probe_bytes.is_none_or(|p| build_bytes.saturating_mul(tasks as u64) <= p as u64)
}

/// The estimated bytes of a stage's output, when DataFusion has an
/// estimate (file scans do, from the Parquet metadata).
pub fn estimated_bytes(stage: &QueryStage) -> Option<usize> {
    let stats = StatisticsContext::new()
        .compute(stage.plan.as_ref(), &StatisticsArgs::new())
        .ok()?;
    stats.total_byte_size.get_value().copied()
}

/// The plan of `join_stage` with candidate `c`'s join as a broadcast join:
/// over the whole output of its build stage, with `probe`'s plan as its
/// probe side.
pub fn broadcast(
    join_stage: &QueryStage,
    probe: &QueryStage,
    c: &BroadcastCandidate,
) -> Result<Arc<dyn ExecutionPlan>> {
    let rewritten = Arc::clone(&join_stage.plan).transform_down(|node| {
        let Some(join) = node.downcast_ref::<HashJoinExec>() else {
            return Ok(Transformed::no(node));
        };
        let reads = |side: &Arc<dyn ExecutionPlan>, id: u32| {
            side.downcast_ref::<StageInput>()
                .is_some_and(|s| s.stage_id == id && !s.whole)
        };
        if join.mode != PartitionMode::Partitioned
            || !reads(join.left(), c.build_stage)
            || !reads(join.right(), c.probe_stage)
        {
            return Ok(Transformed::no(node));
        }
        let build: Arc<dyn ExecutionPlan> =
            Arc::new(StageInput::whole(c.build_stage, join.left().schema()));
        // The builder keeps the join's dynamic filter, whose copies are in
        // the probe plan's scans: the executor fills it in.
        let rewritten = join
            .builder()
            .with_partition_mode(PartitionMode::CollectLeft)
            .with_new_children(vec![build, Arc::clone(&probe.plan)])?
            .build()?;
        Ok(Transformed::yes(
            Arc::new(rewritten) as Arc<dyn ExecutionPlan>
        ))
    })?;
    Ok(rewritten.data)
}

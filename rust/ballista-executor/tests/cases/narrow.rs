//! Narrowing a stage plan to a task's partition (`narrow.rs`): the same
//! rows as running that partition of the whole plan, and a hash join whose
//! probe input is filtered by the build side's keys.

use std::sync::Arc;

use arrow::array::RecordBatch;
use ballista_executor::narrow::{narrow, optimize_narrowed};
use ballista_executor::shuffle::{ConnectionCache, ShuffleReaderExec, ShuffleWriterExec};
use ballista_proto::v1 as pb;
use datafusion::common::NullEquality;
use datafusion::common::config::ConfigOptions;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::JoinType;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_plan::common::collect;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode};
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, Partitioning, displayable,
};

use crate::support::{TempDir, batches, endpoint, memory_plan, rows};

const PARTITIONS: usize = 2;

fn ctx() -> Arc<TaskContext> {
    Arc::new(TaskContext::default())
}

/// Writes `data` (one map partition per entry) as stage `stage`, hashed on
/// `id` over [`PARTITIONS`]; returns a reader of it on the holder.
async fn shuffled(
    dir: &TempDir,
    holder: &pb::ExecutorEndpoint,
    stage: u32,
    data: Vec<Vec<RecordBatch>>,
) -> Arc<ShuffleReaderExec> {
    let maps = data.len();
    let input = memory_plan(data);
    let keys = vec![col("id", &input.schema()).unwrap()];
    let writer = ShuffleWriterExec::try_new(
        Arc::clone(&input),
        "job-narrow",
        stage,
        Some(Partitioning::Hash(keys, PARTITIONS)),
        pb::ShuffleCompression::Unspecified,
        dir.path().to_path_buf(),
        holder.clone(),
    )
    .unwrap();
    let mut partitions = vec![Vec::new(); PARTITIONS];
    for map in 0..maps {
        for location in writer.write(map, ctx()).await.unwrap() {
            partitions[location.output_partition as usize].push(location);
        }
    }
    Arc::new(
        ShuffleReaderExec::try_new(
            input.schema(),
            partitions,
            stage,
            holder.id.clone(),
            dir.path().to_path_buf(),
            Arc::new(ConnectionCache::new()),
        )
        .unwrap(),
    )
}

fn sorted(batches: &[RecordBatch]) -> Vec<(Option<i64>, Option<String>)> {
    let mut r = rows(batches);
    r.sort();
    r
}

/// The value of the first metric named `name` in `plan` or below.
fn metric(plan: &Arc<dyn ExecutionPlan>, name: &str) -> Option<usize> {
    if let Some(value) = plan
        .metrics()
        .and_then(|m| m.sum_by_name(name))
        .map(|v| v.as_usize())
    {
        return Some(value);
    }
    plan.children().into_iter().find_map(|c| metric(c, name))
}

#[tokio::test]
async fn a_narrowed_join_filters_its_probe_input_and_keeps_the_same_rows() {
    let dir = TempDir::new("narrow");
    let holder = endpoint("e-narrow", 1);
    // Build side: 12 ids; probe side: 4,000 ids, so almost every probe row
    // fails the build side's keys.
    let build = shuffled(&dir, &holder, 1, vec![batches(100, 1, 12)]).await;
    let probe = shuffled(
        &dir,
        &holder,
        2,
        vec![batches(0, 10, 200), batches(2000, 10, 200)],
    )
    .await;
    // Two copies, so that the narrowed runs have metrics of their own.
    let join = |build: &Arc<ShuffleReaderExec>, probe: &Arc<ShuffleReaderExec>| {
        let on = vec![(
            col("id", &build.schema()).unwrap(),
            col("id", &probe.schema()).unwrap(),
        )];
        Arc::new(
            HashJoinExec::try_new(
                Arc::clone(build) as _,
                Arc::clone(probe) as _,
                on,
                None,
                &JoinType::RightSemi,
                None,
                PartitionMode::Partitioned,
                NullEquality::NullEqualsNothing,
                false,
            )
            .unwrap(),
        ) as Arc<dyn ExecutionPlan>
    };
    let (whole_join, join) = (join(&build, &probe), join(&build, &probe));

    let mut probe_rows_read = 0;
    let mut all_rows = Vec::new();
    for p in 0..PARTITIONS {
        let whole = collect(whole_join.execute(p, ctx()).unwrap())
            .await
            .unwrap();
        let narrowed = narrow(&join, p)
            .unwrap()
            .expect("a partitioned join narrows");
        assert_eq!(narrowed.output_partitioning().partition_count(), 1);
        let optimized = optimize_narrowed(narrowed, &ConfigOptions::default()).unwrap();
        let shown = displayable(optimized.as_ref()).indent(true).to_string();
        assert!(
            shown.contains("stage=2, partitions=1") && shown.contains("filters=["),
            "the probe read of partition {p} should be narrowed and filtered:\n{shown}"
        );
        let got = collect(optimized.execute(0, ctx()).unwrap()).await.unwrap();
        assert_eq!(sorted(&got), sorted(&whole), "partition {p}");
        probe_rows_read += metric(&optimized, "input_rows").unwrap();
        all_rows.extend(got);
    }
    // Ids 100..112 that are not null (every 7th id is null in the data).
    let expected: Vec<_> = (100..112).filter(|i| i % 7 != 3).map(Some).collect();
    let mut got_ids: Vec<_> = rows(&all_rows).into_iter().map(|(id, _)| id).collect();
    got_ids.sort();
    assert_eq!(got_ids, expected);
    // Without the filter the join would probe all 4,000 rows.
    assert!(
        probe_rows_read < 100,
        "the probe side should be filtered by the build keys, read {probe_rows_read} rows"
    );
}

#[tokio::test]
async fn operators_that_cannot_be_narrowed_leave_the_plan_whole() {
    let dir = TempDir::new("narrow-union");
    let holder = endpoint("e-narrow", 1);
    let a = shuffled(&dir, &holder, 1, vec![batches(0, 1, 10)]).await;
    let b = shuffled(&dir, &holder, 2, vec![batches(50, 1, 10)]).await;
    // A union's partition 3 is its second input's partition 1: not a
    // function of "partition p of every input".
    let union = UnionExec::try_new(vec![a.clone() as _, b as _]).unwrap();
    assert_eq!(union.output_partitioning().partition_count(), 4);
    assert!(narrow(&union, 3).unwrap().is_none());
    // A partition that does not exist is not narrowed either.
    let a: Arc<dyn ExecutionPlan> = a;
    assert!(narrow(&a, PARTITIONS).unwrap().is_none());
    // A shuffle read narrows to the one partition asked for.
    let one = narrow(&a, 1).unwrap().unwrap();
    let whole = collect(a.execute(1, ctx()).unwrap()).await.unwrap();
    let got = collect(one.execute(0, ctx()).unwrap()).await.unwrap();
    assert_eq!(sorted(&got), sorted(&whole));
}

//! `ShuffleReaderExec`: local reads, remote reads through a real executor's
//! Flight service, and fetch failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use ballista_core::BallistaError;
use ballista_core::hash::hash_partition_indices;
use ballista_executor::shuffle::{ConnectionCache, ShuffleReaderExec, ShuffleWriterExec};
use ballista_executor::{Executor, ExecutorConfig, ExecutorHandle};
use ballista_proto::v1 as pb;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_plan::common::collect;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};

use crate::support::{
    StandInScheduler, TempDir, batches, dead_port, endpoint, ids, memory_plan, rows, schema,
};

fn ctx() -> Arc<TaskContext> {
    Arc::new(TaskContext::default())
}

/// Writes two map partitions hashed over `n` reduce partitions into
/// `work_dir` as executor `holder`; returns the locations by reduce
/// partition and the input rows.
async fn write_stage(
    work_dir: &std::path::Path,
    holder: pb::ExecutorEndpoint,
    job: &str,
    n: usize,
) -> (Vec<Vec<pb::PartitionLocation>>, Vec<RecordBatch>) {
    let data = vec![batches(0, 4, 50), batches(1000, 3, 40)];
    let input = memory_plan(data.clone());
    let keys = vec![col("id", &input.schema()).unwrap()];
    let writer = ShuffleWriterExec::try_new(
        input,
        job,
        1,
        Some(Partitioning::Hash(keys, n)),
        pb::ShuffleCompression::Unspecified,
        work_dir.to_path_buf(),
        holder,
    )
    .unwrap();
    let mut partitions = vec![Vec::new(); n];
    for map in 0..2 {
        for location in writer.write(map, ctx()).await.unwrap() {
            partitions[location.output_partition as usize].push(location);
        }
    }
    (partitions, data.concat())
}

async fn read_all(reader: &ShuffleReaderExec) -> Vec<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for i in 0..reader.partitions().len() {
        out.push(collect(reader.execute(i, ctx()).unwrap()).await.unwrap());
    }
    out
}

fn check_partitions(read: &[Vec<RecordBatch>], input: &[RecordBatch]) {
    let n = read.len() as u32;
    for (p, batches) in read.iter().enumerate() {
        for b in batches {
            let expected = hash_partition_indices(&[ids(b)], n).unwrap();
            assert!(expected.iter().all(|&q| q as usize == p));
        }
    }
    assert_eq!(rows(&read.concat()), rows(input));
}

async fn start_executor(scheduler: &StandInScheduler, dir: &TempDir) -> ExecutorHandle {
    Executor::start(ExecutorConfig {
        work_dir: Some(dir.path().to_path_buf()),
        ..ExecutorConfig::new(scheduler.url.clone())
    })
    .await
    .unwrap()
}

fn fetch_failure(e: &DataFusionError) -> (String, String) {
    match BallistaError::find_in(e) {
        Some(BallistaError::FetchFailed {
            executor_id,
            message,
        }) => (executor_id.clone(), message.clone()),
        other => panic!("expected a fetch failure, got {other:?} in {e}"),
    }
}

#[tokio::test]
async fn reads_its_own_files_from_local_disk() {
    let dir = TempDir::new("local");
    let (partitions, input) = write_stage(dir.path(), endpoint("exec-a", 1), "job-l", 3).await;
    // Port 1 answers nothing: only a local read can succeed.
    let reader = ShuffleReaderExec::try_new(
        schema(),
        partitions,
        1,
        "exec-a",
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    check_partitions(&read_all(&reader).await, &input);
}

#[tokio::test]
async fn a_local_path_outside_the_work_dir_is_refused() {
    let dir = TempDir::new("local-bad");
    let location = pb::PartitionLocation {
        job_id: "j".into(),
        stage_id: 1,
        executor: Some(endpoint("exec-a", 1)),
        path: "/etc/passwd".into(),
        ..Default::default()
    };
    let reader = ShuffleReaderExec::try_new(
        schema(),
        vec![vec![location]],
        1,
        "exec-a",
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    let err = collect(reader.execute(0, ctx()).unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not inside this executor's work directory"),
        "{err}"
    );

    // A missing own file is lost map output: a fetch failure naming us.
    let missing = pb::PartitionLocation {
        job_id: "j".into(),
        stage_id: 1,
        executor: Some(endpoint("exec-a", 1)),
        path: dir.path().join("j/1/0/0.arrow").to_str().unwrap().into(),
        ..Default::default()
    };
    let reader = ShuffleReaderExec::try_new(
        schema(),
        vec![vec![missing]],
        1,
        "exec-a",
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    let err = collect(reader.execute(0, ctx()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(fetch_failure(&err).0, "exec-a");
}

#[tokio::test]
async fn reads_another_executors_files_through_its_flight_service() {
    let scheduler = StandInScheduler::start(1000).await;
    let dir_a = TempDir::new("exec-a");
    let a = start_executor(&scheduler, &dir_a).await;
    // Executor A's files, as its tasks would write them.
    let (partitions, input) = write_stage(a.work_dir(), a.endpoint().clone(), "job-r", 3).await;
    assert!(
        partitions
            .iter()
            .flatten()
            .all(|l| l.executor.as_ref().unwrap().port == u32::from(a.addr().port()))
    );

    let dir_b = TempDir::new("exec-b");
    let reader = ShuffleReaderExec::try_new(
        schema(),
        partitions.clone(),
        1,
        "exec-b",
        dir_b.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    check_partitions(&read_all(&reader).await, &input);

    // One location at a time gives the same data.
    let serial = reader.clone().with_fetch_concurrency(1);
    check_partitions(&read_all(&serial).await, &input);

    a.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn a_dead_executor_is_a_fetch_failure_naming_it() {
    let dir = TempDir::new("dead");
    let location = pb::PartitionLocation {
        job_id: "j".into(),
        stage_id: 1,
        executor: Some(endpoint("exec-dead", dead_port())),
        path: "/tmp/j/1/0/0.arrow".into(),
        ..Default::default()
    };
    let reader = ShuffleReaderExec::try_new(
        schema(),
        vec![vec![location]],
        1,
        "exec-b",
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    let started = Instant::now();
    let err = collect(reader.execute(0, ctx()).unwrap())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let (executor, message) = fetch_failure(&err);
    assert_eq!(executor, "exec-dead");
    assert!(message.contains("job j, stage 1"), "{message}");
}

#[tokio::test]
async fn a_missing_remote_partition_is_a_fetch_failure() {
    let scheduler = StandInScheduler::start(1000).await;
    let dir_a = TempDir::new("exec-a");
    let a = start_executor(&scheduler, &dir_a).await;
    let location = pb::PartitionLocation {
        job_id: "gone".into(),
        stage_id: 3,
        map_partition: 1,
        output_partition: 2,
        executor: Some(a.endpoint().clone()),
        path: a
            .work_dir()
            .join("gone/3/2/1.arrow")
            .to_str()
            .unwrap()
            .into(),
        ..Default::default()
    };
    let dir_b = TempDir::new("exec-b");
    let reader = ShuffleReaderExec::try_new(
        schema(),
        vec![vec![location]],
        3,
        "exec-b",
        dir_b.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    let err = collect(reader.execute(0, ctx()).unwrap())
        .await
        .unwrap_err();
    let (executor, message) = fetch_failure(&err);
    assert_eq!(executor, a.id());
    assert!(message.contains("Not found"), "{message}");
    a.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn a_partition_out_of_range_is_an_error() {
    let dir = TempDir::new("range");
    let reader = ShuffleReaderExec::try_new(
        schema(),
        vec![vec![]],
        1,
        "e",
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap();
    assert!(
        collect(reader.execute(0, ctx()).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    let err = reader.execute(1, ctx()).err().unwrap().to_string();
    assert!(err.contains("partition 1 does not exist"), "{err}");

    let no_executor = pb::PartitionLocation::default();
    let err = ShuffleReaderExec::try_new(
        schema(),
        vec![vec![], vec![no_executor]],
        1,
        "e",
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("ShuffleReadExec.partitions[1].locations[0].executor"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unread_partition_does_not_stall_the_one_being_read() {
    // A hash join starts its probe input (so its fetches begin) and then
    // reads the whole build input first. Both inputs come from the same
    // executor: if their streams shared one HTTP/2 connection, the probe
    // streams' unread data would fill the connection's flow-control window
    // and the build input would wait forever.
    let scheduler = StandInScheduler::start(1000).await;
    let dir_a = TempDir::new("exec-a-window");
    let a = start_executor(&scheduler, &dir_a).await;
    // 4 map tasks dealing batches over 2 partitions: each location holds
    // several MiB, more than a stream's window.
    let data: Vec<Vec<RecordBatch>> = (0..4).map(|m| batches(m * 1_000_000, 48, 8192)).collect();
    let writer = ShuffleWriterExec::try_new(
        memory_plan(data.clone()),
        "job-window",
        1,
        Some(Partitioning::RoundRobinBatch(2)),
        pb::ShuffleCompression::Unspecified,
        a.work_dir().to_path_buf(),
        a.endpoint().clone(),
    )
    .unwrap();
    let mut partitions = vec![Vec::new(); 2];
    for map in 0..4 {
        for location in writer.write(map, ctx()).await.unwrap() {
            partitions[location.output_partition as usize].push(location);
        }
    }
    let dir_b = TempDir::new("exec-b-window");
    // A connection to A is open already, as it is after earlier stages.
    let connections = Arc::new(ConnectionCache::new());
    let url = ballista_flight::client::endpoint_url(a.endpoint());
    connections.put_back(connections.take(&url).await.unwrap());
    assert_eq!(connections.idle(&url), 1);
    let reader = ShuffleReaderExec::try_new(
        schema(),
        partitions,
        1,
        "exec-b",
        dir_b.path().to_path_buf(),
        Arc::clone(&connections),
    )
    .unwrap();
    let probe = reader.execute(1, ctx()).unwrap();
    let build = tokio::time::timeout(
        Duration::from_secs(30),
        collect(reader.execute(0, ctx()).unwrap()),
    )
    .await
    .expect("reading partition 0 stalled behind the unread partition 1")
    .unwrap();
    let probe = collect(probe).await.unwrap();
    let total: usize = build.iter().chain(&probe).map(RecordBatch::num_rows).sum();
    assert_eq!(total, 4 * 48 * 8192);
    // Connections whose fetch finished are kept for the next fetches.
    assert!(connections.idle(&url) >= 1);
    a.shutdown().await.unwrap();
    scheduler.stop().await;
}

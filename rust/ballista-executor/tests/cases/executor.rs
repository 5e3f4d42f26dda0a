//! A real executor (Flight server on loopback, real files) driven the way a
//! scheduler drives it: registration, `launch_task`, statuses in
//! heartbeats, `remove_job_data`, shutdown. The scheduler is the stand-in
//! of `support` (the real one lives in `ballista-scheduler`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arrow::array::{AsArray, RecordBatch};
use ballista_core::BallistaError;
use ballista_core::hash::hash_partition_indices;
use ballista_core::serde::physical::physical_plan_to_proto;
use ballista_executor::shuffle::{
    ConnectionCache, ResultSinkExec, ShuffleReaderExec, ShuffleWriterExec,
};
use ballista_executor::{Executor, ExecutorCodec, ExecutorConfig, ExecutorHandle};
use ballista_flight::FlightConn;
use ballista_flight::actions::{LAUNCH_TASK, REMOVE_JOB_DATA};
use ballista_proto::v1 as pb;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, Partitioning};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::TryStreamExt;

use crate::support::{
    StandInScheduler, TempDir, batches, dead_port, endpoint, eventually, files_under, ids,
    memory_plan, read_ipc, rows, schema,
};

const WAIT: Duration = Duration::from_secs(10);

/// Encodes plans the way the scheduler does; its endpoint and directory
/// are irrelevant, since each executor binds runtime operators to its own.
fn planner_codec() -> ExecutorCodec {
    ExecutorCodec::new(
        endpoint("planner", 0),
        std::env::temp_dir(),
        Arc::new(ConnectionCache::new()),
    )
}

fn task(
    job: &str,
    stage: u32,
    partition: u32,
    plan: &Arc<dyn ExecutionPlan>,
    settings: &[(&str, &str)],
) -> pb::TaskDefinition {
    pb::TaskDefinition {
        task_id: Some(pb::TaskId {
            job_id: job.into(),
            stage_id: stage,
            partition,
            attempt: 0,
        }),
        plan: Some(physical_plan_to_proto(plan, &planner_codec()).unwrap()),
        settings: settings
            .iter()
            .map(|(k, v)| pb::KeyValue {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

async fn conn(handle: &ExecutorHandle) -> FlightConn {
    FlightConn::connect(&format!("grpc://{}", handle.addr()))
        .await
        .unwrap()
}

async fn launch(
    handle: &ExecutorHandle,
    definition: &pb::TaskDefinition,
) -> Result<(), BallistaError> {
    conn(handle)
        .await
        .action::<()>(LAUNCH_TASK, definition)
        .await
}

async fn remove(handle: &ExecutorHandle, job: &str, shuffle_only: bool) {
    let body = pb::RemoveJobData {
        job_id: job.into(),
        shuffle_only,
    };
    conn(handle)
        .await
        .action::<()>(REMOVE_JOB_DATA, &body)
        .await
        .unwrap();
}

fn shuffle_writer(
    job: &str,
    stage: u32,
    input: Arc<dyn ExecutionPlan>,
    partitioning: Option<Partitioning>,
) -> Arc<dyn ExecutionPlan> {
    Arc::new(
        ShuffleWriterExec::try_new(
            input,
            job,
            stage,
            partitioning,
            pb::ShuffleCompression::Unspecified,
            std::env::temp_dir(),
            endpoint("planner", 0),
        )
        .unwrap(),
    )
}

fn result_sink(job: &str, stage: u32, input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    Arc::new(
        ResultSinkExec::try_new(
            input,
            job,
            stage,
            std::env::temp_dir(),
            endpoint("planner", 0),
        )
        .unwrap(),
    )
}

async fn start(
    scheduler: &StandInScheduler,
    configure: impl FnOnce(&mut ExecutorConfig),
) -> ExecutorHandle {
    let mut config = ExecutorConfig::new(scheduler.url.clone());
    configure(&mut config);
    let handle = Executor::start(config).await.unwrap();
    handle.wait_registered(WAIT).await.unwrap();
    handle
}

#[tokio::test]
async fn registers_with_its_endpoint_slots_and_capabilities() {
    let scheduler = StandInScheduler::start(1000).await;
    let handle = start(&scheduler, |c| c.task_slots = 3).await;
    let registration = scheduler.log.registrations.lock().unwrap()[0].clone();
    let ep = registration.endpoint.unwrap();
    assert_eq!(ep.id, handle.id());
    assert_eq!(
        (ep.host.as_str(), ep.port),
        ("127.0.0.1", u32::from(handle.addr().port()))
    );
    assert_eq!(registration.task_slots, 3);
    let caps = registration.capabilities.unwrap();
    assert!(
        caps.implementation.starts_with("ballista-rust/"),
        "{}",
        caps.implementation
    );
    assert_eq!(caps.engines, vec!["datafusion".to_string()]);
    assert!(uuid::Uuid::parse_str(handle.id()).is_ok());

    // Heartbeats follow, with every slot free.
    let beat = eventually("a heartbeat", WAIT, || {
        scheduler.log.heartbeats.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(
        (beat.executor_id.as_str(), beat.free_slots),
        (handle.id(), 3)
    );

    // Told it is unknown, the executor registers again.
    scheduler.log.reregister_next.store(true, Ordering::SeqCst);
    eventually("a second registration", WAIT, || {
        (scheduler.log.registrations.lock().unwrap().len() >= 2).then_some(())
    })
    .await;
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn registration_is_retried_until_the_scheduler_answers() {
    // Nothing listens at first.
    let port = dead_port();
    let handle = Executor::start(ExecutorConfig::new(format!("grpc://127.0.0.1:{port}")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!handle.is_registered());
    // A scheduler appears on that port.
    let scheduler = StandInScheduler::start_on(port, 1000).await;
    handle.wait_registered(WAIT).await.unwrap();
    assert_eq!(scheduler.log.registrations.lock().unwrap().len(), 1);
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

/// Stage 1 of a query: scan a Parquet file, hash-partition it by `id` over
/// three reduce partitions.
#[tokio::test]
async fn a_shuffle_write_task_runs_end_to_end() {
    // A long heartbeat interval: the status can only arrive in time through
    // the heartbeat sent as soon as the task finishes.
    let scheduler = StandInScheduler::start(60_000).await;
    let handle = start(&scheduler, |c| c.task_slots = 3).await;

    // Three files, three map tasks. Each task decodes the whole stage plan
    // but must read only its own file group: DataFusion's work stealing
    // between sibling partitions would make every task read every file.
    let data_dir = TempDir::new("parquet");
    let input = batches(0, 10, 100);
    for (i, chunk) in input.chunks(4).enumerate() {
        let file = data_dir.path().join(format!("t{i}.parquet"));
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(&file).unwrap(), schema(), None).unwrap();
        for b in chunk {
            writer.write(b).unwrap();
        }
        writer.close().unwrap();
    }
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(3));
    ctx.register_parquet(
        "t",
        data_dir.path().to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let scan = ctx
        .sql("SELECT id, name FROM t")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let keys = vec![col("id", &scan.schema()).unwrap()];
    let maps = scan.output_partitioning().partition_count();
    assert_eq!(maps, 3, "one map task per file");
    let plan = shuffle_writer("job-e2e", 1, scan, Some(Partitioning::Hash(keys, 3)));

    for map in 0..maps {
        let definition = task(
            "job-e2e",
            1,
            map as u32,
            &plan,
            &[("datafusion.execution.batch_size", "256")],
        );
        launch(&handle, &definition).await.unwrap();
    }
    let statuses = eventually("every map task's status", WAIT, || {
        let s: Vec<_> = scheduler.log.statuses();
        (s.len() == maps).then_some(s)
    })
    .await;

    let mut written = Vec::new();
    for status in statuses {
        assert_eq!(
            status.state,
            pb::TaskState::Succeeded as i32,
            "{}",
            status.error
        );
        assert_eq!(status.executor_id, handle.id());
        for out in &status.outputs {
            assert_eq!(out.executor.as_ref().unwrap().id, handle.id());
            assert!(Path::new(&out.path).starts_with(handle.work_dir()));
            // Through Flight, as another executor or a client reads it.
            let ticket = pb::FetchPartition {
                job_id: out.job_id.clone(),
                stage_id: out.stage_id,
                map_partition: out.map_partition,
                output_partition: out.output_partition,
                path: out.path.clone(),
            };
            let fetched: Vec<RecordBatch> = conn(&handle)
                .await
                .fetch(&ticket)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(rows(&fetched), rows(&read_ipc(&out.path)));
            assert_eq!(
                out.stats.unwrap().num_rows as usize,
                fetched.iter().map(RecordBatch::num_rows).sum::<usize>()
            );
            for b in &fetched {
                let parts = hash_partition_indices(&[ids(b)], 3).unwrap();
                assert!(parts.iter().all(|&p| p == out.output_partition));
                // The task's batch size setting was applied.
                assert!(b.num_rows() <= 256);
            }
            written.extend(fetched);
        }
    }
    assert_eq!(rows(&written), rows(&input));
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn failed_tasks_report_why_and_whether_a_retry_may_help() {
    let scheduler = StandInScheduler::start(60_000).await;
    let handle = start(&scheduler, |_| {}).await;
    let input = memory_plan(vec![batches(0, 1, 10)]);

    // An unknown setting.
    let plan = result_sink("job-setting", 1, Arc::clone(&input));
    launch(
        &handle,
        &task(
            "job-setting",
            1,
            0,
            &plan,
            &[("datafusion.execution.no_such_thing", "1")],
        ),
    )
    .await
    .unwrap();
    let status = scheduler.status_of("job-setting", WAIT).await;
    assert_eq!(status.state, pb::TaskState::Failed as i32);
    assert!(
        status.error.contains("datafusion.execution.no_such_thing"),
        "{}",
        status.error
    );
    assert!(!status.retryable);

    // A stage whose root writes nothing.
    launch(&handle, &task("job-root", 1, 0, &input, &[]))
        .await
        .unwrap();
    let status = scheduler.status_of("job-root", WAIT).await;
    assert!(
        status
            .error
            .contains("must be ShuffleWriteExec or ResultSinkExec"),
        "{}",
        status.error
    );

    // A plan writing into another job.
    let other = result_sink("job-other", 1, Arc::clone(&input));
    launch(&handle, &task("job-mine", 1, 0, &other, &[]))
        .await
        .unwrap();
    let status = scheduler.status_of("job-mine", WAIT).await;
    assert!(
        status.error.contains("writes job job-other"),
        "{}",
        status.error
    );

    // Shuffle input held by an executor that is gone.
    let lost = pb::PartitionLocation {
        job_id: "job-fetch".into(),
        stage_id: 1,
        executor: Some(endpoint("exec-gone", dead_port())),
        path: "/somewhere/job-fetch/1/0/0.arrow".into(),
        ..Default::default()
    };
    let read: Arc<dyn ExecutionPlan> = Arc::new(
        ShuffleReaderExec::try_new(
            schema(),
            vec![vec![lost]],
            1,
            "planner",
            std::env::temp_dir(),
            Arc::new(ConnectionCache::new()),
        )
        .unwrap(),
    );
    launch(
        &handle,
        &task("job-fetch", 2, 0, &result_sink("job-fetch", 2, read), &[]),
    )
    .await
    .unwrap();
    let status = scheduler.status_of("job-fetch", WAIT).await;
    assert_eq!(status.state, pb::TaskState::Failed as i32);
    assert!(status.retryable, "{status:?}");
    assert_eq!(status.fetch_failed_executor_id, "exec-gone");

    // The executor is still serving.
    launch(
        &handle,
        &task("job-ok", 1, 0, &result_sink("job-ok", 1, input), &[]),
    )
    .await
    .unwrap();
    let status = scheduler.status_of("job-ok", WAIT).await;
    assert_eq!(
        status.state,
        pb::TaskState::Succeeded as i32,
        "{}",
        status.error
    );
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

/// A task that runs until released: it reads a shuffle partition from the
/// stand-in scheduler's stalling `DoGet`.
fn stalled_task(job: &str, scheduler: &StandInScheduler) -> pb::TaskDefinition {
    let stalled = pb::PartitionLocation {
        job_id: job.into(),
        stage_id: 1,
        executor: Some(endpoint("staller", scheduler.port)),
        path: "/x/0.arrow".into(),
        ..Default::default()
    };
    let read: Arc<dyn ExecutionPlan> = Arc::new(
        ShuffleReaderExec::try_new(
            schema(),
            vec![vec![stalled]],
            1,
            "planner",
            std::env::temp_dir(),
            Arc::new(ConnectionCache::new()),
        )
        .unwrap(),
    );
    task(job, 2, 0, &result_sink(job, 2, read), &[])
}

#[tokio::test]
async fn a_full_executor_refuses_tasks_and_removing_a_job_aborts_its_tasks() {
    let scheduler = StandInScheduler::start(60_000).await;
    let handle = start(&scheduler, |c| c.task_slots = 1).await;

    launch(&handle, &stalled_task("job-slow", &scheduler))
        .await
        .unwrap();
    let err = launch(&handle, &stalled_task("job-next", &scheduler))
        .await
        .unwrap_err();
    assert!(matches!(err, BallistaError::ResourcesExhausted(_)), "{err}");
    assert!(err.to_string().contains("no free task slot"), "{err}");

    remove(&handle, "job-slow", false).await;
    let status = scheduler.status_of("job-slow", WAIT).await;
    assert_eq!(status.state, pb::TaskState::Cancelled as i32, "{status:?}");

    // The slot is free again.
    launch(&handle, &stalled_task("job-next", &scheduler))
        .await
        .unwrap();
    // Released, the fetch fails; the failure is reported as such.
    eventually("job-next's fetch to wait on the staller", WAIT, || {
        (scheduler.log.stalled.load(Ordering::SeqCst) >= 2).then_some(())
    })
    .await;
    scheduler.log.gate.notify_waiters();
    let status = scheduler.status_of("job-next", WAIT).await;
    assert_eq!(status.state, pb::TaskState::Failed as i32);
    assert_eq!(status.fetch_failed_executor_id, "staller");
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn statuses_wait_for_a_scheduler_that_is_away() {
    let scheduler = StandInScheduler::start(100).await;
    let handle = start(&scheduler, |_| {}).await;
    scheduler
        .log
        .refuse_heartbeats
        .store(true, Ordering::SeqCst);

    let plan = result_sink("job-away", 1, memory_plan(vec![batches(0, 1, 10)]));
    launch(&handle, &task("job-away", 1, 0, &plan, &[]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(scheduler.log.status_of("job-away").is_none());

    scheduler
        .log
        .refuse_heartbeats
        .store(false, Ordering::SeqCst);
    let status = scheduler.status_of("job-away", WAIT).await;
    assert_eq!(
        status.state,
        pb::TaskState::Succeeded as i32,
        "{}",
        status.error
    );
    // Exactly once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(scheduler.log.statuses().len(), 1);
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn removing_job_data_deletes_shuffle_files_then_results() {
    let scheduler = StandInScheduler::start(60_000).await;
    let handle = start(&scheduler, |_| {}).await;
    let input = memory_plan(vec![batches(0, 2, 50)]);
    let keys = vec![col("id", &input.schema()).unwrap()];
    let write = shuffle_writer(
        "job-rm",
        1,
        Arc::clone(&input),
        Some(Partitioning::Hash(keys, 2)),
    );
    launch(&handle, &task("job-rm", 1, 0, &write, &[]))
        .await
        .unwrap();
    let sink = result_sink("job-rm", 2, input);
    launch(&handle, &task("job-rm", 2, 0, &sink, &[]))
        .await
        .unwrap();
    eventually("two statuses", WAIT, || {
        (scheduler.log.statuses().len() == 2).then_some(())
    })
    .await;
    let job_dir = handle.work_dir().join("job-rm");
    assert_eq!(files_under(&job_dir).len(), 3);

    remove(&handle, "job-rm", true).await;
    let left = files_under(&job_dir);
    assert_eq!(left, vec![job_dir.join("2/result/0.arrow")]);

    remove(&handle, "job-rm", false).await;
    assert!(!job_dir.exists());
    // Removing what is gone is fine.
    remove(&handle, "job-rm", false).await;
    handle.shutdown().await.unwrap();
    scheduler.stop().await;
}

#[tokio::test]
async fn shutdown_removes_the_temporary_work_dir() {
    let scheduler = StandInScheduler::start(1000).await;
    let handle = start(&scheduler, |_| {}).await;
    let plan = result_sink("job-tmp", 1, memory_plan(vec![batches(0, 1, 10)]));
    launch(&handle, &task("job-tmp", 1, 0, &plan, &[]))
        .await
        .unwrap();
    scheduler.status_of("job-tmp", WAIT).await;
    let dir = handle.work_dir().to_path_buf();
    assert!(dir.starts_with(std::fs::canonicalize(std::env::temp_dir()).unwrap()));
    assert!(dir.join("job-tmp/1/result/0.arrow").exists());
    handle.shutdown().await.unwrap();
    assert!(!dir.exists());

    // A configured directory is kept, without the jobs' data.
    let kept = TempDir::new("kept");
    let handle = start(&scheduler, |c| c.work_dir = Some(kept.path().to_path_buf())).await;
    launch(
        &handle,
        &task(
            "job-kept",
            1,
            0,
            &result_sink("job-kept", 1, memory_plan(vec![batches(0, 1, 10)])),
            &[],
        ),
    )
    .await
    .unwrap();
    scheduler.status_of("job-kept", WAIT).await;
    handle.shutdown().await.unwrap();
    assert!(kept.path().exists());
    assert!(files_under(kept.path()).is_empty());
    scheduler.stop().await;
}

#[tokio::test]
async fn the_memory_limit_applies_to_tasks() {
    let scheduler = StandInScheduler::start(60_000).await;
    // ~2 MB of rows to sort.
    let input = memory_plan(vec![batches(0, 20, 5000)]);
    let order = LexOrdering::new(vec![PhysicalSortExpr::new_default(
        col("name", &schema()).unwrap(),
    )])
    .unwrap();
    let sort: Arc<dyn ExecutionPlan> = Arc::new(SortExec::new(order, input));
    let plan = result_sink("job-mem", 1, sort);

    // With 64 KiB the sort cannot even hold one batch: a clear error.
    let tiny = start(&scheduler, |c| c.memory_limit = Some(64 * 1024)).await;
    launch(&tiny, &task("job-mem", 1, 0, &plan, &[]))
        .await
        .unwrap();
    let status = scheduler.status_of("job-mem", WAIT).await;
    assert_eq!(status.state, pb::TaskState::Failed as i32);
    assert!(
        status.error.contains("Resources exhausted"),
        "{}",
        status.error
    );
    assert!(!status.retryable);
    tiny.shutdown().await.unwrap();

    // With 1 MiB it spills to the work directory and succeeds.
    let small = start(&scheduler, |c| c.memory_limit = Some(1024 * 1024)).await;
    let plan = result_sink("job-spill", 1, {
        let input = memory_plan(vec![batches(0, 20, 5000)]);
        let order = LexOrdering::new(vec![PhysicalSortExpr::new_default(
            col("name", &schema()).unwrap(),
        )])
        .unwrap();
        Arc::new(SortExec::new(order, input)) as Arc<dyn ExecutionPlan>
    });
    let settings = [("datafusion.execution.sort_spill_reservation_bytes", "65536")];
    launch(&small, &task("job-spill", 1, 0, &plan, &settings))
        .await
        .unwrap();
    let status = scheduler
        .status_of("job-spill", Duration::from_secs(30))
        .await;
    assert_eq!(
        status.state,
        pb::TaskState::Succeeded as i32,
        "{}",
        status.error
    );
    let out = read_ipc(&status.outputs[0].path);
    let names: Vec<Option<&str>> = out
        .iter()
        .flat_map(|b| b.column(1).as_string::<i32>().iter().collect::<Vec<_>>())
        .collect();
    assert_eq!(names.len(), 100_000);
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "not sorted");
    small.shutdown().await.unwrap();
    scheduler.stop().await;
}

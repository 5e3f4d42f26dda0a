//! Large results come back whole: the client fetches several result
//! partitions ahead while it reads them one after another.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use ballista_client::{BallistaContext, QueryResult};
use parquet::arrow::ArrowWriter;

/// `files` Parquet files of `rows_per_file` (id, text) rows; returns the
/// sum of all ids.
fn write_table(dir: &std::path::Path, files: i64, rows_per_file: i64) -> i64 {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    let mut sum = 0;
    for f in 0..files {
        let file = std::fs::File::create(dir.join(format!("part-{f}.parquet"))).unwrap();
        let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), None).unwrap();
        for chunk in 0..rows_per_file / 10_000 {
            let start = f * rows_per_file + chunk * 10_000;
            let ids: Vec<i64> = (start..start + 10_000).collect();
            sum += ids.iter().sum::<i64>();
            let text: Vec<String> = ids.iter().map(|i| format!("row number {i:>12}")).collect();
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(StringArray::from(text)),
                ],
            )
            .unwrap();
            writer.write(&batch).unwrap();
        }
        writer.close().unwrap();
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_of_many_large_partitions_on_one_executor_is_fetched_whole() {
    let dir = tempfile::tempdir().unwrap();
    // 4 partitions of ~8 MiB each on one executor: more than an HTTP/2
    // connection's flow-control window (5 MiB) waits while one is read.
    let (files, rows) = (4, 250_000);
    let sum = write_table(dir.path(), files, rows);
    let ctx = cluster_over(dir.path(), 1, 4).await;
    let df = ctx.sql("SELECT id, text FROM t").await.unwrap();
    let batches = tokio::time::timeout(Duration::from_secs(30), df.collect())
        .await
        .expect("fetching the result stalled")
        .unwrap();
    let ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            let c = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            c.values().to_vec()
        })
        .collect();
    assert_eq!(ids.len() as i64, files * rows);
    assert_eq!(ids.iter().sum::<i64>(), sum);
}

/// An embedded cluster of `executors` × `slots`, with the files in `dir`
/// as table `t` and a partition per slot.
async fn cluster_over(dir: &std::path::Path, executors: usize, slots: usize) -> BallistaContext {
    let cluster = EmbeddedCluster::start(StandaloneConfig {
        executors,
        slots_per_executor: slots,
        memory_limit: None,
    })
    .await
    .unwrap();
    let ctx = BallistaContext::for_cluster(Arc::new(cluster))
        .await
        .unwrap();
    ctx.set(
        "datafusion.execution.target_partitions",
        (executors * slots).to_string(),
    );
    ctx.register_parquet("t", dir.to_str().unwrap())
        .await
        .unwrap();
    ctx
}

async fn cluster_with_table(dir: &std::path::Path) -> BallistaContext {
    write_table(dir, 2, 20_000);
    cluster_over(dir, 2, 1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetched_results_are_released_and_the_job_stays_listed() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = cluster_with_table(dir.path()).await;
    let df = ctx.sql("SELECT id FROM t WHERE id % 2 = 0").await.unwrap();
    let result = ctx.execute(&df, None).await.unwrap();
    let rows: usize = ctx
        .fetch_all(&result)
        .await
        .unwrap()
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(rows, 20_000);

    // The result files are gone: fetching again names what is missing.
    let again = ctx.fetch_all(&result).await.unwrap_err().to_string();
    assert!(again.starts_with("Not found: partition"), "{again}");
    // The job itself is still listed, with its tasks.
    let status = ctx.job_status(&result.job_id).await.unwrap();
    assert_eq!(status.job_id, result.job_id);
    assert!(!status.tasks.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_stream_dropped_early_releases_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = cluster_with_table(dir.path()).await;
    let df = ctx.sql("SELECT id, text FROM t").await.unwrap();
    let result = ctx.execute(&df, None).await.unwrap();
    assert_eq!(fetch_raw(&result).await.unwrap(), 40_000);
    let mut stream = ctx.fetch_stream(&result);
    use futures::StreamExt;
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.num_rows() > 0);
    drop(stream);

    // The release is sent from the dropped stream in the background; read
    // with raw Flight calls, which release nothing themselves.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match fetch_raw(&result).await {
            Err(status) if status.code() == tonic::Code::NotFound => break,
            other => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "results still there 10 s after the stream was dropped: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Rows of every partition of `result`, read with plain `DoGet` calls.
async fn fetch_raw(result: &QueryResult) -> Result<usize, tonic::Status> {
    use futures::TryStreamExt;
    let mut rows = 0;
    for endpoint in &result.endpoints {
        let url = endpoint.location[0].uri.replace("grpc://", "http://");
        let channel = tonic::transport::Endpoint::from_shared(url)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut flight = arrow_flight::FlightClient::new(channel);
        let stream = flight
            .do_get(endpoint.ticket.clone().unwrap())
            .await
            .map_err(to_status)?;
        let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(to_status)?;
        rows += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
    }
    Ok(rows)
}

fn to_status(e: arrow_flight::error::FlightError) -> tonic::Status {
    match e {
        arrow_flight::error::FlightError::Tonic(s) => *s,
        other => tonic::Status::unknown(other.to_string()),
    }
}

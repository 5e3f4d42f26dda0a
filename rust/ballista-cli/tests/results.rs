//! Large results come back whole: the client fetches several result
//! partitions ahead while it reads them one after another.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use ballista_client::BallistaContext;
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
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
    let cluster = EmbeddedCluster::start(StandaloneConfig {
        executors: 1,
        slots_per_executor: 4,
        memory_limit: None,
    })
    .await
    .unwrap();
    let ctx = BallistaContext::for_cluster(Arc::new(cluster))
        .await
        .unwrap();
    ctx.set("datafusion.execution.target_partitions", "4");
    ctx.register_parquet("t", dir.path().to_str().unwrap())
        .await
        .unwrap();
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

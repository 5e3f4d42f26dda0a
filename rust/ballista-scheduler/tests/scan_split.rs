//! Parquet scans are split so their tasks read about as many rows each, on
//! real files read by a real DataFusion plan.

mod common;

use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use ballista_proto::v1 as pb;
use ballista_scheduler::session::Planned;
use datafusion::datasource::physical_plan::{FileScanConfig, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, collect};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

/// Rows of each file.
const ROWS: [i64; 4] = [1000, 1000, 1000, 1100];

/// Four Parquet files of one row group each in `dir`, the last a little
/// longer: the shape of small TPC-H tables. DataFusion cuts the bytes in
/// half just past the third file's first page, so the first of its two
/// byte ranges holds three row groups.
fn write_files(dir: &std::path::Path) {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
    let mut first = 0;
    for (file, rows) in ROWS.into_iter().enumerate() {
        let values = first..first + rows;
        first += rows;
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int64Array::from_iter_values(values))],
        )
        .unwrap();
        let out = std::fs::File::create(dir.join(format!("part-{file}.parquet"))).unwrap();
        let mut writer = ArrowWriter::try_new(out, Arc::clone(&schema), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
}

/// The values each partition of `scan` reads when it runs as a task of its
/// own, the way an executor runs it. (Partitions of one scan executed in
/// one process share their files, the faster taking the slower's, which
/// hides how they were split.)
async fn rows_per_task(scan: Arc<dyn ExecutionPlan>) -> Vec<Vec<i64>> {
    let config = scan
        .downcast_ref::<DataSourceExec>()
        .unwrap()
        .data_source()
        .downcast_ref::<FileScanConfig>()
        .unwrap();
    let mut tasks = Vec::new();
    for group in &config.file_groups {
        let one = FileScanConfigBuilder::from(config.clone())
            .with_file_groups(vec![group.clone()])
            .build();
        let batches = collect(
            DataSourceExec::from_data_source(one),
            SessionContext::new().task_ctx(),
        )
        .await
        .unwrap();
        let values = batches.iter().flat_map(|b| {
            let v = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            v.values().to_vec()
        });
        tasks.push(values.collect());
    }
    tasks
}

/// The scan at the bottom of a one-scan plan.
fn scan_of(plan: &Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    if plan.downcast_ref::<DataSourceExec>().is_some() {
        return Arc::clone(plan);
    }
    scan_of(plan.children()[0])
}

#[tokio::test]
async fn a_scan_of_one_row_group_files_reads_two_files_per_partition() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path());
    let path = dir.path().to_str().unwrap().to_string();
    // Byte ranges are only cut from files of at least this size (10 MiB by
    // default); these files are small.
    let min_size = "datafusion.optimizer.repartition_file_min_size";

    // DataFusion alone: 3,000 rows against 1,100.
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .set_usize(min_size, 0);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_parquet("t", &path, ParquetReadOptions::default())
        .await
        .unwrap();
    let plan = ctx
        .sql("SELECT v FROM t WHERE v % 3 <> 1")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let lens: Vec<usize> = rows_per_task(scan_of(&plan))
        .await
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(lens, vec![3000, 1100], "DataFusion's own split changed");

    // Ballista: two files each, every row once.
    let catalog = common::catalog_over(dir.path()).await;
    let query = pb::ExecuteQuery {
        query: Some(pb::execute_query::Query::Sql(
            "SELECT v FROM t WHERE v % 3 <> 1".to_string(),
        )),
        settings: vec![pb::KeyValue {
            key: min_size.to_string(),
            value: "0".to_string(),
        }],
        job_name: String::new(),
        session_id: String::new(),
        udfs: Vec::new(),
    };
    let Planned::Query(planned) = catalog.plan(&query, 2).await.unwrap() else {
        panic!("expected a query");
    };
    let scan = scan_of(&planned.physical);
    assert_eq!(scan.output_partitioning().partition_count(), 2);
    let tasks = rows_per_task(scan).await;
    let lens: Vec<usize> = tasks.iter().map(Vec::len).collect();
    assert_eq!(lens, vec![2000, 2100]);
    let mut all: Vec<i64> = tasks.concat();
    all.sort_unstable();
    assert_eq!(all, (0..ROWS.iter().sum()).collect::<Vec<_>>());
}

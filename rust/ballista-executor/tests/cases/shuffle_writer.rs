//! `ShuffleWriterExec` and `ResultSinkExec`: routing, file layout, format,
//! statistics, and what a failure leaves behind.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, UInt64Type};
use ballista_core::hash::hash_partition_indices;
use ballista_executor::shuffle::{
    ResultSinkExec, ShuffleWriterExec, result_file_path, shuffle_file_path,
};
use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::{CastExpr, col};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning, collect};
use datafusion::prelude::SessionConfig;

use crate::support::{
    TempDir, batch, batches, endpoint, files_under, ids, memory_plan, read_ipc, rows,
};

fn writer(
    input: Arc<dyn ExecutionPlan>,
    partitioning: Option<Partitioning>,
    compression: pb::ShuffleCompression,
    dir: &Path,
) -> ShuffleWriterExec {
    ShuffleWriterExec::try_new(
        input,
        "job-1",
        2,
        partitioning,
        compression,
        dir.to_path_buf(),
        endpoint("exec-a", 4000),
    )
    .unwrap()
}

fn hash_on_id(input: &Arc<dyn ExecutionPlan>, n: usize) -> Option<Partitioning> {
    Some(Partitioning::Hash(
        vec![col("id", &input.schema()).unwrap()],
        n,
    ))
}

fn ctx() -> Arc<TaskContext> {
    Arc::new(TaskContext::default())
}

#[tokio::test]
async fn hash_partitioning_puts_every_row_where_the_spec_hash_says() {
    let dir = TempDir::new("hash");
    let input = memory_plan(vec![batches(0, 5, 100), batches(500, 3, 77)]);
    let exec = writer(
        Arc::clone(&input),
        hash_on_id(&input, 4),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );

    let mut all = Vec::new();
    for map in 0..2 {
        let locations = exec.write(map, ctx()).await.unwrap();
        assert!(!locations.is_empty());
        for loc in &locations {
            assert_eq!(loc.job_id, "job-1");
            assert_eq!(loc.stage_id, 2);
            assert_eq!(loc.map_partition, map as u32);
            assert_eq!(loc.executor.as_ref().unwrap().id, "exec-a");
            let reduce = loc.output_partition as usize;
            assert_eq!(
                Path::new(&loc.path),
                shuffle_file_path(dir.path(), "job-1", 2, reduce, map)
            );
            let data = read_ipc(&loc.path);
            for b in &data {
                let expected = hash_partition_indices(&[ids(b)], 4).unwrap();
                assert!(
                    expected.iter().all(|&p| p as usize == reduce),
                    "a row of partition {expected:?} was written to {reduce}"
                );
            }
            let stats = loc.stats.unwrap();
            assert_eq!(
                stats.num_rows,
                data.iter().map(|b| b.num_rows() as u64).sum::<u64>()
            );
            assert_eq!(stats.num_batches, data.len() as u64);
            assert_eq!(stats.num_bytes, std::fs::metadata(&loc.path).unwrap().len());
            all.extend(data);
        }
    }
    let mut expected = batches(0, 5, 100);
    expected.extend(batches(500, 3, 77));
    assert_eq!(rows(&all), rows(&expected));
}

#[tokio::test]
async fn round_robin_one_sends_everything_to_partition_zero() {
    let dir = TempDir::new("rr1");
    let input = memory_plan(vec![batches(0, 4, 10), batches(40, 2, 10)]);
    let exec = writer(
        input,
        Some(Partitioning::RoundRobinBatch(1)),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    for map in 0..2 {
        let locations = exec.write(map, ctx()).await.unwrap();
        assert_eq!(locations.len(), 1);
        assert_eq!(locations[0].output_partition, 0);
    }
    let written: Vec<_> = files_under(dir.path()).iter().flat_map(read_ipc).collect();
    let mut expected = batches(0, 4, 10);
    expected.extend(batches(40, 2, 10));
    assert_eq!(rows(&written), rows(&expected));
}

#[tokio::test]
async fn round_robin_deals_batches_starting_at_zero() {
    let dir = TempDir::new("rr3");
    let input = memory_plan(vec![batches(0, 5, 10)]);
    let exec = writer(
        input,
        Some(Partitioning::RoundRobinBatch(3)),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    let locations = exec.write(0, ctx()).await.unwrap();
    let by_partition: Vec<_> = locations
        .iter()
        .map(|l| (l.output_partition, rows(&read_ipc(&l.path))))
        .collect();
    // Batches 0..5 go to partitions 0, 1, 2, 0, 1.
    let expect = |bs: &[usize]| {
        rows(
            &bs.iter()
                .map(|&b| batch(b as i64 * 10, b as i64 * 10 + 10))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        by_partition,
        vec![
            (0, expect(&[0, 3])),
            (1, expect(&[1, 4])),
            (2, expect(&[2]))
        ]
    );
}

#[tokio::test]
async fn unknown_partitioning_sends_map_m_to_reduce_m() {
    let dir = TempDir::new("unknown");
    let input = memory_plan(vec![
        batches(0, 1, 10),
        batches(10, 1, 10),
        batches(20, 1, 10),
    ]);
    let exec = writer(
        Arc::clone(&input),
        Some(Partitioning::UnknownPartitioning(3)),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    for map in 0..3 {
        let locations = exec.write(map, ctx()).await.unwrap();
        assert_eq!(locations.len(), 1);
        assert_eq!(locations[0].output_partition as usize, map);
        assert_eq!(
            rows(&read_ipc(&locations[0].path)),
            rows(&batches(map as i64 * 10, 1, 10))
        );
    }
    // No partitioning keeps the input's: the same routing.
    let same = writer(input, None, pb::ShuffleCompression::Unspecified, dir.path());
    assert_eq!(same.output_partition_count(), 3);
    assert_eq!(same.write(2, ctx()).await.unwrap()[0].output_partition, 2);

    // A map partition with no reduce partition of its own is a broken plan.
    let input = memory_plan(vec![batches(0, 1, 10), batches(10, 1, 10)]);
    let narrow = writer(
        input,
        Some(Partitioning::UnknownPartitioning(1)),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    let err = narrow.write(1, ctx()).await.unwrap_err().to_string();
    assert!(
        err.contains("unknown(1)") && err.contains("map partition 1"),
        "{err}"
    );
}

#[tokio::test]
async fn lz4_and_zstd_files_are_plain_compressed_arrow_ipc_streams() {
    let data = vec![batches(0, 4, 2000)];
    let mut sizes = Vec::new();
    for compression in [
        pb::ShuffleCompression::None,
        pb::ShuffleCompression::Unspecified,
        pb::ShuffleCompression::Zstd,
    ] {
        let dir = TempDir::new("codec");
        let exec = writer(
            memory_plan(data.clone()),
            Some(Partitioning::RoundRobinBatch(1)),
            compression,
            dir.path(),
        );
        let locations = exec.write(0, ctx()).await.unwrap();
        assert_eq!(locations.len(), 1);
        assert_eq!(rows(&read_ipc(&locations[0].path)), rows(&data[0]));
        sizes.push(locations[0].stats.unwrap().num_bytes);
    }
    // The names repeat a prefix: both codecs must shrink the file.
    assert!(
        sizes[1] < sizes[0] && sizes[2] < sizes[0],
        "sizes none/lz4/zstd: {sizes:?}"
    );
}

#[tokio::test]
async fn empty_partitions_get_no_file() {
    let dir = TempDir::new("empty");
    // One distinct key: one partition of 16 gets every row.
    let constant: Vec<RecordBatch> = (0..3)
        .map(|_| {
            let b = batch(42, 43);
            let ids = arrow::array::Int64Array::from(vec![42; 50]);
            let names = arrow::array::StringArray::from(vec!["x"; 50]);
            RecordBatch::try_new(b.schema(), vec![Arc::new(ids), Arc::new(names)]).unwrap()
        })
        .collect();
    let input = memory_plan(vec![constant]);
    let exec = writer(
        Arc::clone(&input),
        hash_on_id(&input, 16),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    let locations = exec.write(0, ctx()).await.unwrap();
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0].stats.unwrap().num_rows, 150);
    // Nothing else on disk: no empty files, no temporary files.
    assert_eq!(
        files_under(dir.path()),
        vec![Path::new(&locations[0].path).to_path_buf()]
    );

    // An input with no rows at all writes nothing.
    let nothing = writer(
        memory_plan(vec![vec![]]),
        hash_on_id(&input, 16),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    assert!(nothing.write(0, ctx()).await.unwrap().is_empty());
}

#[tokio::test]
async fn tiny_slices_are_coalesced_into_full_batches() {
    let dir = TempDir::new("coalesce");
    // 1000 batches of 10 rows, hashed over 2 partitions: ~5000 rows each.
    let input = memory_plan(vec![batches(0, 1000, 10)]);
    let exec = writer(
        Arc::clone(&input),
        hash_on_id(&input, 2),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    );
    let ctx = Arc::new(
        TaskContext::default().with_session_config(SessionConfig::new().with_batch_size(1024)),
    );
    let locations = exec.write(0, ctx).await.unwrap();
    assert_eq!(locations.len(), 2);
    for loc in &locations {
        let stats = loc.stats.unwrap();
        // At most one partly filled batch per partition.
        assert!(
            stats.num_batches <= stats.num_rows.div_ceil(1024),
            "{} rows in {} batches",
            stats.num_rows,
            stats.num_batches
        );
        let data = read_ipc(&loc.path);
        assert!(data[..data.len() - 1].iter().all(|b| b.num_rows() == 1024));
    }
}

#[tokio::test]
async fn a_failing_input_leaves_no_file() {
    let dir = TempDir::new("fail");
    // The third batch's names are not numbers: the cast fails mid-stream,
    // after files were opened for the first two.
    let numeric = |from: i64| {
        let b = batch(from, from + 10);
        let names =
            arrow::array::StringArray::from_iter_values((from..from + 10).map(|i| i.to_string()));
        RecordBatch::try_new(b.schema(), vec![Arc::clone(b.column(0)), Arc::new(names)]).unwrap()
    };
    let input_batches = vec![numeric(0), numeric(10), batch(20, 30)];
    let scan = memory_plan(vec![input_batches]);
    let schema = scan.schema();
    let cast = Arc::new(CastExpr::new(
        col("name", &schema).unwrap(),
        DataType::Int32,
        None,
    ));
    let projection: Arc<dyn ExecutionPlan> = Arc::new(
        ProjectionExec::try_new(
            vec![
                (col("id", &schema).unwrap(), "id".to_string()),
                (cast, "n".to_string()),
            ],
            scan,
        )
        .unwrap(),
    );
    let exec = ShuffleWriterExec::try_new(
        Arc::clone(&projection),
        "job-1",
        2,
        Some(Partitioning::Hash(
            vec![col("id", &projection.schema()).unwrap()],
            4,
        )),
        pb::ShuffleCompression::Unspecified,
        dir.path().to_path_buf(),
        endpoint("exec-a", 4000),
    )
    .unwrap();
    let ctx = Arc::new(
        TaskContext::default().with_session_config(SessionConfig::new().with_batch_size(4)),
    );
    let err = exec.write(0, ctx).await.unwrap_err().to_string();
    assert!(err.contains("Cannot cast") || err.contains("cast"), "{err}");
    assert_eq!(files_under(dir.path()), Vec::<std::path::PathBuf>::new());
}

#[tokio::test]
async fn bad_job_ids_and_partition_counts_are_refused() {
    let dir = TempDir::new("refuse");
    let input = memory_plan(vec![batches(0, 1, 10)]);
    for job in ["../escape", "", ".hidden", "a/b"] {
        let err = ShuffleWriterExec::try_new(
            Arc::clone(&input),
            job,
            1,
            None,
            pb::ShuffleCompression::Unspecified,
            dir.path().to_path_buf(),
            endpoint("e", 1),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ShuffleWriteExec.job_id"), "{err}");
    }
    let err = ShuffleWriterExec::try_new(
        Arc::clone(&input),
        "j",
        1,
        Some(Partitioning::RoundRobinBatch(0)),
        pb::ShuffleCompression::Unspecified,
        dir.path().to_path_buf(),
        endpoint("e", 1),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("0 output partitions"), "{err}");
    let exec = writer(input, None, pb::ShuffleCompression::Unspecified, dir.path());
    let err = exec.write(5, ctx()).await.unwrap_err().to_string();
    assert!(err.contains("task partition 5 does not exist"), "{err}");
}

#[tokio::test]
async fn executing_the_writer_as_a_plan_yields_a_summary() {
    let dir = TempDir::new("summary");
    let input = memory_plan(vec![batches(0, 3, 100)]);
    let exec: Arc<dyn ExecutionPlan> = Arc::new(writer(
        Arc::clone(&input),
        hash_on_id(&input, 3),
        pb::ShuffleCompression::Unspecified,
        dir.path(),
    ));
    let text = datafusion::physical_plan::displayable(exec.as_ref())
        .one_line()
        .to_string();
    assert!(
        text.contains("ShuffleWriterExec: job=job-1, stage=2, partitioning=Hash([id@0], 3)"),
        "{text}"
    );
    let summary = collect(exec, ctx()).await.unwrap();
    let total: u64 = summary
        .iter()
        .map(|b| {
            b.column(2)
                .as_primitive::<UInt64Type>()
                .iter()
                .flatten()
                .sum::<u64>()
        })
        .sum();
    assert_eq!(total, 300);
    assert_eq!(
        files_under(dir.path()).len(),
        summary.iter().map(RecordBatch::num_rows).sum::<usize>()
    );
}

#[tokio::test]
async fn result_sink_always_writes_one_file() {
    let dir = TempDir::new("result");
    let input = memory_plan(vec![batches(0, 2, 10), vec![]]);
    let sink = ResultSinkExec::try_new(
        input,
        "job-9",
        4,
        dir.path().to_path_buf(),
        endpoint("exec-a", 1),
    )
    .unwrap();
    let full = sink.write(0, ctx()).await.unwrap();
    assert_eq!(
        Path::new(&full.path),
        result_file_path(dir.path(), "job-9", 4, 0)
    );
    assert_eq!(rows(&read_ipc(&full.path)), rows(&batches(0, 2, 10)));
    assert_eq!(full.stats.unwrap().num_rows, 20);

    // An empty partition still has a file (with the schema) and a location.
    let empty = sink.write(1, ctx()).await.unwrap();
    assert_eq!((empty.map_partition, empty.output_partition), (1, 1));
    assert_eq!(empty.stats.unwrap().num_rows, 0);
    let file = std::fs::File::open(&empty.path).unwrap();
    let reader = arrow::ipc::reader::StreamReader::try_new(file, None).unwrap();
    assert_eq!(reader.schema(), crate::support::schema());
    assert_eq!(reader.count(), 0);
}

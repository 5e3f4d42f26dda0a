//! Shuffle throughput (`make bench-shuffle`): N MiB of Arrow data written by
//! `ShuffleWriterExec` (2 map tasks at once, hashed into 4 reduce partitions)
//! and read back by `ShuffleReaderExec`, from local files and over Flight
//! `DoGet` from a real executor on loopback, next to two bounds measured on
//! the same machine in the same run: a `memcpy` of the same bytes and a plain
//! read of the shuffle files (from the page cache).
//!
//! Throughput is Arrow bytes (the in-memory size of the batches) per second,
//! so compressed and uncompressed files compare on the same data.
//!
//! Environment: `BALLISTA_SHUFFLE_MB` (default 1024), `BALLISTA_SHUFFLE_COMPRESSION`
//! (`lz4` — the default of the spec —, `zstd`, `none`, or a comma list;
//! default all three). A Markdown report goes to stdout and to
//! `<target dir>/bench/shuffle.md`.
//!
//! Built as a test (`cargo test --all-targets` passes no `--bench`), it runs
//! with 8 MiB and checks that every read returns every row, so `make test`
//! keeps the benchmark working without timing anything.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use ballista_executor::shuffle::{ConnectionCache, ShuffleReaderExec, ShuffleWriterExec};
use ballista_executor::{Executor, ExecutorConfig};
use ballista_proto::v1 as pb;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use futures::StreamExt;
use support::{StandInScheduler, TempDir};

const MAPS: usize = 2;
const REDUCES: usize = 4;
const BATCH_ROWS: usize = 8192;
const MIB: usize = 1 << 20;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Int64, false),
        Field::new("value", DataType::Int64, false),
        Field::new("price", DataType::Float64, false),
        Field::new("tag", DataType::Utf8, false),
    ]))
}

/// A batch of rows `from..from + BATCH_ROWS`: scattered keys, a counter, a
/// price, and a short tag from 1,000 distinct values (so compression has
/// something to find, as in real tables).
fn batch(from: usize) -> RecordBatch {
    let rows = from..from + BATCH_ROWS;
    let key: Int64Array = rows
        .clone()
        .map(|i| (i as i64).wrapping_mul(0x9E37_79B9_7F4A_7C15u64 as i64) >> 16)
        .collect();
    let value: Int64Array = rows.clone().map(|i| i as i64).collect();
    let price: Float64Array = rows.clone().map(|i| (i % 100_000) as f64 / 100.0).collect();
    let tag: StringArray = rows.map(|i| Some(format!("tag-{}", i % 1000))).collect();
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(key),
            Arc::new(value),
            Arc::new(price),
            Arc::new(tag),
        ],
    )
    .unwrap()
}

/// `MAPS` partitions of about `mib` MiB of batches in all.
fn data(mib: usize) -> Vec<Vec<RecordBatch>> {
    let per_batch = batch(0).get_array_memory_size();
    let batches = (mib * MIB).div_ceil(per_batch).max(MAPS);
    let mut partitions = vec![Vec::new(); MAPS];
    for b in 0..batches {
        partitions[b % MAPS].push(batch(b * BATCH_ROWS));
    }
    partitions
}

fn arrow_bytes(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::get_array_memory_size).sum()
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn gb_per_s(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / 1e9 / took.as_secs_f64()
}

/// Copies every buffer of `batches` into one vector: what moving the same
/// bytes costs with nothing else to do.
fn memcpy_bound(batches: &[RecordBatch]) -> (usize, Duration) {
    let buffers: Vec<Buffer> = batches
        .iter()
        .flat_map(|b| b.columns().iter())
        .flat_map(|c| c.to_data().buffers().to_vec())
        .collect();
    let total: usize = buffers.iter().map(Buffer::len).sum();
    let mut out = Vec::with_capacity(total);
    let started = Instant::now();
    for buffer in &buffers {
        out.extend_from_slice(buffer.as_slice());
    }
    let took = started.elapsed();
    std::hint::black_box(&out);
    (total, took)
}

struct Written {
    partitions: Vec<Vec<pb::PartitionLocation>>,
    took: Duration,
    file_bytes: u64,
}

async fn write(
    input: &[Vec<RecordBatch>],
    compression: pb::ShuffleCompression,
    work_dir: &std::path::Path,
    holder: pb::ExecutorEndpoint,
    job: &str,
) -> Written {
    let plan = MemorySourceConfig::try_new_exec(input, schema(), None).unwrap();
    let keys = vec![col("key", &schema()).unwrap()];
    let writer = Arc::new(
        ShuffleWriterExec::try_new(
            plan as Arc<dyn ExecutionPlan>,
            job,
            1,
            Some(Partitioning::Hash(keys, REDUCES)),
            compression,
            work_dir.to_path_buf(),
            holder,
        )
        .unwrap(),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..MAPS)
        .map(|map| {
            let writer = Arc::clone(&writer);
            tokio::spawn(async move {
                writer
                    .write(map, Arc::new(TaskContext::default()))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut partitions = vec![Vec::new(); REDUCES];
    for task in tasks {
        for location in task.await.unwrap() {
            partitions[location.output_partition as usize].push(location);
        }
    }
    let took = started.elapsed();
    let file_bytes = partitions
        .iter()
        .flatten()
        .map(|l| std::fs::metadata(&l.path).map_or(0, |m| m.len()))
        .sum();
    Written {
        partitions,
        took,
        file_bytes,
    }
}

/// Reads every reduce partition at once (one task each, as reduce tasks
/// would); returns the rows read and the time.
async fn read(reader: ShuffleReaderExec) -> (usize, Duration) {
    let reader = Arc::new(reader);
    let started = Instant::now();
    let tasks: Vec<_> = (0..REDUCES)
        .map(|p| {
            let reader = Arc::clone(&reader);
            tokio::spawn(async move {
                let mut stream = reader.execute(p, Arc::new(TaskContext::default())).unwrap();
                let mut rows = 0;
                while let Some(batch) = stream.next().await {
                    rows += batch.unwrap().num_rows();
                }
                rows
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    (total, started.elapsed())
}

/// Reads the files themselves with `std::fs::read`: the bound for a local
/// shuffle read of this data.
fn file_read_bound(partitions: &[Vec<pb::PartitionLocation>]) -> (u64, Duration) {
    let started = Instant::now();
    let mut bytes = 0;
    for location in partitions.iter().flatten() {
        bytes += std::hint::black_box(std::fs::read(&location.path).unwrap()).len() as u64;
    }
    (bytes, started.elapsed())
}

fn parse_compressions(spec: &str) -> Vec<(String, pb::ShuffleCompression)> {
    spec.split(',')
        .map(|c| match c.trim() {
            "lz4" => ("lz4".to_string(), pb::ShuffleCompression::Unspecified),
            "zstd" => ("zstd".to_string(), pb::ShuffleCompression::Zstd),
            "none" => ("none".to_string(), pb::ShuffleCompression::None),
            other => panic!("BALLISTA_SHUFFLE_COMPRESSION: unknown `{other}` (lz4, zstd, none)"),
        })
        .collect()
}

async fn run(mib: usize, compressions: &[(String, pb::ShuffleCompression)], report: &mut String) {
    let input = data(mib);
    let all: Vec<RecordBatch> = input.concat();
    let (bytes, total_rows) = (arrow_bytes(&all), rows(&all));
    let (copied, copy_took) = memcpy_bound(&all);
    writeln!(
        report,
        "Data: {total_rows} rows, {:.0} MiB of Arrow arrays ({MAPS} map tasks → {REDUCES} \
         reduce partitions, hashed on an Int64 key).\n\n\
         Bound, memcpy of the same buffers: **{:.2} GB/s**.\n\n\
         | compression | on disk (MiB) | write GB/s | file read bound GB/s | local read GB/s | \
         Flight read GB/s | Flight / file bound |\n|---|---:|---:|---:|---:|---:|---:|",
        bytes as f64 / MIB as f64,
        gb_per_s(copied, copy_took),
    )
    .unwrap();

    // The executor that holds the files and serves them over Flight.
    let scheduler = StandInScheduler::start(1000).await;
    let dir = TempDir::new("bench-shuffle");
    let holder = Executor::start(ExecutorConfig {
        work_dir: Some(dir.path().to_path_buf()),
        ..ExecutorConfig::new(scheduler.url.clone())
    })
    .await
    .unwrap();
    let reader_dir = TempDir::new("bench-shuffle-reader");

    for (name, compression) in compressions {
        let job = format!("bench-{name}");
        let written = write(
            &input,
            *compression,
            holder.work_dir(),
            holder.endpoint().clone(),
            &job,
        )
        .await;
        let (file_bytes, file_took) = file_read_bound(&written.partitions);
        let local = ShuffleReaderExec::try_new(
            schema(),
            written.partitions.clone(),
            1,
            holder.endpoint().id.clone(),
            holder.work_dir().to_path_buf(),
            Arc::new(ConnectionCache::new()),
        )
        .unwrap();
        let (local_rows, local_took) = read(local).await;
        let remote = ShuffleReaderExec::try_new(
            schema(),
            written.partitions.clone(),
            1,
            "bench-reader",
            reader_dir.path().to_path_buf(),
            Arc::new(ConnectionCache::new()),
        )
        .unwrap()
        // The holder is on loopback: without this the reader would open its
        // files directly and the column would not measure Flight.
        .with_same_host_reads(false);
        let (remote_rows, remote_took) = read(remote).await;
        assert_eq!(local_rows, total_rows, "{name}: a local read lost rows");
        assert_eq!(remote_rows, total_rows, "{name}: a Flight read lost rows");
        let file_bound = gb_per_s(bytes, file_took);
        let flight = gb_per_s(bytes, remote_took);
        let line = format!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            written.file_bytes as f64 / MIB as f64,
            gb_per_s(bytes, written.took),
            file_bound,
            gb_per_s(bytes, local_took),
            flight,
            flight / file_bound,
        );
        debug_assert_eq!(file_bytes, written.file_bytes);
        eprintln!("{line}");
        writeln!(report, "{line}").unwrap();
    }
    writeln!(
        report,
        "\nGB/s are Arrow bytes per second (the file read bound too, so that \
         compressed files compare on the same data)."
    )
    .unwrap();
    holder.shutdown().await.unwrap();
    scheduler.stop().await;
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mib = if bench {
        var("BALLISTA_SHUFFLE_MB").map_or(1024, |v| {
            v.parse()
                .unwrap_or_else(|e| panic!("BALLISTA_SHUFFLE_MB={v}: {e}"))
        })
    } else {
        8
    };
    let compressions = parse_compressions(
        &var("BALLISTA_SHUFFLE_COMPRESSION").unwrap_or_else(|| "lz4,zstd,none".into()),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut report = format!(
        "# Shuffle throughput\n\nMachine: {} cores. Build: `{}`.\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
    runtime.block_on(run(mib, &compressions, &mut report));
    println!("{report}");
    if bench {
        let out = support_target_dir().join("bench");
        std::fs::create_dir_all(&out).expect("create bench report dir");
        let path = out.join("shuffle.md");
        std::fs::write(&path, &report).expect("write bench report");
        eprintln!("report written to {}", path.display());
    }
}

/// `CARGO_TARGET_DIR`, or `target` in the workspace.
fn support_target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || support::package_dir().join("../../target"),
        std::path::PathBuf::from,
    )
}

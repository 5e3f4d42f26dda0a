//! Runtime filters across stages, on a cluster of real processes: a join
//! whose build side is a small stage filters the scans on its probe side,
//! which run in an earlier stage of their own, before they aggregate and
//! shuffle; answers stay those of single-process DataFusion.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use ballista_client::BallistaContext;
use parquet::arrow::ArrowWriter;
use support::{ProcessCluster, canonical_rows, reference_rows, same_rows};

/// Rows of the large table, in two files.
const BIG_ROWS: i64 = 400_000;
/// Distinct keys of the large table.
const BIG_KEYS: i64 = 50_000;

fn write(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// `big(k, v)`: `BIG_ROWS` rows over `BIG_KEYS` keys; `small(k, name)`:
/// 20 keys, 4 of them absent from `big`, and a null. Two files each, so
/// that both sides are stages of their own.
fn tables(dir: &Path) {
    let big = dir.join("big");
    let small = dir.join("small");
    std::fs::create_dir_all(&big).unwrap();
    std::fs::create_dir_all(&small).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
    ]));
    for f in 0..2 {
        let ids: Vec<i64> = (f * BIG_ROWS / 2..(f + 1) * BIG_ROWS / 2).collect();
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from_iter_values(
                    ids.iter().map(|i| i % BIG_KEYS),
                )),
                Arc::new(Int64Array::from(ids)),
            ],
        )
        .unwrap();
        write(&big.join(format!("part-{f}.parquet")), &batch);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("k", DataType::Int64, true),
        Field::new("name", DataType::Utf8, false),
    ]));
    for f in 0..2i64 {
        let keys: Vec<Option<i64>> = (0..10)
            .map(|i| {
                let n = f * 10 + i;
                // Keys 0, 2477, ... spread over the whole range of `big`;
                // the last four are beyond it; one is null.
                match n {
                    19 => None,
                    n if n >= 15 => Some(BIG_KEYS + n),
                    n => Some(n * 2477),
                }
            })
            .collect();
        let names: Vec<String> = (0..10).map(|i| format!("name-{}", f * 10 + i)).collect();
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(keys)),
                Arc::new(StringArray::from(names)),
            ],
        )
        .unwrap();
        write(&small.join(format!("part-{f}.parquet")), &batch);
    }
}

async fn contexts(
    dir: &Path,
    cluster: &ProcessCluster,
) -> (BallistaContext, datafusion::prelude::SessionContext) {
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    ctx.set("datafusion.execution.target_partitions", "2");
    let reference = datafusion::prelude::SessionContext::new_with_config(
        datafusion::prelude::SessionConfig::new().with_target_partitions(2),
    );
    for t in ["big", "small"] {
        let path = dir.join(t);
        ctx.register_parquet(t, path.to_str().unwrap())
            .await
            .unwrap();
        reference
            .register_parquet(t, path.to_str().unwrap(), Default::default())
            .await
            .unwrap();
    }
    (ctx, reference)
}

/// The tables, a cluster of 2 executors × 1 slot whose scheduler gets
/// `scheduler_args`, and a context on it beside single-process DataFusion's
/// (the directory and cluster live as long as the `Setup`).
struct Setup {
    _dir: tempfile::TempDir,
    _cluster: ProcessCluster,
    ctx: BallistaContext,
    reference: datafusion::prelude::SessionContext,
}

async fn setup(scheduler_args: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    tables(dir.path());
    let cluster = ProcessCluster::start_with(scheduler_args, 2, 1, &[]);
    let (ctx, reference) = contexts(dir.path(), &cluster).await;
    Setup {
        _dir: dir,
        _cluster: cluster,
        ctx,
        reference,
    }
}

/// Rows written by each stage of `job` but the last (the result).
async fn rows_per_stage(ctx: &BallistaContext, job: &str) -> BTreeMap<u32, u64> {
    let status = ctx.job_status(job).await.unwrap();
    let mut rows = BTreeMap::new();
    for task in &status.tasks {
        let stage = task.task_id.as_ref().unwrap().stage_id;
        let written: u64 = task
            .outputs
            .iter()
            .map(|o| o.stats.as_ref().map_or(0, |s| s.num_rows))
            .sum();
        *rows.entry(stage).or_default() += written;
    }
    let last = rows.keys().max().copied();
    if let Some(last) = last {
        rows.remove(&last);
    }
    rows
}

/// Runs `sql` on the cluster and checks its rows against single-process
/// DataFusion's; returns how many rows it answered, and the rows written by
/// each stage but the last.
async fn run_checked(
    ctx: &BallistaContext,
    reference: &datafusion::prelude::SessionContext,
    sql: &str,
) -> (usize, BTreeMap<u32, u64>) {
    let df = ctx.sql(sql).await.unwrap();
    let result = ctx.execute(&df, None).await.unwrap();
    let batches = ctx.fetch_all(&result).await.unwrap();
    let expected = reference_rows(reference, sql).await.unwrap();
    same_rows(sql, &expected, &canonical_rows(&batches)).unwrap();
    (expected.len(), rows_per_stage(ctx, &result.job_id).await)
}

/// Makes DataFusion shuffle both sides of every hash join, as it does when
/// it estimates the build side to be large.
fn partitioned_joins(ctx: &BallistaContext) {
    for key in [
        "datafusion.optimizer.hash_join_single_partition_threshold",
        "datafusion.optimizer.hash_join_single_partition_threshold_rows",
    ] {
        ctx.set(key, "0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_build_side_filters_the_probe_scan_before_it_aggregates() {
    let setup = setup(&[]).await;
    let Setup { ctx, reference, .. } = &setup;
    let sql = "SELECT s.name, t.total, t.n \
               FROM small s JOIN (SELECT k, sum(v) AS total, count(*) AS n FROM big GROUP BY k) t \
               ON s.k = t.k";

    // The aggregation over `big` runs after `small` has been read.
    let explain = ctx.sql(sql).await.unwrap().explain().await.unwrap();
    assert!(explain.contains("(runs after stage"), "{explain}");

    let (answered, rows) = run_checked(ctx, reference, sql).await;
    assert_eq!(answered, 15);

    // Unfiltered, the partial aggregation over `big` would write one row
    // per key and task (about 2 × 50,000); filtered, one per matching key.
    assert!(
        rows.values().all(|&n| n <= 100),
        "a stage wrote more rows than the filter lets through: {rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semi_and_anti_joins_with_runtime_filters_answer_as_datafusion() {
    let setup = setup(&[]).await;
    let Setup { ctx, reference, .. } = &setup;
    for sql in [
        "SELECT k, sum(v) FROM big WHERE k IN (SELECT k FROM small) GROUP BY k",
        "SELECT count(*), sum(v) FROM big WHERE k NOT IN (SELECT k FROM small WHERE k IS NOT NULL)",
        "SELECT name FROM small s WHERE EXISTS (SELECT 1 FROM big b WHERE b.k = s.k)",
        "SELECT name FROM small s WHERE NOT EXISTS (SELECT 1 FROM big b WHERE b.k = s.k)",
        "SELECT s.name, count(*) FROM small s JOIN big b ON s.k = b.k WHERE b.v % 3 = 0 GROUP BY s.name",
        "SELECT s.name, t.n FROM small s LEFT JOIN \
         (SELECT k, count(*) AS n FROM big GROUP BY k) t ON s.k = t.k",
    ] {
        let expected = reference_rows(reference, sql).await.unwrap();
        let actual = support::ballista_rows(ctx, sql).await.unwrap();
        same_rows(sql, &expected, &actual).unwrap();
    }
}

/// An aggregation the plan has twice (TPC-H Q15's view) runs as one stage
/// that both readers read. Only one reader joins the small table, whose
/// runtime filter must not narrow the stage: the other compares every
/// key's total with the maximum or the mean over all keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_the_plan_has_twice_runs_once_and_unfiltered() {
    let setup = setup(&[]).await;
    let Setup { ctx, reference, .. } = &setup;
    let totals = "SELECT k, sum(v) AS total FROM big GROUP BY k";
    // Key k's total is 8 k + 1,400,000. Measured over `small`'s keys only,
    // the largest total (key 49,999's, which `small` lacks) would be key
    // 34,678's, and 8 keys instead of 4 would be at or above the mean.
    // DataFusion plans the reader that joins `small` second in the first
    // query and first in the second, so either copy may be the one kept.
    for (sql, answers) in [
        (
            format!(
                "SELECT s.name, t.total FROM small s JOIN ({totals}) t ON s.k = t.k \
                 WHERE t.total >= (SELECT avg(total) FROM ({totals}))"
            ),
            4,
        ),
        (
            format!(
                "SELECT s.name, t.total FROM small s JOIN ({totals}) t ON s.k = t.k \
                 UNION ALL SELECT 'largest', max(total) FROM ({totals})"
            ),
            16,
        ),
    ] {
        let explain = ctx.sql(&sql).await.unwrap().explain().await.unwrap();
        let stages = explain.split("== Stages ==").nth(1).unwrap_or_default();
        let scans = stages
            .lines()
            .filter(|l| l.contains("DataSourceExec") && l.contains("big"))
            .count();
        assert_eq!(scans, 1, "{explain}");

        let (answered, _) = run_checked(ctx, reference, &sql).await;
        assert_eq!(answered, answers, "{sql}");
    }
}

/// A build side computed inside the join's stage (here an `IN` subquery's
/// aggregation with a `HAVING`, as in TPC-H Q18) gets a stage of its own, so
/// that its keys filter the probe side's scan, which runs in another stage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_joins_aggregated_build_side_filters_the_probe_scan() {
    let setup = setup(&[]).await;
    let Setup { ctx, reference, .. } = &setup;
    partitioned_joins(ctx);
    // Key k has the 8 values k + 50,000 i: the sum passes the bar for the
    // 19 keys above 49,980.
    let bar = 8 * 49_980 + BIG_KEYS * 28;
    let sql = format!(
        "SELECT k, count(*) AS n, sum(v) AS total FROM big \
         WHERE k IN (SELECT k FROM big GROUP BY k HAVING sum(v) > {bar}) GROUP BY k"
    );

    let explain = ctx.sql(&sql).await.unwrap().explain().await.unwrap();
    assert!(explain.contains("mode=Partitioned"), "{explain}");
    assert!(explain.contains("(runs after stage"), "{explain}");

    let (answered, rows) = run_checked(ctx, reference, &sql).await;
    assert_eq!(answered, 19);

    // The subquery's partial aggregation writes one row per key and task
    // (2 × 50,000); the probe scan writes its 400,000 rows unfiltered, and
    // the 19 × 8 rows of the matching keys filtered.
    assert!(
        rows.values().all(|&n| n <= 2 * BIG_KEYS as u64),
        "a stage wrote more rows than the filter lets through: {rows:?}"
    );
}

/// A partitioned join whose build side turns out small (here a filtered
/// scan of 100,000 rows: too many for a runtime filter, yet 1.5 MiB)
/// becomes a broadcast join once that side has run: the probe side's scan
/// runs inside the join's stage instead of shuffling its rows
/// (`ballista_scheduler::adaptive`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_join_over_a_small_build_side_reads_it_whole_instead() {
    let setup = setup(&[]).await;
    let Setup { ctx, reference, .. } = &setup;
    partitioned_joins(ctx);
    // `v % 4 = 0` keeps every row of the keys that are multiples of 4.
    let sql = "SELECT count(*) AS n, sum(a.v) AS total \
               FROM big a JOIN (SELECT k, v FROM big WHERE v % 4 = 0) b ON a.k = b.k";

    let explain = ctx.sql(sql).await.unwrap().explain().await.unwrap();
    assert!(explain.contains("mode=Partitioned"), "{explain}");
    assert!(explain.contains("turns out small"), "{explain}");

    let (_, rows) = run_checked(ctx, reference, sql).await;

    // Shuffled, the probe scan would write all of `big`; broadcast, the
    // largest output is the build side's quarter of it.
    assert!(
        rows.values().all(|&n| n < BIG_ROWS as u64),
        "the probe side was shuffled: {rows:?}"
    );
}

/// `EXISTS` / `NOT EXISTS` against a large table that DataFusion broadcasts
/// the small side to: the large side's tasks each send on only the distinct
/// keys they found, not their rows. Runtime filters are off here, so no
/// filter from another stage narrows the large side's scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semi_and_anti_joins_send_found_keys_not_probe_rows() {
    let setup = setup(&["--runtime-filters", "off"]).await;
    let Setup { ctx, reference, .. } = &setup;
    for (sql, answers) in [
        (
            "SELECT name FROM small s WHERE EXISTS (SELECT 1 FROM big b WHERE b.k = s.k)",
            15,
        ),
        (
            "SELECT name FROM small s WHERE NOT EXISTS (SELECT 1 FROM big b WHERE b.k = s.k)",
            5,
        ),
    ] {
        let explain = ctx.sql(sql).await.unwrap().explain().await.unwrap();
        assert!(explain.contains("join_type=RightSemi"), "{explain}");
        let (answered, rows) = run_checked(ctx, reference, sql).await;
        assert_eq!(answered, answers, "{sql}");
        // Partitioned, the join would shuffle all 400,000 rows of `big`;
        // here at most the 15 keys it has, from each of its 2 tasks.
        assert!(
            rows.values().all(|&n| n <= 30),
            "{sql}: a stage wrote more rows than small's keys: {rows:?}"
        );
    }
}

/// A build side of many rows but few keys (here 50,000 rows of 6,250 keys)
/// is read whole for its keys, which then filter the probe side's scan; a
/// side of many keys is given up after about 10,000 of them. Adaptive joins
/// are off, so that the join stays partitioned and the probe stage runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_side_of_many_rows_but_few_keys_filters_the_probe_scan() {
    let setup = setup(&["--adaptive-joins", "off"]).await;
    let Setup { ctx, reference, .. } = &setup;
    partitioned_joins(ctx);
    let sql = "SELECT count(*) AS n, sum(t.total) AS total \
               FROM (SELECT k FROM big WHERE k % 8 = 0) s \
               JOIN (SELECT k, sum(v) AS total FROM big GROUP BY k) t ON s.k = t.k";

    let explain = ctx.sql(sql).await.unwrap().explain().await.unwrap();
    assert!(explain.contains("mode=Partitioned"), "{explain}");
    assert!(explain.contains("(runs after stage"), "{explain}");

    let (_, rows) = run_checked(ctx, reference, sql).await;

    // Unfiltered, the partial aggregation over `big` writes one row per key
    // and task (2 × 50,000); filtered, one per key of the build side (at
    // most 2 × 6,250). The build side's own scan writes its 50,000 rows.
    let aggregated: Vec<u64> = rows
        .values()
        .copied()
        .filter(|&n| n != BIG_ROWS as u64 / 8)
        .collect();
    assert!(
        aggregated.iter().all(|&n| n <= 2 * 6_250),
        "a stage wrote more rows than the filter lets through: {rows:?}"
    );
}

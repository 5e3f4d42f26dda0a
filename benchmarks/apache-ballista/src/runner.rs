//! The benchmark run: start the cluster, register the TPC-H tables, time each query, write
//! `q<N>.arrow` and `result.json`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::cli::RunOptions;
use crate::cluster::{Cluster, vm_hwm};
use crate::error::{Error, Result};

/// The eight TPC-H tables, each a directory of Parquet files under `--data`.
const TABLES: [&str; 8] = [
    "lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region",
];

/// The outcome of one query.
struct QueryResult {
    query: u32,
    times_ms: Vec<f64>,
    rows: Option<usize>,
    error: Option<String>,
}

/// The statements of a query file: `--` comments removed, split on `;`, empty ones dropped.
/// (TPC-H text has no `;` or `--` inside string literals.)
pub fn statements(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Index of the statement whose rows are the query's result: the first query statement
/// (`SELECT`/`WITH`/`VALUES`), else the last statement.
fn result_statement(statements: &[String]) -> usize {
    statements
        .iter()
        .position(|s| {
            let first = s
                .split(|c: char| c.is_whitespace() || c == '(')
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_ascii_lowercase();
            matches!(first.as_str(), "select" | "with" | "values") || s.starts_with('(')
        })
        .unwrap_or(statements.len().saturating_sub(1))
}

/// Runs one statement to completion, returning its schema and batches.
async fn run_statement(ctx: &SessionContext, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let df = ctx.sql(sql).await?;
    let mut stream = df.execute_stream().await?;
    let schema = stream.schema();
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        batches.push(batch?);
    }
    Ok((schema, batches))
}

/// Runs every statement of a query once; returns the result statement's schema and batches.
async fn run_once(
    ctx: &SessionContext,
    statements: &[String],
    result_index: usize,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut result = None;
    for (i, sql) in statements.iter().enumerate() {
        let out = run_statement(ctx, sql).await?;
        if i == result_index {
            result = Some(out);
        }
    }
    result.ok_or_else(|| Error::new("the query file holds no statement"))
}

fn write_arrow(path: &Path, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let file = File::create(path)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", path.display())))?;
    let mut writer = FileWriter::try_new(file, schema)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    Ok(())
}

/// One warm-up run, then `iterations` timed runs; the last run's result goes to `arrow_path`.
async fn run_query(
    ctx: &SessionContext,
    query: u32,
    sql_path: &Path,
    opts: &RunOptions,
    arrow_path: &Path,
) -> QueryResult {
    let mut result = QueryResult {
        query,
        times_ms: Vec::new(),
        rows: None,
        error: None,
    };
    let sql = match std::fs::read_to_string(sql_path) {
        Ok(sql) => sql,
        Err(e) => {
            result.error = Some(format!("cannot read {}: {e}", sql_path.display()));
            return result;
        }
    };
    let statements = statements(&sql);
    if statements.is_empty() {
        result.error = Some(format!("{} holds no SQL statement", sql_path.display()));
        return result;
    }
    let result_index = result_statement(&statements);
    let timeout = Duration::from_secs(opts.timeout_secs);
    let mut last = None;
    for run in 0..=opts.iterations {
        let start = Instant::now();
        let outcome = tokio::time::timeout(timeout, run_once(ctx, &statements, result_index)).await;
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok(Ok(out)) => {
                if run > 0 {
                    result.times_ms.push((elapsed_ms * 1000.0).round() / 1000.0);
                }
                last = Some(out);
            }
            Ok(Err(e)) => {
                result.error = Some(e.to_string());
                return result;
            }
            Err(_) => {
                result.error = Some(format!("run {run} timed out after {} s", opts.timeout_secs));
                return result;
            }
        }
    }
    if let Some((schema, batches)) = last {
        result.rows = Some(batches.iter().map(RecordBatch::num_rows).sum());
        if let Err(e) = write_arrow(arrow_path, &schema, &batches) {
            result.error = Some(e.to_string());
        }
    }
    result
}

/// Checks the inputs before any process is started, so mistakes fail fast and clearly.
fn check_inputs(opts: &RunOptions) -> Result<()> {
    if !opts.data.is_dir() {
        return Err(Error::new(format!(
            "data directory {} does not exist",
            opts.data.display()
        )));
    }
    for table in TABLES {
        let dir = opts.data.join(table);
        if !dir.is_dir() {
            return Err(Error::new(format!(
                "table directory {} does not exist (expected --data DIR with one directory \
                 of Parquet files per TPC-H table)",
                dir.display()
            )));
        }
    }
    if !opts.query_dir.is_dir() {
        return Err(Error::new(format!(
            "query directory {} does not exist",
            opts.query_dir.display()
        )));
    }
    for q in &opts.queries {
        let path = query_path(opts, *q);
        if !path.is_file() {
            return Err(Error::new(format!(
                "query file {} does not exist",
                path.display()
            )));
        }
    }
    Ok(())
}

fn query_path(opts: &RunOptions, query: u32) -> PathBuf {
    opts.query_dir.join(format!("q{query}.sql"))
}

/// Runs the benchmark described by `opts`.
pub fn run(opts: RunOptions) -> Result<()> {
    check_inputs(&opts)?;
    std::fs::create_dir_all(&opts.out).map_err(|e| {
        Error::new(format!(
            "cannot create output directory {}: {e}",
            opts.out.display()
        ))
    })?;
    let log_dir = opts.out.join("logs");
    std::fs::create_dir_all(&log_dir)?;

    let cluster = Cluster::start(opts.executors, opts.slots, &log_dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()?;
    let results = rt.block_on(async {
        // The same way Apache Ballista's own TPC-H benchmark builds its client context.
        let config = SessionConfig::new_with_ballista().with_target_partitions(opts.partitions);
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        let ctx = SessionContext::remote_with_state(&cluster.scheduler_url, state).await?;
        for table in TABLES {
            let dir = opts.data.join(table);
            let dir = dir
                .to_str()
                .ok_or_else(|| Error::new(format!("table directory {dir:?} is not valid UTF-8")))?;
            ctx.register_parquet(table, dir, ParquetReadOptions::default())
                .await
                .map_err(|e| Error::new(format!("cannot register table {table} at {dir}: {e}")))?;
        }
        let mut results = Vec::new();
        for &q in &opts.queries {
            let arrow_path = opts.out.join(format!("q{q}.arrow"));
            // A stale file from an earlier run must not pass for this run's result.
            let _ = std::fs::remove_file(&arrow_path);
            let r = run_query(&ctx, q, &query_path(&opts, q), &opts, &arrow_path).await;
            match (&r.error, r.times_ms.is_empty()) {
                (Some(e), _) => eprintln!("q{q}: FAILED: {e}"),
                (None, true) => eprintln!("q{q}: ok (0 timed runs)"),
                (None, false) => {
                    let mean = r.times_ms.iter().sum::<f64>() / r.times_ms.len() as f64;
                    eprintln!("q{q}: {mean:.0} ms ({} runs)", r.times_ms.len());
                }
            }
            results.push(r);
        }
        Ok::<_, Error>(results)
    })?;

    let mut peak = serde_json::Map::new();
    for (name, bytes) in cluster.peak_rss() {
        peak.insert(name, bytes.map_or(Value::Null, Value::from));
    }
    peak.insert(
        "runner".into(),
        vm_hwm(std::process::id()).map_or(Value::Null, Value::from),
    );
    drop(cluster);
    drop(rt);

    let report = json!({
        "engine": "apache-datafusion-ballista",
        "version": ballista_core::BALLISTA_VERSION,
        "datafusion_version": datafusion::DATAFUSION_VERSION,
        "config": Cluster::describe(opts.executors, opts.slots, opts.partitions),
        "partitions": opts.partitions,
        "executors": opts.executors,
        "slots": opts.slots,
        "iterations": opts.iterations,
        "queries": results.iter().map(|r| json!({
            "query": r.query,
            "times_ms": r.times_ms,
            "rows": r.rows,
            "error": r.error,
        })).collect::<Vec<_>>(),
        "peak_rss_bytes": Value::Object(peak),
    });
    let path = opts.out.join("result.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    let total: f64 = results
        .iter()
        .filter(|r| r.error.is_none() && !r.times_ms.is_empty())
        .map(|r| r.times_ms.iter().sum::<f64>() / r.times_ms.len() as f64)
        .sum();
    eprintln!(
        "total (mean per query, {} ok, {failed} failed): {total:.0} ms; wrote {}",
        results.len() - failed,
        path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_and_strips_comments() {
        let sql = "-- header\ncreate view v as select 1; -- trailing\n\nselect * from v;\ndrop view v;\n;";
        let s = statements(sql);
        assert_eq!(s.len(), 3);
        assert!(s[0].starts_with("create view"));
        assert_eq!(result_statement(&s), 1);
        assert_eq!(
            result_statement(&statements("with a as (select 1) select * from a")),
            0
        );
    }
}

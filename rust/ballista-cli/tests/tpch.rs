//! All 22 TPC-H queries at SF 0.1 on a real cluster give the same rows as
//! single-process DataFusion: once on separate processes (`ballista
//! scheduler` + 2 × `ballista executor`), once on the embedded cluster.

mod support;

use std::sync::Arc;

use arrow::array::RecordBatch;
use ballista_client::BallistaContext;
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use support::{ProcessCluster, canonical_rows, query, tpch_data};

const SF: f64 = 0.1;
const TABLES: [&str; 8] = [
    "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
];

async fn reference() -> SessionContext {
    let dir = tpch_data(SF, 2);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    for t in TABLES {
        ctx.register_parquet(
            t,
            dir.join(t).to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
    }
    ctx
}

async fn register(ctx: &BallistaContext) {
    let dir = tpch_data(SF, 2);
    for t in TABLES {
        ctx.register_parquet(t, dir.join(t).to_str().unwrap())
            .await
            .unwrap();
    }
}

async fn run_datafusion(
    n: usize,
    df: &SessionContext,
    sql: &str,
) -> Result<Vec<RecordBatch>, String> {
    let fail = |e: datafusion::error::DataFusionError| format!("q{n} DataFusion: {e}");
    df.sql(sql)
        .await
        .map_err(fail)?
        .collect()
        .await
        .map_err(fail)
}

async fn run_ballista(
    n: usize,
    ctx: &BallistaContext,
    sql: &str,
) -> Result<Vec<RecordBatch>, String> {
    let df = ctx
        .sql(sql)
        .await
        .map_err(|e| format!("q{n} Ballista plan: {e}"))?;
    df.collect()
        .await
        .map_err(|e| format!("q{n} Ballista: {e}"))
}

/// Runs every statement of query `n` on both; compares the results of its
/// query (Q15 creates a view before it and drops it after).
async fn compare(n: usize, ballista: &BallistaContext, df: &SessionContext) -> Result<(), String> {
    let mut expected = vec![];
    let mut actual = vec![];
    for sql in &query(n) {
        let e = run_datafusion(n, df, sql).await?;
        let a = run_ballista(n, ballista, sql).await?;
        let head = sql.trim_start().to_ascii_lowercase();
        if head.starts_with("select") || head.starts_with("with") {
            (expected, actual) = (e, a);
        }
    }
    let (e, a) = (canonical_rows(&expected), canonical_rows(&actual));
    if e.is_empty() && n != 0 {
        // Every TPC-H query returns rows at SF 0.1; an empty reference would
        // make the comparison meaningless.
        return Err(format!("q{n}: reference result is empty"));
    }
    if e != a {
        return Err(format!(
            "q{n}: {} rows expected, {} returned; first difference: {:?}",
            e.len(),
            a.len(),
            e.iter().zip(&a).find(|(x, y)| x != y)
        ));
    }
    Ok(())
}

async fn run_all(ballista: &BallistaContext) {
    let df = reference().await;
    let mut failures = vec![];
    for n in 1..=22 {
        let start = std::time::Instant::now();
        match compare(n, ballista, &df).await {
            Ok(()) => eprintln!("q{n}: ok in {:.2?}", start.elapsed()),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} queries differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_on_separate_processes() {
    let cluster = ProcessCluster::start(2, 2, &[]);
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    register(&ctx).await;
    run_all(&ctx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_on_the_embedded_cluster() {
    let cluster = EmbeddedCluster::start(StandaloneConfig {
        executors: 2,
        slots_per_executor: 2,
        memory_limit: None,
    })
    .await
    .unwrap();
    let ctx = BallistaContext::for_cluster(Arc::new(cluster))
        .await
        .unwrap();
    register(&ctx).await;
    run_all(&ctx).await;
}

//! All 22 TPC-H queries at SF 0.1 on a real cluster give the same rows as
//! single-process DataFusion: once on separate processes (`ballista
//! scheduler` + 2 × `ballista executor`), once on the embedded cluster.

mod support;

use std::sync::Arc;

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

/// Runs every statement of query `n` on both; compares the last result.
async fn compare(n: usize, ballista: &BallistaContext, df: &SessionContext) -> Result<(), String> {
    let statements = query(n);
    let mut expected = vec![];
    let mut actual = vec![];
    for sql in &statements {
        expected = df
            .sql(sql)
            .await
            .map_err(|e| format!("q{n} DataFusion: {e}"))?
            .collect()
            .await
            .map_err(|e| format!("q{n} DataFusion: {e}"))?;
        actual = ballista
            .sql(sql)
            .await
            .map_err(|e| format!("q{n} Ballista plan: {e}"))?
            .collect()
            .await
            .map_err(|e| format!("q{n} Ballista: {e}"))?;
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
#[ignore = "open bug: a scan over 2+ partitions returns some rows twice on the cluster; run with `make e2e`"]
async fn tpch_on_separate_processes() {
    let cluster = ProcessCluster::start(2, 2, &[]);
    let ctx = BallistaContext::remote(&cluster.url).await.unwrap();
    register(&ctx).await;
    run_all(&ctx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "open bug: a scan over 2+ partitions returns some rows twice on the cluster; run with `make e2e`"]
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

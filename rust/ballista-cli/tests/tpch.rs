//! All 22 TPC-H queries at SF 0.1 on a real cluster give the same rows as
//! single-process DataFusion: once on separate processes (`ballista
//! scheduler` + 2 × `ballista executor`), once on the embedded cluster.

mod support;

use std::sync::Arc;

use ballista_client::BallistaContext;
use ballista_client::standalone::{EmbeddedCluster, StandaloneConfig};
use datafusion::prelude::SessionContext;
use support::{
    ProcessCluster, ballista_rows, is_query, query, reference_rows, register_tpch, same_rows,
    tpch_reference,
};

const SF: f64 = 0.1;
const PARTS: usize = 2;

/// Runs every statement of query `n` on both; compares the results of its
/// query (Q15 creates a view before it and drops it after).
async fn compare(n: usize, ballista: &BallistaContext, df: &SessionContext) -> Result<(), String> {
    let mut expected = vec![];
    let mut actual = vec![];
    for sql in &query(n) {
        let e = reference_rows(df, sql)
            .await
            .map_err(|e| format!("q{n}: {e}"))?;
        let a = ballista_rows(ballista, sql)
            .await
            .map_err(|e| format!("q{n}: {e}"))?;
        if is_query(sql) {
            (expected, actual) = (e, a);
        }
    }
    same_rows(&format!("q{n}"), &expected, &actual)
}

async fn run_all(ballista: &BallistaContext) {
    let df = tpch_reference(SF, PARTS).await;
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
    register_tpch(&ctx, SF, PARTS).await;
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
    register_tpch(&ctx, SF, PARTS).await;
    run_all(&ctx).await;
}

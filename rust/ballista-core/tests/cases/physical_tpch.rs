//! Physical plan round trip of the 22 TPC-H queries: SQL -> DataFusion
//! physical plan -> spec -> bytes -> spec -> DataFusion plan, executed and
//! compared with the original plan's results; re-encoding must give the
//! same bytes, and no query may need an engine extension.

use std::sync::Arc;

use ballista_core::serde::physical::{
    DefaultPhysicalExtensionCodec, configure_session_for_spec, count_extension_nodes,
    physical_plan_from_proto, physical_plan_to_proto,
};
use ballista_proto::v1 as pb;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext};
use prost::Message;

use crate::support::tpch;

/// What one query's round trip measured.
pub struct RoundTrip {
    /// Operators in the DataFusion plan.
    pub operators: usize,
    /// Size of the encoded plan.
    pub bytes: usize,
    /// Engine extensions in the encoded plan.
    pub extensions: usize,
    /// Result rows.
    pub rows: usize,
}

pub fn count_operators(plan: &Arc<dyn ExecutionPlan>) -> usize {
    1 + plan
        .children()
        .into_iter()
        .map(count_operators)
        .sum::<usize>()
}

/// Rows in their output order (not sorted), for ORDER BY queries.
fn ordered_rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let fs: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..batch.num_rows() {
            rows.push(
                fs.iter()
                    .map(|f| f.value(r).to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    rows
}

pub async fn tpch_context(target_partitions: usize) -> SessionContext {
    let config =
        configure_session_for_spec(SessionConfig::new().with_target_partitions(target_partitions));
    let ctx = SessionContext::new_with_config(config);
    tpch::register_tables(&ctx, &tpch::data_dir(0.01, 2))
        .await
        .unwrap();
    ctx
}

/// Runs the round trip of query `n`, asserting every property.
pub async fn round_trip(ctx: &SessionContext, n: usize) -> RoundTrip {
    let codec = DefaultPhysicalExtensionCodec;
    let (before, main, after) = tpch::query_parts(n);
    for s in &before {
        ctx.sql(s).await.unwrap().collect().await.unwrap();
    }
    let plan = ctx
        .sql(&main)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let proto = physical_plan_to_proto(&plan, &codec)
        .unwrap_or_else(|e| panic!("q{n}: encode failed: {e}"));
    let bytes = proto.encode_to_vec();
    let decoded = pb::PhysicalPlanNode::decode(bytes.as_slice()).unwrap();
    let task = ctx.task_ctx();
    let plan2 = physical_plan_from_proto(&decoded, &task, &codec)
        .unwrap_or_else(|e| panic!("q{n}: decode failed: {e}"));
    let bytes2 = physical_plan_to_proto(&plan2, &codec)
        .unwrap_or_else(|e| panic!("q{n}: re-encode failed: {e}"))
        .encode_to_vec();
    assert!(
        bytes == bytes2,
        "q{n}: re-encoding the decoded plan changed the bytes"
    );
    assert_eq!(plan.schema(), plan2.schema(), "q{n}: output schema changed");

    let expected = collect(Arc::clone(&plan), Arc::clone(&task)).await.unwrap();
    let actual = collect(plan2, task)
        .await
        .unwrap_or_else(|e| panic!("q{n}: decoded plan failed: {e}"));
    let rows = tpch::canonical_rows(&expected);
    assert_eq!(rows, tpch::canonical_rows(&actual), "q{n}: results differ");
    if main.to_lowercase().contains("order by") {
        assert_eq!(
            ordered_rows(&expected),
            ordered_rows(&actual),
            "q{n}: order differs"
        );
    }
    for s in &after {
        ctx.sql(s).await.unwrap().collect().await.unwrap();
    }
    RoundTrip {
        operators: count_operators(&plan),
        bytes: bytes.len(),
        extensions: count_extension_nodes(&proto),
        rows: rows.len(),
    }
}

async fn all_queries(target_partitions: usize) {
    let ctx = tpch_context(target_partitions).await;
    println!("target_partitions = {target_partitions}");
    println!(
        "{:>5} {:>9} {:>11} {:>9} {:>6}",
        "query", "operators", "proto bytes", "ext nodes", "rows"
    );
    for n in 1..=22 {
        let r = round_trip(&ctx, n).await;
        println!(
            "{:>5} {:>9} {:>11} {:>9} {:>6}",
            format!("q{n}"),
            r.operators,
            r.bytes,
            r.extensions,
            r.rows
        );
        assert_eq!(r.extensions, 0, "q{n} needed engine extensions");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_physical_round_trip_2_partitions() {
    all_queries(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpch_physical_round_trip_4_partitions() {
    all_queries(4).await;
}

//! Logical plan round trip of the 22 TPC-H queries at SF 0.01:
//! SQL -> LogicalPlan -> spec -> bytes -> spec -> LogicalPlan.
//!
//! For every query the decoded plan must display exactly as the original
//! (`display_indent_schema`, which includes every expression and schema),
//! re-encoding it must give the same bytes, and executing both plans must
//! give the same rows.

use ballista_core::serde::logical::{logical_plan_from_proto, logical_plan_to_proto};
use ballista_proto::v1 as pb;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use prost::Message;

use crate::support::tpch;

/// Number of plan nodes, subqueries included.
fn count_nodes(plan: &LogicalPlan) -> usize {
    let mut n = 0;
    plan.apply_with_subqueries(|_| {
        n += 1;
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("counting never fails");
    n
}

struct Outcome {
    query: usize,
    relations: usize,
    bytes: usize,
    rows: usize,
}

async fn round_trip(ctx: &SessionContext, query: usize) -> Outcome {
    let (before, main, after) = tpch::query_parts(query);
    for s in &before {
        ctx.sql(s).await.unwrap().collect().await.unwrap();
    }
    let state = ctx.state();
    let plan = state.create_logical_plan(&main).await.unwrap();

    let bytes = logical_plan_to_proto(&plan)
        .unwrap_or_else(|e| panic!("q{query}: encode: {e}\n{}", plan.display_indent()))
        .encode_to_vec();
    let proto = pb::Relation::decode(bytes.as_slice()).unwrap();
    let decoded = logical_plan_from_proto(&proto, &state)
        .await
        .unwrap_or_else(|e| panic!("q{query}: decode: {e}\n{}", plan.display_indent()));

    assert_eq!(
        decoded.display_indent_schema().to_string(),
        plan.display_indent_schema().to_string(),
        "q{query}: decoded plan differs from the original"
    );
    let again = logical_plan_to_proto(&decoded).unwrap().encode_to_vec();
    assert!(again == bytes, "q{query}: re-encoding gave different bytes");

    let expected = ctx
        .execute_logical_plan(plan.clone())
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let actual = ctx
        .execute_logical_plan(decoded)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let expected = tpch::canonical_rows(&expected);
    assert_eq!(
        tpch::canonical_rows(&actual),
        expected,
        "q{query}: results differ"
    );

    for s in &after {
        ctx.sql(s).await.unwrap().collect().await.unwrap();
    }
    Outcome {
        query,
        relations: count_nodes(&plan),
        bytes: bytes.len(),
        rows: expected.len(),
    }
}

#[tokio::test]
async fn tpch_logical_round_trip() {
    let ctx = SessionContext::new();
    tpch::register_tables(&ctx, &tpch::data_dir(0.01, 2))
        .await
        .unwrap();
    let mut outcomes = Vec::new();
    for query in 1..=22 {
        outcomes.push(round_trip(&ctx, query).await);
    }
    println!("| query | relations | proto bytes | rows |");
    println!("|------:|----------:|------------:|-----:|");
    for o in &outcomes {
        println!(
            "| q{} | {} | {} | {} |",
            o.query, o.relations, o.bytes, o.rows
        );
    }
    // The data set is big enough that most queries return rows; an empty
    // result everywhere would mean the comparison proved nothing.
    assert!(outcomes.iter().filter(|o| o.rows > 0).count() >= 20);
}

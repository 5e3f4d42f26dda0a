//! TPC-H through the physical plan spec: for each of the 22 queries, plan
//! with DataFusion, encode the plan in the spec, decode it, run both plans
//! and compare the results. Prints one line per query and a total; exits
//! non-zero if any query fails or differs.
//!
//! `cargo run --release -p ballista-core --example tpch_spec_report [--sf 0.01]`

#[path = "../tests/support/tpch.rs"]
mod tpch;

use std::sync::Arc;

use ballista_core::serde::physical::{
    DefaultPhysicalExtensionCodec, configure_session_for_spec, count_extension_nodes,
    physical_plan_from_proto, physical_plan_to_proto,
};
use ballista_proto::v1 as pb;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext};
use prost::Message;

fn count_operators(plan: &Arc<dyn ExecutionPlan>) -> usize {
    1 + plan
        .children()
        .into_iter()
        .map(count_operators)
        .sum::<usize>()
}

/// (operators, proto bytes, extension nodes, rows) of one query's round trip.
async fn run(
    ctx: &SessionContext,
    n: usize,
) -> Result<(usize, usize, usize, usize), Box<dyn std::error::Error>> {
    let codec = DefaultPhysicalExtensionCodec;
    let (before, main, after) = tpch::query_parts(n);
    for s in &before {
        ctx.sql(s).await?.collect().await?;
    }
    let plan = ctx.sql(&main).await?.create_physical_plan().await?;
    let proto = physical_plan_to_proto(&plan, &codec)?;
    let bytes = proto.encode_to_vec();
    let task = ctx.task_ctx();
    let decoded = physical_plan_from_proto(
        &pb::PhysicalPlanNode::decode(bytes.as_slice())?,
        &task,
        &codec,
    )?;
    let expected = collect(Arc::clone(&plan), Arc::clone(&task)).await?;
    let actual = collect(decoded, task).await?;
    for s in &after {
        ctx.sql(s).await?.collect().await?;
    }
    let rows = tpch::canonical_rows(&expected);
    if rows != tpch::canonical_rows(&actual) {
        return Err("results differ from the original plan".into());
    }
    Ok((
        count_operators(&plan),
        bytes.len(),
        count_extension_nodes(&proto),
        rows.len(),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let sf = match args.iter().position(|a| a == "--sf") {
        Some(i) => args
            .get(i + 1)
            .ok_or("--sf needs a value")?
            .parse::<f64>()?,
        None => 0.01,
    };
    let config = configure_session_for_spec(SessionConfig::new().with_target_partitions(2));
    let ctx = SessionContext::new_with_config(config);
    tpch::register_tables(&ctx, &tpch::data_dir(sf, 2)).await?;

    println!("TPC-H SF {sf}: physical plan -> spec -> DataFusion, results compared");
    println!(
        "{:>5} {:>9} {:>11} {:>9} {:>7}  ok",
        "query", "operators", "proto bytes", "ext nodes", "rows"
    );
    let (mut ops, mut bytes, mut exts, mut failures) = (0, 0, 0, 0);
    for n in 1..=22 {
        match run(&ctx, n).await {
            Ok((o, b, e, r)) => {
                let ok = e == 0;
                failures += usize::from(!ok);
                println!(
                    "{:>5} {o:>9} {b:>11} {e:>9} {r:>7}  {}",
                    format!("q{n}"),
                    if ok { "yes" } else { "NO (extensions)" }
                );
                (ops, bytes, exts) = (ops + o, bytes + b, exts + e);
            }
            Err(err) => {
                failures += 1;
                println!("{:>5}  FAILED: {err}", format!("q{n}"));
            }
        }
    }
    println!(
        "total {ops:>9} {bytes:>11} {exts:>9}          {}/22 ok",
        22 - failures
    );
    if failures > 0 {
        std::process::exit(1);
    }
    Ok(())
}

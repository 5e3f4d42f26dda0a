//! Fuzzing the plan decoders: whatever bytes arrive, decoding yields a plan
//! or an error, never a panic.
//!
//! Seeds are the encoded logical and physical plans of several TPC-H
//! queries; proptest mutates them (bit flips, byte overwrites, insertions,
//! deletions, truncation) and also feeds purely random bytes. Every input
//! goes through protobuf decoding and then the DataFusion decoders.
//!
//! `fuzz_decoders_briefly` decodes a fixed set of 60,000 inputs (from a fixed
//! seed, so the run is deterministic) in every `make test`;
//! `fuzz_decoders_for_a_while` (ignored by default) runs for
//! `BALLISTA_FUZZ_SECONDS` (60 by default) and is what `make fuzz` runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_core::error::DECODER_PANIC;
use ballista_core::serde::logical::{logical_plan_from_proto, logical_plan_to_proto};
use ballista_core::serde::physical::{
    DefaultPhysicalExtensionCodec, configure_session_for_spec, physical_plan_from_proto,
    physical_plan_to_proto,
};
use ballista_proto::v1 as pb;
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use prost::Message;

use crate::support::tpch;

/// Queries whose plans seed the fuzzer: between them they use every
/// operator and expression kind that TPC-H plans contain.
const SEED_QUERIES: [usize; 8] = [1, 2, 4, 8, 13, 16, 19, 22];

struct Seeds {
    physical: Vec<Vec<u8>>,
    logical: Vec<Vec<u8>>,
}

async fn seeds(ctx: &SessionContext) -> Seeds {
    let codec = DefaultPhysicalExtensionCodec;
    let mut physical = Vec::new();
    let mut logical = Vec::new();
    for q in SEED_QUERIES {
        let (_, sql, _) = tpch::query_parts(q);
        let plan = ctx
            .state()
            .create_logical_plan(&sql)
            .await
            .expect("plan TPC-H query");
        logical.push(
            logical_plan_to_proto(&plan)
                .expect("encode logical")
                .encode_to_vec(),
        );
        let df = ctx.sql(&sql).await.expect("plan TPC-H query");
        let exec = df.create_physical_plan().await.expect("physical plan");
        physical.push(
            physical_plan_to_proto(&exec, &codec)
                .expect("encode physical")
                .encode_to_vec(),
        );
    }
    Seeds { physical, logical }
}

/// One edit of a byte string; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(p, v)| Mutation::Insert(p, v)),
        (any::<usize>(), 1usize..16).prop_map(|(p, n)| Mutation::Delete(p, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::FlipBit(p, b) => {
                if let Some(x) = bytes.get_mut(p % len) {
                    *x ^= 1 << b;
                }
            }
            Mutation::SetByte(p, v) => {
                if let Some(x) = bytes.get_mut(p % len) {
                    *x = *v;
                }
            }
            Mutation::Insert(p, v) => {
                let at = p % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let at = p % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Truncate(p) => bytes.truncate(p % len),
        }
    }
    bytes
}

/// An input: a mutated seed, or random bytes (seed index `None`).
fn input(seed_count: usize) -> impl Strategy<Value = (Option<usize>, Vec<Mutation>, Vec<u8>)> {
    (
        proptest::option::weighted(0.9, 0..seed_count),
        proptest::collection::vec(mutation(), 1..6),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
}

fn decode_physical(bytes: &[u8], ctx: &SessionContext) {
    if let Ok(node) = pb::PhysicalPlanNode::decode(bytes) {
        // A plan or an ordinary error are both fine; a panic, or a panic the
        // decoder's safety net caught, fails the test.
        let result =
            physical_plan_from_proto(&node, &ctx.task_ctx(), &DefaultPhysicalExtensionCodec);
        assert_no_caught_panic(result.err());
    }
}

fn decode_logical(bytes: &[u8], state: &SessionState, rt: &tokio::runtime::Runtime) {
    if let Ok(rel) = pb::Relation::decode(bytes) {
        assert_no_caught_panic(rt.block_on(logical_plan_from_proto(&rel, state)).err());
    }
}

fn assert_no_caught_panic(error: Option<ballista_core::BallistaError>) {
    if let Some(e) = error {
        let message = e.to_string();
        assert!(!message.contains(DECODER_PANIC), "{message}");
    }
}

/// How long to fuzz, and with which randomness.
enum Run {
    /// A fixed number of inputs from a fixed seed: the same inputs on every
    /// run, so `make test` is deterministic.
    Deterministic(u32),
    /// Fresh random inputs until the time is up (`make fuzz`).
    Random(Duration),
}

fn fuzz(run: Run) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let config = configure_session_for_spec(SessionConfig::new().with_target_partitions(2));
    let ctx = SessionContext::new_with_config(config);
    let seeds = rt.block_on(async {
        tpch::register_tables(&ctx, &tpch::data_dir(0.01, 2))
            .await
            .expect("register TPC-H");
        seeds(&ctx).await
    });
    let state = ctx.state();
    let ctx = Arc::new(ctx);

    let started = Instant::now();
    let mut inputs = 0u64;
    let physical = &seeds.physical;
    let logical = &seeds.logical;
    let test = |(seed, mutations, random): (Option<usize>, Vec<Mutation>, Vec<u8>)| {
        let p = seed.map_or_else(
            || random.clone(),
            |i| apply(physical[i].clone(), &mutations),
        );
        decode_physical(&p, &ctx);
        let l = seed.map_or(random, |i| {
            apply(logical[i % logical.len()].clone(), &mutations)
        });
        decode_logical(&l, &state, &rt);
        Ok::<(), TestCaseError>(())
    };
    let config = |cases| Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    loop {
        let (mut runner, cases) = match run {
            Run::Deterministic(cases) => (
                TestRunner::new_with_rng(
                    config(cases),
                    TestRng::deterministic_rng(RngAlgorithm::ChaCha),
                ),
                cases,
            ),
            Run::Random(budget) if started.elapsed() < budget => {
                (TestRunner::new(config(128)), 128)
            }
            Run::Random(_) => break,
        };
        if let Err(e) = runner.run(&input(physical.len()), test) {
            panic!("a plan decoder panicked (minimal input above): {e}");
        }
        inputs += u64::from(cases);
        if matches!(run, Run::Deterministic(_)) {
            break;
        }
    }
    println!(
        "fuzzed the plan decoders for {:.1} s: {inputs} inputs (each decoded as a physical and a logical plan), no panic",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn fuzz_decoders_briefly() {
    fuzz(Run::Deterministic(60_000));
}

#[test]
#[ignore = "long-running; `make fuzz` runs it"]
fn fuzz_decoders_for_a_while() {
    let seconds = std::env::var("BALLISTA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    fuzz(Run::Random(Duration::from_secs(seconds)));
}

//! `ExecutorCodec`: the runtime operators round-trip through the spec, and
//! decoding refuses what a shuffle must not do.

use std::sync::Arc;

use ballista_core::BallistaError;
use ballista_core::serde::physical::{physical_plan_from_proto, physical_plan_to_proto};
use ballista_executor::ExecutorCodec;
use ballista_executor::shuffle::{
    ConnectionCache, ResultSinkExec, ShuffleReaderExec, ShuffleWriterExec,
};
use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::col;
use datafusion::physical_plan::{ExecutionPlan, Partitioning, displayable};
use datafusion::prelude::SessionContext;
use pb::physical_plan_node::Node;
use prost::Message;

use crate::support::{TempDir, batches, endpoint, memory_plan, schema};

fn codec(dir: &TempDir) -> ExecutorCodec {
    ExecutorCodec::new(
        endpoint("exec-1", 7000),
        dir.path().to_path_buf(),
        Arc::new(ConnectionCache::new()),
    )
}

fn task_ctx() -> Arc<TaskContext> {
    SessionContext::new().task_ctx()
}

/// Encodes, decodes and encodes again: the spec bytes must be identical,
/// and the decoded plan must display like the original.
fn round_trip(plan: Arc<dyn ExecutionPlan>, codec: &ExecutorCodec) -> Arc<dyn ExecutionPlan> {
    let proto = physical_plan_to_proto(&plan, codec).unwrap();
    let decoded = physical_plan_from_proto(&proto, &task_ctx(), codec).unwrap();
    let again = physical_plan_to_proto(&decoded, codec).unwrap();
    assert_eq!(
        proto.encode_to_vec(),
        again.encode_to_vec(),
        "re-encoding changed the plan"
    );
    assert_eq!(
        displayable(plan.as_ref()).indent(true).to_string(),
        displayable(decoded.as_ref()).indent(true).to_string()
    );
    decoded
}

fn writer(
    input: Arc<dyn ExecutionPlan>,
    partitioning: Option<Partitioning>,
    c: pb::ShuffleCompression,
    dir: &TempDir,
) -> Arc<dyn ExecutionPlan> {
    Arc::new(
        ShuffleWriterExec::try_new(
            input,
            "job-c",
            3,
            partitioning,
            c,
            dir.path().to_path_buf(),
            endpoint("exec-1", 7000),
        )
        .unwrap(),
    )
}

#[test]
fn shuffle_writer_round_trips_with_every_partitioning() {
    let dir = TempDir::new("codec-w");
    let codec = codec(&dir);
    let input = memory_plan(vec![batches(0, 1, 5), batches(5, 1, 5)]);
    let keys = vec![
        col("id", &schema()).unwrap(),
        col("name", &schema()).unwrap(),
    ];
    for (partitioning, compression) in [
        (
            Some(Partitioning::Hash(keys, 7)),
            pb::ShuffleCompression::Zstd,
        ),
        (
            Some(Partitioning::RoundRobinBatch(1)),
            pb::ShuffleCompression::Unspecified,
        ),
        (
            Some(Partitioning::UnknownPartitioning(2)),
            pb::ShuffleCompression::None,
        ),
        (None, pb::ShuffleCompression::Unspecified),
    ] {
        let plan = writer(Arc::clone(&input), partitioning.clone(), compression, &dir);
        let decoded = round_trip(plan, &codec);
        let w = decoded.downcast_ref::<ShuffleWriterExec>().unwrap();
        assert_eq!((w.job_id(), w.stage_id()), ("job-c", 3));
        assert_eq!(w.compression(), compression);
        assert_eq!(
            w.partitioning().map(ToString::to_string),
            partitioning.map(|p| p.to_string())
        );
        assert_eq!(w.executor().id, "exec-1");
        assert_eq!(w.work_dir(), dir.path());
    }
}

#[test]
fn result_sink_and_shuffle_reader_round_trip() {
    let dir = TempDir::new("codec-r");
    let codec = codec(&dir);
    let location = |map: u32, out: u32, holder: &str| pb::PartitionLocation {
        job_id: "job-c".into(),
        stage_id: 1,
        map_partition: map,
        output_partition: out,
        executor: Some(endpoint(holder, 9000)),
        path: format!("/data/job-c/1/{out}/{map}.arrow"),
        stats: Some(pb::PartitionStats {
            num_rows: 10,
            num_batches: 1,
            num_bytes: 1234,
        }),
    };
    let partitions = vec![
        vec![location(0, 0, "exec-1"), location(1, 0, "exec-2")],
        vec![],
        vec![location(1, 2, "exec-2")],
    ];
    let reader: Arc<dyn ExecutionPlan> = Arc::new(
        ShuffleReaderExec::try_new(
            schema(),
            partitions.clone(),
            1,
            "someone-else",
            dir.path().to_path_buf(),
            Arc::new(ConnectionCache::new()),
        )
        .unwrap(),
    );
    let sink: Arc<dyn ExecutionPlan> = Arc::new(
        ResultSinkExec::try_new(
            reader,
            "job-c",
            2,
            dir.path().to_path_buf(),
            endpoint("exec-1", 7000),
        )
        .unwrap(),
    );
    let decoded = round_trip(sink, &codec);
    let sink = decoded.downcast_ref::<ResultSinkExec>().unwrap();
    assert_eq!((sink.job_id(), sink.stage_id()), ("job-c", 2));
    let reader = sink.input().downcast_ref::<ShuffleReaderExec>().unwrap();
    assert_eq!(reader.partitions(), partitions.as_slice());
    assert_eq!(reader.schema(), schema());
    // Decoded on this executor, the reader knows which files are local.
    assert_eq!(reader.executor_id(), "exec-1");
}

fn shuffle_write_node(
    partitioning: Option<pb::Partitioning>,
    job_id: &str,
) -> pb::PhysicalPlanNode {
    let dir = TempDir::new("codec-n");
    let input = memory_plan(vec![batches(0, 1, 5)]);
    let input = physical_plan_to_proto(&input, &codec(&dir)).unwrap();
    pb::PhysicalPlanNode {
        node: Some(Node::ShuffleWrite(Box::new(pb::ShuffleWriteExec {
            input: Some(Box::new(input)),
            job_id: job_id.into(),
            stage_id: 1,
            partitioning,
            compression: 0,
        }))),
    }
}

fn hash_partitioning(function: pb::HashFunction) -> pb::Partitioning {
    pb::Partitioning {
        scheme: Some(pb::partitioning::Scheme::Hash(pb::HashPartitioning {
            keys: vec![pb::PhysicalExpr {
                expr_type: Some(pb::physical_expr::ExprType::Column(pb::PhysicalColumn {
                    name: "id".into(),
                    index: 0,
                })),
            }],
            partition_count: 4,
            function: function as i32,
        })),
    }
}

#[test]
fn a_shuffle_write_must_use_the_spec_hash() {
    let dir = TempDir::new("codec-h");
    let node = shuffle_write_node(Some(hash_partitioning(pb::HashFunction::EngineLocal)), "j");
    let err = physical_plan_from_proto(&node, &task_ctx(), &codec(&dir)).unwrap_err();
    assert!(matches!(err, BallistaError::InvalidArgument(_)), "{err}");
    assert!(
        err.to_string().contains("HASH_FUNCTION_ENGINE_LOCAL"),
        "{err}"
    );

    let node = shuffle_write_node(Some(hash_partitioning(pb::HashFunction::Unspecified)), "j");
    let plan = physical_plan_from_proto(&node, &task_ctx(), &codec(&dir)).unwrap();
    assert_eq!(
        plan.downcast_ref::<ShuffleWriterExec>()
            .unwrap()
            .output_partition_count(),
        4
    );
}

#[test]
fn malformed_runtime_nodes_are_clear_errors() {
    let dir = TempDir::new("codec-e");
    let c = codec(&dir);
    let err = physical_plan_from_proto(&shuffle_write_node(None, "../../etc"), &task_ctx(), &c)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ShuffleWriteExec.job_id"), "{err}");

    let mut node = shuffle_write_node(None, "j");
    if let Some(Node::ShuffleWrite(w)) = &mut node.node {
        w.compression = 99;
    }
    let err = physical_plan_from_proto(&node, &task_ctx(), &c)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ShuffleWriteExec.compression"), "{err}");

    let read = pb::PhysicalPlanNode {
        node: Some(Node::ShuffleRead(pb::ShuffleReadExec {
            schema: None,
            partitions: vec![],
            stage_id: 1,
        })),
    };
    let err = physical_plan_from_proto(&read, &task_ctx(), &c)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ShuffleReadExec.schema"), "{err}");

    let map = pb::PhysicalPlanNode {
        node: Some(Node::MapBatches(Box::new(pb::MapBatchesExec {
            input: Some(Box::new(
                physical_plan_to_proto(&memory_plan(vec![vec![]]), &c).unwrap(),
            )),
            function: None,
            output_schema: None,
        }))),
    };
    let err = physical_plan_from_proto(&map, &task_ctx(), &c).unwrap_err();
    assert!(err.to_string().contains("MapBatchesExec.function"), "{err}");
}

//! [`ExecutorCodec`]: the executor's part of the physical plan codec. The
//! core codec (`ballista_core::serde::physical`) handles every spec operator
//! except the runtime ones, whose implementations live here: it hands
//! `ShuffleReadExec`, `ShuffleWriteExec` and `ResultSinkExec` nodes to this
//! codec, which builds [`ShuffleReaderExec`], [`ShuffleWriterExec`] and
//! [`ResultSinkExec`] bound to this executor (its id, work directory and
//! connections), and encodes them back to the same spec nodes.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::error::{known_enum, required};
use ballista_core::serde::physical::{
    PhysicalExtensionCodec, node_name, partitioning_from_proto, partitioning_to_proto,
};
use ballista_core::serde::types::{required_schema, schema_to_proto};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use pb::physical_plan_node::Node;

use crate::shuffle::{ConnectionCache, ResultSinkExec, ShuffleReaderExec, ShuffleWriterExec};

/// Decodes and encodes the spec's runtime operators for one executor.
#[derive(Debug, Clone)]
pub struct ExecutorCodec {
    endpoint: pb::ExecutorEndpoint,
    work_dir: PathBuf,
    connections: Arc<ConnectionCache>,
    fetch_concurrency: usize,
}

impl ExecutorCodec {
    /// The codec of the executor reachable at `endpoint` (whose `id` tells
    /// shuffle readers which files are local) with its files under
    /// `work_dir`, fetching remote partitions through `connections`.
    pub fn new(
        endpoint: pb::ExecutorEndpoint,
        work_dir: PathBuf,
        connections: Arc<ConnectionCache>,
    ) -> Self {
        Self {
            endpoint,
            work_dir,
            connections,
            fetch_concurrency: crate::shuffle::DEFAULT_FETCH_CONCURRENCY,
        }
    }

    /// Shuffle readers decoded by this codec fetch up to `n` locations at
    /// the same time.
    pub fn with_fetch_concurrency(mut self, n: usize) -> Self {
        self.fetch_concurrency = n.max(1);
        self
    }

    fn single_input(
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        node: &pb::PhysicalPlanNode,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let n = inputs.len();
        let [input] = <[_; 1]>::try_from(inputs).map_err(|_| {
            BallistaError::Internal(format!(
                "the core decoder passed {n} inputs for {}, which has one",
                node_name(node)
            ))
        })?;
        Ok(input)
    }
}

impl PhysicalExtensionCodec for ExecutorCodec {
    fn try_decode_node(
        &self,
        node: &pb::PhysicalPlanNode,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match &node.node {
            Some(Node::ShuffleRead(read)) => {
                let schema = required_schema(&read.schema, "ShuffleReadExec.schema")?;
                let partitions = read
                    .partitions
                    .iter()
                    .map(|p| p.locations.clone())
                    .collect();
                Ok(Arc::new(
                    ShuffleReaderExec::try_new(
                        schema,
                        partitions,
                        read.stage_id,
                        self.endpoint.id.clone(),
                        self.work_dir.clone(),
                        Arc::clone(&self.connections),
                    )?
                    .with_fetch_concurrency(self.fetch_concurrency),
                ))
            }
            Some(Node::ShuffleWrite(write)) => {
                let input = Self::single_input(inputs, node)?;
                let partitioning = match &write.partitioning {
                    None => None,
                    Some(p) => {
                        let (partitioning, function) = partitioning_from_proto(
                            p,
                            &input.schema(),
                            ctx,
                            self,
                            "ShuffleWriteExec.partitioning",
                        )?;
                        if function == pb::HashFunction::EngineLocal {
                            return Err(BallistaError::invalid(
                                "ShuffleWriteExec.partitioning.hash.function",
                                "HASH_FUNCTION_ENGINE_LOCAL is only valid where rows stay \
                                 in one task (RepartitionExec); a shuffle write must use \
                                 the spec hash (HASH_FUNCTION_UNSPECIFIED) so that every \
                                 executor puts a row in the same partition",
                            ));
                        }
                        Some(partitioning)
                    }
                };
                let compression = known_enum::<pb::ShuffleCompression>(
                    write.compression,
                    "ShuffleWriteExec.compression",
                )?;
                Ok(Arc::new(ShuffleWriterExec::try_new(
                    input,
                    write.job_id.clone(),
                    write.stage_id,
                    partitioning,
                    compression,
                    self.work_dir.clone(),
                    self.endpoint.clone(),
                )?))
            }
            Some(Node::ResultSink(sink)) => {
                let input = Self::single_input(inputs, node)?;
                Ok(Arc::new(ResultSinkExec::try_new(
                    input,
                    sink.job_id.clone(),
                    sink.stage_id,
                    self.work_dir.clone(),
                    self.endpoint.clone(),
                )?))
            }
            Some(Node::MapBatches(m)) => {
                let name = required(&m.function, "MapBatchesExec.function")
                    .map(|f| f.name.clone())
                    .unwrap_or_default();
                Err(BallistaError::NotImplemented(format!(
                    "MapBatchesExec `{name}`: user-defined batch functions run in UDF \
                     workers, which this executor does not have yet"
                )))
            }
            _ => Err(BallistaError::NotImplemented(format!(
                "{} is not a runtime operator this executor provides",
                node_name(node)
            ))),
        }
    }

    fn try_encode_node(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
        inputs: &[pb::PhysicalPlanNode],
    ) -> Result<Option<pb::PhysicalPlanNode>> {
        let plan: &dyn ExecutionPlan = plan.as_ref();
        let input = || -> Result<Option<Box<pb::PhysicalPlanNode>>> {
            match inputs {
                [one] => Ok(Some(Box::new(one.clone()))),
                _ => Err(BallistaError::Internal(format!(
                    "{} has one input but {} were encoded",
                    plan.name(),
                    inputs.len()
                ))),
            }
        };
        let node = if let Some(write) = plan.downcast_ref::<ShuffleWriterExec>() {
            let partitioning = write
                .partitioning()
                .map(|p| partitioning_to_proto(p, pb::HashFunction::Unspecified, self))
                .transpose()?;
            Node::ShuffleWrite(Box::new(pb::ShuffleWriteExec {
                input: input()?,
                job_id: write.job_id().to_string(),
                stage_id: write.stage_id(),
                partitioning,
                compression: write.compression() as i32,
            }))
        } else if let Some(sink) = plan.downcast_ref::<ResultSinkExec>() {
            Node::ResultSink(Box::new(pb::ResultSinkExec {
                input: input()?,
                job_id: sink.job_id().to_string(),
                stage_id: sink.stage_id(),
            }))
        } else if let Some(read) = plan.downcast_ref::<ShuffleReaderExec>() {
            Node::ShuffleRead(pb::ShuffleReadExec {
                schema: Some(schema_to_proto(&read.schema())?),
                partitions: read
                    .partitions()
                    .iter()
                    .map(|locations| pb::ShuffleReadPartition {
                        locations: locations.clone(),
                    })
                    .collect(),
                stage_id: read.stage_id(),
            })
        } else {
            return Ok(None);
        };
        Ok(Some(pb::PhysicalPlanNode { node: Some(node) }))
    }
}

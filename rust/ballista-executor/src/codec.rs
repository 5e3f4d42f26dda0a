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
use ballista_core::serde::types::{data_type_from_proto, required_schema, schema_to_proto};
use ballista_core::udf::{MapBatchesExec, PlanUdf, UdfRuntime};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::arrow::datatypes::Schema;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
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
    udf_runtime: Option<Arc<dyn UdfRuntime>>,
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
            udf_runtime: None,
        }
    }

    /// User-defined functions (`PhysicalUdfCall`, `MapBatchesExec`) decoded
    /// by this codec run on `runtime`; without one they fail when run.
    pub fn with_udf_runtime(mut self, runtime: Arc<dyn UdfRuntime>) -> Self {
        self.udf_runtime = Some(runtime);
        self
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

impl ExecutorCodec {
    fn check_language(&self, f: &pb::UdfDefinition) -> Result<()> {
        if f.language != "python" {
            return Err(BallistaError::NotImplemented(format!(
                "user-defined function `{}` is written in `{}`; this executor runs `python` \
                 functions only",
                f.name, f.language
            )));
        }
        Ok(())
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
                let compression = known_enum::<pb::ShuffleCompression>(
                    sink.compression,
                    "ResultSinkExec.compression",
                )?;
                Ok(Arc::new(
                    ResultSinkExec::try_new(
                        input,
                        sink.job_id.clone(),
                        sink.stage_id,
                        self.work_dir.clone(),
                        self.endpoint.clone(),
                    )?
                    .with_compression(compression),
                ))
            }
            Some(Node::MapBatches(m)) => {
                let input = Self::single_input(inputs, node)?;
                let function = required(&m.function, "MapBatchesExec.function")?;
                let schema = required_schema(&m.output_schema, "MapBatchesExec.output_schema")?;
                self.check_language(function)?;
                Ok(Arc::new(MapBatchesExec::new(
                    input,
                    function.clone(),
                    schema,
                    self.udf_runtime.clone(),
                )))
            }
            _ => Err(BallistaError::NotImplemented(format!(
                "{} is not a runtime operator this executor provides",
                node_name(node)
            ))),
        }
    }

    fn try_decode_udf(
        &self,
        udf: &pb::PhysicalUdfCall,
        arguments: Vec<Arc<dyn PhysicalExpr>>,
        input_schema: &Schema,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let function = required(&udf.function, "PhysicalUdfCall.function")?;
        self.check_language(function)?;
        let rp = "PhysicalUdfCall.return_type";
        let return_type = data_type_from_proto(required(&udf.return_type, rp)?, rp)?;
        let fun = ScalarUDF::new_from_impl(PlanUdf::new(
            function.clone(),
            return_type,
            self.udf_runtime.clone(),
        ));
        let config = Arc::clone(ctx.session_config().options());
        Ok(Arc::new(ScalarFunctionExpr::try_new(
            Arc::new(fun),
            arguments,
            input_schema,
            config,
        )?))
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
                compression: sink.compression() as i32,
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

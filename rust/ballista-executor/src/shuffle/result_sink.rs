//! `ResultSinkExec`: the root of a job's final stage. Each task keeps its
//! partition on disk until a client fetches it with `DoGet`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::StreamExt;

use super::ipc::{FileSink, write_options};
use super::writer::{summary_schema, summary_stream};
use super::{path_string, result_file_path, validate_job_id};

/// Writes input partition p of the final stage to
/// `<work_dir>/<job>/<stage>/result/<p>.arrow` (an Arrow IPC stream, like
/// shuffle files, compressed as [`with_compression`](Self::with_compression)
/// says: LZ4 unless told otherwise) and returns one `PartitionLocation` for it —
/// also when it is empty, so a client always gets one endpoint per result
/// partition and sees the schema.
///
/// As a plan node, [`execute`](ExecutionPlan::execute) runs the write and
/// yields one summary row ([`summary_schema`]).
#[derive(Debug, Clone)]
pub struct ResultSinkExec {
    input: Arc<dyn ExecutionPlan>,
    job_id: String,
    stage_id: u32,
    work_dir: PathBuf,
    executor: pb::ExecutorEndpoint,
    compression: pb::ShuffleCompression,
    properties: Arc<PlanProperties>,
}

impl ResultSinkExec {
    /// A result sink for stage `stage_id` of job `job_id`, writing into
    /// `work_dir` on the executor reachable at `executor`. Fails with
    /// `InvalidArgument` for a job id that cannot name a directory.
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        job_id: impl Into<String>,
        stage_id: u32,
        work_dir: PathBuf,
        executor: pb::ExecutorEndpoint,
    ) -> Result<Self> {
        let job_id = job_id.into();
        validate_job_id(&job_id, "ResultSinkExec.job_id")?;
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(summary_schema()),
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Ok(Self {
            input,
            job_id,
            stage_id,
            work_dir,
            executor,
            compression: pb::ShuffleCompression::Unspecified,
            properties,
        })
    }

    /// The same sink writing its files with `compression` (the scheduler
    /// asks for none: see `ResultSinkExec.compression` in the spec).
    pub fn with_compression(mut self, compression: pb::ShuffleCompression) -> Self {
        self.compression = compression;
        self
    }

    /// The compression of the result files.
    pub fn compression(&self) -> pb::ShuffleCompression {
        self.compression
    }

    /// The plan whose partitions are the results.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The job.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The final stage.
    pub fn stage_id(&self) -> u32 {
        self.stage_id
    }

    /// The directory the files go under.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The executor written into the `PartitionLocation`.
    pub fn executor(&self) -> &pb::ExecutorEndpoint {
        &self.executor
    }

    /// Runs input partition `partition` and writes it; returns its location.
    /// On failure no file is left behind.
    pub async fn write(
        &self,
        partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<pb::PartitionLocation> {
        self.write_from(partition, None, ctx).await
    }

    /// Like [`write`](Self::write), but when `narrowed` is given, reads
    /// the task's rows from it: a one-partition plan equal to partition
    /// `partition` of the input (see [`narrow`](crate::narrow)).
    pub async fn write_from(
        &self,
        partition: usize,
        narrowed: Option<Arc<dyn ExecutionPlan>>,
        ctx: Arc<TaskContext>,
    ) -> Result<pb::PartitionLocation> {
        let count = self.input.output_partitioning().partition_count();
        if partition >= count {
            return Err(BallistaError::InvalidArgument(format!(
                "ResultSinkExec of job {} stage {}: task partition {partition} does not \
                 exist, the input has {count} partition(s)",
                self.job_id, self.stage_id
            )));
        }
        let path = result_file_path(&self.work_dir, &self.job_id, self.stage_id, partition);
        let file_path = path.clone();
        let mut sink = FileSink::spawn(
            self.input.schema(),
            write_options(self.compression)?,
            move |_| file_path.clone(),
            Some(0),
        );
        let outcome = async {
            let mut input = match &narrowed {
                Some(plan) => plan.execute(0, ctx)?,
                None => self.input.execute(partition, ctx)?,
            };
            while let Some(batch) = input.next().await {
                let batch = batch?;
                if batch.num_rows() > 0 {
                    sink.write(0, batch).await?;
                }
            }
            Ok::<_, BallistaError>(())
        }
        .await;
        if let Err(e) = outcome {
            sink.abort().await;
            return Err(e);
        }
        let file = sink.commit().await?.pop().ok_or_else(|| {
            BallistaError::Internal("the result file writer returned no file".into())
        })?;
        Ok(pb::PartitionLocation {
            job_id: self.job_id.clone(),
            stage_id: self.stage_id,
            map_partition: partition as u32,
            output_partition: partition as u32,
            executor: Some(self.executor.clone()),
            path: path_string(&path)?,
            stats: Some(file.stats),
        })
    }
}

impl DisplayAs for ResultSinkExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => write!(
                f,
                "ResultSinkExec: job={}, stage={}",
                self.job_id, self.stage_id
            ),
            DisplayFormatType::TreeRender => {
                writeln!(f, "job={}", self.job_id)?;
                write!(f, "stage={}", self.stage_id)
            }
        }
    }
}

impl ExecutionPlan for ResultSinkExec {
    fn name(&self) -> &str {
        "ResultSinkExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::common::Result<TreeNodeRecursion>,
    ) -> datafusion::common::Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|c| {
            datafusion::error::DataFusionError::Internal(format!(
                "ResultSinkExec takes one child, got {}",
                c.len()
            ))
        })?;
        Ok(Arc::new(Self::try_new(
            input,
            self.job_id.clone(),
            self.stage_id,
            self.work_dir.clone(),
            self.executor.clone(),
        )?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        let this = self.clone();
        Ok(summary_stream(async move {
            Ok(vec![this.write(partition, context).await?])
        }))
    }
}

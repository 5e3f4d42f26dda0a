//! `ShuffleWriterExec`: the root of every non-final stage. One task runs one
//! input (map) partition and writes its rows to reduce partitions on disk.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt32Array, UInt64Array};
use arrow::compute::BatchCoalescer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use ballista_core::hash::partition_batch;
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties, apply_expression_roots,
};
use futures::StreamExt;

use super::ipc::{FileSink, WrittenFile, write_options};
use super::{path_string, shuffle_file_path, validate_job_id};

/// Most output partitions a shuffle write may have. A limit of this
/// executor, not of the spec: per-partition state is kept for each one, and
/// a count from the network must not make a task allocate without bound.
pub const MAX_OUTPUT_PARTITIONS: usize = 1 << 20;

/// Writes one map partition of its input as shuffle files, one Arrow IPC
/// stream file per non-empty reduce partition
/// (`<work_dir>/<job>/<stage>/<reduce>/<map>.arrow`).
///
/// Routing of rows to reduce partitions (`docs/spec/shuffle.md`):
/// - `Hash(keys, n)`: every row to `pmod(spec hash of keys, n)`
///   ([`ballista_core::hash`]); the spec hash is the only one a shuffle may
///   use, since readers on other executors (in other languages) rely on it;
/// - `RoundRobinBatch(n)`: input batches dealt over the n partitions,
///   starting at 0 in every task (so `RoundRobinBatch(1)` sends everything to
///   partition 0);
/// - `UnknownPartitioning(n)`, or no partitioning: map task m writes all its
///   rows to reduce partition m.
///
/// Memory stays bounded: batches are written as they arrive; rows bound for
/// one partition are coalesced into batches of the session's batch size
/// first (so hash partitioning does not write thousands of tiny batches),
/// and those buffers are flushed early when the memory pool refuses them.
///
/// As a plan node, [`execute`](ExecutionPlan::execute) runs the write and
/// yields one summary row per file written ([`summary_schema`]); the
/// executor calls [`write`](Self::write) to get the `PartitionLocation`s.
#[derive(Debug, Clone)]
pub struct ShuffleWriterExec {
    input: Arc<dyn ExecutionPlan>,
    job_id: String,
    stage_id: u32,
    partitioning: Option<Partitioning>,
    compression: pb::ShuffleCompression,
    work_dir: PathBuf,
    executor: pb::ExecutorEndpoint,
    properties: Arc<PlanProperties>,
}

impl ShuffleWriterExec {
    /// A shuffle write of `input` for stage `stage_id` of job `job_id`,
    /// into `work_dir`, on the executor reachable at `executor`.
    ///
    /// `partitioning` is the output partitioning (`None` keeps the input's:
    /// map m to reduce m); hash keys are evaluated over the input schema and
    /// always hashed with the spec hash. Fails with `InvalidArgument` for a
    /// job id that cannot name a directory, a partition count of 0 or above
    /// [`MAX_OUTPUT_PARTITIONS`], and `NotImplemented` for range
    /// partitioning.
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        job_id: impl Into<String>,
        stage_id: u32,
        partitioning: Option<Partitioning>,
        compression: pb::ShuffleCompression,
        work_dir: PathBuf,
        executor: pb::ExecutorEndpoint,
    ) -> Result<Self> {
        let job_id = job_id.into();
        validate_job_id(&job_id, "ShuffleWriteExec.job_id")?;
        if let Some(p) = &partitioning {
            if let Partitioning::Range(_) = p {
                return Err(BallistaError::NotImplemented(
                    "ShuffleWriteExec.partitioning: range partitioning is not a shuffle \
                     partitioning of the spec (use hash, round_robin or unknown)"
                        .into(),
                ));
            }
            let n = p.partition_count();
            if n == 0 || n > MAX_OUTPUT_PARTITIONS {
                return Err(BallistaError::invalid(
                    "ShuffleWriteExec.partitioning",
                    format!(
                        "{n} output partitions: a shuffle write needs between 1 and \
                         {MAX_OUTPUT_PARTITIONS}"
                    ),
                ));
            }
        }
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
            partitioning,
            compression,
            work_dir,
            executor,
            properties,
        })
    }

    /// The plan whose partitions are the map tasks.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The job this stage belongs to.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// This stage.
    pub fn stage_id(&self) -> u32 {
        self.stage_id
    }

    /// The output partitioning, as given (`None`: the input's).
    pub fn partitioning(&self) -> Option<&Partitioning> {
        self.partitioning.as_ref()
    }

    /// The compression codec of the files.
    pub fn compression(&self) -> pb::ShuffleCompression {
        self.compression
    }

    /// The directory the files go under.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The executor written into every `PartitionLocation`.
    pub fn executor(&self) -> &pb::ExecutorEndpoint {
        &self.executor
    }

    /// Number of reduce partitions.
    pub fn output_partition_count(&self) -> usize {
        match &self.partitioning {
            Some(p) => p.partition_count(),
            None => self.input.output_partitioning().partition_count(),
        }
    }

    /// Runs map task `map_partition` (`input.execute(map_partition)`) and
    /// writes its rows. Returns one location per non-empty reduce partition,
    /// in partition order, with its statistics. On failure no file of this
    /// task is left behind.
    pub async fn write(
        &self,
        map_partition: usize,
        ctx: Arc<TaskContext>,
    ) -> Result<Vec<pb::PartitionLocation>> {
        self.write_from(map_partition, None, ctx).await
    }

    /// Like [`write`](Self::write), but when `narrowed` is given, reads
    /// the task's rows from it: a one-partition plan equal to partition
    /// `partition` of the input (see [`narrow`](crate::narrow)).
    pub async fn write_from(
        &self,
        map_partition: usize,
        narrowed: Option<Arc<dyn ExecutionPlan>>,
        ctx: Arc<TaskContext>,
    ) -> Result<Vec<pb::PartitionLocation>> {
        let map_count = self.input.output_partitioning().partition_count();
        if map_partition >= map_count {
            return Err(BallistaError::InvalidArgument(format!(
                "ShuffleWriteExec of job {} stage {}: task partition {map_partition} does \
                 not exist, the input has {map_count} partition(s)",
                self.job_id, self.stage_id
            )));
        }
        let mut router = Router::new(self, map_partition)?;
        let schema = self.input.schema();
        let batch_size = ctx.session_config().batch_size();

        let (work_dir, job_id, stage_id) =
            (self.work_dir.clone(), self.job_id.clone(), self.stage_id);
        let mut sink = FileSink::spawn(
            Arc::clone(&schema),
            write_options(self.compression)?,
            move |reduce| shuffle_file_path(&work_dir, &job_id, stage_id, reduce, map_partition),
            None,
        );
        let mut coalescers = Coalescers::new(schema, batch_size, &ctx, self, map_partition);

        let outcome = async {
            let mut input = match &narrowed {
                Some(plan) => plan.execute(0, Arc::clone(&ctx))?,
                None => self.input.execute(map_partition, Arc::clone(&ctx))?,
            };
            while let Some(batch) = input.next().await {
                let batch = batch?;
                if batch.num_rows() == 0 {
                    continue;
                }
                for (reduce, rows) in router.route(batch)? {
                    coalescers.push(reduce, rows, &mut sink).await?;
                }
                coalescers.bound_memory(&mut sink).await?;
            }
            coalescers.flush_all(&mut sink).await
        }
        .await;
        if let Err(e) = outcome {
            sink.abort().await;
            return Err(e);
        }
        let files = sink.commit().await?;
        files
            .into_iter()
            .map(|f| self.location(map_partition, f))
            .collect()
    }

    fn location(&self, map_partition: usize, file: WrittenFile) -> Result<pb::PartitionLocation> {
        Ok(pb::PartitionLocation {
            job_id: self.job_id.clone(),
            stage_id: self.stage_id,
            map_partition: map_partition as u32,
            output_partition: file.partition as u32,
            executor: Some(self.executor.clone()),
            path: path_string(&file.path)?,
            stats: Some(file.stats),
        })
    }
}

/// Where each input row goes.
enum Router {
    Hash {
        keys: Vec<Arc<dyn PhysicalExpr>>,
        n: u32,
    },
    RoundRobin {
        n: usize,
        next: usize,
    },
    Single(usize),
}

impl Router {
    fn new(exec: &ShuffleWriterExec, map_partition: usize) -> Result<Self> {
        Ok(match &exec.partitioning {
            Some(Partitioning::Hash(keys, n)) => Router::Hash {
                keys: keys.clone(),
                // try_new bounds n by MAX_OUTPUT_PARTITIONS.
                n: *n as u32,
            },
            Some(Partitioning::RoundRobinBatch(n)) => Router::RoundRobin { n: *n, next: 0 },
            Some(Partitioning::UnknownPartitioning(n)) if map_partition >= *n => {
                return Err(BallistaError::InvalidArgument(format!(
                    "ShuffleWriteExec of job {} stage {}: unknown({n}) partitioning sends \
                     map partition m to reduce partition m, but the task is map partition \
                     {map_partition}",
                    exec.job_id, exec.stage_id
                )));
            }
            Some(Partitioning::UnknownPartitioning(_)) | None => Router::Single(map_partition),
            Some(Partitioning::Range(_)) => {
                return Err(BallistaError::Internal(
                    "ShuffleWriterExec with range partitioning was constructed".into(),
                ));
            }
        })
    }

    /// Splits `batch` into (reduce partition, rows) pieces, none empty.
    fn route(&mut self, batch: RecordBatch) -> Result<Vec<(usize, RecordBatch)>> {
        match self {
            Router::Hash { keys, n } => {
                let rows = batch.num_rows();
                let columns = keys
                    .iter()
                    .map(|k| k.evaluate(&batch)?.into_array(rows))
                    .collect::<datafusion::common::Result<Vec<ArrayRef>>>()?;
                Ok(partition_batch(&batch, &columns, *n)?
                    .into_iter()
                    .enumerate()
                    .filter(|(_, b)| b.num_rows() > 0)
                    .collect())
            }
            Router::RoundRobin { n, next } => {
                let p = *next;
                *next = (*next + 1) % *n;
                Ok(vec![(p, batch)])
            }
            Router::Single(p) => Ok(vec![(*p, batch)]),
        }
    }
}

/// Per-partition coalescing buffers, accounted in the task's memory pool.
struct Coalescers {
    schema: SchemaRef,
    batch_size: usize,
    buffers: BTreeMap<usize, BatchCoalescer>,
    reservation: datafusion::execution::memory_pool::MemoryReservation,
}

impl Coalescers {
    fn new(
        schema: SchemaRef,
        batch_size: usize,
        ctx: &TaskContext,
        exec: &ShuffleWriterExec,
        map_partition: usize,
    ) -> Self {
        let reservation = MemoryConsumer::new(format!(
            "ShuffleWriterExec[job={} stage={} map={map_partition}]",
            exec.job_id, exec.stage_id
        ))
        .register(ctx.memory_pool());
        Self {
            schema,
            batch_size,
            buffers: BTreeMap::new(),
            reservation,
        }
    }

    async fn push(&mut self, reduce: usize, rows: RecordBatch, sink: &mut FileSink) -> Result<()> {
        let (schema, batch_size) = (&self.schema, self.batch_size);
        let buffer = self.buffers.entry(reduce).or_insert_with(|| {
            // Batches already half full are written as they are: copying
            // them buys nothing.
            BatchCoalescer::new(Arc::clone(schema), batch_size)
                .with_biggest_coalesce_batch_size(Some(batch_size / 2))
        });
        buffer.push_batch(rows)?;
        while let Some(full) = buffer.next_completed_batch() {
            sink.write(reduce, full).await?;
        }
        Ok(())
    }

    /// Keeps the reservation equal to what the buffers hold; when the pool
    /// refuses more, writes out every partly filled buffer instead (smaller
    /// batches, never an out-of-memory failure for buffering).
    async fn bound_memory(&mut self, sink: &mut FileSink) -> Result<()> {
        let held: usize = self.buffers.values().map(BatchCoalescer::size).sum();
        if self.reservation.try_resize(held).is_err() {
            self.flush_all(sink).await?;
            let held: usize = self.buffers.values().map(BatchCoalescer::size).sum();
            self.reservation.resize(held);
        }
        Ok(())
    }

    async fn flush_all(&mut self, sink: &mut FileSink) -> Result<()> {
        for (reduce, buffer) in self.buffers.iter_mut() {
            buffer.finish_buffered_batch()?;
            while let Some(batch) = buffer.next_completed_batch() {
                sink.write(*reduce, batch).await?;
            }
        }
        Ok(())
    }
}

/// Schema of the summary batch a shuffle write or result sink yields when
/// executed as a plan: one row per file written.
pub fn summary_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("output_partition", DataType::UInt32, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("num_rows", DataType::UInt64, false),
        Field::new("num_batches", DataType::UInt64, false),
        Field::new("num_bytes", DataType::UInt64, false),
    ]))
}

/// The summary batch of written locations.
pub(crate) fn summary_batch(locations: &[pb::PartitionLocation]) -> Result<RecordBatch> {
    let stats = |f: fn(&pb::PartitionStats) -> u64| -> UInt64Array {
        locations
            .iter()
            .map(|l| l.stats.as_ref().map_or(0, f))
            .collect()
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            locations
                .iter()
                .map(|l| l.output_partition)
                .collect::<UInt32Array>(),
        ),
        Arc::new(
            locations
                .iter()
                .map(|l| Some(l.path.as_str()))
                .collect::<StringArray>(),
        ),
        Arc::new(stats(|s| s.num_rows)),
        Arc::new(stats(|s| s.num_batches)),
        Arc::new(stats(|s| s.num_bytes)),
    ];
    Ok(RecordBatch::try_new(summary_schema(), columns)?)
}

/// A one-batch stream that runs `write` when first polled.
pub(crate) fn summary_stream(
    write: impl Future<Output = Result<Vec<pb::PartitionLocation>>> + Send + 'static,
) -> SendableRecordBatchStream {
    let stream = futures::stream::once(async move {
        let locations = write.await?;
        Ok(summary_batch(&locations)?)
    });
    Box::pin(RecordBatchStreamAdapter::new(summary_schema(), stream))
}

impl DisplayAs for ShuffleWriterExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let partitioning = match &self.partitioning {
            Some(p) => p.to_string(),
            None => "input".to_string(),
        };
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => write!(
                f,
                "ShuffleWriterExec: job={}, stage={}, partitioning={partitioning}, \
                 compression={}",
                self.job_id,
                self.stage_id,
                self.compression.as_str_name()
            ),
            DisplayFormatType::TreeRender => {
                writeln!(f, "job={}", self.job_id)?;
                writeln!(f, "stage={}", self.stage_id)?;
                write!(f, "partitioning={partitioning}")
            }
        }
    }
}

impl ExecutionPlan for ShuffleWriterExec {
    fn name(&self) -> &str {
        "ShuffleWriterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::common::Result<TreeNodeRecursion>,
    ) -> datafusion::common::Result<TreeNodeRecursion> {
        match &self.partitioning {
            Some(Partitioning::Hash(keys, _)) => apply_expression_roots(keys, f),
            _ => Ok(TreeNodeRecursion::Continue),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|c| {
            datafusion::error::DataFusionError::Internal(format!(
                "ShuffleWriterExec takes one child, got {}",
                c.len()
            ))
        })?;
        Ok(Arc::new(Self::try_new(
            input,
            self.job_id.clone(),
            self.stage_id,
            self.partitioning.clone(),
            self.compression,
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
            this.write(partition, context).await
        }))
    }
}

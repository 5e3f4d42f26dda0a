//! `ShuffleReaderExec`: the leaf that reads an earlier stage's output, and
//! the connection cache its remote fetches share.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use ballista_core::{BallistaError, Result};
use ballista_flight::FlightConn;
use ballista_flight::client::{endpoint_url, partition_ticket};
use ballista_flight::status::from_flight_error;
use ballista_proto::v1 as pb;
use datafusion::common::ScalarValue;
use datafusion::common::cast::as_boolean_array;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::stream::{
    RecordBatchReceiverStreamBuilder, RecordBatchStreamAdapter,
};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::sync::mpsc::Sender;

use super::{DEFAULT_FETCH_CONCURRENCY, open_ipc_file, resolve_in_work_dir, same_host_file};

/// Idle Flight connections to other executors, by URL, shared by every
/// shuffle read of an executor so that fetches reuse connections instead
/// of dialling once per partition.
///
/// A fetch has its connection to itself while its stream is open: HTTP/2
/// streams on one connection share its flow-control window, and a stream
/// nobody reads yet (a hash join's probe input, started while the build
/// input is read) would fill that window and stall every other stream on
/// the connection for good. So a connection is taken out of the cache for
/// one fetch and only put back once that fetch has read its stream to the
/// end.
#[derive(Debug, Default)]
pub struct ConnectionCache {
    idle: Mutex<HashMap<String, Vec<FlightConn>>>,
}

/// Most idle connections kept per peer.
const MAX_IDLE_PER_PEER: usize = 8;

impl ConnectionCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection to `url` for one fetch: an idle one, or a new one.
    pub async fn take(&self, url: &str) -> Result<FlightConn> {
        if let Some(conn) = self.lock().get_mut(url).and_then(Vec::pop) {
            return Ok(conn);
        }
        FlightConn::connect(url).await
    }

    /// Puts back a connection whose fetch read its stream to the end. (One
    /// that failed is dropped instead, so the next fetch dials again.)
    pub fn put_back(&self, conn: FlightConn) {
        let mut idle = self.lock();
        let conns = idle.entry(conn.url().to_string()).or_default();
        if conns.len() < MAX_IDLE_PER_PEER {
            conns.push(conn);
        }
    }

    /// Number of idle connections to `url`.
    pub fn idle(&self, url: &str) -> usize {
        self.lock().get(url).map_or(0, Vec::len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<FlightConn>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads shuffle partitions written by an earlier stage: output partition
/// `i` is the concatenation, in no particular order, of the files at
/// `partitions[i]`.
///
/// A location held by this executor (its executor id is ours) is read from
/// the local file, after checking that its path lies inside the work
/// directory. A location held by another executor on this host (one at a
/// loopback address, see [`same_host_file`]) is read from its file too when
/// it is there: going through the holder's `DoGet` would cost both
/// processes a copy and an encode per batch for bytes already on this disk
/// (2–7× slower, `make bench-shuffle`). Any other location, and one whose
/// file is gone, is fetched with Flight `DoGet` from the executor holding
/// it. Up to `fetch_concurrency` locations are read at once into
/// one bounded channel, so memory does not grow with the number of
/// locations.
///
/// A location that cannot be read fails the stream with
/// [`BallistaError::FetchFailed`] naming the executor that holds it
/// (wrapped in a DataFusion error; [`BallistaError::find_in`] finds it), so
/// the scheduler can recompute that executor's map outputs.
///
/// Filters pushed into the reader (see [`narrow`](crate::narrow)) — above
/// all the dynamic filters of hash joins and TopK sorts in the same stage —
/// are applied to each batch as the consumer polls it, so a join's probe
/// input is filtered with the build side's keys once they are known.
#[derive(Debug, Clone)]
pub struct ShuffleReaderExec {
    schema: SchemaRef,
    partitions: Vec<Vec<pb::PartitionLocation>>,
    stage_id: u32,
    executor_id: String,
    work_dir: PathBuf,
    connections: Arc<ConnectionCache>,
    fetch_concurrency: usize,
    /// Whether another executor's file on this host is read directly.
    same_host_reads: bool,
    /// Rows failing any of these are dropped (a conjunction).
    filters: Vec<Arc<dyn PhysicalExpr>>,
    properties: Arc<PlanProperties>,
}

impl ShuffleReaderExec {
    /// A reader of stage `stage_id`'s output with schema `schema`, running
    /// on executor `executor_id` whose files are under `work_dir`.
    ///
    /// Fails with `InvalidArgument` when a location has no executor.
    pub fn try_new(
        schema: SchemaRef,
        partitions: Vec<Vec<pb::PartitionLocation>>,
        stage_id: u32,
        executor_id: impl Into<String>,
        work_dir: PathBuf,
        connections: Arc<ConnectionCache>,
    ) -> Result<Self> {
        for (i, locations) in partitions.iter().enumerate() {
            for (j, location) in locations.iter().enumerate() {
                if location.executor.is_none() {
                    return Err(BallistaError::missing(&format!(
                        "ShuffleReadExec.partitions[{i}].locations[{j}].executor"
                    )));
                }
            }
        }
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(partitions.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Self {
            schema,
            partitions,
            stage_id,
            executor_id: executor_id.into(),
            work_dir,
            connections,
            fetch_concurrency: DEFAULT_FETCH_CONCURRENCY,
            same_host_reads: true,
            filters: Vec::new(),
            properties,
        })
    }

    /// The same reader, reading only output partition `partition` as its
    /// one partition. `None` if there is no such partition.
    pub fn narrowed(&self, partition: usize) -> Option<Self> {
        let locations = self.partitions.get(partition)?.clone();
        let mut narrowed = self.clone();
        narrowed.partitions = vec![locations];
        narrowed.properties = Arc::new(
            self.properties
                .as_ref()
                .clone()
                .with_partitioning(Partitioning::UnknownPartitioning(1)),
        );
        Some(narrowed)
    }

    /// Filters applied to every batch read (all must hold).
    pub fn filters(&self) -> &[Arc<dyn PhysicalExpr>] {
        &self.filters
    }

    /// With `false`, locations held by other executors are always fetched
    /// with `DoGet`, even when their files are on this host (on by default;
    /// `make bench-shuffle` turns it off to measure Flight itself).
    pub fn with_same_host_reads(mut self, on: bool) -> Self {
        self.same_host_reads = on;
        self
    }

    /// Reads up to `n` (at least 1) locations at the same time.
    pub fn with_fetch_concurrency(mut self, n: usize) -> Self {
        self.fetch_concurrency = n.max(1);
        self
    }

    /// The locations of each output partition.
    pub fn partitions(&self) -> &[Vec<pb::PartitionLocation>] {
        &self.partitions
    }

    /// The stage whose output this reads.
    pub fn stage_id(&self) -> u32 {
        self.stage_id
    }

    /// The executor this reader runs on (its files are read locally).
    pub fn executor_id(&self) -> &str {
        &self.executor_id
    }

    /// The local work directory.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// Locations read at the same time.
    pub fn fetch_concurrency(&self) -> usize {
        self.fetch_concurrency
    }
}

/// What one location read needs, cloned into the reading task.
#[derive(Clone)]
struct Fetcher {
    schema: SchemaRef,
    executor_id: String,
    work_dir: PathBuf,
    connections: Arc<ConnectionCache>,
    same_host_reads: bool,
}

impl Fetcher {
    /// Streams the batches of `location` into `tx`. Returns `Ok(false)` if
    /// the consumer went away.
    async fn read(
        &self,
        location: pb::PartitionLocation,
        tx: &Sender<Result<RecordBatch, DataFusionError>>,
    ) -> Result<bool> {
        let holder = location.executor.clone().unwrap_or_default();
        let what = describe(&location);
        let fetch_failed = |message: String| BallistaError::FetchFailed {
            executor_id: holder.id.clone(),
            message,
        };
        let local = if holder.id == self.executor_id {
            // Our own file: a missing or unreadable one is lost map output,
            // reported like any fetch failure so the scheduler recomputes it.
            let path =
                resolve_in_work_dir(&self.work_dir, &location.path, &what).map_err(
                    |e| match e {
                        e @ BallistaError::InvalidArgument(_) => e,
                        e => fetch_failed(e.to_string()),
                    },
                )?;
            let opened = open_ipc_file(path).await;
            Some(opened.map_err(|e| fetch_failed(format!("{what}: {e}")))?)
        } else if self.same_host_reads
            && let Some(path) = same_host_file(&location)
        {
            // Another executor's file on this host. Opened, it stays
            // readable even if its job is removed meanwhile; one that cannot
            // be opened is asked of its holder, which reports it missing if
            // it is.
            open_ipc_file(path).await.ok()
        } else {
            None
        };
        if let Some((_, batches)) = local {
            let batches = batches.map_err(|e| fetch_failed(format!("{what}: {e}")));
            return self.forward(batches, &what, tx).await;
        }
        let url = endpoint_url(&holder);
        let ticket = partition_ticket(&location);
        let fail = |e: BallistaError| fetch_failed(format!("{what} from {url}: {e}"));
        let mut conn = self.connections.take(&url).await.map_err(fail)?;
        let stream = conn.fetch(&ticket).await.map_err(fail)?;
        let batches = stream.map_err(|e| fail(from_flight_error(e, &url)));
        let finished = self.forward(batches, &what, tx).await?;
        if finished {
            self.connections.put_back(conn);
        }
        Ok(finished)
    }

    async fn forward(
        &self,
        batches: impl Stream<Item = Result<RecordBatch>>,
        what: &str,
        tx: &Sender<Result<RecordBatch, DataFusionError>>,
    ) -> Result<bool> {
        futures::pin_mut!(batches);
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            let batch = if batch.schema() == self.schema {
                batch
            } else {
                // Same columns with other metadata are fine; other types are
                // a broken plan.
                RecordBatch::try_new(Arc::clone(&self.schema), batch.columns().to_vec()).map_err(
                    |e| {
                        BallistaError::Execution(format!(
                            "{what} does not have the schema the plan expects: {e}"
                        ))
                    },
                )?
            };
            if tx.send(Ok(batch)).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Keeps the rows of `batch` for which every filter holds. Evaluated when
/// the batch is polled, so a dynamic filter has its latest value.
fn apply_filters(
    filters: &[Arc<dyn PhysicalExpr>],
    mut batch: RecordBatch,
) -> datafusion::common::Result<RecordBatch> {
    for filter in filters {
        if batch.num_rows() == 0 {
            break;
        }
        batch = match filter.evaluate(&batch)? {
            // An unfilled dynamic filter is `true`: nothing to do.
            ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))) => batch,
            value => {
                let mask = value.into_array(batch.num_rows())?;
                filter_record_batch(&batch, as_boolean_array(&mask)?)?
            }
        };
    }
    Ok(batch)
}

/// Names a location in messages.
fn describe(l: &pb::PartitionLocation) -> String {
    format!(
        "shuffle partition (job {}, stage {}, map {}, partition {})",
        l.job_id, l.stage_id, l.map_partition, l.output_partition
    )
}

impl DisplayAs for ShuffleReaderExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let locations: usize = self.partitions.iter().map(Vec::len).sum();
        match t {
            DisplayFormatType::Default | DisplayFormatType::Verbose => {
                write!(
                    f,
                    "ShuffleReaderExec: stage={}, partitions={}, locations={locations}",
                    self.stage_id,
                    self.partitions.len()
                )?;
                if !self.filters.is_empty() {
                    let filters: Vec<String> = self.filters.iter().map(|e| e.to_string()).collect();
                    write!(f, ", filters=[{}]", filters.join(", "))?;
                }
                Ok(())
            }
            DisplayFormatType::TreeRender => {
                writeln!(f, "stage={}", self.stage_id)?;
                write!(f, "partitions={}", self.partitions.len())
            }
        }
    }
}

impl ExecutionPlan for ShuffleReaderExec {
    fn name(&self) -> &str {
        "ShuffleReaderExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::common::Result<TreeNodeRecursion>,
    ) -> datafusion::common::Result<TreeNodeRecursion> {
        for filter in &self.filters {
            if f(filter)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    /// Takes every filter a parent pushes down: the reader evaluates them
    /// exactly, so the parent may rely on them.
    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> datafusion::common::Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let pushed: Vec<Arc<dyn PhysicalExpr>> = child_pushdown_result
            .parent_filters
            .into_iter()
            .map(|f| f.filter)
            .collect();
        if pushed.is_empty() {
            return Ok(FilterPushdownPropagation::with_parent_pushdown_result(
                vec![],
            ));
        }
        let accepted = vec![PushedDown::Yes; pushed.len()];
        let mut with_filters = self.clone();
        with_filters.filters.extend(pushed);
        Ok(
            FilterPushdownPropagation::with_parent_pushdown_result(accepted)
                .with_updated_node(Arc::new(with_filters) as Arc<dyn ExecutionPlan>),
        )
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            Err(DataFusionError::Internal(format!(
                "ShuffleReaderExec is a leaf and takes no children, got {}",
                children.len()
            )))
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        let locations = self.partitions.get(partition).cloned().ok_or_else(|| {
            DataFusionError::from(BallistaError::InvalidArgument(format!(
                "ShuffleReaderExec of stage {}: partition {partition} does not exist, there \
                 are {}",
                self.stage_id,
                self.partitions.len()
            )))
        })?;
        let fetcher = Fetcher {
            schema: Arc::clone(&self.schema),
            executor_id: self.executor_id.clone(),
            work_dir: self.work_dir.clone(),
            connections: Arc::clone(&self.connections),
            same_host_reads: self.same_host_reads,
        };
        let concurrency = self.fetch_concurrency;
        let mut builder =
            RecordBatchReceiverStreamBuilder::new(Arc::clone(&self.schema), concurrency * 2);
        let tx = builder.tx();
        // One driver task reads the locations, `concurrency` at a time; it
        // is aborted when the stream is dropped.
        builder.spawn(async move {
            futures::stream::iter(locations.into_iter().map(Ok))
                .try_for_each_concurrent(concurrency, |location| {
                    let (fetcher, tx) = (fetcher.clone(), tx.clone());
                    async move {
                        fetcher.read(location, &tx).await?;
                        Ok::<_, BallistaError>(())
                    }
                })
                .await
                .map_err(DataFusionError::from)
        });
        let stream = builder.build();
        if self.filters.is_empty() {
            return Ok(stream);
        }
        let filters = self.filters.clone();
        let filtered = stream.try_filter_map(move |batch| {
            let filtered = apply_filters(&filters, batch);
            async move { filtered.map(|b| (b.num_rows() > 0).then_some(b)) }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            filtered,
        )))
    }
}

//! [`BallistaContext`]: a connection to a Ballista cluster that runs
//! queries and fetches their results.
//!
//! A query travels as an `ExecuteQuery` command of `PollFlightInfo`: the
//! scheduler plans it and answers at once with progress; the client polls
//! until the job ends, then fetches the result partitions from the
//! executors that hold them (`DoGet`, several at a time).

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo};
use ballista_core::{BallistaError, Result};
use ballista_flight::FlightConn;
use ballista_flight::actions;
use ballista_proto::v1 as pb;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{StreamExt, TryStreamExt};
use prost::Message;

use crate::dataframe::{DataFrame, ReadOptions, TableRef};

/// How many result partitions are fetched at once.
const PARALLEL_FETCHES: usize = 4;

/// A connection to a Ballista cluster. Cloning is cheap; clones share the
/// connection (and, for [`BallistaContext::standalone`], the cluster).
#[derive(Clone)]
pub struct BallistaContext {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    scheduler: FlightConn,
    /// Sent with every query: the scheduler keeps this session's views.
    session_id: String,
    settings: Mutex<Vec<pb::KeyValue>>,
    /// Keeps an embedded cluster alive as long as a context uses it.
    #[cfg(feature = "standalone")]
    _cluster: Option<Arc<crate::standalone::EmbeddedCluster>>,
}

impl std::fmt::Debug for BallistaContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BallistaContext")
            .field("scheduler", &self.inner.url)
            .finish_non_exhaustive()
    }
}

/// What a query's result looks like before its rows are fetched.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// The job that ran (empty for catalog changes).
    pub job_id: String,
    /// Result schema.
    pub schema: SchemaRef,
    /// One endpoint per result partition.
    pub endpoints: Vec<FlightEndpoint>,
    /// Rows, as counted by the executors.
    pub total_rows: i64,
}

impl BallistaContext {
    /// Connects to the scheduler at `url` (`grpc://host:port`).
    pub async fn remote(url: &str) -> Result<Self> {
        let scheduler = FlightConn::connect(url).await?;
        Ok(Self::with_connection(url, scheduler, None))
    }

    /// Starts an embedded cluster (a scheduler and two executors in this
    /// process, talking Flight over loopback) and connects to it.
    #[cfg(feature = "standalone")]
    pub async fn standalone() -> Result<Self> {
        let cluster = crate::standalone::EmbeddedCluster::start(
            crate::standalone::StandaloneConfig::default(),
        )
        .await?;
        Self::for_cluster(Arc::new(cluster)).await
    }

    /// Connects to an embedded cluster started by the caller.
    #[cfg(feature = "standalone")]
    pub async fn for_cluster(cluster: Arc<crate::standalone::EmbeddedCluster>) -> Result<Self> {
        let url = cluster.scheduler_url();
        let scheduler = FlightConn::connect(&url).await?;
        Ok(Self::with_connection(&url, scheduler, Some(cluster)))
    }

    #[cfg(feature = "standalone")]
    fn with_connection(
        url: &str,
        scheduler: FlightConn,
        cluster: Option<Arc<crate::standalone::EmbeddedCluster>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                url: url.to_string(),
                scheduler,
                session_id: uuid::Uuid::new_v4().to_string(),
                settings: Mutex::new(vec![]),
                _cluster: cluster,
            }),
        }
    }

    #[cfg(not(feature = "standalone"))]
    fn with_connection(url: &str, scheduler: FlightConn, _cluster: Option<()>) -> Self {
        Self {
            inner: Arc::new(Inner {
                url: url.to_string(),
                scheduler,
                session_id: uuid::Uuid::new_v4().to_string(),
                settings: Mutex::new(vec![]),
            }),
        }
    }

    /// The scheduler's URL.
    pub fn scheduler_url(&self) -> &str {
        &self.inner.url
    }

    /// Sets a session setting sent with every later query, e.g.
    /// `datafusion.execution.target_partitions` = `8`.
    pub fn set(&self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        let mut settings = self
            .inner
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        settings.retain(|kv| kv.key != key);
        settings.push(pb::KeyValue { key, value });
    }

    fn settings(&self) -> Vec<pb::KeyValue> {
        self.inner
            .settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The id of this context's session: views it creates are visible to
    /// its queries only (clones share the session).
    pub fn session_id(&self) -> &str {
        &self.inner.session_id
    }

    /// An `ExecuteQuery` of this session with its current settings.
    pub fn query(&self, query: pb::execute_query::Query) -> pb::ExecuteQuery {
        pb::ExecuteQuery {
            query: Some(query),
            settings: self.settings(),
            job_name: String::new(),
            udfs: Vec::new(),
            session_id: self.inner.session_id.clone(),
        }
    }

    fn bind(&self, mut df: DataFrame) -> DataFrame {
        df.ctx = Some(self.clone());
        df
    }

    /// A query over the cluster's catalog. Statements that change the
    /// catalog (`CREATE EXTERNAL TABLE`, `CREATE VIEW`, `DROP ...`) run at
    /// once, as in DataFusion; queries run when collected.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        let first = sql
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if matches!(first.as_str(), "CREATE" | "DROP") {
            self.run_query(
                self.query(pb::execute_query::Query::Sql(sql.to_string())),
                None,
            )
            .await?;
            return Ok(self.bind(DataFrame::empty(false)));
        }
        Ok(self.bind(DataFrame::sql(sql)))
    }

    /// A table of the cluster's catalog.
    pub fn table(&self, table: impl Into<TableRef>) -> DataFrame {
        self.bind(DataFrame::read_table(table))
    }

    /// Parquet files or directories (paths as the executors see them).
    pub fn read_parquet(&self, paths: impl IntoIterator<Item = impl Into<String>>) -> DataFrame {
        self.bind(DataFrame::read_parquet(paths, ReadOptions::new()))
    }

    /// CSV files or directories.
    pub fn read_csv(
        &self,
        paths: impl IntoIterator<Item = impl Into<String>>,
        options: ReadOptions,
    ) -> DataFrame {
        self.bind(DataFrame::read_csv(paths, options))
    }

    /// Any spec plan, bound to this context.
    pub fn dataframe(&self, df: DataFrame) -> DataFrame {
        self.bind(df)
    }

    /// Registers Parquet files or a directory as table `name` in the
    /// cluster's shared catalog (replacing a table of that name).
    pub async fn register_parquet(&self, name: &str, path: &str) -> Result<()> {
        self.register_files(name, pb::FileFormat::Parquet, path, ReadOptions::new())
            .await
    }

    /// Registers CSV files or a directory as table `name` (`options` as for
    /// reads, e.g. `has_header`, `delimiter`).
    pub async fn register_csv(&self, name: &str, path: &str, options: ReadOptions) -> Result<()> {
        self.register_files(name, pb::FileFormat::Csv, path, options)
            .await
    }

    /// Registers files of any supported format as table `name`.
    pub async fn register_files(
        &self,
        name: &str,
        format: pb::FileFormat,
        path: &str,
        options: ReadOptions,
    ) -> Result<()> {
        let source = match DataFrame::read_files(format, [path], options)
            .into_plan()
            .rel_type
        {
            Some(pb::relation::RelType::ReadFiles(f)) => f,
            _ => {
                return Err(BallistaError::Internal(
                    "read_files built no ReadFiles".into(),
                ));
            }
        };
        let req = pb::RegisterTable {
            table: Some(TableRef::from(name).into_proto()),
            source: Some(source),
            replace: true,
        };
        let _: () = self
            .inner
            .scheduler
            .clone()
            .action(actions::REGISTER_TABLE, &req)
            .await?;
        Ok(())
    }

    /// Removes table `name` from the catalog.
    pub async fn deregister_table(&self, name: &str) -> Result<()> {
        let req = pb::DropTable {
            table: Some(TableRef::from(name).into_proto()),
            if_exists: false,
        };
        self.inner
            .scheduler
            .clone()
            .action::<()>(actions::DROP_TABLE, &req)
            .await
    }

    /// Runs `df` and returns all its rows.
    pub async fn collect(&self, df: &DataFrame) -> Result<Vec<RecordBatch>> {
        let result = self.execute(df, None).await?;
        self.fetch_all(&result).await
    }

    /// Runs `df`, calling `progress` as tasks finish, and returns where its
    /// result partitions are.
    pub async fn execute(
        &self,
        df: &DataFrame,
        progress: Option<&(dyn Fn(&pb::JobProgress) + Send + Sync)>,
    ) -> Result<QueryResult> {
        let query = self.query(pb::execute_query::Query::Plan(df.plan().clone()));
        self.run_query(query, progress).await
    }

    /// Runs SQL text as it is (including DDL), with progress.
    pub async fn execute_sql(
        &self,
        sql: &str,
        progress: Option<&(dyn Fn(&pb::JobProgress) + Send + Sync)>,
    ) -> Result<QueryResult> {
        let query = self.query(pb::execute_query::Query::Sql(sql.to_string()));
        self.run_query(query, progress).await
    }

    /// Submits `query` and polls until its job ends.
    pub async fn run_query(
        &self,
        query: pb::ExecuteQuery,
        progress: Option<&(dyn Fn(&pb::JobProgress) + Send + Sync)>,
    ) -> Result<QueryResult> {
        let mut conn = self.inner.scheduler.clone();
        let mut descriptor = FlightDescriptor::new_cmd(query.encode_to_vec());
        loop {
            let poll = conn.poll(descriptor).await?;
            let info = poll.info.clone().unwrap_or_default();
            let status = (!info.app_metadata.is_empty())
                .then(|| pb::JobStatus::decode(info.app_metadata.as_ref()).ok())
                .flatten();
            if let (Some(cb), Some(p)) =
                (progress, status.as_ref().and_then(|s| s.progress.as_ref()))
            {
                cb(p);
            }
            match poll.flight_descriptor {
                Some(next) => descriptor = next,
                None => {
                    return result_of(info, status);
                }
            }
        }
    }

    /// All rows of a finished query, fetching partitions in parallel and
    /// keeping their order; then releases the results (see
    /// [`BallistaContext::release`]), whether or not the fetch succeeded:
    /// a result can be fetched once.
    pub async fn fetch_all(&self, result: &QueryResult) -> Result<Vec<RecordBatch>> {
        let rows = self.batches(result).try_collect().await;
        self.release_quietly(&result.job_id).await;
        rows
    }

    /// The rows of a finished query as a stream: up to four partitions are
    /// fetched ahead, and batches come in partition order. The results are
    /// released when the stream is dropped, read to the end or not.
    pub fn fetch_stream(&self, result: &QueryResult) -> SendableRecordBatchStream {
        let release = ReleaseOnDrop {
            ctx: self.clone(),
            job_id: result.job_id.clone(),
        };
        let stream = self.batches(result).map(move |batch| {
            // The stream owns the guard, so dropping it drops the guard.
            let _owned = &release;
            batch.map_err(datafusion::error::DataFusionError::from)
        });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&result.schema),
            stream,
        ))
    }

    /// Asks the scheduler to delete a finished job's result files on the
    /// executors (the `release_job` action): they have been fetched, and
    /// would otherwise stay on disk until the job's TTL. The job stays
    /// listed (its status, tasks and bytes shuffled) until then; fetching
    /// its results again answers NOT_FOUND. Releasing twice is fine; a job
    /// that is still running can't be released (cancel it instead).
    pub async fn release(&self, job_id: &str) -> Result<()> {
        self.inner
            .scheduler
            .clone()
            .action::<()>(
                actions::RELEASE_JOB,
                &pb::ReleaseJob {
                    job_id: job_id.to_string(),
                },
            )
            .await
    }

    /// [`BallistaContext::release`], best effort: a failure only leaves the
    /// files until the job's TTL, so it is logged rather than returned.
    async fn release_quietly(&self, job_id: &str) {
        if job_id.is_empty() {
            return; // a catalog change: no job, no results
        }
        if let Err(e) = self.release(job_id).await {
            tracing::debug!(job_id, error = %e, "could not release job results");
        }
    }

    fn batches(
        &self,
        result: &QueryResult,
    ) -> impl futures::Stream<Item = Result<RecordBatch>> + Send + 'static {
        let ctx = self.clone();
        futures::stream::iter(result.endpoints.clone())
            .map(move |endpoint| {
                let ctx = ctx.clone();
                async move { ctx.open(endpoint).await }
            })
            .buffered(PARALLEL_FETCHES)
            .try_flatten()
    }

    async fn open(
        &self,
        endpoint: FlightEndpoint,
    ) -> Result<futures::stream::BoxStream<'static, Result<RecordBatch>>> {
        let ticket = endpoint
            .ticket
            .clone()
            .ok_or_else(|| BallistaError::Internal("result endpoint without a ticket".into()))?;
        let url = endpoint.location.first().map(|l| l.uri.clone());
        // Each partition gets a connection of its own: up to four are
        // fetched ahead but read one after another, and HTTP/2 streams that
        // share a connection share its flow-control window, so partitions
        // waiting to be read would stall the one being read. Without a
        // location, the scheduler relays the partition.
        let url = url.unwrap_or_else(|| self.inner.url.clone());
        let mut conn = FlightConn::connect(&url).await?;
        let peer = conn.url().to_string();
        let stream = conn.fetch_ticket(ticket).await?;
        Ok(stream
            .map_err(move |e| ballista_flight::status::from_flight_error(e, &peer))
            .boxed())
    }

    /// Plans and stage DAG of `df`, without running it.
    pub async fn explain(&self, df: &DataFrame) -> Result<pb::ExplainResult> {
        let query = self.query(pb::execute_query::Query::Plan(df.plan().clone()));
        self.explain_query(query).await
    }

    /// Plans and stage DAG of a query.
    pub async fn explain_query(&self, query: pb::ExecuteQuery) -> Result<pb::ExplainResult> {
        self.inner
            .scheduler
            .clone()
            .action(actions::EXPLAIN, &pb::ExplainQuery { query: Some(query) })
            .await
    }

    /// Jobs on the cluster, newest first.
    pub async fn list_jobs(&self) -> Result<Vec<pb::JobStatus>> {
        let reply: pb::ListJobsResult = self
            .inner
            .scheduler
            .clone()
            .action(actions::LIST_JOBS, &pb::ListJobs { states: vec![] })
            .await?;
        Ok(reply.jobs)
    }

    /// A job's status, with its tasks.
    pub async fn job_status(&self, job_id: &str) -> Result<pb::JobStatus> {
        self.inner
            .scheduler
            .clone()
            .action(
                actions::JOB_STATUS,
                &pb::GetJobStatus {
                    job_id: job_id.to_string(),
                },
            )
            .await
    }

    /// Cancels a job.
    pub async fn cancel(&self, job_id: &str) -> Result<pb::JobStatus> {
        self.inner
            .scheduler
            .clone()
            .action(
                actions::CANCEL_JOB,
                &pb::CancelJob {
                    job_id: job_id.to_string(),
                },
            )
            .await
    }
}

/// Releases a streamed result's files when the stream is dropped.
struct ReleaseOnDrop {
    ctx: BallistaContext,
    job_id: String,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        // Drop can't wait: the release runs on the current runtime, if the
        // stream is dropped inside one (otherwise the TTL cleans up).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let ctx = self.ctx.clone();
            let job_id = std::mem::take(&mut self.job_id);
            runtime.spawn(async move { ctx.release_quietly(&job_id).await });
        }
    }
}

fn result_of(info: FlightInfo, status: Option<pb::JobStatus>) -> Result<QueryResult> {
    let schema = if info.schema.is_empty() {
        Arc::new(arrow::datatypes::Schema::empty())
    } else {
        Arc::new(info.clone().try_decode_schema()?)
    };
    Ok(QueryResult {
        job_id: status.map(|s| s.job_id).unwrap_or_default(),
        schema,
        total_rows: info.total_records.max(0),
        endpoints: info.endpoint,
    })
}

impl DataFrame {
    fn context(&self) -> Result<&BallistaContext> {
        self.ctx.as_ref().ok_or_else(|| {
            BallistaError::InvalidArgument(
                "this DataFrame was built without a context: run it with ctx.collect(&df), or \
                 start from ctx.table(..), ctx.read_parquet(..) or ctx.sql(..)"
                    .to_string(),
            )
        })
    }

    /// Runs the plan on the context that made it and returns all rows.
    pub async fn collect(&self) -> Result<Vec<RecordBatch>> {
        self.context()?.collect(self).await
    }

    /// Runs the plan and streams its rows as partitions are fetched.
    pub async fn stream(&self) -> Result<SendableRecordBatchStream> {
        let ctx = self.context()?;
        let result = ctx.execute(self, None).await?;
        Ok(ctx.fetch_stream(&result))
    }

    /// Logical, physical and distributed plans, as text.
    pub async fn explain(&self) -> Result<String> {
        let e = self.context()?.explain(self).await?;
        let mut text = format!(
            "== Logical plan ==\n{}\n\n== Physical plan ==\n{}\n\n== Stages ==\n",
            e.logical_plan, e.physical_plan
        );
        for stage in &e.stages {
            let inputs: Vec<String> = stage.input_stages.iter().map(u32::to_string).collect();
            text.push_str(&format!(
                "Stage {} ({} tasks{}):\n",
                stage.stage_id,
                stage.partitions,
                if inputs.is_empty() {
                    String::new()
                } else {
                    format!(", reads stages {}", inputs.join(", "))
                }
            ));
            for line in stage.plan_text.lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
        Ok(text)
    }
}

//! The scheduler: accepts jobs, keeps the executor registry, pushes tasks
//! into free executor slots over Flight and reacts to their statuses.
//!
//! [`SchedulerState`] decides; this module does the talking. Two background
//! loops run per scheduler: the *dispatcher* (woken on every change, and
//! every 200 ms) launches what can run, and the *reaper* (every 500 ms)
//! expires silent executors, fails jobs that starve with no executor at all
//! and drops finished jobs after their time to live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arrow_flight::{FlightEndpoint, FlightInfo, Ticket};
use ballista_core::{BallistaError, Result};
use ballista_flight::FlightConn;
use ballista_flight::actions;
use ballista_flight::client::{endpoint_url, partition_ticket};
use ballista_flight::status::from_flight_error;
use ballista_proto::v1 as pb;
use futures::TryStreamExt;
use prost::Message;
use tokio::sync::Notify;

use crate::planner::{StageOptions, dag_text, explain_stages};
use crate::runtime_filter::{self, RuntimeFilter};
use crate::session::{Catalog, Planned};
use crate::state::{Effect, Job, SchedulerState};
use crate::table_files::check_table_files;

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Address to bind (loopback by default).
    pub bind_host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Heartbeat interval asked of executors.
    pub heartbeat_interval: Duration,
    /// An executor silent for this long is considered lost.
    pub executor_timeout: Duration,
    /// Jobs fail after waiting this long with no executor registered.
    pub no_executor_timeout: Duration,
    /// Finished jobs (and their result partitions) are dropped after this.
    pub job_ttl: Duration,
    /// Partitions per query when the query's settings do not say; `None`
    /// uses the total task slots of the registered executors.
    pub default_partitions: Option<usize>,
    /// Compression of shuffle files. None by default: on one host, where
    /// readers open the files directly, uncompressed files are written
    /// twice and read three times as fast as LZ4 ones (`make
    /// bench-shuffle`); LZ4 pays off only where the network is slower than
    /// about 1 GB/s.
    pub shuffle_compression: pb::ShuffleCompression,
    /// Fill joins' dynamic filters in between stages, so that scans of
    /// earlier stages skip probe rows that cannot match
    /// ([`crate::runtime_filter`]). On by default.
    pub runtime_filters: bool,
    /// Turn a partitioned join whose build side turns out small into a
    /// broadcast join once that side has run ([`crate::adaptive`]). On by
    /// default.
    pub adaptive_joins: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            bind_host: "127.0.0.1".to_string(),
            port: 50050,
            heartbeat_interval: Duration::from_millis(1000),
            executor_timeout: Duration::from_secs(5),
            no_executor_timeout: Duration::from_secs(30),
            job_ttl: Duration::from_secs(30 * 60),
            default_partitions: None,
            shuffle_compression: pb::ShuffleCompression::None,
            runtime_filters: true,
            adaptive_joins: true,
        }
    }
}

/// What `submit` did with a statement.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// A job was created.
    Job(String),
    /// The statement changed the catalog; there is nothing to run.
    CatalogChanged,
}

/// The scheduler. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: SchedulerConfig,
    catalog: Catalog,
    state: Mutex<SchedulerState>,
    wake: Notify,
    conns: tokio::sync::Mutex<HashMap<String, FlightConn>>,
    no_executor_since: Mutex<Option<Instant>>,
}

impl Scheduler {
    /// A scheduler with an empty catalog; call [`Scheduler::start_loops`]
    /// to begin dispatching.
    pub fn new(config: SchedulerConfig) -> Self {
        let catalog = Catalog::new().with_stage_options(StageOptions {
            runtime_filters: config.runtime_filters,
            adaptive_joins: config.adaptive_joins,
            ..StageOptions::default()
        });
        Self {
            inner: Arc::new(Inner {
                config,
                catalog,
                state: Mutex::new(SchedulerState::default()),
                wake: Notify::new(),
                conns: tokio::sync::Mutex::new(HashMap::new()),
                no_executor_since: Mutex::new(Some(Instant::now())),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SchedulerConfig {
        &self.inner.config
    }

    /// The shared catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    fn state(&self) -> MutexGuard<'_, SchedulerState> {
        // A panic while holding the lock would be a bug; the state is
        // still consistent enough to keep serving, so recover the guard.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Spawns the dispatcher and reaper loops; they stop when the last
    /// clone of the scheduler is dropped.
    pub fn start_loops(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let scheduler = Scheduler { inner };
                let notified = scheduler.inner.wake.notified();
                scheduler.dispatch();
                tokio::select! {
                    () = notified => {}
                    () = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        });
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let Some(inner) = weak.upgrade() else { return };
                Scheduler { inner }.reap();
            }
        });
    }

    fn default_partitions(&self) -> usize {
        if let Some(n) = self.inner.config.default_partitions {
            return n.max(1);
        }
        match self.state().total_slots() {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }

    /// Plans `query` and queues it as a job (or applies it, for DDL).
    pub async fn submit(&self, query: pb::ExecuteQuery) -> Result<Submitted> {
        let started = Instant::now();
        let planned = self
            .inner
            .catalog
            .plan(&query, self.default_partitions())
            .await?;
        let mut q = match planned {
            Planned::CatalogChanged => return Ok(Submitted::CatalogChanged),
            Planned::Query(q) => q,
        };
        for stage in &mut q.stages.stages {
            stage.compression = self.inner.config.shuffle_compression;
        }
        // A table whose file was deleted would otherwise read as empty.
        check_table_files(&q.logical, &self.inner.catalog.runtime_env()).await?;
        // Planning encoded every stage once (`planner::plan_stages`), so a
        // plan outside the spec has already failed with a clear error.
        let job_id = new_job_id();
        let dag = dag_text(&q.stages);
        let name = if query.job_name.is_empty() {
            match &query.query {
                Some(pb::execute_query::Query::Sql(sql)) => one_line(sql, 80),
                _ => "logical plan".to_string(),
            }
        } else {
            query.job_name.clone()
        };
        tracing::info!(
            "job {job_id} submitted ({} stages, planned in {:.1} ms): {name}",
            q.stages.stages.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
        tracing::debug!("job {job_id} stages:\n{dag}");
        let job = Job::new(
            job_id.clone(),
            name,
            q.schema,
            query.settings,
            q.stages.stages,
            dag,
        )
        .with_filters(q.stages.filters)
        .with_broadcasts(q.stages.broadcasts);
        self.state().add_job(job);
        self.inner.wake.notify_one();
        Ok(Submitted::Job(job_id))
    }

    /// Waits until job `job_id` ends or `timeout` passes, then returns its
    /// status.
    pub async fn wait(&self, job_id: &str, timeout: Option<Duration>) -> Result<pb::JobStatus> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let mut changes = {
                let state = self.state();
                let job = state.job(job_id).ok_or_else(|| unknown_job(job_id))?;
                if job.is_terminal() {
                    return Ok(job.status(false));
                }
                job.subscribe()
            };
            let changed = changes.changed();
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d, changed).await.is_err() {
                        return self.job_status(job_id, false);
                    }
                }
                None => {
                    let _ = changed.await;
                }
            }
        }
    }

    /// The status of job `job_id`.
    pub fn job_status(&self, job_id: &str, tasks: bool) -> Result<pb::JobStatus> {
        let state = self.state();
        let job = state.job(job_id).ok_or_else(|| unknown_job(job_id))?;
        Ok(job.status(tasks))
    }

    /// Number of registered executors.
    pub fn registered_executors(&self) -> usize {
        self.state().executors().count()
    }

    /// Jobs, newest first.
    pub fn list_jobs(&self, states: &[pb::JobState]) -> Vec<pb::JobStatus> {
        self.state().list_jobs(states)
    }

    /// Cancels a job and deletes its data.
    pub fn cancel(&self, job_id: &str) -> Result<pb::JobStatus> {
        let effects = self.state().cancel_job(job_id)?;
        self.apply(effects);
        self.job_status(job_id, false)
    }

    /// Deletes a finished job's results on the executors (the client has
    /// fetched them); the job stays listed until its TTL.
    pub fn release(&self, job_id: &str) -> Result<()> {
        let effects = self.state().release_job(job_id)?;
        self.apply(effects);
        Ok(())
    }

    /// The result endpoints of a succeeded job, as Flight expects them;
    /// the error of a failed or cancelled one.
    pub fn flight_info(&self, job_id: &str) -> Result<FlightInfo> {
        let state = self.state();
        let job = state.job(job_id).ok_or_else(|| unknown_job(job_id))?;
        let status = job.status(false);
        if job.released {
            return Err(BallistaError::NotFound(format!(
                "the results of job {job_id} were released by a client after it fetched them"
            )));
        }
        match job.state {
            pb::JobState::Succeeded => {}
            pb::JobState::Failed => {
                return Err(job_error(job_id, &job.error));
            }
            pb::JobState::Cancelled => {
                return Err(BallistaError::Cancelled(format!(
                    "job {job_id} was cancelled"
                )));
            }
            _ => {
                return Err(BallistaError::Internal(format!(
                    "job {job_id} has no results yet"
                )));
            }
        }
        let mut info = FlightInfo::new()
            .try_with_schema(&job.schema)?
            .with_ordered(true)
            .with_app_metadata(status.encode_to_vec());
        let mut rows: i64 = 0;
        let mut bytes: i64 = 0;
        for loc in job.result_locations() {
            if let Some(s) = &loc.stats {
                rows += i64::try_from(s.num_rows).unwrap_or(i64::MAX);
                bytes += i64::try_from(s.num_bytes).unwrap_or(i64::MAX);
            }
            let ticket = partition_ticket(&loc);
            let mut endpoint =
                FlightEndpoint::new().with_ticket(Ticket::new(ticket.encode_to_vec()));
            if let Some(executor) = &loc.executor {
                endpoint = endpoint.with_location(endpoint_url(executor));
            }
            info = info.with_endpoint(endpoint);
        }
        Ok(info.with_total_records(rows).with_total_bytes(bytes))
    }

    /// Logical, physical and distributed plans of a query, without running it.
    pub async fn explain(&self, query: &pb::ExecuteQuery) -> Result<pb::ExplainResult> {
        match self
            .inner
            .catalog
            .plan(query, self.default_partitions())
            .await?
        {
            Planned::CatalogChanged => Err(BallistaError::InvalidArgument(
                "explain: the statement changes the catalog (and has now been applied); \
                 there is no query plan to explain"
                    .to_string(),
            )),
            Planned::Query(q) => {
                let (mut stages, extension_nodes) = explain_stages(&q.stages, "explain")?;
                let state = self.state();
                let names: HashMap<String, String> = state
                    .executors()
                    .map(|e| {
                        let id = e.endpoint().id;
                        let implementation = e
                            .registration
                            .capabilities
                            .as_ref()
                            .map(|c| c.implementation.clone())
                            .unwrap_or_default();
                        let name = if implementation.is_empty() {
                            id.clone()
                        } else {
                            format!("{id} ({implementation})")
                        };
                        (id, name)
                    })
                    .collect();
                for stage in &mut stages {
                    let plan = stage.plan.clone().unwrap_or_default();
                    stage.capable_executors = state.capable_executors(&plan);
                    // Which executors may run the stage, under its plan.
                    let who: Vec<&str> = stage
                        .capable_executors
                        .iter()
                        .map(|id| names.get(id).map_or(id.as_str(), String::as_str))
                        .collect();
                    stage.plan_text.push_str(&format!(
                        "Runs on: {}\n",
                        if who.is_empty() {
                            "no registered executor can run this stage".to_string()
                        } else {
                            who.join(", ")
                        }
                    ));
                }
                drop(state);
                Ok(pb::ExplainResult {
                    logical_plan: q.logical.display_indent().to_string(),
                    physical_plan: datafusion::physical_plan::displayable(q.physical.as_ref())
                        .indent(false)
                        .to_string(),
                    stages,
                    extension_nodes,
                })
            }
        }
    }

    /// An executor joins.
    pub fn register_executor(
        &self,
        registration: pb::ExecutorRegistration,
    ) -> Result<pb::RegisterExecutorResult> {
        self.state().register_executor(registration)?;
        *self
            .inner
            .no_executor_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        self.inner.wake.notify_one();
        Ok(pb::RegisterExecutorResult {
            heartbeat_interval_ms: u64::try_from(self.inner.config.heartbeat_interval.as_millis())
                .unwrap_or(1000),
        })
    }

    /// A heartbeat with task statuses.
    pub fn heartbeat(&self, hb: &pb::Heartbeat) -> pb::HeartbeatResult {
        let (reregister, effects) = self.state().heartbeat(hb);
        if !hb.task_statuses.is_empty() {
            self.inner.wake.notify_one();
        }
        self.apply(effects);
        pb::HeartbeatResult { reregister }
    }

    fn dispatch(&self) {
        let (assignments, effects) = self.state().assign_tasks();
        self.apply(effects);
        for a in assignments {
            let scheduler = self.clone();
            tokio::spawn(async move { scheduler.launch(a.executor, a.task).await });
        }
    }

    async fn launch(&self, executor: pb::ExecutorEndpoint, task: pb::TaskDefinition) {
        let task_id = task.task_id.clone().unwrap_or_default();
        let result = match self.conn(&executor).await {
            Ok(mut conn) => conn.action::<()>(actions::LAUNCH_TASK, &task).await,
            Err(e) => Err(e),
        };
        let mut state = self.state();
        state.launch_done(&executor.id);
        match result {
            Ok(()) => {}
            Err(BallistaError::ResourcesExhausted(_)) => {
                state.launch_failed(&task_id, &executor.id, true);
            }
            Err(e @ BallistaError::Unavailable(_)) => {
                state.launch_failed(&task_id, &executor.id, false);
                let effects = state.executor_lost(&executor.id, &format!("launch failed: {e}"));
                drop(state);
                self.forget_conn(&executor.id);
                self.apply(effects);
            }
            Err(e) => {
                // The executor refused the task itself (it cannot decode or
                // run the plan): that will not change on a retry.
                let effects = state.fail_job(
                    &task_id.job_id,
                    format!(
                        "executor {} rejected stage {} partition {}: {e}",
                        executor.id, task_id.stage_id, task_id.partition
                    ),
                );
                drop(state);
                self.apply(effects);
            }
        }
        self.inner.wake.notify_one();
    }

    /// Reads a runtime filter's build side from `locations` (over the
    /// cached executor connections) and fills the filter in; the number of
    /// build rows, or `None` when the side is too large to be worth it.
    async fn fill_filter(
        &self,
        filter: &RuntimeFilter,
        locations: &[pb::PartitionLocation],
    ) -> Result<Option<u64>> {
        if !runtime_filter::small_enough(locations) {
            return Ok(None);
        }
        let mut keys = filter.gather()?;
        'read: for loc in locations {
            let executor = loc.executor.as_ref().ok_or_else(|| {
                BallistaError::Internal(format!(
                    "stage {} partition {} has no executor",
                    loc.stage_id, loc.map_partition
                ))
            })?;
            let mut conn = self.conn(executor).await?;
            let mut stream = conn.fetch(&partition_ticket(loc)).await?;
            while let Some(batch) = stream
                .try_next()
                .await
                .map_err(|e| from_flight_error(e, conn.url()))?
            {
                // Stops at the first batch that makes a filter impossible
                // (every key has too many values).
                if !keys.add(&batch)? {
                    break 'read;
                }
            }
        }
        let rows = keys.rows();
        Ok(filter.fill(keys)?.then_some(rows))
    }

    async fn conn(&self, executor: &pb::ExecutorEndpoint) -> Result<FlightConn> {
        let mut conns = self.inner.conns.lock().await;
        if let Some(c) = conns.get(&executor.id) {
            return Ok(c.clone());
        }
        let conn = FlightConn::connect(&endpoint_url(executor)).await?;
        conns.insert(executor.id.clone(), conn.clone());
        Ok(conn)
    }

    fn forget_conn(&self, executor_id: &str) {
        let scheduler = self.clone();
        let id = executor_id.to_string();
        tokio::spawn(async move {
            scheduler.inner.conns.lock().await.remove(&id);
        });
    }

    fn reap(&self) {
        let config = &self.inner.config;
        let effects = {
            let mut state = self.state();
            let mut effects = state.expire_executors(config.executor_timeout);
            let since = {
                let mut since = self
                    .inner
                    .no_executor_since
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match (state.executors().next().is_some(), *since) {
                    (true, _) => *since = None,
                    (false, None) => *since = Some(Instant::now()),
                    (false, Some(_)) => {}
                }
                *since
            };
            effects.extend(state.fail_starved_jobs(since, config.no_executor_timeout));
            effects.extend(state.expire_jobs(config.job_ttl));
            effects
        };
        // A client session's views go when it has been idle as long as a
        // finished job is kept.
        self.inner.catalog.expire_sessions(config.job_ttl);
        if !effects.is_empty() {
            self.inner.wake.notify_one();
        }
        self.apply(effects);
    }

    /// Carries out effects (in the background: none of them is awaited).
    fn apply(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::CleanUp {
                    job_id,
                    executors,
                    shuffle_only,
                } => {
                    let endpoints: Vec<pb::ExecutorEndpoint> = {
                        let state = self.state();
                        state
                            .executors()
                            .map(|e| e.endpoint())
                            .filter(|e| executors.contains(&e.id))
                            .collect()
                    };
                    for endpoint in endpoints {
                        let scheduler = self.clone();
                        let body = pb::RemoveJobData {
                            job_id: job_id.clone(),
                            shuffle_only,
                        };
                        tokio::spawn(async move {
                            let result = match scheduler.conn(&endpoint).await {
                                Ok(mut c) => c.action::<()>(actions::REMOVE_JOB_DATA, &body).await,
                                Err(e) => Err(e),
                            };
                            if let Err(e) = result {
                                tracing::warn!(
                                    "could not remove data of job {} on executor {}: {e}",
                                    body.job_id,
                                    endpoint.id
                                );
                            }
                        });
                    }
                }
                Effect::FillFilter {
                    job_id,
                    index,
                    filter,
                    locations,
                } => {
                    let scheduler = self.clone();
                    tokio::spawn(async move {
                        let started = Instant::now();
                        match scheduler.fill_filter(&filter, &locations).await {
                            Ok(Some(rows)) => tracing::info!(
                                "job {job_id}: runtime filter from stage {} ({rows} build rows) \
                                 filled in for stages {:?} in {} ms",
                                filter.build_stage,
                                filter.probe_stages,
                                started.elapsed().as_millis()
                            ),
                            Ok(None) => tracing::info!(
                                "job {job_id}: stage {} has too many rows or keys for a runtime filter; \
                                 stages {:?} run unfiltered",
                                filter.build_stage,
                                filter.probe_stages
                            ),
                            // Unfiltered is correct, only slower.
                            Err(e) => tracing::warn!(
                                "job {job_id}: runtime filter from stage {} not used: {e}",
                                filter.build_stage
                            ),
                        }
                        scheduler.state().filter_filled(&job_id, index);
                        scheduler.inner.wake.notify_one();
                    });
                }
            }
        }
    }
}

fn unknown_job(job_id: &str) -> BallistaError {
    BallistaError::NotFound(format!("job `{job_id}` does not exist (or has expired)"))
}

/// A failed job's error, keeping the kind of error the task reported when
/// its text says so (the client sees e.g. a resources-exhausted error).
fn job_error(job_id: &str, error: &str) -> BallistaError {
    let msg = format!("job {job_id} failed: {error}");
    if error.contains("Resources exhausted") {
        BallistaError::ResourcesExhausted(msg)
    } else if error.contains("Not found") || error.contains("not found") {
        BallistaError::NotFound(msg)
    } else {
        BallistaError::Execution(msg)
    }
}

fn new_job_id() -> String {
    // Short enough to read in logs, random enough not to collide.
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    }
}

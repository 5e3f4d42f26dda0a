//! Starting an executor and keeping it known to the scheduler.
//!
//! [`Executor::start`] creates the work directory and the shared DataFusion
//! runtime (memory pool, spill directory), binds the Flight service and
//! spawns one loop that registers with the scheduler (retrying with backoff
//! while it is unreachable) and then heartbeats: every interval, and at once
//! whenever a task finishes, carrying the statuses of finished tasks. A
//! status stays queued until a heartbeat carrying it is answered, so none is
//! lost while the scheduler is away.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ballista_core::error::required;
use ballista_core::{BallistaError, Result};
use ballista_flight::FlightConn;
use ballista_flight::actions::{HEARTBEAT, REGISTER_EXECUTOR};
use ballista_flight::server::ServerHandle;
use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionConfig;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::{AbortHandle, JoinHandle};
use tracing::{info, warn};

use crate::codec::ExecutorCodec;
use crate::config::{ExecutorConfig, LocalReads};
use crate::flight_service::ExecutorFlightService;
use crate::local_files::MappedLocalFiles;
use crate::shuffle::{ConnectionCache, RESULT_DIR, job_dir, validate_job_id};
use crate::task;

/// Name of the spill directory inside the work directory; job ids cannot
/// start with `.`, so it never collides with a job's directory.
const SPILL_DIR: &str = ".spill";

/// Longest wait for one call to the scheduler; past it the call counts as
/// failed (its statuses are kept and sent again).
const SCHEDULER_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// First and longest wait between registration attempts.
const REGISTER_BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Entry point: see [`Executor::start`].
#[derive(Debug)]
pub struct Executor;

impl Executor {
    /// Starts an executor: creates its work directory, binds its Flight
    /// server on `config.bind_host:config.port`, and starts registering
    /// with the scheduler at `config.scheduler_url` in the background
    /// (registration retries until it succeeds; see
    /// [`ExecutorHandle::wait_registered`]). Prints nothing: the caller
    /// reports [`ExecutorHandle::addr`].
    ///
    /// Fails when the work directory cannot be created, the port cannot be
    /// bound, or the configuration is invalid (no task slots).
    pub async fn start(config: ExecutorConfig) -> Result<ExecutorHandle> {
        if config.task_slots == 0 {
            return Err(BallistaError::InvalidArgument(
                "task_slots must be at least 1".into(),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let (work_dir, owns_work_dir) = create_work_dir(config.work_dir.as_deref(), &id)?;

        let listener = tokio::net::TcpListener::bind((config.bind_host.as_str(), config.port))
            .await
            .map_err(|e| {
                BallistaError::Unavailable(format!(
                    "cannot bind {}:{}: {e}",
                    config.bind_host, config.port
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| BallistaError::Internal(format!("bound socket has no address: {e}")))?;
        let endpoint = pb::ExecutorEndpoint {
            id: id.clone(),
            host: config.advertised_host().to_string(),
            port: u32::from(addr.port()),
        };

        let state = Arc::new(ExecutorState::new(&config, endpoint, work_dir.clone())?);
        let server = ballista_flight::server::serve_listener(
            ExecutorFlightService::new(Arc::clone(&state)),
            listener,
        )?;

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let (registered_tx, registered_rx) = watch::channel(false);
        let scheduler = tokio::spawn(scheduler_loop(
            Arc::clone(&state),
            config.scheduler_url.clone(),
            config.heartbeat_interval,
            shutdown_rx,
            registered_tx,
        ));
        info!(
            executor_id = %id,
            %addr,
            work_dir = %work_dir.display(),
            task_slots = config.task_slots,
            "executor started"
        );
        Ok(ExecutorHandle {
            state,
            addr,
            server: Some(server),
            scheduler: Some(scheduler),
            shutdown: shutdown_tx,
            registered: registered_rx,
            owns_work_dir,
        })
    }
}

/// A running executor. Call [`shutdown`](Self::shutdown) to stop it
/// cleanly; dropping the handle stops the scheduler loop but leaves the
/// Flight server and the work directory to the end of the process.
#[derive(Debug)]
pub struct ExecutorHandle {
    state: Arc<ExecutorState>,
    addr: SocketAddr,
    server: Option<ServerHandle>,
    scheduler: Option<JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
    registered: watch::Receiver<bool>,
    owns_work_dir: bool,
}

impl ExecutorHandle {
    /// The address the Flight server is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The executor's id (a UUID), as registered with the scheduler.
    pub fn id(&self) -> &str {
        &self.state.endpoint.id
    }

    /// How peers reach this executor (as sent to the scheduler).
    pub fn endpoint(&self) -> &pb::ExecutorEndpoint {
        &self.state.endpoint
    }

    /// The work directory holding shuffle and result files (canonical).
    pub fn work_dir(&self) -> &Path {
        &self.state.work_dir
    }

    /// Whether the scheduler currently knows this executor.
    pub fn is_registered(&self) -> bool {
        *self.registered.borrow()
    }

    /// Waits until the executor is registered with the scheduler; fails
    /// with `Unavailable` if that takes longer than `timeout`.
    pub async fn wait_registered(&self, timeout: Duration) -> Result<()> {
        let mut registered = self.registered.clone();
        tokio::time::timeout(timeout, registered.wait_for(|r| *r))
            .await
            .map_err(|_| {
                BallistaError::Unavailable(format!(
                    "executor {} did not register with the scheduler within {timeout:?}",
                    self.id()
                ))
            })?
            .map_err(|_| {
                BallistaError::Unavailable(format!(
                    "executor {} stopped before registering",
                    self.id()
                ))
            })?;
        Ok(())
    }

    /// Stops the Flight server and the scheduler loop, aborts running
    /// tasks, and removes the work directory (a directory given in the
    /// configuration is kept, but the job directories written in it are
    /// removed).
    pub async fn shutdown(mut self) -> Result<()> {
        let _ = self.shutdown.send(true);
        if let Some(scheduler) = self.scheduler.take() {
            let _ = scheduler.await;
        }
        self.state.abort_all();
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
        let state = Arc::clone(&self.state);
        // Removed here, so `Drop` has nothing left to remove.
        let owns = std::mem::take(&mut self.owns_work_dir);
        tokio::task::spawn_blocking(move || state.remove_all_data(owns))
            .await
            .map_err(|e| BallistaError::Internal(format!("removing the work directory: {e}")))?
    }
}

impl Drop for ExecutorHandle {
    /// Signals the loops to stop and, when the executor made its work
    /// directory itself, removes it: a handle dropped without
    /// [`ExecutorHandle::shutdown`] (an embedded cluster whose process is
    /// ending) left its shuffle files under the temporary directory, one
    /// directory per run. After `shutdown` there is nothing left to do.
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if self.owns_work_dir {
            self.state.abort_all();
            if let Err(e) = self.state.remove_all_data(true) {
                warn!("{e}");
            }
        }
    }
}

/// Creates the work directory: the given one, or a fresh one under the
/// system temporary directory. Returns its canonical path (so that path
/// checks compare like with like) and whether the executor owns it.
fn create_work_dir(configured: Option<&Path>, id: &str) -> Result<(PathBuf, bool)> {
    let (dir, owned) = match configured {
        Some(dir) => (dir.to_path_buf(), false),
        None => (
            std::env::temp_dir().join(format!("ballista-executor-{id}")),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        BallistaError::Execution(format!(
            "cannot create the work directory `{}`: {e}",
            dir.display()
        ))
    })?;
    let dir = std::fs::canonicalize(&dir).map_err(|e| {
        BallistaError::Execution(format!(
            "cannot resolve the work directory `{}`: {e}",
            dir.display()
        ))
    })?;
    crate::shuffle::path_string(&dir)?;
    Ok((dir, owned))
}

/// Identifies a task attempt among the running ones.
type TaskKey = (String, u32, u32, u32);

fn task_key(t: &pb::TaskId) -> TaskKey {
    (t.job_id.clone(), t.stage_id, t.partition, t.attempt)
}

/// Names a task in logs and errors.
pub(crate) fn task_name(t: &pb::TaskId) -> String {
    format!(
        "job {} stage {} partition {} attempt {}",
        t.job_id, t.stage_id, t.partition, t.attempt
    )
}

/// Everything the Flight service, the tasks and the scheduler loop share.
#[derive(Debug)]
pub(crate) struct ExecutorState {
    /// How peers reach this executor; `id` is the executor id.
    pub endpoint: pb::ExecutorEndpoint,
    /// Canonical work directory.
    pub work_dir: PathBuf,
    /// Configured task slots.
    pub task_slots: usize,
    /// Free slots; a running task holds a permit.
    slots: Arc<Semaphore>,
    /// Running tasks, to abort them.
    tasks: Mutex<HashMap<TaskKey, AbortHandle>>,
    /// Finished tasks' statuses not yet delivered to the scheduler.
    statuses: Mutex<VecDeque<pb::TaskStatus>>,
    /// Wakes the scheduler loop when a status is queued.
    status_ready: Notify,
    /// Jobs that ran here, whose directories shutdown removes.
    jobs: Mutex<HashSet<String>>,
    /// Memory pool and spill directory shared by all tasks.
    runtime: Arc<RuntimeEnv>,
    /// The function registry tasks resolve names against.
    functions: TaskContext,
    /// Decodes runtime operators bound to this executor.
    pub codec: ExecutorCodec,
    /// Python UDF worker processes.
    pub python: crate::python_udf::PythonWorkerPool,
    /// UDF languages advertised at registration, found once by starting a
    /// worker (an interpreter that cannot run one is not advertised).
    udf_languages: std::sync::OnceLock<Vec<String>>,
}

impl ExecutorState {
    fn new(
        config: &ExecutorConfig,
        endpoint: pb::ExecutorEndpoint,
        work_dir: PathBuf,
    ) -> Result<Self> {
        let spill = work_dir.join(SPILL_DIR);
        std::fs::create_dir_all(&spill).map_err(|e| io_error("create directory", &spill, e))?;
        let mut runtime = RuntimeEnvBuilder::new().with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![spill])),
        );
        if let Some(limit) = config.memory_limit {
            // Fair: each spilling operator gets an equal share, so one big
            // sort cannot starve the executor's other tasks.
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        let runtime = runtime.build_arc()?;
        if config.local_reads == LocalReads::Mmap {
            runtime.register_object_store(
                ObjectStoreUrl::local_filesystem().as_ref(),
                Arc::new(MappedLocalFiles::new()),
            );
        }
        let session = SessionStateBuilder::new()
            .with_default_features()
            .with_runtime_env(Arc::clone(&runtime))
            .build();
        let functions = TaskContext::from(&session);
        let python = crate::python_udf::PythonWorkerPool::new(
            config.python.clone(),
            config
                .python_workers
                .unwrap_or(2 * config.task_slots.max(1)),
        );
        let codec = ExecutorCodec::new(
            endpoint.clone(),
            work_dir.clone(),
            Arc::new(ConnectionCache::new()),
        )
        .with_fetch_concurrency(config.fetch_concurrency)
        .with_udf_runtime(Arc::new(python.clone()));
        Ok(Self {
            endpoint,
            work_dir,
            task_slots: config.task_slots,
            slots: Arc::new(Semaphore::new(config.task_slots)),
            tasks: Mutex::default(),
            statuses: Mutex::default(),
            status_ready: Notify::new(),
            jobs: Mutex::default(),
            runtime,
            functions,
            codec,
            python,
            udf_languages: std::sync::OnceLock::new(),
        })
    }

    /// What this executor runs, for its registration: every operator and
    /// expression of the spec, every function of its registry (scalar,
    /// aggregate — also DISTINCT — and window), and the `datafusion`
    /// engine's extensions, and the given UDF languages (those whose
    /// workers start here).
    pub fn capabilities(&self, udf_languages: Vec<String>) -> pb::ExecutorCapabilities {
        use ballista_core::capabilities::spec_oneof_names;
        let f = &self.functions;
        let mut functions: Vec<String> = f
            .scalar_functions()
            .keys()
            .chain(f.window_functions().keys())
            .cloned()
            .collect();
        for name in f.aggregate_functions().keys() {
            functions.push(name.clone());
            functions.push(format!("{name}(distinct)"));
        }
        // Plans name functions in lower case (see `plan_requirements`).
        let mut functions: Vec<String> = functions
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        functions.sort();
        functions.dedup();
        pb::ExecutorCapabilities {
            operators: spec_oneof_names("ballista.v1.PhysicalPlanNode", "node"),
            expressions: spec_oneof_names("ballista.v1.PhysicalExpr", "expr_type"),
            functions,
            udf_languages,
            engines: vec!["datafusion".to_string()],
            implementation: format!("ballista-rust/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// `["python"]` if a Python UDF worker starts with the configured
    /// interpreter, else nothing (with a warning naming the reason).
    async fn udf_languages(&self) -> Vec<String> {
        if let Some(l) = self.udf_languages.get() {
            return l.clone();
        }
        let pool = self.python.clone();
        let checked = tokio::task::spawn_blocking(move || pool.check()).await;
        let languages = match checked {
            Ok(Ok(version)) => {
                tracing::info!(
                    "Python UDF workers: {} (Python {version})",
                    self.python.python().display()
                );
                vec!["python".to_string()]
            }
            // An executor without a usable Python is normal (it runs no
            // UDFs); one line at info level, the traceback only at debug.
            Ok(Err(e)) => {
                let e = e.to_string();
                tracing::info!(
                    "no Python UDFs on this executor: {}",
                    e.lines().next().unwrap_or_default()
                );
                tracing::debug!("Python UDF worker check: {e}");
                Vec::new()
            }
            Err(e) => {
                tracing::info!("no Python UDFs on this executor: {e}");
                Vec::new()
            }
        };
        self.udf_languages.get_or_init(|| languages).clone()
    }

    /// Free task slots now.
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    /// A task context carrying `settings` (every key must be a DataFusion
    /// option), the shared runtime and the function registry.
    pub fn task_context(
        &self,
        task: &pb::TaskId,
        settings: &[pb::KeyValue],
    ) -> Result<TaskContext> {
        let mut config = SessionConfig::new();
        for setting in settings {
            config
                .options_mut()
                .set(&setting.key, &setting.value)
                .map_err(|e| {
                    BallistaError::InvalidArgument(format!(
                        "TaskDefinition.settings: cannot apply `{}` = `{}`: {e}",
                        setting.key, setting.value
                    ))
                })?;
        }
        // A task runs one partition of its stage plan, and partition i of a
        // file scan must read exactly file group i (the spec's contract).
        // DataFusion's work stealing lets sibling partitions of one scan
        // take each other's files, which in a cluster means every task
        // reads every file; no setting may turn it back on.
        config
            .options_mut()
            .execution
            .enable_file_stream_work_stealing = false;
        let f = &self.functions;
        Ok(TaskContext::new(
            Some(task_name(task)),
            task.job_id.clone(),
            config,
            f.scalar_functions().clone(),
            f.higher_order_functions().clone(),
            f.aggregate_functions().clone(),
            f.window_functions().clone(),
            Arc::clone(&self.runtime),
        ))
    }

    /// Accepts a task: checks it, takes a slot and starts it. Returns at
    /// once; the outcome arrives as a status.
    pub fn launch(self: &Arc<Self>, definition: pb::TaskDefinition) -> Result<()> {
        let task_id = required(&definition.task_id, "TaskDefinition.task_id")?.clone();
        required(&definition.plan, "TaskDefinition.plan")?;
        validate_job_id(&task_id.job_id, "TaskDefinition.task_id.job_id")?;
        let permit: OwnedSemaphorePermit =
            Arc::clone(&self.slots).try_acquire_owned().map_err(|_| {
                BallistaError::ResourcesExhausted(format!(
                    "executor {} has no free task slot (all {} busy); cannot run {}",
                    self.endpoint.id,
                    self.task_slots,
                    task_name(&task_id)
                ))
            })?;
        let key = task_key(&task_id);
        let mut tasks = lock(&self.tasks);
        if tasks.contains_key(&key) {
            return Err(BallistaError::InvalidArgument(format!(
                "{} is already running on executor {}",
                task_name(&task_id),
                self.endpoint.id
            )));
        }
        lock(&self.jobs).insert(task_id.job_id.clone());
        let running = tokio::spawn(task::run(Arc::clone(self), definition));
        tasks.insert(key.clone(), running.abort_handle());
        drop(tasks);

        let state = Arc::clone(self);
        tokio::spawn(async move {
            let status = state.outcome(&task_id, running).await;
            lock(&state.tasks).remove(&key);
            drop(permit);
            state.push_status(status);
        });
        Ok(())
    }

    /// The status of a task once its tokio task ends: a panic or an abort
    /// becomes a status too, so the executor survives both and the
    /// scheduler always hears back.
    async fn outcome(
        &self,
        task_id: &pb::TaskId,
        running: JoinHandle<pb::TaskStatus>,
    ) -> pb::TaskStatus {
        match running.await {
            Ok(status) => status,
            Err(e) if e.is_panic() => task::failed_status(
                self,
                task_id,
                format!(
                    "task panicked (a bug in Ballista or DataFusion): {}",
                    ballista_core::error::panic_message(e.into_panic().as_ref())
                ),
            ),
            Err(_) => pb::TaskStatus {
                task_id: Some(task_id.clone()),
                state: pb::TaskState::Cancelled as i32,
                error: "the task was aborted: its job's data was removed".into(),
                executor_id: self.endpoint.id.clone(),
                ..Default::default()
            },
        }
    }

    /// Queues a finished task's status and wakes the scheduler loop.
    pub fn push_status(&self, status: pb::TaskStatus) {
        lock(&self.statuses).push_back(status);
        self.status_ready.notify_one();
    }

    fn take_statuses(&self) -> Vec<pb::TaskStatus> {
        lock(&self.statuses).drain(..).collect()
    }

    /// Puts statuses a failed heartbeat carried back at the front.
    fn restore_statuses(&self, statuses: Vec<pb::TaskStatus>) {
        let mut queue = lock(&self.statuses);
        for status in statuses.into_iter().rev() {
            queue.push_front(status);
        }
    }

    /// Aborts the running tasks of `job_id` (all jobs if `None`).
    fn abort_tasks(&self, job_id: Option<&str>) -> usize {
        let tasks = lock(&self.tasks);
        let mut aborted = 0;
        for (key, handle) in tasks.iter() {
            if job_id.is_none_or(|j| key.0 == j) {
                handle.abort();
                aborted += 1;
            }
        }
        aborted
    }

    fn abort_all(&self) {
        self.abort_tasks(None);
    }

    /// Deletes a job's data: everything (aborting its running tasks), or
    /// with `shuffle_only` its shuffle directories, keeping result
    /// partitions.
    pub async fn remove_job_data(&self, job_id: &str, shuffle_only: bool) -> Result<()> {
        validate_job_id(job_id, "RemoveJobData.job_id")?;
        if !shuffle_only {
            let aborted = self.abort_tasks(Some(job_id));
            if aborted > 0 {
                info!(job_id, aborted, "aborted running tasks of a removed job");
            }
            lock(&self.jobs).remove(job_id);
        }
        let dir = job_dir(&self.work_dir, job_id);
        tokio::task::spawn_blocking(move || remove_job_dir(&dir, shuffle_only))
            .await
            .map_err(|e| BallistaError::Internal(format!("removing job data: {e}")))?
    }

    /// Removes the work directory (if owned) or the job directories
    /// written in it.
    fn remove_all_data(&self, owns_work_dir: bool) -> Result<()> {
        if owns_work_dir {
            return remove_dir(&self.work_dir);
        }
        let jobs: Vec<String> = lock(&self.jobs).drain().collect();
        for job in jobs {
            remove_dir(&job_dir(&self.work_dir, &job))?;
        }
        remove_dir(&self.work_dir.join(SPILL_DIR))
    }
}

/// Removes a job directory, or only its shuffle directories
/// (`<job>/<stage>/<reduce>/`, keeping `<job>/<stage>/result/`).
fn remove_job_dir(dir: &Path, shuffle_only: bool) -> Result<()> {
    if !shuffle_only {
        return remove_dir(dir);
    }
    let stages = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("list", dir, e)),
    };
    for stage in stages {
        let stage = stage.map_err(|e| io_error("list", dir, e))?.path();
        let partitions = match std::fs::read_dir(&stage) {
            Ok(entries) => entries,
            // Not a directory (nothing of ours) or already gone.
            Err(_) => continue,
        };
        for partition in partitions {
            let partition = partition.map_err(|e| io_error("list", &stage, e))?.path();
            if partition.file_name().is_some_and(|n| n != RESULT_DIR) {
                remove_dir(&partition)?;
            }
        }
    }
    Ok(())
}

/// Removes a directory tree; a missing one is fine.
fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("remove", dir, e)),
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> BallistaError {
    BallistaError::Execution(format!("cannot {what} `{}`: {e}", path.display()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing here can be left half-updated by a panic.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers, then heartbeats until shutdown; registers again whenever the
/// scheduler says it does not know this executor.
async fn scheduler_loop(
    state: Arc<ExecutorState>,
    url: String,
    default_interval: Duration,
    mut shutdown: watch::Receiver<bool>,
    registered: watch::Sender<bool>,
) {
    let mut conn: Option<FlightConn> = None;
    loop {
        let Some(interval) =
            register(&state, &url, default_interval, &mut conn, &mut shutdown).await
        else {
            return;
        };
        registered.send_replace(true);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(interval) => {}
                _ = state.status_ready.notified() => {}
            }
            match heartbeat(&state, &url, &mut conn).await {
                Ok(false) => {}
                Ok(true) => {
                    warn!(scheduler = %url, "the scheduler does not know this executor; registering again");
                    registered.send_replace(false);
                    break;
                }
                Err(e) => {
                    warn!(scheduler = %url, "heartbeat failed (statuses kept for the next one): {e}");
                    conn = None;
                }
            }
        }
    }
}

/// Registers with backoff until it succeeds (returning the heartbeat
/// interval) or the executor shuts down (`None`).
async fn register(
    state: &ExecutorState,
    url: &str,
    default_interval: Duration,
    conn: &mut Option<FlightConn>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Duration> {
    let registration = pb::ExecutorRegistration {
        endpoint: Some(state.endpoint.clone()),
        task_slots: u32::try_from(state.task_slots).unwrap_or(u32::MAX),
        capabilities: Some(state.capabilities(state.udf_languages().await)),
    };
    let mut backoff = REGISTER_BACKOFF.0;
    let mut attempt = 1u32;
    loop {
        let reply = call(url, conn, |mut c| {
            let registration = registration.clone();
            async move {
                c.action::<pb::RegisterExecutorResult>(REGISTER_EXECUTOR, &registration)
                    .await
            }
        })
        .await;
        match reply {
            Ok(reply) => {
                let interval = match reply.heartbeat_interval_ms {
                    0 => default_interval,
                    ms => Duration::from_millis(ms),
                };
                info!(
                    executor_id = %state.endpoint.id,
                    scheduler = %url,
                    heartbeat = ?interval,
                    "registered with the scheduler"
                );
                return Some(interval);
            }
            Err(e) => {
                warn!(
                    scheduler = %url,
                    attempt,
                    retry_in = ?backoff,
                    "cannot register with the scheduler: {e}"
                );
                *conn = None;
                tokio::select! {
                    _ = shutdown.changed() => return None,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(REGISTER_BACKOFF.1);
                attempt += 1;
            }
        }
    }
}

/// Sends one heartbeat with the queued statuses; returns whether the
/// scheduler asks for registration. The statuses go back in the queue
/// when the call fails.
async fn heartbeat(
    state: &ExecutorState,
    url: &str,
    conn: &mut Option<FlightConn>,
) -> Result<bool> {
    let beat = pb::Heartbeat {
        executor_id: state.endpoint.id.clone(),
        task_statuses: state.take_statuses(),
        free_slots: u32::try_from(state.free_slots()).unwrap_or(u32::MAX),
    };
    let reply = call(url, conn, |mut c| {
        let beat = beat.clone();
        async move { c.action::<pb::HeartbeatResult>(HEARTBEAT, &beat).await }
    })
    .await;
    match reply {
        // An answered heartbeat delivered its statuses, even when the
        // scheduler no longer knows this executor (it decides what a
        // status from an unknown executor is worth).
        Ok(r) => Ok(r.reregister),
        Err(e) => {
            state.restore_statuses(beat.task_statuses);
            Err(e)
        }
    }
}

/// Runs `f` on the scheduler connection (dialling it if needed) within
/// [`SCHEDULER_CALL_TIMEOUT`].
async fn call<R, F, Fut>(url: &str, conn: &mut Option<FlightConn>, f: F) -> Result<R>
where
    F: FnOnce(FlightConn) -> Fut,
    Fut: Future<Output = Result<R>>,
{
    let attempt = async {
        let c = match conn {
            Some(c) => c.clone(),
            None => {
                let c = FlightConn::connect(url).await?;
                *conn = Some(c.clone());
                c
            }
        };
        f(c).await
    };
    tokio::time::timeout(SCHEDULER_CALL_TIMEOUT, attempt)
        .await
        .map_err(|_| {
            BallistaError::Unavailable(format!(
                "the scheduler at {url} did not answer within {SCHEDULER_CALL_TIMEOUT:?}"
            ))
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_or_aborted_task_still_gets_a_status() {
        let dir = std::env::temp_dir().join(format!("ballista-outcome-{}", uuid::Uuid::new_v4()));
        let endpoint = pb::ExecutorEndpoint {
            id: "e".into(),
            ..Default::default()
        };
        let state = ExecutorState::new(&ExecutorConfig::default(), endpoint, dir.clone()).unwrap();
        let task_id = pb::TaskId {
            job_id: "j".into(),
            ..Default::default()
        };

        let panicking = tokio::spawn(async { panic!("boom in an operator") });
        let status = state.outcome(&task_id, panicking).await;
        assert_eq!(status.state, pb::TaskState::Failed as i32);
        assert!(
            status.error.contains("boom in an operator"),
            "{}",
            status.error
        );
        assert!(!status.retryable);

        let endless = tokio::spawn(futures::future::pending::<pb::TaskStatus>());
        endless.abort();
        let status = state.outcome(&task_id, endless).await;
        assert_eq!(status.state, pb::TaskState::Cancelled as i32);
        assert_eq!(status.executor_id, "e");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tasks_read_local_files_through_maps_unless_told_to_copy() {
        let dir = std::env::temp_dir().join(format!("ballista-reads-{}", uuid::Uuid::new_v4()));
        let file_store = |local_reads| {
            let config = ExecutorConfig {
                local_reads,
                ..ExecutorConfig::default()
            };
            let state =
                ExecutorState::new(&config, pb::ExecutorEndpoint::default(), dir.clone()).unwrap();
            let url = ObjectStoreUrl::local_filesystem();
            state.runtime.object_store(&url).unwrap().to_string()
        };
        assert!(file_store(LocalReads::Mmap).starts_with("MappedLocalFiles"));
        assert!(file_store(LocalReads::Pread).starts_with("LocalFileSystem"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

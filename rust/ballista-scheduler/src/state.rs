//! The scheduler's bookkeeping: executors, jobs, stages and task attempts.
//!
//! Everything here is plain state with no I/O, so the rules (when a stage
//! may run, what a lost executor costs, when a job fails) are testable on
//! their own; [`crate::scheduler`] performs the calls these methods ask for.
//!
//! A task is *pending*, *running* on one executor, or *done* with the
//! locations of its output. A stage may run once every stage it reads is
//! done, and every stage whose output filters its scans is done and that
//! filter filled in ([`crate::runtime_filter`]). Every launch has an attempt number; a status for an older attempt
//! is stale and only frees the executor's slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow::datatypes::SchemaRef;
use ballista_core::capabilities::{PlanRequirements, plan_requirements};
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::physical_plan::ExecutionPlanProperties;
use tokio::sync::watch;

use crate::adaptive::{self, BroadcastCandidate};
use crate::planner::{QueryStage, StageOutputs, encode_stage};
use crate::runtime_filter::{self, RuntimeFilter};

/// How many times a task may fail (retryably) before its job fails.
pub const MAX_TASK_FAILURES: u32 = 4;

/// A registered executor.
#[derive(Debug, Clone)]
pub struct ExecutorEntry {
    /// What it said when it registered.
    pub registration: pb::ExecutorRegistration,
    /// Slots the scheduler believes are free.
    pub free_slots: u32,
    /// Launches sent whose reply has not come back yet.
    pub launching: u32,
    /// Last registration or heartbeat.
    pub last_seen: Instant,
}

impl ExecutorEntry {
    fn total_slots(&self) -> u32 {
        self.registration.task_slots.max(1)
    }

    /// Whether the executor's advertised capabilities cover `req`.
    pub fn can_run(&self, req: &PlanRequirements) -> bool {
        // Called per executor and task on every scheduling pass: the
        // capabilities (every function name) are borrowed, not cloned.
        match &self.registration.capabilities {
            Some(caps) => req.unmet_by(caps).is_empty(),
            None => req
                .unmet_by(&pb::ExecutorCapabilities::default())
                .is_empty(),
        }
    }

    /// The executor's endpoint.
    pub fn endpoint(&self) -> pb::ExecutorEndpoint {
        self.registration.endpoint.clone().unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
enum TaskRun {
    Pending,
    Running {
        executor_id: String,
    },
    Done {
        executor_id: String,
        outputs: Vec<pb::PartitionLocation>,
        elapsed_ms: u64,
    },
}

#[derive(Debug, Clone)]
struct Task {
    attempt: u32,
    failures: u32,
    run: TaskRun,
}

/// A job's runtime filter and how far it is.
#[derive(Debug)]
struct FilterRun {
    filter: Arc<RuntimeFilter>,
    state: FilterState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterState {
    /// Its build stage has not run yet.
    Waiting,
    /// The scheduler is reading the build side ([`Effect::FillFilter`]).
    Filling,
    /// Filled in, or left `true`: the stages it filters may run.
    Done,
}

#[derive(Debug)]
struct StageRun {
    stage: QueryStage,
    tasks: Vec<Task>,
}

impl StageRun {
    fn is_done(&self) -> bool {
        self.tasks
            .iter()
            .all(|t| matches!(t.run, TaskRun::Done { .. }))
    }

    /// Rows written by the tasks done so far.
    fn rows_written(&self) -> u64 {
        self.tasks
            .iter()
            .filter_map(|t| match &t.run {
                TaskRun::Done { outputs, .. } => Some(outputs),
                _ => None,
            })
            .flatten()
            .map(|o| o.stats.as_ref().map_or(0, |s| s.num_rows))
            .sum()
    }

    /// Output locations by reduce partition.
    fn outputs(&self) -> Vec<Vec<pb::PartitionLocation>> {
        let mut by_partition = vec![Vec::new(); self.stage.output_partitions()];
        for task in &self.tasks {
            if let TaskRun::Done { outputs, .. } = &task.run {
                for loc in outputs {
                    if let Some(slot) = by_partition.get_mut(loc.output_partition as usize) {
                        slot.push(loc.clone());
                    }
                }
            }
        }
        by_partition
    }
}

/// A job and its progress.
#[derive(Debug)]
pub struct Job {
    /// Job id.
    pub id: String,
    /// Name shown in listings.
    pub name: String,
    /// State.
    pub state: pb::JobState,
    /// Why it failed.
    pub error: String,
    /// Result schema.
    pub schema: SchemaRef,
    /// Settings the tasks run with.
    pub settings: Vec<pb::KeyValue>,
    /// The stage DAG as text (for `explain` and logs).
    pub dag: String,
    /// A client released the results (`release_job`): they are deleted.
    pub released: bool,
    submitted_ms: i64,
    ended_ms: i64,
    ended_at: Option<Instant>,
    stages: Vec<StageRun>,
    filters: Vec<FilterRun>,
    /// Partitioned joins that may become broadcast joins, not yet decided.
    broadcasts: Vec<BroadcastCandidate>,
    /// Since when a runnable stage has had no registered executor able to
    /// run it, and why (what it needs that none advertises).
    unrunnable: Option<(Instant, String)>,
    /// Bumped on every change, so waiters (GetFlightInfo, PollFlightInfo)
    /// wake up.
    changes: watch::Sender<u64>,
}

impl Job {
    /// A new queued job over `stages` (ids 1..=n, the last one final).
    pub fn new(
        id: String,
        name: String,
        schema: SchemaRef,
        settings: Vec<pb::KeyValue>,
        stages: Vec<QueryStage>,
        dag: String,
    ) -> Self {
        let stages = stages
            .into_iter()
            .map(|stage| {
                let tasks = vec![
                    Task {
                        attempt: 0,
                        failures: 0,
                        run: TaskRun::Pending,
                    };
                    stage.partitions()
                ];
                StageRun { stage, tasks }
            })
            .collect();
        Self {
            id,
            name,
            state: pb::JobState::Queued,
            error: String::new(),
            schema,
            settings,
            dag,
            submitted_ms: now_ms(),
            ended_ms: 0,
            ended_at: None,
            released: false,
            stages,
            filters: vec![],
            broadcasts: vec![],
            unrunnable: None,
            changes: watch::channel(0).0,
        }
    }

    /// The job with the runtime filters of its stages.
    pub fn with_filters(mut self, filters: Vec<Arc<RuntimeFilter>>) -> Self {
        self.filters = filters
            .into_iter()
            .map(|filter| FilterRun {
                filter,
                state: FilterState::Waiting,
            })
            .collect();
        self
    }

    /// The job with the partitioned joins of its stages that may become
    /// broadcast joins ([`crate::adaptive`]).
    pub fn with_broadcasts(mut self, broadcasts: Vec<BroadcastCandidate>) -> Self {
        self.broadcasts = broadcasts;
        self
    }

    /// Decides the broadcast candidates whose build stage is done: a
    /// candidate whose build side is small enough has its join stage
    /// rewritten as a broadcast join, and its probe stage dropped.
    fn adapt(&mut self) {
        let mut i = 0;
        while i < self.broadcasts.len() {
            let c = self.broadcasts[i].clone();
            // The join's own runtime filter, if it has one, is decided
            // first: whether it could be filled in decides the broadcast.
            let undecided = self.stage(c.build_stage).is_some_and(|b| !b.is_done())
                || self
                    .join_filter(&c)
                    .is_some_and(|f| f.state != FilterState::Done);
            if undecided {
                i += 1;
                continue;
            }
            self.broadcasts.remove(i);
            if let Err(e) = self.broadcast(&c) {
                tracing::warn!(
                    "job {}: stage {} keeps its partitioned join: {e}",
                    self.id,
                    c.join_stage
                );
            }
        }
    }

    /// Rewrites candidate `c`'s join as a broadcast join if that moves less
    /// data than shuffling its probe side.
    fn broadcast(&mut self, c: &BroadcastCandidate) -> Result<()> {
        let (Some(build), Some(probe), Some(join)) = (
            self.stage(c.build_stage),
            self.stage(c.probe_stage),
            self.stage(c.join_stage),
        ) else {
            return Ok(());
        };
        // A build side that filled the join's runtime filter in is better
        // used as one: the probe scan then drops what can't match before
        // it shuffles, cheaper than probing a hash table with every row
        // (TPC-H Q19 at SF 10: 0.9 s filtered, 1.4 s broadcast). One with
        // too many keys for a filter (Q12 at SF 1: 30 k order keys) is
        // broadcast if it is small enough.
        let filtered = self.join_filter(c).is_some_and(|f| f.filter.is_filled());
        let started = probe
            .tasks
            .iter()
            .any(|t| !matches!(t.run, TaskRun::Pending));
        if filtered || started {
            return Ok(());
        }
        let (rows, bytes) = build
            .outputs()
            .into_iter()
            .flatten()
            .filter_map(|l| l.stats)
            .fold((0, 0), |(r, b), s| (r + s.num_rows, b + s.num_bytes));
        let probe_bytes = adaptive::estimated_bytes(&probe.stage);
        if !adaptive::worth_it(bytes, join.tasks.len(), probe_bytes) {
            tracing::debug!(
                "job {}: stage {} keeps its partitioned join: stage {} wrote {rows} rows \
                 ({bytes} bytes), the probe side is estimated at {probe_bytes:?} bytes",
                self.id,
                c.join_stage,
                c.build_stage
            );
            return Ok(());
        }
        let plan = adaptive::broadcast(&join.stage, &probe.stage, c)?;
        if plan.output_partitioning().partition_count() != join.tasks.len() {
            return Ok(());
        }
        tracing::info!(
            "job {}: stage {} broadcasts stage {} ({rows} rows, {:.1} MiB) and scans in place \
             of stage {} (estimated {}), which does not run",
            self.id,
            c.join_stage,
            c.build_stage,
            bytes as f64 / (1 << 20) as f64,
            c.probe_stage,
            probe_bytes.map_or("without an estimate".to_string(), |b| format!(
                "{:.0} MiB",
                b as f64 / (1 << 20) as f64
            )),
        );
        if let Some(join) = self.stage_mut(c.join_stage) {
            join.stage.plan = plan;
            join.stage.inputs.retain(|&s| s != c.probe_stage);
        }
        if let Some(probe) = self.stage_mut(c.probe_stage) {
            probe.tasks.clear();
        }
        Ok(())
    }

    /// The runtime filter of candidate `c`'s join: built by its build stage,
    /// filtering its probe stage.
    fn join_filter(&self, c: &BroadcastCandidate) -> Option<&FilterRun> {
        self.filters.iter().find(|f| {
            f.filter.build_stage == c.build_stage && f.filter.probe_stages.contains(&c.probe_stage)
        })
    }

    /// Whether stage `id` waits for a broadcast candidate to be decided.
    fn awaits_broadcast(&self, id: u32) -> bool {
        self.broadcasts.iter().any(|c| c.probe_stage == id)
    }

    /// True once succeeded, failed or cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.state,
            pb::JobState::Succeeded | pb::JobState::Failed | pb::JobState::Cancelled
        )
    }

    /// A receiver that sees every change of this job.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn touch(&self) {
        self.changes.send_modify(|v| *v += 1);
    }

    fn stage(&self, id: u32) -> Option<&StageRun> {
        self.stages.get((id as usize).checked_sub(1)?)
    }

    fn stage_mut(&mut self, id: u32) -> Option<&mut StageRun> {
        self.stages.get_mut((id as usize).checked_sub(1)?)
    }

    fn finish(&mut self, state: pb::JobState, error: String) {
        if self.is_terminal() {
            return;
        }
        self.state = state;
        self.error = error;
        self.ended_ms = now_ms();
        self.ended_at = Some(Instant::now());
        self.touch();
    }

    /// Progress counters.
    pub fn progress(&self) -> pb::JobProgress {
        let tasks_total: usize = self.stages.iter().map(|s| s.tasks.len()).sum();
        let tasks_done: usize = self
            .stages
            .iter()
            .flat_map(|s| &s.tasks)
            .filter(|t| matches!(t.run, TaskRun::Done { .. }))
            .count();
        pb::JobProgress {
            job_id: self.id.clone(),
            tasks_total: u32::try_from(tasks_total).unwrap_or(u32::MAX),
            tasks_done: u32::try_from(tasks_done).unwrap_or(u32::MAX),
            stages_total: u32::try_from(self.stages.len()).unwrap_or(u32::MAX),
            stages_done: u32::try_from(self.stages.iter().filter(|s| s.is_done()).count())
                .unwrap_or(u32::MAX),
        }
    }

    /// The job's status; with `tasks`, one entry per task's latest state.
    pub fn status(&self, tasks: bool) -> pb::JobStatus {
        let mut status = pb::JobStatus {
            job_id: self.id.clone(),
            job_name: self.name.clone(),
            state: self.state as i32,
            error: self.error.clone(),
            progress: Some(self.progress()),
            submitted_ms: self.submitted_ms,
            ended_ms: self.ended_ms,
            tasks: vec![],
        };
        if tasks {
            for stage in &self.stages {
                for (p, task) in stage.tasks.iter().enumerate() {
                    let (state, executor_id, elapsed_ms, outputs) = match &task.run {
                        TaskRun::Pending => continue,
                        TaskRun::Running { executor_id } => {
                            (pb::TaskState::Running, executor_id.clone(), 0, vec![])
                        }
                        // The partitions written, with their sizes: what
                        // `make bench` sums as bytes shuffled.
                        TaskRun::Done {
                            executor_id,
                            elapsed_ms,
                            outputs,
                        } => (
                            pb::TaskState::Succeeded,
                            executor_id.clone(),
                            *elapsed_ms,
                            outputs.clone(),
                        ),
                    };
                    status.tasks.push(pb::TaskStatus {
                        task_id: Some(task_id(&self.id, stage.stage.id, p, task.attempt)),
                        state: state as i32,
                        executor_id,
                        elapsed_ms,
                        outputs,
                        ..Default::default()
                    });
                }
            }
        }
        status
    }

    /// Result partitions (one per final-stage task) once the job succeeded.
    pub fn result_locations(&self) -> Vec<pb::PartitionLocation> {
        let Some(last) = self.stages.last() else {
            return vec![];
        };
        let mut locations: Vec<pb::PartitionLocation> = last
            .tasks
            .iter()
            .filter_map(|t| match &t.run {
                TaskRun::Done { outputs, .. } => Some(outputs.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        locations.sort_by_key(|l| (l.output_partition, l.map_partition));
        locations
    }

    /// Executors holding any of this job's data.
    pub fn executors_with_data(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .stages
            .iter()
            .flat_map(|s| &s.tasks)
            .filter_map(|t| match &t.run {
                TaskRun::Done { executor_id, .. } | TaskRun::Running { executor_id } => {
                    Some(executor_id.clone())
                }
                TaskRun::Pending => None,
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// A task to send to an executor.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The executor.
    pub executor: pb::ExecutorEndpoint,
    /// The task.
    pub task: pb::TaskDefinition,
}

/// Something the scheduler must do after a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The job ended; delete its data on these executors (`shuffle_only`
    /// keeps result partitions for the client).
    CleanUp {
        /// The job.
        job_id: String,
        /// Executors that may hold its data.
        executors: Vec<String>,
        /// Keep result partitions.
        shuffle_only: bool,
    },
    /// Read a finished build stage's output and fill a runtime filter in,
    /// then call [`SchedulerState::filter_filled`].
    FillFilter {
        /// The job.
        job_id: String,
        /// Which of the job's filters.
        index: usize,
        /// The filter.
        filter: Arc<RuntimeFilter>,
        /// Where the build stage's output is.
        locations: Vec<pb::PartitionLocation>,
    },
}

/// All scheduler state.
#[derive(Debug, Default)]
pub struct SchedulerState {
    executors: HashMap<String, ExecutorEntry>,
    jobs: HashMap<String, Job>,
    /// Job ids in submission order (scheduling is first come, first served).
    order: Vec<String>,
}

impl SchedulerState {
    /// Registers (or re-registers) an executor.
    pub fn register_executor(&mut self, registration: pb::ExecutorRegistration) -> Result<()> {
        let endpoint = ballista_core::error::required(
            &registration.endpoint,
            "ExecutorRegistration.endpoint",
        )?;
        if endpoint.id.is_empty() {
            return Err(BallistaError::missing("ExecutorRegistration.endpoint.id"));
        }
        if endpoint.port == 0 || endpoint.port > u32::from(u16::MAX) {
            return Err(BallistaError::invalid(
                "ExecutorRegistration.endpoint.port",
                format!("{} is not a TCP port", endpoint.port),
            ));
        }
        let id = endpoint.id.clone();
        let (host, port) = (endpoint.host.clone(), endpoint.port);
        let entry = ExecutorEntry {
            free_slots: registration.task_slots.max(1),
            registration,
            launching: 0,
            last_seen: Instant::now(),
        };
        tracing::info!(
            "executor {id} registered at {host}:{port} with {} slots",
            entry.free_slots
        );
        self.executors.insert(id, entry);
        Ok(())
    }

    /// The registered executors.
    pub fn executors(&self) -> impl Iterator<Item = &ExecutorEntry> {
        self.executors.values()
    }

    /// Total task slots of the registered executors.
    pub fn total_slots(&self) -> usize {
        self.executors
            .values()
            .map(|e| e.total_slots() as usize)
            .sum()
    }

    /// A heartbeat: returns `true` when the executor is unknown and must
    /// register again. Task statuses are applied; effects returned.
    pub fn heartbeat(&mut self, hb: &pb::Heartbeat) -> (bool, Vec<Effect>) {
        let mut effects = Vec::new();
        for status in &hb.task_statuses {
            effects.extend(self.task_status(status, &hb.executor_id));
        }
        let Some(entry) = self.executors.get_mut(&hb.executor_id) else {
            return (true, effects);
        };
        entry.last_seen = Instant::now();
        if hb.task_statuses.is_empty() {
            // The executor's own count is the truth, except for launches
            // still on their way to it.
            entry.free_slots = hb
                .free_slots
                .saturating_sub(entry.launching)
                .min(entry.total_slots());
        }
        (false, effects)
    }

    /// Adds a job.
    pub fn add_job(&mut self, job: Job) {
        self.order.push(job.id.clone());
        self.jobs.insert(job.id.clone(), job);
    }

    /// A job by id.
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.get(id)
    }

    /// Jobs, newest first, optionally only in `states`.
    pub fn list_jobs(&self, states: &[pb::JobState]) -> Vec<pb::JobStatus> {
        self.order
            .iter()
            .rev()
            .filter_map(|id| self.jobs.get(id))
            .filter(|j| states.is_empty() || states.contains(&j.state))
            .map(|j| j.status(false))
            .collect()
    }

    /// Applies one task status reported by `reporter`.
    pub fn task_status(&mut self, status: &pb::TaskStatus, reporter: &str) -> Vec<Effect> {
        if let Some(entry) = self.executors.get_mut(reporter) {
            entry.free_slots = (entry.free_slots + 1).min(entry.total_slots());
        }
        let Some(tid) = &status.task_id else {
            return vec![];
        };
        let Some(job) = self.jobs.get_mut(&tid.job_id) else {
            return vec![];
        };
        if job.is_terminal() {
            return vec![];
        }
        let Some(stage) = job.stage_mut(tid.stage_id) else {
            return vec![];
        };
        let Some(task) = stage.tasks.get_mut(tid.partition as usize) else {
            return vec![];
        };
        let running_here =
            matches!(&task.run, TaskRun::Running { executor_id } if executor_id == reporter);
        if task.attempt != tid.attempt || !running_here {
            // A stale report (the task was reset or reassigned since).
            return vec![];
        }
        let state = pb::TaskState::try_from(status.state).unwrap_or(pb::TaskState::Unspecified);
        match state {
            pb::TaskState::Succeeded => {
                task.run = TaskRun::Done {
                    executor_id: reporter.to_string(),
                    outputs: status.outputs.clone(),
                    elapsed_ms: status.elapsed_ms,
                };
                job.touch();
                let job_id = job.id.clone();
                if job.stages.iter().all(StageRun::is_done) {
                    job.finish(pb::JobState::Succeeded, String::new());
                    tracing::info!("job {job_id} succeeded");
                    return vec![Effect::CleanUp {
                        job_id,
                        executors: job.executors_with_data(),
                        shuffle_only: true,
                    }];
                }
                vec![]
            }
            pb::TaskState::Running => vec![],
            _ => {
                let error = if status.error.is_empty() {
                    format!("task ended in state {}", state.as_str_name())
                } else {
                    status.error.clone()
                };
                let where_ = format!(
                    "stage {} partition {} (attempt {}) on executor {reporter}",
                    tid.stage_id, tid.partition, tid.attempt
                );
                task.failures += 1;
                if status.retryable && task.failures < MAX_TASK_FAILURES {
                    tracing::warn!("task {where_} failed, will retry: {error}");
                    task.attempt += 1;
                    task.run = TaskRun::Pending;
                    job.touch();
                    let lost = status.fetch_failed_executor_id.clone();
                    if !lost.is_empty() {
                        return self
                            .executor_lost(&lost, &format!("a fetch from it failed: {error}"));
                    }
                    return vec![];
                }
                let job_id = job.id.clone();
                self.fail_job(&job_id, format!("task {where_} failed: {error}"))
            }
        }
    }

    /// Fails a job (if still running); returns the clean-up to do.
    pub fn fail_job(&mut self, job_id: &str, error: String) -> Vec<Effect> {
        self.end_job(job_id, pb::JobState::Failed, error)
    }

    /// Cancels a job; returns the clean-up to do. Unknown job: `NotFound`.
    pub fn cancel_job(&mut self, job_id: &str) -> Result<Vec<Effect>> {
        if !self.jobs.contains_key(job_id) {
            return Err(BallistaError::NotFound(format!(
                "job `{job_id}` does not exist"
            )));
        }
        Ok(self.end_job(
            job_id,
            pb::JobState::Cancelled,
            "cancelled by a client".to_string(),
        ))
    }

    /// Marks a finished job's results released and returns the clean-up
    /// of its data. `NotFound` for an unknown job, `InvalidArgument` for
    /// one still running; releasing twice does nothing more.
    pub fn release_job(&mut self, job_id: &str) -> Result<Vec<Effect>> {
        let Some(job) = self.jobs.get_mut(job_id) else {
            return Err(BallistaError::NotFound(format!(
                "job `{job_id}` does not exist"
            )));
        };
        if !job.is_terminal() {
            return Err(BallistaError::InvalidArgument(format!(
                "job `{job_id}` is still running: its results cannot be released before it \
                 ends (cancel it instead)"
            )));
        }
        if job.released {
            return Ok(vec![]);
        }
        job.released = true;
        Ok(vec![Effect::CleanUp {
            job_id: job_id.to_string(),
            executors: job.executors_with_data(),
            shuffle_only: false,
        }])
    }

    fn end_job(&mut self, job_id: &str, state: pb::JobState, error: String) -> Vec<Effect> {
        let Some(job) = self.jobs.get_mut(job_id) else {
            return vec![];
        };
        if job.is_terminal() {
            return vec![];
        }
        tracing::warn!("job {job_id} {}: {error}", state.as_str_name());
        job.finish(state, error);
        vec![Effect::CleanUp {
            job_id: job_id.to_string(),
            executors: job.executors_with_data(),
            shuffle_only: false,
        }]
    }

    /// Removes an executor and makes its work pending again: tasks running
    /// there, and finished tasks whose output is still needed (it was
    /// stored there and is lost).
    pub fn executor_lost(&mut self, executor_id: &str, why: &str) -> Vec<Effect> {
        if self.executors.remove(executor_id).is_some() {
            tracing::warn!("executor {executor_id} lost: {why}");
        }
        for job in self.jobs.values_mut() {
            if job.is_terminal() {
                continue;
            }
            let mut changed = false;
            // Repeat until stable: a reset stage needs its inputs again, and
            // they may have lived on the lost executor too.
            loop {
                let needed: Vec<u32> = job
                    .stages
                    .iter()
                    .filter(|s| !s.is_done())
                    .flat_map(|s| s.stage.inputs.clone())
                    .collect();
                let final_id = u32::try_from(job.stages.len()).unwrap_or(u32::MAX);
                let mut reset = false;
                for stage in &mut job.stages {
                    let keep_outputs =
                        stage.stage.id != final_id && !needed.contains(&stage.stage.id);
                    for task in &mut stage.tasks {
                        let lose = match &task.run {
                            TaskRun::Running { executor_id: e } => e == executor_id,
                            TaskRun::Done { executor_id: e, .. } => {
                                e == executor_id && !keep_outputs
                            }
                            TaskRun::Pending => false,
                        };
                        if lose {
                            task.attempt += 1;
                            task.run = TaskRun::Pending;
                            reset = true;
                        }
                    }
                }
                if !reset {
                    break;
                }
                changed = true;
            }
            if changed {
                job.touch();
            }
        }
        vec![]
    }

    /// Executors not heard from within `timeout`; they are removed and
    /// their work rescheduled.
    pub fn expire_executors(&mut self, timeout: Duration) -> Vec<Effect> {
        let now = Instant::now();
        let dead: Vec<String> = self
            .executors
            .iter()
            .filter(|(_, e)| now.duration_since(e.last_seen) > timeout)
            .map(|(id, _)| id.clone())
            .collect();
        let mut effects = Vec::new();
        for id in dead {
            effects.extend(
                self.executor_lost(&id, &format!("no heartbeat for {} ms", timeout.as_millis())),
            );
        }
        effects
    }

    /// Fails jobs that have waited for an executor longer than `timeout`
    /// while none is registered, or while none of those registered can run
    /// one of their stages.
    pub fn fail_starved_jobs(
        &mut self,
        since_no_executor: Option<Instant>,
        timeout: Duration,
    ) -> Vec<Effect> {
        // A stage none of the registered executors can run (none advertises
        // all it needs) fails its job after the same wait: an executor that
        // can may join meanwhile, as Spark waits for resources.
        let unrunnable: Vec<(String, String)> = self
            .jobs
            .values()
            .filter(|j| !j.is_terminal())
            .filter_map(|j| match &j.unrunnable {
                Some((at, why)) if at.elapsed() >= timeout => Some((j.id.clone(), why.clone())),
                _ => None,
            })
            .collect();
        let mut effects = Vec::new();
        for (id, why) in unrunnable {
            effects.extend(self.fail_job(
                &id,
                format!(
                    "{why}; waited {} s for an executor that can",
                    timeout.as_secs()
                ),
            ));
        }
        let Some(since) = since_no_executor else {
            return effects;
        };
        if !self.executors.is_empty() || since.elapsed() < timeout {
            return effects;
        }
        let waiting: Vec<String> = self
            .jobs
            .values()
            .filter(|j| !j.is_terminal())
            .map(|j| j.id.clone())
            .collect();
        for id in waiting {
            effects.extend(self.fail_job(
                &id,
                format!(
                    "no executor has been available for {} s; start executors with \
                     `ballista executor --scheduler <url>`",
                    timeout.as_secs()
                ),
            ));
        }
        effects
    }

    /// Drops jobs that ended more than `ttl` ago; returns their clean-up.
    pub fn expire_jobs(&mut self, ttl: Duration) -> Vec<Effect> {
        let expired: Vec<String> = self
            .jobs
            .values()
            .filter(|j| j.ended_at.is_some_and(|t| t.elapsed() > ttl))
            .map(|j| j.id.clone())
            .collect();
        let mut effects = Vec::new();
        for id in expired {
            if let Some(job) = self.jobs.remove(&id) {
                effects.push(Effect::CleanUp {
                    job_id: id.clone(),
                    executors: job.executors_with_data(),
                    shuffle_only: false,
                });
            }
            self.order.retain(|j| j != &id);
        }
        effects
    }

    /// Ids of the registered executors that can run a stage whose plan is
    /// `plan` (sorted).
    pub fn capable_executors(&self, plan: &pb::PhysicalPlanNode) -> Vec<String> {
        let req = plan_requirements(plan);
        let mut ids: Vec<String> = self
            .executors
            .iter()
            .filter(|(_, e)| e.can_run(&req))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Picks pending tasks of runnable stages for free slots, oldest job
    /// first, and marks them running. A stage that cannot be encoded fails
    /// its job (returned as effects).
    pub fn assign_tasks(&mut self) -> (Vec<Assignment>, Vec<Effect>) {
        let mut assignments = Vec::new();
        let mut effects = Vec::new();
        // Ended jobs stay in `order` until they expire (hundreds over a
        // benchmark run), and this runs on every event: only the ids of
        // jobs still running are copied.
        let active: Vec<String> = self
            .order
            .iter()
            .filter(|id| self.jobs.get(*id).is_some_and(|j| !j.is_terminal()))
            .cloned()
            .collect();
        for job_id in active {
            if self.executors.values().all(|e| e.free_slots == 0) {
                break;
            }
            let Some(job) = self.jobs.get_mut(&job_id) else {
                continue;
            };
            // A job failed earlier in this pass.
            if job.is_terminal() {
                continue;
            }
            match assign_job(job, &mut self.executors, &mut assignments, &mut effects) {
                Ok(()) => {}
                Err(e) => effects.extend(self.fail_job(&job_id, e.to_string())),
            }
        }
        (assignments, effects)
    }

    /// Runtime filter `index` of job `job_id` is filled in (or was left
    /// `true`): the stages it filters may run.
    pub fn filter_filled(&mut self, job_id: &str, index: usize) {
        if let Some(job) = self.jobs.get_mut(job_id)
            && let Some(run) = job.filters.get_mut(index)
        {
            run.state = FilterState::Done;
            job.touch();
        }
    }

    /// A launch reached the executor (or failed to).
    pub fn launch_done(&mut self, executor_id: &str) {
        if let Some(e) = self.executors.get_mut(executor_id) {
            e.launching = e.launching.saturating_sub(1);
        }
    }

    /// A launch was refused or could not be delivered: the task goes back
    /// to pending (without counting as a failure).
    pub fn launch_failed(&mut self, task: &pb::TaskId, executor_id: &str, busy: bool) {
        if let Some(e) = self.executors.get_mut(executor_id) {
            if busy {
                e.free_slots = 0;
            } else {
                e.free_slots = (e.free_slots + 1).min(e.total_slots());
            }
        }
        let Some(job) = self.jobs.get_mut(&task.job_id) else {
            return;
        };
        let Some(t) = job
            .stage_mut(task.stage_id)
            .and_then(|s| s.tasks.get_mut(task.partition as usize))
        else {
            return;
        };
        if t.attempt == task.attempt
            && matches!(&t.run, TaskRun::Running { executor_id: e } if e == executor_id)
        {
            t.attempt += 1;
            t.run = TaskRun::Pending;
            job.touch();
        }
    }
}

fn assign_job(
    job: &mut Job,
    executors: &mut HashMap<String, ExecutorEntry>,
    assignments: &mut Vec<Assignment>,
    effects: &mut Vec<Effect>,
) -> Result<()> {
    job.adapt();
    let runnable: Vec<u32> = job
        .stages
        .iter()
        .filter(|s| !s.is_done())
        .filter(|s| {
            s.stage
                .inputs
                .iter()
                .all(|i| job.stage(*i).is_some_and(StageRun::is_done))
        })
        .map(|s| s.stage.id)
        .collect();
    // A runnable stage with pending tasks that no registered executor can run.
    let mut blocked: Option<String> = None;
    for stage_id in runnable {
        let pending: Vec<usize> = job
            .stage(stage_id)
            .map(|s| {
                s.tasks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| matches!(t.run, TaskRun::Pending))
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        if pending.is_empty() {
            continue;
        }
        // Filters first: a broadcast candidate waits for its join's filter
        // to be filled in (or given up), which `filling` asks for.
        let waits_for_filters = filling(job, stage_id, effects);
        if waits_for_filters || job.awaits_broadcast(stage_id) {
            continue;
        }
        // Every slot is taken (by this job's earlier stages, or before this
        // pass): no task could launch, so the stage is not encoded. Filters
        // above are still asked for, to be filled in while the slots work.
        if executors.values().all(|e| e.free_slots == 0) {
            continue;
        }
        // Encode the stage once for all its tasks: a task differs only in
        // its partition number.
        let stage = job.stage(stage_id).map(|s| s.stage.clone());
        let Some(mut stage) = stage else { continue };
        let filters: Vec<&RuntimeFilter> = job
            .filters
            .iter()
            .filter(|f| f.filter.probe_stages.contains(&stage_id))
            .map(|f| f.filter.as_ref())
            .collect();
        match runtime_filter::apply(Arc::clone(&stage.plan), &filters) {
            Ok(plan) => stage.plan = plan,
            // The stage still runs, unfiltered: that is always correct.
            Err(e) => tracing::warn!(
                "job {}: stage {stage_id} runs without its runtime filters: {e}",
                job.id
            ),
        }
        let mut outputs = StageOutputs::new();
        for input in &stage.inputs {
            if let Some(s) = job.stage(*input) {
                outputs.insert(*input, s.outputs());
            }
        }
        let plan = encode_stage(&stage, &job.id, Some(&outputs))?;
        // Only an executor that can run the whole stage gets its tasks; a
        // stage no registered executor can run waits for one that can.
        let req = plan_requirements(&plan);
        if !executors.is_empty() && !executors.values().any(|e| e.can_run(&req)) {
            blocked.get_or_insert_with(|| unmet_text(stage_id, &req, executors));
            continue;
        }
        for partition in pending {
            // The executor with the most free slots spreads work evenly.
            let Some((executor_id, entry)) = executors
                .iter_mut()
                .filter(|(_, e)| e.free_slots > 0 && e.can_run(&req))
                .max_by_key(|(id, e)| (e.free_slots, std::cmp::Reverse((*id).clone())))
            else {
                break;
            };
            entry.free_slots -= 1;
            entry.launching += 1;
            let job_id = job.id.clone();
            let Some(task) = job
                .stage_mut(stage_id)
                .and_then(|s| s.tasks.get_mut(partition))
            else {
                continue;
            };
            task.run = TaskRun::Running {
                executor_id: executor_id.clone(),
            };
            let id = task_id(&job_id, stage_id, partition, task.attempt);
            assignments.push(Assignment {
                executor: entry.endpoint(),
                task: pb::TaskDefinition {
                    task_id: Some(id),
                    plan: Some(plan.clone()),
                    settings: job.settings.clone(),
                },
            });
            if job.state == pb::JobState::Queued {
                job.state = pb::JobState::Running;
            }
            job.touch();
        }
    }
    match blocked {
        Some(why) if job.unrunnable.is_none() => {
            tracing::warn!("job {}: {why}", job.id);
            job.unrunnable = Some((Instant::now(), why));
        }
        Some(_) => {}
        None => job.unrunnable = None,
    }
    Ok(())
}

/// Whether stage `stage_id` waits for a runtime filter: for its build stage
/// to finish, or for the scheduler to fill it in (asked for here once the
/// build stage is done). A filter whose build stage has already written
/// more than [`runtime_filter::MAX_BUILD_ROWS`] rows is given up at once,
/// so its stages need not wait for the rest of that stage.
fn filling(job: &mut Job, stage_id: u32, effects: &mut Vec<Effect>) -> bool {
    let mut waiting = false;
    for index in 0..job.filters.len() {
        let run = &job.filters[index];
        if !run.filter.probe_stages.contains(&stage_id) {
            continue;
        }
        match run.state {
            FilterState::Done => {}
            FilterState::Filling => waiting = true,
            FilterState::Waiting => {
                let Some(build) = job.stage(run.filter.build_stage) else {
                    continue;
                };
                if !build.is_done() {
                    if build.rows_written() > runtime_filter::MAX_BUILD_ROWS {
                        job.filters[index].state = FilterState::Done;
                    } else {
                        waiting = true;
                    }
                    continue;
                }
                let filter = Arc::clone(&run.filter);
                let locations = job
                    .stage(filter.build_stage)
                    .map(|s| s.outputs().into_iter().flatten().collect())
                    .unwrap_or_default();
                job.filters[index].state = FilterState::Filling;
                effects.push(Effect::FillFilter {
                    job_id: job.id.clone(),
                    index,
                    filter,
                    locations,
                });
                waiting = true;
            }
        }
    }
    waiting
}

/// Why no registered executor can run a stage: what each one lacks.
fn unmet_text(
    stage_id: u32,
    req: &PlanRequirements,
    executors: &HashMap<String, ExecutorEntry>,
) -> String {
    let mut lacks: Vec<String> = executors
        .iter()
        .map(|(id, e)| {
            let caps = e.registration.capabilities.clone().unwrap_or_default();
            let name = if caps.implementation.is_empty() {
                id.clone()
            } else {
                format!("{id} ({})", caps.implementation)
            };
            format!("{name} lacks {}", req.unmet_by(&caps).join(", "))
        })
        .collect();
    lacks.sort();
    format!(
        "no registered executor can run stage {stage_id}: {}",
        lacks.join("; ")
    )
}

fn task_id(job_id: &str, stage_id: u32, partition: usize, attempt: u32) -> pb::TaskId {
    pb::TaskId {
        job_id: job_id.to_string(),
        stage_id,
        partition: u32::try_from(partition).unwrap_or(u32::MAX),
        attempt,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(id: &str, operators: &[&str]) -> pb::ExecutorRegistration {
        pb::ExecutorRegistration {
            endpoint: Some(pb::ExecutorEndpoint {
                id: id.into(),
                host: "127.0.0.1".into(),
                port: 1,
            }),
            task_slots: 1,
            capabilities: Some(pb::ExecutorCapabilities {
                operators: operators.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }),
        }
    }

    fn node(n: pb::physical_plan_node::Node) -> pb::PhysicalPlanNode {
        pb::PhysicalPlanNode { node: Some(n) }
    }

    #[test]
    fn only_finished_jobs_release_their_results_and_only_once() {
        let mut state = SchedulerState::default();
        let schema = Arc::new(arrow::datatypes::Schema::empty());
        state.add_job(Job::new(
            "j".into(),
            "n".into(),
            schema,
            vec![],
            vec![],
            String::new(),
        ));
        assert!(matches!(
            state.release_job("nope"),
            Err(BallistaError::NotFound(_))
        ));
        let running = state.release_job("j").unwrap_err();
        assert!(running.to_string().contains("still running"), "{running}");
        state.cancel_job("j").unwrap();
        let effects = state.release_job("j").unwrap();
        assert!(
            matches!(&effects[..], [Effect::CleanUp { job_id, shuffle_only: false, .. }] if job_id == "j"),
            "{effects:?}"
        );
        assert!(state.job("j").unwrap().released);
        assert!(state.release_job("j").unwrap().is_empty());
    }

    #[test]
    fn only_executors_whose_capabilities_cover_a_stage_can_run_it() {
        let mut state = SchedulerState::default();
        // Empty lists mean "everything" (executors registered before
        // capabilities were advertised).
        state.register_executor(executor("all", &[])).unwrap();
        state
            .register_executor(executor("scans", &["empty", "result_sink"]))
            .unwrap();
        let empty = || node(pb::physical_plan_node::Node::Empty(pb::EmptyExec::default()));
        let sink = |input| {
            node(pb::physical_plan_node::Node::ResultSink(Box::new(
                pb::ResultSinkExec {
                    input: Some(Box::new(input)),
                    job_id: "j".into(),
                    stage_id: 1,
                    ..Default::default()
                },
            )))
        };
        assert_eq!(state.capable_executors(&sink(empty())), ["all", "scans"]);
        let join = node(pb::physical_plan_node::Node::HashJoin(Box::new(
            pb::HashJoinExec {
                left: Some(Box::new(empty())),
                right: Some(Box::new(empty())),
                ..Default::default()
            },
        )));
        assert_eq!(state.capable_executors(&sink(join)), ["all"]);
    }
}

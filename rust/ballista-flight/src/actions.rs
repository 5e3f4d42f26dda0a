//! Names of the `DoAction` types (documented with their bodies in
//! `flight.proto`) and helpers to build and read them.

use arrow_flight::{Action, FlightDescriptor};
use ballista_core::{BallistaError, Result};
use prost::Message;

/// Scheduler: an executor joins (`ExecutorRegistration`).
pub const REGISTER_EXECUTOR: &str = "register_executor";
/// Scheduler: executor liveness and task statuses (`Heartbeat`).
pub const HEARTBEAT: &str = "heartbeat";
/// Scheduler: cancel a job (`CancelJob`).
pub const CANCEL_JOB: &str = "cancel_job";
/// Scheduler: delete a finished job's results once fetched (`ReleaseJob`).
pub const RELEASE_JOB: &str = "release_job";
/// Scheduler: a job's status (`GetJobStatus`).
pub const JOB_STATUS: &str = "job_status";
/// Scheduler: list jobs (`ListJobs`).
pub const LIST_JOBS: &str = "list_jobs";
/// Scheduler: add a table to the shared catalog (`RegisterTable`).
pub const REGISTER_TABLE: &str = "register_table";
/// Scheduler: remove a table from the shared catalog (`DropTable`).
pub const DROP_TABLE: &str = "drop_table";
/// Scheduler: plans and stage DAG of a query (`ExplainQuery`).
pub const EXPLAIN: &str = "explain";
/// Executor: run a task (`TaskDefinition`).
pub const LAUNCH_TASK: &str = "launch_task";
/// Executor: delete a job's shuffle and result files (`RemoveJobData`).
pub const REMOVE_JOB_DATA: &str = "remove_job_data";

/// First path element of the descriptor that `PollFlightInfo` hands back
/// for polling a running job: `["ballista-job", <job id>]`. A path
/// descriptor cannot be confused with an `ExecuteQuery` command.
pub const JOB_PATH: &str = "ballista-job";

/// A Flight action of type `kind` whose body is `body`.
pub fn action(kind: &str, body: &impl Message) -> Action {
    Action::new(kind, body.encode_to_vec())
}

/// Decodes an action or command body, naming the message in errors.
pub fn decode<M: Message + Default>(bytes: &[u8], what: &str) -> Result<M> {
    M::decode(bytes).map_err(|e| BallistaError::InvalidArgument(format!("malformed {what}: {e}")))
}

/// The descriptor that polls job `job_id`.
pub fn job_descriptor(job_id: &str) -> FlightDescriptor {
    FlightDescriptor::new_path(vec![JOB_PATH.to_string(), job_id.to_string()])
}

/// The job id of a poll descriptor made by [`job_descriptor`], if it is one.
pub fn job_of_descriptor(descriptor: &FlightDescriptor) -> Option<&str> {
    match descriptor.path.as_slice() {
        [kind, job] if kind == JOB_PATH => Some(job.as_str()),
        _ => None,
    }
}

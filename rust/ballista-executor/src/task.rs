//! Running one task: build its `TaskContext` from the task's settings,
//! decode its stage plan, run the root (`ShuffleWriterExec` or
//! `ResultSinkExec`) for the task's partition, and describe the outcome as
//! a `TaskStatus`. Slots, aborts and delivery of the status are the
//! executor's (`executor.rs`).

use std::sync::Arc;
use std::time::Instant;

use ballista_core::error::required;
use ballista_core::serde::physical::physical_plan_from_proto;
use ballista_core::{BallistaError, Result};
use ballista_proto::v1 as pb;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use tracing::{debug, info, warn};

use crate::executor::{ExecutorState, task_name};
use crate::narrow::{narrow, optimize_narrowed};
use crate::shuffle::{ResultSinkExec, ShuffleWriterExec};

/// Runs `definition` to completion and returns its status (never panics on
/// bad input; a panic inside DataFusion is caught by the caller).
pub(crate) async fn run(
    state: Arc<ExecutorState>,
    definition: pb::TaskDefinition,
) -> pb::TaskStatus {
    let started = Instant::now();
    let task_id = definition.task_id.clone().unwrap_or_default();
    info!(task = %task_name(&task_id), "task started");
    let outcome = execute(&state, &definition, &task_id).await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(outputs) => {
            info!(
                task = %task_name(&task_id),
                elapsed_ms,
                outputs = outputs.len(),
                "task succeeded"
            );
            pb::TaskStatus {
                task_id: Some(task_id),
                state: pb::TaskState::Succeeded as i32,
                outputs,
                executor_id: state.endpoint.id.clone(),
                elapsed_ms,
                ..Default::default()
            }
        }
        Err(e) => {
            warn!(task = %task_name(&task_id), elapsed_ms, "task failed: {e}");
            let mut status = failed_status(&state, &task_id, e.to_string());
            let (retryable, lost_executor) = classify(&e);
            status.retryable = retryable;
            status.fetch_failed_executor_id = lost_executor.unwrap_or_default();
            status.elapsed_ms = elapsed_ms;
            status
        }
    }
}

/// A FAILED status with `error`, not retryable.
pub(crate) fn failed_status(
    state: &ExecutorState,
    task_id: &pb::TaskId,
    error: String,
) -> pb::TaskStatus {
    pb::TaskStatus {
        task_id: Some(task_id.clone()),
        state: pb::TaskState::Failed as i32,
        error,
        executor_id: state.endpoint.id.clone(),
        ..Default::default()
    }
}

/// Whether a retry may succeed, and the executor whose shuffle data could
/// not be fetched, if that is why the task failed.
///
/// Retryable: a fetch failure (the data must be recomputed first), a peer
/// that was unavailable, a peer that refused for lack of resources. A plan
/// error, or DataFusion running out of memory on this query, fails the same
/// way again and is not.
pub(crate) fn classify(e: &BallistaError) -> (bool, Option<String>) {
    let inner = match e {
        BallistaError::DataFusion(d) => BallistaError::find_in(d).unwrap_or(e),
        other => other,
    };
    match inner {
        BallistaError::FetchFailed { executor_id, .. } => (true, Some(executor_id.clone())),
        BallistaError::Unavailable(_) | BallistaError::ResourcesExhausted(_) => (true, None),
        _ => (false, None),
    }
}

async fn execute(
    state: &ExecutorState,
    definition: &pb::TaskDefinition,
    task_id: &pb::TaskId,
) -> Result<Vec<pb::PartitionLocation>> {
    let ctx = Arc::new(state.task_context(task_id, &definition.settings)?);
    let node = required(&definition.plan, "TaskDefinition.plan")?;
    let plan = physical_plan_from_proto(node, &ctx, &state.codec)?;
    let partition = task_id.partition as usize;
    let plan: &dyn ExecutionPlan = plan.as_ref();
    if let Some(write) = plan.downcast_ref::<ShuffleWriterExec>() {
        same_job(task_id, write.job_id(), write.stage_id())?;
        let narrowed = narrowed_input(write.input(), partition, &ctx)?;
        let ran = narrowed
            .clone()
            .unwrap_or_else(|| Arc::clone(write.input()));
        let written = write.write_from(partition, narrowed, ctx).await;
        log_plan(task_id, &ran);
        written
    } else if let Some(sink) = plan.downcast_ref::<ResultSinkExec>() {
        same_job(task_id, sink.job_id(), sink.stage_id())?;
        let narrowed = narrowed_input(sink.input(), partition, &ctx)?;
        let ran = narrowed.clone().unwrap_or_else(|| Arc::clone(sink.input()));
        let written = sink.write_from(partition, narrowed, ctx).await;
        log_plan(task_id, &ran);
        Ok(vec![written?])
    } else {
        Err(BallistaError::invalid(
            "TaskDefinition.plan",
            format!(
                "the root of a stage plan must be ShuffleWriteExec or ResultSinkExec, got {}",
                plan.name()
            ),
        ))
    }
}

/// The stage input narrowed to the task's partition, with the dynamic
/// filters that narrowing makes possible (`narrow.rs`); `None` to run the
/// input's partition as it is: a stage of one task (nothing to narrow), or
/// an input holding an operator that cannot be narrowed.
fn narrowed_input(
    input: &Arc<dyn ExecutionPlan>,
    partition: usize,
    ctx: &TaskContext,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    if input.output_partitioning().partition_count() <= 1 {
        return Ok(None);
    }
    let Some(narrowed) = narrow(input, partition)? else {
        return Ok(None);
    };
    Ok(Some(optimize_narrowed(
        narrowed,
        ctx.session_config().options(),
    )?))
}

/// Logs the plan a task ran, with its metrics (rows, time per operator), at
/// debug level: `RUST_LOG=ballista_executor=debug` shows where a slow task
/// spent its time.
fn log_plan(task_id: &pb::TaskId, plan: &Arc<dyn ExecutionPlan>) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let shown = DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true);
        debug!(task = %task_name(task_id), "task plan with metrics:\n{shown}");
    }
}

/// A plan writing into another job's directory would escape that job's
/// cleanup and abort: refuse it.
fn same_job(task_id: &pb::TaskId, job_id: &str, stage_id: u32) -> Result<()> {
    if task_id.job_id != job_id || task_id.stage_id != stage_id {
        return Err(BallistaError::invalid(
            "TaskDefinition.plan",
            format!(
                "the plan writes job {job_id} stage {stage_id}, but the task is {}",
                task_name(task_id)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::error::DataFusionError;

    #[test]
    fn fetch_failures_inside_datafusion_errors_are_found() {
        let fetch = BallistaError::FetchFailed {
            executor_id: "e-1".into(),
            message: "gone".into(),
        };
        let wrapped = BallistaError::DataFusion(DataFusionError::Context(
            "while reading".into(),
            Box::new(DataFusionError::from(fetch)),
        ));
        assert_eq!(classify(&wrapped), (true, Some("e-1".to_string())));

        let plan = BallistaError::Plan("unknown column".into());
        assert_eq!(classify(&plan), (false, None));
        let oom = BallistaError::DataFusion(DataFusionError::ResourcesExhausted("pool".into()));
        assert_eq!(classify(&oom), (false, None));
        let down = BallistaError::DataFusion(BallistaError::Unavailable("peer".into()).into());
        assert_eq!(classify(&down), (true, None));
    }
}

//! Planning of user-defined functions carried in queries: a query planner
//! that turns the logical `MapBatches` node into a [`MapBatchesExec`], and
//! the registration of a query's named UDFs (`ExecuteQuery.udfs`) so that
//! SQL can call them. The scheduler never runs them: the executors do
//! (`docs/udf-workers.md`).

use std::sync::Arc;

use async_trait::async_trait;
use ballista_core::Result;
use ballista_core::error::required;
use ballista_core::serde::types::data_type_from_proto;
use ballista_core::udf::{MapBatchesExec, MapBatchesNode, PlanUdf};
use ballista_proto::v1 as pb;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{LogicalPlan, ScalarUDF, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use datafusion::prelude::SessionContext;

/// The default physical planner plus [`MapBatchesPlanner`].
#[derive(Debug, Default)]
pub struct UdfQueryPlanner;

#[async_trait]
impl QueryPlanner for UdfQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn datafusion::catalog::Session,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(MapBatchesPlanner)])
            .create_physical_plan(logical_plan, session_state)
            .await
    }
}

/// Plans [`MapBatchesNode`] as a [`MapBatchesExec`] without a runtime.
#[derive(Debug)]
struct MapBatchesPlanner;

#[async_trait]
impl ExtensionPlanner for MapBatchesPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn datafusion::catalog::Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> datafusion::common::Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(m) = node.as_any().downcast_ref::<MapBatchesNode>() else {
            return Ok(None);
        };
        let [input] = physical_inputs else {
            return Err(datafusion::common::DataFusionError::Internal(format!(
                "MapBatches has one input, got {}",
                physical_inputs.len()
            )));
        };
        Ok(Some(Arc::new(MapBatchesExec::new(
            Arc::clone(input),
            m.function.clone(),
            Arc::new(m.schema.as_arrow().clone()),
            None,
        ))))
    }
}

/// Registers the query's named UDFs in its session.
pub fn register_query_udfs(ctx: &SessionContext, udfs: &[pb::RegisteredUdf]) -> Result<()> {
    for (i, u) in udfs.iter().enumerate() {
        let path = format!("ExecuteQuery.udfs[{i}]");
        let function = required(&u.function, &format!("{path}.function"))?;
        if function.name.is_empty() {
            return Err(ballista_core::BallistaError::missing(&format!(
                "{path}.function.name"
            )));
        }
        let rp = format!("{path}.return_type");
        let return_type = data_type_from_proto(required(&u.return_type, &rp)?, &rp)?;
        ctx.register_udf(ScalarUDF::new_from_impl(PlanUdf::new(
            function.clone(),
            return_type,
            None,
        )));
    }
    Ok(())
}

//! User-defined functions carried in plans (`UdfDefinition`): a scalar
//! function ([`PlanUdf`], the spec's `UdfCall` / `PhysicalUdfCall`) and a
//! batch-to-batch function ([`MapBatchesNode`] in logical plans,
//! [`MapBatchesExec`] in physical ones, the spec's `MapBatches` /
//! `MapBatchesExec`).
//!
//! The scheduler plans with these types but cannot run them: the function
//! body is opaque bytes in another language. An executor that can run the
//! language decodes them with a [`UdfRuntime`] attached (for Python: a pool
//! of worker processes); without one, running them fails with an error
//! naming the function. See `docs/udf-workers.md`.

use std::any::Any;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, SchemaRef};
use ballista_proto::v1 as pb;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchemaRef, DataFusionError};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    UserDefinedLogicalNodeCore, Volatility,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};

use crate::BallistaError;

/// Runs user-defined functions of some language: implemented by executors
/// (the Python worker pool), absent in the scheduler.
pub trait UdfRuntime: fmt::Debug + Send + Sync {
    /// Calls scalar `function` on `args` (each `num_rows` long); the result
    /// must be `num_rows` long and of `return_type`.
    fn invoke(
        &self,
        function: &pb::UdfDefinition,
        args: Vec<ArrayRef>,
        return_type: &DataType,
        num_rows: usize,
    ) -> Result<ArrayRef, DataFusionError>;

    /// Streams `input` through batch function `function`, whose output
    /// batches have `output_schema`.
    fn map_batches(
        &self,
        function: &pb::UdfDefinition,
        input: SendableRecordBatchStream,
        output_schema: SchemaRef,
    ) -> Result<SendableRecordBatchStream, DataFusionError>;
}

fn not_runnable(function: &pb::UdfDefinition) -> DataFusionError {
    DataFusionError::External(Box::new(BallistaError::NotImplemented(format!(
        "user-defined function `{}` ({}) runs only on an executor with a {} worker; \
         this process has none",
        function.name, function.language, function.language
    ))))
}

/// Identity of a function definition, for `Eq`/`Hash` of plan nodes.
fn definition_key(f: &pb::UdfDefinition) -> (&str, &str, &[u8], &str, bool) {
    (
        &f.language,
        &f.name,
        &f.payload,
        &f.runtime_version,
        f.deterministic,
    )
}

/// A scalar user-defined function carried in the plan: vectorised, called
/// with whole argument arrays.
///
/// It takes any arguments (the function checks them itself) and returns the
/// declared type. A deterministic function is `Stable` rather than
/// `Immutable` so that the scheduler's optimiser never tries to fold a call
/// with literal arguments into a constant, which would run it in the
/// scheduler.
#[derive(Debug, Clone)]
pub struct PlanUdf {
    function: pb::UdfDefinition,
    return_type: DataType,
    signature: Signature,
    runtime: Option<Arc<dyn UdfRuntime>>,
}

impl PlanUdf {
    /// `function`, returning `return_type`, run by `runtime` (`None`: plan
    /// only).
    pub fn new(
        function: pb::UdfDefinition,
        return_type: DataType,
        runtime: Option<Arc<dyn UdfRuntime>>,
    ) -> Self {
        let volatility = if function.deterministic {
            Volatility::Stable
        } else {
            Volatility::Volatile
        };
        Self {
            function,
            return_type,
            signature: Signature::variadic_any(volatility),
            runtime,
        }
    }

    /// The function's definition.
    pub fn function(&self) -> &pb::UdfDefinition {
        &self.function
    }

    /// The declared return type.
    pub fn declared_return_type(&self) -> &DataType {
        &self.return_type
    }
}

impl PartialEq for PlanUdf {
    fn eq(&self, other: &Self) -> bool {
        definition_key(&self.function) == definition_key(&other.function)
            && self.return_type == other.return_type
    }
}

impl Eq for PlanUdf {}

impl Hash for PlanUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        definition_key(&self.function).hash(state);
        self.return_type.hash(state);
    }
}

impl ScalarUDFImpl for PlanUdf {
    fn name(&self) -> &str {
        &self.function.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> datafusion::common::Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::common::Result<ColumnarValue> {
        let Some(runtime) = &self.runtime else {
            return Err(not_runnable(&self.function));
        };
        let n = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<datafusion::common::Result<Vec<_>>>()?;
        let out = runtime.invoke(&self.function, arrays, &self.return_type, n)?;
        Ok(ColumnarValue::Array(out))
    }
}

/// The logical `MapBatches` relation: `function` applied to the batches of
/// `input`, giving batches of `schema`.
#[derive(Debug, Clone)]
pub struct MapBatchesNode {
    /// The input relation.
    pub input: LogicalPlan,
    /// The batch function.
    pub function: pb::UdfDefinition,
    /// The output schema (unqualified).
    pub schema: DFSchemaRef,
}

impl PartialEq for MapBatchesNode {
    fn eq(&self, other: &Self) -> bool {
        definition_key(&self.function) == definition_key(&other.function)
            && self.input == other.input
            && self.schema == other.schema
    }
}

impl Eq for MapBatchesNode {}

impl Hash for MapBatchesNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        definition_key(&self.function).hash(state);
        self.input.hash(state);
        self.schema.hash(state);
    }
}

impl PartialOrd for MapBatchesNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match definition_key(&self.function).partial_cmp(&definition_key(&other.function)) {
            Some(Ordering::Equal) => self.input.partial_cmp(&other.input),
            o => o,
        }
    }
}

impl UserDefinedLogicalNodeCore for MapBatchesNode {
    fn name(&self) -> &str {
        "MapBatches"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }

    // The output columns are the function's, not the input's: no filter on
    // them may move below the node.
    fn prevent_predicate_push_down_columns(&self) -> std::collections::HashSet<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "MapBatches: {} ({})",
            self.function.name, self.function.language
        )
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> datafusion::common::Result<Self> {
        if inputs.len() != 1 {
            return Err(DataFusionError::Internal(format!(
                "MapBatches takes one input, got {}",
                inputs.len()
            )));
        }
        Ok(Self {
            input: inputs.remove(0),
            function: self.function.clone(),
            schema: Arc::clone(&self.schema),
        })
    }
}

/// The physical `MapBatchesExec`: each partition of `input` streamed
/// through the batch function, partition by partition.
#[derive(Debug, Clone)]
pub struct MapBatchesExec {
    input: Arc<dyn ExecutionPlan>,
    function: pb::UdfDefinition,
    schema: SchemaRef,
    runtime: Option<Arc<dyn UdfRuntime>>,
    properties: Arc<PlanProperties>,
}

impl MapBatchesExec {
    /// `function` over `input`, producing `schema`, run by `runtime`
    /// (`None`: plan only).
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        function: pb::UdfDefinition,
        schema: SchemaRef,
        runtime: Option<Arc<dyn UdfRuntime>>,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(input.output_partitioning().partition_count()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            input,
            function,
            schema,
            runtime,
            properties,
        }
    }

    /// The input operator.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The batch function.
    pub fn function(&self) -> &pb::UdfDefinition {
        &self.function
    }
}

impl DisplayAs for MapBatchesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "MapBatchesExec: {} ({})",
            self.function.name, self.function.language
        )
    }
}

impl ExecutionPlan for MapBatchesExec {
    fn name(&self) -> &str {
        "MapBatchesExec"
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
            DataFusionError::Internal(format!("MapBatchesExec takes one child, got {}", c.len()))
        })?;
        Ok(Arc::new(Self::new(
            input,
            self.function.clone(),
            Arc::clone(&self.schema),
            self.runtime.clone(),
        )))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        let Some(runtime) = &self.runtime else {
            return Err(not_runnable(&self.function));
        };
        let input = self.input.execute(partition, context)?;
        runtime.map_batches(&self.function, input, Arc::clone(&self.schema))
    }
}

/// For `dyn Any` downcasts in the codecs.
pub fn as_plan_udf(f: &dyn ScalarUDFImpl) -> Option<&PlanUdf> {
    (f as &dyn Any).downcast_ref::<PlanUdf>()
}

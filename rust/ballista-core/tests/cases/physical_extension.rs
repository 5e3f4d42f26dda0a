//! The engine-extension escape hatch: an operator (`ExtensionExec`) and an
//! expression (`PhysicalExtensionExpr`) outside the spec, carried through
//! a test `PhysicalExtensionCodec` as opaque `EngineExtension` payloads,
//! and the errors a codec that does not know them gives.

use std::fmt;
use std::sync::Arc;

use ballista_core::error::{BallistaError, Result};
use ballista_core::serde::physical::{
    DefaultPhysicalExtensionCodec, PhysicalExtensionCodec, count_extension_nodes,
    physical_expr_to_proto, physical_plan_from_proto, physical_plan_to_proto,
};
use ballista_proto::v1 as pb;
use datafusion::arrow::array::{ArrayRef, AsArray, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::compute::kernels::numeric::mul;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{col, lit};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use pb::physical_expr::ExprType;

const ENGINE: &str = "datafusion";

// ---- a custom operator ----------------------------------------------------

/// Multiplies one Int32 column of its input by a constant; everything else
/// passes through, so the output has the input's schema and properties.
#[derive(Debug)]
struct ScaleExec {
    input: Arc<dyn ExecutionPlan>,
    column: usize,
    factor: i32,
}

impl DisplayAs for ScaleExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ScaleExec: column={} factor={}",
            self.column, self.factor
        )
    }
}

impl ExecutionPlan for ScaleExec {
    fn name(&self) -> &str {
        "ScaleExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
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
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(ScaleExec {
            input: children.swap_remove(0),
            column: self.column,
            factor: self.factor,
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        let (column, factor) = (self.column, self.factor);
        let schema = self.schema();
        let out_schema = Arc::clone(&schema);
        let stream = self.input.execute(partition, context)?.map(move |batch| {
            let batch = batch?;
            let mut columns = batch.columns().to_vec();
            columns[column] = mul(&columns[column], &Int32Array::new_scalar(factor))?;
            Ok(RecordBatch::try_new(Arc::clone(&out_schema), columns)?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}

// ---- a custom expression --------------------------------------------------

/// Doubles an Int32 expression.
#[derive(Debug, Eq)]
struct DoubleExpr {
    child: Arc<dyn PhysicalExpr>,
}

// Not derived: the derive cannot compare `Arc<dyn PhysicalExpr>` fields.
impl PartialEq for DoubleExpr {
    fn eq(&self, other: &Self) -> bool {
        self.child.as_ref() == other.child.as_ref()
    }
}

impl std::hash::Hash for DoubleExpr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.child.hash(state);
    }
}

impl fmt::Display for DoubleExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "double({})", self.child)
    }
}

impl PhysicalExpr for DoubleExpr {
    fn data_type(&self, input_schema: &Schema) -> datafusion::common::Result<DataType> {
        self.child.data_type(input_schema)
    }

    fn nullable(&self, input_schema: &Schema) -> datafusion::common::Result<bool> {
        self.child.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> datafusion::common::Result<ColumnarValue> {
        let values = self.child.evaluate(batch)?.into_array(batch.num_rows())?;
        let doubled: Int32Array = values.as_primitive::<Int32Type>().unary(|v| v * 2);
        Ok(ColumnarValue::Array(Arc::new(doubled) as ArrayRef))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.child]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> datafusion::common::Result<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(DoubleExpr {
            child: children.swap_remove(0),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "double(")?;
        self.child.fmt_sql(f)?;
        write!(f, ")")
    }
}

// ---- the codec that carries them ------------------------------------------

/// Carries `ScaleExec` (payload: column and factor, little-endian u32/i32)
/// and `DoubleExpr` (no payload; its child travels as a spec expression).
#[derive(Debug)]
struct TestCodec;

impl PhysicalExtensionCodec for TestCodec {
    fn try_encode_extension(
        &self,
        plan: &Arc<dyn ExecutionPlan>,
    ) -> Result<Option<pb::EngineExtension>> {
        let any: &dyn ExecutionPlan = plan.as_ref();
        let Some(scale) = any.downcast_ref::<ScaleExec>() else {
            return Ok(None);
        };
        let mut payload = (scale.column as u32).to_le_bytes().to_vec();
        payload.extend_from_slice(&scale.factor.to_le_bytes());
        Ok(Some(pb::EngineExtension {
            engine: ENGINE.into(),
            name: "ScaleExec".into(),
            payload,
        }))
    }

    fn try_decode_extension(
        &self,
        extension: &pb::EngineExtension,
        mut inputs: Vec<Arc<dyn ExecutionPlan>>,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let ok = extension.engine == ENGINE
            && extension.name == "ScaleExec"
            && extension.payload.len() == 8
            && inputs.len() == 1;
        if !ok {
            return Err(BallistaError::NotImplemented(format!(
                "test codec: unexpected extension {extension:?} with {} inputs",
                inputs.len()
            )));
        }
        let word = |i: usize| <[u8; 4]>::try_from(&extension.payload[i..i + 4]).unwrap();
        Ok(Arc::new(ScaleExec {
            input: inputs.swap_remove(0),
            column: u32::from_le_bytes(word(0)) as usize,
            factor: i32::from_le_bytes(word(4)),
        }))
    }

    fn try_encode_expr(&self, expr: &Arc<dyn PhysicalExpr>) -> Result<Option<pb::PhysicalExpr>> {
        let any: &dyn PhysicalExpr = expr.as_ref();
        let Some(double) = any.downcast_ref::<DoubleExpr>() else {
            return Ok(None);
        };
        Ok(Some(pb::PhysicalExpr {
            expr_type: Some(ExprType::Extension(pb::PhysicalExtensionExpr {
                extension: Some(pb::EngineExtension {
                    engine: ENGINE.into(),
                    name: "DoubleExpr".into(),
                    payload: vec![],
                }),
                children: vec![physical_expr_to_proto(&double.child, self)?],
            })),
        }))
    }

    fn try_decode_expr_extension(
        &self,
        extension: &pb::EngineExtension,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
        _input_schema: &Schema,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        if extension.engine != ENGINE || extension.name != "DoubleExpr" || children.len() != 1 {
            return Err(BallistaError::NotImplemented(format!(
                "test codec: unexpected expression extension {extension:?}"
            )));
        }
        Ok(Arc::new(DoubleExpr {
            child: children.swap_remove(0),
        }))
    }
}

// ---- plans ----------------------------------------------------------------

fn source() -> Arc<dyn ExecutionPlan> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int32, false),
        Field::new("c", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3, 4, 5])),
            Arc::new(StringArray::from(vec![
                Some("v"),
                None,
                Some("w"),
                Some("x"),
                Some("y"),
            ])),
        ],
    )
    .unwrap();
    MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None).unwrap()
}

fn scale(input: Arc<dyn ExecutionPlan>, factor: i32) -> Arc<dyn ExecutionPlan> {
    Arc::new(ScaleExec {
        input,
        column: 0,
        factor,
    })
}

/// `a > 5` over `input`, which must have `a` as column 0.
fn filter(input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::binary;
    let schema = input.schema();
    let predicate = binary(col("a", &schema).unwrap(), Operator::Gt, lit(5), &schema).unwrap();
    Arc::new(FilterExec::try_new(predicate, input).unwrap())
}

/// Round-trips `plan` with the test codec, checks the number of engine
/// extensions, and returns the rows (see `support::physical::round_trip`).
async fn round_trip(plan: Arc<dyn ExecutionPlan>, extensions: usize) -> Vec<String> {
    let (proto, rows) = crate::support::physical::round_trip(plan, &TestCodec).await;
    assert_eq!(count_extension_nodes(&proto), extensions, "{proto:?}");
    rows
}

// ---- tests ----------------------------------------------------------------

#[tokio::test]
async fn extension_operator_round_trips() {
    // Scaled by 3, `a` is 3..15; the filter keeps 6, 9, 12, 15.
    let rows = round_trip(filter(scale(source(), 3)), 1).await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("15")), "{rows:?}");

    // Two stacked extension operators: scaled by 6, `a` is 6..30 and all
    // rows pass (unscaled, none would).
    let rows = round_trip(filter(scale(scale(source(), 2), 3)), 2).await;
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("30")), "{rows:?}");
}

#[tokio::test]
async fn extension_expression_round_trips() {
    let input = scale(source(), 10);
    let schema = input.schema();
    let double: Arc<dyn PhysicalExpr> = Arc::new(DoubleExpr {
        child: col("a", &schema).unwrap(),
    });
    let projection = Arc::new(
        ProjectionExec::try_new(
            vec![
                (double, "a2".to_string()),
                (col("c", &schema).unwrap(), "c".to_string()),
            ],
            input,
        )
        .unwrap(),
    );
    // One ExtensionExec and one PhysicalExtensionExpr.
    let rows = round_trip(projection, 2).await;
    assert!(rows.iter().any(|r| r.starts_with("100")), "{rows:?}");
}

#[test]
fn default_codec_refuses_extension_operator() {
    let err = physical_plan_to_proto(&filter(scale(source(), 3)), &DefaultPhysicalExtensionCodec)
        .unwrap_err();
    assert!(matches!(err, BallistaError::NotImplemented(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("ScaleExec") && msg.contains("not in the Ballista spec"),
        "{msg}"
    );

    let double: Arc<dyn PhysicalExpr> = Arc::new(DoubleExpr {
        child: col("a", &source().schema()).unwrap(),
    });
    let err = physical_expr_to_proto(&double, &DefaultPhysicalExtensionCodec).unwrap_err();
    assert!(matches!(err, BallistaError::NotImplemented(_)), "{err:?}");
    assert!(err.to_string().contains("double(a@0)"), "{err}");
}

#[test]
fn default_codec_refuses_to_decode_extensions() {
    let task = SessionContext::new().task_ctx();
    let proto = physical_plan_to_proto(&filter(scale(source(), 3)), &TestCodec).unwrap();
    let err = physical_plan_from_proto(&proto, &task, &DefaultPhysicalExtensionCodec).unwrap_err();
    assert!(matches!(err, BallistaError::NotImplemented(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("ExtensionExec `ScaleExec` of engine `datafusion`"),
        "{msg}"
    );

    let input = source();
    let double: Arc<dyn PhysicalExpr> = Arc::new(DoubleExpr {
        child: col("a", &input.schema()).unwrap(),
    });
    let plan: Arc<dyn ExecutionPlan> =
        Arc::new(ProjectionExec::try_new(vec![(double, "a2".to_string())], input).unwrap());
    let proto = physical_plan_to_proto(&plan, &TestCodec).unwrap();
    assert_eq!(count_extension_nodes(&proto), 1);
    let msg = physical_plan_from_proto(&proto, &task, &DefaultPhysicalExtensionCodec)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("PhysicalExtensionExpr `DoubleExpr` of engine `datafusion`"),
        "{msg}"
    );
}

//! Physical expressions between the spec (`PhysicalExpr` and friends) and
//! DataFusion `Arc<dyn PhysicalExpr>`, plus the pieces operators share: sort
//! keys, join filters and window frames.
//!
//! Decoding checks what an executor would otherwise trip over at run time:
//! column indices against the input schema (and the name beside them),
//! operand types of binary operators, function names against the registry
//! and the planned return type of scalar functions. This module must not
//! decode operators; it never sees a `PhysicalPlanNode`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, new_empty_array};
use arrow::compute::{CastOptions, concat};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use ballista_proto::v1 as pb;
use datafusion::common::JoinSide;
use datafusion::common::ScalarValue;
use datafusion::common::format::DEFAULT_CAST_OPTIONS;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{WindowFrame, WindowFrameBound};
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, CastExpr, Column, InListExpr, IsNotNullExpr, IsNullExpr, LikeExpr,
    Literal, NegativeExpr, NotExpr, TryCastExpr,
};
use datafusion::physical_expr::{PhysicalExpr, PhysicalSortExpr, ScalarFunctionExpr};
use datafusion::physical_expr_common::physical_expr::snapshot_physical_expr;
use datafusion::physical_plan::joins::utils::{ColumnIndex, JoinFilter};

use super::extension::PhysicalExtensionCodec;
use crate::error::{BallistaError, Result, known_enum, required};
use crate::serde::common::{
    operator_from_proto, operator_to_proto, window_frame_bound_from_proto,
    window_frame_units_from_proto,
};
use crate::serde::types::{
    batches_from_ipc, batches_to_ipc, data_type_from_proto, data_type_to_proto, required_schema,
    scalar_from_proto, scalar_to_proto, schema_to_proto, sort_options_from_proto,
    sort_options_to_proto,
};

use pb::physical_expr::ExprType;

/// What decoding needs besides the message: the task context (function
/// registry, session config, object stores) and the extension codec.
#[derive(Clone, Copy)]
pub(crate) struct DecodeCtx<'a> {
    pub task: &'a TaskContext,
    pub codec: &'a dyn PhysicalExtensionCodec,
}

/// Encodes a DataFusion physical expression.
///
/// Dynamic filters (`DynamicFilterPhysicalExpr`, filled in at run time by
/// hash joins, TopK sorts and aggregates) are replaced by a snapshot of
/// their current value: before execution that is `true`, which keeps the
/// expression correct since a dynamic filter only ever narrows a scan.
pub fn physical_expr_to_proto(
    expr: &Arc<dyn PhysicalExpr>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalExpr> {
    let expr = snapshot_physical_expr(Arc::clone(expr))?;
    encode(&expr, codec)
}

fn boxed(
    expr: &Arc<dyn PhysicalExpr>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Option<Box<pb::PhysicalExpr>>> {
    Ok(Some(Box::new(encode(expr, codec)?)))
}

fn encode(
    expr: &Arc<dyn PhysicalExpr>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::PhysicalExpr> {
    let any: &dyn PhysicalExpr = expr.as_ref();
    let expr_type = if let Some(c) = any.downcast_ref::<Column>() {
        ExprType::Column(pb::PhysicalColumn {
            name: c.name().to_string(),
            index: index_to_u32(c.index())?,
        })
    } else if let Some(l) = any.downcast_ref::<Literal>() {
        ExprType::Literal(scalar_to_proto(l.value())?)
    } else if let Some(b) = any.downcast_ref::<BinaryExpr>() {
        ExprType::Binary(Box::new(pb::PhysicalBinaryExpr {
            left: boxed(b.left(), codec)?,
            op: operator_to_proto(b.op()).ok_or_else(|| {
                BallistaError::NotImplemented(format!(
                    "binary operator `{}` is not in the Ballista spec",
                    b.op()
                ))
            })? as i32,
            right: boxed(b.right(), codec)?,
        }))
    } else if let Some(c) = any.downcast_ref::<CastExpr>() {
        // An explicit target field (nullability and metadata) changes the
        // output schema, so it must travel: a union whose inputs it aligns
        // would otherwise decode with different input schemas.
        let mut metadata: Vec<_> = c
            .target_metadata()
            .into_iter()
            .flatten()
            .map(|(k, v)| pb::KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        metadata.sort_by(|a, b| a.key.cmp(&b.key));
        ExprType::Cast(Box::new(pb::PhysicalCast {
            expression: boxed(c.expr(), codec)?,
            data_type: Some(data_type_to_proto(c.cast_type())?),
            safe: c.cast_options().safe,
            nullable: c.target_nullable(),
            metadata,
        }))
    } else if let Some(c) = any.downcast_ref::<TryCastExpr>() {
        ExprType::Cast(Box::new(pb::PhysicalCast {
            expression: boxed(c.expr(), codec)?,
            data_type: Some(data_type_to_proto(c.cast_type())?),
            safe: true,
            nullable: None,
            metadata: vec![],
        }))
    } else if let Some(c) = any.downcast_ref::<CaseExpr>() {
        ExprType::Case(Box::new(pb::PhysicalCase {
            operand: c.expr().map(|e| boxed(e, codec)).transpose()?.flatten(),
            when_then: c
                .when_then_expr()
                .iter()
                .map(|(w, t)| {
                    Ok(pb::PhysicalWhenThen {
                        when: Some(encode(w, codec)?),
                        then: Some(encode(t, codec)?),
                    })
                })
                .collect::<Result<_>>()?,
            else_result: c
                .else_expr()
                .map(|e| boxed(e, codec))
                .transpose()?
                .flatten(),
        }))
    } else if let Some(i) = any.downcast_ref::<InListExpr>() {
        let values_ipc_stream = long_constant_list(i.list())?.unwrap_or_default();
        let list = if values_ipc_stream.is_empty() {
            encode_all(i.list(), codec)?
        } else {
            Vec::new()
        };
        ExprType::InList(Box::new(pb::PhysicalInList {
            expression: boxed(i.expr(), codec)?,
            list,
            negated: i.negated(),
            values_ipc_stream,
        }))
    } else if let Some(l) = any.downcast_ref::<LikeExpr>() {
        ExprType::Like(Box::new(pb::PhysicalLike {
            negated: l.negated(),
            case_insensitive: l.case_insensitive(),
            expression: boxed(l.expr(), codec)?,
            pattern: boxed(l.pattern(), codec)?,
        }))
    } else if let Some(e) = any.downcast_ref::<IsNullExpr>() {
        ExprType::IsNull(Box::new(encode(e.arg(), codec)?))
    } else if let Some(e) = any.downcast_ref::<IsNotNullExpr>() {
        ExprType::IsNotNull(Box::new(encode(e.arg(), codec)?))
    } else if let Some(e) = any.downcast_ref::<NotExpr>() {
        ExprType::Not(Box::new(encode(e.arg(), codec)?))
    } else if let Some(e) = any.downcast_ref::<NegativeExpr>() {
        ExprType::Negative(Box::new(encode(e.arg(), codec)?))
    } else if let Some((f, udf)) = any
        .downcast_ref::<ScalarFunctionExpr>()
        .and_then(|f| Some((f, crate::udf::as_plan_udf(f.fun().inner().as_ref())?)))
    {
        ExprType::Udf(pb::PhysicalUdfCall {
            function: Some(udf.function().clone()),
            arguments: encode_all(f.args(), codec)?,
            return_type: Some(data_type_to_proto(udf.declared_return_type())?),
        })
    } else if let Some(f) = any.downcast_ref::<ScalarFunctionExpr>() {
        ExprType::ScalarFunction(pb::PhysicalScalarFunction {
            name: f.fun().name().to_string(),
            arguments: encode_all(f.args(), codec)?,
            return_type: Some(data_type_to_proto(f.return_type())?),
            nullable: f.nullable(),
        })
    } else if let Some(node) = codec.try_encode_expr(expr)? {
        return Ok(node);
    } else {
        return Err(BallistaError::NotImplemented(format!(
            "physical expression `{expr}` is not in the Ballista spec and no extension \
             codec handles it"
        )));
    };
    Ok(pb::PhysicalExpr {
        expr_type: Some(expr_type),
    })
}

/// IN lists of more constants than this are encoded as one Arrow array
/// (`PhysicalInList.values_ipc_stream`); shorter ones stay readable as
/// literals.
const LONGEST_LITERAL_LIST: usize = 64;

/// A list of more than [`LONGEST_LITERAL_LIST`] constants as an Arrow IPC
/// stream of one column; `None` for a shorter list, or one with an
/// expression that is not a literal.
fn long_constant_list(list: &[Arc<dyn PhysicalExpr>]) -> Result<Option<Vec<u8>>> {
    if list.len() <= LONGEST_LITERAL_LIST {
        return Ok(None);
    }
    let Some(values) = list
        .iter()
        .map(|e| e.downcast_ref::<Literal>().map(|l| l.value().clone()))
        .collect::<Option<Vec<ScalarValue>>>()
    else {
        return Ok(None);
    };
    // Literals of different types (which DataFusion would not plan) stay a
    // list of literals.
    let Ok(array) = ScalarValue::iter_to_array(values) else {
        return Ok(None);
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "values",
        array.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![array])?;
    Ok(Some(batches_to_ipc(&schema, &[batch])?))
}

/// The candidates of an IN list sent as an Arrow IPC stream of one column.
fn in_list_values(bytes: &[u8], field: &str) -> Result<ArrayRef> {
    let (schema, batches) = batches_from_ipc(bytes, field)?;
    if schema.fields().len() != 1 {
        return Err(BallistaError::invalid(
            field,
            format!(
                "holds {} columns; an IN list's values are one",
                schema.fields().len()
            ),
        ));
    }
    let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(0).as_ref()).collect();
    Ok(if arrays.is_empty() {
        new_empty_array(schema.field(0).data_type())
    } else {
        concat(&arrays)?
    })
}

fn encode_all(
    exprs: &[Arc<dyn PhysicalExpr>],
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Vec<pb::PhysicalExpr>> {
    exprs.iter().map(|e| encode(e, codec)).collect()
}

/// Encodes a list of expressions (snapshotting dynamic filters).
pub(crate) fn exprs_to_proto(
    exprs: &[Arc<dyn PhysicalExpr>],
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Vec<pb::PhysicalExpr>> {
    exprs
        .iter()
        .map(|e| physical_expr_to_proto(e, codec))
        .collect()
}

pub(crate) fn index_to_u32(i: usize) -> Result<u32> {
    u32::try_from(i).map_err(|_| BallistaError::Internal(format!("index {i} exceeds u32")))
}

/// Decodes a spec physical expression against the schema of the rows it
/// is evaluated on.
pub fn physical_expr_from_proto(
    expr: &pb::PhysicalExpr,
    input_schema: &Schema,
    ctx: &TaskContext,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Arc<dyn PhysicalExpr>> {
    decode_expr(
        expr,
        input_schema,
        DecodeCtx { task: ctx, codec },
        "PhysicalExpr",
    )
}

/// Decodes a required expression field.
pub(crate) fn decode_required<T: std::borrow::Borrow<pb::PhysicalExpr>>(
    expr: &Option<T>,
    schema: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Arc<dyn PhysicalExpr>> {
    match expr {
        Some(e) => decode_expr(e.borrow(), schema, ctx, path),
        None => Err(BallistaError::missing(path)),
    }
}

/// Decodes a repeated expression field; element `i` is named `path[i]`.
pub(crate) fn decode_exprs(
    exprs: &[pb::PhysicalExpr],
    schema: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
    exprs
        .iter()
        .enumerate()
        .map(|(i, e)| decode_expr(e, schema, ctx, &format!("{path}[{i}]")))
        .collect()
}

/// A plan error about the expression at `path`.
fn plan_err(path: &str, why: impl std::fmt::Display) -> BallistaError {
    BallistaError::Plan(format!("{path}: {why}"))
}

/// The data type of `expr` over `schema`, as a plan error naming `path`.
pub(crate) fn type_at(
    expr: &Arc<dyn PhysicalExpr>,
    schema: &Schema,
    path: &str,
) -> Result<DataType> {
    expr.data_type(schema).map_err(|e| plan_err(path, e))
}

/// Decodes an expression; `path` names it in errors.
pub(crate) fn decode_expr(
    expr: &pb::PhysicalExpr,
    schema: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Arc<dyn PhysicalExpr>> {
    let Some(expr_type) = &expr.expr_type else {
        return Err(BallistaError::invalid(path, "no expression kind is set"));
    };
    let out: Arc<dyn PhysicalExpr> = match expr_type {
        ExprType::Column(c) => {
            let path = format!("{path}.column.index");
            let index = c.index as usize;
            let fields = schema.fields();
            let Some(field) = fields.get(index) else {
                return Err(BallistaError::invalid(
                    &path,
                    format!(
                        "column index {index} is out of range: the input has {} columns ({})",
                        fields.len(),
                        field_names(schema)
                    ),
                ));
            };
            if field.name() != &c.name {
                return Err(BallistaError::invalid(
                    &path,
                    format!(
                        "column {index} is named `{}` in the input schema, not `{}`",
                        field.name(),
                        c.name
                    ),
                ));
            }
            Arc::new(Column::new(&c.name, index))
        }
        ExprType::Literal(l) => Arc::new(Literal::new(scalar_from_proto(
            l,
            &format!("{path}.literal"),
        )?)),
        ExprType::Binary(b) => {
            let path = format!("{path}.binary");
            let left = decode_required(&b.left, schema, ctx, &format!("{path}.left"))?;
            let right = decode_required(&b.right, schema, ctx, &format!("{path}.right"))?;
            let op = operator_from_proto(b.op, &format!("{path}.op"))?;
            let e: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(left, op, right));
            // Type-check now so a mismatch names the field instead of failing
            // mid-query on an executor.
            type_at(&e, schema, &path)?;
            e
        }
        ExprType::Cast(c) => {
            let path = format!("{path}.cast");
            let inner = decode_required(&c.expression, schema, ctx, &format!("{path}.expression"))?;
            let dt_path = format!("{path}.data_type");
            let dt = data_type_from_proto(required(&c.data_type, &dt_path)?, &dt_path)?;
            let from = type_at(&inner, schema, &path)?;
            if !arrow::compute::can_cast_types(&from, &dt) {
                return Err(plan_err(&path, format!("cannot cast {from} to {dt}")));
            }
            let options = CastOptions {
                safe: c.safe,
                ..DEFAULT_CAST_OPTIONS
            };
            match c.nullable {
                Some(nullable) => {
                    let metadata = c
                        .metadata
                        .iter()
                        .map(|kv| (kv.key.clone(), kv.value.clone()))
                        .collect();
                    let target = Field::new("", dt, nullable).with_metadata(metadata);
                    Arc::new(CastExpr::new_with_target_field(
                        inner,
                        Arc::new(target),
                        Some(options),
                    ))
                }
                None if !c.metadata.is_empty() => {
                    return Err(BallistaError::invalid(
                        &format!("{path}.metadata"),
                        "is only allowed together with `nullable`",
                    ));
                }
                None if c.safe => Arc::new(TryCastExpr::new(inner, dt)),
                None => Arc::new(CastExpr::new(inner, dt, Some(options))),
            }
        }
        ExprType::Case(c) => {
            let path = format!("{path}.case");
            let operand = c
                .operand
                .as_ref()
                .map(|e| decode_expr(e, schema, ctx, &format!("{path}.operand")))
                .transpose()?;
            let when_then = c
                .when_then
                .iter()
                .enumerate()
                .map(|(i, wt)| {
                    let p = format!("{path}.when_then[{i}]");
                    Ok((
                        decode_required(&wt.when, schema, ctx, &format!("{p}.when"))?,
                        decode_required(&wt.then, schema, ctx, &format!("{p}.then"))?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let else_result = c
                .else_result
                .as_ref()
                .map(|e| decode_expr(e, schema, ctx, &format!("{path}.else_result")))
                .transpose()?;
            let e: Arc<dyn PhysicalExpr> = Arc::new(
                CaseExpr::try_new(operand, when_then, else_result)
                    .map_err(|e| plan_err(&path, e))?,
            );
            type_at(&e, schema, &path)?;
            e
        }
        ExprType::InList(i) => {
            let path = format!("{path}.in_list");
            let value = decode_required(&i.expression, schema, ctx, &format!("{path}.expression"))?;
            let in_list = if i.values_ipc_stream.is_empty() {
                let list = decode_exprs(&i.list, schema, ctx, &format!("{path}.list"))?;
                InListExpr::try_new(value, list, i.negated, schema)
            } else if !i.list.is_empty() {
                return Err(plan_err(
                    &path,
                    "both `list` and `values_ipc_stream` are set; an IN list has one of them",
                ));
            } else {
                let values =
                    in_list_values(&i.values_ipc_stream, &format!("{path}.values_ipc_stream"))?;
                InListExpr::try_new_from_array(value, values, i.negated, schema)
            };
            Arc::new(in_list.map_err(|e| plan_err(&path, e))?)
        }
        ExprType::Like(l) => {
            let path = format!("{path}.like");
            let value = decode_required(&l.expression, schema, ctx, &format!("{path}.expression"))?;
            let pattern = decode_required(&l.pattern, schema, ctx, &format!("{path}.pattern"))?;
            let e: Arc<dyn PhysicalExpr> =
                Arc::new(LikeExpr::new(l.negated, l.case_insensitive, value, pattern));
            type_at(&e, schema, &path)?;
            e
        }
        ExprType::IsNull(e) => Arc::new(IsNullExpr::new(decode_expr(
            e,
            schema,
            ctx,
            &format!("{path}.is_null"),
        )?)),
        ExprType::IsNotNull(e) => Arc::new(IsNotNullExpr::new(decode_expr(
            e,
            schema,
            ctx,
            &format!("{path}.is_not_null"),
        )?)),
        ExprType::Not(e) => {
            let path = format!("{path}.not");
            let arg = decode_expr(e, schema, ctx, &path)?;
            let dt = type_at(&arg, schema, &path)?;
            if !matches!(dt, DataType::Boolean | DataType::Null) {
                return Err(plan_err(
                    &path,
                    format!("NOT needs a boolean operand, found {dt}"),
                ));
            }
            Arc::new(NotExpr::new(arg))
        }
        ExprType::Negative(e) => {
            let path = format!("{path}.negative");
            let arg = decode_expr(e, schema, ctx, &path)?;
            let e: Arc<dyn PhysicalExpr> = Arc::new(NegativeExpr::new(arg));
            type_at(&e, schema, &path)?;
            e
        }
        ExprType::ScalarFunction(f) => {
            decode_scalar_function(f, schema, ctx, &format!("{path}.scalar_function"))?
        }
        ExprType::Udf(u) => {
            let path = format!("{path}.udf");
            let args = decode_exprs(&u.arguments, schema, ctx, &format!("{path}.arguments"))?;
            ctx.codec.try_decode_udf(u, args, schema, ctx.task)?
        }
        ExprType::Extension(x) => {
            let path = format!("{path}.extension");
            let ext = required(&x.extension, &format!("{path}.extension"))?;
            let children = decode_exprs(&x.children, schema, ctx, &format!("{path}.children"))?;
            ctx.codec
                .try_decode_expr_extension(ext, children, schema, ctx.task)?
        }
    };
    Ok(out)
}

fn decode_scalar_function(
    f: &pb::PhysicalScalarFunction,
    schema: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Arc<dyn PhysicalExpr>> {
    let registry = ctx.task.scalar_functions();
    let Some(udf) = registry
        .get(&f.name)
        .or_else(|| registry.get(&f.name.to_lowercase()))
    else {
        return Err(BallistaError::Plan(format!(
            "{path}.name: unknown function `{}`{}",
            f.name,
            did_you_mean(&f.name, registry.keys())
        )));
    };
    let args = decode_exprs(&f.arguments, schema, ctx, &format!("{path}.arguments"))?;
    let config = Arc::clone(ctx.task.session_config().options());
    let fun = ScalarFunctionExpr::try_new(Arc::clone(udf), args, schema, config)
        .map_err(|e| plan_err(path, e))?;
    let rt_path = format!("{path}.return_type");
    let planned = data_type_from_proto(required(&f.return_type, &rt_path)?, &rt_path)?;
    if fun.return_type() != &planned {
        return Err(plan_err(
            &rt_path,
            format!(
                "function `{}` returns {} for these arguments, but the plan says {planned}",
                f.name,
                fun.return_type()
            ),
        ));
    }
    Ok(Arc::new(fun.with_nullable(f.nullable)))
}

/// " ; did you mean `x`?" for the registered name closest to `name`, or "".
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    let name = name.to_lowercase();
    let best = candidates
        .map(|c| (levenshtein(&name, &c.to_lowercase()), c))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    match best {
        Some((d, c)) if d <= name.len().max(3) / 2 + 1 => format!("; did you mean `{c}`?"),
        Some(_) => "; no registered function has a similar name".to_string(),
        None => "; no functions are registered".to_string(),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "a, b, c": the field names of `schema`, for error messages.
pub(crate) fn field_names(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sort keys to the spec.
pub(crate) fn sort_exprs_to_proto<'a>(
    exprs: impl IntoIterator<Item = &'a PhysicalSortExpr>,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<Vec<pb::PhysicalSortExpr>> {
    exprs
        .into_iter()
        .map(|s| {
            Ok(pb::PhysicalSortExpr {
                expression: Some(physical_expr_to_proto(&s.expr, codec)?),
                options: Some(sort_options_to_proto(&s.options)),
            })
        })
        .collect()
}

/// Spec sort keys to DataFusion.
pub(crate) fn sort_exprs_from_proto(
    exprs: &[pb::PhysicalSortExpr],
    schema: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<Vec<PhysicalSortExpr>> {
    exprs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let p = format!("{path}[{i}].expression");
            Ok(PhysicalSortExpr {
                expr: decode_required(&s.expression, schema, ctx, &p)?,
                options: sort_options_from_proto(s.options.as_ref()),
            })
        })
        .collect()
}

/// A join filter to the spec.
pub(crate) fn join_filter_to_proto(
    f: &JoinFilter,
    codec: &dyn PhysicalExtensionCodec,
) -> Result<pb::JoinFilter> {
    Ok(pb::JoinFilter {
        expression: Some(physical_expr_to_proto(f.expression(), codec)?),
        column_indices: f
            .column_indices()
            .iter()
            .map(|c| {
                Ok(pb::JoinColumnIndex {
                    index: index_to_u32(c.index)?,
                    side: match c.side {
                        JoinSide::Left => pb::JoinSide::Left,
                        JoinSide::Right => pb::JoinSide::Right,
                        JoinSide::None => pb::JoinSide::None,
                    } as i32,
                })
            })
            .collect::<Result<_>>()?,
        schema: Some(schema_to_proto(f.schema())?),
    })
}

/// A spec join filter to DataFusion, checking each column index against
/// the side it names and the filter's intermediate schema.
pub(crate) fn join_filter_from_proto(
    f: &pb::JoinFilter,
    left: &Schema,
    right: &Schema,
    ctx: DecodeCtx<'_>,
    path: &str,
) -> Result<JoinFilter> {
    let schema: SchemaRef = required_schema(&f.schema, &format!("{path}.schema"))?;
    if f.column_indices.len() != schema.fields().len() {
        return Err(BallistaError::invalid(
            &format!("{path}.column_indices"),
            format!(
                "{} column indices for a filter schema of {} columns",
                f.column_indices.len(),
                schema.fields().len()
            ),
        ));
    }
    let column_indices = f
        .column_indices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let p = format!("{path}.column_indices[{i}]");
            let side: pb::JoinSide = known_enum(c.side, &format!("{p}.side"))?;
            let (side, len) = match side {
                pb::JoinSide::Left => (JoinSide::Left, left.fields().len()),
                pb::JoinSide::Right => (JoinSide::Right, right.fields().len()),
                // The mark column of a mark join has no input column.
                pb::JoinSide::None => (JoinSide::None, usize::MAX),
                pb::JoinSide::Unspecified => {
                    return Err(BallistaError::invalid(
                        &format!("{p}.side"),
                        "side is not set",
                    ));
                }
            };
            if c.index as usize >= len {
                return Err(BallistaError::invalid(
                    &format!("{p}.index"),
                    format!(
                        "index {} is out of range: that input has {len} columns",
                        c.index
                    ),
                ));
            }
            Ok(ColumnIndex {
                index: c.index as usize,
                side,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let expr_path = format!("{path}.expression");
    let expression = decode_required(&f.expression, &schema, ctx, &expr_path)?;
    let dt = type_at(&expression, &schema, &expr_path)?;
    if dt != DataType::Boolean {
        return Err(plan_err(
            &expr_path,
            format!("a join filter must be boolean, found {dt}"),
        ));
    }
    Ok(JoinFilter::new(expression, column_indices, schema))
}

/// A spec window frame to DataFusion.
pub(crate) fn window_frame_from_proto(f: &pb::WindowFrame, path: &str) -> Result<WindowFrame> {
    let units = window_frame_units_from_proto(f.units, &format!("{path}.units"))?;
    // An unset bound is reported as "no bound is set" at the bound's path.
    let bound = |b: &Option<pb::WindowFrameBound>, p: String| -> Result<WindowFrameBound> {
        match &required(b, &p)?.bound {
            Some(b) => window_frame_bound_from_proto(b, &p),
            None => Err(BallistaError::invalid(&p, "no bound is set")),
        }
    };
    let start = bound(&f.start, format!("{path}.start"))?;
    let end = bound(&f.end, format!("{path}.end"))?;
    Ok(WindowFrame::new_bounds(units, start, end))
}

/// A null literal of `dt`; used where the spec needs "no value".
#[allow(dead_code)]
pub(crate) fn null_of(dt: &DataType) -> Result<ScalarValue> {
    Ok(ScalarValue::try_from(dt)?)
}

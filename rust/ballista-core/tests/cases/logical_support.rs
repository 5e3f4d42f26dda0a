//! Builders for hand-written logical plan messages and the checks shared by
//! the per-node round-trip and malformed-input tests.

use ballista_core::serde::logical::{logical_plan_from_proto, logical_plan_to_proto};
use ballista_proto::v1 as pb;
use datafusion::prelude::SessionContext;
use pb::expression::ExprType;
use pb::relation::RelType;
use prost::Message;

use crate::support::tpch::canonical_rows;

/// A session with two small tables:
/// `t(a BIGINT, b VARCHAR, c DOUBLE)` and `u(a BIGINT, d VARCHAR)`.
pub async fn context() -> SessionContext {
    let ctx = SessionContext::new();
    for ddl in [
        "CREATE TABLE t AS SELECT * FROM (VALUES \
         (1, 'x', 1.5), (2, 'y', NULL), (3, NULL, 3.5), (2, 'X', 0.5), (5, 'x_z', 2.0)) AS v(a, b, c)",
        "CREATE TABLE u AS SELECT * FROM (VALUES \
         (1, 'one'), (2, 'two'), (4, 'four'), (NULL, 'none')) AS v(a, d)",
    ] {
        ctx.sql(ddl).await.unwrap().collect().await.unwrap();
    }
    ctx
}

/// Decodes `rel`, round-trips the decoded plan through the spec (decode,
/// encode, decode: same plan and same bytes), runs it and compares its rows
/// with those of the equivalent `sql`.
pub async fn check(rel: pb::Relation, sql: &str) {
    let ctx = context().await;
    let state = ctx.state();
    let plan = logical_plan_from_proto(&rel, &state)
        .await
        .unwrap_or_else(|e| panic!("decode failed: {e}"));
    let proto = logical_plan_to_proto(&plan)
        .unwrap_or_else(|e| panic!("encode failed: {e}\n{}", plan.display_indent()));
    let again = logical_plan_from_proto(&proto, &state).await.unwrap();
    assert_eq!(
        again.display_indent_schema().to_string(),
        plan.display_indent_schema().to_string()
    );
    assert_eq!(
        logical_plan_to_proto(&again).unwrap().encode_to_vec(),
        proto.encode_to_vec()
    );
    let actual = ctx
        .execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let expected = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    assert_eq!(canonical_rows(&actual), canonical_rows(&expected), "{sql}");
    assert_eq!(
        actual.first().map(|b| b.schema().fields().len()),
        expected.first().map(|b| b.schema().fields().len()),
        "column count differs from {sql}"
    );
}

/// Decodes `rel` and returns the error message; panics if it decodes.
pub async fn decode_error(rel: &pb::Relation) -> String {
    let ctx = context().await;
    match logical_plan_from_proto(rel, &ctx.state()).await {
        Ok(plan) => panic!("expected an error, decoded:\n{}", plan.display_indent()),
        Err(e) => e.to_string(),
    }
}

pub fn rel(t: RelType) -> pb::Relation {
    pb::Relation {
        plan_id: None,
        rel_type: Some(t),
    }
}

pub fn with_id(mut r: pb::Relation, id: i64) -> pb::Relation {
    r.plan_id = Some(id);
    r
}

pub fn bx(r: pb::Relation) -> Option<Box<pb::Relation>> {
    Some(Box::new(r))
}

pub fn read(table: &str) -> pb::Relation {
    rel(RelType::ReadTable(pb::ReadTable {
        table: Some(pb::TableReference {
            catalog: None,
            schema: None,
            table: table.into(),
        }),
    }))
}

pub fn ex(t: ExprType) -> pb::Expression {
    pb::Expression { expr_type: Some(t) }
}

pub fn bex(e: pb::Expression) -> Option<Box<pb::Expression>> {
    Some(Box::new(e))
}

pub fn col(name: &str) -> pb::Expression {
    ex(ExprType::Column(pb::ColumnRef {
        name: name.into(),
        qualifier: vec![],
        plan_id: None,
    }))
}

pub fn qcol(q: &str, name: &str) -> pb::Expression {
    ex(ExprType::Column(pb::ColumnRef {
        name: name.into(),
        qualifier: vec![q.into()],
        plan_id: None,
    }))
}

pub fn id_col(plan_id: i64, name: &str) -> pb::Expression {
    ex(ExprType::Column(pb::ColumnRef {
        name: name.into(),
        qualifier: vec![],
        plan_id: Some(plan_id),
    }))
}

pub fn outer(name: &str) -> pb::Expression {
    ex(ExprType::OuterColumn(pb::ColumnRef {
        name: name.into(),
        qualifier: vec![],
        plan_id: None,
    }))
}

fn literal(v: pb::literal::Value) -> pb::Expression {
    ex(ExprType::Literal(pb::Literal { value: Some(v) }))
}

pub fn int(v: i64) -> pb::Expression {
    literal(pb::literal::Value::Int64Value(v))
}

pub fn float(v: f64) -> pb::Expression {
    literal(pb::literal::Value::Float64Value(v))
}

pub fn string(v: &str) -> pb::Expression {
    literal(pb::literal::Value::Utf8Value(v.into()))
}

pub fn bin(l: pb::Expression, op: pb::BinaryOperator, r: pb::Expression) -> pb::Expression {
    ex(ExprType::Binary(Box::new(pb::BinaryExpression {
        left: bex(l),
        op: op as i32,
        right: bex(r),
    })))
}

pub fn alias(e: pb::Expression, name: &str) -> pb::Expression {
    ex(ExprType::Alias(Box::new(pb::Alias {
        expression: bex(e),
        name: name.into(),
        qualifier: vec![],
    })))
}

pub fn call(name: &str, arguments: Vec<pb::Expression>) -> pb::Expression {
    ex(ExprType::ScalarFunction(pb::FunctionCall {
        name: name.into(),
        arguments,
    }))
}

pub fn agg(name: &str, arguments: Vec<pb::Expression>) -> pb::AggregateFunction {
    pb::AggregateFunction {
        name: name.into(),
        arguments,
        ..Default::default()
    }
}

pub fn agg_expr(f: pb::AggregateFunction) -> pb::Expression {
    ex(ExprType::AggregateFunction(Box::new(f)))
}

pub fn sort_order(e: pb::Expression, descending: bool) -> pb::SortOrder {
    pb::SortOrder {
        expression: bex(e),
        options: Some(pb::SortOptions {
            descending,
            nulls_first: descending,
        }),
    }
}

pub fn project(input: pb::Relation, expressions: Vec<pb::Expression>) -> pb::Relation {
    rel(RelType::Project(Box::new(pb::Project {
        input: bx(input),
        expressions,
    })))
}

pub fn filter(input: pb::Relation, condition: pb::Expression) -> pb::Relation {
    rel(RelType::Filter(Box::new(pb::Filter {
        input: bx(input),
        condition: bex(condition),
    })))
}

pub fn aggregate(
    input: pb::Relation,
    grouping: Vec<pb::Expression>,
    aggregates: Vec<pb::Expression>,
) -> pb::Relation {
    rel(RelType::Aggregate(Box::new(pb::Aggregate {
        input: bx(input),
        grouping_expressions: grouping,
        aggregate_expressions: aggregates,
        group_type: 0,
        grouping_sets: vec![],
    })))
}

pub fn join(
    left: pb::Relation,
    right: pb::Relation,
    join_type: pb::JoinType,
    on: Vec<(pb::Expression, pb::Expression)>,
    condition: Option<pb::Expression>,
) -> pb::Join {
    pb::Join {
        left: bx(left),
        right: bx(right),
        join_type: join_type as i32,
        on: on
            .into_iter()
            .map(|(l, r)| pb::JoinKey {
                left: Some(l),
                right: Some(r),
            })
            .collect(),
        condition: condition.map(Box::new),
        constraint: 0,
        null_equality: 0,
    }
}

pub fn join_rel(j: pb::Join) -> pb::Relation {
    rel(RelType::Join(Box::new(j)))
}

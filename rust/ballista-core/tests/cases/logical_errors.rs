//! Malformed and meaningless logical plans: each must fail with a clear
//! error that names the offending field and, where it helps, what would be
//! valid.

use ballista_core::serde::logical::logical_plan_from_proto;
use ballista_proto::v1 as pb;
use pb::BinaryOperator as Op;
use pb::relation::RelType;
use prost::Message;

use super::logical_support::*;

#[tokio::test]
async fn truncated_bytes() {
    let bytes = project(read("t"), vec![col("a"), col("b")]).encode_to_vec();
    for cut in [1, bytes.len() / 2, bytes.len() - 1] {
        let err = pb::Relation::decode(&bytes[..cut])
            .map_err(ballista_core::BallistaError::from)
            .expect_err("truncated message must not decode");
        assert!(err.to_string().contains("malformed protobuf"), "{err}");
    }
}

#[tokio::test]
async fn unknown_enum_values() {
    let mut j = join(
        read("t"),
        read("u"),
        pb::JoinType::Inner,
        vec![(qcol("t", "a"), qcol("u", "a"))],
        None,
    );
    j.join_type = 99;
    let msg = decode_error(&join_rel(j)).await;
    assert!(
        msg.contains("Relation.join.join_type") && msg.contains("unknown enum value 99"),
        "{msg}"
    );

    let bad_op = filter(
        read("t"),
        pb::Expression {
            expr_type: Some(pb::expression::ExprType::Binary(Box::new(
                pb::BinaryExpression {
                    left: bex(col("a")),
                    op: 77,
                    right: bex(int(1)),
                },
            ))),
        },
    );
    let msg = decode_error(&bad_op).await;
    assert!(
        msg.contains("Relation.filter.condition.binary.op") && msg.contains("77"),
        "{msg}"
    );
}

#[tokio::test]
async fn missing_required_fields() {
    let msg = decode_error(&pb::Relation {
        plan_id: None,
        rel_type: None,
    })
    .await;
    assert!(
        msg.contains("missing required field `Relation.rel_type`"),
        "{msg}"
    );

    let no_input = rel(RelType::Filter(Box::new(pb::Filter {
        input: None,
        condition: bex(int(1)),
    })));
    let msg = decode_error(&no_input).await;
    assert!(msg.contains("`Relation.filter.input`"), "{msg}");

    let mut j = join(
        read("t"),
        read("u"),
        pb::JoinType::Inner,
        vec![
            (qcol("t", "a"), qcol("u", "a")),
            (qcol("t", "a"), qcol("u", "a")),
        ],
        None,
    );
    j.on[1].left = None;
    let msg = decode_error(&join_rel(j)).await;
    assert!(msg.contains("`Relation.join.on[1].left`"), "{msg}");

    let empty_expr = project(read("t"), vec![pb::Expression { expr_type: None }]);
    let msg = decode_error(&empty_expr).await;
    assert!(
        msg.contains("`Relation.project.expressions[0].expr_type`"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_table_lists_tables() {
    let msg = decode_error(&read("lineitems")).await;
    assert!(
        msg.contains("Relation.read_table.table") && msg.contains("unknown table `lineitems`"),
        "{msg}"
    );
    assert!(msg.contains("valid tables are t, u"), "{msg}");
}

#[tokio::test]
async fn unknown_column_lists_columns() {
    let msg = decode_error(&project(read("t"), vec![col("a"), col("x")])).await;
    assert!(
        msg.contains("Relation.project.expressions[1].column"),
        "{msg}"
    );
    assert!(
        msg.contains("unknown column `x`: valid columns are t.a, t.b, t.c"),
        "{msg}"
    );

    let msg = decode_error(&project(read("t"), vec![qcol("u", "a")])).await;
    assert!(
        msg.contains("unknown column `u.a`: valid columns are t.a, t.b, t.c"),
        "{msg}"
    );

    // A join of t and u: `a` is on both sides.
    let j = join_rel(join(
        read("t"),
        read("u"),
        pb::JoinType::Inner,
        vec![(qcol("t", "a"), qcol("u", "a"))],
        None,
    ));
    let msg = decode_error(&project(j, vec![col("a")])).await;
    assert!(
        msg.contains("ambiguous") && msg.contains("t.a, u.a"),
        "{msg}"
    );

    let msg = decode_error(&project(read("t"), vec![id_col(7, "a")])).await;
    assert!(msg.contains("plan_id 7"), "{msg}");
}

#[tokio::test]
async fn type_mismatches() {
    let msg = decode_error(&filter(read("t"), bin(col("a"), Op::Plus, int(1)))).await;
    assert!(
        msg.contains("Relation.filter.condition")
            && msg.contains("must be boolean")
            && msg.contains("Int64"),
        "{msg}"
    );

    let j = join(
        read("t"),
        read("u"),
        pb::JoinType::Left,
        vec![],
        Some(col("d")),
    );
    let msg = decode_error(&join_rel(j)).await;
    assert!(
        msg.contains("Relation.join.condition") && msg.contains("must be boolean"),
        "{msg}"
    );

    let not_agg = aggregate(read("t"), vec![col("a")], vec![col("b")]);
    let msg = decode_error(&not_agg).await;
    assert!(
        msg.contains("Relation.aggregate.aggregate_expressions[0]")
            && msg.contains("aggregate function"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_functions_suggest_names() {
    let msg = decode_error(&project(read("t"), vec![call("uper", vec![col("b")])])).await;
    assert!(
        msg.contains("Relation.project.expressions[0].scalar_function.name"),
        "{msg}"
    );
    assert!(
        msg.contains("unknown scalar function `uper`")
            && msg.contains("did you mean")
            && msg.contains("upper"),
        "{msg}"
    );

    let msg = decode_error(&aggregate(
        read("t"),
        vec![],
        vec![agg_expr(agg("summ", vec![col("c")]))],
    ))
    .await;
    assert!(
        msg.contains("unknown aggregate function `summ`") && msg.contains("sum"),
        "{msg}"
    );

    let msg = decode_error(&project(read("t"), vec![call("sum", vec![col("c")])])).await;
    assert!(msg.contains("`sum` is an aggregate function"), "{msg}");
}

#[tokio::test]
async fn other_malformed_values() {
    let bad_files = rel(RelType::ReadFiles(pb::ReadFiles {
        format: pb::FileFormat::Csv as i32,
        paths: vec!["/nonexistent".into()],
        options: vec![pb::KeyValue {
            key: "delimeter".into(),
            value: ",".into(),
        }],
        schema: None,
    }));
    let msg = decode_error(&bad_files).await;
    assert!(
        msg.contains("Relation.read_files.options[0].key")
            && msg.contains("valid options are")
            && msg.contains("delimiter"),
        "{msg}"
    );

    let bad_sql = rel(RelType::Sql(pb::Sql {
        query: "SELEC 1".into(),
    }));
    let msg = decode_error(&bad_sql).await;
    assert!(msg.contains("Relation.sql.query"), "{msg}");

    let ddl = rel(RelType::Sql(pb::Sql {
        query: "CREATE TABLE z AS SELECT 1".into(),
    }));
    let msg = decode_error(&ddl).await;
    assert!(msg.contains("must be a query"), "{msg}");

    // Decoding must also be safe straight from the public entry point.
    let ctx = context().await;
    let wrong_width = rel(RelType::Values(pb::Values {
        rows: vec![
            pb::ValuesRow {
                values: vec![int(1)],
            },
            pb::ValuesRow {
                values: vec![int(1), int(2)],
            },
        ],
        column_names: vec![],
    }));
    let err = logical_plan_from_proto(&wrong_width, &ctx.state())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Relation.values.rows[1].values"), "{err}");
}

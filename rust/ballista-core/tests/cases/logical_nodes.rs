//! One round-trip test per relation and expression kind of `logical.proto`:
//! each hand-written message is decoded, round-tripped through the spec
//! (same plan, same bytes) and executed; its rows must equal those of the
//! equivalent SQL query.

use ballista_proto::v1 as pb;
use pb::BinaryOperator as Op;
use pb::expression::ExprType;
use pb::relation::RelType;

use super::logical_support::*;

// --------------------------------------------------------------- relations

#[tokio::test]
async fn read_table() {
    check(read("t"), "SELECT * FROM t").await;
}

#[tokio::test]
async fn read_files_parquet_and_csv() {
    let dir = crate::support::tpch::data_dir(0.01, 2);
    let nation = dir.join("nation");
    let files = rel(RelType::ReadFiles(pb::ReadFiles {
        format: pb::FileFormat::Parquet as i32,
        paths: vec![format!("{}/", nation.display())],
        options: vec![],
        schema: None,
    }));
    let ctx = datafusion::prelude::SessionContext::new();
    let plan = ballista_core::serde::logical::logical_plan_from_proto(&files, &ctx.state())
        .await
        .unwrap();
    let rows = ctx
        .execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 25);

    // CSV with options, checked against the same file read through SQL.
    let csv_dir = std::env::temp_dir().join(format!("ballista-logical-{}", std::process::id()));
    std::fs::create_dir_all(&csv_dir).unwrap();
    let csv = csv_dir.join("data.csv");
    std::fs::write(&csv, "k|v\n1|one\n2|two\n3|\n").unwrap();
    let read_csv = rel(RelType::ReadFiles(pb::ReadFiles {
        format: pb::FileFormat::Csv as i32,
        paths: vec![csv.display().to_string()],
        options: vec![
            pb::KeyValue {
                key: "has_header".into(),
                value: "true".into(),
            },
            pb::KeyValue {
                key: "delimiter".into(),
                value: "|".into(),
            },
        ],
        schema: None,
    }));
    check(
        filter(read_csv, bin(col("k"), Op::Gt, int(1))),
        &format!(
            "SELECT * FROM (SELECT column1 AS k, column2 AS v FROM (VALUES (1, 'one'), (2, 'two'), (3, NULL))) WHERE k > 1 -- {}",
            csv.display()
        ),
    )
    .await;
    let _ = std::fs::remove_dir_all(&csv_dir);
}

#[tokio::test]
async fn sql() {
    let q = "SELECT a, sum(c) AS s FROM t GROUP BY a";
    check(rel(RelType::Sql(pb::Sql { query: q.into() })), q).await;
}

#[tokio::test]
async fn values() {
    let v = rel(RelType::Values(pb::Values {
        rows: vec![
            pb::ValuesRow {
                values: vec![int(1), string("a")],
            },
            pb::ValuesRow {
                values: vec![int(2), string("b")],
            },
        ],
        column_names: vec!["n".into(), "s".into()],
    }));
    check(
        filter(v, bin(col("n"), Op::Gt, int(1))),
        "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) WHERE n > 1",
    )
    .await;
}

#[tokio::test]
async fn filter_and_project() {
    check(
        project(
            filter(read("t"), bin(col("a"), Op::GtEq, int(2))),
            vec![col("b"), alias(bin(col("a"), Op::Multiply, int(10)), "a10")],
        ),
        "SELECT b, a * 10 AS a10 FROM t WHERE a >= 2",
    )
    .await;
}

#[tokio::test]
async fn aggregate_plain() {
    check(
        aggregate(
            read("t"),
            vec![col("a")],
            vec![
                alias(agg_expr(agg("sum", vec![col("c")])), "s"),
                agg_expr(agg(
                    "count",
                    vec![ex(ExprType::Wildcard(pb::Wildcard { qualifier: vec![] }))],
                )),
            ],
        ),
        "SELECT a, sum(c) AS s, count(*) FROM t GROUP BY a",
    )
    .await;
}

async fn check_group_type(
    group_type: pb::GroupType,
    sets: Vec<pb::GroupingSet>,
    grouping: Vec<pb::Expression>,
    sql: &str,
) {
    check(
        rel(RelType::Aggregate(Box::new(pb::Aggregate {
            input: bx(read("t")),
            grouping_expressions: grouping,
            aggregate_expressions: vec![agg_expr(agg("count", vec![col("c")]))],
            group_type: group_type as i32,
            grouping_sets: sets,
        }))),
        sql,
    )
    .await;
}

#[tokio::test]
async fn aggregate_rollup_cube_grouping_sets() {
    check_group_type(
        pb::GroupType::Rollup,
        vec![],
        vec![col("a"), col("b")],
        "SELECT a, b, count(c) FROM t GROUP BY ROLLUP(a, b)",
    )
    .await;
    check_group_type(
        pb::GroupType::Cube,
        vec![],
        vec![col("a"), col("b")],
        "SELECT a, b, count(c) FROM t GROUP BY CUBE(a, b)",
    )
    .await;
    check_group_type(
        pb::GroupType::GroupingSets,
        vec![
            pb::GroupingSet {
                expressions: vec![col("a")],
            },
            pb::GroupingSet {
                expressions: vec![col("a"), col("b")],
            },
        ],
        vec![],
        "SELECT a, b, count(c) FROM t GROUP BY GROUPING SETS ((a), (a, b))",
    )
    .await;
}

#[tokio::test]
async fn join_every_type() {
    use pb::JoinType as J;
    for (jt, sql) in [
        (J::Inner, "SELECT * FROM t JOIN u ON t.a = u.a"),
        (J::Left, "SELECT * FROM t LEFT JOIN u ON t.a = u.a"),
        (J::Right, "SELECT * FROM t RIGHT JOIN u ON t.a = u.a"),
        (J::Full, "SELECT * FROM t FULL JOIN u ON t.a = u.a"),
        (J::LeftSemi, "SELECT * FROM t LEFT SEMI JOIN u ON t.a = u.a"),
        (J::LeftAnti, "SELECT * FROM t LEFT ANTI JOIN u ON t.a = u.a"),
        (
            J::RightSemi,
            "SELECT * FROM t RIGHT SEMI JOIN u ON t.a = u.a",
        ),
        (
            J::RightAnti,
            "SELECT * FROM t RIGHT ANTI JOIN u ON t.a = u.a",
        ),
    ] {
        check(
            join_rel(join(
                read("t"),
                read("u"),
                jt,
                vec![(qcol("t", "a"), qcol("u", "a"))],
                None,
            )),
            sql,
        )
        .await;
    }
    // Mark joins add a boolean column; compare with EXISTS semantics.
    check(
        project(
            join_rel(join(
                read("t"),
                read("u"),
                J::LeftMark,
                vec![(qcol("t", "a"), qcol("u", "a"))],
                None,
            )),
            vec![col("a"), col("mark")],
        ),
        "SELECT t.a, w.a IS NOT NULL AS mark FROM t LEFT JOIN (SELECT DISTINCT a FROM u) w ON t.a = w.a",
    )
    .await;
}

#[tokio::test]
async fn join_condition_cross_using_and_null_equality() {
    // Keys plus a non-equi condition.
    check(
        join_rel(join(
            read("t"),
            read("u"),
            pb::JoinType::Inner,
            vec![(qcol("t", "a"), qcol("u", "a"))],
            Some(bin(qcol("t", "c"), Op::Gt, float(1.0))),
        )),
        "SELECT * FROM t JOIN u ON t.a = u.a AND t.c > 1.0",
    )
    .await;
    // Only a condition.
    check(
        join_rel(join(
            read("t"),
            read("u"),
            pb::JoinType::Left,
            vec![],
            Some(bin(qcol("t", "a"), Op::Lt, qcol("u", "a"))),
        )),
        "SELECT * FROM t LEFT JOIN u ON t.a < u.a",
    )
    .await;
    // Cross join.
    check(
        join_rel(join(
            read("t"),
            read("u"),
            pb::JoinType::Inner,
            vec![],
            None,
        )),
        "SELECT * FROM t CROSS JOIN u",
    )
    .await;
    // USING.
    let mut using = join(
        read("t"),
        read("u"),
        pb::JoinType::Inner,
        vec![(qcol("t", "a"), qcol("u", "a"))],
        None,
    );
    using.constraint = pb::JoinConstraint::Using as i32;
    check(
        project(join_rel(using), vec![qcol("t", "a"), col("b"), col("d")]),
        "SELECT a, b, d FROM t JOIN u USING (a)",
    )
    .await;
    // NULL = NULL.
    let mut nulls = join(
        project(read("u"), vec![alias(col("a"), "k")]),
        read("u"),
        pb::JoinType::Inner,
        vec![(col("k"), qcol("u", "a"))],
        None,
    );
    nulls.null_equality = pb::NullEquality::NullEqualsNull as i32;
    check(
        join_rel(nulls),
        "SELECT l.k, u.* FROM (SELECT a AS k FROM u) l JOIN u ON l.k IS NOT DISTINCT FROM u.a",
    )
    .await;
}

#[tokio::test]
async fn join_by_plan_id_of_relations_sharing_names() {
    // Two reads of the same table: Spark Connect tells them apart by plan_id.
    let j = join_rel(join(
        with_id(read("t"), 1),
        with_id(read("t"), 2),
        pb::JoinType::Inner,
        vec![(id_col(1, "a"), id_col(2, "a"))],
        Some(bin(id_col(1, "c"), Op::Lt, id_col(2, "c"))),
    ));
    check(
        project(
            j,
            vec![alias(id_col(1, "b"), "lb"), alias(id_col(2, "b"), "rb")],
        ),
        "SELECT l.b AS lb, r.b AS rb FROM t l JOIN t r ON l.a = r.a AND l.c < r.c",
    )
    .await;
}

#[tokio::test]
async fn sort_with_fetch_and_limit() {
    check(
        rel(RelType::Sort(Box::new(pb::Sort {
            input: bx(read("t")),
            order: vec![sort_order(col("c"), true), sort_order(col("a"), false)],
            fetch: Some(2),
        }))),
        "SELECT * FROM t ORDER BY c DESC NULLS FIRST, a LIMIT 2",
    )
    .await;
    let sorted = rel(RelType::Sort(Box::new(pb::Sort {
        input: bx(read("t")),
        order: vec![sort_order(col("a"), false), sort_order(col("b"), false)],
        fetch: None,
    })));
    check(
        rel(RelType::Limit(Box::new(pb::Limit {
            input: bx(sorted),
            offset: 1,
            fetch: Some(2),
        }))),
        "SELECT * FROM t ORDER BY a, b LIMIT 2 OFFSET 1",
    )
    .await;
}

#[tokio::test]
async fn distinct() {
    check(
        rel(RelType::Distinct(Box::new(pb::Distinct {
            input: bx(project(read("t"), vec![col("a")])),
        }))),
        "SELECT DISTINCT a FROM t",
    )
    .await;
}

fn set_op(
    kind: pb::SetOperationType,
    all: bool,
    by_name: bool,
    inputs: Vec<pb::Relation>,
) -> pb::Relation {
    rel(RelType::SetOperation(pb::SetOperation {
        inputs,
        r#type: kind as i32,
        all,
        by_name,
    }))
}

#[tokio::test]
async fn set_operations() {
    use pb::SetOperationType as S;
    let ta = || project(read("t"), vec![col("a")]);
    let ua = || project(read("u"), vec![col("a")]);
    check(
        set_op(S::Union, true, false, vec![ta(), ua(), ta()]),
        "SELECT a FROM t UNION ALL SELECT a FROM u UNION ALL SELECT a FROM t",
    )
    .await;
    check(
        set_op(S::Union, false, false, vec![ta(), ua()]),
        "SELECT a FROM t UNION SELECT a FROM u",
    )
    .await;
    check(
        set_op(S::Intersect, false, false, vec![ta(), ua()]),
        "SELECT a FROM t INTERSECT SELECT a FROM u",
    )
    .await;
    check(
        set_op(S::Intersect, true, false, vec![ta(), ua()]),
        "SELECT a FROM t INTERSECT ALL SELECT a FROM u",
    )
    .await;
    check(
        set_op(S::Except, false, false, vec![ta(), ua()]),
        "SELECT a FROM t EXCEPT SELECT a FROM u",
    )
    .await;
    check(
        set_op(S::Except, true, false, vec![ta(), ua()]),
        "SELECT a FROM t EXCEPT ALL SELECT a FROM u",
    )
    .await;
    check_normalised(
        set_op(
            S::Union,
            true,
            true,
            vec![
                project(read("t"), vec![col("a"), col("b")]),
                project(read("t"), vec![col("b"), col("a")]),
            ],
        ),
        "SELECT a, b FROM t UNION ALL BY NAME SELECT b, a FROM t",
    )
    .await;
}

fn window_fn(
    name: &str,
    args: Vec<pb::Expression>,
    frame: Option<pb::WindowFrame>,
) -> pb::Expression {
    ex(ExprType::WindowFunction(pb::WindowFunction {
        name: name.into(),
        arguments: args,
        partition_by: vec![col("b")],
        order_by: vec![sort_order(col("a"), false)],
        frame,
        ignore_nulls: false,
        distinct: false,
    }))
}

#[tokio::test]
async fn window() {
    let bound = |b| pb::WindowFrameBound { bound: Some(b) };
    use pb::window_frame_bound::Bound;
    let frame = pb::WindowFrame {
        units: pb::WindowFrameUnits::Unspecified as i32,
        start: Some(bound(Bound::Preceding(pb::Literal {
            value: Some(pb::literal::Value::Uint64Value(1)),
        }))),
        end: Some(bound(Bound::CurrentRow(pb::EmptyType {}))),
    };
    check(
        rel(RelType::Window(Box::new(pb::Window {
            input: bx(read("t")),
            window_expressions: vec![
                alias(window_fn("row_number", vec![], None), "rn"),
                alias(window_fn("sum", vec![col("c")], Some(frame)), "s"),
            ],
        }))),
        "SELECT *, row_number() OVER (PARTITION BY b ORDER BY a) AS rn, \
         sum(c) OVER (PARTITION BY b ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s FROM t",
    )
    .await;
}

/// Window functions with different partition and order keys in one Window
/// relation (DataFusion needs one `Window` node per key set; the decoder
/// splits them and keeps the spec's column order).
#[tokio::test]
async fn window_with_mixed_keys() {
    let mut by_c = window_fn("sum", vec![col("a")], None);
    if let Some(ExprType::WindowFunction(w)) = &mut by_c.expr_type {
        w.partition_by = vec![col("c")];
        w.order_by = vec![];
    }
    check(
        rel(RelType::Window(Box::new(pb::Window {
            input: bx(read("t")),
            window_expressions: vec![
                alias(window_fn("row_number", vec![], None), "rn"),
                alias(by_c, "total_by_c"),
                alias(window_fn("rank", vec![], None), "rk"),
            ],
        }))),
        "SELECT *, row_number() OVER (PARTITION BY b ORDER BY a) AS rn, \
         sum(a) OVER (PARTITION BY c) AS total_by_c, \
         rank() OVER (PARTITION BY b ORDER BY a) AS rk FROM t",
    )
    .await;
}

#[tokio::test]
async fn subquery_alias() {
    check(
        project(
            rel(RelType::SubqueryAlias(Box::new(pb::SubqueryAlias {
                input: bx(read("t")),
                alias: "x".into(),
            }))),
            vec![qcol("x", "a")],
        ),
        "SELECT x.a FROM t AS x",
    )
    .await;
}

#[tokio::test]
async fn with_columns_renamed_drop() {
    check(
        rel(RelType::WithColumns(Box::new(pb::WithColumns {
            input: bx(read("t")),
            columns: vec![
                alias(bin(col("a"), Op::Plus, int(1)), "a"),
                alias(string("k"), "k"),
            ],
        }))),
        "SELECT a + 1 AS a, b, c, 'k' AS k FROM t",
    )
    .await;
    check(
        rel(RelType::WithColumnsRenamed(Box::new(
            pb::WithColumnsRenamed {
                input: bx(read("t")),
                renames: vec![pb::Rename {
                    from: "b".into(),
                    to: "bee".into(),
                }],
            },
        ))),
        "SELECT a, b AS bee, c FROM t",
    )
    .await;
    check(
        rel(RelType::Drop(Box::new(pb::Drop {
            input: bx(read("t")),
            columns: vec!["b".into()],
        }))),
        "SELECT a, c FROM t",
    )
    .await;
}

#[tokio::test]
async fn empty_relation() {
    check(
        project(
            rel(RelType::Empty(pb::EmptyRelation {
                produce_one_row: true,
                schema: None,
            })),
            vec![alias(int(1), "one")],
        ),
        "SELECT 1 AS one",
    )
    .await;
    let schema = arrow::datatypes::Schema::new(vec![arrow::datatypes::Field::new(
        "x",
        arrow::datatypes::DataType::Int64,
        true,
    )]);
    check(
        rel(RelType::Empty(pb::EmptyRelation {
            produce_one_row: false,
            schema: Some(ballista_core::serde::types::schema_to_proto(&schema).unwrap()),
        })),
        "SELECT CAST(1 AS BIGINT) AS x WHERE false",
    )
    .await;
}

#[tokio::test]
async fn map_batches_needs_a_body_and_extension_is_not_implemented() {
    let mb = rel(RelType::MapBatches(Box::new(pb::MapBatches {
        input: bx(read("t")),
        function: Some(pb::UdfDefinition {
            language: "python".into(),
            name: "f".into(),
            ..Default::default()
        }),
        output_schema: None,
    })));
    // A function without a body (payload) names the missing field.
    let msg = decode_error(&mb).await;
    assert!(msg.contains("map_batches.function.payload"), "{msg}");
    let ext = rel(RelType::Extension(prost_types::Any {
        type_url: "type.example/Foo".into(),
        value: vec![],
    }));
    let msg = decode_error(&ext).await;
    assert!(
        msg.contains("Not implemented") && msg.contains("type.example/Foo"),
        "{msg}"
    );
}

// ------------------------------------------------------------- expressions

async fn check_expr(e: pb::Expression, sql_expr: &str) {
    check(
        project(read("t"), vec![col("a"), alias(e, "e")]),
        &format!("SELECT a, {sql_expr} AS e FROM t"),
    )
    .await;
}

#[tokio::test]
async fn literal_column_alias_binary() {
    check_expr(bin(qcol("t", "a"), Op::Plus, int(1)), "t.a + 1").await;
    check_expr(bin(col("b"), Op::StringConcat, string("!")), "b || '!'").await;
    check_expr(
        bin(
            bin(col("a"), Op::Gt, int(1)),
            Op::And,
            bin(col("c"), Op::LtEq, float(2.0)),
        ),
        "a > 1 AND c <= 2.0",
    )
    .await;
    check_expr(
        bin(col("a"), Op::IsDistinctFrom, int(2)),
        "a IS DISTINCT FROM 2",
    )
    .await;
    check_expr(bin(col("a"), Op::Modulo, int(2)), "a % 2").await;
}

#[tokio::test]
async fn not_negative_unary_predicates() {
    use pb::UnaryPredicateKind as K;
    check_expr(
        ex(ExprType::Not(Box::new(bin(col("a"), Op::Eq, int(2))))),
        "NOT (a = 2)",
    )
    .await;
    check_expr(ex(ExprType::Negative(Box::new(col("c")))), "-c").await;
    for (k, sql) in [
        (K::IsNull, "c IS NULL"),
        (K::IsNotNull, "c IS NOT NULL"),
        (K::IsTrue, "(c > 1) IS TRUE"),
        (K::IsFalse, "(c > 1) IS FALSE"),
        (K::IsUnknown, "(c > 1) IS UNKNOWN"),
        (K::IsNotTrue, "(c > 1) IS NOT TRUE"),
        (K::IsNotFalse, "(c > 1) IS NOT FALSE"),
        (K::IsNotUnknown, "(c > 1) IS NOT UNKNOWN"),
    ] {
        let operand = if matches!(k, K::IsNull | K::IsNotNull) {
            col("c")
        } else {
            bin(col("c"), Op::Gt, int(1))
        };
        check_expr(
            ex(ExprType::UnaryPredicate(Box::new(pb::UnaryPredicate {
                kind: k as i32,
                expression: bex(operand),
            }))),
            sql,
        )
        .await;
    }
}

#[tokio::test]
async fn between_case_cast() {
    check_expr(
        ex(ExprType::Between(Box::new(pb::Between {
            expression: bex(col("a")),
            negated: true,
            low: bex(int(2)),
            high: bex(int(3)),
        }))),
        "a NOT BETWEEN 2 AND 3",
    )
    .await;
    let wt = |w, t| pb::WhenThen {
        when: Some(w),
        then: Some(t),
    };
    check_expr(
        ex(ExprType::Case(Box::new(pb::Case {
            operand: None,
            when_then: vec![
                wt(bin(col("a"), Op::Lt, int(2)), string("small")),
                wt(bin(col("a"), Op::Lt, int(4)), string("mid")),
            ],
            else_result: bex(string("big")),
        }))),
        "CASE WHEN a < 2 THEN 'small' WHEN a < 4 THEN 'mid' ELSE 'big' END",
    )
    .await;
    check_expr(
        ex(ExprType::Case(Box::new(pb::Case {
            operand: bex(col("a")),
            when_then: vec![wt(int(2), string("two"))],
            else_result: None,
        }))),
        "CASE a WHEN 2 THEN 'two' END",
    )
    .await;
    let cast = |e, dt: pb::data_type::Kind, safe| {
        ex(ExprType::Cast(Box::new(pb::Cast {
            expression: bex(e),
            data_type: Some(pb::DataType { kind: Some(dt) }),
            safe,
        })))
    };
    check_expr(
        cast(
            col("c"),
            pb::data_type::Kind::Int32(pb::EmptyType {}),
            false,
        ),
        "CAST(c AS INT)",
    )
    .await;
    check_expr(
        cast(col("b"), pb::data_type::Kind::Int64(pb::EmptyType {}), true),
        "TRY_CAST(b AS BIGINT)",
    )
    .await;
}

#[tokio::test]
async fn in_list_and_like() {
    check_expr(
        ex(ExprType::InList(Box::new(pb::InList {
            expression: bex(col("a")),
            list: vec![int(1), int(3)],
            negated: false,
        }))),
        "a IN (1, 3)",
    )
    .await;
    let like = |pattern: &str, kind: pb::LikeKind, negated, escape: Option<&str>| {
        ex(ExprType::Like(Box::new(pb::Like {
            expression: bex(col("b")),
            pattern: bex(string(pattern)),
            negated,
            escape_char: escape.map(str::to_string),
            kind: kind as i32,
        })))
    };
    check_expr(
        like("x%", pb::LikeKind::Unspecified, false, None),
        "b LIKE 'x%'",
    )
    .await;
    check_expr(
        like("x%", pb::LikeKind::Ilike, true, None),
        "b NOT ILIKE 'x%'",
    )
    .await;
    // DataFusion only executes LIKE with a backslash escape.
    check_expr(
        like("x\\_%", pb::LikeKind::Unspecified, false, Some("\\")),
        "b LIKE 'x\\_%' ESCAPE '\\'",
    )
    .await;
    check_expr(
        like("(x|y)%", pb::LikeKind::SimilarTo, false, None),
        "b SIMILAR TO '(x|y)%'",
    )
    .await;
}

#[tokio::test]
async fn scalar_function_case_insensitive() {
    check_expr(call("UPPER", vec![col("b")]), "upper(b)").await;
    check_expr(
        call("substr", vec![col("b"), int(1), int(1)]),
        "substr(b, 1, 1)",
    )
    .await;
}

#[tokio::test]
async fn aggregate_function_options() {
    let mut f = agg("sum", vec![col("c")]);
    f.distinct = true;
    let mut g = agg("count", vec![col("a")]);
    g.filter = Some(Box::new(bin(col("c"), Op::Gt, float(1.0))));
    let mut h = agg("first_value", vec![col("b")]);
    h.order_by = vec![sort_order(col("a"), true)];
    h.ignore_nulls = true;
    let mut i = agg(
        "array_agg",
        vec![
            col("a"),
            ex(ExprType::SortOrder(Box::new(sort_order(col("a"), false)))),
        ],
    );
    i.distinct = false;
    check(
        aggregate(read("t"), vec![], vec![alias(agg_expr(f), "f"), alias(agg_expr(g), "g"), alias(agg_expr(h), "h"), alias(agg_expr(i), "i")]),
        "SELECT sum(DISTINCT c) AS f, count(a) FILTER (WHERE c > 1.0) AS g, \
         first_value(b ORDER BY a DESC NULLS FIRST) IGNORE NULLS AS h, array_agg(a ORDER BY a) AS i FROM t",
    )
    .await;
}

#[tokio::test]
async fn subqueries_and_outer_columns() {
    // Scalar subquery.
    let max_u = aggregate(
        read("u"),
        vec![],
        vec![agg_expr(agg("max", vec![col("a")]))],
    );
    check(
        filter(
            read("t"),
            bin(
                col("a"),
                Op::Lt,
                ex(ExprType::ScalarSubquery(Box::new(pb::ScalarSubquery {
                    subquery: bx(max_u),
                }))),
            ),
        ),
        "SELECT * FROM t WHERE a < (SELECT max(a) FROM u)",
    )
    .await;
    // Correlated EXISTS with an outer column.
    let correlated = filter(read("u"), bin(col("a"), Op::Eq, outer("a")));
    check(
        filter(
            read("t"),
            ex(ExprType::Exists(Box::new(pb::Exists {
                subquery: bx(correlated),
                negated: true,
            }))),
        ),
        "SELECT * FROM t WHERE NOT EXISTS (SELECT * FROM u WHERE u.a = t.a)",
    )
    .await;
    // IN (subquery).
    check(
        filter(
            read("t"),
            ex(ExprType::InSubquery(Box::new(pb::InSubquery {
                expression: bex(col("a")),
                subquery: bx(project(read("u"), vec![col("a")])),
                negated: false,
            }))),
        ),
        "SELECT * FROM t WHERE a IN (SELECT a FROM u)",
    )
    .await;
}

#[tokio::test]
async fn wildcard() {
    check(
        project(
            read("t"),
            vec![
                ex(ExprType::Wildcard(pb::Wildcard {
                    qualifier: vec!["t".into()],
                })),
                alias(int(1), "one"),
            ],
        ),
        "SELECT t.*, 1 AS one FROM t",
    )
    .await;
}

#[tokio::test]
async fn placeholder_and_udf() {
    let ctx = context().await;
    let schema = datafusion::common::DFSchema::empty();
    let e = ballista_core::serde::logical::logical_expr_from_proto(
        &ex(ExprType::Placeholder("$1".into())),
        &schema,
        &ctx.state(),
    )
    .await
    .unwrap();
    assert_eq!(e.to_string(), "$1");
    let back = ballista_core::serde::logical::logical_expr_to_proto(&e).unwrap();
    assert_eq!(back.expr_type, Some(ExprType::Placeholder("$1".into())));

    let udf = ex(ExprType::Udf(pb::UdfCall {
        function: Some(pb::UdfDefinition {
            language: "python".into(),
            name: "double_it".into(),
            ..Default::default()
        }),
        arguments: vec![col("a")],
        return_type: None,
    }));
    let msg = decode_error(&project(read("t"), vec![udf])).await;
    assert!(msg.contains("udf.function.payload"), "{msg}");

    // With a body and a return type it plans as a function of that name
    // and type, which the scheduler cannot run (the executors do).
    let udf = pb::UdfCall {
        function: Some(pb::UdfDefinition {
            language: "python".into(),
            name: "double_it".into(),
            payload: vec![1, 2, 3],
            runtime_version: "3.11.2".into(),
            deterministic: true,
        }),
        arguments: vec![col("a")],
        return_type: Some(
            ballista_core::serde::types::data_type_to_proto(&arrow::datatypes::DataType::Utf8)
                .unwrap(),
        ),
    };
    let schema = datafusion::common::DFSchema::try_from(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("a", arrow::datatypes::DataType::Int64, true),
    ]))
    .unwrap();
    let e = ballista_core::serde::logical::logical_expr_from_proto(
        &ex(ExprType::Udf(udf)),
        &schema,
        &ctx.state(),
    )
    .await
    .unwrap();
    assert_eq!(e.to_string(), "double_it(a)");
    let (_, field) = datafusion::logical_expr::ExprSchemable::to_field(&e, &schema).unwrap();
    assert_eq!(field.data_type(), &arrow::datatypes::DataType::Utf8);
}

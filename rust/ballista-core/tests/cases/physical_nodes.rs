//! One round trip per physical operator and expression kind of the spec
//! (including those TPC-H does not use), and malformed-input errors.

use std::sync::Arc;

use ballista_core::serde::physical::{
    DefaultPhysicalExtensionCodec, configure_session_for_spec, physical_plan_from_bytes,
    physical_plan_from_proto, physical_plan_to_proto,
};
use ballista_core::serde::types::{batches_to_ipc, data_type_to_proto, schema_to_proto};
use ballista_proto::v1 as pb;
use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::physical_plan::collect;
use datafusion::prelude::{SessionConfig, SessionContext};
use prost::Message;

use crate::support::tpch::canonical_rows;

use pb::physical_expr::ExprType;
use pb::physical_plan_node::Node;

fn batch() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int32, false),
        Field::new("b", DataType::Int32, true),
        Field::new("c", DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from(vec![1, 2, 3, 2, 5])),
            Arc::new(Int32Array::from(vec![
                Some(10),
                None,
                Some(30),
                Some(20),
                Some(50),
            ])),
            Arc::new(StringArray::from(vec![
                Some("x1"),
                Some("y2"),
                None,
                Some("x4"),
                Some("12"),
            ])),
        ],
    )
    .unwrap()
}

async fn context(config: SessionConfig) -> SessionContext {
    let ctx = SessionContext::new_with_config(configure_session_for_spec(
        config.with_target_partitions(2),
    ));
    ctx.register_batch("t1", batch()).unwrap();
    ctx.register_batch("t2", batch()).unwrap();
    ctx
}

/// Plans `sql`, round-trips the plan through bytes, checks that the
/// encoding mentions `expect` (a spec node or expression kind), that
/// re-encoding is idempotent, and that both plans return the same rows.
async fn check(ctx: &SessionContext, sql: &str, expect: &[&str]) {
    let codec = DefaultPhysicalExtensionCodec;
    let plan = ctx
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let proto = physical_plan_to_proto(&plan, &codec).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let debug = format!("{proto:?}");
    for e in expect {
        assert!(
            debug.contains(e),
            "{sql}: expected `{e}` in the encoded plan:\n{debug}"
        );
    }
    let bytes = proto.encode_to_vec();
    let task = ctx.task_ctx();
    let decoded =
        physical_plan_from_bytes(&bytes, &task, &codec).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let again = physical_plan_to_proto(&decoded, &codec)
        .unwrap()
        .encode_to_vec();
    if bytes != again {
        let again = pb::PhysicalPlanNode::decode(again.as_slice()).unwrap();
        panic!("{sql}: re-encoding changed the bytes:\n{debug}\n---\n{again:?}");
    }
    let expected = collect(plan, Arc::clone(&task)).await.unwrap();
    let actual = collect(decoded, task).await.unwrap();
    assert!(
        !canonical_rows(&expected).is_empty() || sql.contains("false"),
        "{sql}: no rows"
    );
    assert_eq!(canonical_rows(&expected), canonical_rows(&actual), "{sql}");
}

#[tokio::test]
async fn operators_round_trip() {
    let ctx = context(SessionConfig::new()).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "select a, sum(b) over (partition by a order by b), row_number() over (order by b), \
          lag(b, 1) over (order by a) from t1",
            &["Window(", "row_number", "lag"],
        ),
        (
            "select t1.a, t2.b from t1 join t2 on t1.a < t2.b",
            &["NestedLoopJoin("],
        ),
        ("select t1.a, t2.a from t1 cross join t2", &["CrossJoin("]),
        (
            "select * from (values (1, 'x'), (2, 'y')) v(p, q)",
            &["Values("],
        ),
        ("select a from t1 where false", &["Empty("]),
        ("select 1 as one", &["PlaceholderRow("]),
        (
            "select a, b, count(*) from t1 group by rollup(a, b)",
            &["GroupingSetMask", "null_group_by"],
        ),
        (
            "select count(distinct b), sum(b) filter (where b > 15), array_agg(a order by b) from t1",
            &["distinct: true", "filter: Some"],
        ),
        (
            "select a, count(*) from t1 group by a order by a desc limit 2 offset 1",
            &["GlobalLimit(", "SortPreservingMerge(", "fetch: Some"],
        ),
        (
            "select * from t1 where a in (select b from t2) or a = 5",
            &["HashJoin("],
        ),
        (
            "select * from t1 where not exists (select 1 from t2 where t2.b = t1.b and t2.a > t1.a)",
            &["JoinFilter"],
        ),
        (
            "select * from t1 where b not in (select b from t2 where a > 3)",
            &["null_aware: true"],
        ),
        (
            "select t1.a, t2.c from t1 full join t2 on t1.a = t2.b",
            &["HashJoin("],
        ),
        (
            "select * from t1 where b is not distinct from 20",
            &["IsNotDistinctFrom"],
        ),
    ];
    for (sql, expect) in cases {
        check(&ctx, sql, expect).await;
    }
    // The union aligns its inputs with casts whose target field is
    // nullable; without that nullability the decoder's `UnionExec` would
    // add projections and the bytes would change.
    check(
        &ctx,
        "select a from t1 union all select b from t2",
        &["Union(", "nullable: Some(true)"],
    )
    .await;
}

#[tokio::test]
async fn sort_merge_join_round_trips() {
    let config = SessionConfig::new().set_bool("datafusion.optimizer.prefer_hash_join", false);
    let ctx = context(config).await;
    check(
        &ctx,
        "select t1.a, t2.c from t1 join t2 on t1.a = t2.a",
        &["SortMergeJoin("],
    )
    .await;
    check(
        &ctx,
        "select t1.a, t2.c from t1 left join t2 on t1.a = t2.a and t1.b > t2.b",
        &["SortMergeJoin(", "JoinFilter"],
    )
    .await;
}

#[tokio::test]
async fn expressions_round_trip() {
    let ctx = context(SessionConfig::new()).await;
    check(
        &ctx,
        "select case when a > 2 then 'big' when a = 2 then 'two' else 'small' end, \
         case a when 1 then 'one' end, a in (1, 2, 3, 4, 5, 7), a not in (3, 4, 6, 8, 9), c like 'x%', c not ilike 'X%', \
         c is null, b is not null, not starts_with(c, 'x'), -a, cast(a as varchar), try_cast(c as int), \
         upper(c), substr(c, 1, 1), a * 2 + b % 3, coalesce(b, 0) from t1",
        &[
            "Case(",
            "InList(",
            "Like(",
            "IsNull(",
            "IsNotNull(",

            "Negative(",
            "Cast(",
            "safe: true",
            "ScalarFunction(",
            "\"upper\"",
            "Binary(",
        ],
    )
    .await;
}

#[tokio::test]
async fn long_in_lists_travel_as_one_arrow_array() {
    // More than 64 constants: a runtime filter's build keys are lists like
    // these, up to a million long.
    let ctx = context(SessionConfig::new()).await;
    let ints: Vec<String> = (2..200).map(|i| i.to_string()).collect();
    let strings: Vec<String> = (0..100).map(|i| format!("'x{i}'")).collect();
    check(
        &ctx,
        &format!(
            "select a, c from t1 where a in ({}) and c in ({}, NULL)",
            ints.join(", "),
            strings.join(", ")
        ),
        &["values_ipc_stream: [255, 255, 255, 255", "list: []"],
    )
    .await;
    check(
        &ctx,
        &format!(
            "select a from t1 where a not in ({})",
            ints[100..].join(", ")
        ),
        &["values_ipc_stream: [255, 255, 255, 255", "negated: true"],
    )
    .await;
    // Not every value is a constant: a list of expressions, as before.
    let exprs: Vec<String> = (0..80).map(|i| format!("a + {i}")).collect();
    check(
        &ctx,
        &format!("select a from t1 where b in ({})", exprs.join(", ")),
        &["values_ipc_stream: []"],
    )
    .await;
}

#[tokio::test]
async fn file_scans_round_trip() {
    let dir = std::env::temp_dir().join(format!("ballista-physical-scans-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctx = context(SessionConfig::new()).await;
    for (format, opts) in [
        ("csv", "OPTIONS ('format.has_header' 'true')"),
        ("json", ""),
        ("arrow", ""),
        ("parquet", ""),
    ] {
        let path = dir.join(format!("t.{format}"));
        let path = path.to_str().unwrap();
        ctx.sql(&format!("COPY t1 TO '{path}' STORED AS {format}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        ctx.sql(&format!(
            "CREATE EXTERNAL TABLE s_{format} STORED AS {format} LOCATION '{path}' {opts}"
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        let expect: &[&str] = match format {
            "csv" => &["FileScan(", "Csv(CsvScanOptions"],
            "parquet" => &[
                "FileScan(",
                "Parquet(ParquetScanOptions",
                "pruning_predicate: Some",
            ],
            _ => &["FileScan("],
        };
        check(
            &ctx,
            &format!("select a, c from s_{format} where a > 1"),
            expect,
        )
        .await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- malformed input ------------------------------------------------------

fn col(name: &str, index: u32) -> pb::PhysicalExpr {
    pb::PhysicalExpr {
        expr_type: Some(ExprType::Column(pb::PhysicalColumn {
            name: name.into(),
            index,
        })),
    }
}

fn values() -> pb::PhysicalPlanNode {
    let b = batch();
    pb::PhysicalPlanNode {
        node: Some(Node::Values(pb::ValuesExec {
            schema: Some(schema_to_proto(&b.schema()).unwrap()),
            partitions: vec![pb::ValuesPartition {
                arrow_ipc_stream: batches_to_ipc(&b.schema(), &[b]).unwrap(),
            }],
        })),
    }
}

fn filter(predicate: Option<pb::PhysicalExpr>) -> pb::PhysicalPlanNode {
    pb::PhysicalPlanNode {
        node: Some(Node::Filter(Box::new(pb::FilterExec {
            input: Some(Box::new(values())),
            predicate,
            projection: None,
            default_selectivity: 20,
        }))),
    }
}

fn decode_err(node: &pb::PhysicalPlanNode) -> String {
    let ctx = SessionContext::new();
    match physical_plan_from_proto(node, &ctx.task_ctx(), &DefaultPhysicalExtensionCodec) {
        Ok(p) => panic!("expected an error, decoded {}", p.name()),
        Err(e) => e.to_string(),
    }
}

fn binary(l: pb::PhysicalExpr, op: i32, r: pb::PhysicalExpr) -> pb::PhysicalExpr {
    pb::PhysicalExpr {
        expr_type: Some(ExprType::Binary(Box::new(pb::PhysicalBinaryExpr {
            left: Some(Box::new(l)),
            op,
            right: Some(Box::new(r)),
        }))),
    }
}

#[test]
fn valid_hand_built_plan_decodes() {
    // The fixtures below are only meaningful if the unbroken plan decodes.
    let ok = filter(Some(binary(
        col("a", 0),
        pb::BinaryOperator::Gt as i32,
        col("b", 1),
    )));
    let ctx = SessionContext::new();
    physical_plan_from_proto(&ok, &ctx.task_ctx(), &DefaultPhysicalExtensionCodec).unwrap();
}

#[test]
fn malformed_plans_name_the_field() {
    let ctx = SessionContext::new();
    let bytes = filter(Some(col("a", 0))).encode_to_vec();
    let err = physical_plan_from_bytes(
        &bytes[..bytes.len() / 2],
        &ctx.task_ctx(),
        &DefaultPhysicalExtensionCodec,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("malformed protobuf"), "{err}");

    let err = decode_err(&filter(None));
    assert!(
        err.contains("missing required field `FilterExec.predicate`"),
        "{err}"
    );

    let err = decode_err(&filter(Some(col("a", 7))));
    assert!(
        err.contains("FilterExec.predicate.column.index")
            && err.contains("out of range")
            && err.contains("a, b, c"),
        "{err}"
    );

    let err = decode_err(&filter(Some(col("zz", 1))));
    assert!(
        err.contains("named `b` in the input schema, not `zz`"),
        "{err}"
    );

    let err = decode_err(&filter(Some(col("a", 0))));
    assert!(
        err.contains("FilterExec.predicate: a filter predicate must be boolean, found Int32"),
        "{err}"
    );

    let err = decode_err(&filter(Some(binary(col("a", 0), 999, col("b", 1)))));
    assert!(
        err.contains("FilterExec.predicate.binary.op: unknown enum value 999"),
        "{err}"
    );

    let err = decode_err(&filter(Some(binary(
        col("a", 0),
        pb::BinaryOperator::And as i32,
        col("c", 2),
    ))));
    assert!(err.contains("FilterExec.predicate.binary"), "{err}");

    let cast = pb::PhysicalExpr {
        expr_type: Some(ExprType::Cast(Box::new(pb::PhysicalCast {
            expression: Some(Box::new(col("a", 0))),
            data_type: Some(data_type_to_proto(&DataType::Boolean).unwrap()),
            safe: false,
            nullable: None,
            metadata: vec![pb::KeyValue {
                key: "k".into(),
                value: "v".into(),
            }],
        }))),
    };
    let err = decode_err(&filter(Some(cast)));
    assert!(
        err.contains("FilterExec.predicate.cast.metadata")
            && err.contains("only allowed together with `nullable`"),
        "{err}"
    );

    let call = |name: &str| pb::PhysicalExpr {
        expr_type: Some(ExprType::ScalarFunction(pb::PhysicalScalarFunction {
            name: name.into(),
            arguments: vec![col("c", 2)],
            return_type: Some(data_type_to_proto(&DataType::Utf8).unwrap()),
            nullable: true,
        })),
    };
    let err = decode_err(&filter(Some(call("uper"))));
    assert!(err.contains("FilterExec.predicate.scalar_function.name: unknown function `uper`; did you mean `upper`?"), "{err}");
    let err = decode_err(&filter(Some(call("character_length"))));
    assert!(
        err.contains("scalar_function.return_type") && err.contains("plan says Utf8"),
        "{err}"
    );

    let join = |jt: i32| pb::PhysicalPlanNode {
        node: Some(Node::HashJoin(Box::new(pb::HashJoinExec {
            left: Some(Box::new(values())),
            right: Some(Box::new(values())),
            on: vec![
                pb::PhysicalJoinOn {
                    left: Some(col("a", 0)),
                    right: Some(col("a", 0)),
                },
                pb::PhysicalJoinOn {
                    left: Some(col("b", 1)),
                    right: Some(col("q", 5)),
                },
            ],
            join_type: jt,
            partition_mode: pb::PartitionMode::CollectLeft as i32,
            ..Default::default()
        }))),
    };
    let err = decode_err(&join(42));
    assert!(
        err.contains("HashJoinExec.on[1].right.column.index"),
        "{err}"
    );
    let err = decode_err(&pb::PhysicalPlanNode {
        node: Some(Node::HashJoin(Box::new(pb::HashJoinExec {
            left: Some(Box::new(values())),
            right: Some(Box::new(values())),
            join_type: 42,
            ..Default::default()
        }))),
    });
    assert!(
        err.contains("HashJoinExec.join_type: unknown enum value 42"),
        "{err}"
    );

    let in_list = |list: Vec<pb::PhysicalExpr>, values: Vec<u8>| pb::PhysicalExpr {
        expr_type: Some(ExprType::InList(Box::new(pb::PhysicalInList {
            expression: Some(Box::new(col("a", 0))),
            list,
            negated: false,
            values_ipc_stream: values,
        }))),
    };
    let int_values = |fields: Vec<Field>| {
        let schema = Arc::new(Schema::new(fields));
        let columns = schema
            .fields()
            .iter()
            .map(|f| new_null_array(f.data_type(), 2))
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
        batches_to_ipc(&schema, &[batch]).unwrap()
    };
    let one = int_values(vec![Field::new("v", DataType::Int32, true)]);
    let err = decode_err(&filter(Some(in_list(vec![col("a", 0)], one))));
    assert!(
        err.contains("FilterExec.predicate.in_list: both `list` and `values_ipc_stream` are set"),
        "{err}"
    );
    let err = decode_err(&filter(Some(in_list(vec![], vec![1, 2, 3]))));
    assert!(
        err.contains("FilterExec.predicate.in_list.values_ipc_stream: not an Arrow IPC stream"),
        "{err}"
    );
    let two = int_values(vec![
        Field::new("v", DataType::Int32, true),
        Field::new("w", DataType::Int32, true),
    ]);
    let err = decode_err(&filter(Some(in_list(vec![], two))));
    assert!(
        err.contains("in_list.values_ipc_stream: holds 2 columns; an IN list's values are one"),
        "{err}"
    );
    let strings = int_values(vec![Field::new("v", DataType::Utf8, true)]);
    let err = decode_err(&filter(Some(in_list(vec![], strings))));
    assert!(
        err.contains("FilterExec.predicate.in_list") && err.contains("Utf8"),
        "{err}"
    );

    let err = decode_err(&pb::PhysicalPlanNode {
        node: Some(Node::ShuffleRead(pb::ShuffleReadExec::default())),
    });
    assert!(
        err.contains("ShuffleReadExec is a runtime operator"),
        "{err}"
    );
}

#[tokio::test]
async fn not_expr_round_trips() {
    // The SQL simplifier rewrites `NOT` away (`not (b > 15)` becomes
    // `b <= 15`), so the plan is built by hand: NOT over a nullable
    // comparison, as a filter predicate and as a projected column.
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{binary, col, lit, not};
    use datafusion::physical_plan::ExecutionPlan;
    use datafusion::physical_plan::filter::FilterExec;
    use datafusion::physical_plan::projection::ProjectionExec;

    let b = batch();
    let schema = b.schema();
    let source = MemorySourceConfig::try_new_exec(&[vec![b]], Arc::clone(&schema), None).unwrap();
    let gt =
        |name: &str, v: i32| binary(col(name, &schema).unwrap(), Operator::Gt, lit(v), &schema);
    let filter = Arc::new(FilterExec::try_new(not(gt("a", 4).unwrap()).unwrap(), source).unwrap());
    let plan: Arc<dyn ExecutionPlan> = Arc::new(
        ProjectionExec::try_new(
            vec![
                (col("a", &schema).unwrap(), "a".to_string()),
                (not(gt("b", 15).unwrap()).unwrap(), "b_small".to_string()),
            ],
            filter,
        )
        .unwrap(),
    );

    let (proto, rows) =
        crate::support::physical::round_trip(plan, &DefaultPhysicalExtensionCodec).await;
    let debug = format!("{proto:?}");
    assert_eq!(debug.matches("Not(").count(), 2, "{debug}");
    // a = 5 is filtered out; b = NULL gives NOT NULL = NULL.
    assert_eq!(rows, ["1|true", "2|NULL", "2|false", "3|false"]);
}

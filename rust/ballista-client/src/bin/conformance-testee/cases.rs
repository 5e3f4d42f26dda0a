//! The conformance cases, built with the Rust builder API.
//!
//! Shared (by `#[path]`) between the `conformance-testee` binary and
//! `tests/conformance.rs`, so the bytes the cross-language runner compares
//! and the bytes the in-process test compares come from the same code.
//! Each case uses only the public builder API, as a user would: this file
//! is the reference that the Python and Java testees translate, case by
//! case. Case metadata (description, tables, ordering) is written to
//! `case.json` when the golden files are blessed.

use arrow::datatypes::{DataType, TimeUnit};
use ballista_client::expr::{
    Expr, FrameBound, Window, call, call_aggregate, case, col, exists, lit, lit_date, lit_decimal,
    lit_interval, lit_interval_day_time, lit_interval_year_month, lit_null, lit_time,
    lit_timestamp, outer_col, placeholder, qualified_col, qualified_wildcard, scalar_subquery,
    when, wildcard,
};
use ballista_client::functions as f;
use ballista_client::{DataFrame, JoinType, ReadOptions, Result};
use ballista_proto::v1::BinaryOperator;

/// One conformance case.
pub struct Case {
    /// Directory name under `integration/conformance/cases/`.
    pub name: &'static str,
    /// What the case pins, in one sentence.
    pub description: &'static str,
    /// Tables of `tables/tables.json` the plan reads.
    pub tables: &'static [&'static str],
    /// Whether the expected rows are in a defined order.
    pub ordered: bool,
    /// Builds the plan.
    pub build: fn() -> Result<DataFrame>,
}

fn people() -> DataFrame {
    DataFrame::read_table("people")
}

fn depts() -> DataFrame {
    DataFrame::read_table("depts")
}

fn orders() -> DataFrame {
    DataFrame::read_table("orders")
}

/// Every case, in a stable order.
pub fn all() -> Vec<Case> {
    vec![
        Case {
            name: "read_table",
            description: "Scan a catalog table (ReadTable).",
            tables: &["people"],
            ordered: false,
            build: || Ok(people()),
        },
        Case {
            name: "read_files_csv",
            description: "Scan a CSV file by path with a format option; the schema is inferred. \
                          Paths are relative to integration/conformance/.",
            tables: &[],
            ordered: false,
            build: || {
                Ok(DataFrame::read_csv(
                    ["tables/orders.csv"],
                    ReadOptions::new().option("has_header", "true"),
                ))
            },
        },
        Case {
            name: "sql",
            description: "A SQL text relation, ordered by the query.",
            tables: &["people"],
            ordered: true,
            build: || {
                Ok(DataFrame::sql(
                    "SELECT id, name, salary FROM people WHERE dept_id = 10 ORDER BY id",
                ))
            },
        },
        Case {
            name: "values",
            description: "Literal rows with named columns, including typed nulls.",
            tables: &[],
            ordered: false,
            build: || {
                Ok(DataFrame::values(
                    [
                        vec![lit(1_i64), lit("one"), lit(1.5), lit(true)],
                        vec![
                            lit(2_i64),
                            lit_null(&DataType::Utf8)?,
                            lit_null(&DataType::Float64)?,
                            lit(false),
                        ],
                    ],
                    ["n", "word", "x", "flag"],
                ))
            },
        },
        Case {
            name: "literals",
            description: "One row of every scalar literal kind that CSV can print \
                          (integers of each width, floats, strings, decimal, date, time, timestamps).",
            tables: &[],
            ordered: false,
            build: || {
                Ok(DataFrame::empty(true).select([
                    lit(-8_i8).alias("i8"),
                    lit(-16_i16).alias("i16"),
                    lit(-32_i32).alias("i32"),
                    lit(-64_i64).alias("i64"),
                    lit(8_u8).alias("u8"),
                    lit(16_u16).alias("u16"),
                    lit(32_u32).alias("u32"),
                    lit(64_u64).alias("u64"),
                    lit(0.25_f32).alias("f32"),
                    lit(-2.5_f64).alias("f64"),
                    lit("héllo").alias("utf8"),
                    lit(true).alias("bool"),
                    lit_decimal(-12345, 7, 2).alias("dec"),
                    lit_date(2024, 2, 29).alias("date"),
                    lit_time(3_723, TimeUnit::Second).alias("time"),
                    lit_timestamp(1_700_000_000_123_456, TimeUnit::Microsecond, None).alias("ts"),
                    lit_timestamp(1_700_000_000, TimeUnit::Second, Some("+02:00")).alias("ts_tz"),
                    lit_null(&DataType::Int32)?.alias("null_i32"),
                ]))
            },
        },
        Case {
            name: "empty_no_rows",
            description: "An EmptyRelation without rows, projected: a header and no data.",
            tables: &[],
            ordered: false,
            build: || Ok(DataFrame::empty(false).select([lit(1_i64).alias("one")])),
        },
        Case {
            name: "filter_and_or",
            description: "Filter with AND/OR over nulls: a row whose predicate is NULL is dropped.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .filter(
                        col("salary")
                            .gt_eq(lit_decimal(420050, 10, 2))
                            .and(col("dept_id").not_eq(lit(30_i64)))
                            .or(col("name").eq(lit("Eve"))),
                    )
                    .select_columns(&["id", "name"]))
            },
        },
        Case {
            name: "comparisons",
            description: "Every comparison operator, null-safe (IS [NOT] DISTINCT FROM) included.",
            tables: &["people"],
            ordered: false,
            build: || {
                let d = || col("dept_id");
                Ok(people().select([
                    col("id"),
                    d().eq(lit(20_i64)).alias("eq"),
                    d().not_eq(lit(20_i64)).alias("not_eq"),
                    d().lt(lit(20_i64)).alias("lt"),
                    d().lt_eq(lit(20_i64)).alias("lt_eq"),
                    d().gt(lit(20_i64)).alias("gt"),
                    d().gt_eq(lit(20_i64)).alias("gt_eq"),
                    d().is_distinct_from(lit(20_i64)).alias("distinct"),
                    d().is_not_distinct_from(lit(20_i64)).alias("not_distinct"),
                ]))
            },
        },
        Case {
            name: "arithmetic",
            description: "+ - * / % and unary minus on integers and decimals; integer division truncates.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    (col("id") + lit(1_i64)).alias("plus"),
                    (col("id") - lit(1_i64)).alias("minus"),
                    (col("id") * lit(2_i64) + lit(1_i64)).alias("times_plus"),
                    (col("id") / lit(2_i64)).alias("div"),
                    (col("id") % lit(4_i64)).alias("modulo"),
                    (-col("id")).alias("neg"),
                    (col("salary") * lit(2_i64)).alias("double_salary"),
                ]))
            },
        },
        Case {
            name: "bitwise_and_strings_ops",
            description: "Bitwise operators, string concatenation and regex match as binary operators.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    (col("id") & lit(3_i64)).alias("band"),
                    (col("id") | lit(8_i64)).alias("bor"),
                    (col("id") ^ lit(1_i64)).alias("bxor"),
                    (col("id") << lit(2_i64)).alias("shl"),
                    (col("id") >> lit(1_i64)).alias("shr"),
                    col("name").concat(lit("!")).alias("shout"),
                    col("name")
                        .binary_op(BinaryOperator::RegexMatch, lit("^[A-C]"))
                        .alias("a_to_c"),
                    col("name")
                        .binary_op(BinaryOperator::RegexImatch, lit("^b"))
                        .alias("b_ci"),
                ]))
            },
        },
        Case {
            name: "unary_predicates",
            description: "NOT and every IS [NOT] NULL/TRUE/FALSE/UNKNOWN test over a nullable boolean.",
            tables: &["people"],
            ordered: false,
            build: || {
                let a = || col("active");
                Ok(people().select([
                    col("id"),
                    (!a()).alias("not_active"),
                    a().is_null().alias("is_null"),
                    a().is_not_null().alias("is_not_null"),
                    a().is_true().alias("is_true"),
                    a().is_false().alias("is_false"),
                    a().is_unknown().alias("is_unknown"),
                    a().is_not_true().alias("is_not_true"),
                    a().is_not_false().alias("is_not_false"),
                    a().is_not_unknown().alias("is_not_unknown"),
                ]))
            },
        },
        Case {
            name: "between_in_list",
            description: "[NOT] BETWEEN and [NOT] IN (list), with nulls on either side.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    col("salary")
                        .between(lit_decimal(400000, 10, 2), lit_decimal(500000, 10, 2))
                        .alias("between"),
                    col("id")
                        .not_between(lit(2_i64), lit(4_i64))
                        .alias("not_between"),
                    col("dept_id")
                        .in_list([lit(10_i64), lit(30_i64)], false)
                        .alias("in_list"),
                    col("dept_id")
                        .in_list([lit(10_i64), lit(30_i64)], true)
                        .alias("not_in_list"),
                ]))
            },
        },
        Case {
            name: "like",
            description: "LIKE, NOT LIKE, ILIKE and SIMILAR TO over a nullable string.",
            tables: &["people"],
            ordered: false,
            build: || {
                let n = || col("name");
                Ok(people().select([
                    col("id"),
                    n().like(lit("A%")).alias("like"),
                    n().not_like(lit("%o%")).alias("not_like"),
                    n().ilike(lit("c%")).alias("ilike"),
                    n().not_ilike(lit("%E")).alias("not_ilike"),
                    // Anchored or not, and with or without `%` translation, this
                    // pattern means the same (DataFusion treats SIMILAR TO
                    // patterns as unanchored regular expressions).
                    n().similar_to(lit("(A|E)[a-z]*")).alias("similar_to"),
                ]))
            },
        },
        Case {
            name: "case_when",
            description: "Searched CASE with ELSE and simple CASE without ELSE (NULL when nothing matches).",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    when(col("salary").gt_eq(lit_decimal(500000, 10, 2)))
                        .then(lit("high"))
                        .when(col("salary").gt_eq(lit_decimal(400000, 10, 2)))
                        .then(lit("mid"))
                        .otherwise(lit("low"))
                        .alias("band"),
                    case(col("dept_id"))
                        .when(lit(10_i64))
                        .then(lit("eng"))
                        .when(lit(20_i64))
                        .then(lit("sales"))
                        .end()
                        .alias("dept"),
                ]))
            },
        },
        Case {
            name: "cast",
            description: "CAST and TRY_CAST (NULL where a value does not convert).",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    col("salary").cast(&DataType::Float64)?.alias("salary_f64"),
                    col("id").cast(&DataType::Utf8)?.alias("id_str"),
                    col("hired").cast(&DataType::Utf8)?.alias("hired_str"),
                    col("name").try_cast(&DataType::Int64)?.alias("name_int"),
                    lit("42").try_cast(&DataType::Int32)?.alias("forty_two"),
                ]))
            },
        },
        Case {
            name: "scalar_functions",
            description: "Common scalar functions by name: string, math, date and null handling.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    f::upper(col("name")).alias("upper"),
                    f::lower(col("name")).alias("lower"),
                    f::substring(col("name"), lit(2_i64), lit(3_i64)).alias("substr"),
                    f::length(col("name")).alias("length"),
                    f::coalesce([col("name"), lit("unknown")]).alias("coalesce"),
                    f::concat([col("name"), lit("#"), col("id").cast(&DataType::Utf8)?])
                        .alias("concat"),
                    f::round(col("salary").cast(&DataType::Float64)? / lit(3.0_f64), 1)
                        .alias("round"),
                    f::abs(lit(3_i64) - col("id")).alias("abs"),
                    f::date_part("year", col("hired")).alias("year"),
                    call("nullif", [col("dept_id"), lit(20_i64)]).alias("nullif"),
                ]))
            },
        },
        Case {
            name: "date_interval_arithmetic",
            description: "Date plus/minus each interval literal kind, and date comparison.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().select([
                    col("id"),
                    (col("hired") + lit_interval(1, 2, 0)).alias("plus_month_day_nano"),
                    (col("hired") - lit_interval_day_time(10, 0)).alias("minus_day_time"),
                    (col("hired") + lit_interval_year_month(12)).alias("plus_year_month"),
                    col("hired").gt(lit_date(2020, 1, 1)).alias("after_2020"),
                ]))
            },
        },
        Case {
            name: "aggregate_group_by",
            description: "GROUP BY a nullable key with sum/avg/count/min/max; NULL forms its own group.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().group_by([col("dept_id")]).agg([
                    f::sum(col("salary")).alias("total"),
                    f::avg(col("salary")).alias("average"),
                    f::count(col("id")).alias("n"),
                    f::min(col("name")).alias("first_name"),
                    f::max(col("hired")).alias("last_hired"),
                ]))
            },
        },
        Case {
            name: "aggregate_global",
            description: "Aggregate without grouping: count(*), count(DISTINCT), count(col) and a FILTER clause.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().aggregate(
                    [],
                    [
                        f::count_all().alias("rows"),
                        f::count_distinct(col("dept_id")).alias("depts"),
                        f::count(col("name")).alias("named"),
                        f::sum(col("salary"))
                            .filter(col("active").is_true())?
                            .alias("active_salary"),
                    ],
                ))
            },
        },
        Case {
            name: "aggregate_ordered",
            description: "Order-sensitive aggregates: first_value with sort key arguments (ties broken by id) and last_value with ORDER BY.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people().group_by([col("dept_id")]).agg([
                    call_aggregate(
                        "first_value",
                        [
                            col("name"),
                            Expr::from(col("salary").desc()),
                            Expr::from(col("id").asc()),
                        ],
                    )
                    .alias("best_paid"),
                    call_aggregate("last_value", [col("name")])
                        .order_by([col("id").asc()])?
                        .alias("last_by_id"),
                ]))
            },
        },
        Case {
            name: "aggregate_rollup",
            description: "GROUP BY ROLLUP: per status, plus a grand total row with a NULL key.",
            tables: &["orders"],
            ordered: false,
            build: || {
                Ok(orders().rollup([col("status")]).agg([
                    f::count_all().alias("n"),
                    f::max(col("amount")).alias("max_amount"),
                ]))
            },
        },
        Case {
            name: "aggregate_grouping_sets",
            description: "GROUP BY GROUPING SETS ((dept_id), (active), ()).",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .grouping_sets([vec![col("dept_id")], vec![col("active")], vec![]])
                    .agg([f::count_all().alias("n")]))
            },
        },
        Case {
            name: "join_inner_keys",
            description: "Inner equi-join on key columns of aliased inputs; qualified columns pick a side.",
            tables: &["people", "depts"],
            ordered: false,
            build: || {
                Ok(people()
                    .alias("p")
                    .join(
                        depts().alias("d"),
                        JoinType::Inner,
                        &["dept_id"],
                        &["dept_id"],
                    )
                    .select([
                        qualified_col("p", "id"),
                        qualified_col("p", "name"),
                        qualified_col("d", "dept_name"),
                    ]))
            },
        },
        Case {
            name: "join_left_condition",
            description: "Left join on a condition with a non-equi part; unmatched rows get NULLs.",
            tables: &["people", "orders"],
            ordered: false,
            build: || {
                Ok(orders()
                    .alias("o")
                    .join_on(
                        people().alias("p"),
                        JoinType::Left,
                        qualified_col("o", "customer_id")
                            .eq(qualified_col("p", "id"))
                            .and(qualified_col("o", "amount").gt(lit(20.0_f64))),
                    )
                    .select([qualified_col("o", "order_id"), qualified_col("p", "name")]))
            },
        },
        Case {
            name: "join_full",
            description: "Full outer join: unmatched rows of both sides appear.",
            tables: &["people", "depts"],
            ordered: false,
            build: || {
                Ok(people()
                    .alias("p")
                    .join(
                        depts().alias("d"),
                        JoinType::Full,
                        &["dept_id"],
                        &["dept_id"],
                    )
                    .select([qualified_col("p", "name"), qualified_col("d", "dept_name")]))
            },
        },
        Case {
            name: "join_semi",
            description: "Left semi join: people with at least one order.",
            tables: &["people", "orders"],
            ordered: false,
            build: || {
                Ok(people()
                    .join(orders(), JoinType::LeftSemi, &["id"], &["customer_id"])
                    .select_columns(&["id", "name"]))
            },
        },
        Case {
            name: "join_anti",
            description: "Left anti join: people without orders.",
            tables: &["people", "orders"],
            ordered: false,
            build: || {
                Ok(people()
                    .join(orders(), JoinType::LeftAnti, &["id"], &["customer_id"])
                    .select_columns(&["id", "name"]))
            },
        },
        Case {
            name: "cross_join",
            description: "Cross join of a filtered table with literal rows.",
            tables: &["depts"],
            ordered: false,
            build: || {
                Ok(depts()
                    .filter(col("dept_id").lt_eq(lit(20_i64)))
                    .select_columns(&["dept_name"])
                    .cross_join(DataFrame::values(
                        [vec![lit(1_i64)], vec![lit(2_i64)]],
                        ["n"],
                    )))
            },
        },
        Case {
            name: "sort_nulls",
            description: "Sort by a descending key (nulls first) then an ascending key with nulls first.",
            tables: &["people"],
            ordered: true,
            build: || {
                Ok(people()
                    .select_columns(&["id", "dept_id", "name"])
                    .sort([col("dept_id").desc(), col("name").asc().nulls_first()]))
            },
        },
        Case {
            name: "limit_offset",
            description: "Skip one row, then fetch two, after a sort.",
            tables: &["people"],
            ordered: true,
            build: || {
                Ok(people()
                    .sort([col("id").asc()])
                    .limit(1, Some(2))
                    .select_columns(&["id", "name"]))
            },
        },
        Case {
            name: "distinct",
            description: "DISTINCT over a nullable column: NULL is one value.",
            tables: &["people"],
            ordered: false,
            build: || Ok(people().select_columns(&["dept_id"]).distinct()),
        },
        Case {
            name: "union",
            description: "UNION (distinct) of two key columns.",
            tables: &["people", "depts"],
            ordered: false,
            build: || {
                Ok(people()
                    .select_columns(&["dept_id"])
                    .union(depts().select_columns(&["dept_id"])))
            },
        },
        Case {
            name: "union_all",
            description: "UNION ALL keeps duplicates.",
            tables: &["people", "depts"],
            ordered: false,
            build: || {
                Ok(people()
                    .select_columns(&["dept_id"])
                    .union_all(depts().select_columns(&["dept_id"])))
            },
        },
        Case {
            name: "intersect",
            description: "INTERSECT (distinct).",
            tables: &["people", "depts"],
            ordered: false,
            build: || {
                Ok(people()
                    .select_columns(&["dept_id"])
                    .intersect(depts().select_columns(&["dept_id"])))
            },
        },
        Case {
            name: "except",
            description: "EXCEPT (distinct): departments nobody works in.",
            tables: &["people", "depts"],
            ordered: false,
            build: || {
                Ok(depts()
                    .select_columns(&["dept_id"])
                    .except(people().select_columns(&["dept_id"])))
            },
        },
        Case {
            name: "window_ranking",
            description: "row_number per partition, then rank over the whole input (with ties) in a second Window.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .window([f::row_number()
                        .over(
                            Window::new()
                                .partition_by([col("dept_id")])
                                .order_by([col("salary").desc(), col("id").asc()]),
                        )?
                        .alias("rn")])
                    // One Window relation per window specification, as
                    // DataFusion's own planner groups them.
                    .window([f::rank()
                        .over(Window::new().order_by([col("salary").desc()]))?
                        .alias("rk")])
                    .select_columns(&["id", "rn", "rk"]))
            },
        },
        Case {
            name: "window_frames",
            description: "Aggregate window functions with a ROWS frame and without ORDER BY, and lag.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .window([f::sum(col("salary"))
                        .over(
                            Window::new()
                                .partition_by([col("dept_id")])
                                .order_by([col("id").asc()])
                                .rows_between(
                                    FrameBound::UnboundedPreceding,
                                    FrameBound::CurrentRow,
                                ),
                        )?
                        .alias("running")])
                    .window([f::count(col("id")).over(Window::new())?.alias("everyone")])
                    .window([f::lag(col("name"), 1)
                        .over(Window::new().order_by([col("id").asc()]))?
                        .alias("previous")])
                    .select_columns(&["id", "running", "everyone", "previous"]))
            },
        },
        Case {
            name: "subquery_alias_wildcard",
            description: "A subquery alias with a qualified filter and a qualified wildcard projection.",
            tables: &["depts"],
            ordered: false,
            build: || {
                Ok(depts()
                    .alias("d")
                    .filter(qualified_col("d", "dept_id").lt(lit(30_i64)))
                    .select([qualified_wildcard("d")]))
            },
        },
        Case {
            name: "wildcard",
            description: "SELECT *, extra: a wildcard followed by a computed column.",
            tables: &["depts"],
            ordered: false,
            build: || Ok(depts().select([wildcard(), (col("dept_id") * lit(10_i64)).alias("x10")])),
        },
        Case {
            name: "with_columns_drop",
            description: "WithColumns replaces one column in place and appends another; Drop removes columns.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .with_columns([
                        ("name", f::upper(col("name"))),
                        ("next_id", col("id") + lit(1_i64)),
                    ])
                    .drop(["salary", "hired", "active"]))
            },
        },
        Case {
            name: "with_columns_renamed",
            description: "Rename two columns at once; other columns keep their place.",
            tables: &["depts"],
            ordered: false,
            build: || Ok(depts().with_columns_renamed([("dept_id", "id"), ("dept_name", "name")])),
        },
        Case {
            name: "exists_correlated",
            description: "Correlated EXISTS: the subquery refers to the outer row with an outer column.",
            tables: &["people", "orders"],
            ordered: false,
            build: || {
                Ok(people()
                    .alias("p")
                    .filter(exists(
                        orders().filter(col("customer_id").eq(outer_col("p", "id"))),
                    ))
                    .select([qualified_col("p", "id"), qualified_col("p", "name")]))
            },
        },
        Case {
            name: "in_subquery",
            description: "IN (subquery) and NOT IN (subquery) without nulls in the subquery.",
            tables: &["people", "orders"],
            ordered: false,
            build: || {
                let customers = || {
                    orders()
                        .filter(col("customer_id").is_not_null())
                        .select_columns(&["customer_id"])
                };
                Ok(people()
                    .filter(
                        col("id")
                            .in_subquery(customers())
                            .or(col("id").gt(lit(5_i64)))
                            .and(col("id").not_in_subquery(
                                customers().filter(col("customer_id").eq(lit(1_i64))),
                            )),
                    )
                    .select_columns(&["id", "name"]))
            },
        },
        Case {
            name: "scalar_subquery",
            description: "A scalar subquery as a comparison operand: people paid above average.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .filter(col("salary").gt(scalar_subquery(
                        people().aggregate([], [f::avg(col("salary"))]),
                    )))
                    .select_columns(&["id", "name"]))
            },
        },
        Case {
            name: "placeholder",
            description: "A query parameter placeholder, bound to the case's param_values when executed.",
            tables: &["people"],
            ordered: false,
            build: || {
                Ok(people()
                    .filter(col("id").eq(placeholder("$1")))
                    .select_columns(&["id", "name"]))
            },
        },
    ]
}

/// Parameter values (canonical JSON of `ballista.v1.Literal`) bound to a
/// case's placeholders when it is executed; recorded in `case.json`.
pub fn param_values(case: &str) -> Vec<serde_json::Value> {
    match case {
        "placeholder" => vec![serde_json::json!({"int64Value": "3"})],
        _ => vec![],
    }
}

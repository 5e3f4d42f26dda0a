"""The Python testee of the cross-language conformance suite.

Builds every case of ``integration/conformance/`` with the Python builder
API, the way a user would, and prints one JSON line per case (the protocol
of ``integration/conformance/README.md``)::

    {"case": "read_table", "plan_base64": "...", "plan_json": {...}}
    {"case": "broken", "error": "why the builder failed"}

With case names as arguments, only those are printed. Each case translates
the one of the same name in
``rust/ballista-client/src/bin/conformance-testee/cases.rs``, the reference.
``tests/test_conformance.py`` compares the same builds with the golden files.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable

from ballista import (
    CURRENT_ROW,
    UNBOUNDED_PRECEDING,
    DataFrame,
    Window,
    call,
    call_aggregate,
    case,
    col,
    exists,
    lit,
    lit_date,
    lit_decimal,
    lit_interval,
    lit_interval_day_time,
    lit_interval_year_month,
    lit_null,
    lit_time,
    lit_timestamp,
    outer_col,
    placeholder,
    proto,
    qualified_col,
    qualified_wildcard,
    scalar_subquery,
    when,
    wildcard,
)
from ballista import functions as f


def people() -> DataFrame:
    return DataFrame.read_table("people")


def depts() -> DataFrame:
    return DataFrame.read_table("depts")


def orders() -> DataFrame:
    return DataFrame.read_table("orders")


def _customers() -> DataFrame:
    return orders().filter(col("customer_id").is_not_null()).select_columns("customer_id")


CASES: dict[str, Callable[[], DataFrame]] = {
    "read_table": lambda: people(),
    "read_files_csv": lambda: DataFrame.read_csv(["tables/orders.csv"], has_header=True),
    "sql": lambda: DataFrame.from_sql(
        "SELECT id, name, salary FROM people WHERE dept_id = 10 ORDER BY id"
    ),
    "values": lambda: DataFrame.values(
        [
            [lit(1), lit("one"), lit(1.5), lit(True)],
            [lit(2), lit_null("utf8"), lit_null("float64"), lit(False)],
        ],
        ["n", "word", "x", "flag"],
    ),
    "literals": lambda: DataFrame.empty(True).select(
        lit(-8, "int8").alias("i8"),
        lit(-16, "int16").alias("i16"),
        lit(-32, "int32").alias("i32"),
        lit(-64).alias("i64"),
        lit(8, "uint8").alias("u8"),
        lit(16, "uint16").alias("u16"),
        lit(32, "uint32").alias("u32"),
        lit(64, "uint64").alias("u64"),
        lit(0.25, "float32").alias("f32"),
        lit(-2.5).alias("f64"),
        lit("héllo").alias("utf8"),
        lit(True).alias("bool"),
        lit_decimal(-12345, 7, 2).alias("dec"),
        lit_date(2024, 2, 29).alias("date"),
        lit_time(3_723, "s").alias("time"),
        lit_timestamp(1_700_000_000_123_456, "us").alias("ts"),
        lit_timestamp(1_700_000_000, "s", "+02:00").alias("ts_tz"),
        lit_null("int32").alias("null_i32"),
    ),
    "empty_no_rows": lambda: DataFrame.empty(False).select(lit(1).alias("one")),
    "filter_and_or": lambda: people()
    .filter(
        (col("salary") >= lit_decimal(420050, 10, 2)) & (col("dept_id") != 30)
        | (col("name") == "Eve")
    )
    .select_columns("id", "name"),
    "comparisons": lambda: people().select(
        col("id"),
        (col("dept_id") == 20).alias("eq"),
        (col("dept_id") != 20).alias("not_eq"),
        (col("dept_id") < 20).alias("lt"),
        (col("dept_id") <= 20).alias("lt_eq"),
        (col("dept_id") > 20).alias("gt"),
        (col("dept_id") >= 20).alias("gt_eq"),
        col("dept_id").is_distinct_from(20).alias("distinct"),
        col("dept_id").is_not_distinct_from(20).alias("not_distinct"),
    ),
    "arithmetic": lambda: people().select(
        col("id"),
        (col("id") + 1).alias("plus"),
        (col("id") - 1).alias("minus"),
        (col("id") * 2 + 1).alias("times_plus"),
        (col("id") / 2).alias("div"),
        (col("id") % 4).alias("modulo"),
        (-col("id")).alias("neg"),
        (col("salary") * 2).alias("double_salary"),
    ),
    "bitwise_and_strings_ops": lambda: people().select(
        col("id"),
        col("id").bitwise_and(3).alias("band"),
        col("id").bitwise_or(8).alias("bor"),
        (col("id") ^ 1).alias("bxor"),
        (col("id") << 2).alias("shl"),
        (col("id") >> 1).alias("shr"),
        col("name").concat("!").alias("shout"),
        col("name").binary_op("regex_match", "^[A-C]").alias("a_to_c"),
        col("name").binary_op("regex_imatch", "^b").alias("b_ci"),
    ),
    "unary_predicates": lambda: people().select(
        col("id"),
        (~col("active")).alias("not_active"),
        col("active").is_null().alias("is_null"),
        col("active").is_not_null().alias("is_not_null"),
        col("active").is_true().alias("is_true"),
        col("active").is_false().alias("is_false"),
        col("active").is_unknown().alias("is_unknown"),
        col("active").is_not_true().alias("is_not_true"),
        col("active").is_not_false().alias("is_not_false"),
        col("active").is_not_unknown().alias("is_not_unknown"),
    ),
    "between_in_list": lambda: people().select(
        col("id"),
        col("salary").between(lit_decimal(400000, 10, 2), lit_decimal(500000, 10, 2)).alias("between"),
        col("id").not_between(2, 4).alias("not_between"),
        col("dept_id").in_list([10, 30]).alias("in_list"),
        col("dept_id").in_list([10, 30], negated=True).alias("not_in_list"),
    ),
    "like": lambda: people().select(
        col("id"),
        col("name").like("A%").alias("like"),
        col("name").not_like("%o%").alias("not_like"),
        col("name").ilike("c%").alias("ilike"),
        col("name").not_ilike("%E").alias("not_ilike"),
        col("name").similar_to("(A|E)[a-z]*").alias("similar_to"),
    ),
    "case_when": lambda: people().select(
        col("id"),
        when(col("salary") >= lit_decimal(500000, 10, 2))
        .then("high")
        .when(col("salary") >= lit_decimal(400000, 10, 2))
        .then("mid")
        .otherwise("low")
        .alias("band"),
        case(col("dept_id")).when(10).then("eng").when(20).then("sales").end().alias("dept"),
    ),
    "cast": lambda: people().select(
        col("id"),
        col("salary").cast("float64").alias("salary_f64"),
        col("id").cast("utf8").alias("id_str"),
        col("hired").cast("utf8").alias("hired_str"),
        col("name").try_cast("int64").alias("name_int"),
        lit("42").try_cast("int32").alias("forty_two"),
    ),
    "scalar_functions": lambda: people().select(
        col("id"),
        f.upper(col("name")).alias("upper"),
        f.lower(col("name")).alias("lower"),
        f.substring(col("name"), 2, 3).alias("substr"),
        f.length(col("name")).alias("length"),
        f.coalesce(col("name"), "unknown").alias("coalesce"),
        f.concat(col("name"), "#", col("id").cast("utf8")).alias("concat"),
        f.round(col("salary").cast("float64") / 3.0, 1).alias("round"),
        f.abs(lit(3) - col("id")).alias("abs"),
        f.date_part("year", col("hired")).alias("year"),
        call("nullif", col("dept_id"), 20).alias("nullif"),
    ),
    "date_interval_arithmetic": lambda: people().select(
        col("id"),
        (col("hired") + lit_interval(1, 2, 0)).alias("plus_month_day_nano"),
        (col("hired") - lit_interval_day_time(10, 0)).alias("minus_day_time"),
        (col("hired") + lit_interval_year_month(12)).alias("plus_year_month"),
        (col("hired") > lit_date(2020, 1, 1)).alias("after_2020"),
    ),
    "aggregate_group_by": lambda: people()
    .group_by(col("dept_id"))
    .agg(
        f.sum(col("salary")).alias("total"),
        f.avg(col("salary")).alias("average"),
        f.count(col("id")).alias("n"),
        f.min(col("name")).alias("first_name"),
        f.max(col("hired")).alias("last_hired"),
    ),
    "aggregate_global": lambda: people().aggregate(
        [],
        [
            f.count_all().alias("rows"),
            f.count_distinct(col("dept_id")).alias("depts"),
            f.count(col("name")).alias("named"),
            f.sum(col("salary")).filter(col("active").is_true()).alias("active_salary"),
        ],
    ),
    "aggregate_ordered": lambda: people()
    .group_by("dept_id")
    .agg(
        call_aggregate(
            "first_value", col("name"), col("salary").desc(), col("id").asc()
        ).alias("best_paid"),
        call_aggregate("last_value", col("name")).order_by(col("id").asc()).alias("last_by_id"),
    ),
    "aggregate_rollup": lambda: orders()
    .rollup("status")
    .agg(f.count_all().alias("n"), f.max(col("amount")).alias("max_amount")),
    "aggregate_grouping_sets": lambda: people()
    .grouping_sets([["dept_id"], ["active"], []])
    .agg(f.count_all().alias("n")),
    "join_inner_keys": lambda: people()
    .alias("p")
    .join(depts().alias("d"), left_on="dept_id", right_on="dept_id", how="inner")
    .select(qualified_col("p", "id"), qualified_col("p", "name"), qualified_col("d", "dept_name")),
    "join_left_condition": lambda: orders()
    .alias("o")
    .join(
        people().alias("p"),
        on=(qualified_col("o", "customer_id") == qualified_col("p", "id"))
        & (qualified_col("o", "amount") > 20.0),
        how="left",
    )
    .select(qualified_col("o", "order_id"), qualified_col("p", "name")),
    "join_full": lambda: people()
    .alias("p")
    .join(depts().alias("d"), left_on="dept_id", right_on="dept_id", how="full")
    .select(qualified_col("p", "name"), qualified_col("d", "dept_name")),
    "join_semi": lambda: people()
    .join(orders(), left_on="id", right_on="customer_id", how="semi")
    .select_columns("id", "name"),
    "join_anti": lambda: people()
    .join(orders(), left_on="id", right_on="customer_id", how="anti")
    .select_columns("id", "name"),
    "cross_join": lambda: depts()
    .filter(col("dept_id") <= 20)
    .select_columns("dept_name")
    .cross_join(DataFrame.values([[1], [2]], ["n"])),
    "sort_nulls": lambda: people()
    .select_columns("id", "dept_id", "name")
    .sort(col("dept_id").desc(), col("name").asc().nulls_first()),
    "limit_offset": lambda: people().sort(col("id").asc()).limit(2, offset=1).select_columns("id", "name"),
    "distinct": lambda: people().select_columns("dept_id").distinct(),
    "union": lambda: people().select_columns("dept_id").union(depts().select_columns("dept_id")),
    "union_all": lambda: people()
    .select_columns("dept_id")
    .union_all(depts().select_columns("dept_id")),
    "intersect": lambda: people()
    .select_columns("dept_id")
    .intersect(depts().select_columns("dept_id")),
    "except": lambda: depts().select_columns("dept_id").except_(people().select_columns("dept_id")),
    "window_ranking": lambda: people()
    .window(
        f.row_number()
        .over(Window().partition_by("dept_id").order_by(col("salary").desc(), col("id").asc()))
        .alias("rn")
    )
    .window(f.rank().over(Window().order_by(col("salary").desc())).alias("rk"))
    .select_columns("id", "rn", "rk"),
    "window_frames": lambda: people()
    .window(
        f.sum(col("salary"))
        .over(
            Window()
            .partition_by("dept_id")
            .order_by(col("id").asc())
            .rows_between(UNBOUNDED_PRECEDING, CURRENT_ROW)
        )
        .alias("running")
    )
    .window(f.count(col("id")).over(Window()).alias("everyone"))
    .window(f.lag(col("name"), 1).over(Window().order_by(col("id").asc())).alias("previous"))
    .select_columns("id", "running", "everyone", "previous"),
    "subquery_alias_wildcard": lambda: depts()
    .alias("d")
    .filter(qualified_col("d", "dept_id") < 30)
    .select(qualified_wildcard("d")),
    "wildcard": lambda: depts().select(wildcard(), (col("dept_id") * 10).alias("x10")),
    "with_columns_drop": lambda: people()
    .with_columns({"name": f.upper(col("name")), "next_id": col("id") + 1})
    .drop("salary", "hired", "active"),
    "with_columns_renamed": lambda: depts().with_columns_renamed(
        {"dept_id": "id", "dept_name": "name"}
    ),
    "exists_correlated": lambda: people()
    .alias("p")
    .filter(exists(orders().filter(col("customer_id") == outer_col("p", "id"))))
    .select(qualified_col("p", "id"), qualified_col("p", "name")),
    "in_subquery": lambda: people()
    .filter(
        (col("id").in_subquery(_customers()) | (col("id") > 5))
        & col("id").not_in_subquery(_customers().filter(col("customer_id") == 1))
    )
    .select_columns("id", "name"),
    "scalar_subquery": lambda: people()
    .filter(col("salary") > scalar_subquery(people().aggregate([], [f.avg(col("salary"))])))
    .select_columns("id", "name"),
    "placeholder": lambda: people()
    .filter(col("id") == placeholder("$1"))
    .select_columns("id", "name"),
}


def build(name: str) -> dict[str, object]:
    """One protocol line for case ``name``."""
    try:
        plan = CASES[name]().plan()
    except Exception as e:  # a builder error is a line, not an exit status
        return {"case": name, "error": f"{type(e).__name__}: {e}"}
    return {
        "case": name,
        "plan_base64": base64.b64encode(plan.SerializeToString()).decode(),
        "plan_json": proto.to_json(plan),
    }


def main(argv: list[str]) -> int:
    unknown = [a for a in argv if a not in CASES]
    if unknown:
        print(f"conformance_testee: unknown case(s) {', '.join(unknown)}", file=sys.stderr)
        return 1
    for name in argv or CASES:
        print(json.dumps(build(name), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

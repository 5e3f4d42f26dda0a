"""The 22 TPC-H queries (SF 0.01) through the Python client, on an embedded
cluster and on a cluster of ``ballista`` processes, against DuckDB's results
over the same Parquet files (DuckDB is the oracle: an independent engine).

All 22 run as SQL; six also as DataFrame programs written with the builder
API, compared with DuckDB's result of the SQL text.
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import ballista
from ballista import DataFrame, col, lit, lit_date, when
from ballista import functions as F

from conftest import TPCH_QUERIES, TPCH_TABLES


def statements(n: int) -> list[str]:
    """The statements of query ``n`` (Q15 has three)."""
    text = (TPCH_QUERIES / f"q{n}.sql").read_text()
    return [s.strip() for s in text.split(";") if s.strip()]


def is_query(sql: str) -> bool:
    head = sql.lstrip().lower()
    return head.startswith("select") or head.startswith("with")


@pytest.fixture(scope="module")
def duck(tpch_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in TPCH_TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{tpch_dir / t}/*.parquet')")
    return con


def duck_rows(con: duckdb.DuckDBPyConnection, n: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    result: tuple[list[str], list[tuple[Any, ...]]] | None = None
    for sql in statements(n):
        cur = con.execute(sql)
        if is_query(sql):
            result = ([d[0] for d in cur.description], cur.fetchall())
    assert result is not None
    return result


def normalize(v: Any) -> Any:
    """One value in a form both engines agree on: numbers as floats (DuckDB
    averages decimals to doubles, DataFusion keeps decimals)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float, decimal.Decimal)):
        return float(v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return str(v)


def sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Floats rounded so that rows whose sums differ in the last bits sort alike.
    return tuple(
        (0, "") if v is None else (1, f"{v:.4e}") if isinstance(v, float) else (2, str(v))
        for v in row
    )


def canonical(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(normalize(v) for v in r) for r in rows), key=sort_key)


def assert_same(
    expected: tuple[list[str], list[tuple[Any, ...]]], table: pa.Table, what: str
) -> None:
    names, rows = expected
    assert rows, f"{what}: DuckDB's result is empty, the comparison would mean nothing"
    assert table.num_columns == len(names), f"{what}: columns {table.column_names} vs {names}"
    actual = [tuple(r.values()) for r in table.to_pylist()]
    exp, got = canonical(rows), canonical(actual)
    assert len(got) == len(exp), f"{what}: {len(got)} rows, DuckDB has {len(exp)}"
    for i, (e, g) in enumerate(zip(exp, got)):
        for a, b in zip(e, g):
            # DataFusion's avg of a decimal keeps 4 more places than the
            # input (6 here) and truncates; DuckDB returns a double.
            same = (
                math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
                if isinstance(a, float) and isinstance(b, float)
                else a == b
            )
            assert same, f"{what}: row {i} differs: Ballista {g} vs DuckDB {e}"


def run_sql(ctx: ballista.BallistaContext, n: int) -> pa.Table:
    table: pa.Table | None = None
    for sql in statements(n):
        df = ctx.sql(sql)
        if is_query(sql):
            table = df.to_arrow()
    assert table is not None
    return table


@pytest.mark.parametrize("n", range(1, 23), ids=lambda n: f"q{n}")
def test_tpch_sql(cluster: ballista.BallistaContext, duck: duckdb.DuckDBPyConnection, n: int) -> None:
    assert_same(duck_rows(duck, n), run_sql(cluster, n), f"q{n}")


# ---- the same queries as DataFrame programs ------------------------------------

revenue = col("l_extendedprice") * (1 - col("l_discount"))


def q1(ctx: ballista.BallistaContext) -> DataFrame:
    return (
        ctx.table("lineitem")
        .filter(col("l_shipdate") <= lit_date(1998, 9, 2))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            F.sum(col("l_quantity")).alias("sum_qty"),
            F.sum(col("l_extendedprice")).alias("sum_base_price"),
            F.sum(revenue).alias("sum_disc_price"),
            F.sum(revenue * (1 + col("l_tax"))).alias("sum_charge"),
            F.avg(col("l_quantity")).alias("avg_qty"),
            F.avg(col("l_extendedprice")).alias("avg_price"),
            F.avg(col("l_discount")).alias("avg_disc"),
            F.count_all().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


def q3(ctx: ballista.BallistaContext) -> DataFrame:
    customer = ctx.table("customer").filter(col("c_mktsegment") == "BUILDING")
    orders = ctx.table("orders").filter(col("o_orderdate") < lit_date(1995, 3, 15))
    lineitem = ctx.table("lineitem").filter(col("l_shipdate") > lit_date(1995, 3, 15))
    return (
        customer.join(orders, left_on="c_custkey", right_on="o_custkey")
        .join(lineitem, left_on="o_orderkey", right_on="l_orderkey")
        .group_by("l_orderkey", "o_orderdate", "o_shippriority")
        .agg(F.sum(revenue).alias("revenue"))
        .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
        .sort(col("revenue").desc(), "o_orderdate")
        .limit(10)
    )


def q5(ctx: ballista.BallistaContext) -> DataFrame:
    orders = ctx.table("orders").filter(
        (col("o_orderdate") >= lit_date(1994, 1, 1)) & (col("o_orderdate") < lit_date(1995, 1, 1))
    )
    region = ctx.table("region").filter(col("r_name") == "ASIA")
    return (
        ctx.table("customer")
        .join(orders, left_on="c_custkey", right_on="o_custkey")
        .join(ctx.table("lineitem"), left_on="o_orderkey", right_on="l_orderkey")
        .join(
            ctx.table("supplier"),
            left_on=["l_suppkey", "c_nationkey"],
            right_on=["s_suppkey", "s_nationkey"],
        )
        .join(ctx.table("nation"), left_on="s_nationkey", right_on="n_nationkey")
        .join(region, left_on="n_regionkey", right_on="r_regionkey")
        .group_by("n_name")
        .agg(F.sum(revenue).alias("revenue"))
        .sort(col("revenue").desc())
    )


def q6(ctx: ballista.BallistaContext) -> DataFrame:
    return (
        ctx.table("lineitem")
        .filter(
            (col("l_shipdate") >= lit_date(1994, 1, 1))
            & (col("l_shipdate") < lit_date(1995, 1, 1))
            & col("l_discount").between(lit(decimal.Decimal("0.05")), lit(decimal.Decimal("0.07")))
            & (col("l_quantity") < 24)
        )
        .aggregate([], [F.sum(col("l_extendedprice") * col("l_discount")).alias("revenue")])
    )


def q10(ctx: ballista.BallistaContext) -> DataFrame:
    orders = ctx.table("orders").filter(
        (col("o_orderdate") >= lit_date(1993, 10, 1)) & (col("o_orderdate") < lit_date(1994, 1, 1))
    )
    lineitem = ctx.table("lineitem").filter(col("l_returnflag") == "R")
    keys = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]
    return (
        ctx.table("customer")
        .join(orders, left_on="c_custkey", right_on="o_custkey")
        .join(lineitem, left_on="o_orderkey", right_on="l_orderkey")
        .join(ctx.table("nation"), left_on="c_nationkey", right_on="n_nationkey")
        .group_by(*keys)
        .agg(F.sum(revenue).alias("revenue"))
        .select(
            "c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment"
        )
        .sort(col("revenue").desc())
        .limit(20)
    )


def q12(ctx: ballista.BallistaContext) -> DataFrame:
    urgent = (col("o_orderpriority") == "1-URGENT") | (col("o_orderpriority") == "2-HIGH")
    lineitem = ctx.table("lineitem").filter(
        col("l_shipmode").isin("MAIL", "SHIP")
        & (col("l_commitdate") < col("l_receiptdate"))
        & (col("l_shipdate") < col("l_commitdate"))
        & (col("l_receiptdate") >= lit_date(1994, 1, 1))
        & (col("l_receiptdate") < lit_date(1995, 1, 1))
    )
    return (
        lineitem.join(ctx.table("orders"), left_on="l_orderkey", right_on="o_orderkey")
        .group_by("l_shipmode")
        .agg(
            F.sum(when(urgent, 1).otherwise(0)).alias("high_line_count"),
            F.sum(when(~urgent, 1).otherwise(0)).alias("low_line_count"),
        )
        .sort("l_shipmode")
    )


DATAFRAME_QUERIES: dict[int, Callable[[ballista.BallistaContext], DataFrame]] = {
    1: q1,
    3: q3,
    5: q5,
    6: q6,
    10: q10,
    12: q12,
}


@pytest.mark.parametrize("n", sorted(DATAFRAME_QUERIES), ids=lambda n: f"q{n}")
def test_tpch_dataframe(
    cluster: ballista.BallistaContext, duck: duckdb.DuckDBPyConnection, n: int
) -> None:
    df = DATAFRAME_QUERIES[n](cluster)
    assert_same(duck_rows(duck, n), df.to_arrow(), f"q{n} (DataFrame)")

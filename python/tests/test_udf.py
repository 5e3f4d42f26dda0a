"""Python UDFs on real clusters (embedded and separate processes): scalar
UDFs in SELECT, WHERE, GROUP BY and a join condition, from DataFrames and
SQL; ``map_batches`` over a multi-stage query; and failure isolation (a
Python exception reaches the client with its traceback; a worker that dies
fails the query with a clear error and the cluster keeps serving).

Every expected result is computed by the same query without the UDF (the
UDFs are simple enough to state in built-in expressions)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import ballista
from ballista import col
from ballista import functions as F


@ballista.udf(return_type=pa.int64())
def plus_one(x: pa.Array) -> pa.Array:
    return pc.add(x, 1)


@ballista.udf(return_type=pa.bool_())
def is_even(x: pa.Array) -> pa.Array:
    return pc.equal(pc.bit_wise_and(x, 1), 0)


@ballista.udf(return_type=pa.int64())
def bucket(x: pa.Array) -> pa.Array:
    # Plain Python over the values: any callable returning an array works.
    return pa.array([None if v is None else v // 100 for v in x.to_pylist()], pa.int64())


@ballista.udf(return_type=pa.int64(), name="ident")
def identity(x: pa.Array) -> pa.Array:
    return x


@ballista.udf(return_type=pa.int64())
def fails(x: pa.Array) -> pa.Array:
    raise ValueError(f"bad value in a batch of {len(x)}")


@ballista.udf(return_type=pa.int64())
def dies(x: pa.Array) -> pa.Array:
    os._exit(1)


def sorted_rows(table: pa.Table) -> list[tuple]:
    return sorted(zip(*(c.to_pylist() for c in table.columns)))


def test_udf_in_select(cluster: ballista.BallistaContext) -> None:
    got = cluster.table("orders").select(col("o_orderkey"), plus_one(col("o_orderkey")).alias("k1")).to_arrow()
    want = cluster.table("orders").select(col("o_orderkey"), (col("o_orderkey") + 1).alias("k1")).to_arrow()
    assert got.num_rows == want.num_rows > 10_000
    assert sorted_rows(got) == sorted_rows(want)


def test_udf_in_where(cluster: ballista.BallistaContext) -> None:
    got = cluster.table("lineitem").filter(is_even(col("l_orderkey"))).count()
    want = cluster.table("lineitem").filter(col("l_orderkey") % 2 == 0).count()
    total = cluster.table("lineitem").count()
    assert 0 < got == want < total


def test_udf_as_group_by_key(cluster: ballista.BallistaContext) -> None:
    got = (
        cluster.table("orders")
        .group_by(bucket(col("o_custkey")).alias("b"))
        .agg(F.count_all().alias("n"), F.sum(col("o_totalprice")).alias("p"))
        .to_arrow()
    )
    want = cluster.sql(
        "SELECT o_custkey / 100 AS b, count(*) AS n, sum(o_totalprice) AS p FROM orders GROUP BY o_custkey / 100"
    ).to_arrow()
    assert got.num_rows == want.num_rows > 5
    g = {r[0]: r[1:] for r in zip(*(c.to_pylist() for c in got.columns))}
    w = {r[0]: r[1:] for r in zip(*(c.to_pylist() for c in want.columns))}
    assert g.keys() == w.keys()
    for k in w:
        assert g[k][0] == w[k][0]
        assert g[k][1] == pytest.approx(w[k][1])


def test_registered_udf_in_sql_join_condition(cluster: ballista.BallistaContext) -> None:
    cluster.register_udf(identity)
    got = cluster.sql(
        "SELECT c_nationkey, count(*) AS n FROM orders JOIN customer ON ident(o_custkey) = c_custkey "
        "WHERE ident(o_orderkey) % 3 = 0 GROUP BY c_nationkey"
    ).to_arrow()
    want = cluster.sql(
        "SELECT c_nationkey, count(*) AS n FROM orders JOIN customer ON o_custkey = c_custkey "
        "WHERE o_orderkey % 3 = 0 GROUP BY c_nationkey"
    ).to_arrow()
    assert got.num_rows == want.num_rows == 25
    assert sorted_rows(got) == sorted_rows(want)


def test_udf_in_dataframe_join_condition(cluster: ballista.BallistaContext) -> None:
    orders = cluster.table("orders")
    customer = cluster.table("customer")
    got = orders.join_on(customer, plus_one(col("o_custkey")) == col("c_custkey") + 1).count()
    want = orders.join_on(customer, col("o_custkey") == col("c_custkey")).count()
    assert got == want > 10_000


def add_share(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for b in batches:
        n = b.column("n")
        yield pa.record_batch(
            [b.column("o_orderpriority"), n, pc.multiply(n, 2)], names=["priority", "n", "twice"]
        )


def test_map_batches_over_a_multi_stage_query(cluster: ballista.BallistaContext) -> None:
    counts = cluster.table("orders").group_by("o_orderpriority").agg(F.count_all().alias("n"))
    schema = pa.schema([("priority", pa.string()), ("n", pa.int64()), ("twice", pa.int64())])
    got = counts.map_batches(add_share, schema=schema).sort("priority").to_arrow()
    want = counts.sort("o_orderpriority").to_arrow()
    assert got.schema.names == ["priority", "n", "twice"]
    assert got.column("priority").to_pylist() == want.column("o_orderpriority").to_pylist()
    assert got.column("n").to_pylist() == want.column("n").to_pylist()
    assert got.column("twice").to_pylist() == [2 * n for n in want.column("n").to_pylist()]
    assert got.num_rows == 5


def test_map_batches_streams_a_large_input(cluster: ballista.BallistaContext) -> None:
    def keep_even(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            yield b.filter(pc.equal(pc.bit_wise_and(b.column(0), 1), 0))

    li = cluster.table("lineitem").select("l_orderkey", "l_quantity")
    got = li.map_batches(keep_even, schema=pa.schema([("l_orderkey", pa.int64()), ("l_quantity", pa.decimal128(15, 2))]))
    assert got.count() == li.filter(col("l_orderkey") % 2 == 0).count()


def test_exception_reaches_the_client_with_traceback(cluster: ballista.BallistaContext) -> None:
    with pytest.raises(ballista.BallistaError) as e:
        cluster.table("nation").select(fails(col("n_nationkey"))).to_arrow()
    text = str(e.value)
    assert "ValueError" in text
    assert "bad value in a batch of" in text
    assert "Traceback (most recent call last)" in text and ", in fails" in text, text
    # The cluster keeps serving, with the same workers.
    assert cluster.table("nation").select(plus_one(col("n_nationkey"))).count() == 25


def test_crashing_worker_fails_the_query_and_the_next_succeeds(cluster: ballista.BallistaContext) -> None:
    with pytest.raises(ballista.BallistaError) as e:
        cluster.table("nation").select(dies(col("n_nationkey"))).to_arrow()
    text = str(e.value)
    assert "Python UDF worker" in text and "died" in text and "exit status 1" in text, text
    got = cluster.table("nation").select(plus_one(col("n_nationkey")).alias("k")).to_arrow()
    assert sorted(got.column("k").to_pylist()) == list(range(1, 26))


def test_python_version_mismatch_is_a_clear_error(embedded: ballista.BallistaContext) -> None:
    f = ballista.udf(lambda x: x, return_type=pa.int64(), name="old_pickle")
    f.definition().runtime_version = "2.7.18"
    with pytest.raises(ballista.BallistaError) as e:
        embedded.table("nation").select(f(col("n_nationkey"))).to_arrow()
    assert "serialised by Python 2.7.18" in str(e.value)
    assert "--python" in str(e.value)


def test_udf_plan_carries_the_function() -> None:
    e = plus_one(col("x")).to_proto()
    assert e.udf.function.language == "python"
    assert e.udf.function.name == "plus_one"
    assert e.udf.function.runtime_version.startswith("3.")
    assert len(e.udf.function.payload) > 0

"""Python UDF overhead: an identity UDF over a 10M-row int64 column versus
the same query without it, on an embedded Ballista cluster, and (if
``pyspark`` is installed) the same in PySpark local mode with an
Arrow-optimised Python UDF on the same cores.

Run: ``make bench-udf`` (or ``.venv/bin/python python/benchmarks/udf.py``).
A benchmark, not a test: it prints rows/s and the UDF's overhead per row.

    --rows N      rows (default 10,000,000)
    --cores N     task slots / Spark local cores (default: all cores)
    --no-spark    skip PySpark
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import ballista


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: workers started, files cached
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def write_data(path: str, rows: int, files: int) -> None:
    per = rows // files
    for i in range(files):
        start = i * per
        n = per if i < files - 1 else rows - start
        table = pa.table({"x": pa.array(range(start, start + n), pa.int64())})
        pq.write_table(table, os.path.join(path, f"part-{i}.parquet"), row_group_size=1 << 20)


def report(name: str, rows: int, base: float, with_udf: float) -> None:
    print(
        f"{name}: without UDF {base:.3f} s ({rows / base / 1e6:.1f} M rows/s); "
        f"identity UDF {with_udf:.3f} s ({rows / with_udf / 1e6:.1f} M rows/s); "
        f"overhead {with_udf - base:.3f} s = {(with_udf - base) / rows * 1e9:.0f} ns/row "
        f"({with_udf / base:.2f}x)"
    )


def bench_ballista(path: str, rows: int, cores: int, repeat: int) -> tuple[float, float]:
    @ballista.udf(return_type=pa.int64(), name="ident")
    def ident(x: pa.Array) -> pa.Array:
        return x

    with ballista.standalone(executors=1, slots_per_executor=cores, progress=False) as ctx:
        ctx.set("datafusion.execution.target_partitions", cores)
        ctx.register_parquet("t", path)
        ctx.register_udf(ident)
        base_q = "SELECT sum(x) AS s FROM t"
        udf_q = "SELECT sum(ident(x)) AS s FROM t"
        a = ctx.sql(base_q).to_arrow().column("s")[0].as_py()
        b = ctx.sql(udf_q).to_arrow().column("s")[0].as_py()
        assert a == b == rows * (rows - 1) // 2, (a, b)
        base = timed(lambda: ctx.sql(base_q).to_arrow(), repeat)
        with_udf = timed(lambda: ctx.sql(udf_q).to_arrow(), repeat)
    return base, with_udf


def bench_spark(path: str, rows: int, cores: int, repeat: int) -> tuple[float, float, float]:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.functions import udf
    from pyspark.sql.types import LongType

    # Spark's Python workers run this interpreter, as Ballista's do.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .config("spark.sql.execution.pythonUDF.arrow.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        df = spark.read.parquet(path)

        @udf(returnType=LongType(), useArrow=True)
        def ident(x: int) -> int:
            return x

        @F.pandas_udf(LongType())  # type: ignore[call-overload]
        def ident_pandas(x: pd.Series) -> pd.Series:
            return x

        a = df.agg(F.sum("x")).collect()[0][0]
        b = df.agg(F.sum(ident("x"))).collect()[0][0]
        c = df.agg(F.sum(ident_pandas("x"))).collect()[0][0]
        assert a == b == c == rows * (rows - 1) // 2, (a, b, c)
        base = timed(lambda: df.agg(F.sum("x")).collect(), repeat)
        with_udf = timed(lambda: df.agg(F.sum(ident("x"))).collect(), repeat)
        with_pandas = timed(lambda: df.agg(F.sum(ident_pandas("x"))).collect(), repeat)
    finally:
        spark.stop()
    return base, with_udf, with_pandas


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-spark", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="ballista-bench-udf-") as d:
        write_data(d, args.rows, files=max(2, args.cores))
        print(f"{args.rows:,} int64 rows, {args.cores} cores, median of {args.repeat}")
        report("ballista", args.rows, *bench_ballista(d, args.rows, args.cores, args.repeat))
        if not args.no_spark:
            try:
                import pyspark  # noqa: F401
            except ImportError:
                print("pyspark: not installed (pip install pyspark into .venv), skipped")
                return
            base, arrow_udf, pandas_udf = bench_spark(d, args.rows, args.cores, args.repeat)
            report("pyspark, Arrow-optimised Python UDF (useArrow=True)", args.rows, base, arrow_udf)
            report("pyspark, vectorised pandas_udf", args.rows, base, pandas_udf)


if __name__ == "__main__":
    main()

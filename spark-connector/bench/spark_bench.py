"""Benchmark of the Spark connector (not a test): TPC-H SF 1 on a cluster of 2 executors x 1
slot, Spark local[2] in front.

1. Reading `lineitem` whole (every column) through the connector vs Spark's own Parquet reader
   on the same files (both written to Spark's `noop` sink, so only the read is measured).
2. The 22 TPC-H queries pushed whole to Ballista with the `query` option vs the same queries in
   Spark alone over the Parquet files.

Uses the release `ballista` binary when it exists (it is not built here), else the debug one.
Writes a Markdown report to $CARGO_TARGET_DIR/bench/spark-connector.md.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyspark.sql import SparkSession

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


def spawn(binary: str, *args: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    p = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout is not None
    for line in p.stdout:
        m = re.match(r"listening on .*:(\d+)", line)
        if m:
            return p, int(m.group(1))
    raise RuntimeError(f"{binary} {' '.join(args)} exited before listening")


def statements(path: Path) -> list[str]:
    text = "\n".join(l for l in path.read_text().splitlines() if not l.strip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


def one_statement(path: Path) -> str:
    parts = statements(path)
    if len(parts) == 1:
        return parts[0]
    # Q15: the view becomes a common table expression.
    rest = re.sub(r"(?is)^create view\s+", "", parts[0])
    at = rest.lower().index(" as")
    return f"with {rest[:at]} as ({rest[at + 3:]}) {parts[1]}"


def best_of(runs: int, f) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jar", required=True)
    parser.add_argument("--data", default=str(target / "tpch-data/sf1-p4"))
    parser.add_argument("--queries", default=str(Path(__file__).resolve().parents[3] / "shared/tpch/queries"))
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    release = target / "release/ballista"
    binary = str(release if release.exists() else target / "debug/ballista")
    data = Path(args.data)
    procs = []
    try:
        sched, port = spawn(binary, "scheduler", "--port", "0")
        procs.append(sched)
        url = f"grpc://127.0.0.1:{port}"
        for _ in range(2):
            work = tempfile.mkdtemp(prefix="ballista-bench-")
            p, _ = spawn(binary, "executor", "--scheduler", url, "--port", "0", "--slots", "1",
                         "--work-dir", work)
            procs.append(p)
        ddl = "".join(
            f"CREATE EXTERNAL TABLE {t} STORED AS PARQUET LOCATION '{data / t}/';\n" for t in TABLES
        )
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(ddl)
        subprocess.run([binary, "sql", "--scheduler", url, "-f", f.name], check=True,
                       stdout=subprocess.DEVNULL)

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.jars", args.jar)
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "6g")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")

        def ballista(**source):
            r = spark.read.format("ballista").option("url", url)
            for k, v in source.items():
                r = r.option(k, v)
            return r.load()

        report = [f"# Spark connector benchmark (TPC-H SF 1, `{binary}`, 2 executors x 1 slot, Spark local[2])", ""]
        connector = best_of(args.runs, lambda: ballista(table="lineitem").write.format("noop").mode("overwrite").save())
        parquet = best_of(args.runs, lambda: spark.read.parquet(str(data / "lineitem")).write.format("noop").mode("overwrite").save())
        report += ["## Reading lineitem (all columns)", "",
                   "| reader | seconds |", "| --- | --- |",
                   f"| connector | {connector:.2f} |", f"| Spark Parquet | {parquet:.2f} |",
                   f"| ratio connector / Parquet | {connector / parquet:.2f} |", ""]
        print("\n".join(report[-7:]), flush=True)

        for t in TABLES:
            spark.read.parquet(str(data / t)).createOrReplaceTempView(t)
        rows = ["## 22 queries: pushed to Ballista (`query`) vs Spark alone", "",
                "| query | Ballista via connector (s) | Spark (s) | ratio |", "| --- | --- | --- | --- |"]
        total_b = total_s = 0.0
        ratios = []
        for n in range(1, 23):
            path = Path(args.queries) / f"q{n}.sql"
            sql = one_statement(path)
            b = best_of(args.runs, lambda: ballista(query=sql).collect())

            def spark_alone():
                for s in statements(path):
                    s = re.sub(r"(?i)^create view", "create or replace temporary view", s)
                    df = spark.sql(s)
                    if s.lower().startswith("select"):
                        df.collect()

            s = best_of(args.runs, spark_alone)
            total_b += b
            total_s += s
            ratios.append(b / s)
            rows.append(f"| q{n} | {b:.2f} | {s:.2f} | {b / s:.2f} |")
            print(rows[-1], flush=True)
        rows.append(f"| total | {total_b:.2f} | {total_s:.2f} | {total_b / total_s:.2f} |")
        rows.append(f"| geometric mean of ratios | | | {statistics.geometric_mean(ratios):.2f} |")
        report += rows
        out = target / "bench/spark-connector.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(report) + "\n")
        print("\n".join(rows[-2:]))
        print(f"report: {out}")
        spark.stop()
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

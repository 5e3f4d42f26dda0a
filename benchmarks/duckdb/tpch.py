#!/usr/bin/env python3
"""TPC-H on DuckDB, one of the external runners of `make bench`.

Every external runner takes the same arguments and writes the same files, so
that the harness (rust/ballista-cli/benches/tpch.rs) treats them alike:

    tpch.py --data DIR --queries 1,3,18 --query-dir DIR --iterations N \
            --partitions 2 --executors 2 --slots 1 --out OUTDIR

- ``OUTDIR/q<N>.arrow``: the rows of the last run of query N (Arrow IPC file);
- ``OUTDIR/result.json``: engine, version, configuration, per query the times
  of the timed runs in ms, the row count and the error (or null), and the
  peak resident set of the process (``peak_rss_bytes``).

Each query runs once to warm up, then ``--iterations`` times. A query file may
hold several statements (Q15: create view; select; drop view): all of them
run and are timed together; the result is the one statement that returns
rows. A failing query records its error and the runner goes on.

DuckDB runs in this process with ``threads = partitions`` (2 by default:
the same cores as the other engines), over views of the same Parquet files
(``read_parquet``), not over tables loaded into its own storage, so that
every engine reads the same bytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.ipc

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


def statements(text: str) -> list[str]:
    """Splits a query file on ';' and drops `--` comment lines (as the
    harness does, ballista_datagen::tpch::statements)."""
    out = []
    for chunk in text.split(";"):
        lines = [line for line in chunk.splitlines() if not line.lstrip().startswith("--")]
        sql = "\n".join(lines)
        if sql.strip():
            out.append(sql)
    return out


def returns_rows(sql: str) -> bool:
    head = sql.lstrip().lower()
    return head.startswith("select") or head.startswith("with")


def run(con: duckdb.DuckDBPyConnection, stmts: list[str]) -> pa.Table | None:
    result = None
    for sql in stmts:
        if returns_rows(sql):
            result = con.sql(sql).to_arrow_table()
        else:
            con.execute(sql)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="TPC-H Parquet: DIR/<table>/*.parquet")
    p.add_argument("--queries", required=True, help="comma-separated query numbers, e.g. 1,3,18")
    p.add_argument("--query-dir", required=True, type=Path, help="holds q<N>.sql")
    p.add_argument("--iterations", type=int, default=3, help="timed runs after one warm-up run")
    p.add_argument("--partitions", type=int, default=2, help="DuckDB threads")
    p.add_argument("--executors", type=int, default=2, help="ignored (single process)")
    p.add_argument("--slots", type=int, default=1, help="ignored (single process)")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    args = p.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    con.execute(f"set threads = {args.partitions}")
    for t in TABLES:
        path = args.data / t
        if not path.is_dir():
            print(f"duckdb runner: no table directory {path}", file=sys.stderr)
            return 2
        glob = str(path / "*.parquet").replace("'", "''")
        con.execute(f"create view {t} as select * from read_parquet('{glob}')")

    queries = []
    for q in (int(n) for n in args.queries.split(",") if n.strip()):
        entry = {"query": q, "times_ms": [], "rows": None, "error": None}
        try:
            stmts = statements((args.query_dir / f"q{q}.sql").read_text())
            run(con, stmts)  # warm-up
            table = None
            for _ in range(args.iterations):
                start = time.perf_counter()
                table = run(con, stmts)
                entry["times_ms"].append((time.perf_counter() - start) * 1000.0)
            if table is None:
                raise ValueError(f"q{q}: no statement returns rows")
            entry["rows"] = table.num_rows
            with pa.OSFile(str(args.out / f"q{q}.arrow"), "wb") as sink:
                with pa.ipc.new_file(sink, table.schema) as writer:
                    writer.write_table(table)
        except Exception as e:  # noqa: BLE001 - recorded, and the next query runs
            entry["error"] = f"{type(e).__name__}: {e}"
            # A failed Q15 may leave its view behind.
            con.execute("drop view if exists revenue0")
        print(f"duckdb q{q}: {entry['times_ms']} {entry['error'] or ''}", file=sys.stderr)
        queries.append(entry)

    result = {
        "engine": "DuckDB",
        "version": duckdb.__version__,
        "config": f"threads={args.partitions}, views over Parquet",
        "queries": queries,
        # ru_maxrss is in KiB on Linux: the process's VmHWM.
        "peak_rss_bytes": {"process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024},
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

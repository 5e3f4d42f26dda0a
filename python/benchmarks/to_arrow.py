"""Benchmark: ``df.to_arrow()`` of a 20M-row, 4-column result over Flight,
against reading the same Parquet files locally with ``pyarrow.dataset``.

    make bench-python            # or: .venv/bin/python python/benchmarks/to_arrow.py

The data (4 Parquet files of 5M rows: two int64 and two float64 columns)
is generated once under ``$CARGO_TARGET_DIR/bench-data`` and reused. The
cluster is an embedded one (``ballista.standalone()``, 2 executors); the
query is a plain scan, so the time is the cluster reading the files, writing
the result partitions, and the client fetching them and concatenating them.
Each side runs once to warm the page cache, then ``--runs`` times; the best
run counts.

The client fetches in two ways, both measured: as it does by default on
this host (the result files memory-mapped, see ``ballista/_flight.py``), and
with ``local_reads=False``, over loopback Flight ``DoGet`` (several
partitions at a time), as a client on another host would.

Prints the times, the ratios (target <= 2x) and the Flight throughput in
MB/s of Arrow data (``Table.nbytes``). The client releases each result once
fetched, so the executors delete its 640 MB of files before the next run. A
benchmark, not a test: nothing here asserts the target.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

import ballista

ROWS = 20_000_000
FILES = 4


def data_dir() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parents[2] / "target"))
    return target / "bench-data" / f"py-to-arrow-{ROWS}"


def generate(out: Path) -> None:
    """Writes ROWS rows in FILES files (seeded, so every run reads the same)."""
    if (out / "_SUCCESS").exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    per_file = ROWS // FILES
    for i in range(FILES):
        start = i * per_file
        table = pa.table(
            {
                "id": np.arange(start, start + per_file, dtype=np.int64),
                "key": rng.integers(0, 1_000_000, per_file, dtype=np.int64),
                "x": rng.random(per_file),
                "y": rng.normal(size=per_file),
            }
        )
        pq.write_table(table, out / f"part-{i}.parquet", row_group_size=1_000_000)
    (out / "_SUCCESS").touch()


def best(runs: int, fn: "callable[[], pa.Table]") -> tuple[float, pa.Table]:  # type: ignore[valid-type]
    fn()  # warm-up
    times, table = [], None
    for _ in range(runs):
        start = time.perf_counter()
        table = fn()
        times.append(time.perf_counter() - start)
    assert table is not None
    return min(times), table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--executors", type=int, default=2)
    args = parser.parse_args()

    out = data_dir()
    generate(out)

    local_s, local = best(args.runs, lambda: ds.dataset(out, format="parquet").to_table())
    with ballista.standalone(executors=args.executors, progress=False) as ctx:
        df = ctx.read_parquet(str(out))
        default_s, remote = best(args.runs, df.to_arrow)
    with ballista.standalone(executors=args.executors, progress=False, local_reads=False) as ctx:
        df = ctx.read_parquet(str(out))
        flight_s, over_flight = best(args.runs, df.to_arrow)

    for table in (remote, over_flight):
        assert table.num_rows == local.num_rows == ROWS, (table.num_rows, local.num_rows)
        assert table.num_columns == 4
    assert over_flight.equals(remote)
    mb = remote.nbytes / 1e6
    print(f"rows: {remote.num_rows:,}  columns: {remote.num_columns}  arrow data: {mb:,.0f} MB")
    print(f"pyarrow.dataset (local):          {local_s:.3f} s")
    print(f"ballista to_arrow():              {default_s:.3f} s  (result files on this host)")
    print(f"ballista to_arrow() over Flight:  {flight_s:.3f} s  ({mb / flight_s:,.0f} MB/s)")
    print(f"ratio: {default_s / local_s:.2f}x (target <= 2x); over Flight {flight_s / local_s:.2f}x")


if __name__ == "__main__":
    main()

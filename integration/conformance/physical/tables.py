"""The input tables of the physical conformance cases, generated
deterministically with pyarrow (no data files in git): each table is two
small Parquet files, so a scan has two file groups (one per task)."""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

#: Rows per file.
ROWS = 200


def _items(part: int) -> pa.Table:
    """Order lines: ints, decimals, strings (with nulls), dates, floats."""
    base = part * ROWS
    ids = list(range(base, base + ROWS))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "qty": pa.array([i % 17 + 1 for i in ids], pa.int32()),
            "price": pa.array(
                [decimal.Decimal(i * 37 % 1000) / 100 + 1 for i in ids], pa.decimal128(12, 2)
            ),
            "disc": pa.array([decimal.Decimal(i % 11) / 100 for i in ids], pa.decimal128(12, 2)),
            "flag": pa.array([None if i % 29 == 0 else "ABC"[i % 3] for i in ids], pa.string()),
            "mode": pa.array([["MAIL", "SHIP", "AIR", "RAIL"][i % 4] for i in ids], pa.string()),
            "ship": pa.array(
                [datetime.date(1994, 1, 1) + datetime.timedelta(days=i * 3 % 700) for i in ids],
                pa.date32(),
            ),
            "score": pa.array([None if i % 13 == 0 else (i % 50) / 4.0 for i in ids], pa.float64()),
        }
    )


def _owners(part: int) -> pa.Table:
    """A dimension table to join with (only the Rust executor joins)."""
    ids = list(range(part * 50, part * 50 + 50))
    return pa.table(
        {
            "oid": pa.array(ids, pa.int64()),
            "region": pa.array([["EU", "US", "ASIA"][i % 3] for i in ids], pa.string()),
        }
    )


TABLES = {"items": _items, "owners": _owners}


def write(out: Path) -> dict[str, Path]:
    """Writes every table as ``out/<table>/part-<n>.parquet``; returns the
    table directories by name."""
    dirs = {}
    for name, make in TABLES.items():
        d = out / name
        d.mkdir(parents=True, exist_ok=True)
        for part in range(2):
            pq.write_table(make(part), d / f"part-{part}.parquet", compression="snappy")
        dirs[name] = d
    return dirs

#!/usr/bin/env python3
"""Checks vectors.json against Apache Spark's own `hash()` and `repartition`.

Every vector whose column types Spark can express is turned into a Spark SQL
expression; Spark computes `hash(c0, c1, ...)` (its `Murmur3Hash`, seed 42)
and, for each partition count, the partition `repartition(n, c0, c1, ...)`
puts the row in (its `HashPartitioning`, `pmod(hash, n)`). Both must equal the
vector's expected values.

A vector is checked in one of two ways, printed next to it:

  native      Spark has the same type (int, bigint, double, string, binary,
              decimal(p<=38), date, timestamp, ANSI intervals, TIME, null): this
              checks the spec's rule for the type against Spark.
  equivalent  Spark lacks the type; the spec defines its hash as that of a
              Spark type (uint32 as bigint, dictionary as its values, time32
              as int, an interval as its fields' chained hashes, a decimal256
              over precision 38 as the binary of its minimal two's-complement
              bytes, ...): this checks the hash primitives and chaining, not
              a Spark type mapping.

Vectors with no Spark expression are listed as skipped.

    python3 -m venv /tmp/hashvenv && /tmp/hashvenv/bin/pip install pyspark
    /tmp/hashvenv/bin/python integration/conformance/hash/spark_check.py

Needs Java 17 or later. Exits non-zero if any checked vector differs.
"""

import json
import math
import os
import re
import struct
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def sql_string(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def float_text(t, kind):
    """A float vector value as text Spark's CAST understands."""
    if t.startswith("0x"):
        bits = int(t, 16)
        fmt = {"float16": "<e", "float32": "<f", "float64": "<d"}[kind]
        raw = bits.to_bytes(struct.calcsize(fmt), "little")
        value = struct.unpack(fmt, raw)[0]
        # Spark cannot write a NaN payload; every NaN hashes alike anyway.
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    return t


def minimal_twos_complement(n):
    length = max(1, (n + (n < 0)).bit_length() // 8 + 1)
    return n.to_bytes(length, "big", signed=True)


def spark_expr(type_name, value):
    """(expression, how) for one column value, or None if Spark cannot."""
    simple = {
        "int8": "TINYINT", "int16": "SMALLINT", "int32": "INT", "int64": "BIGINT",
        "date32": None, "boolean": "BOOLEAN",
    }
    equivalent = {
        "uint8": "SMALLINT", "uint16": "INT", "uint32": "BIGINT",
        "time32[s]": "INT", "time32[ms]": "INT", "interval_year_month": None,
        "date64": "BIGINT", "time64[us]": "BIGINT", "time64[ns]": "BIGINT",
        "duration[s]": "BIGINT", "duration[ms]": "BIGINT", "duration[ns]": "BIGINT",
    }
    m = re.fullmatch(r"dictionary<\s*\w+\s*,\s*(.+)>", type_name)
    if m:
        inner = spark_expr(m.group(1), value)
        return inner and (inner[0], "equivalent")
    if type_name == "null":
        return "NULL", "native"
    if type_name in ("float16", "float32", "float64"):
        spark = {"float16": "FLOAT", "float32": "FLOAT", "float64": "DOUBLE"}[type_name]
        how = "equivalent" if type_name == "float16" else "native"
        if value is None:
            return f"CAST(NULL AS {spark})", how
        return f"CAST({sql_string(float_text(value, type_name))} AS {spark})", how
    if type_name in ("utf8", "large_utf8", "utf8_view"):
        how = "native" if type_name == "utf8" else "equivalent"
        return ("CAST(NULL AS STRING)" if value is None else sql_string(value)), how
    if type_name in ("binary", "large_binary", "binary_view") or type_name.startswith(
        "fixed_size_binary"
    ):
        how = "native" if type_name == "binary" else "equivalent"
        return ("CAST(NULL AS BINARY)" if value is None else f"X'{value}'"), how
    if type_name == "uint64":
        return f"CAST({sql_string(value)} AS DECIMAL(20,0))", "equivalent"
    m = re.fullmatch(r"decimal(32|64|128|256)\((\d+),\s*(\d+)\)", type_name)
    if m:
        width, p, s = m.group(1), int(m.group(2)), int(m.group(3))
        how = "native" if width == "128" else "equivalent"
        if value is None:
            return f"CAST(NULL AS DECIMAL({min(p, 38)},{s}))", how
        if p <= 38:
            return f"CAST({sql_string(value)} AS DECIMAL({p},{s}))", how
        unscaled = int(value.replace(".", ""))
        return f"X'{minimal_twos_complement(unscaled).hex()}'", "equivalent"
    if type_name == "date32":
        return f"date_from_unix_date({value})" if value is not None else "CAST(NULL AS DATE)", "native"
    if type_name.startswith("timestamp[us"):
        return f"timestamp_micros({value})", "native"
    if type_name.startswith("timestamp["):
        return f"CAST({value} AS BIGINT)", "equivalent"
    if type_name == "duration[us]":
        # TIMESTAMP - TIMESTAMP is an ANSI INTERVAL DAY TO SECOND (microseconds).
        return f"(timestamp_micros({value}) - timestamp_micros(0))", "native"
    if type_name == "interval_year_month":
        return f"make_ym_interval(0, {value})", "native"
    if type_name == "time64[ns]" and value is not None and int(value) % 1000 == 0:
        # Spark 4.1+ TIME is nanoseconds of the day, hashed as a bigint.
        ns = int(value)
        secs, frac = divmod(ns, 10**9)
        text = f"{secs // 3600:02}:{secs // 60 % 60:02}:{secs % 60:02}.{frac // 1000:06}"
        return f"TIME'{text}'", "native"
    if type_name == "interval_day_time":
        days, millis = (int(x) for x in value.split(","))
        return f"CAST({days} AS INT), CAST({millis} AS INT)", "equivalent"
    if type_name == "interval_month_day_nano":
        months, days, nanos = (int(x) for x in value.split(","))
        # Chained fields: the same as three columns int, int, bigint.
        return f"CAST({months} AS INT), CAST({days} AS INT), CAST({nanos} AS BIGINT)", "equivalent"
    if type_name in simple:
        spark = simple[type_name]
        return (f"CAST(NULL AS {spark})" if value is None else f"CAST({value} AS {spark})"), "native"
    if type_name in equivalent and equivalent[type_name]:
        spark = equivalent[type_name]
        return (f"CAST(NULL AS {spark})" if value is None else f"CAST({value} AS {spark})"), "equivalent"
    return None


def main():
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import spark_partition_id

    with open(os.path.join(HERE, "vectors.json"), encoding="utf-8") as f:
        doc = json.load(f)
    counts = doc["partition_counts"]
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark {spark.version}")

    # Group vectors by their Spark expression shape so that one repartition
    # per group and partition count covers many rows.
    groups = defaultdict(list)
    skipped = []
    for i, v in enumerate(doc["vectors"]):
        exprs = [spark_expr(c["type"], c["value"]) for c in v["columns"]]
        if any(e is None for e in exprs):
            skipped.append(v["name"])
            continue
        how = "native" if all(h == "native" for _, h in exprs) else "equivalent"
        flat = ", ".join(e for e, _ in exprs)
        groups[tuple(c["type"] for c in v["columns"])].append((i, flat, how))

    results = {}
    for rows in groups.values():
        ncols = None
        selects = []
        for i, flat, _ in rows:
            cols = [c.strip() for c in split_top_level(flat)]
            ncols = len(cols)
            selects.append(
                f"SELECT {i} AS i, "
                + ", ".join(f"{c} AS c{k}" for k, c in enumerate(cols))
            )
        df = spark.sql(" UNION ALL ".join(selects))
        keys = [f"c{k}" for k in range(ncols)]
        hashes = {
            r["i"]: r["h"] for r in df.selectExpr("i", f"hash({', '.join(keys)}) AS h").collect()
        }
        parts = defaultdict(list)
        for n in counts:
            for r in df.repartition(n, *keys).select("i", spark_partition_id().alias("p")).collect():
                parts[r["i"]].append((n, r["p"]))
        for i, _, how in rows:
            p = [pid for _, pid in sorted(parts[i], key=lambda t: counts.index(t[0]))]
            results[i] = (hashes[i], p, how)

    failures = 0
    native = equivalent = 0
    for i, v in enumerate(doc["vectors"]):
        if i not in results:
            continue
        h, p, how = results[i]
        ok = h == v["hash"] and p == v["partitions"]
        failures += not ok
        native += ok and how == "native"
        equivalent += ok and how == "equivalent"
        mark = "ok  " if ok else "FAIL"
        detail = "" if ok else f"  spark hash {h} partitions {p}, vector {v['hash']} {v['partitions']}"
        print(f"{mark} {how:10} {v['name']}{detail}")
    for name in skipped:
        print(f"skip            {name}")
    print(
        f"{len(results)} checked against Spark ({native} native, {equivalent} equivalent match), "
        f"{failures} differ, {len(skipped)} skipped"
    )
    spark.stop()
    return 1 if failures else 0


def split_top_level(s):
    """Splits on commas outside parentheses and quotes."""
    out, depth, quote, cur = [], 0, False, ""
    i = 0
    while i < len(s):
        ch = s[i]
        if quote:
            cur += ch
            if ch == "\\" and i + 1 < len(s):
                cur += s[i + 1]
                i += 1
            elif ch == "'":
                quote = False
        elif ch == "'":
            quote = True
            cur += ch
        elif ch == "(":
            depth += 1
            cur += ch
        elif ch == ")":
            depth -= 1
            cur += ch
        elif ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    out.append(cur)
    return out


if __name__ == "__main__":
    sys.exit(main())

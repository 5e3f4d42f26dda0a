"""Writes the physical conformance cases: each case's SQL is planned by a
real Rust scheduler (``explain``, 2 target partitions) over the generated
tables, and its stage plans are stored as canonical protobuf JSON with the
data directory replaced by ``$DATA``. Then bless the expected outputs with
``run.py --bless rust`` and review them (``git diff``). Names on the command
line write only those cases.

    CARGO_TARGET_DIR=... .venv/bin/python integration/conformance/physical/make_cases.py [NAME ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.flight as flight
from google.protobuf import json_format

from ballista import proto

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tables  # noqa: E402

SETTINGS = {"datafusion.execution.target_partitions": "2"}

#: name -> (description, SQL)
CASES = {
    "scan_projection": ("Parquet scan of two file groups with a projection", "SELECT id, mode, price FROM items"),
    "filter_compare": ("Filter with comparisons, AND/OR and a date range", "SELECT id, qty FROM items WHERE (qty > 10 OR disc >= 0.05) AND ship >= DATE '1994-06-01' AND ship < DATE '1995-01-01'"),
    "filter_in_like_null": ("IN list, LIKE, IS NULL", "SELECT id, flag, mode FROM items WHERE mode IN ('MAIL', 'AIR') AND (flag LIKE 'A%' OR flag IS NULL)"),
    "filter_in_long_list": ("IN lists of more than 64 constants, sent as one Arrow array (values_ipc_stream), with a NULL among them and negated", "SELECT id, qty FROM items WHERE id IN (" + ", ".join(str(i) for i in range(0, 300, 3)) + ", NULL) AND qty NOT IN (2, 3, 5, " + ", ".join(str(i) for i in range(100, 167)) + ")"),
    "projection_arithmetic": ("Decimal and integer arithmetic, CASE", "SELECT id, price * (1 - disc) AS net, qty * 2 + 1 AS q, CASE WHEN qty > 8 THEN 'big' ELSE 'small' END AS size FROM items"),
    "aggregate_group_by": ("Partial/final hash aggregate over a hash shuffle: sum, count, min, max, avg", "SELECT flag, mode, sum(price) AS s, count(*) AS c, count(score) AS cs, min(ship) AS first, max(qty) AS mq, avg(price) AS ap, avg(score) AS asc_ FROM items GROUP BY flag, mode"),
    "aggregate_global": ("Aggregate without group keys (one row, even for no input)", "SELECT sum(price * disc) AS revenue, count(*) AS n, avg(qty) AS aq FROM items WHERE disc BETWEEN 0.02 AND 0.04"),
    "aggregate_empty_input": ("Global aggregate over no rows", "SELECT sum(price) AS s, count(*) AS c, max(id) AS m FROM items WHERE qty > 1000"),
    "count_distinct": ("COUNT(DISTINCT) with and without groups", "SELECT mode, count(DISTINCT qty) AS dq, count(DISTINCT flag) AS df FROM items GROUP BY mode"),
    "sort_limit": ("Top-k sort with mixed directions and nulls", "SELECT id, score, mode FROM items ORDER BY score DESC NULLS LAST, mode ASC, id DESC LIMIT 7"),
    "sort_full": ("Full sort across partitions (sort-preserving merge)", "SELECT id, flag FROM items WHERE qty = 3 ORDER BY flag NULLS FIRST, id"),
    "group_by_string_hash": ("Hash shuffle on a string key and a date key", "SELECT mode, ship, count(*) AS c FROM items GROUP BY mode, ship"),
    "join_inner": ("Hash join (outside the Python executor's subset)", "SELECT i.id, o.region FROM items i JOIN owners o ON i.id = o.oid WHERE i.qty > 5"),
    "window_rank": ("Window function (outside the Python executor's subset)", "SELECT id, mode, rank() OVER (PARTITION BY mode ORDER BY id) AS r FROM items WHERE id < 40"),
    "union_all": ("UNION ALL of two scans", "SELECT id FROM items WHERE qty = 1 UNION ALL SELECT oid FROM owners WHERE oid < 5"),
}


def main() -> int:
    binary = Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "ballista"
    with tempfile.TemporaryDirectory(prefix="ballista-physical-cases-") as tmp:
        data = Path(tmp) / "data"
        dirs = tables.write(data)
        proc = subprocess.Popen([str(binary), "scheduler", "--port", "0"], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            url = "grpc://127.0.0.1:" + line.strip().rsplit(":", 1)[1]
            import ballista

            ctx = ballista.connect(url, progress=False)
            for name, d in dirs.items():
                ctx.register_parquet(name, str(d))
            client = flight.FlightClient(url)
            chosen = sys.argv[1:] or list(CASES)
            for name in chosen:
                description, sql = CASES[name]
                q = proto.ExecuteQuery(sql=sql, settings=[proto.KeyValue(key=k, value=v) for k, v in SETTINGS.items()])
                body = proto.ExplainQuery(query=q).SerializeToString()
                reply = proto.ExplainResult.FromString(
                    list(client.do_action(flight.Action("explain", body)))[0].body.to_pybytes()
                )
                stages = []
                for s in reply.stages:
                    plan = json_format.MessageToDict(s.plan)
                    stages.append({"stage_id": s.stage_id, "partitions": s.partitions, "plan": plan})
                text = json.dumps(
                    {"description": description, "sql": sql, "settings": SETTINGS, "stages": stages},
                    indent=1,
                )
                text = text.replace(str(data).lstrip("/"), "$DATA")
                out = HERE / "cases" / name
                out.mkdir(parents=True, exist_ok=True)
                (out / "stages.json").write_text(text + "\n")
                print(f"{name}: {len(stages)} stages")
        finally:
            proc.kill()
            proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

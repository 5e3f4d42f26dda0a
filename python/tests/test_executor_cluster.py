"""A mixed cluster of real processes: a Rust scheduler, one Rust executor and
one Python executor (``python -m ballista.executor``), each with one task
slot, on loopback, running TPC-H SF 0.1 (generated once under
``$CARGO_TARGET_DIR/tpch-data/sf0.1-p2``).

- Q1, Q6 and Q12 return DuckDB's results, and the job's task report shows
  tasks run by both executors (Q1 and Q6 stages are all within the Python
  executor's subset, so its slot takes half of the scan tasks; Q12's join
  stage goes to the Rust executor only).
- Q9 and Q18 have stages the Python executor cannot run (joins); they
  complete, those stages ran on the Rust executor only, and ``explain``
  names only the Rust executor as capable of them.
- A shuffle written by either executor is read by the other: the task
  report of Q1 shows a stage-1 task on each executor and a stage-2 task
  reading the partitions of both, through ``DoGet`` across implementations.

The Python executor's time for Q1 and Q6 against the Rust executor's is
measured on one-executor clusters and printed (``-s``), never asserted.
"""

from __future__ import annotations

import decimal
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight
import pytest

import ballista
from ballista import proto
from conftest import TPCH_QUERIES, TPCH_TABLES, ballista_bin, target_dir, wait_listening

# `-P`: tests run from python/, whose source tree (no compiled native module)
# would otherwise shadow the installed package in the executor's sys.path.
PYTHON_EXECUTOR = [sys.executable, "-P", "-m", "ballista.executor"]


class Proc:
    """A server process that prints ``listening on IP:PORT``; killed by stop()."""

    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name = name
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info"), "BALLISTA_LOG": "INFO"},
        )
        self.port = wait_listening(self.proc, name, 60, kill=self.stop, hint=f"; see {log}")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


def sf01() -> Path:
    """TPC-H SF 0.1, 2 files per large table (generated once)."""
    out = target_dir() / "tpch-data" / "sf0.1-p2"
    if not (out / "_SUCCESS").exists():
        subprocess.run(
            [str(ballista_bin()), "gen", "tpch", "--sf", "0.1", "--parts", "2", "--out", str(out)],
            check=True,
        )
    return out


class Cluster:
    """A scheduler and the given executors (``"rust"`` / ``"python"``)."""

    def __init__(self, kinds: list[str], work: Path, scheduler_args: tuple[str, ...] = ()) -> None:
        self.procs: list[Proc] = []
        work.mkdir(parents=True, exist_ok=True)
        try:
            sched = Proc("scheduler", [str(ballista_bin()), "scheduler", "--port", "0", *scheduler_args], work / "scheduler.log")
            self.procs.append(sched)
            self.url = f"grpc://127.0.0.1:{sched.port}"
            for i, kind in enumerate(kinds):
                d = work / f"{kind}-{i}"
                d.mkdir()
                argv = (
                    [str(ballista_bin()), "executor"]
                    if kind == "rust"
                    else PYTHON_EXECUTOR
                ) + ["--scheduler", self.url, "--port", "0", "--slots", "1", "--work-dir", str(d)]
                self.procs.append(Proc(f"{kind} executor", argv, work / f"{kind}-{i}.log"))
            self.ctx = ballista.connect(self.url, progress=False)
            self.flight = flight.FlightClient(self.url)
            data = sf01()
            for t in TPCH_TABLES:
                self.ctx.register_parquet(t, str(data / t))
            self._wait_executors(len(kinds))
        except BaseException:
            self.stop()
            raise

    def _wait_executors(self, n: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.explain("SELECT 1").stages[0].capable_executors) < n:
            if time.monotonic() > deadline:
                pytest.fail(f"{n} executors did not register within 30 s")
            time.sleep(0.1)

    def action(self, kind: str, body: Any, reply: Any) -> Any:
        results = list(self.flight.do_action(flight.Action(kind, body.SerializeToString())))
        msg = reply()
        msg.ParseFromString(results[0].body.to_pybytes())
        return msg

    def explain(self, sql: str) -> Any:
        q = proto.ExplainQuery(query=proto.ExecuteQuery(sql=sql))
        return self.action("explain", q, proto.ExplainResult)

    def run(self, sql: str) -> tuple[pa.Table, Any, float]:
        """The query's result, its job status (with the task report) and
        its wall time in seconds."""
        started = time.monotonic()
        table = self.ctx.sql(sql).to_arrow()
        elapsed = time.monotonic() - started
        job = self.ctx.list_jobs()[0]
        status = self.action("job_status", proto.GetJobStatus(job_id=job.job_id), proto.JobStatus)
        return table, status, elapsed

    def stop(self) -> None:
        if hasattr(self, "ctx"):
            self.ctx.close()
        if hasattr(self, "flight"):
            self.flight.close()
        for p in reversed(self.procs):
            p.stop()


def query(n: int) -> str:
    return (TPCH_QUERIES / f"q{n}.sql").read_text().strip().rstrip(";")


def duckdb_result(n: int) -> list[tuple[Any, ...]]:
    import duckdb

    con = duckdb.connect()
    data = sf01()
    for t in TPCH_TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data / t}/*.parquet')")
    return [tuple(r) for r in con.execute(query(n)).fetchall()]


def close(a: Any, b: Any) -> bool:
    if isinstance(a, (float, decimal.Decimal)) or isinstance(b, (float, decimal.Decimal)):
        if a is None or b is None:
            return a is b
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    return bool(a == b)


def assert_same_rows(got: pa.Table, expected: list[tuple[Any, ...]], ordered: bool) -> None:
    rows = [tuple(r.values()) for r in got.to_pylist()]
    assert len(rows) == len(expected), f"{len(rows)} rows, DuckDB has {len(expected)}"
    if not ordered:
        rows, expected = sorted(rows, key=repr), sorted(expected, key=repr)
    for r, e in zip(rows, expected, strict=True):
        assert all(close(x, y) for x, y in zip(r, e, strict=True)), f"{r} != {e}"


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ballista-pyexec-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def mixed(work: Path) -> Iterator[Cluster]:
    c = Cluster(["rust", "python"], work / "mixed")
    yield c
    c.stop()


def executors_by_kind(c: Cluster) -> dict[str, str]:
    """Executor ids by implementation: a join stage only the Rust executor
    can run, as explain reports it."""
    every = set(c.explain("SELECT 1").stages[0].capable_executors)
    join = c.explain(query(12))
    rust = set.intersection(
        *[set(s.capable_executors) for s in join.stages if "hash_join" in s.requirements.operators]
    )
    assert len(every) == 2 and len(rust) == 1, (every, rust)
    (rust_id,) = rust
    (python_id,) = every - rust
    return {"rust": rust_id, "python": python_id}


def tasks_by_executor(status: Any, ids: dict[str, str]) -> dict[str, list[tuple[int, int]]]:
    kinds = {v: k for k, v in ids.items()}
    out: dict[str, list[tuple[int, int]]] = {"rust": [], "python": []}
    for t in status.tasks:
        assert t.state == proto.TASK_STATE_SUCCEEDED
        out[kinds[t.executor_id]].append((t.task_id.stage_id, t.task_id.partition))
    return out


@pytest.mark.parametrize("n", [1, 6, 12])
def test_mixed_cluster_runs_tpch_on_both_executors(mixed: Cluster, n: int) -> None:
    table, status, _ = mixed.run(query(n))
    assert status.state == proto.JOB_STATE_SUCCEEDED, status.error
    assert_same_rows(table, duckdb_result(n), ordered=True)
    ran = tasks_by_executor(status, executors_by_kind(mixed))
    print(f"\nQ{n} task report (stage, partition): {ran}")
    assert ran["rust"] and ran["python"], ran


@pytest.mark.parametrize("n", [9, 18])
def test_stages_the_python_executor_cannot_run_go_to_rust(mixed: Cluster, n: int) -> None:
    ids = executors_by_kind(mixed)
    plan = mixed.explain(query(n))
    join_stages = {s.stage_id for s in plan.stages if "hash_join" in s.requirements.operators}
    assert join_stages
    names = {
        ids["rust"]: f"{ids['rust']} (ballista-rust/0.1.0)",
        ids["python"]: f"{ids['python']} (ballista-python/0.1.0)",
    }
    for s in plan.stages:
        if s.stage_id in join_stages:
            assert list(s.capable_executors) == [ids["rust"]], s
        # The stage text clients print says so too.
        who = ", ".join(names[i] for i in s.capable_executors)
        assert s.plan_text.splitlines()[-1] == f"Runs on: {who}", s.plan_text
    table, status, _ = mixed.run(query(n))
    assert status.state == proto.JOB_STATE_SUCCEEDED, status.error
    assert_same_rows(table, duckdb_result(n), ordered=True)
    kinds = {v: k for k, v in ids.items()}
    for t in status.tasks:
        if t.task_id.stage_id in join_stages:
            assert kinds[t.executor_id] == "rust", t


#: Every TPC-H query but Q15 (a view, several statements).
ALL_QUERIES = [n for n in range(1, 23) if n != 15]


@pytest.mark.parametrize("n", ALL_QUERIES)
def test_every_tpch_query_is_right_on_the_mixed_cluster(mixed: Cluster, n: int) -> None:
    """Whatever stages the Python executor takes (those its capabilities
    cover), the results stay DuckDB's."""
    table, status, _ = mixed.run(query(n))
    assert status.state == proto.JOB_STATE_SUCCEEDED, status.error
    assert_same_rows(table, duckdb_result(n), ordered=True)


def test_shuffles_cross_implementations(mixed: Cluster) -> None:
    """Q1's scan stage (2 tasks) spreads over both single-slot executors; each
    task of the next stage reads the hash-partitioned files of both, one of
    them through DoGet from the other implementation."""
    ids = executors_by_kind(mixed)
    for _ in range(3):
        table, status, _ = mixed.run(query(1))
        assert_same_rows(table, duckdb_result(1), ordered=True)
        ran = tasks_by_executor(status, ids)
        scan = {k for k, v in ran.items() for (stage, _) in v if stage == 1}
        reduce_ = {k for k, v in ran.items() for (stage, _) in v if stage == 2}
        if scan == {"rust", "python"} and reduce_:
            print(f"\nscan stage on {sorted(scan)}, reduce stage on {sorted(reduce_)}")
            return
    pytest.fail(f"the scan stage never ran on both executors: {ran}")


def test_a_stage_no_executor_can_run_fails_its_job_naming_what_is_missing(work: Path) -> None:
    """Only a Python executor: Q12's join stage waits for an executor that
    can run it, then the job fails with an error naming the operator."""
    c = Cluster(["python"], work / "python-only", ("--no-executor-timeout", "2s"))
    try:
        with pytest.raises(ballista.BallistaError, match=r"no registered executor can run stage \d+: .*operator hash_join"):
            c.ctx.sql(query(12)).to_arrow()
        # Stages it can run still run.
        table, status, _ = c.run(query(6))
        assert status.state == proto.JOB_STATE_SUCCEEDED
        assert_same_rows(table, duckdb_result(6), ordered=True)
    finally:
        c.stop()


def test_python_executor_time_relative_to_rust(work: Path) -> None:
    """Q1 and Q6 on a one-executor cluster of each kind (same data, one
    slot); the ratio is reported, not asserted (no speed target in tests)."""
    times: dict[str, dict[int, float]] = {}
    for kind in ("rust", "python"):
        c = Cluster([kind], work / f"alone-{kind}")
        try:
            times[kind] = {}
            for n in (1, 6):
                c.run(query(n))  # warm-up: file cache, connections
                best = min(c.run(query(n))[2] for _ in range(3))
                times[kind][n] = best
        finally:
            c.stop()
    for n in (1, 6):
        ratio = times["python"][n] / times["rust"][n]
        print(
            f"\nQ{n} SF 0.1, 1 executor x 1 slot: rust {times['rust'][n]:.3f} s, "
            f"python {times['python'][n]:.3f} s, python/rust = {ratio:.1f}x"
        )
        assert ratio > 0

"""Physical (executor) conformance: every case's stage plans run on every
executor implementation of ``executors.json``; each stage's output
partitions must equal ``expected.json``.

The runner is the scheduler the executor under test talks to: a small Flight
server that answers ``register_executor`` and ``heartbeat`` (collecting task
statuses) and nothing else. It is a harness, not a mock of something that
could run here: the real scheduler decides placement itself, while these
cases must send every stage to one executor to check that executor alone.
The executor is a real process; tasks reach it by ``launch_task``, shuffle
reads between stages go through its own files and ``DoGet``, and outputs are
read back with ``DoGet`` like any client would.

Per stage the expected data is, for each output partition (reduce partition
of a shuffle write, or result partition), the rows sorted: so a stage with
hash partitioning also checks that rows land in the spec hash's partition.

    .venv/bin/python integration/conformance/physical/run.py [--only rust] [--bless rust]

Needs the ``ballista`` package (for the spec's message classes) and
``CARGO_TARGET_DIR`` (the Rust executor binary); ``make conformance`` runs it.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight
from google.protobuf import json_format

from ballista import proto

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE))
import tables  # noqa: E402

#: Longest wait for one stage's tasks.
STAGE_TIMEOUT = 60.0


class HarnessScheduler(flight.FlightServerBase):  # type: ignore[misc]
    """Answers registrations and heartbeats; records task statuses."""

    def __init__(self) -> None:
        super().__init__("grpc://127.0.0.1:0")
        self.executors: dict[str, Any] = {}
        self.statuses: dict[tuple[str, int, int], Any] = {}
        self.cond = threading.Condition()

    def do_action(self, context: Any, action: Any) -> list[bytes]:
        body = action.body.to_pybytes()
        if action.type == "register_executor":
            reg = proto.ExecutorRegistration.FromString(body)
            with self.cond:
                self.executors[reg.endpoint.id] = reg
                self.cond.notify_all()
            return [proto.RegisterExecutorResult(heartbeat_interval_ms=200).SerializeToString()]
        if action.type == "heartbeat":
            hb = proto.Heartbeat.FromString(body)
            with self.cond:
                for s in hb.task_statuses:
                    t = s.task_id
                    self.statuses[(t.job_id, t.stage_id, t.partition)] = s
                self.cond.notify_all()
            known = hb.executor_id in self.executors
            return [proto.HeartbeatResult(reregister=not known).SerializeToString()]
        raise pa.ArrowNotImplementedError(f"the harness does not answer `{action.type}`")

    def wait_executor(self, count: int = 1, timeout: float = 60.0) -> Any:
        """The ``count``-th executor to register, once it has."""
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.executors) >= count, timeout):
                raise RuntimeError(f"executor {count} did not register within {timeout} s")
            return list(self.executors.values())[count - 1]

    def wait_tasks(self, keys: list[tuple[str, int, int]]) -> list[Any]:
        with self.cond:
            done = self.cond.wait_for(lambda: all(k in self.statuses for k in keys), STAGE_TIMEOUT)
            if not done:
                missing = [k for k in keys if k not in self.statuses]
                raise RuntimeError(f"tasks {missing} did not finish within {STAGE_TIMEOUT} s")
            return [self.statuses[k] for k in keys]


def walk(msg: Any, kind: str) -> list[Any]:
    """Every message of type ``ballista.v1.<kind>`` inside ``msg``."""
    found = []
    if msg.DESCRIPTOR.name == kind:
        found.append(msg)
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        repeated = getattr(field, "is_repeated", None)
        if repeated is None:  # protobuf before 5.28
            repeated = field.label == field.LABEL_REPEATED
        if repeated:
            for v in value:
                found += walk(v, kind)
        else:
            found += walk(value, kind)
    return found


def prepare(stage: dict[str, Any], data: Path, job: str, outputs: dict[int, list[list[Any]]]) -> Any:
    """A stage's plan bound to this run: data paths (and their sizes), the
    job id, and the locations of earlier stages' outputs."""
    plan = json_format.ParseDict(stage["plan"], proto.PhysicalPlanNode())
    for f in walk(plan, "PartitionedFile"):
        f.path = f.path.replace("$DATA", str(data).lstrip("/"))
        local = f.path.removeprefix("file://")
        f.size = os.path.getsize("/" + local.lstrip("/"))
    root = getattr(plan, plan.WhichOneof("node"))
    root.job_id = job
    for read in walk(plan, "ShuffleReadExec"):
        for i, p in enumerate(read.partitions):
            del p.locations[:]
            p.locations.extend(outputs[read.stage_id][i])
    return plan


def normalise(v: Any) -> Any:
    """A value as JSON: decimals and dates as text, floats to 9 digits
    (sums of floats depend on the order rows are added in)."""
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, float):
        return float(f"{v:.9g}")
    if isinstance(v, list):
        return sorted((normalise(x) for x in v), key=json.dumps)
    if isinstance(v, bytes):
        return v.hex()
    return v


def rows(table: pa.Table) -> list[list[Any]]:
    out = [[normalise(v) for v in r.values()] for r in table.to_pylist()]
    return sorted(out, key=json.dumps)


def run_case(case: Path, commands: list[list[str]], work: Path, data: Path) -> dict[str, Any]:
    """Runs every stage of ``case`` on fresh executors (stage i on executor
    ``i % len(commands)``, so with two implementations every shuffle crosses
    from one to the other); returns the rows of each stage's output
    partitions: ``{stage: {partition: rows}}``."""
    stages = json.loads((case / "stages.json").read_text())
    settings = [proto.KeyValue(key=k, value=v) for k, v in stages.get("settings", {}).items()]
    sched = HarnessScheduler()
    url = f"grpc://127.0.0.1:{sched.port}"
    procs = []
    logs = []
    try:
        clients = []
        for i, command in enumerate(commands):
            d = work / str(i)
            d.mkdir()
            argv = [a.replace("{scheduler}", url).replace("{work_dir}", str(d)) for a in command]
            argv = [os.path.expandvars(a) for a in argv]
            logs.append(open(work / f"{i}.log", "w"))  # noqa: SIM115
            procs.append(subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=logs[-1]))
            # One at a time, so the i-th registration is the i-th command's.
            reg = sched.wait_executor(count=i + 1)
            clients.append(flight.FlightClient(f"grpc://{reg.endpoint.host}:{reg.endpoint.port}"))
        job = f"conf-{case.name}"
        outputs: dict[int, list[list[Any]]] = {}
        result: dict[str, Any] = {}
        for k, stage in enumerate(stages["stages"]):
            client = clients[k % len(clients)]
            sid = stage["stage_id"]
            plan = prepare(stage, data, job, outputs)
            keys = []
            for p in range(stage["partitions"]):
                task = proto.TaskDefinition(
                    task_id=proto.TaskId(job_id=job, stage_id=sid, partition=p, attempt=0),
                    plan=plan,
                    settings=settings,
                )
                list(client.do_action(flight.Action("launch_task", task.SerializeToString())))
                keys.append((job, sid, p))
            statuses = sched.wait_tasks(keys)
            for s in statuses:
                if s.state != proto.TASK_STATE_SUCCEEDED:
                    raise RuntimeError(f"stage {sid} partition {s.task_id.partition}: {s.error}")
            root = plan.WhichOneof("node")
            n = output_partitions(plan, stage["partitions"])
            by_part: list[list[Any]] = [[] for _ in range(n)]
            for s in statuses:
                for loc in s.outputs:
                    by_part[loc.output_partition].append(loc)
            outputs[sid] = by_part
            parts = {}
            for i, locs in enumerate(by_part):
                got: list[list[Any]] = []
                for loc in locs:
                    ticket = proto.FetchPartition(
                        job_id=loc.job_id,
                        stage_id=loc.stage_id,
                        map_partition=loc.map_partition,
                        output_partition=loc.output_partition,
                        path=loc.path,
                    )
                    got += rows(client.do_get(flight.Ticket(ticket.SerializeToString())).read_all())
                parts[str(i)] = sorted(got, key=json.dumps)
            result[str(sid)] = parts
        for c in clients:
            c.close()
        return result
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for log in logs:
            log.close()
        sched.shutdown()


def output_partitions(plan: Any, tasks: int) -> int:
    """How many output partitions a stage has: its tasks' result partitions,
    or the reduce partitions of its shuffle write."""
    if plan.WhichOneof("node") == "result_sink":
        return tasks
    part = plan.shuffle_write.partitioning
    scheme = part.WhichOneof("scheme")
    if scheme == "hash":
        return int(part.hash.partition_count)
    if scheme in ("round_robin", "unknown"):
        return int(getattr(part, scheme))
    return tasks


def known_failures(impl: str) -> set[str]:
    path = HERE / "known-failures" / f"{impl}.txt"
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="run only this implementation")
    p.add_argument("--case", help="run only this case")
    p.add_argument("--bless", help="write expected.json from this implementation's outputs")
    args = p.parse_args()
    executors = json.loads((HERE / "executors.json").read_text())["executors"]
    cases = sorted(c for c in (HERE / "cases").iterdir() if (c / "stages.json").exists())
    if args.case:
        cases = [c for c in cases if c.name == args.case]
    names = [args.bless or args.only] if (args.bless or args.only) else list(executors)
    # Each implementation alone, then (with two or more) every ordered pair
    # alternating stage by stage: shuffles written by one, read by the other.
    runs: list[list[str]] = [[n] for n in names]
    if not (args.bless or args.only):
        runs += [[a, b] for a in names for b in names if a != b]
    bad = 0
    summary = []
    with tempfile.TemporaryDirectory(prefix="ballista-physical-") as tmp:
        data = Path(tmp) / "data"
        tables.write(data)
        for run in runs:
            label = "->".join(run)
            known = set().union(*(known_failures(n) for n in run))
            passed = failed_known = 0
            selected = cases if len(run) == 1 else [c for c in cases if multi_stage(c)]
            for case in selected:
                work = Path(tmp) / f"{label}-{case.name}"
                work.mkdir()
                try:
                    got = run_case(case, [executors[n]["command"] for n in run], work, data)
                    if args.bless:
                        (case / "expected.json").write_text(json.dumps(got, indent=1) + "\n")
                    expected = json.loads((case / "expected.json").read_text())
                    error = None if got == expected else diff(expected, got)
                except Exception as e:  # a failed task, a refused plan, a timeout
                    error = f"{type(e).__name__}: {e}"
                if error is None and case.name in known and len(run) == 1:
                    print(f"[{label}] {case.name}: passes but is listed as a known failure; remove it")
                    bad += 1
                elif error is None:
                    passed += 1
                elif case.name in known:
                    failed_known += 1
                    print(f"[{label}] {case.name}: known failure ({error.splitlines()[0][:160]})")
                else:
                    bad += 1
                    print(f"[{label}] {case.name}: FAILED\n    {error}")
            summary.append(f"[{label}] {passed}/{len(selected)} cases pass, {failed_known} known failures")
    print("\n".join(summary))
    return 1 if bad else 0


def multi_stage(case: Path) -> bool:
    """Whether a case has a shuffle (more than one stage)."""
    return len(json.loads((case / "stages.json").read_text())["stages"]) > 1


def diff(expected: dict[str, Any], got: dict[str, Any]) -> str:
    for stage, parts in expected.items():
        if stage not in got:
            return f"stage {stage}: no output"
        for part, want in parts.items():
            have = got[stage].get(part)
            if have != want:
                return (
                    f"stage {stage} partition {part}: {len(have or [])} rows, expected "
                    f"{len(want)}; first difference: "
                    f"{next(((h, w) for h, w in zip(have or [], want) if h != w), None)}"
                )
    return "outputs differ"


if __name__ == "__main__":
    sys.exit(main())

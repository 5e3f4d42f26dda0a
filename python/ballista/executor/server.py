"""The executor process: its Flight service, its tasks, and the loop that
keeps it known to the scheduler (``proto/ballista/v1/flight.proto``,
"Executor"), as the Rust executor does it:

- ``DoAction("launch_task", TaskDefinition)`` queues the task and answers at
  once; the outcome reaches the scheduler as a ``TaskStatus`` in the next
  heartbeat, which is sent at once when a task finishes;
- ``DoAction("remove_job_data", RemoveJobData)`` deletes a job's files;
- ``DoGet(FetchPartition)`` streams a shuffle or result file.

Registration retries with backoff until the scheduler answers; a heartbeat
answered with ``reregister`` registers again; statuses of a heartbeat that
failed are sent again with the next one.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight

from ballista import proto
from ballista.executor import aggregate, expressions, operators
from ballista.executor.errors import ExecutorError
from ballista.executor.shuffle import (
    RESULT_DIR,
    ShuffleReads,
    compression,
    resolve_in_work_dir,
    validate_job_id,
    write_ipc,
)

log = logging.getLogger("ballista.executor")

#: Implementation name sent in the registration.
IMPLEMENTATION = "ballista-python/0.1.0"
#: Longest wait for one call to the scheduler.
SCHEDULER_CALL_TIMEOUT = 10.0


def capabilities() -> Any:
    """What this executor runs: the operators, expressions and functions it
    implements; no UDF language and no engine extension."""
    caps = proto.ExecutorCapabilities(
        operators=operators.OPERATORS,
        functions=aggregate.FUNCTIONS + expressions.SCALAR_FUNCTIONS,
        implementation=IMPLEMENTATION,
    )
    # `expressions` is newer than the other lists; descriptors built before
    # it existed cannot carry it (and their schedulers would not read it).
    if "expressions" in caps.DESCRIPTOR.fields_by_name:
        caps.expressions.extend(expressions.EXPRESSIONS)
    return caps


class _Cancelled(Exception):
    """The task's job was removed."""


def task_name(t: Any) -> str:
    """Names a task in logs and errors."""
    return f"job {t.job_id} stage {t.stage_id} partition {t.partition} attempt {t.attempt}"


class ExecutorService(flight.FlightServerBase):  # type: ignore[misc]
    """The Flight service and state of one executor."""

    def __init__(
        self,
        scheduler_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        task_slots: int = 1,
        work_dir: str | None = None,
        advertised_host: str | None = None,
    ) -> None:
        """Binds ``host:port`` (0 picks a free port) and creates the work
        directory; :meth:`start` begins registering with the scheduler."""
        if task_slots < 1:
            raise ExecutorError("task slots must be at least 1")
        super().__init__(f"grpc://{host}:{port}")
        self.id = str(uuid.uuid4())
        self.owns_work_dir = work_dir is None
        work_dir = work_dir or os.path.join(tempfile.gettempdir(), f"ballista-executor-{self.id}")
        os.makedirs(work_dir, exist_ok=True)
        self.work_dir = os.path.realpath(work_dir)
        self.host = host
        self.endpoint = proto.ExecutorEndpoint(
            id=self.id, host=advertised_host or host, port=self.port
        )
        self.scheduler_url = scheduler_url if "://" in scheduler_url else f"grpc://{scheduler_url}"
        self.task_slots = task_slots
        self._pool = ThreadPoolExecutor(max_workers=task_slots, thread_name_prefix="task")
        self._lock = threading.Lock()
        self._running = 0
        self._statuses: list[Any] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancelled: set[str] = set()
        self.registered = threading.Event()
        self.reads = ShuffleReads(self.id, self.work_dir)
        self._loop = threading.Thread(target=self._scheduler_loop, name="heartbeat", daemon=True)

    def start(self) -> None:
        """Starts registering and heartbeating in the background."""
        self._loop.start()

    def stop(self) -> None:
        """Stops the loop and the server; removes an owned work directory."""
        self._stop.set()
        self._wake.set()
        self.shutdown()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # Flight surface.

    def do_action(self, context: Any, action: Any) -> list[Any]:
        """``launch_task`` and ``remove_job_data``."""
        body = action.body.to_pybytes()
        try:
            if action.type == "launch_task":
                definition = proto.TaskDefinition.FromString(body)
                self.launch(definition)
                return []
            if action.type == "remove_job_data":
                remove = proto.RemoveJobData.FromString(body)
                self.remove_job_data(remove.job_id, remove.shuffle_only)
                return []
        except ExecutorError as e:
            raise e.to_flight() from None
        except Exception as e:  # a body that does not decode
            raise pa.ArrowInvalid(f"action {action.type}: {e}") from None
        raise pa.ArrowNotImplementedError(
            f"unknown action `{action.type}`: an executor answers `launch_task` and "
            "`remove_job_data`"
        )

    def list_actions(self, context: Any) -> list[tuple[str, str]]:
        """The actions of :meth:`do_action`."""
        return [
            ("launch_task", "Run a task (body: ballista.v1.TaskDefinition)"),
            ("remove_job_data", "Delete a job's data (body: ballista.v1.RemoveJobData)"),
        ]

    def do_get(self, context: Any, ticket: Any) -> Any:
        """Streams the file a ``FetchPartition`` ticket names (LZ4 on the wire)."""
        try:
            t = proto.FetchPartition.FromString(ticket.ticket)
            what = (
                f"partition (job {t.job_id}, stage {t.stage_id}, map {t.map_partition}, "
                f"output {t.output_partition})"
            )
            path = resolve_in_work_dir(self.work_dir, t.path, what)
            reader = pa.ipc.open_stream(pa.memory_map(path))
        except ExecutorError as e:
            raise e.to_flight() from None
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        return flight.RecordBatchStream(reader, options=options)

    # Tasks.

    def free_slots(self) -> int:
        """Slots not taken by a running or queued task."""
        with self._lock:
            return max(0, self.task_slots - self._running)

    def launch(self, definition: Any) -> None:
        """Checks a task and queues it; its status arrives by heartbeat."""
        if not definition.HasField("task_id") or not definition.HasField("plan"):
            raise ExecutorError("TaskDefinition: task_id and plan are required")
        validate_job_id(definition.task_id.job_id, "TaskDefinition.task_id.job_id")
        with self._lock:
            self._running += 1
        self._pool.submit(self._run, definition)

    def _run(self, definition: Any) -> None:
        task_id = definition.task_id
        started = time.monotonic()
        status = proto.TaskStatus(task_id=task_id, executor_id=self.id)
        try:
            if task_id.job_id in self._cancelled:
                raise _Cancelled()
            outputs = self.execute(definition)
            if task_id.job_id in self._cancelled:
                # The job's data was removed while the task ran (a thread
                # cannot be aborted): drop what it wrote.
                shutil.rmtree(os.path.join(self.work_dir, task_id.job_id), ignore_errors=True)
                raise _Cancelled()
            status.state = proto.TASK_STATE_SUCCEEDED
            status.outputs.extend(outputs)
        except _Cancelled:
            status.state = proto.TASK_STATE_CANCELLED
            status.error = "the task was aborted: its job's data was removed"
        except ExecutorError as e:
            status.state = proto.TASK_STATE_FAILED
            status.error = str(e)
            status.retryable = e.retryable
            status.fetch_failed_executor_id = e.fetch_failed_executor_id
        except Exception as e:  # pyarrow kernels raise their own errors
            status.state = proto.TASK_STATE_FAILED
            status.error = f"{type(e).__name__}: {e}"
        status.elapsed_ms = int((time.monotonic() - started) * 1000)
        if status.state == proto.TASK_STATE_FAILED:
            log.warning("task %s failed: %s", task_name(task_id), status.error)
        else:
            log.info("task %s succeeded in %d ms", task_name(task_id), status.elapsed_ms)
        with self._lock:
            self._running -= 1
            self._statuses.append(status)
        self._wake.set()

    def execute(self, definition: Any) -> list[Any]:
        """Runs a task's stage plan; returns the locations it wrote."""
        task_id = definition.task_id
        root = definition.plan
        kind = root.WhichOneof("node")
        if kind not in ("shuffle_write", "result_sink"):
            raise ExecutorError(
                "TaskDefinition.plan: the root of a stage plan must be ShuffleWriteExec or "
                f"ResultSinkExec, got {kind}"
            )
        op = getattr(root, kind)
        if op.job_id != task_id.job_id or op.stage_id != task_id.stage_id:
            raise ExecutorError(
                f"TaskDefinition.plan: the plan writes job {op.job_id} stage {op.stage_id}, "
                f"but the task is {task_name(task_id)}"
            )
        runner = operators.Executor(self.reads.read)
        partition = task_id.partition
        table = runner.execute(op.input, partition)
        views = operators.view_columns(op.input)
        stage_dir = os.path.join(self.work_dir, op.job_id, str(op.stage_id))
        if kind == "result_sink":
            path = os.path.join(stage_dir, RESULT_DIR, f"{partition}.arrow")
            stats = write_ipc(
                path, operators.restore_views(table, views), compression(op.compression)
            )
            return [self._location(op, partition, partition, path, stats)]
        partitioning = op.partitioning if op.HasField("partitioning") else None
        parts = operators.route(
            table, partitioning, partition, operators.output_partitions(op.input)
        )
        codec = compression(op.compression)
        out = []
        for reduce, rows in sorted(parts.items()):
            path = os.path.join(stage_dir, str(reduce), f"{partition}.arrow")
            stats = write_ipc(path, operators.restore_views(rows, views), codec)
            out.append(self._location(op, partition, reduce, path, stats))
        return out

    def _location(self, op: Any, map_p: int, out_p: int, path: str, stats: Any) -> Any:
        return proto.PartitionLocation(
            job_id=op.job_id,
            stage_id=op.stage_id,
            map_partition=map_p,
            output_partition=out_p,
            executor=self.endpoint,
            path=path,
            stats=stats,
        )

    def remove_job_data(self, job_id: str, shuffle_only: bool) -> None:
        """Deletes a job's directory, or only its shuffle directories."""
        validate_job_id(job_id, "RemoveJobData.job_id")
        job_dir = os.path.join(self.work_dir, job_id)
        if not shuffle_only:
            # Tasks of the job still queued or running end as CANCELLED.
            with self._lock:
                self._cancelled.add(job_id)
            shutil.rmtree(job_dir, ignore_errors=True)
            return
        if not os.path.isdir(job_dir):
            return
        for stage in os.listdir(job_dir):
            stage_dir = os.path.join(job_dir, stage)
            if not os.path.isdir(stage_dir):
                continue
            for part in os.listdir(stage_dir):
                if part != RESULT_DIR:
                    shutil.rmtree(os.path.join(stage_dir, part), ignore_errors=True)

    # Scheduler loop.

    def _call(self, client: Any, kind: str, body: Any, reply: Any) -> Any:
        options = flight.FlightCallOptions(timeout=SCHEDULER_CALL_TIMEOUT)
        results = list(client.do_action(flight.Action(kind, body.SerializeToString()), options))
        msg = reply()
        if results:
            msg.ParseFromString(results[0].body.to_pybytes())
        return msg

    def _register(self, client: Any) -> float:
        registration = proto.ExecutorRegistration(
            endpoint=self.endpoint, task_slots=self.task_slots, capabilities=capabilities()
        )
        backoff = 0.1
        while not self._stop.is_set():
            try:
                reply = self._call(
                    client, "register_executor", registration, proto.RegisterExecutorResult
                )
                log.info("registered with the scheduler at %s", self.scheduler_url)
                self.registered.set()
                return (reply.heartbeat_interval_ms or 1000) / 1000.0
            except (flight.FlightError, pa.ArrowException, OSError) as e:
                log.warning("cannot register with %s: %s (retry in %.1fs)", self.scheduler_url, e, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        return 1.0

    def _scheduler_loop(self) -> None:
        client = flight.FlightClient(self.scheduler_url)
        interval = self._register(client)
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                statuses, self._statuses = self._statuses, []
            beat = proto.Heartbeat(
                executor_id=self.id, task_statuses=statuses, free_slots=self.free_slots()
            )
            try:
                reply = self._call(client, "heartbeat", beat, proto.HeartbeatResult)
            except (flight.FlightError, pa.ArrowException, OSError) as e:
                log.warning("heartbeat failed (statuses kept for the next one): %s", e)
                with self._lock:
                    self._statuses = statuses + self._statuses
                continue
            if reply.reregister:
                log.warning("the scheduler does not know this executor; registering again")
                self.registered.clear()
                interval = self._register(client)

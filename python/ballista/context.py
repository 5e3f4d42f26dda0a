""":class:`BallistaContext`: a connection to a Ballista cluster, and the two
ways to get one, :func:`connect` and :func:`standalone`.

>>> import ballista
>>> with ballista.standalone(executors=1) as ctx:
...     ctx.sql("SELECT 1 + 1 AS two").to_arrow().column("two").to_pylist()
[2]
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import pyarrow as pa

from ballista import _native, proto
from ballista._flight import Transport
from ballista._progress import Progress, wanted
from ballista.dataframe import DataFrame, _read_files_message
from ballista.errors import BallistaError, ExecutionError
from ballista.udf import UserDefinedFunction


class BallistaContext:
    """A session on a Ballista cluster: builds DataFrames bound to it, runs
    them over Arrow Flight, and manages the cluster's catalog.

    Get one with :func:`connect` (a running cluster) or :func:`standalone`
    (an embedded cluster in this process). Use it as a context manager, or
    call :meth:`close`, to release the connection and stop an embedded
    cluster.
    """

    def __init__(
        self,
        url: str,
        *,
        progress: bool | None = None,
        local_reads: bool = True,
        _cluster: _native.EmbeddedCluster | None = None,
    ) -> None:
        """Connects to the scheduler at ``url`` and checks that it answers;
        prefer :func:`connect`."""
        self._transport = Transport(url, local_reads=local_reads)
        self._cluster = _cluster
        self._progress = progress
        self._settings: dict[str, str] = {}
        self._udfs: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: The id of this context's session: views it creates are its own.
        self.session_id = str(uuid.uuid4())
        self._transport.check()

    @property
    def scheduler_url(self) -> str:
        """The scheduler's URL."""
        return self._transport.url

    @property
    def cluster(self) -> _native.EmbeddedCluster | None:
        """The embedded cluster this context started, if any."""
        return self._cluster

    def __repr__(self) -> str:
        kind = "embedded" if self._cluster is not None else "remote"
        return f"<ballista.BallistaContext {kind} scheduler {self.scheduler_url}>"

    # ---- lifecycle ------------------------------------------------------

    def close(self) -> None:
        """Closes the connection and stops an embedded cluster; idempotent."""
        self._transport.close()
        if self._cluster is not None:
            self._cluster.shutdown()

    def __enter__(self) -> BallistaContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- settings -------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        """Sets a session setting sent with every later query, e.g.
        ``ctx.set("datafusion.execution.target_partitions", 8)``."""
        with self._lock:
            self._settings[key] = str(value).lower() if isinstance(value, bool) else str(value)

    def _query(self, **query: Any) -> Any:
        with self._lock:
            settings = [proto.KeyValue(key=k, value=v) for k, v in self._settings.items()]
            udfs = list(self._udfs.values())
        return proto.ExecuteQuery(
            settings=settings,
            udfs=udfs,
            job_name=f"python-{uuid.uuid4()}",
            session_id=self.session_id,
            **query,
        )

    def register_udf(self, f: UserDefinedFunction, name: str | None = None) -> None:
        """Makes scalar UDF ``f`` callable from this context's SQL as
        ``name`` (default: its name). The definition travels with every
        later query of this context (``ExecuteQuery.udfs``); it replaces a
        UDF registered under the same name."""
        if not isinstance(f, UserDefinedFunction):
            raise TypeError(f"register_udf takes a ballista.udf function, got {f!r}")
        reg = f.registration()
        if name is not None:
            reg.function.name = name
        with self._lock:
            self._udfs[reg.function.name] = reg

    def deregister_udf(self, name: str) -> None:
        """Forgets the UDF registered as ``name``."""
        with self._lock:
            self._udfs.pop(name, None)

    # ---- DataFrames -----------------------------------------------------

    def _bind(self, df: DataFrame) -> DataFrame:
        return DataFrame(df._plan, self)

    def dataframe(self, df: DataFrame) -> DataFrame:
        """Any plan, bound to this context so that it can run here."""
        return self._bind(df)

    def sql(self, query: str) -> DataFrame:
        """A SQL query over the cluster's catalog, as a DataFrame (run when
        collected). Statements that change the catalog (``CREATE EXTERNAL
        TABLE``, ``CREATE VIEW``, ``DROP ...``) run at once, as in DataFusion
        and PySpark, and return an empty DataFrame."""
        first = query.split(None, 1)[0].upper() if query.strip() else ""
        if first in ("CREATE", "DROP"):
            self._run(self._query(sql=query))
            return self._bind(DataFrame.empty(False))
        return self._bind(DataFrame.from_sql(query))

    def table(self, name: str) -> DataFrame:
        """A table of the cluster's catalog."""
        return self._bind(DataFrame.read_table(name))

    def read_parquet(self, paths: str | Iterable[str], schema: pa.Schema | None = None) -> DataFrame:
        """Parquet files or directories (paths as the executors see them)."""
        return self._bind(DataFrame.read_parquet(paths, schema))

    def read_csv(
        self,
        paths: str | Iterable[str],
        options: Mapping[str, Any] | None = None,
        schema: pa.Schema | None = None,
        **kw_options: Any,
    ) -> DataFrame:
        """CSV files or directories; options such as ``has_header=True``."""
        return self._bind(DataFrame.read_csv(paths, options, schema, **kw_options))

    def read_json(self, paths: str | Iterable[str], schema: pa.Schema | None = None) -> DataFrame:
        """Newline-delimited JSON files or directories."""
        return self._bind(DataFrame.read_json(paths, schema))

    def values(self, rows: Iterable[Any], column_names: Iterable[str] = ()) -> DataFrame:
        """Literal rows (see :meth:`DataFrame.values`)."""
        return self._bind(DataFrame.values(rows, column_names))

    # ---- catalog --------------------------------------------------------

    def register_files(
        self,
        name: str,
        format: str,
        path: str,
        options: Mapping[str, Any] | None = None,
        schema: pa.Schema | None = None,
    ) -> None:
        """Registers files of a format as table ``name`` in the cluster's
        shared catalog, replacing a table of that name."""
        request = proto.RegisterTable(
            table=proto.TableReference(table=name),
            source=_read_files_message(format, path, options, schema),
            replace=True,
        )
        self._transport.action("register_table", request)

    def register_parquet(self, name: str, path: str) -> None:
        """Registers Parquet files or a directory as table ``name``."""
        self.register_files(name, "parquet", path)

    def register_csv(self, name: str, path: str, **options: Any) -> None:
        """Registers CSV files or a directory as table ``name``; options as
        for :meth:`read_csv` (``has_header=True``, ``delimiter=";"``)."""
        self.register_files(name, "csv", path, options)

    def deregister_table(self, name: str) -> None:
        """Removes table ``name`` from the catalog."""
        self._transport.action("drop_table", proto.DropTable(table=proto.TableReference(table=name)))

    # ---- jobs -----------------------------------------------------------

    def list_jobs(self) -> list[Any]:
        """Jobs on the cluster (``ballista.v1.JobStatus``), newest first."""
        reply = self._transport.action("list_jobs", proto.ListJobs(), proto.ListJobsResult)
        jobs: list[Any] = list(reply.jobs)
        return jobs

    def cancel(self, job_id: str) -> Any:
        """Cancels a job; returns its status."""
        return self._transport.action("cancel_job", proto.CancelJob(job_id=job_id), proto.JobStatus)

    # ---- running (used by DataFrame) ----------------------------------------

    def _run(self, query: Any) -> Any:
        with Progress(self._transport, query.job_name, wanted(self._progress)):
            return self._transport.execute(query)

    # Results are released once fetched (or once the stream is closed):
    # otherwise they stay on the executors' disks until the job's TTL.

    def _collect(self, plan: Any) -> pa.Table:
        info = self._run(self._query(plan=plan))
        try:
            return self._transport.fetch_all(info)
        finally:
            self._transport.release(info)

    def _stream(self, plan: Any) -> Iterator[pa.RecordBatch]:
        # The job runs now (errors raise here); the batches come lazily.
        return self._stream_then_release(self._run(self._query(plan=plan)))

    def _stream_then_release(self, info: Any) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._transport.stream(info)
        finally:
            self._transport.release(info)

    def _explain(self, plan: Any) -> str:
        e = self._transport.action(
            "explain", proto.ExplainQuery(query=self._query(plan=plan)), proto.ExplainResult
        )
        lines = [
            "== Logical plan ==",
            e.logical_plan,
            "",
            "== Physical plan ==",
            e.physical_plan,
            "",
            "== Stages ==",
        ]
        for stage in e.stages:
            reads = ", ".join(str(s) for s in stage.input_stages)
            lines.append(
                f"Stage {stage.stage_id} ({stage.partitions} tasks"
                + (f", reads stages {reads}" if reads else "")
                + "):"
            )
            lines.extend("  " + line for line in stage.plan_text.splitlines())
        if e.extension_nodes:
            lines.append(f"({e.extension_nodes} engine extension nodes)")
        return "\n".join(lines)


def connect(
    url: str, *, progress: bool | None = None, local_reads: bool = True
) -> BallistaContext:
    """Connects to the scheduler of a running cluster at ``url``
    (``grpc://host:port``). Fails with :class:`~ballista.UnavailableError`
    when nothing answers there.

    ``progress``: show a progress bar for queries longer than a second
    (default: when stderr is a terminal and tqdm is installed).
    ``local_reads``: read result partitions held by executors on this
    host straight from their files (memory-mapped) instead of over Flight.
    """
    return BallistaContext(url, progress=progress, local_reads=local_reads)


# Embedded clusters still running, stopped at interpreter exit.
_clusters: weakref.WeakSet[_native.EmbeddedCluster] = weakref.WeakSet()


@atexit.register
def _stop_clusters() -> None:
    for cluster in list(_clusters):
        cluster.shutdown()


def standalone(
    executors: int = 2,
    *,
    slots_per_executor: int | None = None,
    memory_limit: int | None = None,
    progress: bool | None = None,
    local_reads: bool = True,
) -> BallistaContext:
    """Starts an embedded cluster (a scheduler and ``executors`` executors in
    this process, serving Flight on loopback) and connects to it. The
    cluster stops when the context is closed, and at interpreter exit.

    ``slots_per_executor`` defaults to half the machine's cores;
    ``memory_limit`` (bytes per executor) makes executors spill beyond it.
    ``local_reads=False`` fetches results over Flight although they are
    on this host (see :func:`connect`).
    """
    try:
        # The embedded executors run Python UDF workers with this
        # interpreter unless BALLISTA_PYTHON names another.
        os.environ.setdefault("BALLISTA_PYTHON", sys.executable)
        cluster = _native.EmbeddedCluster(executors, slots_per_executor, memory_limit)
    except ValueError as e:
        raise BallistaError(str(e)) from None
    except RuntimeError as e:
        raise ExecutionError(str(e)) from None
    _clusters.add(cluster)
    try:
        return BallistaContext(
            cluster.scheduler_url, progress=progress, local_reads=local_reads, _cluster=cluster
        )
    except BaseException:
        cluster.shutdown()
        raise

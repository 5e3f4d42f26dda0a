"""Shuffle and result files (``docs/spec/shuffle.md``), laid out as the Rust
executor lays them out::

    <work_dir>/<job_id>/<stage_id>/<reduce>/<map>.arrow      shuffle output
    <work_dir>/<job_id>/<stage_id>/result/<partition>.arrow  result partitions

Each file is an Arrow IPC stream (LZ4-frame compressed unless the plan says
otherwise), written under a temporary name and renamed into place once
complete. Reads of this executor's own files open them; every other
location is fetched with ``DoGet(FetchPartition)`` from the executor that
holds it, whatever language it is written in.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight

from ballista import proto
from ballista.executor.errors import ExecutorError

#: Rows per record batch in written files (DataFusion's default batch size).
BATCH_ROWS = 8192
#: Directory of a stage's result partitions.
RESULT_DIR = "result"


def validate_job_id(job_id: str, field: str) -> None:
    """A job id names a directory: refuse one that could escape the work
    directory (the Rust executor's rule)."""
    bad = (
        not job_id
        or job_id.startswith(".")
        or len(job_id) > 255
        or any(c in "/\\\0" or ord(c) < 32 for c in job_id)
    )
    if bad:
        raise ExecutorError(
            f"{field}: job id {job_id!r} cannot name a directory: it must be 1 to 255 "
            "characters with no `/`, `\\` or control characters, not starting with `.`"
        )


def compression(code: int) -> str | None:
    """The pyarrow IPC codec of a ``ShuffleCompression``."""
    if code == proto.SHUFFLE_COMPRESSION_NONE:
        return None
    if code == proto.SHUFFLE_COMPRESSION_ZSTD:
        return "zstd"
    return "lz4"


def write_ipc(path: str, table: pa.Table, codec: str | None) -> Any:
    """Writes ``table`` to ``path`` atomically; returns its PartitionStats."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{uuid.uuid4()}.tmp")
    options = pa.ipc.IpcWriteOptions(compression=codec)
    batches = table.combine_chunks().to_batches(max_chunksize=BATCH_ROWS)
    try:
        with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_stream(sink, table.schema, options=options) as w:
            for b in batches:
                w.write_batch(b)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return proto.PartitionStats(
        num_rows=table.num_rows, num_batches=len(batches), num_bytes=os.path.getsize(path)
    )


def resolve_in_work_dir(work_dir: str, path: str, what: str) -> str:
    """``path`` if it is a file inside ``work_dir`` (canonical); INVALID
    when outside, NOT_FOUND when missing."""
    inside = os.path.isabs(path) and ".." not in path.split(os.sep)
    real = os.path.realpath(path)
    if not inside or not (real == work_dir or real.startswith(work_dir + os.sep)):
        raise ExecutorError(
            f"path `{path}` of {what} is not inside this executor's work directory `{work_dir}`"
        )
    if not os.path.isfile(real):
        raise ExecutorError(f"{what}: no file at `{path}`", code="not_found")
    return real


class ShuffleReads:
    """Reads ShuffleReadExec partitions for the tasks of one executor."""

    def __init__(self, executor_id: str, work_dir: str) -> None:
        """Reads locations of ``executor_id`` from ``work_dir``."""
        self.executor_id = executor_id
        self.work_dir = work_dir

    def read(self, op: Any, partition: int) -> pa.Table:
        """Partition ``partition`` of a ShuffleReadExec: every location's
        rows, with the plan's schema."""
        from ballista.executor.expressions import schema_from_proto

        schema = schema_from_proto(op.schema)
        tables = [self._location(loc) for loc in op.partitions[partition].locations]
        out = []
        for t in tables:
            if t.num_rows == 0:
                continue
            if t.schema.types != schema.types:
                try:
                    t = pa.Table.from_arrays(
                        [c.cast(f.type) for c, f in zip(t.columns, schema, strict=True)],
                        schema=schema,
                    )
                except (pa.ArrowInvalid, ValueError) as e:
                    raise ExecutorError(
                        f"shuffle data of stage {op.stage_id} does not have the schema the "
                        f"plan expects ({schema}): {e}"
                    ) from None
            else:
                t = pa.Table.from_arrays(t.columns, schema=schema)
            out.append(t)
        return pa.concat_tables(out) if out else schema.empty_table()

    def _location(self, loc: Any) -> pa.Table:
        ex = loc.executor
        what = (
            f"partition (job {loc.job_id}, stage {loc.stage_id}, map {loc.map_partition}, "
            f"output {loc.output_partition})"
        )
        try:
            if ex.id == self.executor_id:
                path = resolve_in_work_dir(self.work_dir, loc.path, what)
                with pa.OSFile(path, "rb") as f:
                    return pa.ipc.open_stream(f).read_all()
            ticket = proto.FetchPartition(
                job_id=loc.job_id,
                stage_id=loc.stage_id,
                map_partition=loc.map_partition,
                output_partition=loc.output_partition,
                path=loc.path,
            )
            client = flight.FlightClient(f"grpc://{ex.host}:{ex.port}")
            try:
                return client.do_get(flight.Ticket(ticket.SerializeToString())).read_all()
            finally:
                client.close()
        except (ExecutorError, flight.FlightError, pa.ArrowException, OSError) as e:
            # Spark's rule: the data is gone with its executor; the scheduler
            # recomputes that executor's map outputs and retries.
            raise ExecutorError(
                f"cannot fetch {what} from executor {ex.id} at {ex.host}:{ex.port}: {e}",
                code="unavailable",
                retryable=True,
                fetch_failed_executor_id=ex.id,
            ) from None

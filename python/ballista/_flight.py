"""The transport: every call to a cluster goes through here, over Arrow
Flight with ``pyarrow.flight``.

A query is one ``GetFlightInfo`` whose command is an ``ExecuteQuery``
(``proto/ballista/v1/flight.proto``): the scheduler runs the job and answers
with the result schema and one endpoint per result partition (the executor
holding it, and a ``FetchPartition`` ticket). The partitions are then
fetched with ``DoGet`` from those executors, several at a time, each on a
connection of its own (as the Rust client does: HTTP/2 streams sharing a
connection share its flow-control window).

A result partition on this host is read from its file instead (the ticket
names the executor's path; docs/spec/shuffle.md, "Reads"): when the
endpoint's executor is on a loopback address and the file is there, it is
memory-mapped and its batches are used in place, with no copy and no
gRPC. That is always the case for an embedded cluster. ``local_reads=False``
turns it off.

pyarrow.flight has no binding for ``PollFlightInfo``, so progress is read
with the ``list_jobs`` action while ``GetFlightInfo`` waits: each query gets
a unique job name to find its job by (see :mod:`ballista._progress`).

Errors of every call are turned into :mod:`ballista.errors` exceptions
here, and nowhere else.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.flight as flight

from ballista import proto
from ballista.errors import BallistaError, translate

#: How many result partitions are fetched at once.
PARALLEL_FETCHES = 4
#: Seconds the connection check at ``connect()`` may take.
CONNECT_TIMEOUT = 10.0

T = TypeVar("T")


def normalize_url(url: str) -> str:
    """A scheduler URL as pyarrow.flight reads it: ``grpc://host:port``
    (``host:port`` alone is accepted).

    >>> normalize_url("localhost:50050")
    'grpc://localhost:50050'
    """
    if "://" not in url:
        url = "grpc://" + url
    scheme = url.split("://", 1)[0]
    if scheme not in ("grpc", "grpc+tcp"):
        raise BallistaError(
            f"unsupported scheduler URL {url!r}: use grpc://host:port (TLS is not supported yet)"
        )
    return url


def is_loopback(host: str) -> bool:
    """Whether an executor at ``host`` is on this machine: only a process
    here can be reached at a loopback address.

    >>> [is_loopback(h) for h in ("127.0.0.1", "localhost", "[::1]", "10.0.0.7", "node-1")]
    [True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Transport:
    """A connection to one scheduler, and the executors its results name."""

    def __init__(self, url: str, *, local_reads: bool = True) -> None:
        """Connects lazily; :meth:`check` makes a first call.
        ``local_reads``: read result files on this host directly."""
        self.url = normalize_url(url)
        self.local_reads = local_reads
        self.peer = f"scheduler at {self.url}"
        try:
            self._client = flight.FlightClient(self.url)
        except Exception as e:  # a malformed address
            raise translate(e, self.peer) from None

    def _call(self, fn: Callable[[], T], peer: str | None = None) -> T:
        try:
            return fn()
        except BallistaError:
            raise
        except (flight.FlightError, pa.ArrowException) as e:
            raise translate(e, peer or self.peer) from None

    def check(self) -> None:
        """Fails with :class:`~ballista.UnavailableError` when the scheduler
        cannot be reached (a cheap ``ListActions`` call)."""
        options = flight.FlightCallOptions(timeout=CONNECT_TIMEOUT)
        self._call(lambda: list(self._client.list_actions(options=options)))

    def action(self, kind: str, body: Any, reply: Any = None) -> Any:
        """Runs ``DoAction(kind, body)``; decodes the first result as
        ``reply`` (a message class) when given."""

        def run() -> list[bytes]:
            results = self._client.do_action(flight.Action(kind, body.SerializeToString()))
            return [r.body.to_pybytes() for r in results]

        bodies = self._call(run)
        if reply is None:
            return None
        return reply.FromString(bodies[0] if bodies else b"")

    def execute(self, query: Any) -> flight.FlightInfo:
        """Runs an ``ExecuteQuery`` and returns where its result is."""
        descriptor = flight.FlightDescriptor.for_command(query.SerializeToString())
        return self._call(lambda: self._client.get_flight_info(descriptor))

    def _open(self, endpoint: flight.FlightEndpoint) -> tuple[flight.FlightStreamReader, str]:
        location = endpoint.locations[0] if endpoint.locations else None
        url = location.uri.decode() if location is not None else self.url
        peer = f"executor at {url}" if location is not None else self.peer

        def open_() -> flight.FlightStreamReader:
            return flight.FlightClient(location or self.url).do_get(endpoint.ticket)

        return self._call(open_, peer), peer

    def _local_file(self, endpoint: flight.FlightEndpoint) -> pa.RecordBatchStreamReader | None:
        """The result partition's file, memory-mapped, when it is on this
        host (see the module's docs); None to fetch it with ``DoGet``."""
        if not self.local_reads or len(endpoint.locations) != 1:
            return None
        uri = endpoint.locations[0].uri.decode()
        if not is_loopback(uri.split("://", 1)[-1].rsplit(":", 1)[0]):
            return None
        try:
            path = proto.FetchPartition.FromString(endpoint.ticket.ticket).path
        except Exception:  # another server's ticket: not ours to read
            return None
        if not path or not os.path.isfile(path):
            return None
        try:
            return pa.ipc.open_stream(pa.memory_map(path))
        except (OSError, pa.ArrowException):  # gone, or not a stream: ask the executor
            return None

    def _read_all(self, endpoint: flight.FlightEndpoint) -> pa.Table:
        local = self._local_file(endpoint)
        if local is not None:
            return local.read_all()
        reader, peer = self._open(endpoint)
        return self._call(reader.read_all, peer)

    def fetch_all(self, info: flight.FlightInfo) -> pa.Table:
        """Every row of a finished query, partitions fetched in parallel and
        concatenated in partition order."""
        schema = info.schema
        endpoints = list(info.endpoints)
        if not endpoints:
            return schema.empty_table()
        if len(endpoints) == 1:
            tables = [self._read_all(endpoints[0])]
        else:
            with ThreadPoolExecutor(min(PARALLEL_FETCHES, len(endpoints))) as pool:
                tables = list(pool.map(self._read_all, endpoints))
        tables = [t for t in tables if t.num_rows > 0] or [schema.empty_table()]
        try:
            return pa.concat_tables(tables)
        except pa.ArrowInvalid:
            # Partitions may differ in metadata or nullability only.
            return pa.concat_tables([t.cast(schema) for t in tables])

    def stream(self, info: flight.FlightInfo) -> Iterator[pa.RecordBatch]:
        """The rows of a finished query as record batches, in partition order,
        with up to :data:`PARALLEL_FETCHES` partitions opened and read ahead
        into bounded buffers."""
        endpoints = list(info.endpoints)
        done = object()
        stop = threading.Event()
        buffers: list[queue.Queue[Any]] = [queue.Queue(maxsize=8) for _ in endpoints]

        def pump(i: int) -> None:
            out = buffers[i]
            try:
                local = self._local_file(endpoints[i])
                if local is not None:
                    for batch in local:
                        if stop.is_set():
                            return
                        _put(out, batch, stop)
                    _put(out, done, stop)
                    return
                reader, peer = self._open(endpoints[i])
                while not stop.is_set():
                    try:
                        chunk = reader.read_chunk()
                    except StopIteration:
                        break
                    except (flight.FlightError, pa.ArrowException) as e:
                        raise translate(e, peer) from None
                    _put(out, chunk.data, stop)
                _put(out, done, stop)
            except BaseException as e:  # handed to the consumer
                _put(out, e, stop)

        pool = ThreadPoolExecutor(max(1, min(PARALLEL_FETCHES, len(endpoints))))
        try:
            for i in range(len(endpoints)):
                pool.submit(pump, i)
            for buffer in buffers:
                while True:
                    item = buffer.get()
                    if item is done:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    yield item
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def release(self, info: flight.FlightInfo) -> None:
        """Asks the scheduler to delete the results of ``info``'s job (the
        ``release_job`` action): they have been fetched. Tables read from
        memory-mapped result files stay valid (the mapping outlives the
        file). Best effort: a failure only leaves the files until the job's
        TTL, so it is logged, not raised."""
        endpoints = list(info.endpoints)
        if not endpoints:
            return
        try:
            job_id = proto.FetchPartition.FromString(endpoints[0].ticket.ticket).job_id
            self.action("release_job", proto.ReleaseJob(job_id=job_id))
        except Exception as e:  # noqa: BLE001 - see the docstring
            logging.getLogger(__name__).debug("could not release job results: %s", e)

    def close(self) -> None:
        """Closes the connection to the scheduler."""
        try:
            self._client.close()
        except Exception:  # closing twice, or after a failed connect
            pass


def _put(out: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    """Puts ``item`` unless the consumer went away (``stop``)."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


"""A Ballista executor written in Python on pyarrow, with no Rust inside.

It joins a cluster of any mix of executors: it registers with the scheduler
and heartbeats over Arrow Flight, advertises the operators, expressions and
functions it implements (the scheduler sends it only stages it can run
whole), runs pushed tasks (``launch_task``), writes shuffle files with the
spec's hash partitioning, reads shuffle data from local files or with
``DoGet`` from any executor, and serves its shuffle and result partitions by
``DoGet``. ``docs/writing-an-executor.md`` is the protocol it follows.

Run it with ``python -m ballista.executor --scheduler grpc://HOST:PORT``.

Layers: :mod:`~ballista.executor.server` (Flight service, tasks, scheduler
loop) over :mod:`~ballista.executor.operators` and
:mod:`~ballista.executor.aggregate` (the spec's operators) over
:mod:`~ballista.executor.expressions` (types, literals, expressions),
:mod:`~ballista.executor.shuffle` (files and fetches) and
:mod:`~ballista.executor.hashing` (the spec hash).
"""

from ballista.executor.errors import ExecutorError

__all__ = ["ExecutorError"]

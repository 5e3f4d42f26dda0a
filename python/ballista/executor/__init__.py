"""A Ballista executor written in Python on pyarrow, with no Rust inside.

It joins a cluster of any mix of executors: it registers with the scheduler
and heartbeats over Arrow Flight, advertises the operators, expressions and
functions it implements (the scheduler sends it only stages it can run
whole), runs pushed tasks (``launch_task``), writes shuffle files with the
spec's hash partitioning, reads shuffle data from local files or with
``DoGet`` from any executor, and serves its shuffle and result partitions by
``DoGet``. ``docs/writing-an-executor.md`` is the protocol it follows.

Run it with ``python -m ballista.executor --scheduler grpc://HOST:PORT``.

What it advertises, and the spec hash it routes shuffled rows with (Spark's
``hash(1)`` is -559580957, so the row goes to partition 43 of 200):

>>> from ballista.executor.server import capabilities
>>> caps = capabilities()
>>> caps.implementation, "hash_join" in caps.operators, "aggregate" in caps.operators
('ballista-python/0.1.0', False, True)
>>> import pyarrow as pa
>>> from ballista.executor import hashing
>>> key = [pa.array([1], pa.int32())]
>>> int(hashing.row_hashes(key, 1)[0]), int(hashing.partitions(key, 1, 200)[0])
(-559580957, 43)

Layers: :mod:`~ballista.executor.server` (Flight service, tasks, scheduler
loop) over :mod:`~ballista.executor.operators` and
:mod:`~ballista.executor.aggregate` (the spec's operators) over
:mod:`~ballista.executor.expressions` (types, literals, expressions),
:mod:`~ballista.executor.shuffle` (files and fetches) and
:mod:`~ballista.executor.hashing` (the spec hash).
"""

from ballista.executor.errors import ExecutorError

__all__ = ["ExecutorError"]

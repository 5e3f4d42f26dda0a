"""The Python UDF worker: a process a Rust executor starts (with its
configured interpreter, ``ballista executor --python PATH``) to run the
Python functions carried in plans, exchanging Arrow IPC over its stdin and
stdout. The protocol is in ``docs/udf-workers.md``; in short, every message
is a frame ``kind (1 byte) | length (u32 little-endian) | payload``:

executor -> worker
  ``F`` load function: ``u32 header length | JSON header | cloudpickle bytes``;
        reply ``K`` (loaded) or ``X`` (error)
  ``C`` call a scalar function: ``u32 id length | id | Arrow IPC stream`` of
        one batch whose columns are the arguments; reply ``B`` or ``X``
  ``M`` map batches: payload = function id; then ``B`` frames and ``E``;
        replies: ``B`` frames then ``D``, or ``X``
worker -> executor
  ``H`` hello (JSON: protocol, python, pyarrow, pid), sent once at start
  ``B`` an Arrow IPC stream of one batch
  ``X`` error (JSON: type, message, traceback)

>>> import io
>>> buf = io.BytesIO()
>>> _write(buf, b"K", b"ok")
>>> _ = buf.seek(0)
>>> _read(buf)
(b'K', b'ok')

The executor imports nothing from the ``ballista`` package to run this: it
embeds this file's source and runs it with ``python -c``, so the worker
interpreter needs only ``pyarrow`` and ``cloudpickle``.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import traceback
from typing import Any, BinaryIO, Callable, Iterator

PROTOCOL = 1
_HEADER = struct.Struct("<cI")


def _write(out: BinaryIO, kind: bytes, payload: bytes) -> None:
    out.write(_HEADER.pack(kind, len(payload)))
    out.write(payload)
    out.flush()


def _read(inp: BinaryIO) -> tuple[bytes, bytes] | None:
    head = inp.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    kind, n = _HEADER.unpack(head)
    payload = inp.read(n)
    if len(payload) < n:
        return None
    return kind, payload


def _error(out: BinaryIO, exc: BaseException, context: str = "") -> None:
    # The worker's own frame is noise: the traceback starts in user code.
    frames = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    tb = "".join(traceback.format_exception(type(exc), exc, frames or exc.__traceback__))
    message = f"{context}{exc}" if context else str(exc)
    body = {"type": type(exc).__name__, "message": message, "traceback": tb}
    _write(out, b"X", json.dumps(body).encode())


def _split_id(payload: bytes) -> tuple[str, bytes]:
    (n,) = struct.unpack_from("<I", payload)
    return payload[4 : 4 + n].decode(), payload[4 + n :]


def main() -> None:
    # The protocol owns the real stdin/stdout; whatever user code prints
    # goes to stderr (the executor keeps its tail for error messages).
    out = os.fdopen(os.dup(1), "wb")
    inp = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdout = sys.stderr
    try:
        import cloudpickle
        import pyarrow as pa
    except ImportError as e:
        _error(out, e, f"the Python UDF worker ({sys.executable}) cannot import a dependency: ")
        return
    version = ".".join(str(v) for v in sys.version_info[:3])
    hello = {"protocol": PROTOCOL, "python": version, "pyarrow": pa.__version__, "pid": os.getpid()}
    _write(out, b"H", json.dumps(hello).encode())

    functions: dict[str, Callable[..., Any]] = {}

    def batch_bytes(batch: pa.RecordBatch) -> bytes:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        data: bytes = sink.getvalue().to_pybytes()
        return data

    def read_batch(data: bytes) -> pa.RecordBatch:
        reader = pa.ipc.open_stream(data)
        batches = list(reader)
        if len(batches) == 1:
            return batches[0]
        return pa.Table.from_batches(batches, reader.schema).combine_chunks().to_batches()[0]

    while True:
        frame = _read(inp)
        if frame is None:
            return  # the executor closed the pipe: done
        kind, payload = frame
        if kind == b"F":
            (n,) = struct.unpack_from("<I", payload)
            header = json.loads(payload[4 : 4 + n])
            try:
                wanted = header.get("runtime_version", "")
                if wanted and wanted.split(".")[:2] != version.split(".")[:2]:
                    raise RuntimeError(
                        f"function `{header['name']}` was serialised by Python {wanted} but "
                        f"this executor's UDF worker runs Python {version} ({sys.executable}); "
                        f"start the executor with --python pointing to Python "
                        f"{'.'.join(wanted.split('.')[:2])}"
                    )
                functions[header["id"]] = cloudpickle.loads(payload[4 + n :])
            except BaseException as e:  # noqa: BLE001 - reported to the executor
                _error(out, e, f"cannot load Python function `{header.get('name')}`: ")
                continue
            _write(out, b"K", b"")
        elif kind == b"C":
            fid, data = _split_id(payload)
            try:
                args = read_batch(data)
                result = functions[fid](*args.columns)
                if isinstance(result, pa.ChunkedArray):
                    result = result.combine_chunks()
                elif not isinstance(result, pa.Array):
                    result = pa.array(result)
                reply = batch_bytes(pa.record_batch([result], names=["result"]))
            except BaseException as e:  # noqa: BLE001 - reported to the executor
                _error(out, e)
                continue
            _write(out, b"B", reply)
        elif kind == b"M":
            fid = payload.decode()
            done = False

            def inputs() -> Iterator[pa.RecordBatch]:
                nonlocal done
                while True:
                    f = _read(inp)
                    if f is None:
                        raise EOFError("the executor closed the input")
                    if f[0] == b"E":
                        done = True
                        return
                    yield read_batch(f[1])

            try:
                for out_batch in functions[fid](inputs()):
                    if isinstance(out_batch, pa.Table):
                        parts = out_batch.to_batches()
                    else:
                        parts = [out_batch]
                    for b in parts:
                        _write(out, b"B", batch_bytes(b))
                # Input the function did not consume is skipped.
                while not done:
                    for _ in inputs():
                        pass
            except BaseException as e:  # noqa: BLE001 - reported to the executor
                _error(out, e)
                # The executor drops this worker after an error in a stream.
                return
            _write(out, b"D", b"")
        else:
            _error(out, RuntimeError(f"unknown frame kind {kind!r}"))
            return


if __name__ == "__main__":
    main()

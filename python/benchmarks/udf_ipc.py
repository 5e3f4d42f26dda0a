"""The UDF worker transport, measured: one int64 column of 10M rows in
8192-row batches (DataFusion's batch size) echoed by a child process
through (a) Arrow IPC frames over stdin/stdout pipes, the protocol the
executors use (``ballista/_worker.py``), and (b) Arrow Flight ``DoExchange``
on loopback, the alternative the issue names. Request/response per batch
in both, as a scalar UDF call is. Prints rows/s of each.

Run: ``.venv/bin/python python/benchmarks/udf_ipc.py``.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.flight as flight

ROWS = 10_000_000
BATCH = 8192
PIPE_SIZE = 0

PIPE_ECHO = r"""
import struct, sys
import pyarrow as pa
inp, out = sys.stdin.buffer, sys.stdout.buffer
H = struct.Struct("<cI")
while True:
    head = inp.read(H.size)
    if len(head) < H.size:
        break
    kind, n = H.unpack(head)
    data = inp.read(n)
    batch = pa.ipc.open_stream(data).read_next_batch()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
    body = sink.getvalue()
    out.write(H.pack(b"B", body.size))
    out.write(body)
    out.flush()
"""

FLIGHT_ECHO = r"""
import sys
import pyarrow.flight as flight

class Echo(flight.FlightServerBase):
    def do_exchange(self, context, descriptor, reader, writer):
        started = False
        for chunk in reader:
            if not started:
                writer.begin(chunk.data.schema)
                started = True
            writer.write_batch(chunk.data)

server = Echo("grpc://127.0.0.1:0")
print(server.port, flush=True)
server.serve()
"""


def batches() -> list[pa.RecordBatch]:
    out = []
    for start in range(0, ROWS, BATCH):
        n = min(BATCH, ROWS - start)
        out.append(pa.record_batch([pa.array(range(start, start + n), pa.int64())], names=["x"]))
    return out


def pipes(data: list[pa.RecordBatch]) -> float:
    import struct

    h = struct.Struct("<cI")
    p = subprocess.Popen([sys.executable, "-c", PIPE_ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdin is not None and p.stdout is not None
    if PIPE_SIZE:
        import fcntl

        for f in (p.stdin, p.stdout):
            fcntl.fcntl(f.fileno(), 1031, PIPE_SIZE)  # F_SETPIPE_SZ
    t = time.perf_counter()
    rows = 0
    for b in data:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, b.schema) as w:
            w.write_batch(b)
        body = sink.getvalue()
        p.stdin.write(h.pack(b"C", body.size))
        p.stdin.write(body)
        p.stdin.flush()
        _, n = h.unpack(p.stdout.read(h.size))
        rows += pa.ipc.open_stream(p.stdout.read(n)).read_next_batch().num_rows
    elapsed = time.perf_counter() - t
    p.stdin.close()
    p.wait()
    assert rows == ROWS
    return elapsed


def flight_exchange(data: list[pa.RecordBatch]) -> float:
    p = subprocess.Popen([sys.executable, "-c", FLIGHT_ECHO], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    port = int(p.stdout.readline())
    try:
        client = flight.connect(f"grpc://127.0.0.1:{port}")
        writer, reader = client.do_exchange(flight.FlightDescriptor.for_command(b"echo"))
        t = time.perf_counter()
        writer.begin(data[0].schema)
        rows = 0
        for b in data:
            writer.write_batch(b)
            rows += reader.read_chunk().data.num_rows
        elapsed = time.perf_counter() - t
        writer.done_writing()
        writer.close()
        assert rows == ROWS
        return elapsed
    finally:
        p.kill()
        p.wait()


def main() -> None:
    global PIPE_SIZE
    data = batches()
    for name, fn, size in (
        ("pipes (64 KiB buffers) + Arrow IPC frames", pipes, 0),
        ("pipes (1 MiB buffers) + Arrow IPC frames", pipes, 1 << 20),
        ("Flight DoExchange (loopback)", flight_exchange, 0),
    ):
        PIPE_SIZE = size
        best = min(fn(data) for _ in range(3))
        print(f"{name}: {ROWS / best / 1e6:.1f} M rows/s ({best:.3f} s for {ROWS:,} rows, {len(data)} round trips)")


if __name__ == "__main__":
    main()

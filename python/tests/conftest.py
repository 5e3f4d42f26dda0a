"""Shared fixtures: real clusters on loopback and TPC-H data.

- ``embedded``: ``ballista.standalone(executors=2)``, the native module's
  in-process cluster;
- ``processes``: a cluster of real ``ballista`` processes (a scheduler and 2
  executors, ``$CARGO_TARGET_DIR/debug/ballista``, built by ``make
  test-python``), killed at the end of the session;
- ``tpch_dir``: TPC-H SF 0.01 Parquet, generated once with ``ballista gen
  tpch`` under ``$CARGO_TARGET_DIR/tpch-data`` (cached across clones).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import ballista

REPO = Path(__file__).resolve().parents[2]
TPCH_TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]
#: The TPC-H reference queries (shared beside the repository; read, not copied).
TPCH_QUERIES = REPO.parent / "shared" / "tpch" / "queries"


def target_dir() -> Path:
    """The cargo target directory (``CARGO_TARGET_DIR``, else ``target/``)."""
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def ballista_bin() -> Path:
    """The ``ballista`` binary under test."""
    path = Path(os.environ.get("BALLISTA_BIN", target_dir() / "debug" / "ballista"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build -p ballista-cli`")
    return path


@pytest.fixture(scope="session")
def tpch_dir() -> Path:
    """TPC-H SF 0.01 in 2 files per large table."""
    out = target_dir() / "tpch-data" / "sf0.01-p2"
    if not (out / "_SUCCESS").exists():
        subprocess.run(
            [str(ballista_bin()), "gen", "tpch", "--sf", "0.01", "--parts", "2", "--out", str(out)],
            check=True,
        )
    return out


def register_tpch(ctx: ballista.BallistaContext, tpch_dir: Path) -> None:
    """Registers the eight TPC-H tables on a cluster."""
    for t in TPCH_TABLES:
        ctx.register_parquet(t, str(tpch_dir / t))


@pytest.fixture(scope="session")
def embedded(tpch_dir: Path) -> Iterator[ballista.BallistaContext]:
    """An embedded cluster of 2 executors with the TPC-H tables."""
    with ballista.standalone(executors=2, progress=False) as ctx:
        register_tpch(ctx, tpch_dir)
        yield ctx


def wait_listening(
    proc: subprocess.Popen[str], name: str, timeout: float, kill: Callable[[], None], hint: str = ""
) -> int:
    """The port of a server process that prints ``listening on IP:PORT``.

    A thread keeps draining its stdout until the process ends (or its stdout
    is closed), so the server never blocks on a full pipe. Fails the test if
    the process exits first or prints nothing within ``timeout`` seconds
    (then ``kill`` stops it).
    """
    found: list[int] = []
    assert proc.stdout is not None
    stdout = proc.stdout

    def read() -> None:
        try:
            for line in stdout:
                if not found and line.startswith("listening on "):
                    found.append(int(line.strip().rsplit(":", 1)[1]))
        except ValueError:  # stdout closed by the owner's stop()
            pass

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode} before listening{hint}")
        if time.monotonic() > deadline:
            kill()
            pytest.fail(f"{name} printed no 'listening on' line within {timeout:.0f} s{hint}")
        time.sleep(0.02)
    return found[0]


class Server:
    """A ``ballista`` process, killed by :meth:`stop`."""

    def __init__(self, name: str, args: list[str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [str(ballista_bin()), *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        self.port = wait_listening(self.proc, name, 30, kill=self.stop)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="session")
def processes(tpch_dir: Path) -> Iterator[ballista.BallistaContext]:
    """A scheduler and 2 executors as separate ``ballista`` processes, with
    the TPC-H tables."""
    servers = [Server("scheduler", ["scheduler", "--port", "0"])]
    url = f"grpc://127.0.0.1:{servers[0].port}"
    work = tempfile.TemporaryDirectory(prefix="ballista-py-")
    try:
        for i in range(2):
            d = Path(work.name) / f"e{i}"
            d.mkdir()
            servers.append(
                Server(
                    f"executor-{i}",
                    ["executor", "--scheduler", url, "--port", "0", "--slots", "2", "--work-dir", str(d)]
                    + ["--python", sys.executable],
                )
            )
        with ballista.connect(url, progress=False) as ctx:
            register_tpch(ctx, tpch_dir)
            yield ctx
    finally:
        for s in reversed(servers):
            s.stop()
        work.cleanup()


@pytest.fixture(params=["embedded", "processes"])
def cluster(request: pytest.FixtureRequest) -> ballista.BallistaContext:
    """Each kind of cluster in turn."""
    ctx: ballista.BallistaContext = request.getfixturevalue(request.param)
    return ctx

"""``python -m ballista.executor --scheduler URL [--port 0]``: run an executor
until SIGINT/SIGTERM, printing ``listening on IP:PORT`` (its one line of
stdout) once bound, as ``ballista executor`` does."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

try:
    from ballista.executor.errors import ExecutorError
    from ballista.executor.server import ExecutorService
except ImportError as e:  # numpy is an extra: pip install 'ballista[executor]'
    sys.exit(f"error: the Python executor needs {e.name}: pip install 'ballista[executor]'")


def main(argv: list[str] | None = None) -> int:
    """Parses the arguments, starts the executor and waits for a signal."""
    p = argparse.ArgumentParser(prog="python -m ballista.executor", description=__doc__)
    p.add_argument("--scheduler", default="grpc://127.0.0.1:50050", help="scheduler URL")
    p.add_argument("--host", default="127.0.0.1", help="address to bind")
    p.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    p.add_argument("--advertised-host", default=None, help="host peers reach this executor at")
    p.add_argument("--slots", type=int, default=os.cpu_count() or 1, help="concurrent tasks")
    p.add_argument("--work-dir", default=None, help="shuffle and result files (default: a temp dir)")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("BALLISTA_LOG", "INFO").upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        service = ExecutorService(
            args.scheduler,
            host=args.host,
            port=args.port,
            task_slots=args.slots,
            work_dir=args.work_dir,
            advertised_host=args.advertised_host,
        )
    except (ExecutorError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    service.start()
    print(f"listening on {args.host}:{service.port}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

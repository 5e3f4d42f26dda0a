"""A progress bar for queries that run longer than a second.

pyarrow.flight cannot call ``PollFlightInfo``, so while ``GetFlightInfo``
waits for the job, a thread asks the scheduler for the job's status
(``list_jobs`` action; the job is found by the unique name the query was
sent with) and shows tasks done out of tasks total with tqdm. The bar is
shown only on a terminal (stderr is a TTY) and when tqdm is installed;
``progress=False`` on the context turns it off.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ballista import proto

if TYPE_CHECKING:
    from ballista._flight import Transport

#: Seconds a query runs before its progress bar appears.
DELAY = 1.0
#: Seconds between two status requests.
INTERVAL = 0.25


def wanted(progress: bool | None) -> bool:
    """Whether to show progress: ``progress`` if set, else when stderr is a
    terminal and tqdm is importable."""
    if progress is False:
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return progress is True or sys.stderr.isatty()


class Progress:
    """Shows the progress of job ``job_name`` while the block runs."""

    def __init__(self, transport: Transport, job_name: str, enabled: bool) -> None:
        """Nothing is shown unless ``enabled``."""
        self._transport = transport
        self._job_name = job_name
        self._enabled = enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self._enabled:
            self._thread = threading.Thread(target=self._run, name="ballista-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _status(self) -> Any:
        reply = self._transport.action(
            "list_jobs",
            proto.ListJobs(states=[proto.JOB_STATE_QUEUED, proto.JOB_STATE_RUNNING]),
            proto.ListJobsResult,
        )
        for job in reply.jobs:
            if job.job_name == self._job_name:
                return job
        return None

    def _run(self) -> None:
        if self._stop.wait(DELAY):
            return
        from tqdm import tqdm

        bar = tqdm(total=0, unit="task", desc="ballista", file=sys.stderr, leave=False)
        try:
            while not self._stop.is_set():
                try:
                    job = self._status()
                except Exception:  # progress is best effort; the query reports errors
                    job = None
                if job is not None:
                    p = job.progress
                    bar.total = p.tasks_total
                    bar.n = p.tasks_done
                    bar.set_postfix_str(f"stage {p.stages_done}/{p.stages_total}")
                    bar.refresh()
                self._stop.wait(INTERVAL)
        finally:
            bar.close()

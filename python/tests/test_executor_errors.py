"""Bad input to the Python executor gives a clear error naming what was
wrong, and the executor keeps serving: a real executor process whose
scheduler is unreachable (it keeps retrying the registration meanwhile)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from ballista import proto


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def executor() -> Iterator[tuple[flight.FlightClient, Path]]:
    with tempfile.TemporaryDirectory(prefix="ballista-pyexec-err-") as work:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "ballista.executor", "--scheduler",
             f"grpc://127.0.0.1:{free_port()}", "--port", "0", "--work-dir", work],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        client = flight.FlightClient("grpc://" + line.split()[-1])
        try:
            yield client, Path(work)
        finally:
            client.close()
            proc.kill()
            proc.wait()
            proc.stdout.close()


Errors = (flight.FlightError, pa.ArrowException)


def fetch(client: flight.FlightClient, path: str) -> None:
    t = proto.FetchPartition(job_id="j", stage_id=1, map_partition=0, output_partition=2, path=path)
    client.do_get(flight.Ticket(t.SerializeToString())).read_all()


def test_fetches_outside_the_work_dir_or_of_missing_files_are_refused(executor: tuple[flight.FlightClient, Path]) -> None:
    client, work = executor
    with pytest.raises(Errors, match="not inside this executor's work directory"):
        fetch(client, "/etc/passwd")
    with pytest.raises(Errors, match="not inside"):
        fetch(client, f"{work}/../x.arrow")
    with pytest.raises(Errors, match=r"partition \(job j, stage 1, map 0, output 2\): no file at"):
        fetch(client, f"{work}/j/1/2/0.arrow")


def test_bad_actions_are_named(executor: tuple[flight.FlightClient, Path]) -> None:
    client, _ = executor
    with pytest.raises(Errors, match="unknown action `frobnicate`"):
        list(client.do_action(flight.Action("frobnicate", b"")))
    with pytest.raises(Errors, match="launch_task"):
        list(client.do_action(flight.Action("launch_task", b"\xff\xff not protobuf")))
    bad_job = proto.TaskDefinition(
        task_id=proto.TaskId(job_id="../escape"), plan=proto.PhysicalPlanNode()
    )
    with pytest.raises(Errors, match="cannot name a directory"):
        list(client.do_action(flight.Action("launch_task", bad_job.SerializeToString())))
    with pytest.raises(Errors, match="task_id and plan are required"):
        list(client.do_action(flight.Action("launch_task", proto.TaskDefinition().SerializeToString())))
    # Still serving.
    assert {a.type for a in client.list_actions()} == {"launch_task", "remove_job_data"}


def test_bad_arguments_exit_with_a_message() -> None:
    run = subprocess.run(
        [sys.executable, "-P", "-m", "ballista.executor", "--port", "not-a-port"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2 and "--port" in run.stderr
    run = subprocess.run(
        [sys.executable, "-P", "-m", "ballista.executor", "--slots", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 1 and "task slots must be at least 1" in run.stderr

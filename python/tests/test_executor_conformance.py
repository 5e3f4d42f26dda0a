"""The executor conformance runner (integration/conformance/physical/run.py)
as a test: every case on the Rust executor, on the Python executor (its
known failures listed), and alternating stage by stage between the two in
both orders, so every shuffle of a multi-stage case is written by one
implementation and read by the other (local file vs DoGet, hash partitions,
intermediate aggregate states, view types)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO, ballista_bin, target_dir


def test_physical_conformance_on_every_executor_and_across_them() -> None:
    ballista_bin()  # fails with a clear message when the binary is missing
    run = subprocess.run(
        [sys.executable, str(REPO / "integration/conformance/physical/run.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CARGO_TARGET_DIR": str(target_dir())},
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    for label in ("[rust] ", "[python] ", "[rust->python] ", "[python->rust] "):
        assert any(line.startswith(label) and "cases pass" in line for line in run.stdout.splitlines()), label

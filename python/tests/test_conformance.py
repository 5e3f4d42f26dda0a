"""Every conformance case, built with the Python builders, gives the golden
plan: the same bytes as ``plan.binpb`` and the same JSON as ``plan.json``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from conformance_testee import CASES, build

CASES_DIR = Path(__file__).resolve().parents[2] / "integration" / "conformance" / "cases"


def test_every_case_directory_has_a_builder() -> None:
    assert sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_builds_the_golden_plan(name: str) -> None:
    line = build(name)
    assert "error" not in line, line
    got = base64.b64decode(str(line["plan_base64"]))
    assert got == (CASES_DIR / name / "plan.binpb").read_bytes()
    assert line["plan_json"] == json.loads((CASES_DIR / name / "plan.json").read_text())

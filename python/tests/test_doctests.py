"""The examples in the docstrings run, against the installed package (the
embedded-cluster examples start real clusters)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "ballista",
    "ballista.context",
    "ballista.dataframe",
    "ballista.errors",
    "ballista.expr",
    "ballista.functions",
    "ballista.proto",
    "ballista.types",
    "ballista._flight",
    "ballista.executor",
    "ballista.udf",
    "ballista._worker",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"


def test_every_module_is_covered() -> None:
    import pkgutil

    import ballista

    public = {
        f"ballista.{m.name}"
        for m in pkgutil.iter_modules(ballista.__path__)
        if m.name not in ("_native", "_progress")
    }
    assert public <= set(MODULES), public - set(MODULES)

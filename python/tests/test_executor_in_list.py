"""The Python executor's IN lists whose values come as one Arrow array
(``PhysicalInList.values_ipc_stream``, what the Rust encoder sends for more
than 64 constants and for runtime filters) answer as the literal form does,
nulls included, and malformed arrays are named."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from ballista import proto
from ballista.executor import expressions
from ballista.executor.errors import ExecutorError

TABLE = pa.table({"x": pa.array([1, 2, 3, None, 70], pa.int64())})


def ipc(*columns: pa.Array) -> bytes:
    batch = pa.record_batch(list(columns), names=[f"c{i}" for i in range(len(columns))])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def column() -> Any:
    return proto.PhysicalExpr(column=proto.PhysicalColumn(name="x", index=0))


def in_values(values: bytes, negated: bool = False, items: list[Any] | None = None) -> Any:
    return proto.PhysicalExpr(in_list=proto.PhysicalInList(
        expression=column(), list=items or [], negated=negated, values_ipc_stream=values,
    ))


def in_literals(values: list[int | None], negated: bool = False) -> Any:
    items = [
        proto.PhysicalExpr(literal=proto.Literal(int64_value=v)) if v is not None
        else proto.PhysicalExpr(literal=proto.Literal(null_value=proto.DataType(int64=proto.EmptyType())))
        for v in values
    ]
    return proto.PhysicalExpr(in_list=proto.PhysicalInList(expression=column(), list=items, negated=negated))


@pytest.mark.parametrize("negated", [False, True])
@pytest.mark.parametrize("values", [[2, 70], [2, 70, None], [], [None]])
def test_values_as_arrow_answer_as_literals(values: list[int | None], negated: bool) -> None:
    got = expressions.evaluate(in_values(ipc(pa.array(values, pa.int64())), negated), TABLE)
    want = expressions.evaluate(in_literals(values, negated), TABLE)
    assert got.to_pylist() == want.to_pylist()


def test_values_of_another_type_are_cast_to_the_tested_value() -> None:
    got = expressions.evaluate(in_values(ipc(pa.array([3, 1], pa.int32()))), TABLE)
    assert got.to_pylist() == [True, False, True, None, False]


def test_malformed_values_are_named() -> None:
    with pytest.raises(ExecutorError, match="values_ipc_stream: not an Arrow IPC stream"):
        expressions.evaluate(in_values(b"\x01\x02\x03"), TABLE)
    two = ipc(pa.array([1], pa.int64()), pa.array([2], pa.int64()))
    with pytest.raises(ExecutorError, match="holds 2 columns; an IN list's values are one"):
        expressions.evaluate(in_values(two), TABLE)
    one = ipc(pa.array([1], pa.int64()))
    with pytest.raises(ExecutorError, match="both `list` and `values_ipc_stream` are set"):
        expressions.evaluate(in_values(one, items=[column()]), TABLE)

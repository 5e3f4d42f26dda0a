"""Spec types, literals and physical expressions (``PhysicalExpr``) on
pyarrow: a schema travels as Arrow IPC bytes, a ``DataType`` maps to a
``pyarrow.DataType``, and an expression evaluates over a table to an array
with ``pyarrow.compute``.

Semantics follow the Rust executor (DataFusion): SQL three-valued logic for
AND/OR (Kleene), NULL for any arithmetic or comparison with a NULL, LIKE with
``%``/``_`` wildcards.
"""

from __future__ import annotations

import decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ballista import proto
from ballista.executor.errors import ExecutorError, unsupported

#: PhysicalExpr kinds this executor evaluates (advertised as capabilities).
EXPRESSIONS = [
    "column",
    "literal",
    "binary",
    "cast",
    "case",
    "in_list",
    "like",
    "is_null",
    "is_not_null",
    "not",
    "negative",
    "scalar_function",
]

_UNITS = {
    proto.TIME_UNIT_SECOND: "s",
    proto.TIME_UNIT_MILLISECOND: "ms",
    proto.TIME_UNIT_MICROSECOND: "us",
    proto.TIME_UNIT_NANOSECOND: "ns",
}

_SIMPLE = {
    "null": pa.null(),
    "bool": pa.bool_(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "float16": pa.float16(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "utf8": pa.string(),
    "large_utf8": pa.large_string(),
    "binary": pa.binary(),
    "large_binary": pa.large_binary(),
    "date32": pa.date32(),
    "date64": pa.date64(),
}


def schema_from_proto(schema: Any) -> pa.Schema:
    """A ``Schema`` message (an encapsulated Arrow IPC schema message)."""
    return pa.ipc.read_schema(pa.py_buffer(schema.arrow_ipc))


def data_type(dt: Any) -> pa.DataType:
    """The pyarrow type of a ``DataType`` message."""
    kind = dt.WhichOneof("kind")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "utf8_view":
        return pa.string_view()
    if kind == "binary_view":
        return pa.binary_view()
    if kind == "fixed_size_binary":
        return pa.binary(dt.fixed_size_binary)
    if kind in ("time32", "time64"):
        unit = _UNITS[getattr(dt, kind)]
        return pa.time32(unit) if kind == "time32" else pa.time64(unit)
    if kind == "timestamp":
        tz = dt.timestamp.timezone if dt.timestamp.HasField("timezone") else None
        return pa.timestamp(_UNITS[dt.timestamp.unit], tz)
    if kind == "duration":
        return pa.duration(_UNITS[dt.duration])
    if kind in ("decimal32", "decimal64", "decimal128", "decimal256"):
        d = getattr(dt, kind)
        ctor = {"decimal128": pa.decimal128, "decimal256": pa.decimal256}.get(kind, pa.decimal128)
        return ctor(d.precision, d.scale)
    raise unsupported(f"the data type `{kind}`")


def literal(lit: Any) -> pa.Scalar:
    """The pyarrow scalar of a ``Literal`` message."""
    kind = lit.WhichOneof("value")
    if kind is None:
        raise ExecutorError("Literal: no value set")
    if kind == "null_value":
        return pa.scalar(None, type=data_type(lit.null_value))
    v = getattr(lit, kind)
    simple = {
        "bool_value": pa.bool_(),
        "int8_value": pa.int8(),
        "int16_value": pa.int16(),
        "int32_value": pa.int32(),
        "int64_value": pa.int64(),
        "uint8_value": pa.uint8(),
        "uint16_value": pa.uint16(),
        "uint32_value": pa.uint32(),
        "uint64_value": pa.uint64(),
        "float32_value": pa.float32(),
        "float64_value": pa.float64(),
        "utf8_value": pa.string(),
        "large_utf8_value": pa.large_string(),
        "utf8_view_value": pa.string(),
        "binary_value": pa.binary(),
        "large_binary_value": pa.large_binary(),
    }
    if kind in simple:
        return pa.scalar(v, type=simple[kind])
    if kind == "date32_value":
        return pa.scalar(v, type=pa.int32()).cast(pa.date32())
    if kind == "date64_value":
        return pa.scalar(v, type=pa.int64()).cast(pa.date64())
    if kind == "timestamp_value":
        tz = v.timezone if v.HasField("timezone") else None
        return pa.scalar(v.value, type=pa.int64()).cast(pa.timestamp(_UNITS[v.unit], tz))
    if kind == "decimal_value":
        value = decimal.Decimal(int(v.unscaled)).scaleb(-v.scale)
        ctor = pa.decimal256 if v.bit_width == 256 else pa.decimal128
        return pa.scalar(value, type=ctor(v.precision, v.scale))
    raise unsupported(f"literals of kind `{kind}`")


def _op_name(op: int) -> str:
    name: str = proto.BinaryOperator.Name(op)
    return name.removeprefix("BINARY_OPERATOR_")


_ARITH = {"PLUS": "add", "MINUS": "subtract", "MULTIPLY": "multiply", "DIVIDE": "divide"}
_CMP = {
    "EQ": "equal",
    "NOT_EQ": "not_equal",
    "LT": "less",
    "LT_EQ": "less_equal",
    "GT": "greater",
    "GT_EQ": "greater_equal",
}

#: Scalar functions this executor evaluates (advertised as capabilities).
SCALAR_FUNCTIONS = ["abs", "lower", "upper", "coalesce", "length", "character_length"]


def evaluate(expr: Any, table: pa.Table) -> pa.Array | pa.ChunkedArray | pa.Scalar:
    """``expr`` over ``table``: an array of ``table.num_rows`` values, or a
    scalar for a constant (pyarrow.compute broadcasts scalars)."""
    kind = expr.WhichOneof("expr_type")
    if kind == "column":
        i = expr.column.index
        if i >= table.num_columns:
            raise ExecutorError(
                f"PhysicalColumn `{expr.column.name}` index {i} is out of range: "
                f"the input has {table.num_columns} columns"
            )
        return table.column(i)
    if kind == "literal":
        return literal(expr.literal)
    if kind == "binary":
        return _binary(expr.binary, table)
    if kind == "cast":
        value = evaluate(expr.cast.expression, table)
        return pc.cast(value, data_type(expr.cast.data_type), safe=True)
    if kind == "is_null":
        return pc.is_null(evaluate(expr.is_null, table))
    if kind == "is_not_null":
        return pc.is_valid(evaluate(expr.is_not_null, table))
    if kind == "not":
        return pc.invert(evaluate(getattr(expr, "not"), table))
    if kind == "negative":
        return pc.negate(evaluate(expr.negative, table))
    if kind == "in_list":
        return _in_list(expr.in_list, table)
    if kind == "like":
        return _like(expr.like, table)
    if kind == "case":
        return _case(getattr(expr, "case"), table)
    if kind == "scalar_function":
        return _function(expr.scalar_function, table)
    raise unsupported(f"the expression `{kind}`")


def as_array(value: Any, num_rows: int) -> pa.Array | pa.ChunkedArray:
    """``value`` as an array of ``num_rows`` (a scalar is repeated)."""
    if isinstance(value, pa.Scalar):
        return pa.array([value.as_py()] * num_rows, type=value.type) if num_rows else pa.array(
            [], type=value.type
        )
    return value


def _binary(b: Any, table: pa.Table) -> Any:
    op = _op_name(b.op)
    left = evaluate(b.left, table)
    right = evaluate(b.right, table)
    if op in _CMP:
        return pc.call_function(_CMP[op], [left, right])
    if op in _ARITH:
        if pa.types.is_decimal(left.type) and pa.types.is_decimal(right.type):
            return _decimal_arith(op, left, right)
        return pc.call_function(_ARITH[op], [left, right])
    if op == "AND":
        return pc.and_kleene(left, right)
    if op == "OR":
        return pc.or_kleene(left, right)
    if op == "MODULO":
        # pyarrow has no remainder kernel; a - trunc(a / b) * b with the
        # sign of the dividend, as DataFusion computes it.
        q = pc.divide(left, right)
        if pa.types.is_floating(q.type):
            q = pc.trunc(q)
        return pc.subtract(left, pc.multiply(q, right))
    if op == "IS_DISTINCT_FROM" or op == "IS_NOT_DISTINCT_FROM":
        eq = pc.equal(left, right)
        both_null = pc.and_(pc.is_null(left), pc.is_null(right))
        one_null = pc.xor(pc.is_null(left), pc.is_null(right))
        same = pc.if_else(both_null, True, pc.if_else(one_null, False, eq))
        return same if op == "IS_NOT_DISTINCT_FROM" else pc.invert(same)
    if op == "STRING_CONCAT":
        return pc.binary_join_element_wise(left, right, "")
    raise unsupported(f"the binary operator {op}")


def decimal_result_type(op: str, a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """The result type of decimal ``a op b`` as DataFusion plans it (arrow-rs's
    decimal kernels; precision capped at 38)."""
    p1, s1, p2, s2 = a.precision, a.scale, b.precision, b.scale
    if op in ("PLUS", "MINUS"):
        s = max(s1, s2)
        p = max(p1 - s1, p2 - s2) + s + 1
    elif op == "MULTIPLY":
        s = s1 + s2
        p = p1 + p2 + 1
    else:
        # arrow-rs: a fixed scale increment of 4 (as PostgreSQL and MySQL).
        s = min(s1 + 4, 38)
        p = p1 - s1 + s2 + s
    return pa.decimal128(min(38, p), min(38, s))


def _decimal_arith(op: str, left: Any, right: Any) -> Any:
    # pyarrow refuses decimal128 results wider than 38 digits, DataFusion
    # caps them at 38: compute in decimal256 and narrow to DataFusion's type
    # (an overflowing value is an error, as in DataFusion).
    out = decimal_result_type(op, left.type, right.type)
    if op == "DIVIDE":
        return _decimal_divide(left, right, out)
    p1, s1, p2, s2 = left.type.precision, left.type.scale, right.type.precision, right.type.scale
    uncapped = p1 + p2 + 1 if op == "MULTIPLY" else max(p1 - s1, p2 - s2) + max(s1, s2) + 1
    if uncapped <= 38:
        # pyarrow's decimal128 result type is DataFusion's when not capped.
        return pc.call_function(_ARITH[op], [left, right]).cast(out)
    wide = [
        x.cast(pa.decimal256(x.type.precision, x.type.scale)) for x in (left, right)
    ]
    result = pc.call_function(_ARITH[op], wide)
    return result.cast(out)


def _decimal_divide(left: Any, right: Any, out: pa.DataType) -> pa.Array:
    # Exact integer division on the unscaled values, truncated toward zero,
    # as arrow-rs divides decimals (pyarrow's decimal256 division needs more
    # than 76 digits for DataFusion's result scale).
    from ballista.executor.hashing import unscaled

    n = max(len(x) for x in (left, right) if not isinstance(x, pa.Scalar)) if not (
        isinstance(left, pa.Scalar) and isinstance(right, pa.Scalar)
    ) else 1
    lv = as_array(left, n).to_pylist()
    rv = as_array(right, n).to_pylist()
    s1, s2 = left.type.scale, right.type.scale
    shift = out.scale + s2 - s1
    values: list[decimal.Decimal | None] = []
    for a, b in zip(lv, rv, strict=True):
        if a is None or b is None:
            values.append(None)
            continue
        num, den = unscaled(a, s1), unscaled(b, s2)
        if den == 0:
            raise ExecutorError("Arrow error: Divide by zero error")
        num = num * 10**shift if shift >= 0 else num // 10 ** (-shift)
        q = abs(num) // abs(den)
        q = q if (num >= 0) == (den > 0) else -q
        values.append(decimal.Decimal(q).scaleb(-out.scale, decimal.Context(prec=80)))
    return pa.array(values, type=out)


def _in_list(e: Any, table: pa.Table) -> Any:
    value = evaluate(e.expression, table)
    if e.values_ipc_stream:
        if len(e.list):
            raise ExecutorError(
                "in_list: both `list` and `values_ipc_stream` are set; an IN list has one of them"
            )
        return _in_values(value, _ipc_values(e.values_ipc_stream), e.negated)
    items = [evaluate(x, table) for x in e.list]
    if all(isinstance(x, pa.Scalar) for x in items):
        vtype = value.type
        values = [x.cast(vtype).as_py() for x in items if x.is_valid]
        has_null = any(not x.is_valid for x in items)
        return _in_values(
            value, pa.array(values + [None] * has_null, type=vtype), e.negated
        )
    result = None
    for x in items:
        eq = pc.equal(value, x)
        result = eq if result is None else pc.or_kleene(result, eq)
    if result is None:
        result = pa.scalar(False)
    return pc.invert(result) if e.negated else result


def _ipc_values(data: bytes) -> Any:
    """An IN list's values sent as an Arrow IPC stream of one column."""
    try:
        values = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except pa.ArrowInvalid as err:
        raise ExecutorError(f"in_list.values_ipc_stream: not an Arrow IPC stream: {err}") from None
    if values.num_columns != 1:
        raise ExecutorError(
            f"in_list.values_ipc_stream: holds {values.num_columns} columns; "
            "an IN list's values are one"
        )
    return values.column(0).combine_chunks()


def _in_values(value: Any, values: Any, negated: bool) -> Any:
    """``value [NOT] IN values`` for constant values, nulls among them as SQL has it."""
    vtype = value.type
    if values.type != vtype:
        values = values.cast(vtype)
    found = pc.is_in(value, value_set=values.drop_null())
    has_null = values.null_count > 0
    # SQL: NULL IN (..) is NULL; x IN (.., NULL) is TRUE or NULL.
    result = pc.if_else(pc.is_null(value), pa.scalar(None, pa.bool_()), found)
    if has_null:
        result = pc.if_else(result, True, pa.scalar(None, pa.bool_()))
    return pc.invert(result) if negated else result


def _like(e: Any, table: pa.Table) -> Any:
    value = evaluate(e.expression, table)
    pattern = evaluate(e.pattern, table)
    if not isinstance(pattern, pa.Scalar):
        raise unsupported("LIKE with a pattern that is not a constant")
    if not pattern.is_valid:
        return pa.scalar(None, pa.bool_())
    result = pc.match_like(value, pattern.as_py(), ignore_case=e.case_insensitive)
    return pc.invert(result) if e.negated else result


def _case(e: Any, table: pa.Table) -> Any:
    n = table.num_rows
    operand = evaluate(e.operand, table) if e.HasField("operand") else None
    conds = []
    values = []
    for wt in e.when_then:
        w = evaluate(wt.when, table)
        cond = pc.equal(operand, w) if operand is not None else w
        conds.append(as_array(cond, n).fill_null(False))
        values.append(evaluate(wt.then, table))
    else_value = evaluate(e.else_result, table) if e.HasField("else_result") else None
    types = [v.type for v in values] + ([else_value.type] if else_value is not None else [])
    out_type = next((t for t in types if t != pa.null()), pa.null())
    result = (
        as_array(else_value, n).cast(out_type)
        if else_value is not None
        else pa.nulls(n, type=out_type)
    )
    for cond, value in reversed(list(zip(conds, values, strict=True))):
        result = pc.if_else(cond, as_array(value, n).cast(out_type), result)
    return result


def _function(f: Any, table: pa.Table) -> Any:
    args = [evaluate(a, table) for a in f.arguments]
    name = f.name.lower()
    if name == "abs":
        return pc.abs(args[0])
    if name == "lower":
        return pc.utf8_lower(args[0])
    if name == "upper":
        return pc.utf8_upper(args[0])
    if name in ("length", "character_length"):
        return pc.cast(pc.utf8_length(args[0]), data_type(f.return_type))
    if name == "coalesce":
        return pc.coalesce(*args)
    raise unsupported(f"the scalar function `{f.name}`")


_VIEWS = {"string_view": pa.string(), "binary_view": pa.binary()}


def devolve(table: pa.Table) -> pa.Table:
    """``table`` with view columns as plain utf8 / binary."""
    if not any(str(f.type) in _VIEWS for f in table.schema):
        return table
    fields = [
        pa.field(f.name, _VIEWS[str(f.type)], f.nullable) if str(f.type) in _VIEWS else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))

"""Hash aggregation (``AggregateExec``) on ``pyarrow``'s grouped
aggregations, with DataFusion's types and intermediate state layout, so a
partial aggregate written here is finished by a Rust executor and the other
way round.

State columns per call (named ``<output_name>[<state>]`` as DataFusion does):

| call | state | final value |
|---|---|---|
| sum(x) | sum: sum type | sum type |
| count(x) | count: int64 | int64 (0 for no rows) |
| min(x), max(x) | min / max: type of x | type of x |
| avg(x) | count: uint64, sum: float64 or decimal(38, s) | float64, or decimal(p+4, s+4) |
| count(DISTINCT x) | count distinct: list<type of x> | int64 |

The sum type of int types is int64, of unsigned uint64, of floats float64,
of decimal(p, s) decimal(min(38, p + 10), s).
"""

from __future__ import annotations

import decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ballista import proto
from ballista.executor import hashing
from ballista.executor.errors import ExecutorError, unsupported
from ballista.executor.expressions import as_array, devolve, evaluate, schema_from_proto

#: Aggregate functions implemented here (advertised as capabilities).
FUNCTIONS = ["sum", "count", "min", "max", "avg", "count(distinct)"]


def sum_type(t: pa.DataType) -> pa.DataType:
    """DataFusion's type of ``sum`` over ``t``."""
    if pa.types.is_decimal(t):
        return pa.decimal128(min(38, t.precision + 10), t.scale)
    if pa.types.is_unsigned_integer(t):
        return pa.uint64()
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t):
        return pa.float64()
    raise unsupported(f"sum over {t}")


def avg_type(t: pa.DataType) -> pa.DataType:
    """DataFusion's type of ``avg`` over ``t``."""
    if pa.types.is_decimal(t):
        return pa.decimal128(min(38, t.precision + 4), min(38, t.scale + 4))
    return pa.float64()


class _Call:
    """One aggregate call with its argument type (over the raw input)."""

    def __init__(self, call: Any, raw: pa.Table) -> None:
        self.call = call
        self.name = call.name.lower()
        self.distinct = call.distinct
        if self.distinct and self.name != "count":
            raise unsupported(f"{self.name}(DISTINCT ...)")
        if self.name not in ("sum", "count", "min", "max", "avg"):
            raise unsupported(f"the aggregate function `{call.name}`")
        if len(call.arguments) != 1:
            raise unsupported(f"{self.name} with {len(call.arguments)} arguments")
        if call.order_by:
            raise unsupported("aggregates with ORDER BY")
        self.arg_type = as_array(evaluate(call.arguments[0], raw), 0).type

    def state_fields(self) -> list[pa.Field]:
        n = self.call.output_name
        t = self.arg_type
        if self.distinct:
            return [pa.field(f"{n}[count distinct]", pa.list_(pa.field("item", t, True)))]
        if self.name == "sum":
            return [pa.field(f"{n}[sum]", sum_type(t))]
        if self.name == "count":
            return [pa.field(f"{n}[count]", pa.int64())]
        if self.name in ("min", "max"):
            return [pa.field(f"{n}[{self.name}]", t)]
        # DataFusion's avg keeps its decimal sum at the widest precision.
        avg_sum = pa.decimal128(38, t.scale) if pa.types.is_decimal(t) else pa.float64()
        return [pa.field(f"{n}[count]", pa.uint64()), pa.field(f"{n}[sum]", avg_sum)]

    def final_field(self) -> pa.Field:
        n = self.call.output_name
        if self.distinct or self.name == "count":
            return pa.field(n, pa.int64(), False)
        if self.name == "sum":
            return pa.field(n, sum_type(self.arg_type))
        if self.name == "avg":
            return pa.field(n, avg_type(self.arg_type))
        return pa.field(n, self.arg_type)


def _group(
    keys: list[tuple[str, Any]], values: list[tuple[str, Any]], specs: list[tuple[str, str, Any]], n: int
) -> tuple[list[pa.Array], dict[str, pa.Array]]:
    """Grouped (or, without keys, whole-table) aggregation: the key columns
    and each ``(column, function, options)`` result by ``column_function``."""
    cols = {name: as_array(v, n) for name, v in keys + values}
    table = pa.table(cols) if cols else pa.table({"__rows": pa.nulls(n)})
    if keys:
        out = table.group_by([k for k, _ in keys], use_threads=False).aggregate(
            [(c, f, o) for c, f, o in specs]
        )
        return [out.column(k).combine_chunks() for k, _ in keys], {
            f"{c}_{f}": out.column(f"{c}_{f.removeprefix('hash_')}").combine_chunks()
            for c, f, _ in specs
        }
    # No group keys: one row, even for no input rows.
    results = {}
    for c, f, o in specs:
        col = table.column(c)
        if f == "hash_distinct" or f == "distinct":
            keep_nulls = o is not None and o.mode == "all"
            vals = pc.unique(col) if keep_nulls else pc.unique(col.drop_null())
            results[f"{c}_{f}"] = pa.array([vals.to_pylist()], type=pa.list_(col.type))
        else:
            fn = f.removeprefix("hash_")
            scalar = pc.call_function(fn, [col], o)
            results[f"{c}_{f}"] = pa.array([scalar.as_py()], type=scalar.type)
    return [], results


def _cast(arr: pa.Array, t: pa.DataType) -> pa.Array:
    if arr.type == t:
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type=t)
    return arr.cast(t)


def aggregate(node: Any, table: pa.Table) -> pa.Table:
    """Runs an ``AggregateExec`` over its input ``table`` (one partition)."""
    mode = node.mode
    if len(node.grouping_sets) > 1 or any(any(s.is_null) for s in node.grouping_sets):
        raise unsupported("GROUPING SETS / ROLLUP / CUBE")
    raw = devolve(schema_from_proto(node.input_schema).empty_table())
    calls = [_Call(c, raw) for c in node.aggregates]
    if mode == proto.AGGREGATE_MODE_PARTIAL:
        out = _partial(node, calls, table)
    elif mode in (proto.AGGREGATE_MODE_FINAL, proto.AGGREGATE_MODE_FINAL_PARTITIONED):
        out = _final(node, calls, table)
    elif mode in (proto.AGGREGATE_MODE_SINGLE, proto.AGGREGATE_MODE_SINGLE_PARTITIONED):
        partial = _partial(node, calls, table)
        # The final phase's group keys are the partial output's first columns.
        out = _final(node, calls, partial, keys_by_position=True)
    else:
        raise unsupported(f"aggregate mode {proto.AggregateMode.Name(mode)}")
    if node.HasField("limit"):
        out = out.slice(0, node.limit)
    return out


def _partial(node: Any, calls: list[_Call], table: pa.Table) -> pa.Table:
    n = table.num_rows
    keys = [(f"k{i}", evaluate(g.expression, table)) for i, g in enumerate(node.group_by)]
    values = []
    specs: list[tuple[str, str, Any]] = []
    grouped = bool(keys)
    h = "hash_" if grouped else ""
    only_valid = pc.CountOptions(mode="only_valid")
    for i, c in enumerate(calls):
        v = as_array(evaluate(c.call.arguments[0], table), n)
        if c.call.HasField("filter"):
            keep = as_array(evaluate(c.call.filter, table), n).fill_null(False)
            v = pc.if_else(keep, v, pa.scalar(None, v.type))
        name = f"a{i}"
        values.append((name, v))
        if c.distinct:
            # DataFusion's distinct state of strings and binaries keeps a
            # null among the values (its final count skips it); of other
            # types it does not.
            text = pa.types.is_string(v.type) or pa.types.is_binary(v.type) or pa.types.is_large_string(v.type)
            specs.append((name, f"{h}distinct", pc.CountOptions(mode="all") if text else only_valid))
        elif c.name == "avg":
            specs += [(name, f"{h}count", only_valid), (name, f"{h}sum", None)]
        elif c.name == "count":
            specs.append((name, f"{h}count", only_valid))
        else:
            specs.append((name, f"{h}{c.name}", None))
    key_arrays, results = _group(keys, values, specs, n)
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for g, arr in zip(node.group_by, key_arrays, strict=True):
        arrays.append(arr)
        fields.append(pa.field(g.name, arr.type))
    spec_iter = iter(specs)
    for c in calls:
        for field in c.state_fields():
            col, fn, _ = next(spec_iter)
            arr = results[f"{col}_{fn}"]
            if c.name == "count" and not c.distinct:
                arr = arr.fill_null(0)
            if c.distinct:
                arr = arr.cast(field.type)
            arrays.append(_cast(arr, field.type))
            fields.append(field)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _final(node: Any, calls: list[_Call], table: pa.Table, keys_by_position: bool = False) -> pa.Table:
    nkeys = len(node.group_by)
    n = table.num_rows
    if keys_by_position:
        keys = [(f"k{i}", table.column(i)) for i in range(nkeys)]
    else:
        keys = [(f"k{i}", evaluate(g.expression, table)) for i, g in enumerate(node.group_by)]
    h = "hash_" if keys else ""
    values = []
    specs: list[tuple[str, str, Any]] = []
    pos = nkeys
    layout = []
    for i, c in enumerate(calls):
        width = len(c.state_fields())
        states = [table.column(pos + j) for j in range(width)]
        pos += width
        names = [f"s{i}_{j}" for j in range(width)]
        if c.distinct:
            # Merge the lists: one row per (group, value), then count distinct.
            layout.append((c, names))
            continue
        for name, s in zip(names, states, strict=True):
            values.append((name, s))
        if c.name in ("sum", "count"):
            specs.append((names[0], f"{h}sum", None))
        elif c.name in ("min", "max"):
            specs.append((names[0], f"{h}{c.name}", None))
        else:
            specs += [(names[0], f"{h}sum", None), (names[1], f"{h}sum", None)]
        layout.append((c, names))
    if pos != table.num_columns:
        raise ExecutorError(
            f"AggregateExec (final): the input has {table.num_columns} columns, "
            f"the group keys and aggregate states need {pos}"
        )
    key_arrays, results = _group(keys, values, specs, n)
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for g, arr in zip(node.group_by, key_arrays, strict=True):
        arrays.append(arr)
        fields.append(pa.field(g.name, arr.type))
    nrows = len(key_arrays[0]) if key_arrays else 1
    for c, names in layout:
        field = c.final_field()
        if c.distinct:
            arr = _count_distinct_merge(keys, table.column(names_index(table, node, c, calls)), n, key_arrays)
        elif c.name in ("sum", "min", "max"):
            arr = _cast(results[f"{names[0]}_{h}{'sum' if c.name == 'sum' else c.name}"], field.type)
        elif c.name == "count":
            arr = _cast(results[f"{names[0]}_{h}sum"], pa.int64()).fill_null(0)
        else:
            counts = results[f"{names[0]}_{h}sum"]
            sums = results[f"{names[1]}_{h}sum"]
            arr = _avg(counts, sums, field.type)
        arrays.append(arr)
        fields.append(field)
    assert all(len(a) == nrows for a in arrays)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def names_index(table: pa.Table, node: Any, target: _Call, calls: list[_Call]) -> int:
    """Index in the final input of ``target``'s (single) state column."""
    pos = len(node.group_by)
    for c in calls:
        if c is target:
            return pos
        pos += len(c.state_fields())
    raise ExecutorError("aggregate call not found")


def _count_distinct_merge(
    keys: list[tuple[str, Any]], lists: Any, n: int, key_arrays: list[pa.Array]
) -> pa.Array:
    lists = as_array(lists, n)
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    parents = pc.list_parent_indices(lists)
    flat = pc.list_flatten(lists)
    if not keys:
        return pa.array([len(pc.unique(flat.drop_null()))], type=pa.int64())
    cols = {name: pc.take(as_array(v, n), parents) for name, v in keys}
    cols["v"] = flat
    exploded = pa.table(cols)
    counted = exploded.group_by(list(cols)[:-1], use_threads=False).aggregate(
        [("v", "count_distinct", pc.CountOptions(mode="only_valid"))]
    )
    # Align with the groups of the other aggregates (groups with only empty
    # lists count 0).
    lookup = {}
    kcols = [counted.column(name).to_pylist() for name, _ in keys]
    for row, cnt in enumerate(counted.column("v_count_distinct").to_pylist()):
        lookup[tuple(k[row] for k in kcols)] = cnt
    group_rows = zip(*[a.to_pylist() for a in key_arrays], strict=True)
    return pa.array([lookup.get(tuple(g), 0) for g in group_rows], type=pa.int64())


def _avg(counts: pa.Array, sums: pa.Array, t: pa.DataType) -> pa.Array:
    if not pa.types.is_decimal(t):
        return pc.divide(pc.cast(sums, pa.float64()), pc.cast(counts, pa.float64()))
    # DataFusion: sum's unscaled value rescaled to the result scale, divided
    # by the count, truncated toward zero.
    out: list[int | None] = []
    for c, s in zip(counts.to_pylist(), sums.to_pylist(), strict=True):
        if not c or s is None:
            out.append(None)
            continue
        unscaled = hashing.unscaled(s, t.scale)
        q = abs(unscaled) // c
        out.append(q if unscaled >= 0 else -q)
    return pa.array(
        [None if u is None else decimal.Decimal(u).scaleb(-t.scale, decimal.Context(prec=80)) for u in out], type=t
    )

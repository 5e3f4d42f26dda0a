"""The physical operators of the spec (``PhysicalPlanNode``) this executor
implements, each computing one partition of its output as a
``pyarrow.Table``.

A task runs one partition of its stage: ``execute(node, p)`` computes
partition ``p`` of ``node``, pulling the partitions it needs from its inputs
(one for per-partition operators, all for merges). Operators materialise
their partition as a table: simple, and enough for the stages this executor
takes (scans, filters, aggregates, top-k sorts); a stage that does not fit
in memory belongs on a Rust executor.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import numpy as np

from ballista import proto
from ballista.executor import aggregate as agg
from ballista.executor import hashing
from ballista.executor.errors import ExecutorError, unsupported
from ballista.executor.expressions import _VIEWS, as_array, devolve, evaluate, schema_from_proto

#: Operators this executor runs (``PhysicalPlanNode`` oneof names).
OPERATORS = [
    "file_scan",
    "shuffle_read",
    "filter",
    "projection",
    "aggregate",
    "sort",
    "sort_preserving_merge",
    "global_limit",
    "local_limit",
    "coalesce_partitions",
    "coalesce_batches",
    "repartition",
    "union",
    "empty",
    "placeholder_row",
    "values",
    "shuffle_write",
    "result_sink",
]

#: Reads the partition of a ShuffleReadExec (set by the task: it needs the
#: executor's identity and connections).
ShuffleReader = Callable[[Any, int], pa.Table]


def _kind(node: Any) -> str:
    kind = node.WhichOneof("node")
    if kind is None:
        raise ExecutorError("PhysicalPlanNode: no operator set")
    return str(kind)


def output_partitions(node: Any) -> int:
    """How many output partitions ``node`` has."""
    kind = _kind(node)
    op = getattr(node, kind)
    if kind == "file_scan":
        return len(op.file_groups)
    if kind == "shuffle_read":
        return len(op.partitions)
    if kind in ("empty", "placeholder_row"):
        return max(1, int(op.partitions))
    if kind == "values":
        return len(op.partitions)
    if kind == "union":
        return sum(output_partitions(i) for i in op.inputs)
    if kind in ("sort_preserving_merge", "coalesce_partitions", "global_limit"):
        return 1
    if kind == "sort" and not op.preserve_partitioning:
        return 1
    if kind == "repartition":
        return _partitioning_count(op.partitioning, output_partitions(op.input))
    if kind in (
        "filter",
        "projection",
        "aggregate",
        "sort",
        "local_limit",
        "coalesce_batches",
        "shuffle_write",
        "result_sink",
    ):
        return output_partitions(op.input)
    raise unsupported(f"the operator `{kind}`")


def _partitioning_count(p: Any, default: int) -> int:
    scheme = p.WhichOneof("scheme")
    if scheme == "hash":
        return int(p.hash.partition_count)
    if scheme in ("round_robin", "unknown"):
        return int(getattr(p, scheme))
    return default


class Executor:
    """Runs a stage plan's operators for one task."""

    def __init__(self, read_shuffle: ShuffleReader) -> None:
        """``read_shuffle(node, partition)`` reads a ShuffleReadExec partition."""
        self.read_shuffle = read_shuffle

    def all_partitions(self, node: Any) -> pa.Table:
        """Every partition of ``node``, concatenated."""
        parts = [self.execute(node, p) for p in range(output_partitions(node))]
        if not parts:
            raise ExecutorError(f"{_kind(node)} has no partitions to merge")
        return pa.concat_tables([t.cast(parts[0].schema) for t in parts])

    def execute(self, node: Any, partition: int) -> pa.Table:
        """Partition ``partition`` of ``node``'s output."""
        kind = _kind(node)
        op = getattr(node, kind)
        n = output_partitions(node)
        if partition >= n:
            raise ExecutorError(f"{kind} has {n} partitions; partition {partition} does not exist")
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            raise unsupported(f"the operator `{kind}`")
        table: pa.Table = handler(op, partition)
        return table

    # Leaves.

    def _file_scan(self, op: Any, partition: int) -> pa.Table:
        if op.format != proto.FILE_FORMAT_PARQUET:
            raise unsupported(f"file scans of format {proto.FileFormat.Name(op.format)}")
        if op.partition_columns:
            raise unsupported("file scans with partition columns")
        if op.compression != proto.FILE_COMPRESSION_UNSPECIFIED:
            raise unsupported("compressed input files")
        schema = schema_from_proto(op.file_schema)
        indices = list(op.projection.indices) if op.HasField("projection") else range(len(schema))
        fields = [schema.field(i) for i in indices]
        out_schema = pa.schema(fields)
        names = [f.name for f in fields]
        tables = []
        remaining = op.limit if op.HasField("limit") else None
        for f in op.file_groups[partition].files:
            if remaining is not None and remaining <= 0:
                break
            t = _read_parquet(f, names)
            t = pa.Table.from_arrays(
                [t.column(name).cast(field.type) for name, field in zip(names, fields, strict=True)],
                schema=out_schema,
            )
            if remaining is not None:
                t = t.slice(0, remaining)
                remaining -= t.num_rows
            tables.append(t)
        return devolve(pa.concat_tables(tables) if tables else out_schema.empty_table())

    def _shuffle_read(self, op: Any, partition: int) -> pa.Table:
        return devolve(self.read_shuffle(op, partition))

    def _empty(self, op: Any, partition: int) -> pa.Table:
        return devolve(schema_from_proto(op.schema).empty_table())

    def _placeholder_row(self, op: Any, partition: int) -> pa.Table:
        schema = schema_from_proto(op.schema)
        return pa.Table.from_arrays([pa.nulls(1, f.type) for f in schema], schema=schema) if len(
            schema
        ) else pa.table({"__placeholder": [None]}).drop_columns(["__placeholder"])

    def _values(self, op: Any, partition: int) -> pa.Table:
        schema = schema_from_proto(op.schema)
        data = op.partitions[partition].arrow_ipc_stream
        if not data:
            return schema.empty_table()
        return devolve(pa.ipc.open_stream(pa.py_buffer(data)).read_all())

    # Per-partition operators.

    def _filter(self, op: Any, partition: int) -> pa.Table:
        table = self.execute(op.input, partition)
        mask = as_array(evaluate(op.predicate, table), table.num_rows)
        out = table.filter(mask, null_selection_behavior="drop")
        if op.HasField("projection"):
            out = out.select(list(op.projection.indices))
        return out

    def _projection(self, op: Any, partition: int) -> pa.Table:
        table = self.execute(op.input, partition)
        arrays = [as_array(evaluate(e.expression, table), table.num_rows) for e in op.expressions]
        return pa.Table.from_arrays(arrays, names=[e.name for e in op.expressions])

    def _aggregate(self, op: Any, partition: int) -> pa.Table:
        return agg.aggregate(op, self.execute(op.input, partition))

    def _sort(self, op: Any, partition: int) -> pa.Table:
        table = (
            self.execute(op.input, partition)
            if op.preserve_partitioning
            else self.all_partitions(op.input)
        )
        return sort_table(table, op.order, op.fetch if op.HasField("fetch") else None)

    def _sort_preserving_merge(self, op: Any, partition: int) -> pa.Table:
        table = self.all_partitions(op.input)
        return sort_table(table, op.order, op.fetch if op.HasField("fetch") else None)

    def _coalesce_partitions(self, op: Any, partition: int) -> pa.Table:
        table = self.all_partitions(op.input)
        return table.slice(0, op.fetch) if op.HasField("fetch") else table

    def _coalesce_batches(self, op: Any, partition: int) -> pa.Table:
        table = self.execute(op.input, partition)
        return table.slice(0, op.fetch) if op.HasField("fetch") else table

    def _local_limit(self, op: Any, partition: int) -> pa.Table:
        return self.execute(op.input, partition).slice(0, op.fetch)

    def _global_limit(self, op: Any, partition: int) -> pa.Table:
        table = self.all_partitions(op.input)
        table = table.slice(op.skip)
        return table.slice(0, op.fetch) if op.HasField("fetch") else table

    def _union(self, op: Any, partition: int) -> pa.Table:
        for child in op.inputs:
            n = output_partitions(child)
            if partition < n:
                return self.execute(child, partition)
            partition -= n
        raise ExecutorError("UnionExec: partition out of range")

    def _repartition(self, op: Any, partition: int) -> pa.Table:
        # Within one task every output partition of a repartition reads all
        # of its input: compute the input once per call and keep the rows
        # that go to `partition`.
        table = self.all_partitions(op.input)
        n = output_partitions(op.input) if not op.HasField("partitioning") else None
        parts = route(table, op.partitioning, 0, n or 1)
        return parts.get(partition, table.schema.empty_table())


def _read_parquet(f: Any, columns: list[str]) -> pa.Table:
    """A file of a scan's group; with a byte range, the row groups whose
    first column chunk starts inside it (DataFusion's rule, so that two
    executors splitting a file the same way read every row group once)."""
    path = f.path
    if path.startswith("file://"):
        path = path[len("file://") :]
    if not os.path.isabs(path):
        path = "/" + path
    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError:
        raise ExecutorError(f"file scan: no file at `{path}`", code="not_found") from None
    if not f.HasField("range"):
        return pf.read(columns=columns, use_threads=False)
    start, end = f.range.start, f.range.end
    groups = []
    md = pf.metadata
    for i in range(md.num_row_groups):
        col = md.row_group(i).column(0)
        offset = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
        if offset is None:
            offset = col.data_page_offset
        if start <= offset < end:
            groups.append(i)
    if not groups:
        return pf.schema_arrow.empty_table().select(columns)
    return pf.read_row_groups(groups, columns=columns, use_threads=False)


def sort_table(table: pa.Table, order: Any, fetch: int | None) -> pa.Table:
    """``table`` sorted by the ``PhysicalSortExpr`` list ``order`` (each key
    with its own direction and null placement), first ``fetch`` rows."""
    n = table.num_rows
    indices = pa.array(range(n), type=pa.int64())
    # Stable sorts from the last key to the first give the lexicographic order.
    for key in reversed(list(order)):
        values = as_array(evaluate(key.expression, table), n)
        values = pc.take(values, indices)
        direction = "descending" if key.options.descending else "ascending"
        placement = "at_start" if key.options.nulls_first else "at_end"
        step = pc.array_sort_indices(values, order=direction, null_placement=placement)
        indices = pc.take(indices, step)
    out = table.take(indices)
    return out.slice(0, fetch) if fetch is not None else out


def route(table: pa.Table, partitioning: Any, map_partition: int, default_n: int) -> dict[int, pa.Table]:
    """Splits ``table`` (the output of map task ``map_partition``) into
    reduce partitions by ``partitioning`` (``docs/spec/shuffle.md``);
    partitions without rows are left out."""
    scheme = partitioning.WhichOneof("scheme") if partitioning is not None else None
    if scheme is None:
        scheme, n = "unknown", default_n
    else:
        n = _partitioning_count(partitioning, default_n)
    if n < 1:
        raise ExecutorError("Partitioning: the partition count must be at least 1")
    if table.num_rows == 0:
        return {}
    if scheme == "unknown":
        if map_partition >= n:
            raise ExecutorError(
                f"Partitioning unknown({n}) cannot keep map partition {map_partition}: "
                f"it must be below {n}"
            )
        return {map_partition: table}
    if scheme == "round_robin":
        out: dict[int, list[pa.RecordBatch]] = {}
        i = 0
        for batch in table.to_batches():
            if batch.num_rows:
                out.setdefault(i % n, []).append(batch)
                i += 1
        return {p: pa.Table.from_batches(b, schema=table.schema) for p, b in out.items()}
    keys = [as_array(evaluate(k, table), table.num_rows) for k in partitioning.hash.keys]
    parts = hashing.partitions(keys, table.num_rows, n)
    result = {}
    order = np.argsort(parts, kind="stable")
    sorted_parts = parts[order]
    bounds = np.flatnonzero(np.diff(sorted_parts)) + 1
    for chunk in np.split(order, bounds):
        if len(chunk):
            result[int(parts[chunk[0]])] = table.take(pa.array(chunk))
    return result


# Arrow's view types. DataFusion reads Parquet strings as Utf8View, but most
# pyarrow kernels (take, filter, sort, is_in, like, if_else) have no view
# kernels: operators here work on plain utf8/binary, and a stage's output
# gets the view types back where the plan's types say so, so that the files
# have exactly the types a Rust reader of the stage expects.

def _is_view(t: pa.DataType) -> bool:
    return str(t) in _VIEWS


def _expr_view(expr: Any, inputs: list[bool]) -> bool:
    """Whether ``expr``'s declared (DataFusion) type is a view type."""
    from ballista.executor.expressions import data_type

    kind = expr.WhichOneof("expr_type")
    if kind == "column":
        return inputs[expr.column.index] if expr.column.index < len(inputs) else False
    if kind == "literal":
        return expr.literal.WhichOneof("value") in ("utf8_view_value", "binary_view_value")
    if kind == "cast":
        return _is_view(data_type(expr.cast.data_type))
    if kind == "scalar_function":
        return _is_view(data_type(expr.scalar_function.return_type))
    if kind == "case":
        c = getattr(expr, "case")
        branches = [wt.then for wt in c.when_then] + ([c.else_result] if c.HasField("else_result") else [])
        return any(_expr_view(b, inputs) for b in branches)
    if kind == "binary" and _op_is_concat(expr.binary.op):
        return _expr_view(expr.binary.left, inputs) or _expr_view(expr.binary.right, inputs)
    return False


def _op_is_concat(op: int) -> bool:
    return bool(proto.BinaryOperator.Name(op) == "BINARY_OPERATOR_STRING_CONCAT")


def view_columns(node: Any) -> list[Any]:
    """For each output column of ``node``: ``True`` if its declared type is
    a view type, ``"list"`` if it is a list of a view type, else ``False``."""
    kind = _kind(node)
    op = getattr(node, kind)
    if kind == "file_scan":
        schema = schema_from_proto(op.file_schema)
        indices = list(op.projection.indices) if op.HasField("projection") else range(len(schema))
        return [_is_view(schema.field(i).type) for i in indices]
    if kind in ("shuffle_read", "empty", "placeholder_row", "values"):
        return [_is_view(f.type) for f in schema_from_proto(op.schema)]
    if kind == "union":
        return view_columns(op.inputs[0])
    if kind == "filter":
        flags = view_columns(op.input)
        return [flags[i] for i in op.projection.indices] if op.HasField("projection") else flags
    if kind == "projection":
        flags = view_columns(op.input)
        return [_expr_view(e.expression, flags) for e in op.expressions]
    if kind == "aggregate":
        flags = view_columns(op.input)
        raw = [_is_view(f.type) for f in schema_from_proto(op.input_schema)]
        keys = [_expr_view(g.expression, flags) for g in op.group_by]
        out: list[Any] = list(keys)
        partial = op.mode == proto.AGGREGATE_MODE_PARTIAL
        for c in op.aggregates:
            arg_view = _expr_view(c.arguments[0], raw) if c.arguments else False
            name = c.name.lower()
            if partial and c.distinct:
                # The distinct values travel as a list of the argument type.
                out.append("list" if arg_view else False)
            elif partial:
                width = 2 if name == "avg" else 1
                out += [name in ("min", "max") and arg_view] * width
            else:
                out.append(name in ("min", "max") and arg_view)
        return out
    return view_columns(op.input)


def restore_views(table: pa.Table, flags: list[Any]) -> pa.Table:
    """``table`` with the columns ``flags`` marks cast back to view types."""
    if not any(flags) or len(flags) != table.num_columns:
        return table
    fields = []
    for f, view in zip(table.schema, flags, strict=True):
        if view is True and f.type == pa.string():
            f = pa.field(f.name, pa.string_view(), f.nullable)
        elif view is True and f.type == pa.binary():
            f = pa.field(f.name, pa.binary_view(), f.nullable)
        elif view == "list" and pa.types.is_list(f.type) and f.type.value_type == pa.string():
            item = pa.field(f.type.value_field.name, pa.string_view(), True)
            f = pa.field(f.name, pa.list_(item), f.nullable)
        fields.append(f)
    return table.cast(pa.schema(fields))

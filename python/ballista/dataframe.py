""":class:`DataFrame`: a logical plan under construction, and the ways to
run it.

Every method wraps the current plan in one spec ``Relation`` and returns a
new DataFrame: nothing is resolved or executed while building, so building
never needs a connection and never fails on unknown names (the scheduler
reports those when the plan runs). The methods mirror the Rust builder
(``ballista_client::DataFrame``) name for name, so the same program builds
the same bytes in every language.

A DataFrame made by a context (``ctx.table(..)``, ``ctx.read_parquet(..)``,
``ctx.sql(..)``) remembers it, and ``to_arrow()``, ``to_pandas()``,
``show()``, ... run it there. One built with the class methods
(``DataFrame.read_table("t")``) is a plan only: run it with
``ctx.dataframe(df)``.

>>> from ballista import DataFrame, col, functions as F
>>> df = (DataFrame.read_table("orders")
...       .filter(col("amount") > 10)
...       .group_by("customer")
...       .agg(F.sum(col("amount")).alias("total")))
>>> df.plan().WhichOneof("rel_type")
'aggregate'
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ballista import proto
from ballista.errors import BallistaError, PlanError
from ballista.expr import (
    Expr,
    ExprLike,
    SortKey,
    _column_or_expr,
    _expr,
    col,
    sort_key,
)

if TYPE_CHECKING:
    import pandas
    import polars

    from ballista.context import BallistaContext

#: Join kinds by the names ``join(how=...)`` accepts.
JOIN_TYPES: dict[str, int] = {
    "inner": proto.JOIN_TYPE_INNER,
    "left": proto.JOIN_TYPE_LEFT,
    "left_outer": proto.JOIN_TYPE_LEFT,
    "right": proto.JOIN_TYPE_RIGHT,
    "right_outer": proto.JOIN_TYPE_RIGHT,
    "full": proto.JOIN_TYPE_FULL,
    "outer": proto.JOIN_TYPE_FULL,
    "full_outer": proto.JOIN_TYPE_FULL,
    "semi": proto.JOIN_TYPE_LEFT_SEMI,
    "left_semi": proto.JOIN_TYPE_LEFT_SEMI,
    "anti": proto.JOIN_TYPE_LEFT_ANTI,
    "left_anti": proto.JOIN_TYPE_LEFT_ANTI,
    "right_semi": proto.JOIN_TYPE_RIGHT_SEMI,
    "right_anti": proto.JOIN_TYPE_RIGHT_ANTI,
}

_FORMATS = {
    "parquet": proto.FILE_FORMAT_PARQUET,
    "csv": proto.FILE_FORMAT_CSV,
    "json": proto.FILE_FORMAT_JSON,
    "arrow": proto.FILE_FORMAT_ARROW,
    "avro": proto.FILE_FORMAT_AVRO,
}


def _paths(paths: str | Iterable[str]) -> list[str]:
    return [paths] if isinstance(paths, str) else [str(p) for p in paths]


def _option_value(v: Any) -> str:
    # Options travel as strings; booleans as the lower-case words every
    # engine parses.
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _read_files_message(
    format: str | int,
    paths: str | Iterable[str],
    options: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    schema: pa.Schema | None,
) -> Any:
    if isinstance(format, str):
        try:
            format = _FORMATS[format.lower()]
        except KeyError:
            raise PlanError(
                f"unknown file format {format!r}: valid are {', '.join(_FORMATS)}"
            ) from None
    items = options.items() if isinstance(options, Mapping) else (options or [])
    read = proto.ReadFiles(
        format=format,
        paths=_paths(paths),
        options=[proto.KeyValue(key=k, value=_option_value(v)) for k, v in items],
    )
    if schema is not None:
        read.schema.arrow_ipc = schema.serialize().to_pybytes()
    return read


class GroupBy:
    """A grouping being built by :meth:`DataFrame.group_by` (or
    :meth:`~DataFrame.rollup`, :meth:`~DataFrame.cube`,
    :meth:`~DataFrame.grouping_sets`); finish it with :meth:`agg`."""

    def __init__(
        self, input: DataFrame, expressions: list[Any], group_type: int, sets: list[Any]
    ) -> None:
        """Use :meth:`DataFrame.group_by`."""
        self._input = input
        self._expressions = expressions
        self._group_type = group_type
        self._sets = sets

    def agg(self, *aggregates: Expr) -> DataFrame:
        """Computes ``aggregates`` for each group. Output columns: the
        grouping expressions, then the aggregates."""
        return self._input._wrap(
            aggregate=proto.Aggregate(
                input=self._input._plan,
                grouping_expressions=self._expressions,
                aggregate_expressions=[_expr(a)._proto for a in aggregates],
                group_type=self._group_type,
                grouping_sets=self._sets,
            )
        )


class DataFrame:
    """A logical plan: a builder over the spec's ``Relation`` message."""

    def __init__(self, plan: Any, ctx: BallistaContext | None = None) -> None:
        """Wraps a spec ``Relation`` (and the context that runs it)."""
        self._plan = plan
        self._ctx = ctx

    # ---- leaves (plans without a context) ---------------------------------

    @classmethod
    def _leaf(cls, **rel: Any) -> DataFrame:
        return cls(proto.Relation(**rel))

    @classmethod
    def read_table(
        cls, table: str, schema: str | None = None, catalog: str | None = None
    ) -> DataFrame:
        """Scans a table of the scheduler's catalog (``table`` as it is: a dot
        is part of the name; qualify with ``schema`` and ``catalog``)."""
        ref = proto.TableReference(table=table)
        if schema is not None:
            ref.schema = schema
        if catalog is not None:
            ref.catalog = catalog
        return cls._leaf(read_table=proto.ReadTable(table=ref))

    @classmethod
    def read_files(
        cls,
        format: str | int,
        paths: str | Iterable[str],
        options: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        schema: pa.Schema | None = None,
    ) -> DataFrame:
        """Scans files or directories of a format (``"parquet"``, ``"csv"``,
        ``"json"``, ...); options are kept in the order given, so plans are
        byte-identical everywhere; the schema is inferred unless given."""
        return cls._leaf(read_files=_read_files_message(format, paths, options, schema))

    @classmethod
    def read_parquet(
        cls, paths: str | Iterable[str], schema: pa.Schema | None = None
    ) -> DataFrame:
        """Scans Parquet files or directories."""
        return cls.read_files("parquet", paths, None, schema)

    @classmethod
    def read_csv(
        cls,
        paths: str | Iterable[str],
        options: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        schema: pa.Schema | None = None,
        **kw_options: Any,
    ) -> DataFrame:
        """Scans CSV files or directories; options such as
        ``has_header=True``, ``delimiter=";"``.

        >>> DataFrame.read_csv("t.csv", has_header=True).plan().read_files.options[0].value
        'true'
        """
        items = list(options.items() if isinstance(options, Mapping) else (options or []))
        items += list(kw_options.items())
        return cls.read_files("csv", paths, items, schema)

    @classmethod
    def read_json(
        cls, paths: str | Iterable[str], schema: pa.Schema | None = None
    ) -> DataFrame:
        """Scans newline-delimited JSON files or directories."""
        return cls.read_files("json", paths, None, schema)

    @classmethod
    def from_sql(cls, query: str) -> DataFrame:
        """A SQL query (one statement), planned by the scheduler."""
        return cls._leaf(sql=proto.Sql(query=query))

    @classmethod
    def values(
        cls, rows: Iterable[Sequence[ExprLike]], column_names: Iterable[str] = ()
    ) -> DataFrame:
        """Literal rows, one expression (or Python value) per column; columns
        are named ``column_names``, or ``column1``, ``column2``, ... when empty.

        >>> DataFrame.values([[1, "a"], [2, "b"]], ["n", "s"]).plan().values.column_names
        ['n', 's']
        """
        return cls._leaf(
            values=proto.Values(
                rows=[proto.ValuesRow(values=[_expr(v)._proto for v in row]) for row in rows],
                column_names=list(column_names),
            )
        )

    @classmethod
    def empty(cls, produce_one_row: bool = False) -> DataFrame:
        """No input: one row without columns (``produce_one_row``, as SELECT
        without FROM) or no rows at all."""
        return cls._leaf(empty=proto.EmptyRelation(produce_one_row=produce_one_row))

    # ---- the plan -----------------------------------------------------------

    def plan(self) -> Any:
        """The canonical spec plan (``ballista.v1.Relation``), a copy."""
        copy = proto.Relation()
        copy.CopyFrom(self._plan)
        return copy

    def with_plan_id(self, plan_id: int) -> DataFrame:
        """Sets this node's ``plan_id``, which columns can refer to."""
        plan = self.plan()
        plan.plan_id = plan_id
        return DataFrame(plan, self._ctx)

    def _wrap(self, **rel: Any) -> DataFrame:
        return DataFrame(proto.Relation(**rel), self._ctx)

    # ---- relations ----------------------------------------------------------

    def filter(self, condition: Expr) -> DataFrame:
        """Keeps the rows for which ``condition`` is true."""
        return self._wrap(filter=proto.Filter(input=self._plan, condition=_expr(condition)._proto))

    where = filter

    def select(self, *exprs: Expr | str) -> DataFrame:
        """Computes ``exprs`` for each row (column names or expressions); the
        output has one column per expression."""
        return self._wrap(
            project=proto.Project(
                input=self._plan, expressions=[_column_or_expr(e)._proto for e in exprs]
            )
        )

    def select_columns(self, *names: str) -> DataFrame:
        """Keeps the named columns, in the order given."""
        return self.select(*[col(n) for n in names])

    def with_column(self, name: str, expr: ExprLike) -> DataFrame:
        """Adds column ``name`` computed by ``expr``, or replaces the column of
        that name in place."""
        return self.with_columns({name: expr})

    def with_columns(
        self, columns: Mapping[str, ExprLike] | Iterable[tuple[str, ExprLike]]
    ) -> DataFrame:
        """Adds or replaces several columns at once; every expression sees the
        input's columns, not each other."""
        items = columns.items() if isinstance(columns, Mapping) else columns
        return self._wrap(
            with_columns=proto.WithColumns(
                input=self._plan, columns=[_expr(e).alias(n)._proto for n, e in items]
            )
        )

    def with_column_renamed(self, old: str, new: str) -> DataFrame:
        """Renames column ``old`` to ``new``."""
        return self.with_columns_renamed({old: new})

    def with_columns_renamed(
        self, renames: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> DataFrame:
        """Renames several columns at once; other columns keep their place."""
        items = renames.items() if isinstance(renames, Mapping) else renames
        return self._wrap(
            with_columns_renamed=proto.WithColumnsRenamed(
                input=self._plan, renames=[proto.Rename(**{"from": f, "to": t}) for f, t in items]
            )
        )

    def drop(self, *columns: str) -> DataFrame:
        """Removes the named columns."""
        return self._wrap(drop=proto.Drop(input=self._plan, columns=list(columns)))

    def group_by(self, *exprs: Expr | str) -> GroupBy:
        """``GROUP BY exprs``; finish with :meth:`GroupBy.agg`. No
        expressions: a global aggregate (one row)."""
        return GroupBy(
            self, [_column_or_expr(e)._proto for e in exprs], proto.GROUP_TYPE_UNSPECIFIED, []
        )

    def aggregate(self, group_by: Iterable[Expr | str], aggregates: Iterable[Expr]) -> DataFrame:
        """``group_by(*group_by).agg(*aggregates)``."""
        return self.group_by(*group_by).agg(*aggregates)

    def rollup(self, *exprs: Expr | str) -> GroupBy:
        """``GROUP BY ROLLUP(exprs)``."""
        return GroupBy(self, [_column_or_expr(e)._proto for e in exprs], proto.GROUP_TYPE_ROLLUP, [])

    def cube(self, *exprs: Expr | str) -> GroupBy:
        """``GROUP BY CUBE(exprs)``."""
        return GroupBy(self, [_column_or_expr(e)._proto for e in exprs], proto.GROUP_TYPE_CUBE, [])

    def grouping_sets(self, sets: Iterable[Iterable[Expr | str]]) -> GroupBy:
        """``GROUP BY GROUPING SETS(sets)``."""
        messages = [
            proto.GroupingSet(expressions=[_column_or_expr(e)._proto for e in s]) for s in sets
        ]
        return GroupBy(self, [], proto.GROUP_TYPE_GROUPING_SETS, messages)

    def _join(
        self,
        right: DataFrame,
        join_type: int,
        on: list[Any],
        condition: Expr | None,
        constraint: int,
    ) -> DataFrame:
        join = proto.Join(
            left=self._plan,
            right=right._plan,
            join_type=join_type,
            on=on,
            constraint=constraint,
            null_equality=proto.NULL_EQUALITY_UNSPECIFIED,
        )
        if condition is not None:
            join.condition.CopyFrom(condition._proto)
        return DataFrame(proto.Relation(join=join), self._ctx or right._ctx)

    def join(
        self,
        right: DataFrame,
        on: str | Sequence[str] | Expr | None = None,
        how: str = "inner",
        *,
        left_on: str | Sequence[str] | None = None,
        right_on: str | Sequence[str] | None = None,
    ) -> DataFrame:
        """Joins with ``right``.

        - ``on="k"`` or ``on=["k1", "k2"]``: ``JOIN .. USING (k..)``, equal
          keys of the same name, which appear once in the output (as in
          PySpark and Polars);
        - ``left_on=[..], right_on=[..]``: equi-join on key columns
          ``left_on[i] = right_on[i]`` (both sides' columns are kept: alias
          the inputs and use :func:`~ballista.qualified_col` where names clash);
        - ``on=<Expr>``: a join on an arbitrary condition (the scheduler
          extracts equi-join keys from it).

        ``how``: ``inner``, ``left``, ``right``, ``full`` (``outer``),
        ``semi``/``left_semi``, ``anti``/``left_anti``, ``right_semi``,
        ``right_anti``, or ``cross`` (no keys).

        >>> a, b = DataFrame.read_table("a"), DataFrame.read_table("b")
        >>> a.join(b, left_on="id", right_on="a_id", how="left").plan().join.join_type
        2
        """
        if how == "cross":
            if on is not None or left_on is not None or right_on is not None:
                raise PlanError("a cross join takes no keys: drop on/left_on/right_on")
            return self.cross_join(right)
        try:
            join_type = JOIN_TYPES[how.lower()]
        except KeyError:
            raise PlanError(
                f"unknown join type {how!r}: valid are {', '.join(JOIN_TYPES)}, cross"
            ) from None
        if (left_on is None) != (right_on is None):
            raise PlanError("left_on and right_on go together: give both or neither")
        if left_on is not None and right_on is not None:
            if on is not None:
                raise PlanError("give either on or left_on/right_on, not both")
            lk, rk = _paths(left_on), _paths(right_on)
            if len(lk) != len(rk):
                raise PlanError(
                    f"left_on has {len(lk)} keys and right_on {len(rk)}: they must pair up"
                )
            keys = [proto.JoinKey(left=col(l)._proto, right=col(r)._proto) for l, r in zip(lk, rk)]
            return self._join(right, join_type, keys, None, proto.JOIN_CONSTRAINT_UNSPECIFIED)
        if isinstance(on, Expr):
            return self.join_on(right, on, how)
        if on is None:
            raise PlanError(
                "join needs keys: on='k', on=['k1', 'k2'], on=<condition>, "
                "left_on/right_on, or how='cross'"
            )
        return self.join_using(right, _paths(on), how)

    def join_on(self, right: DataFrame, condition: Expr, how: str = "inner") -> DataFrame:
        """Join on an arbitrary condition."""
        return self._join(
            right, _join_type(how), [], condition, proto.JOIN_CONSTRAINT_UNSPECIFIED
        )

    def join_using(
        self, right: DataFrame, columns: Sequence[str], how: str = "inner"
    ) -> DataFrame:
        """``JOIN .. USING (columns)``: equal keys of the same name, which
        appear once in the output."""
        keys = [proto.JoinKey(left=col(c)._proto, right=col(c)._proto) for c in columns]
        return self._join(right, _join_type(how), keys, None, proto.JOIN_CONSTRAINT_USING)

    def cross_join(self, right: DataFrame) -> DataFrame:
        """Every pair of rows (an inner join without keys or condition)."""
        return self._join(right, proto.JOIN_TYPE_INNER, [], None, proto.JOIN_CONSTRAINT_UNSPECIFIED)

    def sort(self, *keys: SortKey | Expr | str) -> DataFrame:
        """Orders rows by ``keys``, most significant first: sort keys
        (``col("x").desc()``), expressions or column names (ascending).

        >>> DataFrame.read_table("t").sort("a", col("b").desc()).plan().sort.order[1].options.descending
        True
        """
        return self._wrap(sort=proto.Sort(input=self._plan, order=[sort_key(k)._proto for k in keys]))

    order_by = sort

    def limit(self, n: int | None, offset: int = 0) -> DataFrame:
        """Skips ``offset`` rows, then returns at most ``n`` rows (all the
        remaining ones when ``n`` is None)."""
        if (n is not None and n < 0) or offset < 0:
            raise PlanError(f"limit takes counts >= 0, got n={n}, offset={offset}")
        limit = proto.Limit(input=self._plan, offset=offset)
        if n is not None:
            limit.fetch = n
        return self._wrap(limit=limit)

    def map_batches(
        self,
        fn: Callable[[Iterator[pa.RecordBatch]], Iterable[pa.RecordBatch]],
        schema: pa.Schema,
        name: str | None = None,
    ) -> DataFrame:
        """Applies ``fn`` to each partition, as Spark's ``mapInArrow``: ``fn``
        gets an iterator of ``pyarrow.RecordBatch`` and yields batches (or
        tables) of ``schema``. It runs on the executors in Python worker
        processes, streaming: it needs not hold a partition in memory."""
        from ballista.udf import definition, schema_message

        rel = proto.MapBatches(
            input=self._plan,
            function=definition(fn, name or getattr(fn, "__name__", None) or "map_batches"),
            output_schema=schema_message(schema),
        )
        return self._wrap(map_batches=rel)

    def distinct(self) -> DataFrame:
        """Removes duplicate rows."""
        return self._wrap(distinct=proto.Distinct(input=self._plan))

    def _set_operation(self, other: DataFrame, kind: int, all: bool, by_name: bool) -> DataFrame:
        return DataFrame(
            proto.Relation(
                set_operation=proto.SetOperation(
                    inputs=[self._plan, other._plan], type=kind, all=all, by_name=by_name
                )
            ),
            self._ctx or other._ctx,
        )

    def union(self, other: DataFrame) -> DataFrame:
        """``UNION``: rows of both, duplicates removed, columns matched by
        position. (SQL's meaning, as in the Rust and Java builders; PySpark's
        ``union`` keeps duplicates, which is :meth:`union_all` here.)"""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_UNION, False, False)

    def union_all(self, other: DataFrame) -> DataFrame:
        """``UNION ALL``: duplicates kept."""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_UNION, True, False)

    def union_by_name(self, other: DataFrame) -> DataFrame:
        """``UNION ALL BY NAME``: columns matched by name."""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_UNION, True, True)

    def intersect(self, other: DataFrame) -> DataFrame:
        """``INTERSECT``: distinct rows present in both."""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_INTERSECT, False, False)

    def intersect_all(self, other: DataFrame) -> DataFrame:
        """``INTERSECT ALL``."""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_INTERSECT, True, False)

    def except_(self, other: DataFrame) -> DataFrame:
        """``EXCEPT``: distinct rows of ``self`` not in ``other`` (``except``
        is a Python keyword; :meth:`subtract` is PySpark's name)."""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_EXCEPT, False, False)

    subtract = except_

    def except_all(self, other: DataFrame) -> DataFrame:
        """``EXCEPT ALL``."""
        return self._set_operation(other, proto.SET_OPERATION_TYPE_EXCEPT, True, False)

    def window(self, *exprs: Expr) -> DataFrame:
        """Appends window function results as columns (see :meth:`Expr.over`)."""
        return self._wrap(
            window=proto.Window(input=self._plan, window_expressions=[e._proto for e in exprs])
        )

    def alias(self, alias: str) -> DataFrame:
        """Names this relation, so that its columns are qualified by ``alias``."""
        return self._wrap(subquery_alias=proto.SubqueryAlias(input=self._plan, alias=alias))

    # ---- running ------------------------------------------------------------

    def _context(self) -> BallistaContext:
        if self._ctx is None:
            raise BallistaError(
                "this DataFrame was built without a context: run it with ctx.dataframe(df), "
                "or start from ctx.table(..), ctx.read_parquet(..) or ctx.sql(..)"
            )
        return self._ctx

    def to_arrow(self) -> pa.Table:
        """Runs the plan and returns every row as a ``pyarrow.Table``
        (result partitions are fetched from the executors in parallel)."""
        return self._context()._collect(self._plan)

    def collect(self) -> list[pa.RecordBatch]:
        """Runs the plan and returns its rows as record batches."""
        batches: list[pa.RecordBatch] = self.to_arrow().to_batches()
        return batches

    def to_batches(self) -> Iterator[pa.RecordBatch]:
        """Runs the plan and streams its record batches as they arrive, in
        partition order, with a few partitions fetched ahead."""
        return self._context()._stream(self._plan)

    def to_pandas(self) -> pandas.DataFrame:
        """Runs the plan and returns a ``pandas.DataFrame`` (needs pandas)."""
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """Runs the plan and returns a ``polars.DataFrame`` (needs polars)."""
        try:
            import polars
        except ImportError:
            raise ImportError(
                "to_polars() needs polars: pip install polars (or ballista[polars])"
            ) from None
        result = polars.from_arrow(self.to_arrow())
        assert isinstance(result, polars.DataFrame)
        return result

    def count(self) -> int:
        """The number of rows (counted by the cluster, not fetched)."""
        from ballista.functions import count_all

        table = self.aggregate([], [count_all().alias("count")]).to_arrow()
        return int(table.column(0)[0].as_py())

    def schema(self) -> pa.Schema:
        """The result's schema (runs the plan with ``LIMIT 0``)."""
        return self.limit(0).to_arrow().schema

    def show(self, n: int = 20) -> None:
        """Prints the first ``n`` rows as a table."""
        print(self._format(n))

    def _format(self, n: int) -> str:
        table = self.limit(n + 1).to_arrow()
        more = table.num_rows > n
        table = table.slice(0, n)
        names = table.column_names
        cells = [[_cell(v) for v in table.column(i).to_pylist()] for i in range(len(names))]
        widths = [
            max([len(name), *(len(c) for c in column)]) for name, column in zip(names, cells)
        ]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        rows = [line, "| " + " | ".join(n.ljust(w) for n, w in zip(names, widths)) + " |", line]
        for r in range(table.num_rows):
            rows.append(
                "| " + " | ".join(cells[c][r].ljust(widths[c]) for c in range(len(names))) + " |"
            )
        rows.append(line)
        if more:
            rows.append(f"only the first {n} rows are shown")
        return "\n".join(rows)

    def explain_text(self) -> str:
        """The logical, physical and distributed (stage) plans, as text."""
        return self._context()._explain(self._plan)

    def explain(self) -> None:
        """Prints the logical, physical and distributed (stage) plans."""
        print(self.explain_text())

    def __repr__(self) -> str:
        kind = self._plan.WhichOneof("rel_type")
        bound = "" if self._ctx is None else f" on {self._ctx.scheduler_url}"
        return f"<ballista.DataFrame: {kind}{bound}>"

    def _repr_html_(self) -> str:
        """The first 10 rows as an HTML table, for notebooks."""
        if self._ctx is None:
            return html.escape(repr(self))
        n = 10
        table = self.limit(n + 1).to_arrow()
        head = "".join(f"<th>{html.escape(name)}</th>" for name in table.column_names)
        body = []
        for row in table.slice(0, n).to_pylist():
            body.append(
                "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row.values()) + "</tr>"
            )
        note = f"<p>only the first {n} rows are shown</p>" if table.num_rows > n else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"


def _join_type(how: str) -> int:
    try:
        return JOIN_TYPES[how.lower()]
    except KeyError:
        raise PlanError(f"unknown join type {how!r}: valid are {', '.join(JOIN_TYPES)}") from None


def _cell(v: Any) -> str:
    return "NULL" if v is None else str(v)

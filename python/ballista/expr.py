"""Expressions of the logical plan: :class:`Expr` and the functions that
build one (:func:`col`, :func:`lit`, :func:`when`, :func:`exists`, ...).

An :class:`Expr` wraps the spec's ``Expression`` message. Every method
produces exactly the message the Rust builder (``ballista_client::expr``)
produces for the method of the same name, with names left unresolved: the
scheduler resolves columns and functions, so nothing here validates them.
The conformance suite (``integration/conformance/``) checks that the bytes
are identical across languages.

Python operators build expressions, as in PySpark and Polars:

- ``==, !=, <, <=, >, >=`` compare; ``+ - * / %`` and unary ``-`` compute;
- ``&``, ``|`` and ``~`` are logical AND, OR and NOT (not bitwise: use
  :meth:`Expr.bitwise_and`, :meth:`Expr.bitwise_or`; ``^``, ``<<`` and ``>>``
  are bitwise XOR and shifts);
- a plain Python value on either side becomes a literal (:func:`lit`).

>>> from ballista import col, lit
>>> e = (col("x") > 5) & col("name").like("A%")
>>> e.to_proto().binary.op == proto.BINARY_OPERATOR_AND
True
>>> print(col("price") * (1 - col("discount")))
col('price') * (lit(1) - col('discount'))
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Union

import pyarrow as pa

from ballista import proto
from ballista.errors import PlanError
from ballista.types import TypeLike, data_type, time_unit

if TYPE_CHECKING:
    from ballista.dataframe import DataFrame

#: Anything that becomes an expression: an :class:`Expr`, a :class:`SortKey`
#: (as a sort-order argument) or a Python value (a literal).
ExprLike = Union["Expr", "SortKey", int, float, str, bool, bytes, None, _decimal.Decimal, _dt.date, _dt.time, _dt.timedelta]

_SYMBOLS = {
    proto.BINARY_OPERATOR_EQ: "==",
    proto.BINARY_OPERATOR_NOT_EQ: "!=",
    proto.BINARY_OPERATOR_LT: "<",
    proto.BINARY_OPERATOR_LT_EQ: "<=",
    proto.BINARY_OPERATOR_GT: ">",
    proto.BINARY_OPERATOR_GT_EQ: ">=",
    proto.BINARY_OPERATOR_PLUS: "+",
    proto.BINARY_OPERATOR_MINUS: "-",
    proto.BINARY_OPERATOR_MULTIPLY: "*",
    proto.BINARY_OPERATOR_DIVIDE: "/",
    proto.BINARY_OPERATOR_MODULO: "%",
    proto.BINARY_OPERATOR_AND: "&",
    proto.BINARY_OPERATOR_OR: "|",
}


class Expr:
    """A logical expression: a builder over the spec's ``Expression``.

    Expressions are immutable; every method returns a new one.
    """

    __slots__ = ("_proto",)
    # `==` builds an expression, so expressions cannot be dict keys.
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, expression: Any) -> None:
        """Wraps a spec ``Expression`` message as it is."""
        self._proto = expression

    @classmethod
    def _of(cls, **kind: Any) -> Expr:
        return cls(proto.Expression(**kind))

    def to_proto(self) -> Any:
        """The spec message (a copy)."""
        copy = proto.Expression()
        copy.CopyFrom(self._proto)
        return copy

    # ---- operators -------------------------------------------------------

    def _binary(self, op: int, other: ExprLike) -> Expr:
        return Expr._of(
            binary=proto.BinaryExpression(left=self._proto, op=op, right=_expr(other)._proto)
        )

    def binary_op(self, op: int | str, other: ExprLike) -> Expr:
        """Any binary operator of the spec, by enum value or by name without
        its prefix (``"regex_match"``, ``"bitwise_shift_left"``, ...).

        >>> col("name").binary_op("regex_imatch", "^b").to_proto().binary.op
        23
        """
        if isinstance(op, str):
            try:
                op = int(proto.BinaryOperator.Value("BINARY_OPERATOR_" + op.upper()))
            except ValueError:
                valid = ", ".join(
                    n.removeprefix("BINARY_OPERATOR_").lower()
                    for n in proto.BinaryOperator.keys()[1:]
                )
                raise PlanError(f"unknown binary operator {op!r}: valid are {valid}") from None
        return self._binary(op, other)

    def eq(self, other: ExprLike) -> Expr:
        """``self = other``."""
        return self._binary(proto.BINARY_OPERATOR_EQ, other)

    def not_eq(self, other: ExprLike) -> Expr:
        """``self <> other``."""
        return self._binary(proto.BINARY_OPERATOR_NOT_EQ, other)

    def lt(self, other: ExprLike) -> Expr:
        """``self < other``."""
        return self._binary(proto.BINARY_OPERATOR_LT, other)

    def lt_eq(self, other: ExprLike) -> Expr:
        """``self <= other``."""
        return self._binary(proto.BINARY_OPERATOR_LT_EQ, other)

    def gt(self, other: ExprLike) -> Expr:
        """``self > other``."""
        return self._binary(proto.BINARY_OPERATOR_GT, other)

    def gt_eq(self, other: ExprLike) -> Expr:
        """``self >= other``."""
        return self._binary(proto.BINARY_OPERATOR_GT_EQ, other)

    def and_(self, other: ExprLike) -> Expr:
        """``self AND other`` (same as ``self & other``)."""
        return self._binary(proto.BINARY_OPERATOR_AND, other)

    def or_(self, other: ExprLike) -> Expr:
        """``self OR other`` (same as ``self | other``)."""
        return self._binary(proto.BINARY_OPERATOR_OR, other)

    def is_distinct_from(self, other: ExprLike) -> Expr:
        """``self IS DISTINCT FROM other`` (null-safe inequality)."""
        return self._binary(proto.BINARY_OPERATOR_IS_DISTINCT_FROM, other)

    def is_not_distinct_from(self, other: ExprLike) -> Expr:
        """``self IS NOT DISTINCT FROM other`` (null-safe equality)."""
        return self._binary(proto.BINARY_OPERATOR_IS_NOT_DISTINCT_FROM, other)

    def concat(self, other: ExprLike) -> Expr:
        """``self || other`` (string concatenation)."""
        return self._binary(proto.BINARY_OPERATOR_STRING_CONCAT, other)

    def bitwise_and(self, other: ExprLike) -> Expr:
        """``self & other`` on integers."""
        return self._binary(proto.BINARY_OPERATOR_BITWISE_AND, other)

    def bitwise_or(self, other: ExprLike) -> Expr:
        """``self | other`` on integers."""
        return self._binary(proto.BINARY_OPERATOR_BITWISE_OR, other)

    def bitwise_xor(self, other: ExprLike) -> Expr:
        """``self ^ other`` on integers."""
        return self._binary(proto.BINARY_OPERATOR_BITWISE_XOR, other)

    def __eq__(self, other: ExprLike) -> Expr:  # type: ignore[override]
        return self.eq(other)

    def __ne__(self, other: ExprLike) -> Expr:  # type: ignore[override]
        return self.not_eq(other)

    def __lt__(self, other: ExprLike) -> Expr:
        return self.lt(other)

    def __le__(self, other: ExprLike) -> Expr:
        return self.lt_eq(other)

    def __gt__(self, other: ExprLike) -> Expr:
        return self.gt(other)

    def __ge__(self, other: ExprLike) -> Expr:
        return self.gt_eq(other)

    def __and__(self, other: ExprLike) -> Expr:
        return self.and_(other)

    def __rand__(self, other: ExprLike) -> Expr:
        return _expr(other).and_(self)

    def __or__(self, other: ExprLike) -> Expr:
        return self.or_(other)

    def __ror__(self, other: ExprLike) -> Expr:
        return _expr(other).or_(self)

    def __invert__(self) -> Expr:
        return Expr._of(**{"not": self._proto})

    def __xor__(self, other: ExprLike) -> Expr:
        return self.bitwise_xor(other)

    def __lshift__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_BITWISE_SHIFT_LEFT, other)

    def __rshift__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_BITWISE_SHIFT_RIGHT, other)

    def __add__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_PLUS, other)

    def __radd__(self, other: ExprLike) -> Expr:
        return _expr(other) + self

    def __sub__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_MINUS, other)

    def __rsub__(self, other: ExprLike) -> Expr:
        return _expr(other) - self

    def __mul__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_MULTIPLY, other)

    def __rmul__(self, other: ExprLike) -> Expr:
        return _expr(other) * self

    def __truediv__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_DIVIDE, other)

    def __rtruediv__(self, other: ExprLike) -> Expr:
        return _expr(other) / self

    def __mod__(self, other: ExprLike) -> Expr:
        return self._binary(proto.BINARY_OPERATOR_MODULO, other)

    def __rmod__(self, other: ExprLike) -> Expr:
        return _expr(other) % self

    def __neg__(self) -> Expr:
        return Expr._of(negative=self._proto)

    def __bool__(self) -> bool:
        raise TypeError(
            "an Expr has no truth value: use & | ~ instead of and/or/not, and "
            "a.between(lo, hi) instead of lo < a < hi"
        )

    # ---- naming, casts, predicates -------------------------------------

    def alias(self, name: str) -> Expr:
        """Names the expression's output column."""
        return Expr._of(alias=proto.Alias(expression=self._proto, name=name))

    def _cast(self, to: TypeLike, safe: bool) -> Expr:
        return Expr._of(cast=proto.Cast(expression=self._proto, data_type=data_type(to), safe=safe))

    def cast(self, to: TypeLike) -> Expr:
        """``CAST(self AS to)``: fails at run time on values that do not
        convert. ``to`` is a pyarrow type or its name (``"float64"``)."""
        return self._cast(to, False)

    def try_cast(self, to: TypeLike) -> Expr:
        """``TRY_CAST(self AS to)``: NULL for values that do not convert."""
        return self._cast(to, True)

    def _unary(self, kind: int) -> Expr:
        return Expr._of(unary_predicate=proto.UnaryPredicate(kind=kind, expression=self._proto))

    def is_null(self) -> Expr:
        """``self IS NULL``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_NULL)

    def is_not_null(self) -> Expr:
        """``self IS NOT NULL``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_NOT_NULL)

    def is_true(self) -> Expr:
        """``self IS TRUE``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_TRUE)

    def is_false(self) -> Expr:
        """``self IS FALSE``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_FALSE)

    def is_unknown(self) -> Expr:
        """``self IS UNKNOWN``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_UNKNOWN)

    def is_not_true(self) -> Expr:
        """``self IS NOT TRUE``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_NOT_TRUE)

    def is_not_false(self) -> Expr:
        """``self IS NOT FALSE``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_NOT_FALSE)

    def is_not_unknown(self) -> Expr:
        """``self IS NOT UNKNOWN``."""
        return self._unary(proto.UNARY_PREDICATE_KIND_IS_NOT_UNKNOWN)

    def _between(self, low: ExprLike, high: ExprLike, negated: bool) -> Expr:
        return Expr._of(
            between=proto.Between(
                expression=self._proto,
                negated=negated,
                low=_expr(low)._proto,
                high=_expr(high)._proto,
            )
        )

    def between(self, low: ExprLike, high: ExprLike) -> Expr:
        """``self BETWEEN low AND high`` (both bounds inclusive)."""
        return self._between(low, high, False)

    def not_between(self, low: ExprLike, high: ExprLike) -> Expr:
        """``self NOT BETWEEN low AND high``."""
        return self._between(low, high, True)

    def in_list(self, values: Iterable[ExprLike], negated: bool = False) -> Expr:
        """``self IN (values)``, or ``NOT IN`` when ``negated``.

        >>> col("x").in_list([1, 2]).to_proto().in_list.list[1].literal.int64_value
        2
        """
        return Expr._of(
            in_list=proto.InList(
                expression=self._proto, list=[_expr(v)._proto for v in values], negated=negated
            )
        )

    def isin(self, *values: ExprLike) -> Expr:
        """``self IN (values...)`` (PySpark's spelling of :meth:`in_list`)."""
        return self.in_list(values)

    def _like(self, pattern: ExprLike, negated: bool, kind: int) -> Expr:
        return Expr._of(
            like=proto.Like(
                expression=self._proto, pattern=_expr(pattern)._proto, negated=negated, kind=kind
            )
        )

    def like(self, pattern: ExprLike) -> Expr:
        """``self LIKE pattern`` (``%`` any string, ``_`` any character)."""
        return self._like(pattern, False, proto.LIKE_KIND_UNSPECIFIED)

    def not_like(self, pattern: ExprLike) -> Expr:
        """``self NOT LIKE pattern``."""
        return self._like(pattern, True, proto.LIKE_KIND_UNSPECIFIED)

    def ilike(self, pattern: ExprLike) -> Expr:
        """``self ILIKE pattern`` (case-insensitive LIKE)."""
        return self._like(pattern, False, proto.LIKE_KIND_ILIKE)

    def not_ilike(self, pattern: ExprLike) -> Expr:
        """``self NOT ILIKE pattern``."""
        return self._like(pattern, True, proto.LIKE_KIND_ILIKE)

    def similar_to(self, pattern: ExprLike) -> Expr:
        """``self SIMILAR TO pattern`` (SQL regular expression)."""
        return self._like(pattern, False, proto.LIKE_KIND_SIMILAR_TO)

    def _in_subquery(self, subquery: DataFrame, negated: bool) -> Expr:
        return Expr._of(
            in_subquery=proto.InSubquery(
                expression=self._proto, subquery=subquery._plan, negated=negated
            )
        )

    def in_subquery(self, subquery: DataFrame) -> Expr:
        """``self IN (subquery)``; the subquery must have one column."""
        return self._in_subquery(subquery, False)

    def not_in_subquery(self, subquery: DataFrame) -> Expr:
        """``self NOT IN (subquery)``."""
        return self._in_subquery(subquery, True)

    # ---- sorting, aggregates, windows ----------------------------------

    def sort(self, ascending: bool = True, nulls_first: bool = False) -> SortKey:
        """A sort key with explicit direction and null placement."""
        return SortKey(
            proto.SortOrder(
                expression=self._proto,
                options=proto.SortOptions(descending=not ascending, nulls_first=nulls_first),
            )
        )

    def asc(self) -> SortKey:
        """A sort key: ascending, nulls last."""
        return self.sort(True, False)

    def desc(self) -> SortKey:
        """A sort key: descending, nulls first (SQL's default: NULL sorts as
        the largest value in both directions)."""
        return self.sort(False, True)

    def _edit_aggregate(self, what: str) -> Any:
        if self._proto.WhichOneof("expr_type") != "aggregate_function":
            raise PlanError(
                f"{what}() applies to an aggregate function call such as sum(..), got {self}"
            )
        return self.to_proto()

    def filter(self, condition: ExprLike) -> Expr:
        """Adds ``FILTER (WHERE condition)`` to an aggregate function call.

        >>> from ballista.functions import sum
        >>> sum(col("x")).filter(col("ok")).to_proto().aggregate_function.HasField("filter")
        True
        """
        e = self._edit_aggregate("filter")
        e.aggregate_function.filter.CopyFrom(_expr(condition)._proto)
        return Expr(e)

    def order_by(self, *keys: SortKey | Expr | str) -> Expr:
        """Adds ``ORDER BY keys`` inside an aggregate function call (for
        order-sensitive aggregates such as ``array_agg`` or ``last_value``)."""
        e = self._edit_aggregate("order_by")
        del e.aggregate_function.order_by[:]
        e.aggregate_function.order_by.extend(sort_key(k)._proto for k in keys)
        return Expr(e)

    def over(self, window: Window | None = None) -> Expr:
        """Evaluates this function over a window: ``self OVER (window)``.

        ``self`` must be a window function (``row_number()``, ``rank()``,
        ...), an aggregate function (``sum(x)``) or a function call by name.
        """
        window = window or Window()
        kind = self._proto.WhichOneof("expr_type")
        if kind == "window_function":
            function = proto.WindowFunction()
            function.CopyFrom(self._proto.window_function)
        elif kind == "aggregate_function":
            a = self._proto.aggregate_function
            function = proto.WindowFunction(
                name=a.name, arguments=a.arguments, ignore_nulls=a.ignore_nulls, distinct=a.distinct
            )
        elif kind == "scalar_function":
            f = self._proto.scalar_function
            function = proto.WindowFunction(name=f.name, arguments=f.arguments)
        else:
            raise PlanError(
                f"over() applies to a window, aggregate or named function call, got {self}"
            )
        del function.partition_by[:]
        function.partition_by.extend(window._partition_by)
        del function.order_by[:]
        function.order_by.extend(window._order_by)
        function.ClearField("frame")
        if window._frame is not None:
            function.frame.CopyFrom(window._frame)
        return Expr._of(window_function=function)

    # ---- display --------------------------------------------------------

    def __repr__(self) -> str:
        return _show(self._proto)

    def __str__(self) -> str:
        return _show(self._proto)


def _literal_text(lit_: Any) -> str:
    kind = lit_.WhichOneof("value")
    if kind is None:
        return "lit()"
    if kind == "null_value":
        return "lit(None)"
    value = getattr(lit_, kind)
    if isinstance(value, (int, float, str, bool, bytes)):
        return f"lit({value!r})"
    return f"lit({kind})"


def _show(e: Any) -> str:
    """A short, Python-like rendering of an expression for repr()."""
    kind = e.WhichOneof("expr_type")
    if kind == "column":
        name = ".".join([*e.column.qualifier, e.column.name])
        return f"col({name!r})"
    if kind == "literal":
        return _literal_text(e.literal)
    if kind == "alias":
        return f"{_show(e.alias.expression)}.alias({e.alias.name!r})"
    if kind == "binary":
        b = e.binary
        symbol = _SYMBOLS.get(b.op) or proto.BinaryOperator.Name(b.op).removeprefix(
            "BINARY_OPERATOR_"
        ).lower()

        def side(x: Any) -> str:
            text = _show(x)
            return f"({text})" if x.WhichOneof("expr_type") == "binary" else text

        return f"{side(b.left)} {symbol} {side(b.right)}"
    if kind in ("scalar_function", "aggregate_function", "window_function"):
        f = getattr(e, kind)
        args = ", ".join(_show(a) for a in f.arguments)
        return f"{f.name}({args})" + (".over(...)" if kind == "window_function" else "")
    if kind == "udf":
        args = ", ".join(_show(a) for a in e.udf.arguments)
        return f"{e.udf.function.name}({args})"
    if kind == "not":
        return f"~({_show(getattr(e, 'not'))})"
    if kind == "negative":
        return f"-({_show(e.negative)})"
    if kind == "wildcard":
        return "wildcard()"
    return f"<{kind}>"


class SortKey:
    """A sort key: an expression with direction and null placement, built
    with :meth:`Expr.asc`, :meth:`Expr.desc` or :meth:`Expr.sort`."""

    __slots__ = ("_proto",)

    def __init__(self, order: Any) -> None:
        """Wraps a spec ``SortOrder`` message."""
        self._proto = order

    def nulls_first(self) -> SortKey:
        """Puts nulls before non-null values."""
        o = proto.SortOrder()
        o.CopyFrom(self._proto)
        o.options.nulls_first = True
        return SortKey(o)

    def nulls_last(self) -> SortKey:
        """Puts nulls after non-null values."""
        o = proto.SortOrder()
        o.CopyFrom(self._proto)
        o.options.nulls_first = False
        return SortKey(o)

    def to_proto(self) -> Any:
        """The spec ``SortOrder`` (a copy)."""
        o = proto.SortOrder()
        o.CopyFrom(self._proto)
        return o

    def to_expr(self) -> Expr:
        """The sort key as an expression, for function arguments that take
        one (e.g. ``first_value(x ORDER BY y)`` written as arguments)."""
        return Expr._of(sort_order=self._proto)

    def __repr__(self) -> str:
        o = self._proto.options
        return (
            f"{_show(self._proto.expression)}.sort(ascending={not o.descending}, "
            f"nulls_first={o.nulls_first})"
        )


def sort_key(key: SortKey | Expr | str) -> SortKey:
    """A sort key from a key, an expression (ascending) or a column name."""
    if isinstance(key, SortKey):
        return key
    if isinstance(key, str):
        return col(key).asc()
    if isinstance(key, Expr):
        return key.asc()
    raise TypeError(f"expected a sort key, an Expr or a column name, got {key!r}")


class FrameBound:
    """One end of a window frame: use the constants
    :data:`UNBOUNDED_PRECEDING`, :data:`CURRENT_ROW`,
    :data:`UNBOUNDED_FOLLOWING` or :func:`FrameBound.preceding` /
    :func:`FrameBound.following` ``(n)``."""

    __slots__ = ("_proto",)

    def __init__(self, bound: Any) -> None:
        """Wraps a spec ``WindowFrameBound``."""
        self._proto = bound

    @staticmethod
    def _offset(n: int | None) -> Any:
        # The spec writes "unbounded" as a null literal; the offset of a
        # ROWS/GROUPS frame is an unsigned integer.
        if n is None:
            return proto.Literal(null_value=proto.DataType(uint64=proto.EmptyType()))
        if n < 0:
            raise PlanError(f"a frame offset counts rows and must be >= 0, got {n}")
        return proto.Literal(uint64_value=n)

    @classmethod
    def preceding(cls, n: int | None = None) -> FrameBound:
        """``n PRECEDING`` (``UNBOUNDED PRECEDING`` when ``n`` is None)."""
        return cls(proto.WindowFrameBound(preceding=cls._offset(n)))

    @classmethod
    def following(cls, n: int | None = None) -> FrameBound:
        """``n FOLLOWING`` (``UNBOUNDED FOLLOWING`` when ``n`` is None)."""
        return cls(proto.WindowFrameBound(following=cls._offset(n)))

    @classmethod
    def current_row(cls) -> FrameBound:
        """``CURRENT ROW``."""
        return cls(proto.WindowFrameBound(current_row=proto.EmptyType()))


#: ``UNBOUNDED PRECEDING``.
UNBOUNDED_PRECEDING = FrameBound.preceding(None)
#: ``CURRENT ROW``.
CURRENT_ROW = FrameBound.current_row()
#: ``UNBOUNDED FOLLOWING``.
UNBOUNDED_FOLLOWING = FrameBound.following(None)


class Window:
    """A window specification: ``PARTITION BY .. ORDER BY .. [frame]``.

    >>> from ballista.functions import sum
    >>> w = Window().partition_by("k").order_by(col("t").asc())
    >>> sum(col("x")).over(w.rows_between(UNBOUNDED_PRECEDING, CURRENT_ROW)).alias("running")
    sum(col('x')).over(...).alias('running')
    """

    __slots__ = ("_partition_by", "_order_by", "_frame")

    def __init__(self) -> None:
        """An empty window: the whole input is one partition."""
        self._partition_by: list[Any] = []
        self._order_by: list[Any] = []
        self._frame: Any = None

    def _copy(self) -> Window:
        w = Window()
        w._partition_by = list(self._partition_by)
        w._order_by = list(self._order_by)
        w._frame = self._frame
        return w

    def partition_by(self, *exprs: Expr | str) -> Window:
        """Sets ``PARTITION BY exprs`` (column names or expressions)."""
        w = self._copy()
        w._partition_by = [_column_or_expr(e)._proto for e in exprs]
        return w

    def order_by(self, *keys: SortKey | Expr | str) -> Window:
        """Sets ``ORDER BY keys``."""
        w = self._copy()
        w._order_by = [sort_key(k)._proto for k in keys]
        return w

    def _with_frame(self, units: int, start: FrameBound, end: FrameBound) -> Window:
        w = self._copy()
        w._frame = proto.WindowFrame(units=units, start=start._proto, end=end._proto)
        return w

    def rows_between(self, start: FrameBound, end: FrameBound) -> Window:
        """Sets a ``ROWS BETWEEN start AND end`` frame."""
        return self._with_frame(proto.WINDOW_FRAME_UNITS_UNSPECIFIED, start, end)

    def range_between(self, start: FrameBound, end: FrameBound) -> Window:
        """Sets a ``RANGE BETWEEN start AND end`` frame."""
        return self._with_frame(proto.WINDOW_FRAME_UNITS_RANGE, start, end)


# ---- free functions ----------------------------------------------------------


def _column_ref(qualifier: str | None, name: str) -> Any:
    return proto.ColumnRef(name=name, qualifier=[qualifier] if qualifier is not None else [])


def col(name: str) -> Expr:
    """A column of the input, by name. The name is taken as it is: a dot is
    part of the name (use :func:`qualified_col` for ``t.x``).

    >>> col("x").to_proto().column.name
    'x'
    """
    return Expr._of(column=_column_ref(None, name))


def qualified_col(qualifier: str, name: str) -> Expr:
    """A column qualified by a table name or alias, as ``t.x`` in SQL."""
    return Expr._of(column=_column_ref(qualifier, name))


def outer_col(qualifier: str, name: str) -> Expr:
    """A column of the enclosing query, for correlated subqueries."""
    return Expr._of(outer_column=_column_ref(qualifier, name))


def wildcard(qualifier: str | None = None) -> Expr:
    """``*`` (every column of the input), or ``qualifier.*``."""
    return Expr._of(wildcard=proto.Wildcard(qualifier=[qualifier] if qualifier else []))


def qualified_wildcard(qualifier: str) -> Expr:
    """``qualifier.*``: every column of one input relation."""
    return wildcard(qualifier)


def placeholder(id: str) -> Expr:
    """A query parameter placeholder such as ``$1``."""
    return Expr._of(placeholder=id)


_INT_KINDS = {
    "int8": "int8_value",
    "int16": "int16_value",
    "int32": "int32_value",
    "int64": "int64_value",
    "uint8": "uint8_value",
    "uint16": "uint16_value",
    "uint32": "uint32_value",
    "uint64": "uint64_value",
}


def _value(**kind: Any) -> Expr:
    return Expr._of(literal=proto.Literal(**kind))


def _decimal_parts(value: _decimal.Decimal) -> tuple[int, int, int]:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise PlanError(f"cannot write {value} as a decimal literal")
    scale = max(-exponent, 0)
    unscaled = int(value.scaleb(scale))
    precision = max(len(digits) + max(exponent, 0), scale, 1)
    return unscaled, precision, scale


def lit(value: Any, type: TypeLike | None = None) -> Expr:
    """A literal value.

    Python values map to the Arrow type of the same meaning: ``bool`` ->
    Boolean, ``int`` -> Int64, ``float`` -> Float64, ``str`` -> Utf8,
    ``bytes`` -> Binary, ``decimal.Decimal`` -> Decimal128, ``date`` ->
    Date32, ``datetime`` -> Timestamp(us, its tz), ``time`` -> Time64(us),
    ``timedelta`` -> Duration(us), ``None`` -> NULL. ``type`` (a pyarrow
    type or name) picks another width: ``lit(8, "int8")``, ``lit(None, "utf8")``.

    >>> lit(5).to_proto().literal.int64_value
    5
    >>> lit(0.25, "float32").to_proto().literal.WhichOneof("value")
    'float32_value'
    """
    if isinstance(value, Expr):
        return value
    if isinstance(value, SortKey):
        return value.to_expr()
    arrow_type = None
    if type is not None:
        arrow_type = pa.type_for_alias(type) if isinstance(type, str) else type
    if value is None:
        return lit_null(arrow_type if arrow_type is not None else pa.null())
    if arrow_type is not None:
        name = str(arrow_type)
        if name in _INT_KINDS and isinstance(value, int) and not isinstance(value, bool):
            return _value(**{_INT_KINDS[name]: value})
        if pa.types.is_float32(arrow_type):
            return _value(float32_value=float(value))
        if pa.types.is_float64(arrow_type):
            return _value(float64_value=float(value))
        if pa.types.is_float16(arrow_type):
            return _value(float16_value=float(value))
        if pa.types.is_large_string(arrow_type):
            return _value(large_utf8_value=str(value))
        if pa.types.is_string_view(arrow_type):
            return _value(utf8_view_value=str(value))
        if pa.types.is_decimal(arrow_type):
            d = _decimal.Decimal(value).scaleb(arrow_type.scale)
            return lit_decimal(int(d), arrow_type.precision, arrow_type.scale)
        # Anything else: the value as it is, cast to the type.
        return lit(value).cast(arrow_type)
    if isinstance(value, bool):
        return _value(bool_value=value)
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise PlanError(f"{value} does not fit a 64-bit integer literal; use lit(v, 'uint64')")
        return _value(int64_value=value)
    if isinstance(value, float):
        return _value(float64_value=value)
    if isinstance(value, str):
        return _value(utf8_value=value)
    if isinstance(value, (bytes, bytearray)):
        return _value(binary_value=bytes(value))
    if isinstance(value, _decimal.Decimal):
        unscaled, precision, scale = _decimal_parts(value)
        return lit_decimal(unscaled, precision, scale)
    if isinstance(value, _dt.datetime):
        micros = _epoch_micros(value)
        tz = None
        if value.tzinfo is not None:
            tz = getattr(value.tzinfo, "key", None) or value.strftime("%:z")
        return lit_timestamp(micros, "us", tz)
    if isinstance(value, _dt.date):
        return lit_date(value.year, value.month, value.day)
    if isinstance(value, _dt.time):
        us = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond
        return lit_time(us, "us")
    if isinstance(value, _dt.timedelta):
        return lit_duration((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds, "us")
    raise PlanError(f"cannot make a literal of {value!r} ({value.__class__.__name__})")


def _epoch_micros(value: _dt.datetime) -> int:
    if value.tzinfo is None:
        delta = value - _dt.datetime(1970, 1, 1)
    else:
        delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def lit_null(type: TypeLike) -> Expr:
    """A typed NULL: ``lit_null("utf8")``."""
    return _value(null_value=data_type(type))


def lit_decimal(unscaled: int, precision: int, scale: int) -> Expr:
    """A Decimal128 literal ``unscaled * 10^-scale``: ``lit_decimal(1250, 5, 2)``
    is ``125.00`` as ``DECIMAL(5, 2)``."""
    return _value(
        decimal_value=proto.DecimalValue(
            unscaled=str(unscaled), precision=precision, scale=scale, bit_width=128
        )
    )


def lit_date(year: int, month: int, day: int) -> Expr:
    """A Date32 literal.

    >>> lit_date(2024, 2, 29).to_proto().literal.date32_value
    19782
    """
    return _value(date32_value=(_dt.date(year, month, day) - _dt.date(1970, 1, 1)).days)


def lit_timestamp(value: int, unit: str = "us", timezone: str | None = None) -> Expr:
    """A timestamp literal: ``value`` ticks of ``unit`` (``"s"``, ``"ms"``,
    ``"us"``, ``"ns"``) since the UNIX epoch, in ``timezone`` (an IANA name
    or offset) or wall-clock when None."""
    ts = proto.TimestampValue(value=value, unit=time_unit(unit))
    if timezone is not None:
        ts.timezone = timezone
    return _value(timestamp_value=ts)


def lit_time(value: int, unit: str = "us") -> Expr:
    """A time-of-day literal: ``value`` ticks of ``unit`` since midnight."""
    return _value(time_value=proto.TimeValue(value=value, unit=time_unit(unit)))


def lit_duration(value: int, unit: str = "us") -> Expr:
    """A duration literal of ``value`` ticks of ``unit``."""
    return _value(duration_value=proto.DurationValue(value=value, unit=time_unit(unit)))


def lit_interval(months: int = 0, days: int = 0, nanoseconds: int = 0) -> Expr:
    """A MonthDayNano interval literal (SQL's ``INTERVAL '1 month 2 days'``)."""
    return _value(
        interval_month_day_nano_value=proto.IntervalMonthDayNano(
            months=months, days=days, nanoseconds=nanoseconds
        )
    )


def lit_interval_year_month(months: int) -> Expr:
    """A YearMonth interval literal of whole months."""
    return _value(interval_year_month_value=months)


def lit_interval_day_time(days: int, milliseconds: int = 0) -> Expr:
    """A DayTime interval literal."""
    return _value(
        interval_day_time_value=proto.IntervalDayTime(days=days, milliseconds=milliseconds)
    )


def cast(expr: ExprLike, to: TypeLike) -> Expr:
    """``CAST(expr AS to)``; see :meth:`Expr.cast`."""
    return _expr(expr).cast(to)


def try_cast(expr: ExprLike, to: TypeLike) -> Expr:
    """``TRY_CAST(expr AS to)``; see :meth:`Expr.try_cast`."""
    return _expr(expr).try_cast(to)


def call(name: str, *arguments: ExprLike) -> Expr:
    """A scalar function call by name, resolved by the scheduler
    (case-insensitively): ``call("upper", col("name"))``."""
    return Expr._of(
        scalar_function=proto.FunctionCall(name=name, arguments=[_expr(a)._proto for a in arguments])
    )


def call_aggregate(name: str, *arguments: ExprLike, distinct: bool = False) -> Expr:
    """An aggregate function call by name: ``call_aggregate("sum", col("x"))``."""
    return Expr._of(
        aggregate_function=proto.AggregateFunction(
            name=name, arguments=[_expr(a)._proto for a in arguments], distinct=distinct
        )
    )


def call_window(name: str, *arguments: ExprLike) -> Expr:
    """A window function call by name; give it a window with :meth:`Expr.over`."""
    return Expr._of(
        window_function=proto.WindowFunction(name=name, arguments=[_expr(a)._proto for a in arguments])
    )


def not_(expr: ExprLike) -> Expr:
    """``NOT expr`` (same as ``~expr``)."""
    return ~_expr(expr)


def exists(subquery: DataFrame) -> Expr:
    """``EXISTS (subquery)``."""
    return Expr._of(exists=proto.Exists(subquery=subquery._plan, negated=False))


def not_exists(subquery: DataFrame) -> Expr:
    """``NOT EXISTS (subquery)``."""
    return Expr._of(exists=proto.Exists(subquery=subquery._plan, negated=True))


def scalar_subquery(subquery: DataFrame) -> Expr:
    """``(subquery)`` as a value: one column, at most one row."""
    return Expr._of(scalar_subquery=proto.ScalarSubquery(subquery=subquery._plan))


class Case:
    """A CASE expression being built; finish it with :meth:`otherwise` or
    :meth:`end`."""

    __slots__ = ("_operand", "_branches")

    def __init__(self, operand: Expr | None = None) -> None:
        """A CASE with an optional operand (simple CASE)."""
        self._operand = operand
        self._branches: list[Any] = []

    def when(self, condition: ExprLike, value: ExprLike | None = None) -> Any:
        """Adds a ``WHEN condition``; give its value with ``.then(value)``,
        or directly as ``value`` (PySpark's ``when(cond, value)``)."""
        pending = When(self, _expr(condition))
        return pending if value is None else pending.then(value)

    def otherwise(self, value: ExprLike) -> Expr:
        """Finishes the CASE with ``ELSE value``."""
        return self._build(_expr(value))

    def end(self) -> Expr:
        """Finishes the CASE without ELSE (NULL when no branch matches)."""
        return self._build(None)

    def _build(self, else_result: Expr | None) -> Expr:
        c = proto.Case(when_then=self._branches)
        if self._operand is not None:
            c.operand.CopyFrom(self._operand._proto)
        if else_result is not None:
            c.else_result.CopyFrom(else_result._proto)
        return Expr._of(case=c)


class When:
    """A CASE branch waiting for its :meth:`then` value."""

    __slots__ = ("_case", "_condition")

    def __init__(self, case: Case, condition: Expr) -> None:
        """A pending branch of ``case``."""
        self._case = case
        self._condition = condition

    def then(self, value: ExprLike) -> Case:
        """The value of this branch."""
        c = Case(self._case._operand)
        c._branches = [
            *self._case._branches,
            proto.WhenThen(when=self._condition._proto, then=_expr(value)._proto),
        ]
        return c


def when(condition: ExprLike, value: ExprLike | None = None) -> Any:
    """Starts a searched ``CASE WHEN .. THEN .. [ELSE ..] END``:
    ``when(c1).then(v1).when(c2).then(v2).otherwise(v3)`` (or PySpark's
    ``when(c1, v1).when(c2, v2).otherwise(v3)``).

    >>> when(col("x") > 0, "pos").otherwise("neg").to_proto().WhichOneof("expr_type")
    'case'
    """
    return Case(None).when(condition, value)


def case(operand: ExprLike) -> Case:
    """Starts a simple ``CASE operand WHEN value THEN .. END``."""
    return Case(_expr(operand))


def _expr(value: Any) -> Expr:
    """An expression from an :class:`Expr`, a :class:`SortKey` or a literal."""
    if isinstance(value, Expr):
        return value
    return lit(value)


def _column_or_expr(value: Expr | str) -> Expr:
    """An expression from an :class:`Expr` or a column name (DataFrame
    methods read strings as column names, as PySpark and Polars do)."""
    if isinstance(value, str):
        return col(value)
    if isinstance(value, Expr):
        return value
    raise TypeError(f"expected an Expr or a column name, got {value!r}")

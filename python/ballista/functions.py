"""Common SQL functions by name: thin shorthands for :func:`call`,
:func:`call_aggregate` and :func:`call_window`.

Each function only names the call; the scheduler resolves the name against
its registry (DataFusion's functions), so a function missing here is still
reachable with :func:`call`. The names and argument conventions are those of
the Rust builder (``ballista_client::functions``); Python values become
literals, use :func:`ballista.col` for columns. Like PySpark's
``pyspark.sql.functions``, some names (``sum``, ``min``, ``max``, ``abs``,
``round``) shadow builtins: import the module, ``from ballista import
functions as F``.

>>> from ballista import col, functions as F
>>> F.sum(col("amount")).alias("total")
sum(col('amount')).alias('total')
>>> F.count_all()
count(lit(1))

This module must not grow logic beyond building calls.
"""

from __future__ import annotations

from ballista.expr import Expr, ExprLike, call, call_aggregate, call_window, lit

__all__ = [
    "abs",
    "array_agg",
    "avg",
    "call",
    "call_aggregate",
    "call_window",
    "ceil",
    "coalesce",
    "concat",
    "count",
    "count_all",
    "count_distinct",
    "cume_dist",
    "date_part",
    "date_trunc",
    "dense_rank",
    "ends_with",
    "exp",
    "first_value",
    "floor",
    "lag",
    "last_value",
    "lead",
    "length",
    "ln",
    "log10",
    "lower",
    "ltrim",
    "max",
    "mean",
    "median",
    "min",
    "ntile",
    "nullif",
    "percent_rank",
    "power",
    "rank",
    "regexp_replace",
    "replace",
    "round",
    "row_number",
    "rtrim",
    "sqrt",
    "starts_with",
    "stddev",
    "strpos",
    "substr",
    "substring",
    "sum",
    "to_date",
    "trim",
    "upper",
    "variance",
]

# ---- aggregates -----------------------------------------------------------


def sum(expr: ExprLike) -> Expr:
    """``sum(expr)``."""
    return call_aggregate("sum", expr)


def avg(expr: ExprLike) -> Expr:
    """``avg(expr)``."""
    return call_aggregate("avg", expr)


def mean(expr: ExprLike) -> Expr:
    """``avg(expr)`` (the pandas/Polars name)."""
    return avg(expr)


def min(expr: ExprLike) -> Expr:
    """``min(expr)``."""
    return call_aggregate("min", expr)


def max(expr: ExprLike) -> Expr:
    """``max(expr)``."""
    return call_aggregate("max", expr)


def count(expr: ExprLike) -> Expr:
    """``count(expr)``: the number of non-null values."""
    return call_aggregate("count", expr)


def count_all() -> Expr:
    """``count(*)``: the number of rows, written ``count(1)`` as every engine
    reads it."""
    return call_aggregate("count", lit(1))


def count_distinct(expr: ExprLike) -> Expr:
    """``count(DISTINCT expr)``."""
    return call_aggregate("count", expr, distinct=True)


def array_agg(expr: ExprLike) -> Expr:
    """``array_agg(expr)``: the values of each group as a list."""
    return call_aggregate("array_agg", expr)


def first_value(expr: ExprLike) -> Expr:
    """``first_value(expr)``; order it with ``.order_by(..)``."""
    return call_aggregate("first_value", expr)


def last_value(expr: ExprLike) -> Expr:
    """``last_value(expr)``; order it with ``.order_by(..)``."""
    return call_aggregate("last_value", expr)


def median(expr: ExprLike) -> Expr:
    """``median(expr)``."""
    return call_aggregate("median", expr)


def stddev(expr: ExprLike) -> Expr:
    """``stddev(expr)`` (sample standard deviation)."""
    return call_aggregate("stddev", expr)


def variance(expr: ExprLike) -> Expr:
    """``var(expr)`` (sample variance)."""
    return call_aggregate("var", expr)


# ---- strings --------------------------------------------------------------


def substr(expr: ExprLike, start: ExprLike) -> Expr:
    """``substr(expr, start)``: the rest of the string from 1-based ``start``."""
    return call("substr", expr, start)


def substring(expr: ExprLike, start: ExprLike, length: ExprLike) -> Expr:
    """``substr(expr, start, length)``."""
    return call("substr", expr, start, length)


def upper(expr: ExprLike) -> Expr:
    """``upper(expr)``."""
    return call("upper", expr)


def lower(expr: ExprLike) -> Expr:
    """``lower(expr)``."""
    return call("lower", expr)


def trim(expr: ExprLike) -> Expr:
    """``trim(expr)``: removes leading and trailing spaces."""
    return call("btrim", expr)


def ltrim(expr: ExprLike) -> Expr:
    """``ltrim(expr)``: removes leading spaces."""
    return call("ltrim", expr)


def rtrim(expr: ExprLike) -> Expr:
    """``rtrim(expr)``: removes trailing spaces."""
    return call("rtrim", expr)


def length(expr: ExprLike) -> Expr:
    """``length(expr)``: the number of characters."""
    return call("character_length", expr)


def concat(*args: ExprLike) -> Expr:
    """``concat(args..)``: concatenation that skips NULL arguments."""
    return call("concat", *args)


def strpos(expr: ExprLike, substring: ExprLike) -> Expr:
    """``strpos(expr, substring)``: 1-based position, 0 when absent."""
    return call("strpos", expr, substring)


def replace(expr: ExprLike, from_: ExprLike, to: ExprLike) -> Expr:
    """``replace(expr, from, to)``: every occurrence."""
    return call("replace", expr, from_, to)


def regexp_replace(expr: ExprLike, pattern: ExprLike, replacement: ExprLike) -> Expr:
    """``regexp_replace(expr, pattern, replacement)`` (first match)."""
    return call("regexp_replace", expr, pattern, replacement)


def starts_with(expr: ExprLike, prefix: ExprLike) -> Expr:
    """``starts_with(expr, prefix)``."""
    return call("starts_with", expr, prefix)


def ends_with(expr: ExprLike, suffix: ExprLike) -> Expr:
    """``ends_with(expr, suffix)``."""
    return call("ends_with", expr, suffix)


# ---- dates ----------------------------------------------------------------


def date_part(part: str, expr: ExprLike) -> Expr:
    """``date_part(part, expr)``, e.g. ``date_part("year", col("d"))``."""
    return call("date_part", lit(part), expr)


def date_trunc(part: str, expr: ExprLike) -> Expr:
    """``date_trunc(part, expr)``, e.g. ``date_trunc("month", col("ts"))``."""
    return call("date_trunc", lit(part), expr)


def to_date(expr: ExprLike) -> Expr:
    """``to_date(expr)``: a string as a date."""
    return call("to_date", expr)


# ---- nulls and math -------------------------------------------------------


def coalesce(*args: ExprLike) -> Expr:
    """``coalesce(args..)``: the first non-null argument."""
    return call("coalesce", *args)


def nullif(a: ExprLike, b: ExprLike) -> Expr:
    """``nullif(a, b)``: NULL if ``a = b``, else ``a``."""
    return call("nullif", a, b)


def round(expr: ExprLike, digits: int = 0) -> Expr:
    """``round(expr, digits)``."""
    return call("round", expr, lit(digits))


def abs(expr: ExprLike) -> Expr:
    """``abs(expr)``."""
    return call("abs", expr)


def sqrt(expr: ExprLike) -> Expr:
    """``sqrt(expr)``."""
    return call("sqrt", expr)


def floor(expr: ExprLike) -> Expr:
    """``floor(expr)``."""
    return call("floor", expr)


def ceil(expr: ExprLike) -> Expr:
    """``ceil(expr)``."""
    return call("ceil", expr)


def exp(expr: ExprLike) -> Expr:
    """``exp(expr)``."""
    return call("exp", expr)


def ln(expr: ExprLike) -> Expr:
    """``ln(expr)``."""
    return call("ln", expr)


def log10(expr: ExprLike) -> Expr:
    """``log10(expr)``."""
    return call("log10", expr)


def power(base: ExprLike, exponent: ExprLike) -> Expr:
    """``power(base, exponent)``."""
    return call("power", base, exponent)


# ---- window functions -----------------------------------------------------


def row_number() -> Expr:
    """``row_number()``: 1, 2, 3... within each window partition."""
    return call_window("row_number")


def rank() -> Expr:
    """``rank()``: rank with gaps after ties."""
    return call_window("rank")


def dense_rank() -> Expr:
    """``dense_rank()``: rank without gaps."""
    return call_window("dense_rank")


def percent_rank() -> Expr:
    """``percent_rank()``."""
    return call_window("percent_rank")


def cume_dist() -> Expr:
    """``cume_dist()``."""
    return call_window("cume_dist")


def ntile(n: int) -> Expr:
    """``ntile(n)``: the bucket 1..n of each row."""
    return call_window("ntile", lit(n))


def lag(expr: ExprLike, offset: int = 1) -> Expr:
    """``lag(expr, offset)``: the value ``offset`` rows before, NULL if none."""
    return call_window("lag", expr, lit(offset))


def lead(expr: ExprLike, offset: int = 1) -> Expr:
    """``lead(expr, offset)``: the value ``offset`` rows after, NULL if none."""
    return call_window("lead", expr, lit(offset))


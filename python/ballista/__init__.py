"""Ballista's Python client: DataFrames and SQL on a distributed Arrow
Flight cluster.

The distribution is named ``ballista`` (this project's, not Apache
DataFusion's package of the same name).

>>> import ballista
>>> from ballista import col, functions as F
>>> with ballista.standalone() as ctx:
...     df = ctx.values([[1, "a"], [2, "b"], [3, "a"]], ["n", "k"])
...     out = df.filter(col("n") > 1).group_by("k").agg(F.sum(col("n")).alias("total"))
...     out.sort("k").to_arrow().to_pydict()
{'k': ['a', 'b'], 'total': [3, 2]}

- :func:`connect` / :func:`standalone` give a :class:`BallistaContext`;
- :class:`DataFrame` builds plans; :mod:`ballista.expr` and
  :mod:`ballista.functions` build expressions; :mod:`ballista.proto` holds
  the spec's message classes (``df.plan()`` returns one);
- errors are the exceptions of :mod:`ballista.errors`.
"""

from ballista import functions, proto
from ballista._native import __version__
from ballista.context import BallistaContext, connect, standalone
from ballista.dataframe import DataFrame, GroupBy
from ballista.errors import (
    BallistaError,
    CancelledError,
    ExecutionError,
    NotFoundError,
    PlanError,
    ResourcesExhaustedError,
    UnavailableError,
    UnsupportedError,
)
from ballista.expr import (
    CURRENT_ROW,
    UNBOUNDED_FOLLOWING,
    UNBOUNDED_PRECEDING,
    Expr,
    FrameBound,
    SortKey,
    Window,
    call,
    call_aggregate,
    call_window,
    case,
    cast,
    col,
    exists,
    lit,
    lit_date,
    lit_decimal,
    lit_duration,
    lit_interval,
    lit_interval_day_time,
    lit_interval_year_month,
    lit_null,
    lit_time,
    lit_timestamp,
    not_,
    not_exists,
    outer_col,
    placeholder,
    qualified_col,
    qualified_wildcard,
    scalar_subquery,
    try_cast,
    when,
    wildcard,
)

from ballista.udf import UserDefinedFunction, udf

__all__ = [
    "CURRENT_ROW",
    "UNBOUNDED_FOLLOWING",
    "UNBOUNDED_PRECEDING",
    "BallistaContext",
    "BallistaError",
    "CancelledError",
    "DataFrame",
    "ExecutionError",
    "Expr",
    "FrameBound",
    "GroupBy",
    "NotFoundError",
    "PlanError",
    "ResourcesExhaustedError",
    "SortKey",
    "UnavailableError",
    "UnsupportedError",
    "UserDefinedFunction",
    "Window",
    "__version__",
    "call",
    "call_aggregate",
    "call_window",
    "case",
    "cast",
    "col",
    "connect",
    "exists",
    "functions",
    "lit",
    "lit_date",
    "lit_decimal",
    "lit_duration",
    "lit_interval",
    "lit_interval_day_time",
    "lit_interval_year_month",
    "lit_null",
    "lit_time",
    "lit_timestamp",
    "not_",
    "not_exists",
    "outer_col",
    "placeholder",
    "proto",
    "qualified_col",
    "qualified_wildcard",
    "scalar_subquery",
    "standalone",
    "try_cast",
    "udf",
    "when",
    "wildcard",
]

"""User-defined functions in Python, run by the executors in worker
processes: vectorised scalar functions (:func:`udf`) and batch functions
(:meth:`ballista.DataFrame.map_batches`).

A function travels in the plan as the spec's ``UdfDefinition``: language
``python``, a cloudpickle payload and the Python version that pickled it.
Executors run it in a pool of worker processes (``ballista/_worker.py``)
with their configured interpreter (``ballista executor --python PATH``;
for :func:`ballista.standalone`, this interpreter), exchanging Arrow
batches; see ``docs/udf-workers.md``.

>>> import pyarrow as pa, pyarrow.compute as pc
>>> from ballista import udf, col
>>> @udf(return_type=pa.int64())
... def plus_one(x: pa.Array) -> pa.Array:
...     return pc.add(x, 1)
>>> plus_one(col("n")).to_proto().udf.function.language
'python'

Functions defined in ``__main__`` or in a module that is not installed
(a script, a test file, a notebook) are pickled by value, so the workers
need not import them; functions of installed packages are pickled by
reference, so the workers' interpreter must have those packages.
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Callable
from typing import Any

import cloudpickle
import pyarrow as pa

from ballista import proto
from ballista.errors import PlanError
from ballista.expr import Expr, ExprLike, _expr
from ballista.types import TypeLike, data_type

#: The language tag of Python functions in ``UdfDefinition``.
LANGUAGE = "python"


def _python_version() -> str:
    return ".".join(str(v) for v in sys.version_info[:3])


def _installed(module_name: str) -> bool:
    """Whether a module comes from the interpreter's library (stdlib or
    site-packages), which the workers can import too."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if module is None or path is None:
        return module_name in sys.builtin_module_names
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return any(path.startswith(r) for r in roots)


def serialise(fn: Callable[..., Any]) -> bytes:
    """``fn`` pickled with cloudpickle; by value unless it comes from an
    installed module."""
    module_name = getattr(fn, "__module__", None) or "__main__"
    module = sys.modules.get(module_name)
    by_value = module is not None and module_name != "__main__" and not _installed(module_name)
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        payload: bytes = cloudpickle.dumps(fn)
        return payload
    except Exception as e:
        raise PlanError(f"cannot serialise Python function {fn!r} with cloudpickle: {e}") from e
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)


def definition(fn: Callable[..., Any], name: str, deterministic: bool = True) -> Any:
    """The spec's ``UdfDefinition`` of Python function ``fn``."""
    return proto.UdfDefinition(
        language=LANGUAGE,
        name=name,
        payload=serialise(fn),
        runtime_version=_python_version(),
        deterministic=deterministic,
    )


class UserDefinedFunction:
    """A vectorised scalar function: called with one ``pyarrow.Array`` per
    argument (a batch of rows), it returns an array of the same length
    (a ``pyarrow.Array``, ``ChunkedArray``, NumPy array or list) of
    ``return_type``.

    Call it with expressions to use it in a DataFrame; register it with
    :meth:`ballista.BallistaContext.register_udf` to call it from SQL.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        return_type: TypeLike,
        name: str | None = None,
        deterministic: bool = True,
    ) -> None:
        """Wraps ``func``; prefer the :func:`udf` decorator."""
        if not callable(func):
            raise PlanError(f"udf needs a function, got {func!r}")
        self.func = func
        self.name = name or getattr(func, "__name__", None) or "udf"
        self.return_type = return_type
        self.deterministic = deterministic
        self._return_type = data_type(return_type)
        self._definition = definition(func, self.name, deterministic)

    def definition(self) -> Any:
        """The spec's ``UdfDefinition``."""
        return self._definition

    def registration(self) -> Any:
        """The spec's ``RegisteredUdf`` (for SQL)."""
        return proto.RegisteredUdf(function=self._definition, return_type=self._return_type)

    def __call__(self, *args: ExprLike) -> Expr:
        """A call of this function on ``args`` (expressions, column names
        are not implied: use ``col``)."""
        return Expr(
            proto.Expression(
                udf=proto.UdfCall(
                    function=self._definition,
                    arguments=[_expr(a).to_proto() for a in args],
                    return_type=self._return_type,
                )
            )
        )

    def __repr__(self) -> str:
        return f"<ballista.udf {self.name} -> {self.return_type}>"


def udf(
    func: Callable[..., Any] | None = None,
    *,
    return_type: TypeLike,
    name: str | None = None,
    deterministic: bool = True,
) -> Any:
    """Makes ``func`` a vectorised scalar UDF returning ``return_type``;
    use as ``@udf(return_type=pa.int64())`` or ``udf(fn, return_type=...)``.
    ``name`` (default: the function's name) is the SQL name once
    registered."""
    if func is None:
        return lambda f: UserDefinedFunction(f, return_type, name, deterministic)
    return UserDefinedFunction(func, return_type, name, deterministic)


def schema_message(schema: pa.Schema) -> Any:
    """The spec's ``Schema`` of ``schema``."""
    if not isinstance(schema, pa.Schema):
        raise PlanError(f"expected a pyarrow.Schema, got {schema!r}")
    return proto.Schema(arrow_ipc=schema.serialize().to_pybytes())

"""Ballista's exceptions, and the one place where Flight/gRPC errors become
them.

Every error a server sends is a gRPC status whose code says what kind of
error it is (see ``proto/ballista/v1/flight.proto``); pyarrow.flight raises
it as one of its own exceptions, with the code folded into the exception
class and the message. :func:`translate` turns any of those into the named
exception below that carries the server's message, so callers catch
``ballista.PlanError`` rather than ``pyarrow.ArrowInvalid``:

==========================  ======================  ====================================
gRPC status                 exception               typical cause
==========================  ======================  ====================================
INVALID_ARGUMENT            :class:`PlanError`      bad SQL, unknown column, type error
NOT_FOUND                   :class:`NotFoundError`  unknown table, missing file or job
UNIMPLEMENTED               :class:`UnsupportedError`  a feature the cluster lacks
RESOURCE_EXHAUSTED          :class:`ResourcesExhaustedError`  out of memory or slots
UNAVAILABLE, connect fails  :class:`UnavailableError`  scheduler/executor unreachable
CANCELLED                   :class:`CancelledError` the job was cancelled
INTERNAL, UNKNOWN, others   :class:`ExecutionError` a failure while running
==========================  ======================  ====================================

>>> import ballista
>>> issubclass(ballista.PlanError, ballista.BallistaError)
True
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.flight as flight


class BallistaError(Exception):
    """Base class of every error raised by this package.

    ``message`` is the server's message (or ours, for client-side errors),
    ``code`` the gRPC status code name (``"INVALID_ARGUMENT"``, ...) or
    ``None`` when no server was involved.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PlanError(BallistaError, ValueError):
    """The query is invalid: bad SQL, an unknown column or function, a type
    mismatch (status INVALID_ARGUMENT)."""


class NotFoundError(BallistaError, LookupError):
    """Something named does not exist: a table, a file, a job (NOT_FOUND)."""


class UnsupportedError(BallistaError, NotImplementedError):
    """The cluster does not implement what was asked (UNIMPLEMENTED)."""


class ResourcesExhaustedError(BallistaError):
    """The query ran out of memory or another resource (RESOURCE_EXHAUSTED)."""


class UnavailableError(BallistaError, ConnectionError):
    """A scheduler or executor could not be reached (UNAVAILABLE)."""


class CancelledError(BallistaError):
    """The job was cancelled (CANCELLED)."""


class ExecutionError(BallistaError):
    """The query failed while running (INTERNAL and other statuses)."""


# pyarrow writes a status as "<Flight|gRPC> returned <kind> error, with
# message: <server message>. Detail: ..." plus client debug context; the
# kind names the gRPC code where pyarrow has no exception class for it.
_PREFIX = re.compile(
    r"^(?:Flight|gRPC) returned (?P<kind>[a-z ]+?) error, with message: ", re.IGNORECASE
)
_SUFFIXES = (
    re.compile(r"\. Detail: .*$", re.DOTALL),
    re.compile(r"\. gRPC client debug context: .*$", re.DOTALL),
    re.compile(r"\. Client context: .*$", re.DOTALL),
    re.compile(r"\n?gRPC client debug context: .*$", re.DOTALL),
)

_BY_KIND: dict[str, tuple[type[BallistaError], str]] = {
    "invalid argument": (PlanError, "INVALID_ARGUMENT"),
    "not found": (NotFoundError, "NOT_FOUND"),
    "unimplemented": (UnsupportedError, "UNIMPLEMENTED"),
    "resource exhausted": (ResourcesExhaustedError, "RESOURCE_EXHAUSTED"),
    "unavailable": (UnavailableError, "UNAVAILABLE"),
    "cancelled": (CancelledError, "CANCELLED"),
    "internal": (ExecutionError, "INTERNAL"),
    "unknown": (ExecutionError, "UNKNOWN"),
    "timed out": (UnavailableError, "DEADLINE_EXCEEDED"),
    "deadline exceeded": (UnavailableError, "DEADLINE_EXCEEDED"),
}

# When the message does not name the code, the exception class does.
_BY_CLASS: tuple[tuple[type[BaseException], type[BallistaError], str], ...] = (
    (flight.FlightUnavailableError, UnavailableError, "UNAVAILABLE"),
    (flight.FlightTimedOutError, UnavailableError, "DEADLINE_EXCEEDED"),
    (flight.FlightCancelledError, CancelledError, "CANCELLED"),
    (flight.FlightInternalError, ExecutionError, "INTERNAL"),
    (pa.ArrowInvalid, PlanError, "INVALID_ARGUMENT"),
    (pa.ArrowKeyError, NotFoundError, "NOT_FOUND"),
    (pa.ArrowNotImplementedError, UnsupportedError, "UNIMPLEMENTED"),
    (pa.ArrowCapacityError, ResourcesExhaustedError, "RESOURCE_EXHAUSTED"),
)


def server_message(text: str) -> str:
    """The server's message inside pyarrow's text of a status.

    >>> server_message("Flight returned invalid argument error, with message: "
    ...                "table 'x' not found. gRPC client debug context: UNKNOWN:Error")
    "table 'x' not found"
    """
    m = _PREFIX.match(text)
    body = text[m.end() :] if m else text
    for suffix in _SUFFIXES:
        body = suffix.sub("", body)
    return body.strip()


def translate(error: BaseException, peer: str | None = None) -> BallistaError:
    """The :class:`BallistaError` for an exception raised by a Flight call
    to ``peer`` (for example ``"scheduler at grpc://127.0.0.1:50050"``).

    >>> import pyarrow as pa
    >>> e = translate(pa.ArrowInvalid("Flight returned invalid argument error, with "
    ...                               "message: SQL error: ParserError(...)"))
    >>> type(e).__name__, e.code, e.message
    ('PlanError', 'INVALID_ARGUMENT', 'SQL error: ParserError(...)')
    """
    if isinstance(error, BallistaError):
        return error
    text = str(error)
    match = _PREFIX.match(text)
    cls: type[BallistaError] = ExecutionError
    code = "UNKNOWN"
    if match and match.group("kind").lower() in _BY_KIND:
        cls, code = _BY_KIND[match.group("kind").lower()]
    else:
        for py_cls, ours, name in _BY_CLASS:
            if isinstance(error, py_cls):
                cls, code = ours, name
                break
    message = server_message(text)
    if cls is UnavailableError and peer:
        message = f"cannot reach {peer}: {message}"
    return cls(message, code)

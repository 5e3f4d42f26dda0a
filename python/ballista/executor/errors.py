"""The executor's one error type."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.flight as flight


class ExecutorError(Exception):
    """A task or a Flight call failed.

    ``code`` names the gRPC status the failure maps to (``invalid_argument``,
    ``not_found``, ``unimplemented``, ``unavailable``, ``resource_exhausted``,
    ``internal``); ``retryable`` and ``fetch_failed_executor_id`` end up in the
    task's ``TaskStatus`` as the Rust executor sets them.
    """

    def __init__(
        self,
        message: str,
        code: str = "invalid_argument",
        retryable: bool = False,
        fetch_failed_executor_id: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.fetch_failed_executor_id = fetch_failed_executor_id

    def to_flight(self) -> Exception:
        """The exception a Flight handler raises for this error: pyarrow
        turns Arrow's status codes into the matching gRPC codes
        (``ArrowInvalid`` -> INVALID_ARGUMENT, ``ArrowKeyError`` -> NOT_FOUND,
        ``ArrowNotImplementedError`` -> UNIMPLEMENTED)."""
        kinds: dict[str, type[Exception]] = {
            "invalid_argument": pa.ArrowInvalid,
            "not_found": pa.ArrowKeyError,
            "unimplemented": pa.ArrowNotImplementedError,
            "unavailable": flight.FlightUnavailableError,
        }
        error: Exception = kinds.get(self.code, flight.FlightInternalError)(str(self))
        return error


def unsupported(what: str) -> ExecutorError:
    """A plan element this executor does not implement (the scheduler only
    sends stages the advertised capabilities cover, so this is a bug or a
    stale registration)."""
    return ExecutorError(f"the Python executor does not implement {what}", code="unimplemented")

"""Result batches: the values of one flushed part of a task, as the reader rebuilds them.

A part's result object is one serialized list whose item `i` is the value of the call in the
status document's column `i` (or its exception, when the call failed). `load_document_values`
turns it back into values, and each failed call into the exception the user sees: the
original one when it can be rebuilt here, with the remote traceback as its cause, otherwise
a `RemoteError` (or `WorkerLostError`, `FunctionTimeoutError`) that keeps the remote type,
message and traceback.
"""

from __future__ import annotations

from typing import Any, Protocol

from wren._errors import (
    FunctionTimeoutError,
    RemoteError,
    RemoteTraceback,
    WorkerLostError,
    WrenError,
)
from wren.protocol.status import StatusDocument


class _Loader(Protocol):
    """What reading a result batch needs of a serializer."""

    def loads(self, data: bytes | memoryview) -> Any: ...


def build_exception(error: dict[str, str], rebuilt: Any) -> BaseException:
    """The exception a failed call raised, as faithfully as this client can rebuild it.

    `rebuilt` is the unpickled exception, or None when it did not travel or did not load.
    """
    kind = error.get("kind", "exception")
    message = error.get("message", "")
    trace = error.get("traceback", "")
    exc: BaseException
    if kind == "lost":
        exc = WorkerLostError(message)
    elif isinstance(rebuilt, BaseException):
        exc = rebuilt
    elif kind == "timeout":
        exc = FunctionTimeoutError(message)
    elif "type" in error:
        exc = RemoteError(error["type"], message)
    else:
        exc = WrenError(message or "the call failed for an unknown reason")
    if trace:
        exc.__cause__ = RemoteTraceback(trace)
    return exc


def load_document_values(document: StatusDocument, blob: bytes,
                         serializer: _Loader) -> list[Any]:
    """Every call's value (or rebuilt exception) of one document, in its column order."""
    size = len(document)
    try:
        values = serializer.loads(blob) if blob else [None] * size
    except Exception as exc:
        failure = WrenError(f"the results of {document.job_key} task {document.task_id} arrived "
                            f"but cannot be loaded here: {type(exc).__name__}: {exc}. Install "
                            "the modules they need on the client")
        values = [failure] * size
        for position in range(size):
            document.errors.setdefault(position, {"type": "WrenError", "message": str(failure),
                                                  "traceback": "", "kind": "system"})
    for position, error in document.errors.items():
        values[position] = build_exception(error, values[position])
    return values

"""Result batches: the values of one flushed part of a task, as the reader rebuilds them.

A part's result object is one serialized list whose item `i` is the value of the call in the
status document's column `i`; for a failed call it is that call's exception, serialized on
its own (or None), so an exception whose class this client cannot import spoils only its
own call. `result_object` finds it (inside the status object when it was small, see
`StatusDocument.embed_result`, else its own object); `load_document_values`
turns it back into values, and each failed call into the exception the user sees: the
original one when it can be rebuilt here, with the remote traceback as its cause, otherwise
a `RemoteError` (or `WorkerLostError`, `FunctionTimeoutError`) that keeps the remote type,
message and traceback.
"""

from __future__ import annotations

from typing import Any, Protocol

from wren._errors import (
    FunctionTimeoutError,
    RemoteBaseException,
    RemoteError,
    RemoteTraceback,
    TamperedDataError,
    WorkerLostError,
    WrenError,
)
from wren.protocol.signing import open_sealed
from wren.protocol.status import StatusDocument

#: Exceptions outside `Exception` a function may raise; never re-raised as themselves.
_BASE_ONLY = ("SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException")


class _Loader(Protocol):
    """What reading a result batch needs of a serializer."""

    def loads(self, data: bytes | memoryview) -> Any: ...


class _Readable(Protocol):
    """What `result_object` needs of a storage backend."""

    def get_object(self, bucket: str, key: str) -> bytes: ...


def result_object(document: StatusDocument, storage: _Readable, bucket: str
                  ) -> bytes | memoryview:
    """The sealed result object of `document` (still to be checked by
    `load_document_values`): the one its status object carried, else read from storage under
    `result_key`; empty when the part has none."""
    inline = document.inline_result
    if inline is not None:
        return inline
    if document.result_inline:
        raise WrenError(f"the results of {document.job_key} task {document.name} came inside "
                        "its status object and were released after they were read")
    return storage.get_object(bucket, document.result_key) if document.result_key else b""


def build_exception(error: dict[str, str], rebuilt: Any) -> BaseException:
    """The exception a failed call raised, as faithfully as this client can rebuild it.

    `rebuilt` is the unpickled exception, or None when it did not travel or did not load. A
    `BaseException` that is not an `Exception` (`SystemExit`, `KeyboardInterrupt`) raised by
    the function arrives as `RemoteBaseException`: it must never exit or interrupt the
    client.
    """
    kind = error.get("kind", "exception")
    message = error.get("message", "")
    trace = error.get("traceback", "")
    exc: BaseException
    if kind == "lost" or (rebuilt is None and error.get("type") == "WorkerLostError"):
        exc = WorkerLostError(message)
    elif isinstance(rebuilt, Exception):
        exc = rebuilt
    elif isinstance(rebuilt, BaseException) or error.get("type") in _BASE_ONLY:
        exc = RemoteBaseException(error.get("type") or type(rebuilt).__name__, message)
    elif kind == "timeout":
        exc = FunctionTimeoutError(message)
    elif "type" in error:
        exc = RemoteError(error["type"], message)
    else:
        exc = WrenError(message or "the call failed for an unknown reason")
    if trace:
        exc.__cause__ = RemoteTraceback(trace)
    return exc


def load_document_values(document: StatusDocument, blob: bytes | memoryview,
                         serializer: _Loader, key: bytes) -> list[Any]:
    """Every call's value (or rebuilt exception) of one document, in its column order.

    `blob` is the sealed result object the document names: it is checked with the executor's
    `key` before anything is unpickled, and each call fails with `TamperedDataError` if not."""
    size = len(document)
    try:
        if document.result_key is not None:
            blob = open_sealed(key, document.result_key, blob)
        # big values beside the pickle are checked as it loads (wren.serialize.out_of_band)
        values = serializer.loads(blob) if blob else [None] * size
        if not isinstance(values, list) or len(values) != size:
            raise ValueError(f"expected a list of {size} values")
    except TamperedDataError as exc:
        for position in range(size):
            document.errors[position] = {"type": "TamperedDataError", "message": str(exc),
                                         "traceback": "", "kind": "system"}
        return [exc] * size
    except Exception as exc:
        failure = WrenError(f"the results of {document.job_key} task {document.task_id} arrived "
                            f"but cannot be loaded here: {type(exc).__name__}: {exc}. Install "
                            "the modules they need on the client")
        values = [failure] * size
        for position in range(size):
            document.errors.setdefault(position, {"type": "WrenError", "message": str(failure),
                                                  "traceback": "", "kind": "system"})
        return [build_exception(error, failure) for error in
                (document.errors[p] for p in range(size))]
    for position, error in document.errors.items():
        values[position] = build_exception(error, _load_exception(values[position],
                                                                  serializer))
    return values


def _load_exception(raw: Any, serializer: _Loader) -> BaseException | None:
    """A failed call's exception from its own pickle; None when its class is not here."""
    if not isinstance(raw, (bytes, bytearray)):
        return None
    try:
        found = serializer.loads(bytes(raw))
    except Exception:
        return None
    return found if isinstance(found, BaseException) else None

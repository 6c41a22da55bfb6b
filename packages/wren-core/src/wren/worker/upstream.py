"""Read the results of earlier calls from storage, inside a worker: what the remote reducer
and calls fed with futures (`ResultRef` arguments) receive.

A `ResultReader` opens status documents and the result objects they name with the executor
key, so a forged or moved object is refused (`TamperedDataError`) before anything in it is
unpickled, and it loads each result object once, however many calls read from it. A
referenced call that failed makes the reading call fail with that call's own exception
(as Lithops' chained calls do), with a note naming the call it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wren import plugins
from wren._errors import StorageError, StorageNoSuchKeyError, TamperedDataError
from wren.context import current_key, current_storage, current_task
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend
from wren.protocol.binding import CallMode
from wren.protocol.result_ref import ResultRef
from wren.protocol.results import load_document_values, result_object
from wren.protocol.status import StatusDocument

Invoke = Callable[[Any, int], Any]


class ResultReader:
    """Values of calls of this executor's jobs, read from `bucket` and checked with `key`."""

    def __init__(self, storage: StorageBackend, bucket: str, serializer: Serializer,
                 key: bytes) -> None:
        self.storage, self.bucket, self.serializer, self.key = storage, bucket, serializer, key
        self._values: dict[tuple[str, str], list[Any]] = {}
        self._documents: dict[str, StatusDocument] = {}

    @classmethod
    def current(cls, serializer_name: str) -> ResultReader:
        """A reader over the storage and key of the task this thread runs."""
        return cls(current_storage(), current_task().bucket,
                   plugins.serializer_class(serializer_name)(), current_key())

    def values(self, document: StatusDocument) -> list[Any]:
        """Every value (or rebuilt exception) of `document`'s calls, in its column order."""
        name = (document.job_key, document.name)
        found = self._values.get(name)
        if found is None:
            blob = result_object(document, self.storage, self.bucket)
            found = self._values[name] = load_document_values(document, blob,
                                                              self.serializer, self.key)
        return found

    def document(self, ref: ResultRef) -> StatusDocument:
        """The status document `ref` names, authenticated and checked to report its call."""
        found = self._documents.get(ref.status_key)
        if found is None:
            try:
                raw = self.storage.get_object(self.bucket, ref.status_key)
            except StorageNoSuchKeyError as exc:
                raise StorageError(
                    f"the status of call {ref.index} of job {ref.job_key} is gone from "
                    f"storage ({ref.status_key}): its job was cleaned before this call read "
                    "its result") from exc
            found = StatusDocument.open(raw, self.key, ref.status_key)
            self._documents[ref.status_key] = found
        if found.job_key != ref.job_key or ref.index not in found.indices:
            raise TamperedDataError(ref.status_key, f"it does not report call {ref.index} of "
                                                    f"job {ref.job_key}")
        return found

    def result(self, ref: ResultRef) -> Any:
        """The value `ref` names; the referenced call's exception if it failed."""
        document = self.document(ref)
        position = document.position(ref.index)
        value = self.values(document)[position]
        if not document.ok(position):
            if isinstance(value, BaseException):
                note = (f"(raised by call {ref.index} of job {ref.job_key}, whose result "
                        "was this call's input)")
                add_note = getattr(value, "add_note", None)  # Python 3.11+
                if add_note is not None and note not in getattr(value, "__notes__", ()):
                    add_note(note)
                raise value
            raise RuntimeError(f"call {ref.index} of job {ref.job_key} failed")
        return value


def _refs_in(payload: Any) -> bool:
    args, kwargs = payload if type(payload) is tuple else ((), payload)
    return any(type(a) is ResultRef for a in args) or (
        isinstance(kwargs, dict) and any(type(v) is ResultRef for v in kwargs.values()))


def mentions_results(payloads: list[Any], mode: CallMode) -> bool:
    """True when some payload of a task holds a `ResultRef`."""
    if mode is not CallMode.ARGS:  # the payload's type, by type set (maps have thousands)
        return ResultRef in set(map(type, payloads))
    return any(map(_refs_in, payloads))


def with_results(invoke: Invoke, mode: CallMode, reader: ResultReader) -> Invoke:
    """Wrap an invoker so `ResultRef` arguments arrive as the results they name: the whole
    payload of `VALUE`/`NAMED_VALUE` calls, or entries of `ARGS` payloads."""
    if mode is not CallMode.ARGS:
        def value_call(payload: Any, index: int) -> Any:
            if type(payload) is ResultRef:
                payload = reader.result(payload)
            return invoke(payload, index)

        return value_call

    def args_call(payload: Any, index: int) -> Any:
        pair = type(payload) is tuple
        args, kwargs = payload if pair else ((), payload)
        if _refs_in(payload):
            args = tuple(reader.result(a) if type(a) is ResultRef else a for a in args)
            kwargs = {k: reader.result(v) if type(v) is ResultRef else v
                      for k, v in kwargs.items()}
            payload = (args, kwargs) if pair else kwargs
        return invoke(payload, index)

    return args_call

"""Status documents: what a worker reports for a batch of calls, as stored and as pushed.

One document per flushed batch ("part") of a task, stored as a small JSON object with one
column per field, because a 10,000-call map must cost microseconds per call, not objects per
call. It is data, never code: anyone who can write the bucket or the broker can at worst
forge a status (which `decode` validates), never run anything in the client.
Column `i` describes call `indices[i]` (often a `range`); the part's result object is one
pickled list whose item `i` is that call's value, or its exception when it failed. Failed
calls also have an entry in `errors` with the exception type, message and remote traceback
as text, so a client that cannot unpickle the exception still shows what happened.
A small result object (up to `INLINE_RESULT_BYTES` sealed) travels inside the status object
instead of beside it (`embed_result`, `result_inline`): the sealed document, one NUL byte
(JSON never holds one) and the result object sealed for its own `result_key`, so a part
costs one write and one read; a big one keeps its own object, read only when wanted.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import MutableSequence, Sequence
from typing import Any

import attrs

from wren._errors import TamperedDataError
from wren.protocol import keys
from wren.protocol.fields import (
    EndRuns,
    decode_indices,
    decode_times,
    encode_indices,
    encode_times,
    integer,
    mapping,
    text,
)
from wren.protocol.signing import HEADER_BYTES, open_sealed, seal_header, unverified_data
from wren.protocol.version import MalformedDocumentError, check, stamp

#: What a status document's seal is bound to (its job is inside the authenticated data).
STATUS_CONTEXT = "status"

#: What `errors[i]["kind"]` may say, see `error_info`.
ERROR_KINDS = ("exception", "lost", "timeout", "system")

#: Sealed result objects up to this size travel inside their status object.
INLINE_RESULT_BYTES = 64 * 1024
#: Between a status object's sealed document and its embedded result object.
_SEPARATOR = b"\x00"


@attrs.define(slots=True)
class StatusDocument:
    """Statuses of some calls of one task, plus where their results are stored."""

    job_key: str
    task_id: str
    part: int
    result_key: str | None
    worker: dict[str, Any]
    indices: Sequence[int] = attrs.field(factory=list)
    #: Decoded, a long column is a `wren.protocol.fields.PackedTimes` (read when needed).
    func_start: Sequence[float] = attrs.field(factory=list)
    func_end: Sequence[float] = attrs.field(factory=list)
    errors: dict[int, dict[str, str]] = attrs.field(factory=dict)
    extra: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    #: The result object travels inside the status object (see `inline_result`).
    result_inline: bool = False
    _where: dict[int, int] | None = attrs.field(default=None, eq=False, repr=False)
    _inline: bytes | memoryview | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def inline_result(self) -> bytes | memoryview | None:
        """The sealed result object that came inside the status object (None when it has its
        own object, or once `release_result` dropped it)."""
        return self._inline

    def embed_result(self, blob: bytes | memoryview) -> bool:
        """Carry the sealed result object `blob` inside this document when it is small
        enough; True when it will, False when it must be stored under `result_key`."""
        if len(blob) > INLINE_RESULT_BYTES:
            return False
        self.result_inline, self._inline = True, blob
        return True

    def release_result(self) -> None:
        """Forget the embedded result object (its values were loaded)."""
        self._inline = None

    @property
    def name(self) -> str:
        """Unique within the job: `<task>.<part>`."""
        return f"{self.task_id}.{self.part:04d}"

    def __len__(self) -> int:
        return len(self.indices)

    def add(self, index: int, func_start: float, func_end: float,
            error: dict[str, str] | None = None) -> None:
        """Append one call's outcome (its value goes to the part's result list)."""
        starts, ends = self.writable_times()
        if error is not None:
            self.errors[len(self.indices)] = error
        self.indices.append(index)  # type: ignore[attr-defined]
        starts.append(func_start)
        ends.append(func_end)

    def writable_times(self) -> tuple[MutableSequence[float],
                                      MutableSequence[float] | EndRuns]:
        """The start and end columns of a document being written (lists, or a worker's
        `array("d")` and `EndRuns`: a decoded one's packed columns are only read)."""
        starts, ends = self.func_start, self.func_end
        if not isinstance(starts, (list, array)) or not isinstance(ends, (list, array,
                                                                          EndRuns)):
            raise TypeError("call times can only be added to a document being written")
        return starts, ends

    def position(self, index: int) -> int:
        """The column of call `index` in this document."""
        indices = self.indices
        if isinstance(indices, range):
            return index - indices.start
        if self._where is None:
            self._where = {call: i for i, call in enumerate(indices)}
        return self._where[index]

    def ok(self, position: int) -> bool:
        return position not in self.errors

    def encode(self) -> bytes:
        """The document as JSON (data only: reading it can never run code)."""
        indices = self.indices
        if not isinstance(indices, range) and indices and \
                indices[-1] - indices[0] == len(indices) - 1 and list(indices) == list(
                    range(indices[0], indices[-1] + 1)):
            indices = range(indices[0], indices[-1] + 1)
        head = json.dumps(stamp({
            "kind": "status", "job_key": self.job_key, "task_id": self.task_id,
            "part": self.part, "result_key": self.result_key, "worker": self.worker,
            "result_inline": self.result_inline, "indices": encode_indices(indices),
            "errors": {str(k): v for k, v in self.errors.items()},
            "extra": {str(k): v for k, v in self.extra.items()}}),
            separators=(",", ":"), default=_jsonable).encode()
        # the two columns are spliced in as the JSON text `encode_times` writes
        return b"".join((head[:-1], b',"func_start":', encode_times(self.func_start),
                         b',"func_end":', encode_times(self.func_end), b"}"))

    @classmethod
    def decode(cls, raw: bytes | str) -> StatusDocument:
        """Parse and validate a document; `MalformedDocumentError` when it is not one wren
        wrote, `ProtocolVersionError` when another wren version wrote it."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedDocumentError(f"a status document is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("kind") != "status":
            raise MalformedDocumentError("a status document is not a JSON object of kind "
                                         "'status'")
        check(data, "status document")
        try:
            document = cls(
                text(data["job_key"]), text(data["task_id"]), integer(data["part"]),
                None if data["result_key"] is None else text(data["result_key"]),
                mapping(data["worker"]), decode_indices(data["indices"]),
                *_times(data["func_start"], data["func_end"]),
                {int(k): _error(v) for k, v in mapping(data["errors"]).items()},
                {int(k): mapping(v) for k, v in mapping(data["extra"]).items()},
                data.get("result_inline", False) is True)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedDocumentError(
                f"a status document is malformed: {type(exc).__name__}: {exc}") from None
        n = len(document.indices)
        if len(document.func_start) != n or len(document.func_end) != n or any(
                not 0 <= position < n for position in (*document.errors, *document.extra)):
            raise MalformedDocumentError("a status document's columns do not line up")
        if document.result_inline and document.result_key is None:
            raise MalformedDocumentError("a status document embeds a result without a key")
        return document

    def seal(self, key: bytes) -> bytes:
        """The encoded document, sealed with the executor's key (what workers store and push),
        followed by its embedded result object if any: a reader ignores any status it cannot
        authenticate, so nobody who can write the bucket or the broker can mark a call done
        (the embedded result keeps its own seal, checked before it is unpickled)."""
        encoded = self.encode()
        header = seal_header(key, STATUS_CONTEXT, encoded)
        if self.result_inline and self._inline is not None:
            return b"".join((header, encoded, _SEPARATOR, self._inline))
        return header + encoded

    @classmethod
    def open(cls, raw: bytes | memoryview, key: bytes, name: str | None = None
             ) -> StatusDocument:
        """Check and decode a sealed document (`TamperedDataError` naming `name`, where it
        came from, `MalformedDocumentError` or `ProtocolVersionError` when it is not one this
        executor's workers wrote). When `name` is the storage key it was read from, a
        document found under another part's key (moved there) is refused too."""
        head, inline = _split(raw)
        document = cls._with_result(
            cls.decode(bytes(open_sealed(key, STATUS_CONTEXT, head, name))), inline)
        if name is not None and name.endswith(".status") and name != keys.status_key(
                document.job_key, document.task_id, document.part):
            raise TamperedDataError(name, f"it holds the status of {document.job_key} task "
                                          f"{document.name}, which belongs elsewhere")
        return document

    @classmethod
    def peek(cls, raw: bytes | memoryview) -> StatusDocument:
        """Decode a sealed document WITHOUT checking its seal: only for bookkeeping (which
        calls reported) by a runtime that got it from its own workers over a private channel.
        Decoding is data-only either way; whoever applies results must use `open`."""
        head, inline = _split(raw)
        return cls._with_result(cls.decode(bytes(unverified_data(head))), inline)

    @classmethod
    def _with_result(cls, document: StatusDocument, inline: memoryview | None
                     ) -> StatusDocument:
        if document.result_inline != (inline is not None):
            raise MalformedDocumentError(
                "a status object's embedded result does not match its document (it says "
                f"{'one' if document.result_inline else 'none'} travels inside)")
        document._inline = inline
        return document


def _times(starts: Any, ends: Any) -> tuple[Sequence[float], Sequence[float]]:
    """The start and end columns as decoded (starts may be chained to the ends)."""
    decoded_ends = decode_times(ends)
    return decode_times(starts, decoded_ends), decoded_ends


def _split(raw: bytes | memoryview) -> tuple[memoryview, memoryview | None]:
    """A status object's sealed document and its embedded result object (or None)."""
    view = memoryview(raw)
    found = (raw if isinstance(raw, bytes) else bytes(view)).find(_SEPARATOR, HEADER_BYTES)
    if found < 0:
        return view, None
    return view[:found], view[found + 1:]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple, range)):
        return list(value)
    return str(value)


def _error(value: Any) -> dict[str, str]:
    entry = mapping(value)
    if not all(isinstance(v, str) for v in entry.values()):
        raise TypeError("an error entry holds a value that is not text")
    if entry.get("kind", "exception") not in ERROR_KINDS:
        raise ValueError(f"unknown error kind {entry.get('kind')!r}")
    return entry


def error_info(exc_type: str, message: str, traceback_text: str = "",
               kind: str = "exception") -> dict[str, str]:
    """An entry of `errors`. `kind` is `exception` (the function raised), `lost` (the worker
    died or was killed), `timeout`, or `system` (wren itself could not run the call)."""
    return {"type": exc_type, "message": message, "traceback": traceback_text, "kind": kind}

"""Status documents: what a worker reports for a batch of calls, as stored and as pushed.

One document per flushed batch ("part") of a task, stored as a small pickle with one column
per field, because a 10,000-call map must cost microseconds per call, not objects per call.
Column `i` describes call `indices[i]` (often a `range`); the part's result object is one
pickled list whose item `i` is that call's value, or its exception when it failed. Failed
calls also have an entry in `errors` with the exception type, message and remote traceback
as text, so a client that cannot unpickle the exception still shows what happened.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import attrs

STATUS_VERSION = 3


@attrs.define(slots=True)
class StatusDocument:
    """Statuses of some calls of one task, plus where their results are stored."""

    job_key: str
    task_id: str
    part: int
    result_key: str | None
    worker: dict[str, Any]
    indices: Sequence[int] = attrs.field(factory=list)
    func_start: list[float] = attrs.field(factory=list)
    func_end: list[float] = attrs.field(factory=list)
    errors: dict[int, dict[str, str]] = attrs.field(factory=dict)
    extra: dict[int, dict[str, Any]] = attrs.field(factory=dict)
    _where: dict[int, int] | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def name(self) -> str:
        """Unique within the job: `<task>.<part>`."""
        return f"{self.task_id}.{self.part:04d}"

    def __len__(self) -> int:
        return len(self.indices)

    def add(self, index: int, func_start: float, func_end: float,
            error: dict[str, str] | None = None) -> None:
        """Append one call's outcome (its value goes to the part's result list)."""
        if error is not None:
            self.errors[len(self.indices)] = error
        self.indices.append(index)  # type: ignore[attr-defined]
        self.func_start.append(func_start)
        self.func_end.append(func_end)

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
        indices = self.indices
        if not isinstance(indices, range) and indices and \
                indices[-1] - indices[0] == len(indices) - 1 and list(indices) == list(
                    range(indices[0], indices[-1] + 1)):
            indices = range(indices[0], indices[-1] + 1)
        return pickle.dumps((STATUS_VERSION, self.job_key, self.task_id, self.part,
                             self.result_key, self.worker, indices, self.func_start,
                             self.func_end, self.errors, self.extra), protocol=5)

    @classmethod
    def decode(cls, raw: bytes) -> StatusDocument:
        fields = pickle.loads(raw)
        if fields[0] != STATUS_VERSION:
            raise ValueError(f"status document version {fields[0]} is not supported by this "
                             f"wren (expects {STATUS_VERSION}); use the same wren version on "
                             "the client and in the runtime")
        return cls(*fields[1:])


def error_info(exc_type: str, message: str, traceback_text: str = "",
               kind: str = "exception") -> dict[str, str]:
    """An entry of `errors`. `kind` is `exception` (the function raised), `lost` (the worker
    died or was killed), `timeout`, or `system` (wren itself could not run the call)."""
    return {"type": exc_type, "message": message, "traceback": traceback_text, "kind": kind}

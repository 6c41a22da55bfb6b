"""`JobState`: the client's record of one submitted job, held as columns.

Per call it keeps the status document that completed it (`docs`), the downloaded value
(`values`), a read flag (`read`), and exceptions of failed calls (`exceptions`). A status
document covering a contiguous range of calls is applied with one slice assignment, so even
very large maps cost little per call. The first status of a call wins: a retried task can
never change a result already seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError
from typing import Any, Protocol

from wren.ports.storage import StorageBackend
from wren.protocol.status import StatusDocument, error_info
from wren.protocol.task import JobKind


class JobServices(Protocol):
    """What a job's futures need of the executor that made it."""

    storage: StorageBackend
    bucket: str
    serializer: Any

    def wait_and_fetch(self, futures: Sequence[Any], timeout: float | None = None) -> None:
        """Wait for these futures' calls and download their results."""

    def cancel(self, future: Any) -> bool:
        """Keep this future's call from running, if it was not invoked yet."""


NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "<no value>"})()


class JobState:
    """One job: per-call columns, progress, and pending task deadlines."""

    def __init__(self, session: JobServices, executor_id: str, kind: JobKind, number: int,
                 n_calls: int, *, produces_output: bool = True, job_id: str | None = None
                 ) -> None:
        self.executor_services = session
        self.executor_id = executor_id
        self.kind = kind
        self.job_id = job_id if job_id is not None else f"{kind.value}{number:03d}"
        self.job_key = f"{executor_id}/{self.job_id}"
        self.size = n_calls
        #: The futures of the calls, made on first use by `wren.client.futures.futures_of`.
        self.made_futures: list[Any] | None = None
        self.docs: list[StatusDocument | None] = [None] * n_calls
        self.values: list[Any] = [NO_VALUE] * n_calls
        #: 1 for each call whose result was handed to the user (bytes: the flags of a
        #: 10,000-call job take 10 KB, and whether any or all are set is one memchr)
        self.read = bytearray(n_calls)
        self.exceptions: dict[int, BaseException] = {}
        self.documents: list[StatusDocument] = []
        self.loaded: set[str] = set()
        self.pending = n_calls
        self.arrivals: dict[str, float] = {}
        self.submitted_at = 0.0
        self.produces_output = produces_output
        self.deadlines: list[tuple[float, list[int]]] = []
        self.progress_hooks: list[tuple[float, Callable[[], Any]]] = []
        self.result_times: dict[str, float] = {}
        self.runtime_memory: int | None = None
        self.cleaned = False
        #: Status documents about this job that were refused (forged, tampered, malformed).
        self.rejected_statuses = 0
        #: Calls that `cancel()` kept from running.
        self.cancelled: set[int] = set()
        #: Calls that completed with an error (cancelled ones too).
        self.failures = 0
        #: Whether a result read so far held a future (`get_result` follows only then).
        self.returned_futures = False

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @property
    def done_fraction(self) -> float:
        return 1.0 if self.size == 0 else (self.size - self.pending) / self.size

    @property
    def failed(self) -> bool:
        return any(document.errors for document in self.documents)

    def seen(self, name: str) -> bool:
        return name in self.arrivals

    def has_value(self, index: int) -> bool:
        return self.values[index] is not NO_VALUE or index in self.exceptions

    def exception(self, index: int) -> BaseException | None:
        """The downloaded exception of call `index`, None when it succeeded (or is not in)."""
        return self.exceptions.get(index)

    def value(self, index: int) -> Any:
        """The downloaded value of call `index` (None for a failed call)."""
        return self.values[index]

    def error_info(self, index: int) -> dict[str, str] | None:
        """Type, message, traceback and kind of call `index`'s failure, from its status."""
        doc = self.docs[index]
        return None if doc is None else doc.errors.get(doc.position(index))

    def cancel(self, index: int) -> None:
        """Finish call `index` as cancelled before it was invoked: it will not run (the
        first status of a call wins) and its result is a `CancelledError`."""
        now = time.time()
        message = "the call was cancelled before it was invoked"
        document = StatusDocument(self.job_key, "cancelled", index, None, {"host": "client"},
                                  indices=[index], func_start=[now], func_end=[now],
                                  errors={0: error_info("CancelledError", message,
                                                        kind="system")})
        self.cancelled.add(index)
        if self.apply(document):
            self.exceptions[index] = CancelledError(message)
            self.values[index] = None
            self.loaded.add(document.name)

    def mark_read(self, indices: Sequence[int] | None = None) -> None:
        """Note that these calls' results (default: all) were handed to the user."""
        if indices is None:
            self.read = bytearray(b"\x01") * self.size
        else:
            for index in indices:
                self.read[index] = True

    @property
    def all_read(self) -> bool:
        return 0 not in self.read

    @property
    def any_read(self) -> bool:
        return 1 in self.read

    def apply(self, document: StatusDocument) -> int:
        """Record a status document; return how many calls it completed."""
        if document.name in self.arrivals:
            return 0
        self.arrivals[document.name] = time.time()
        docs = self.docs
        indices = document.indices
        completed = 0
        if isinstance(indices, range) and indices.step == 1 and indices.start >= 0 \
                and indices.stop <= self.size \
                and docs[indices.start:indices.stop].count(None) == len(indices):
            docs[indices.start:indices.stop] = [document] * len(indices)
            completed = len(indices)
        else:
            for index in indices:
                if 0 <= index < self.size and docs[index] is None:
                    docs[index] = document
                    completed += 1
        if completed:
            self.documents.append(document)
            if document.errors:
                self.failures += sum(1 for position in document.errors
                                     if docs[indices[position]] is document)
        self.pending -= completed
        return completed

    def overdue(self, now: float) -> list[int]:
        """Calls of tasks past their deadline that have not reported."""
        late: list[int] = []
        keep: list[tuple[float, list[int]]] = []
        for deadline, indices in self.deadlines:
            missing = [i for i in indices if self.docs[i] is None]
            if not missing:
                continue
            if now >= deadline:
                late.extend(missing)
            else:
                keep.append((deadline, missing))
        self.deadlines = keep
        return late

    def due_hooks(self) -> list[Callable[[], Any]]:
        """Progress hooks whose threshold is reached (each fires once)."""
        if not self.progress_hooks:
            return []
        fraction = self.done_fraction
        due = [hook for threshold, hook in self.progress_hooks if fraction >= threshold]
        self.progress_hooks = [(t, h) for t, h in self.progress_hooks if fraction < t]
        return due

"""What the compute contract drives a `ComputeBackend` with: tasks built as the client builds
them, a listener that records what the adapter reports, and a wait for every call's report.

`ComputeHarness.open(config)` opens a fresh adapter (and the storage its workers write to)
from a loaded configuration, outside any `FunctionExecutor`, so the contract checks the port
itself. `tasks(...)` uploads a function and cuts tasks exactly as `FunctionExecutor.map`
does; `await_reports(...)` polls storage until every call of those tasks has a status
document (stored, or pushed to the listener) or a `calls_lost` report, and fails naming the
calls that never reported. `close()` removes what the tasks wrote.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from wren import plugins
from wren.backends import open_compute, open_storage
from wren.client.binding import ArgumentBinder
from wren.client.builder import JobBuilder, JobSpec
from wren.config.loader import WrenConfig
from wren.ports.compute import ComputeBackend
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.invocation import Invocation
from wren.protocol.signing import new_key
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task


@attrs.frozen
class LostReport:
    """One `calls_lost` call, as the adapter made it."""

    job_key: str
    call_indices: tuple[int, ...]
    reason: str
    kind: str


class RecordingListener:
    """An `InvocationListener` that keeps everything it is told (thread-safe)."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._lock = threading.Lock()
        self.pushed: list[StatusDocument] = []
        self.lost: list[LostReport] = []

    def status_pushed(self, document: bytes) -> None:
        decoded = StatusDocument.open(document, self.key)
        with self._lock:
            self.pushed.append(decoded)

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        report = LostReport(job_key, tuple(call_indices), reason, kind)
        with self._lock:
            self.lost.append(report)

    def snapshot(self) -> tuple[list[StatusDocument], list[LostReport]]:
        with self._lock:
            return list(self.pushed), list(self.lost)


@attrs.frozen
class Reports:
    """Every report of some tasks' calls: documents found in storage, documents pushed, and
    `calls_lost` reports."""

    stored: list[StatusDocument]
    pushed: list[StatusDocument]
    lost: list[LostReport]

    def error(self, job_key: str, index: int) -> dict[str, str] | None:
        """The error entry of call `index` in the first document that reports it (None when
        it succeeded); a `calls_lost` report reads as an error of its kind."""
        for document in (*self.stored, *self.pushed):
            if document.job_key == job_key and index in document.indices:
                return document.errors.get(document.position(index))
        for report in self.lost:
            if report.job_key == job_key and index in report.call_indices:
                return {"type": "calls_lost", "message": report.reason, "kind": report.kind}
        raise KeyError(f"call {index} of {job_key} has no report")


def _covered(documents: Iterable[StatusDocument], lost: Iterable[LostReport]
             ) -> set[tuple[str, int]]:
    covered = {(d.job_key, i) for d in documents for i in d.indices}
    return covered | {(r.job_key, i) for r in lost for i in r.call_indices}


@attrs.define
class ComputeHarness:
    """A compute adapter under test, the storage its workers write to, and its bucket."""

    compute: ComputeBackend
    storage: StorageBackend
    bucket: str
    serializer: Serializer
    executor_id: str = attrs.field(factory=lambda: f"{uuid.uuid4().hex[:6]}-contract")
    key: bytes = attrs.field(factory=new_key, repr=False)
    _jobs: list[str] = attrs.field(factory=list)

    @classmethod
    def open(cls, config: WrenConfig) -> ComputeHarness:
        """A fresh adapter for `config` (warmed up, as an executor would) and its storage."""
        storage = open_storage(config)
        compute = open_compute(config)
        compute.warm_up()
        serializer = plugins.serializer_class(config.wren["serializer"])()
        return cls(compute, storage, storage.default_bucket, serializer)

    def tasks(self, func: Callable[..., Any], items: Iterable[Any], *,
              chunksize: int | None = None, timeout: float = 60.0) -> list[Task]:
        """Upload `func` and cut the tasks of one job calling it once per item."""
        job_id = f"M{len(self._jobs):03d}"
        self._jobs.append(f"{self.executor_id}/{job_id}")
        builder = JobBuilder(self.executor_id, self.storage, self.bucket, self.serializer,
                             self.compute, self.key)
        return builder.build(JobSpec(func=func, calls=ArgumentBinder(func).bind_all(items),
                                     job_id=job_id, timeout=timeout, chunksize=chunksize))

    def invocations(self, tasks: Iterable[Task]) -> list[Invocation]:
        """What `invoke` takes: each task with this harness's executor key."""
        return [Invocation(task, self.key) for task in tasks]

    def listener(self) -> RecordingListener:
        return RecordingListener(self.key)

    def stored_documents(self, job_keys: Iterable[str]) -> list[StatusDocument]:
        """The status documents in storage under these jobs."""
        found = []
        for job_key in sorted(set(job_keys)):
            for key in self.storage.list_keys(self.bucket, keys.status_prefix(job_key)):
                found.append(StatusDocument.open(self.storage.get_object(self.bucket, key),
                                                 self.key))
        return found

    def await_reports(self, tasks: Sequence[Task], listener: RecordingListener,
                      within: float) -> Reports:
        """Wait until every call of `tasks` is reported; fail naming those that never were."""
        wanted = {(t.job_key, i) for t in tasks for i in t.call_indices}
        deadline = time.monotonic() + within
        while True:
            pushed, lost = listener.snapshot()
            stored = self.stored_documents(t.job_key for t in tasks)
            missing = wanted - _covered([*stored, *pushed], lost)
            if not missing:
                return Reports(stored, pushed, lost)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(missing)} of {len(wanted)} calls never reported within {within} s "
                    f"(no status document in storage, none pushed, no calls_lost): "
                    f"{sorted(missing)[:10]}")
            time.sleep(0.1)

    def close(self) -> None:
        """Release the adapter and remove what the tasks wrote."""
        self.compute.close()
        for job_key in self._jobs:
            for prefix in (keys.job_prefix(job_key), keys.logs_prefix(job_key)):
                written = self.storage.list_keys(self.bucket, prefix)
                if written:
                    self.storage.delete_objects(self.bucket, written)
        self.storage.close()

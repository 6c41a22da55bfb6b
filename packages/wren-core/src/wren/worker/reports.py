"""Listeners that account, on the worker side, for the calls of tasks nobody else watches.

A runtime that runs tasks in its own supervised pool (`wren.worker.pool`) or fans them out
(`wren.worker.fanout`) has no client at the other end of a pipe: when a call is lost (its
worker died, was killed, overran its timeout, or could not be delivered) the runtime itself
writes the error where the client's monitor reads statuses. `LostCallsWriter` does that: lost
calls get a status document sealed with the invocation's key (`wren.protocol.lost`), which
the client authenticates like any worker's. `TaskReports` adds the bookkeeping of one task:
which of its calls have reported (from the documents its workers pushed, read with
`StatusDocument.peek`, and from the lost calls), `wait` until all have (or `on_done`), and
`abandon`, which fails the rest when the runtime must stop waiting (its platform's
deadline). A runtime changes what a lost call becomes by overriding `TaskReports.record_lost`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from wren.ports.storage import StorageBackend
from wren.protocol.invocation import Invocation
from wren.protocol.lost import lost_calls_document, store_status
from wren.protocol.status import StatusDocument
from wren.worker.storage_access import open_storage

__all__ = ["LostCallsWriter", "TaskReports"]

logger = logging.getLogger("wren.worker")


class LostCallsWriter:
    """An `InvocationListener` that writes lost calls to storage as sealed status documents
    (statuses its workers pushed are in storage already). `storage` is the backend, or a
    function that opens it on the first lost call."""

    def __init__(self, storage: StorageBackend | Callable[[], StorageBackend], bucket: str,
                 key: bytes, host: str) -> None:
        self._storage: StorageBackend | None = None
        self._open: Callable[[], StorageBackend] | None = None
        if callable(storage):
            self._open = storage
        else:
            self._storage = storage
        self.bucket, self.key, self.host = bucket, key, host
        #: Calls written as lost so far.
        self.lost = 0

    @property
    def storage(self) -> StorageBackend:
        if self._storage is None:
            assert self._open is not None
            self._storage = self._open()
        return self._storage

    def status_pushed(self, document: bytes) -> None:
        """Workers already wrote the document to storage; nothing to do."""

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        self.write_lost(job_key, call_indices, reason, kind)

    def write_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        """Store an error status of `kind` for `call_indices` (raises if storage fails)."""
        document = lost_calls_document(job_key, call_indices, reason, kind, host=self.host)
        store_status(self.storage, self.bucket, document, self.key)
        self.lost += len(call_indices)


class TaskReports(LostCallsWriter):
    """The listener of one task run by a runtime's pool: tracks which calls have reported
    and writes the lost ones to storage (a failed write is logged: the client's deadline
    still ends those calls). Without `storage`, the task's storage is opened with its public
    settings and `private` (the environment's, when None). `on_done` is called once, on the
    thread that saw the last call report."""

    def __init__(self, invocation: Invocation, host: str, *,
                 storage: StorageBackend | None = None,
                 private: Mapping[str, Any] | None = None,
                 on_done: Callable[[TaskReports], None] | None = None) -> None:
        task = self.task = invocation.task
        opened: StorageBackend | Callable[[], StorageBackend] = storage or (
            lambda: open_storage(task.storage_backend, task.storage_config, private))
        super().__init__(opened, task.bucket, invocation.key, host)
        self.invocation = invocation
        self._pending = set(task.call_indices)
        self._on_done = on_done
        self._closed = False
        self._lock = threading.Lock()
        self._done = threading.Event()

    @property
    def remaining(self) -> int:
        """Calls that have not reported yet."""
        return len(self._pending)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` s for every call to report; True when all have."""
        return self._done.wait(timeout)

    def check_done(self) -> None:
        """Call `on_done` now if the task has no call left (e.g. it had none)."""
        self._reported(())

    def status_pushed(self, document: bytes) -> None:
        self._reported(StatusDocument.peek(document).indices)  # from our own workers

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        with self._lock:
            if self._closed:  # abandoned: its calls are written already
                return
        self.record_lost(job_key, call_indices, reason, kind)
        self._reported(call_indices)

    def record_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                    kind: str) -> bool:
        """Write the lost calls' error status; False (logged) when storage refused it."""
        try:
            self.write_lost(job_key, call_indices, reason, kind)
        except Exception:
            logger.exception("could not store the error status of %d lost calls of %s",
                             len(call_indices), job_key)
            return False
        return True

    def abandon(self, reason: str, kind: str = "timeout") -> list[int]:
        """Stop waiting: the calls that have not reported get an error status of `kind`,
        and later reports are ignored. Returns those calls."""
        with self._lock:
            if self._closed:
                return []
            self._closed = True
            rest = sorted(self._pending)
        if rest:
            self.record_lost(self.task.job_key, rest, reason, kind)
        with self._lock:
            self._pending.clear()
        self._reported(())
        return rest

    def _reported(self, call_indices: Sequence[int]) -> None:
        with self._lock:
            self._pending.difference_update(call_indices)
            finished = not self._pending and not self._done.is_set()
            if finished:
                self._done.set()
        if finished and self._on_done is not None:
            self._on_done(self)

"""Running wren tasks in the background of the Knative runtime (`runtime_server`), supervised.

Tasks run in wren's warm, supervised pool of worker processes (`wren.worker.pool`, the one
every runtime uses: each worker runs `wren.worker.run_task` on its main thread, so call timeouts work,
and a worker that exits, is killed, segfaults or ignores its timeout is reported on the call
it was running while the rest of its task is retried). Here nobody listens on a pipe, so a
task's listener writes those reports to storage as status documents, where the client's
monitor reads them like any other. Storage credentials come from this container's
environment (`WREN_STORAGE_CONFIG`, filled from a Kubernetes Secret), never from a task.

Admission: `admit` returns once the task has a worker slot (or a place in a short queue of
`queued` tasks), so Knative sees demand as in-flight requests while a pod is saturated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from wren.protocol.invocation import Invocation
from wren.protocol.lost import lost_calls_document, store_status
from wren.protocol.status import StatusDocument
from wren.worker import open_storage
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.storage_access import private_config_from_env

logger = logging.getLogger("wren.runtime")


class Draining(Exception):
    """The runtime is shutting down and takes no new tasks."""


class _TaskListener:
    """Counts the calls of one task as they are reported; writes lost calls to storage."""

    def __init__(self, runner: TaskRunner, invocation: Invocation) -> None:
        self.runner, self.task, self.key = runner, invocation.task, invocation.key
        self.remaining = len(self.task.call_indices)
        self._lock = threading.Lock()

    def _reported(self, count: int) -> None:
        with self._lock:
            self.remaining -= count
            finished = self.remaining <= 0
        if finished:
            self.runner.release(self)

    def status_pushed(self, document: bytes) -> None:
        self._reported(len(StatusDocument.peek(document)))  # from our own workers

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        task = self.task
        document = lost_calls_document(job_key, call_indices, reason, kind,
                                       host=self.runner.host)
        try:
            store_status(open_storage(task.storage_backend, task.storage_config), task.bucket,
                         document, self.key)
        except Exception:  # the client's deadline still ends these calls
            logger.exception("could not store the error status of %d lost calls of %s",
                             len(call_indices), job_key)
        self._reported(len(call_indices))


class TaskRunner:
    """The pool, the admission limit, and the tasks in flight."""

    def __init__(self, processes: int, queued: int, host: str) -> None:
        self.processes, self.capacity, self.host = processes, processes + queued, host
        self.pool = WorkerPool()
        self.pool.ensure_size(processes)
        self.pool.set_limit(id(self), processes)
        self._private = private_config_from_env()
        self._profiles: dict[str, tuple[str, str, dict[str, Any]]] = {}
        lock = threading.Lock()
        self._room = threading.Condition(lock)  # a slot freed: wakes one waiting request
        self._idle = threading.Condition(lock)  # nothing in flight: wakes the drain
        self._in_flight: set[_TaskListener] = set()
        self.draining = False
        self.accepted = 0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def admit(self, invocation: Invocation) -> None:
        """Hand the invocation's task to the pool once there is room; raise `Draining` when
        shutting down."""
        task = invocation.task
        listener = _TaskListener(self, invocation)
        with self._room:
            while len(self._in_flight) >= self.capacity and not self.draining:
                self._room.wait()
            if self.draining:
                raise Draining()
            self._in_flight.add(listener)
            self.accepted += 1
        if listener.remaining == 0:
            self.release(listener)
            return
        backend = task.storage_backend
        profile = self._profiles.get(backend)
        if profile is None:
            profile = self._profiles[backend] = storage_profile(backend, self._private)
        self.pool.submit([invocation], listener, profile, id(self))

    def release(self, listener: _TaskListener) -> None:
        with self._room:
            self._in_flight.discard(listener)
            self._room.notify()
            if not self._in_flight:
                self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Take no new tasks; wait up to `timeout` s for those in flight. True when idle."""
        deadline = time.monotonic() + timeout
        with self._idle:
            self.draining = True
            self._room.notify_all()
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stats(self) -> dict[str, Any]:
        return {"in_flight": self.in_flight, "accepted": self.accepted,
                "worker_processes": self.processes, "capacity": self.capacity,
                "draining": self.draining}

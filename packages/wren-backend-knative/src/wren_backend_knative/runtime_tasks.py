"""Running wren tasks in the background of the Knative runtime (`runtime_server`), supervised.

Tasks run in wren's warm, supervised pool of worker processes (`wren.worker.pool`, the one
every runtime uses: each worker runs `wren.worker.run_task` on its main thread, so call
timeouts work, and a worker that exits, is killed, segfaults or ignores its timeout is
reported on the call it was running while the rest of its task is retried). Here nobody
listens on a pipe, so a task's listener (`wren.worker.reports.TaskReports`) writes those
reports to storage as status documents, where the client's monitor reads them like any
other. Storage credentials come from this container's environment (`WREN_STORAGE_CONFIG`,
filled from a Kubernetes Secret), never from a task.

Admission: `admit` returns once the task has a worker slot (or a place in a short queue of
`queued` tasks), so Knative sees demand as in-flight requests while a pod is saturated; it
returns an event that is set once the task is done, which a held request (`invoke_mode:
hold`, see `runtime_server`) waits on so that the request lasts as long as the work.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from wren.protocol.invocation import Invocation
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports
from wren.worker.storage_access import private_config_from_env


class Draining(Exception):
    """The runtime is shutting down and takes no new tasks."""


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
        self._in_flight: set[TaskReports] = set()
        self.draining = False
        self.accepted = 0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def admit(self, invocation: Invocation) -> threading.Event:
        """Hand the invocation's task to the pool once there is room; raise `Draining` when
        shutting down. The event returned is set once every call of the task reported."""
        task = invocation.task
        done = threading.Event()

        def finished(listener: TaskReports) -> None:
            done.set()  # first: a drain that ends on release must find the hold answered
            self.release(listener)

        listener = TaskReports(invocation, self.host, private=self._private,
                               on_done=finished)
        with self._room:
            while len(self._in_flight) >= self.capacity and not self.draining:
                self._room.wait()
            if self.draining:
                raise Draining()
            self._in_flight.add(listener)
            self.accepted += 1
        if listener.remaining == 0:
            listener.check_done()
            return done
        backend = task.storage_backend
        profile = self._profiles.get(backend)
        if profile is None:
            profile = self._profiles[backend] = storage_profile(backend, self._private)
        self.pool.submit([invocation], listener, profile, id(self))
        return done

    def release(self, listener: TaskReports) -> None:
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

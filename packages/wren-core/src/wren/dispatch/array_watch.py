"""`ArrayWatcher`: turns the instances of array jobs that will never report into lost calls.

An array platform (`DeliveringCompute.array_jobs`) runs a staged request's tasks as one job
whose instance i runs task i. When an instance dies in a way its own supervised pool cannot
report (its container OOMKilled or evicted, its image not pullable, the job run failed before
it started), the client must learn it from the platform, not from a deadline minutes later.
An adapter subclasses `ArrayWatcher`, writes `watch()` (a loop over the platform's watch
stream or its status reads, until `stopping` is set) and calls `report(job, index, reason)`
for each instance it sees fail; the base class keeps which job runs which tasks and reports
their calls lost once per instance (the monitor keeps calls that had already reported).
`expect` registers a job and starts the one thread; `close` stops it.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Sequence
from typing import ClassVar

from wren.ports.compute import InvocationListener
from wren.protocol.task import Task

__all__ = ["ArrayWatcher"]

logger = logging.getLogger("wren")


class ArrayWatcher(abc.ABC):
    """One client's array jobs and the thread watching their instances; thread-safe."""

    #: Seconds `close` waits for the thread (0: not at all, e.g. a blocking watch stream).
    join_timeout: ClassVar[float] = 10.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[Sequence[Task], InvocationListener]] = {}
        self._reported: set[tuple[str, int]] = set()
        self._thread: threading.Thread | None = None

    @abc.abstractmethod
    def watch(self) -> None:
        """Watch the platform until `stopping` is set, calling `report` for failed
        instances (runs in the watcher's thread)."""

    def expect(self, job: str, tasks: Sequence[Task], listener: InvocationListener) -> None:
        """Array job `job` runs `tasks` (task i as instance i); its calls report to
        `listener`."""
        with self._lock:
            self._jobs[job] = (tasks, listener)
            if self._thread is None and not self.stopping.is_set():
                thread = threading.Thread(target=self.watch, name=self.name, daemon=True)
                thread.start()
                self._thread = thread  # published once started: `close` joins it

    def expected(self) -> list[str]:
        """The jobs being watched."""
        with self._lock:
            return list(self._jobs)

    def forget(self, job: str) -> None:
        """Stop watching `job` (it ended)."""
        with self._lock:
            self._jobs.pop(job, None)
            self._reported = {seen for seen in self._reported if seen[0] != job}

    def report(self, job: str, index: int, reason: str) -> None:
        """Instance `index` of `job` will never report: its task's calls are lost with
        `reason` (once; an unknown job or index is ignored)."""
        with self._lock:
            found = self._jobs.get(job)
            if found is None or not 0 <= index < len(found[0]) or (job, index) in self._reported:
                return
            self._reported.add((job, index))
        tasks, listener = found
        logger.warning("%s", reason)
        task = tasks[index]
        listener.calls_lost(task.job_key, list(task.call_indices), reason, "lost")

    def close(self) -> None:
        self.stopping.set()
        with self._lock:
            thread = self._thread
        if self.join_timeout and thread is not None and thread is not threading.current_thread():
            thread.join(self.join_timeout)

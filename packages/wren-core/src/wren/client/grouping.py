"""How many calls go in one task when the user gives no `chunksize`, from measured call time.

A task is one invocation on a cloud platform: grouping short calls keeps invocations and
storage requests per call low, but a task of long calls holds calls another worker could run,
and its platform cannot balance what it never sees. So the adapter's plan (`plan_chunksize`,
bounded by argument size) stays the most calls a task gets, and when earlier jobs of this
executor measured the function's calls (`CallTimes`, from their status documents), a task
gets only as many as it needs to amortize an invocation (`AMORTIZE_SECONDS`) and no fewer
than leave about `SPREAD` tasks per worker slot. Short or unmeasured calls keep the plan,
so a map of no-op calls never costs more invocations. (The client's own pool also cuts
tasks as it hands them out: `wren.worker.pool.pacing`.)
"""

from __future__ import annotations

import math
import threading
from typing import Protocol

from wren.protocol.status import StatusDocument

#: A task should run at least this long when it can (ten times an invocation's overhead).
AMORTIZE_SECONDS = 1.0
#: Tasks per worker slot that let the platform's queue balance long calls.
SPREAD = 4


class _Job(Protocol):
    job_key: str
    documents: list[StatusDocument]

    @property
    def finished(self) -> bool: ...


def calls_per_task(n_calls: int, planned: int, per_call: float | None, slots: int) -> int:
    """Calls per task for `n_calls` calls: `planned` unless `per_call` (measured seconds)
    says the calls are long enough to spread them over more tasks."""
    if per_call is None or per_call <= 0 or planned <= 1:
        return planned
    amortized = math.ceil(AMORTIZE_SECONDS / per_call)
    spread = math.ceil(n_calls / max(1, slots * SPREAD))
    return max(1, min(planned, max(amortized, spread)))


class CallTimes:
    """Seconds per call of each function, measured in the finished calls of earlier jobs.
    Each status document is read once, and costs the same however many calls it holds; a job
    is let go once finished and read, so a call costs the same after thousands of jobs."""

    def __init__(self) -> None:
        self._func_of: dict[str, str] = {}  # job key -> func key, until the job is tracked
        self._open: dict[str, list[_Job]] = {}  # func key -> its jobs still reporting
        self._read: dict[str, int] = {}  # job key -> documents of it already counted
        self._totals: dict[str, tuple[int, float]] = {}  # func key -> (calls, seconds)
        self._lock = threading.Lock()  # executors are used from several threads

    def job_built(self, job_key: str, func_key: str) -> None:
        self._func_of[job_key] = func_key

    def track(self, job: _Job) -> None:
        """Measure the calls of `job`, built just before (`job_built`), as they report."""
        with self._lock:
            func_key = self._func_of.pop(job.job_key, None)
            if func_key is not None:
                self._open.setdefault(func_key, []).append(job)

    def per_call(self, func_key: str) -> float | None:
        """Mean seconds per finished call of `func_key` so far (None: none finished)."""
        with self._lock:
            return self._measure(func_key)

    def _measure(self, func_key: str) -> float | None:
        calls, seconds = self._totals.get(func_key, (0, 0.0))
        still_open = []
        for job in self._open.get(func_key, ()):
            finished = job.finished  # before reading: a document comes before the count
            read = self._read.pop(job.job_key, 0)
            documents = job.documents[read:]
            for document in documents:
                if document.func_end and document.worker.get("host") != "client":
                    # the document's span: its calls ran one after the other
                    calls += len(document.func_end)
                    seconds += max(0.0, document.func_end[-1] - document.func_start[0])
            if not finished:
                still_open.append(job)
                self._read[job.job_key] = read + len(documents)
        if still_open:
            self._open[func_key] = still_open
        else:
            self._open.pop(func_key, None)
        self._totals[func_key] = (calls, seconds)
        return seconds / calls if calls else None

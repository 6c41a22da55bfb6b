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
from collections.abc import Callable, Iterable
from typing import Protocol

from wren.protocol.status import StatusDocument

#: A task should run at least this long when it can (ten times an invocation's overhead).
AMORTIZE_SECONDS = 1.0
#: Tasks per worker slot that let the platform's queue balance long calls.
SPREAD = 4


class _Job(Protocol):
    job_key: str
    documents: list[StatusDocument]


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
    Each status document is read once, and costs the same however many calls it holds."""

    def __init__(self, jobs: Callable[[], Iterable[_Job]] = tuple) -> None:
        self.jobs = jobs
        self._func_of: dict[str, str] = {}
        self._read: dict[str, int] = {}  # job key -> documents of it already counted
        self._totals: dict[str, tuple[int, float]] = {}  # func key -> (calls, seconds)

    def job_built(self, job_key: str, func_key: str) -> None:
        self._func_of[job_key] = func_key

    def per_call(self, func_key: str) -> float | None:
        """Mean seconds per finished call of `func_key` so far (None: none finished)."""
        calls, seconds = self._totals.get(func_key, (0, 0.0))
        for job in self.jobs():
            if self._func_of.get(job.job_key) != func_key:
                continue
            documents = job.documents[self._read.get(job.job_key, 0):]
            self._read[job.job_key] = self._read.get(job.job_key, 0) + len(documents)
            for document in documents:
                if document.func_end and document.worker.get("host") != "client":
                    # the document's span: its calls ran one after the other
                    calls += len(document.func_end)
                    seconds += max(0.0, document.func_end[-1] - document.func_start[0])
        self._totals[func_key] = (calls, seconds)
        return seconds / calls if calls else None

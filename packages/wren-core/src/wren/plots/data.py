"""The per-call facts the plots draw, as arrays: times in seconds from the start of the jobs,
success, the job of each call and the worker (host and process) that ran it.

Calls are rows in submission order (job by job, call by call). A moment that has not come,
or that a call never had (a result never downloaded), is NaN and is simply not drawn. The
columns are read from the job's status documents directly, the same facts `future.stats`
gives, at a cost that stays small at 100,000 calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from wren._errors import InvalidInputError
from wren.client.futures import ResponseFuture

#: The stats fields a call's row is made of, in the order they happen.
MOMENTS = ("host_submit_tstamp", "worker_start_tstamp", "worker_func_start_tstamp",
           "worker_func_end_tstamp", "host_status_done_tstamp", "host_result_done_tstamp")


@attrs.frozen
class CallTimes:
    """Facts of some calls: `columns[name][row]` is seconds from `t0`; `job[row]` indexes
    `jobs` (key, first row, count); `lane[row]` indexes `workers` ("host pid"), -1 when
    the call's worker is not known."""

    t0: float
    columns: dict[str, Any]
    success: Any
    jobs: list[tuple[str, int, int]]
    job: Any = None
    lane: Any = None
    workers: list[str] = attrs.field(factory=list)

    @property
    def size(self) -> int:
        return len(self.success)

    @property
    def end(self) -> float:
        """The last moment of any call (seconds from `t0`), at least a millisecond."""
        import numpy as np

        ends = [float(np.nanmax(c)) for c in self.columns.values() if not np.isnan(c).all()]
        return max([1e-3, *ends])

    def since(self) -> str:
        """The x axis label."""
        first = "job was" if len(self.jobs) == 1 else "first job was"
        return f"seconds since the {first} submitted"

    def describe(self) -> str:
        """E.g. "executor ab12cd-0, job M000, 1,000 calls"."""
        executors = sorted({key.split("/", 1)[0] for key, _, _ in self.jobs})
        job_ids = [key.split("/", 1)[1] for key, _, _ in self.jobs]
        label = "job " if len(job_ids) == 1 else "jobs " if len(job_ids) <= 4 else ""
        jobs = ", ".join(job_ids) if len(job_ids) <= 4 else f"{len(job_ids):,} jobs"
        return (f"executor {', '.join(executors)}, {label}{jobs}, "
                f"{self.size:,} call{'s' if self.size != 1 else ''}")


def collect(futures: Sequence[ResponseFuture]) -> CallTimes:
    """Facts of the finished calls among `futures` (unfinished ones are left out)."""
    import numpy as np

    done = [f for f in futures if f.done]
    if not done:
        raise InvalidInputError("there are no finished calls to plot: wait for the futures "
                                "first (fexec.wait() or get_result())")
    done.sort(key=lambda f: (f.job.submitted_at, f.job_key, f.index))
    raw = np.full((len(MOMENTS), len(done)), math.nan)
    success = np.zeros(len(done), dtype=bool)
    lane = np.full(len(done), -1, dtype=np.int64)
    workers: dict[str, int] = {}
    jobs: list[tuple[str, int, int]] = []
    job_rows = np.zeros(len(done), dtype=np.int64)
    for row, future in enumerate(done):
        job = future.job
        if not jobs or jobs[-1][0] != future.job_key:
            jobs.append((future.job_key, row, 0))
        key, first, count = jobs[-1]
        jobs[-1] = (key, first, count + 1)
        job_rows[row] = len(jobs) - 1
        raw[0, row] = _number(job.submitted_at)
        doc = job.docs[future.index]
        if doc is None:  # cancelled, or lost before any status
            continue
        pos = doc.position(future.index)
        worker = doc.worker
        raw[1:6, row] = (_number(worker.get("start")), _number(doc.func_start[pos]),
                         _number(doc.func_end[pos]), _number(job.arrivals.get(doc.name)),
                         _number(job.result_times.get(doc.name)))
        success[row] = pos not in doc.errors
        if worker.get("host") is not None or worker.get("pid") is not None:
            label = f"{worker.get('host', '?')} {worker.get('pid', '?')}"
            lane[row] = workers.setdefault(label, len(workers))
    t0 = float(np.nanmin(raw[0]))
    columns = {name: raw[i] - t0 for i, name in enumerate(MOMENTS)}
    return CallTimes(t0, columns, success, jobs, job_rows, lane, list(workers))


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and value > 0 else math.nan

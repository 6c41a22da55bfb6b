"""The per-call times the plots draw, as arrays in seconds from the start of the jobs.

Calls are rows in submission order (job by job, call by call). A moment that has not come,
or that a call never had (a result never downloaded), is NaN and is simply not drawn.
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
    """Times of some calls; `columns[name][row]` is seconds from `t0`."""

    t0: float
    columns: dict[str, Any]
    success: Any
    jobs: list[tuple[str, int, int]]

    @property
    def size(self) -> int:
        return len(self.success)

    def since(self) -> str:
        """The x axis label."""
        first = "job was" if len(self.jobs) == 1 else "first job was"
        return f"seconds since the {first} submitted"

    def describe(self) -> str:
        """E.g. "executor ab12cd-0, job M000, 1,000 calls"."""
        executors = sorted({key.split("/", 1)[0] for key, _, _ in self.jobs})
        job_ids = [key.split("/", 1)[1] for key, _, _ in self.jobs]
        jobs = ", ".join(job_ids) if len(job_ids) <= 4 else f"{len(job_ids)} jobs"
        label = "job" if len(job_ids) == 1 else "jobs"
        return (f"executor {', '.join(executors)}, {label} {jobs}, "
                f"{self.size:,} call{'s' if self.size != 1 else ''}")


def collect(futures: Sequence[ResponseFuture]) -> CallTimes:
    """Times of the finished calls among `futures` (unfinished ones are left out)."""
    import numpy as np

    done = [f for f in futures if f.done]
    if not done:
        raise InvalidInputError("there are no finished calls to plot: wait for the futures "
                                "first (fexec.wait() or get_result())")
    done.sort(key=lambda f: (f.job.submitted_at, f.job_key, f.index))
    rows = [f.stats for f in done]
    raw = {name: np.array([_number(r.get(name)) for r in rows], dtype=float)
           for name in MOMENTS}
    t0 = float(np.nanmin(raw["host_submit_tstamp"]))
    columns = {name: values - t0 for name, values in raw.items()}
    jobs: list[tuple[str, int, int]] = []
    for row, future in enumerate(done):
        if not jobs or jobs[-1][0] != future.job_key:
            jobs.append((future.job_key, row, 0))
        key, first, count = jobs[-1]
        jobs[-1] = (key, first, count + 1)
    success = np.array([bool(r.get("success")) for r in rows])
    return CallTimes(t0, columns, success, jobs)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and value > 0 else math.nan

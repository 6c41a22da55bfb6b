"""Calls per task from measured call time (`wren.client.grouping`), and the builder using it:
short or unmeasured calls keep the adapter's plan; long ones spread over more tasks; the
user's chunksize is honoured and marks its tasks as kept together."""

from __future__ import annotations

import math
from typing import Any

import attrs
from wren.client.binding import ArgumentBinder
from wren.client.builder import JobBuilder, JobSpec
from wren.client.grouping import AMORTIZE_SECONDS, SPREAD, CallTimes, calls_per_task
from wren.ports import ComputeBackend, WorkerStorage
from wren.protocol.status import StatusDocument
from wren.serialize import CloudpickleSerializer
from wren.testing import TEST_KEY, MemoryStorage
from wren.testing import functions as fn


class Cloud(ComputeBackend):
    """A plan-only cloud adapter: 10 worker slots, one task per slot."""

    name = "plan-only"

    def invoke(self, tasks: Any, listener: Any) -> None:
        raise AssertionError("not used")


@attrs.define
class Job:
    job_key: str
    documents: list[StatusDocument] = attrs.field(factory=list)
    finished: bool = False


def span(job_key: str, start: float, ends: list[float]) -> StatusDocument:
    """A worker's document of calls that ran one after the other from `start`."""
    starts = [start, *ends[:-1]]
    return StatusDocument(job_key, f"t{start}", 0, None, {}, indices=list(range(len(ends))),
                          func_start=starts, func_end=ends)


def test_unmeasured_or_short_calls_keep_the_plan() -> None:
    assert calls_per_task(10_000, 1000, None, 10) == 1000
    assert calls_per_task(10_000, 1000, 1e-6, 10) == 1000  # no-op calls: no more invocations
    assert calls_per_task(10_000, 1, 5.0, 10) == 1


def test_long_calls_spread_over_more_tasks_but_amortize_an_invocation() -> None:
    # 0.3 s calls on 1000 slots (planned: 10 a task): a task still runs AMORTIZE_SECONDS
    assert calls_per_task(10_000, 10, 0.3, 1000) == math.ceil(AMORTIZE_SECONDS / 0.3) == 4
    # 5 s calls: about SPREAD tasks per slot
    assert calls_per_task(10_000, 1000, 5.0, 10) == 10_000 // (10 * SPREAD)
    assert calls_per_task(40, 4, 30.0, 10) == 1


def test_call_times_average_what_earlier_jobs_of_the_function_ran() -> None:
    jobs = [Job("e/M000"), Job("e/M001")]
    times = CallTimes()
    times.job_built("e/M000", "func/a")
    times.job_built("e/M001", "func/b")
    for job in jobs:
        times.track(job)
    assert times.per_call("func/a") is None
    jobs[0].documents.append(StatusDocument("e/M000", "t0", 0, None, {}, indices=[0, 1],
                                            func_start=[0.0, 1.0], func_end=[1.0, 4.0]))
    jobs[1].documents.append(StatusDocument("e/M001", "t0", 0, None, {}, indices=[0],
                                            func_start=[0.0], func_end=[9.0]))
    jobs[0].documents.append(StatusDocument("e/M000", "cancelled", 2, None,
                                            {"host": "client"}, indices=[2],
                                            func_start=[5.0], func_end=[5.0]))
    assert times.per_call("func/a") == 2.0
    assert times.per_call("func/a") == 2.0  # each document counts once


def test_call_times_let_finished_jobs_go_and_count_what_came_before() -> None:
    times = CallTimes()
    first, second = Job("e/M000"), Job("e/M001")
    for job in (first, second):
        times.job_built(job.job_key, "func/a")
        times.track(job)
    first.documents.append(span("e/M000", 0.0, [1.0]))
    assert times.per_call("func/a") == 1.0
    first.documents.append(span("e/M000", 5.0, [8.0]))  # came in before it finished
    first.finished = True
    assert times.per_call("func/a") == 2.0
    assert times._open["func/a"] == [second]  # let go: later calls no longer look at it
    second.documents.append(span("e/M001", 0.0, [5.0]))
    second.finished = True
    assert times.per_call("func/a") == 3.0
    assert "func/a" not in times._open and not times._read
    assert times.per_call("func/a") == 3.0  # what was measured is kept


def build(builder: JobBuilder, items: list[Any], job_id: str, chunksize: int | None = None
          ) -> list[Any]:
    bound = ArgumentBinder(fn.sleep_for).bind_all(items)
    return builder.build(JobSpec(fn.sleep_for, bound, job_id, 60.0, chunksize=chunksize))


def test_the_builder_groups_by_the_measured_time_of_earlier_jobs() -> None:
    compute = Cloud({"max_workers": 10}, WorkerStorage("memory", {}, {}))
    builder = JobBuilder("e", MemoryStorage(), "b", CloudpickleSerializer(), compute, TEST_KEY)
    job = Job("e/M000")
    first = build(builder, [5.0] * 400, "M000")
    builder.call_times.track(job)
    assert [len(t.call_indices) for t in first] == [40] * 10  # unmeasured: the plan
    job.documents.append(StatusDocument("e/M000", "t0", 0, None, {}, indices=[0],
                                            func_start=[0.0], func_end=[5.0]))
    second = build(builder, [5.0] * 400, "M001")
    assert len(second) == 10 * SPREAD and not second[0].options.keep_together
    chosen = build(builder, [5.0] * 400, "M002", chunksize=40)
    assert len(chosen) == 10 and all(t.options.keep_together for t in chosen)

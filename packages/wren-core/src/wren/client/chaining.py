"""Futures passed as `iterdata`: each call receives the result of one earlier call, read by
the worker from storage, never downloaded here and uploaded again.

`chained_items` turns such items into `ResultRef`s once the futures are done (it waits, but
downloads nothing): the job key, the call index and the status document that completed the
call, which is all a worker needs to read and authenticate the result with the executor key
(`wren.worker.upstream`). Futures of another executor are refused, since their results are
sealed with that executor's key, and so is a mix of futures and plain values. A future
whose job was already read and cleaned from storage passes the value downloaded then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from wren._constants import ALL_COMPLETED
from wren._errors import InvalidInputError
from wren.client.futures import ResponseFuture
from wren.client.job import JobState
from wren.protocol import keys
from wren.protocol.result_ref import ResultRef


class _Waiter(Protocol):
    """What chaining needs of the executor's session."""

    def wait(self, futures: Sequence[ResponseFuture], return_when: Any = ALL_COMPLETED,
             timeout: float | None = None, throw_except: bool = True
             ) -> tuple[list[ResponseFuture], list[ResponseFuture]]: ...


def chained_items(items: list[Any], session: _Waiter, kinds: set[type] | None = None
                  ) -> tuple[list[Any], list[JobState]]:
    """`items` with each future replaced by a `ResultRef` to its call's result, and the jobs
    those futures belong to; `items` unchanged (and no jobs) when none is a future. The
    futures count as read, so `get_result()` gives the new job's results only (as in
    Lithops, where chained futures stop producing output). `kinds`: the distinct types of
    `items` when the caller has them."""
    if kinds is None:
        kinds = set(map(type, items))
    if not any(issubclass(kind, ResponseFuture) for kind in kinds):
        return items, []  # checked per distinct type of item, not per item
    futures = [item for item in items if isinstance(item, ResponseFuture)]
    if len(futures) != len(items):
        plain = next(i for i, item in enumerate(items) if not isinstance(item, ResponseFuture))
        raise InvalidInputError(
            f"iterdata mixes futures with plain values (item {plain}: {items[plain]!r:.60}). "
            "Futures as iterdata give each call the result of one earlier call: pass only "
            "futures, or get their results first (fexec.get_result(futures)) and build the "
            "items from those")
    foreign = next((f for f in futures if f.job.executor_services is not session), None)
    if foreign is not None:
        raise InvalidInputError(
            f"future {foreign.job_key}/{foreign.call_id} comes from executor "
            f"{foreign.executor_id}, whose results are sealed with that executor's key, which "
            "this executor's workers do not hold. Run the next step on that executor "
            "(other.map(func, futures)), or pass its results instead: "
            "fexec.map(func, other.get_result(futures))")
    jobs = list({id(f.job): f.job for f in futures}.values())
    gone = next((f for f in futures if f.job.cleaned and (
        not f.job.has_value(f.index) or f.job.exception(f.index) is not None)), None)
    if gone is not None:
        raise InvalidInputError(
            f"the results of job {gone.job_key} were already cleaned from storage, so "
            f"workers cannot read them, and call {gone.call_id} has no value here to pass "
            "instead; run that job again")
    session.wait(futures, ALL_COMPLETED, None, throw_except=False)
    refs: list[Any] = []
    for future in futures:
        job = future.job
        if job.cleaned:  # read and cleaned already: its value is here, it travels as is
            refs.append(job.value(future.index))
            continue
        document = job.docs[future.index]
        assert document is not None  # waited for
        refs.append(ResultRef(future.job_key, future.index, keys.status_key(
            document.job_key, document.task_id, document.part)))
    for job in jobs:
        job.mark_read([f.index for f in futures if f.job is job])
    return refs, jobs

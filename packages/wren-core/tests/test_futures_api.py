"""Futures as Lithops 3.8 has them: the same members of the same kinds, `return_when`
values, `FuturesList` chaining, cancelling, and futures that pickle to key-free references."""

from __future__ import annotations

import pickle
from concurrent.futures import CancelledError
from types import SimpleNamespace
from typing import Any

import pytest
import wren
from wren._constants import ALL_COMPLETED, ALWAYS, ANY_COMPLETED, percentage, wait_threshold
from wren.client.collect import covers_whole_jobs, jobs_of
from wren.client.futures import FuturesList, ResponseFuture, futures_of
from wren.client.job import JobState
from wren.client.references import FutureReference, reading_results, register
from wren.protocol.signing import derive_key, new_key
from wren.protocol.task import JobKind

# Lithops 3.8 (lithops/future.py): which members are properties and which are methods.
LITHOPS_PROPERTIES = ("done", "running", "ready", "success", "error", "invoked", "new",
                      "futures")
LITHOPS_METHODS = ("result", "cancel", "cancelled")
LITHOPS_ATTRIBUTES = ("stats", "executor_id", "job_id", "call_id", "job_key")


_KEY = new_key()


class _Services:
    """What a job needs of its executor, minus waiting (nothing runs here)."""

    def __init__(self) -> None:
        self.storage = SimpleNamespace(name="localhost")
        self.bucket = "wren-test"
        self.serializer = SimpleNamespace(name="cloudpickle")
        self.monitor = SimpleNamespace(key=_KEY)  # as a ClientSession holds its executor's

    def wait_and_fetch(self, futures: Any, timeout: float | None = None) -> None:
        pass

    def cancel(self, future: ResponseFuture) -> bool:
        if future.job.submitted_at > 0 or future.done:
            return False
        future.job.cancel(future.index)
        return True


def _job(size: int = 3, kind: JobKind = JobKind.MAP, executor_id: str = "abc123-0",
         number: int = 0) -> JobState:
    job = JobState(_Services(), executor_id, kind, number, size)
    register(job)
    return job


def test_future_members_have_lithops_kinds() -> None:
    for name in LITHOPS_PROPERTIES:
        assert isinstance(getattr(ResponseFuture, name), property), name
    for name in LITHOPS_METHODS:
        assert callable(getattr(ResponseFuture, name)) and not isinstance(
            getattr(ResponseFuture, name), property), name
    future = futures_of(_job())[1]
    for name in (*LITHOPS_PROPERTIES, *LITHOPS_ATTRIBUTES):
        getattr(future, name)
    assert (future.call_id, future.job_id, future.executor_id) == ("00001", "M000", "abc123-0")
    assert not future.done and not future.invoked and not future.running and future.new
    assert not future.futures
    future.job.values[1] = [futures_of(_job(1, number=9))[0]]
    assert future.futures


def test_lithops_wait_constants_and_percentages() -> None:
    assert (ALL_COMPLETED, ANY_COMPLETED, ALWAYS) == (100, -1, 0)
    assert [wait_threshold(p, 4) for p in (ALL_COMPLETED, ANY_COMPLETED, ALWAYS, 50, 51,
                                           25.5)] == [4, 1, 0, 2, 3, 2]
    assert wait_threshold(33, 3) == 1 and wait_threshold(34, 3) == 2  # as Lithops rounds
    assert wait_threshold(ANY_COMPLETED, 0) == 0
    assert percentage("ALL_COMPLETED") == 100  # wren's former names still work
    for wrong in (101, -2, -0.5, True, None, "all", [50]):
        with pytest.raises(wren.InvalidInputError, match="spawn_reducer must be"):
            percentage(wrong, "spawn_reducer")


def test_cancel_before_invocation_finishes_the_future_as_cancelled() -> None:
    job = _job(size=2, kind=JobKind.REDUCE)
    first, second = futures_of(job)
    assert first.cancel() is True
    assert first.done and first.cancelled() and first.error and not first.invoked
    assert not second.done and job.pending == 1
    with pytest.raises(CancelledError):
        first.result()
    assert first.result(throw_except=False) is None
    job.submitted_at = 1.0
    assert second.cancel() is False and not second.cancelled() and second.running


def test_a_future_pickles_to_a_reference_without_any_key() -> None:
    job = _job(executor_id="ffee00-7")
    blob = pickle.dumps(futures_of(job)[2])
    assert _KEY not in blob and b"docs" not in blob and len(blob) < 600
    # In this process the same job is found again.
    assert pickle.loads(blob) is futures_of(job)[2]


def test_a_reference_read_from_results_is_adopted_with_a_derived_key() -> None:
    adopted: list[tuple[FutureReference, bytes]] = []
    job = JobState(_Services(), "inner1-0", JobKind.MAP, 4, 2)  # not registered: remote

    class Reader:
        def adopt(self, reference: FutureReference, key: bytes) -> JobState:
            adopted.append((reference, key))
            return job

    blob = pickle.dumps(futures_of(JobState(_Services(), "inner1-0", JobKind.MAP, 4, 2))[1])
    parent = new_key()
    with reading_results(parent, Reader()):
        future = pickle.loads(blob)
    assert future is futures_of(job)[1]
    reference, key = adopted[0]
    assert (reference.job_key, reference.index, reference.kind) == ("inner1-0/M004", 1, "M")
    assert key == derive_key(parent, "inner1-0")
    # Outside any executor's results, the future only says what it refers to.
    stray = pickle.loads(blob)
    assert (stray.job_key, stray.call_id) == ("inner1-0/M004", "00001")
    with pytest.raises(wren.InvalidInputError, match="cannot be read here"):
        stray.result()


class _RecordingExecutor:
    """Stands in for a FunctionExecutor: records what a FuturesList asks of it."""

    def __init__(self) -> None:
        self.config = {"wren": {}}
        self.calls: list[tuple[str, Any]] = []
        self.numbers = iter(range(1, 100))

    def map(self, func: Any, iterdata: Any, **kwargs: Any) -> FuturesList:
        self.calls.append(("map", (func, iterdata, list(iterdata), kwargs)))
        return FuturesList(futures_of(_job(2, number=next(self.numbers))), self)

    def map_reduce(self, func: Any, iterdata: Any, reducer: Any, **kwargs: Any) -> FuturesList:
        self.calls.append(("map_reduce", (func, iterdata, list(iterdata), reducer)))
        return FuturesList(futures_of(_job(1, JobKind.REDUCE, number=next(self.numbers))),
                           self)

    def wait(self, fs: Any, **kwargs: Any) -> Any:
        self.calls.append(("wait", list(fs)))
        return list(fs), []

    def get_result(self, fs: Any, **kwargs: Any) -> Any:
        self.calls.append(("get_result", list(fs)))
        return "results"


def test_futures_list_chains_on_its_executor() -> None:
    executor = _RecordingExecutor()
    first_job = _job(2, number=50)
    chain = FuturesList(futures_of(first_job), executor)
    originals = list(chain)
    assert chain.map(len, sync=True, timeout=5) is chain
    (_, waited), (_, (func, iterdata, items, kwargs)) = executor.calls
    assert waited == originals and func is len and iterdata is chain
    assert items == originals and kwargs == {"timeout": 5}
    assert not first_job.produces_output  # only the last job of a chain gives results
    assert chain.alt_list is not None and chain.alt_list[:2] == originals
    assert list(chain) == chain.alt_list[2:] and len(chain) == 2
    chain.map_reduce(len, sum)
    assert executor.calls[-1][0] == "map_reduce" and len(chain) == 1
    assert chain.get_result() == "results"
    assert executor.calls[-1] == ("get_result", chain.alt_list) and len(chain.alt_list) == 5
    chain.wait()
    assert executor.calls[-1] == ("wait", chain.alt_list)


def test_futures_list_pickles_without_its_executor() -> None:
    chain = FuturesList(futures_of(_job(2, number=60)), _RecordingExecutor())
    copy = pickle.loads(pickle.dumps(chain))
    assert list(copy) == list(chain) and copy.executor is None
    with pytest.raises(wren.InvalidInputError, match="has no executor"):
        copy.get_result()


def test_a_big_job_makes_its_futures_with_the_collector_paused_then_restored(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from wren.client import futures as futures_module

    seen = []
    original = futures_module._many_futures

    def noting(job: Any) -> Any:
        seen.append(gc.isenabled())
        return original(job)

    monkeypatch.setattr(futures_module, "_many_futures", noting)
    assert gc.isenabled()
    futures = futures_of(_job(2000))
    assert len(futures) == 2000 and seen == [False] and gc.isenabled()
    gc.disable()  # a program that runs without the collector keeps it off
    try:
        futures_of(_job(2000, number=1))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_futures_of_a_big_job_are_made_in_c_and_behave_as_any_future() -> None:
    """A big job's futures come from a subclass made for the job (its job a class
    attribute, `__init__` in C): each is still a `ResponseFuture` with its own index, its
    job, its name and its reference when pickled."""
    import pickle

    job = _job(3000)
    futures = futures_of(job)
    assert [f.index for f in futures] == list(range(3000))
    assert all(isinstance(f, ResponseFuture) and f.job is job for f in futures)
    assert type(futures[0]).__name__ == "ResponseFuture" and futures_of(job) is futures
    assert futures[7].call_id == "00007" and "/00007" in repr(futures[7])
    assert pickle.loads(pickle.dumps(futures[2999])) is futures[2999]
    small = futures_of(_job(3, number=1))
    assert type(small[0]) is ResponseFuture and [f.index for f in small] == [0, 1, 2]


def test_the_futures_of_a_big_job_go_straight_to_the_oldest_generation() -> None:
    # No collection runs over them while they are made, nor right after (each would scan
    # all of them: about a millisecond per 10,000).
    import gc

    job = JobState(_Services(), "ex-0", JobKind.MAP, 7, 2000)  # type: ignore[arg-type]
    futures = futures_of(job)
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    assert all(id(future) in oldest for future in futures)
    assert gc.isenabled()


def test_objects_the_program_froze_stay_frozen() -> None:
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        futures_of(JobState(_Services(), "ex-0", JobKind.MAP, 8, 2000))  # type: ignore[arg-type]
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()


def test_wait_counts_whole_jobs_by_their_counters_and_anything_else_future_by_future() -> None:
    from wren.client.session import _Progress

    a = JobState(_Services(), "ex-0", JobKind.MAP, 9, 3)  # type: ignore[arg-type]
    b = JobState(_Services(), "ex-0", JobKind.MAP, 10, 2)  # type: ignore[arg-type]
    fa, fb = futures_of(a), futures_of(b)
    assert _Progress([*fa, *fb]).whole == [a, b]  # map_reduce's shape: whole jobs, in order
    assert _Progress(FuturesList(fa)).whole == [a]
    assert covers_whole_jobs([*fa, *fb], [a, b]) and covers_whole_jobs(fa, [a])  # in C
    assert not covers_whole_jobs([fa[0], fa[0], fa[2]], [a])  # a duplicate: one by one
    assert not covers_whole_jobs(fa[:2], [a])
    # a map's list, a tuple or a prefix: the same answers, each compared without a copy
    # where it is a list already
    assert covers_whole_jobs(FuturesList(fa), [a]) and covers_whole_jobs(tuple(fa), [a])
    assert not covers_whole_jobs(FuturesList([fa[1], fa[0], fa[2]]), [a])
    assert jobs_of(FuturesList(fa)) == jobs_of(tuple(fa[:2])) == jobs_of(fa[:1]) == [a]
    assert jobs_of([fa[1], fa[2]]) == [a] and jobs_of([*fb, *fa]) == [b, a]
    assert _Progress([fa[1], fa[0], fa[2]]).whole == [a]  # reordered: whole all the same
    partial = _Progress(fb[:1])
    assert partial.whole == [] and partial.total == 1 and partial.partial == fb[:1]

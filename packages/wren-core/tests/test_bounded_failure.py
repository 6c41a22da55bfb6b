"""Bounded failure, never a hang: a storage that stays unreachable fails the pending calls
once the outage outlasts their timeout, futures of another executor are waited for by their
own, and futures nobody watches any more raise at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import wren
from wren import StorageError
from wren.client.job import JobState
from wren.client.monitor import JobMonitor
from wren.protocol import keys
from wren.protocol.task import JobKind
from wren.testing import TEST_KEY, MemoryStorage
from wren.testing import functions as fn

BUCKET = "b"


class FlakyStorage(MemoryStorage):
    """Memory storage that can be switched off, like a server that stopped."""

    name = "flaky"

    def __init__(self) -> None:
        super().__init__({"storage_bucket": BUCKET})
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise StorageError("cannot reach the flaky endpoint http://127.0.0.1:1")

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[Any]:
        self._check()
        return super().list_objects(bucket, prefix)

    def put_object(self, bucket: str, key: str, body: Any) -> None:
        self._check()
        super().put_object(bucket, key, body)


def _wait_until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_an_outage_longer_than_the_call_timeout_fails_the_pending_calls() -> None:
    storage = FlakyStorage()
    monitor = JobMonitor(storage, BUCKET, threading.Condition(), TEST_KEY, poll_min=0.02,
                         poll_max=0.05, outage_grace=0.3)
    job = JobState(None, "ex-0", JobKind.MAP, 0, 3)  # type: ignore[arg-type]
    try:
        storage.down = True
        started = time.monotonic()
        monitor.track(job, call_timeout=0.2)
        _wait_until(lambda: job.finished, 10)
        assert time.monotonic() - started >= 0.5, "failed before timeout + grace passed"
        assert monitor.outage.active
        errors = [job.error_info(i) for i in range(3)]
        assert all(e is not None and e["type"] == "WorkerLostError" for e in errors)
        message = errors[0]["message"]  # type: ignore[index]
        assert "'flaky' has been unreachable for" in message
        assert "http://127.0.0.1:1" in message, "the error names the endpoint"
        assert not list(MemoryStorage.list_objects(storage, BUCKET,
                                                   keys.status_prefix(job.job_key)))
        # Once the storage answers again, the error status reaches it for remote readers.
        storage.down = False
        monitor.track(JobState(None, "ex-0", JobKind.MAP, 1, 1))  # type: ignore[arg-type]
        _wait_until(lambda: not monitor.outage.active, 10)
        _wait_until(lambda: storage.list_keys(BUCKET, keys.status_prefix(job.job_key)), 10)
    finally:
        monitor.stop()


def test_a_short_outage_fails_nothing() -> None:
    storage = FlakyStorage()
    monitor = JobMonitor(storage, BUCKET, threading.Condition(), TEST_KEY, poll_min=0.02,
                         poll_max=0.05, outage_grace=0.5)
    job = JobState(None, "ex-0", JobKind.MAP, 0, 2)  # type: ignore[arg-type]
    try:
        storage.down = True
        monitor.track(job, call_timeout=0.5)
        _wait_until(lambda: monitor.outage.active, 10)
        storage.down = False
        _wait_until(lambda: not monitor.outage.active, 10)
        time.sleep(1.2)
        assert job.pending == 2
    finally:
        monitor.stop()


def executor(**overrides: object) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(backend="threads", storage="shared_memory", **overrides)


@pytest.mark.usefixtures("thread_backends")
@pytest.mark.timeout(60)
def test_futures_of_another_executor_are_waited_for_by_their_own() -> None:
    with executor() as first, executor() as second:
        futures = first.map(fn.sleep_then, [(0.3, i) for i in range(4)])
        done, not_done = second.wait(futures)
        assert len(done) == 4 and not not_done
        assert second.get_result(futures) == [0, 1, 2, 3]
        later = first.call_async(fn.sleep_then, (0.3, "x"))
        assert second.get_result(later) == "x"


@pytest.mark.usefixtures("thread_backends")
@pytest.mark.timeout(60)
def test_futures_of_several_executors_are_refused_at_once() -> None:
    with executor() as first, executor() as second:
        mixed = [first.call_async(fn.double, 1), second.call_async(fn.double, 2)]
        started = time.monotonic()
        with pytest.raises(wren.InvalidInputError, match="from 2 executors"):
            second.wait(mixed)
        with pytest.raises(wren.InvalidInputError, match="from 2 executors"):
            first.get_result(mixed)
        assert time.monotonic() - started < 1
        assert first.get_result(mixed[0]) == 2 and second.get_result(mixed[1]) == 4


@pytest.mark.timeout(60)
def test_unfinished_futures_of_a_closed_executor_raise_at_once(thread_backends: Any) -> None:
    thread_backends.drop = {"t00000"}
    with executor() as other:
        closed = executor()
        future = closed.call_async(fn.double, 1, timeout=600)
        closed.close()
        started = time.monotonic()
        with pytest.raises(wren.InvalidInputError, match="executor was closed"):
            closed.get_result(future)
        with pytest.raises(wren.InvalidInputError, match="executor was closed"):
            other.wait([future])
        with pytest.raises(wren.InvalidInputError, match="executor was closed"):
            future.result()
        assert time.monotonic() - started < 1

"""`JobMonitor`: storage polling that backs off while nothing changes, snaps back when
something does, takes pushed documents only from the channel the client chose, and stops
with everything attached to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from wren.client.job import JobState
from wren.client.monitor import JobMonitor
from wren.protocol import keys
from wren.protocol.status import StatusDocument
from wren.protocol.task import JobKind
from wren.testing import TEST_KEY
from wren_backend_local import LocalhostStorage

BUCKET = "b"


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def _job(key: str = "ex-0/M000", calls: int = 2) -> JobState:
    executor_id, job_id = key.split("/")
    return JobState(None, executor_id, JobKind(job_id[0]), int(job_id[1:]),  # type: ignore[arg-type]
                    calls)


def _document(job: JobState, index: int, part: int = 0) -> StatusDocument:
    now = time.time()
    document = StatusDocument(job.job_key, f"t{index:05d}", part, None,
                              {"start": now, "end": now})
    document.add(index, now, now)
    return document


@pytest.fixture
def storage(tmp_path: Path) -> LocalhostStorage:
    backend = LocalhostStorage({"storage_dir": str(tmp_path), "storage_bucket": BUCKET})
    backend.create_bucket(BUCKET)
    return backend


@pytest.fixture
def make_monitor(storage: LocalhostStorage) -> Iterator[Callable[..., JobMonitor]]:
    made: list[JobMonitor] = []

    def make(**options: Any) -> JobMonitor:
        monitor = JobMonitor(storage, BUCKET, threading.Condition(), TEST_KEY, **options)
        made.append(monitor)
        return monitor

    yield make
    for monitor in made:
        monitor.stop()


def _store(storage: LocalhostStorage, document: StatusDocument) -> None:
    storage.put_object(BUCKET, keys.status_key(document.job_key, document.task_id,
                                               document.part), document.seal(TEST_KEY))


def test_polling_backs_off_while_nothing_changes(make_monitor: Callable[..., JobMonitor]
                                                 ) -> None:
    monitor = make_monitor(poll_min=0.02, poll_max=0.16)
    monitor.track(_job())
    time.sleep(1.0)
    assert monitor.interval == pytest.approx(0.16)
    # Without backing off it would have polled ~50 times; with it about ten.
    assert 3 <= monitor.polls <= 15


def test_polling_snaps_back_when_a_status_arrives(storage: LocalhostStorage,
                                                  make_monitor: Callable[..., JobMonitor]
                                                  ) -> None:
    monitor = make_monitor(poll_min=0.05, poll_max=0.8)
    job = _job(calls=2)
    monitor.track(job)
    wait_until(lambda: monitor.interval == 0.8)
    _store(storage, _document(job, 0))
    wait_until(lambda: job.pending == 1, timeout=3.0)
    polls = monitor.polls
    time.sleep(0.5)
    assert monitor.polls - polls >= 3, "after a change the monitor looks again soon"
    assert monitor.arrivals["storage"] == 1
    _store(storage, _document(job, 1))
    wait_until(lambda: job.finished, timeout=3.0)


def test_a_new_job_restarts_at_the_shortest_interval(make_monitor: Callable[..., JobMonitor]
                                                     ) -> None:
    monitor = make_monitor(poll_min=0.05, poll_max=0.6)
    monitor.track(_job("ex-0/M000"))
    wait_until(lambda: monitor.interval == 0.6, timeout=10.0)
    monitor.track(_job("ex-0/M001"))
    wait_until(lambda: monitor.interval < 0.6, timeout=0.5)


def test_an_idle_monitor_waits_at_the_longest_interval(make_monitor: Callable[..., JobMonitor]
                                                       ) -> None:
    monitor = make_monitor(poll_min=0.01, poll_max=0.3)
    job = _job(calls=1)
    monitor.track(job)
    monitor.status_pushed(_document(job, 0).seal(TEST_KEY))
    assert job.finished
    wait_until(lambda: monitor.interval == 0.3, timeout=2.0)
    polls = monitor.polls
    time.sleep(0.5)
    assert monitor.polls == polls, "nothing to poll for while no job is running"


class _Feed:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True


def test_stop_ends_the_thread_and_the_feeds(make_monitor: Callable[..., JobMonitor]) -> None:
    monitor = make_monitor(poll_min=0.01, poll_max=0.05)
    feed = _Feed()
    monitor.attach(feed)
    monitor.track(_job())
    assert monitor.alive
    monitor.stop()
    assert not monitor.alive and feed.stopped
    monitor.track(_job("ex-0/M001"))
    assert not monitor.alive, "a stopped monitor never starts again"


def test_adapter_pushes_can_be_declined(make_monitor: Callable[..., JobMonitor]) -> None:
    monitor = make_monitor(adapter_pushes=False, poll_min=30.0, poll_max=30.0)
    job = _job(calls=2)
    monitor.track(job)
    monitor.status_pushed(_document(job, 0).seal(TEST_KEY))
    assert job.pending == 2 and monitor.arrivals["adapter-ignored"] == 1
    monitor.status_received(_document(job, 0).seal(TEST_KEY), "rabbitmq")
    assert job.pending == 1 and monitor.arrivals["rabbitmq"] == 1
    monitor.calls_lost(job.job_key, [1], "the worker was killed")
    assert job.finished, "lost calls are applied whatever the channel"


def test_sweep_reads_storage_at_once(storage: LocalhostStorage,
                                     make_monitor: Callable[..., JobMonitor]) -> None:
    monitor = make_monitor(poll_min=60.0, poll_max=60.0)
    job = _job(calls=1)
    monitor.track(job)
    _store(storage, _document(job, 0))
    time.sleep(0.2)
    assert not job.finished
    monitor.sweep()
    wait_until(lambda: job.finished, timeout=3.0)


def test_a_status_named_by_its_key_is_read_checked_and_applied(
        storage: LocalhostStorage, make_monitor: Callable[..., JobMonitor]) -> None:
    """A local pool's worker names a big status by its storage key instead of sending it:
    the monitor reads it and applies it like a pushed one, and what an attacker who can
    write storage puts there counts for nothing: a document moved under another part's key,
    or bytes not sealed with the executor's key."""
    monitor = make_monitor(poll_min=30.0, poll_max=30.0)  # nothing found by polling here
    job = _job(calls=3)
    monitor.track(job)
    first = _document(job, 0)
    _store(storage, first)
    monitor.status_stored(keys.status_key(job.job_key, first.task_id, first.part))
    assert job.pending == 2 and monitor.arrivals["adapter-named"] == 1
    moved = keys.status_key(job.job_key, "t00001", 0)  # the call-0 document, as call 1's
    storage.put_object(BUCKET, moved, first.seal(TEST_KEY))
    forged = keys.status_key(job.job_key, "t00002", 0)
    storage.put_object(BUCKET, forged, _document(job, 2).seal(b"k" * 32))
    monitor.status_stored(moved)
    monitor.status_stored(forged)
    monitor.status_stored(keys.status_key(job.job_key, "t00009", 0))  # nothing there
    assert job.pending == 2 and monitor.rejected[moved] == 1 and monitor.rejected[forged] == 1

"""The client never hangs: lost tasks end as errors, polling backs off and stops with the
executor, and a status pushed twice never changes a result."""

from __future__ import annotations

import threading
import time

import pytest
import wren
from wren.client.futures import futures_of
from wren.client.job import JobState
from wren.client.monitor import JobMonitor
from wren.protocol import keys
from wren.protocol.status import StatusDocument
from wren.protocol.task import JobKind
from wren.testing import TEST_KEY, MemoryStorage
from wren.testing import functions as fn


def executor(**overrides: object) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(backend="threads", storage="shared_memory", **overrides)


@pytest.mark.usefixtures("thread_backends")
def test_map_over_a_polling_backend() -> None:
    with executor() as fexec:
        assert fexec.get_result(fexec.map(fn.double, range(20), chunksize=3)) == \
            [2 * i for i in range(20)]


def test_a_task_the_platform_loses_becomes_an_error_not_a_hang(thread_backends: type) -> None:
    thread_backends.drop = {"t00001"}
    with executor() as fexec:
        futures = fexec.map(fn.double, range(4), chunksize=2, timeout=1)
        started = time.monotonic()
        fexec.wait(futures, throw_except=False)
        assert time.monotonic() - started < 10
        assert [f.error for f in futures] == [False, False, True, True]
        with pytest.raises(wren.WorkerLostError, match="no status arrived"):
            futures[2].result()
        lost = [k for k in fexec.storage.list_keys(fexec.bucket,
                                                   keys.status_prefix(futures[0].job_key))
                if "/lost-" in k]
        assert len(lost) == 1, "lost calls are recorded in storage for remote readers"


@pytest.mark.usefixtures("thread_backends")
def test_monitor_thread_stops_with_its_executor() -> None:
    fexec = executor()
    fexec.get_result(fexec.map(fn.double, [1]))
    monitor = fexec._monitor
    assert monitor.alive
    fexec.close()
    assert not monitor.alive
    assert not [t for t in threading.enumerate() if t.name == "wren-monitor" and t.is_alive()
                and t is monitor._thread]


@pytest.mark.usefixtures("thread_backends")
def test_the_monitor_thread_starts_with_its_executor_not_its_first_job() -> None:
    with executor() as fexec:
        monitor = fexec._monitor
        assert monitor.alive and not monitor.jobs  # idle, and ready before the first job
        thread = monitor._thread
        assert fexec.get_result(fexec.map(fn.double, [1, 2])) == [2, 4]
        assert monitor._thread is thread


def test_polling_backs_off_while_nothing_changes() -> None:
    storage = MemoryStorage()
    condition = threading.Condition()
    monitor = JobMonitor(storage, "b", condition, TEST_KEY, poll_min=0.01, poll_max=0.2)
    job = JobState(None, "e", JobKind.MAP, 0, 1)  # type: ignore[arg-type]
    monitor.track(job)
    time.sleep(1.0)
    quiet_polls = monitor.polls
    monitor.stop()
    # Without back-off, 1 s at 10 ms would be ~100 polls; with it, a handful.
    assert 3 <= quiet_polls <= 20
    assert not monitor.alive


def test_stop_while_another_thread_starts_the_monitor(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """`stop()` never sees the monitor's thread before it started (CI once raised here)."""
    slow_start = threading.Thread.start
    starting = threading.Event()

    def start(thread: threading.Thread) -> None:
        if thread.name == "wren-monitor":
            starting.set()
            time.sleep(0.3)  # widen the window between creating and starting the thread
        slow_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    monitor = JobMonitor(MemoryStorage(), "b", threading.Condition(), TEST_KEY)
    job = JobState(None, "e", JobKind.MAP, 0, 1)  # type: ignore[arg-type]
    tracker = threading.Thread(target=monitor.track, args=(job,))
    tracker.start()
    assert starting.wait(5)
    monitor.stop()  # raised "cannot join thread before it is started"
    tracker.join(5)
    assert not monitor.alive


def test_first_status_of_a_call_wins() -> None:
    job = JobState(None, "e", JobKind.MAP, 0, 2)  # type: ignore[arg-type]
    first = StatusDocument("e/M000", "t0", 0, None, {})
    first.add(0, 1.0, 2.0)
    first.add(1, 1.0, 2.0)
    retry = StatusDocument("e/M000", "t0.r1", 0, None, {})
    retry.add(1, 5.0, 6.0, {"type": "E", "message": "late", "traceback": "", "kind": "x"})
    assert job.apply(first) == 2
    assert job.apply(retry) == 0 and job.apply(first) == 0
    assert futures_of(job)[1].error is False and job.pending == 0

"""The dispatch kit (`wren.dispatch`): retries and back-off, the throttle deadline, reports of
calls that could not be delivered, waiting, closing, and `DeliveringCompute` with the remote
invoker. The deliverer is a scripted fake: the kit is the unit under test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pytest
from wren.dispatch import (
    DeliveringCompute,
    Dispatcher,
    DispatchSettings,
    Refused,
    Throttled,
    Unavailable,
    backoff,
    outcome_of_status,
    parse_retry_after,
)
from wren.ports import InvocationListener, WorkerStorage
from wren.ports import capabilities as caps
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.testing import TEST_KEY
from wren.worker.fanout import FanoutRequest

Script = Callable[[Task, int], None]


def make_task(n: int, job_key: str = "exec/M000", calls: int = 2) -> Invocation:
    return Invocation(Task(job_key=job_key, task_id=f"t{n:05d}", func_key="f",
                           call_indices=range(n * calls, (n + 1) * calls), data_range=(0, 0),
                           storage_backend="shared_memory", storage_config={}, bucket="b"),
                      TEST_KEY)


class Recorder:
    """An `InvocationListener` that keeps what it is told."""

    def __init__(self) -> None:
        self.lost: list[tuple[str, list[int], str, str]] = []
        self._lock = threading.Lock()

    def status_pushed(self, document: bytes) -> None:
        raise AssertionError("a dispatcher pushes no statuses")

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        with self._lock:
            self.lost.append((job_key, list(call_indices), reason, kind))


class Fake:
    """A deliverer that follows `script(task, attempt)` (raise an outcome, or return)."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script
        self.attempts: dict[str, int] = {}
        self.delivered: list[str] = []
        self.busy = self.most_busy = 0
        self._lock = threading.Lock()

    def deliver(self, invocation: Invocation) -> None:
        task = invocation.task
        with self._lock:
            attempt = self.attempts[task.task_id] = self.attempts.get(task.task_id, 0) + 1
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        try:
            if self.script is not None:
                self.script(task, attempt)
            with self._lock:
                self.delivered.append(task.task_id)
        finally:
            with self._lock:
                self.busy -= 1


def test_every_task_is_delivered_and_counted() -> None:
    fake = Fake(lambda task, attempt: time.sleep(0.002))
    dispatcher = Dispatcher(fake, threads=4)
    recorder = Recorder()
    dispatcher.submit([make_task(n) for n in range(50)], recorder)
    assert dispatcher.wait(10)
    assert sorted(fake.delivered) == [f"t{n:05d}" for n in range(50)]
    assert (dispatcher.delivered, dispatcher.pending, recorder.lost) == (50, 0, [])
    assert 1 < fake.most_busy <= 4  # in parallel, never above the thread limit
    assert dispatcher.close()


def test_throttling_honours_retry_after() -> None:
    def script(task: Task, attempt: int) -> None:
        if attempt <= 2:
            raise Throttled("HTTP 429", retry_after=0.3)

    fake, recorder = Fake(script), Recorder()
    dispatcher = Dispatcher(fake, threads=1, first_delay=0.001, max_delay=0.001)
    started = time.monotonic()
    dispatcher.submit([make_task(0)], recorder)
    assert dispatcher.wait(10)
    assert time.monotonic() - started >= 0.6  # two waits of Retry-After, not the backoff
    assert (fake.attempts["t00000"], dispatcher.throttled, dispatcher.delivered) == (3, 2, 1)
    assert recorder.lost == []
    dispatcher.close()


def test_continuous_throttling_fails_the_calls_at_the_deadline() -> None:
    def script(task: Task, attempt: int) -> None:
        raise Throttled("HTTP 429: namespace limit reached")

    fake, recorder = Fake(script), Recorder()
    dispatcher = Dispatcher(fake, threads=2, throttle_timeout=0.5, first_delay=0.01,
                            max_delay=0.05)
    started = time.monotonic()
    dispatcher.submit([make_task(0), make_task(1)], recorder)
    assert dispatcher.wait(10)
    assert 0.5 <= time.monotonic() - started < 3
    assert sorted(indices for _, indices, _, _ in recorder.lost) == [[0, 1], [2, 3]]
    for _, _, reason, kind in recorder.lost:
        assert kind == "lost" and "HTTP 429: namespace limit reached" in reason
        assert "max_workers" in reason and "chunksize" in reason
    assert dispatcher.throttled >= 4 and dispatcher.lost == 2 and dispatcher.delivered == 0
    dispatcher.close()


def test_throttling_that_lets_some_through_never_fails_the_waiting_calls() -> None:
    """A platform pacing its namespace (one task through at a time, 429 for the rest) makes
    progress: tasks throttled for longer than `throttle_timeout` wait their turn (issue 15)."""
    gate = threading.Lock()
    last = [0.0]

    def script(task: Task, attempt: int) -> None:
        with gate:  # one delivery every 0.1 s; the others are throttled meanwhile
            if time.monotonic() - last[0] < 0.1:
                raise Throttled("HTTP 429: Too many concurrent requests in flight")
            last[0] = time.monotonic()

    fake, recorder = Fake(script), Recorder()
    dispatcher = Dispatcher(fake, threads=8, throttle_timeout=0.4, first_delay=0.01,
                            max_delay=0.05)
    dispatcher.submit([make_task(n) for n in range(16)], recorder)
    assert dispatcher.wait(30)
    assert recorder.lost == [] and dispatcher.delivered == 16  # ~1.6 s > throttle_timeout
    assert max(fake.attempts.values()) > 5
    dispatcher.close()


def test_a_retry_after_longer_than_the_deadline_is_cut_short() -> None:
    fake = Fake(lambda task, attempt: (_ for _ in ()).throw(Throttled("busy", 30.0)))
    dispatcher, recorder = Dispatcher(fake, threads=1, throttle_timeout=0.3), Recorder()
    started = time.monotonic()
    dispatcher.submit([make_task(0)], recorder)
    assert dispatcher.wait(10) and time.monotonic() - started < 2
    assert len(recorder.lost) == 1
    dispatcher.close()


def test_unavailable_is_retried_a_bounded_number_of_times() -> None:
    def script(task: Task, attempt: int) -> None:
        if task.task_id == "t00000" or attempt < 3:
            raise Unavailable(f"HTTP 502 Bad Gateway (attempt {attempt})")

    fake, recorder = Fake(script), Recorder()
    dispatcher = Dispatcher(fake, threads=2, retries=2, first_delay=0.01, max_delay=0.02)
    dispatcher.submit([make_task(0), make_task(1)], recorder)
    assert dispatcher.wait(10)
    assert fake.attempts == {"t00000": 3, "t00001": 3}
    assert fake.delivered == ["t00001"]
    [(job_key, indices, reason, kind)] = recorder.lost
    assert (job_key, indices, kind) == ("exec/M000", [0, 1], "lost")
    assert reason == ("wren could not deliver task t00000 of exec/M000 in 3 attempts; last: "
                      "HTTP 502 Bad Gateway (attempt 3)")


def test_backoff_grows_between_unavailable_attempts() -> None:
    stamps: list[float] = []

    def script(task: Task, attempt: int) -> None:
        stamps.append(time.monotonic())
        raise Unavailable("connection refused")

    dispatcher = Dispatcher(Fake(script), threads=1, retries=3, first_delay=0.05,
                            max_delay=1.0)
    dispatcher.submit([make_task(0)], Recorder())
    assert dispatcher.wait(10)
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert len(gaps) == 3
    assert 0.025 <= gaps[0] < 0.2 and gaps[2] >= 0.1  # 0.05, 0.1, 0.2 scaled by [0.5, 1]


def test_refused_is_final_and_unexpected_errors_are_reported() -> None:
    def script(task: Task, attempt: int) -> None:
        if task.task_id == "t00000":
            raise Refused("HTTP 403: not authorized for namespace x")
        raise KeyError("oops")

    fake, recorder = Fake(script), Recorder()
    dispatcher = Dispatcher(fake, threads=2)
    dispatcher.submit([make_task(0), make_task(1)], recorder)
    assert dispatcher.wait(10)
    assert fake.attempts == {"t00000": 1, "t00001": 1}
    reasons = {indices[0]: reason for _, indices, reason, _ in recorder.lost}
    assert reasons[0] == "HTTP 403: not authorized for namespace x"
    assert reasons[2] == "wren could not send task t00001 of exec/M000: KeyError: 'oops'"


def test_wait_times_out_while_deliveries_are_pending() -> None:
    release = threading.Event()
    dispatcher = Dispatcher(Fake(lambda task, attempt: release.wait()), threads=2)
    dispatcher.submit([make_task(n) for n in range(3)], Recorder())
    started = time.monotonic()
    assert not dispatcher.wait(0.2)
    assert 0.2 <= time.monotonic() - started < 1 and dispatcher.pending == 3
    release.set()
    assert dispatcher.wait(5) and dispatcher.pending == 0
    assert Dispatcher(Fake(), threads=1).wait(0)  # nothing submitted: idle at once


def test_close_delivers_what_was_queued_and_refuses_more() -> None:
    fake = Fake(lambda task, attempt: time.sleep(0.01))
    dispatcher = Dispatcher(fake, threads=2)
    dispatcher.submit([make_task(n) for n in range(20)], Recorder())
    assert dispatcher.close()
    assert len(fake.delivered) == 20
    with pytest.raises(RuntimeError, match="closed"):
        dispatcher.submit([make_task(99)], Recorder())
    assert all(not t.is_alive() for t in dispatcher._workers)


def test_close_with_a_timeout_reports_what_could_not_leave() -> None:
    fake = Fake(lambda task, attempt: (_ for _ in ()).throw(Throttled("HTTP 429", 0.05)))
    dispatcher, recorder = Dispatcher(fake, threads=1), Recorder()
    dispatcher.submit([make_task(0), make_task(1)], recorder)
    started = time.monotonic()
    assert not dispatcher.close(timeout=0.2)
    assert time.monotonic() - started < 2
    assert sorted(i[0] for _, i, _, _ in recorder.lost) == [0, 2]
    assert all("closed before" in reason for _, _, reason, _ in recorder.lost)


def test_backoff_grows_and_is_capped() -> None:
    assert 0.025 <= backoff(1) <= 0.05
    assert all(backoff(n, cap=2.0) <= 2.0 for n in range(1, 30))
    assert max(backoff(6) for _ in range(50)) > 0.5


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0 and parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT") == 0.0  # in the past


# DeliveringCompute ----------------------------------------------------------------------
WORKER_STORAGE = WorkerStorage("shared_memory", {"token": "s3cret"}, {})


class FakeCompute(DeliveringCompute):
    """Delivers by recording, after waiting for `gate`; fan-outs when configured."""

    name: ClassVar[str] = "fake"
    capabilities = frozenset({caps.REMOTE_INVOKER})

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config, WORKER_STORAGE)
        self.gate = threading.Event()
        self.tasks: list[str] = []
        self.fanouts: list[FanoutRequest] = []
        self.fanout_tasks: list[tuple[list[str], InvocationListener]] = []
        self.prepared: list[int] = []

    def dispatch_settings(self) -> DispatchSettings:
        return DispatchSettings(threads=3, retries=0)

    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        self.prepared.append(len(tasks))

    def deliver(self, invocation: Invocation) -> None:
        self.gate.wait()
        self.tasks.append(invocation.task.task_id)

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        self.gate.wait()
        if request.job_key == "exec/M001":
            raise Refused("HTTP 403: no")
        self.fanouts.append(request)
        self.fanout_tasks.append(([t.task_id for t in tasks], listener))


def test_invoke_returns_at_once_and_wait_dispatched_waits() -> None:
    compute = FakeCompute({})
    assert compute.wait_dispatched(0)  # nothing invoked yet
    started = time.monotonic()
    compute.invoke([make_task(n) for n in range(5)], Recorder())
    assert time.monotonic() - started < 0.5 and compute.prepared == [5]
    assert not compute.wait_dispatched(0.1)
    compute.gate.set()
    assert compute.wait_dispatched(5) and sorted(compute.tasks) == [
        f"t{n:05d}" for n in range(5)]
    assert compute.dispatcher.delivered == 5
    compute.close()
    compute.invoke([], Recorder())  # nothing to do, nothing started


def test_the_remote_invoker_sends_one_request_per_job(thread_backends: Any) -> None:
    compute = FakeCompute({"remote_invoker": True})
    compute.gate.set()
    recorder = Recorder()
    tasks = [make_task(n) for n in range(4)] + [make_task(n, "exec/M001") for n in range(2)]
    compute.invoke(tasks, recorder)
    assert compute.wait_dispatched(5)
    [request] = compute.fanouts
    assert (request.job_key, request.count, request.compute_backend) == ("exec/M000", 4, "fake")
    assert compute.tasks == []
    assert sorted(i for _, indices, _, _ in recorder.lost for i in indices) == [0, 1, 2, 3]
    assert all(reason == "the remote invoker could not start: HTTP 403: no"
               for _, _, reason, _ in recorder.lost)
    compute.invoke([make_task(9)], recorder)  # a single task goes straight to a worker
    assert compute.wait_dispatched(5) and compute.tasks == ["t00009"]
    compute.close()


def test_without_the_capability_remote_invoker_is_ignored() -> None:
    class Plain(FakeCompute):
        capabilities = frozenset()

    compute = Plain({"remote_invoker": True})
    compute.gate.set()
    compute.invoke([make_task(0), make_task(1)], Recorder())
    assert compute.wait_dispatched(5) and sorted(compute.tasks) == ["t00000", "t00001"]
    assert compute.fanouts == []
    compute.close()


def test_array_jobs_stage_every_job_in_parts_and_name_their_tasks(thread_backends: Any
                                                                   ) -> None:
    class ArrayCompute(FakeCompute):
        capabilities = frozenset()
        array_jobs = True
        max_fanout_tasks = 3

    compute = ArrayCompute({})
    compute.gate.set()
    recorder = Recorder()
    compute.invoke([make_task(0, "exec/M002")], recorder)  # one task: still an array job
    compute.invoke([make_task(n) for n in range(5)], recorder)
    assert compute.wait_dispatched(5) and compute.tasks == []
    assert sorted((r.job_key, r.count) for r in compute.fanouts) == [
        ("exec/M000", 2), ("exec/M000", 3), ("exec/M002", 1)]
    assert sorted(ids for ids, _ in compute.fanout_tasks) == [
        ["t00000"], ["t00000", "t00001", "t00002"], ["t00003", "t00004"]]
    assert all(listener is recorder for _, listener in compute.fanout_tasks)
    compute.close()


@pytest.mark.parametrize(("status", "kind", "wait"), [
    (429, Throttled, 7.0), (503, Unavailable, 7.0), (408, Unavailable, 7.0),
    (None, Unavailable, 7.0), (400, Refused, None), (403, Refused, None)])
def test_an_http_answer_becomes_the_outcome_the_dispatcher_acts_on(
        status: int | None, kind: type, wait: float | None) -> None:
    outcome = outcome_of_status(status, "the platform said no", "7")
    assert type(outcome) is kind and outcome.detail == "the platform said no"
    assert outcome.retry_after == wait

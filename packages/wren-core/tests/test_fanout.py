"""The remote invoker (`wren.worker.fanout`): tasks staged in storage, invoked by a worker
through the compute port, and undeliverable ones reported in storage."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from wren import TamperedDataError, plugins
from wren.client.binding import ArgumentBinder
from wren.client.builder import JobBuilder, JobSpec
from wren.dispatch import DeliveringCompute
from wren.ports import ComputeBackend, InvocationListener, WorkerStorage, capabilities
from wren.protocol import keys
from wren.protocol.invocation import Invocation
from wren.protocol.results import load_document_values, result_object
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task
from wren.serialize import CloudpickleSerializer
from wren.testing import TEST_KEY
from wren.testing import functions as fn
from wren.worker.fanout import FanoutRequest, run_fanout, stage_fanout, staged_invocations

BUCKET = "b"
WORKER_STORAGE = WorkerStorage("shared_memory", {"token": "s3cret"}, {})


def refusing(base: type[ComputeBackend]) -> Any:
    """A compute that delivers even-numbered tasks and reports the others as lost."""

    class Refusing(base):  # type: ignore[valid-type, misc]
        seen_config: dict[str, Any] = {}

        def invoke(self, invocations: Sequence[Invocation],
                   listener: InvocationListener) -> None:
            Refusing.seen_config = dict(self.config)
            even = [i for i in invocations if int(i.task.task_id[1:]) % 2 == 0]
            super().invoke(even, listener)
            for invocation in invocations:
                task = invocation.task
                if invocation not in even:
                    listener.calls_lost(task.job_key, task.call_indices, "HTTP 403: refused")

    return Refusing


def shared_storage() -> Any:
    return plugins.storage_backend_class("shared_memory")()


def build(items: list[Any]) -> list[Invocation]:
    storage = shared_storage()
    compute = plugins.compute_backend_class("threads")({"max_workers": 1}, WORKER_STORAGE)
    builder = JobBuilder("exec-0", storage, BUCKET, CloudpickleSerializer(), compute, TEST_KEY)
    bound = ArgumentBinder(fn.double).bind_all(items)
    tasks = builder.build(JobSpec(fn.double, bound, "M000", 60.0, chunksize=1))
    return [Invocation(task, TEST_KEY) for task in tasks]


def collect(job_key: str, n: int) -> dict[int, tuple[Any, dict[str, str] | None]]:
    storage = shared_storage()
    found: dict[int, tuple[Any, dict[str, str] | None]] = {}
    deadline = time.monotonic() + 20
    while len(found) < n and time.monotonic() < deadline:
        for key in storage.list_keys(BUCKET, keys.status_prefix(job_key)):
            document = StatusDocument.open(storage.get_object(BUCKET, key), TEST_KEY)
            blob = result_object(document, storage, BUCKET)
            values = load_document_values(document, blob, CloudpickleSerializer(), TEST_KEY)
            for position, index in enumerate(document.indices):
                found[index] = (values[position], document.errors.get(position))
        time.sleep(0.02)
    return found


def test_a_worker_invokes_the_staged_tasks(thread_backends: Any) -> None:
    tasks = build(list(range(6)))
    request = stage_fanout(tasks, WORKER_STORAGE, "threads", {"max_workers": 3})
    assert request.count == 6 and request.key.startswith(keys.job_prefix(tasks[0].task.job_key))
    assert "s3cret" not in repr(request.to_dict())
    again = FanoutRequest.from_dict(request.to_dict())
    assert run_fanout(again, {"token": "s3cret"}, {"api_key": "k"}) == 6
    found = collect(tasks[0].task.job_key, 6)
    assert {i: v for i, (v, _) in found.items()} == {i: 2 * i for i in range(6)}


def test_undeliverable_tasks_get_an_error_status(thread_backends: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    compute = refusing(thread_backends)
    real = plugins.load
    monkeypatch.setattr(plugins, "load", lambda group, name: compute
                        if name == "threads" else real(group, name))
    tasks = build(list(range(4)))
    request = stage_fanout(tasks, WORKER_STORAGE, "threads", {"max_workers": 3,
                                                              "remote_invoker": True})
    assert run_fanout(request, {"token": "s3cret"}, {"api_key": "k"}) == 2
    # The inner compute got the private settings and does not fan out again.
    assert compute.seen_config["api_key"] == "k"
    assert compute.seen_config["remote_invoker"] is False
    found = collect(tasks[0].task.job_key, 4)
    assert [found[i][0] for i in (0, 2)] == [0, 4]
    for index in (1, 3):
        _value, error = found[index]
        assert error is not None and error["kind"] == "lost"
        assert "HTTP 403: refused" in error["message"]


def test_one_job_per_fanout(thread_backends: Any) -> None:
    tasks = build([1, 2])
    other = Invocation(build([3])[0].task.with_changes(job_key="exec-0/M001"), TEST_KEY)
    with pytest.raises(ValueError, match="one job"):
        stage_fanout([*tasks, other], WORKER_STORAGE, "threads", {})
    with pytest.raises(ValueError, match="at least one"):
        stage_fanout([], WORKER_STORAGE, "threads", {})


# Array platforms: one instance per staged task, jobs split at the array limit -------
class ArrayCompute(DeliveringCompute):
    """Records the fan-out requests it is given, as an array platform's adapter would."""

    name: ClassVar[str] = "arrays"
    capabilities = frozenset({capabilities.REMOTE_INVOKER})
    max_fanout_tasks: ClassVar[int] = 3

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.requests: list[FanoutRequest] = []
        self.lock = threading.Lock()

    @property
    def remote_invoker(self) -> bool:
        return True

    def deliver(self, invocation: Invocation) -> None:
        self.deliver_fanout(stage_fanout([invocation], self.worker_storage, self.name, {}))

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        with self.lock:
            self.requests.append(request)


class Listener:
    def status_pushed(self, document: bytes) -> None:
        pass

    def calls_lost(self, *args: Any) -> None:
        raise AssertionError(f"nothing should be lost: {args}")


def test_each_index_reads_its_own_task(thread_backends: Any) -> None:
    invocations = build([1, 2, 3])
    request = stage_fanout(invocations, WORKER_STORAGE, "threads", {})
    staged = staged_invocations(request, shared_storage())
    assert [i.task for i in staged] == [i.task for i in invocations]
    assert all(i.key == TEST_KEY for i in staged)


def test_changed_staged_tasks_are_refused(thread_backends: Any) -> None:
    request = stage_fanout(build([1, 2]), WORKER_STORAGE, "threads", {})
    storage = shared_storage()
    raw = bytearray(bytes(storage.get_object(BUCKET, request.key)))
    raw[-3] ^= 1
    storage.put_object(BUCKET, request.key, bytes(raw))
    with pytest.raises(TamperedDataError):
        staged_invocations(request, storage)


def test_a_job_larger_than_the_array_limit_is_split(thread_backends: Any) -> None:
    compute = ArrayCompute({}, WORKER_STORAGE)
    try:
        compute.invoke(build(list(range(7))), Listener())
        assert compute.wait_dispatched(10)
        assert sorted(r.count for r in compute.requests) == [1, 3, 3]
        tasks = [i.task.task_id for r in compute.requests
                 for i in staged_invocations(r, shared_storage())]
        assert len(tasks) == len(set(tasks)) == 7
        compute.invoke(build([5]), Listener())  # a single task is one request too
        assert compute.wait_dispatched(10) and compute.requests[-1].count == 1
    finally:
        compute.close()

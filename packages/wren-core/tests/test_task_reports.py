"""`TaskReports`, the listener a runtime's pool reports a task's calls to: which calls have
reported, lost calls written to storage sealed, `abandon` at a deadline; and
`WorkerPool.cancel`, which stops a task without running its calls again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from wren.client.binding import ArgumentBinder
from wren.protocol import keys
from wren.protocol.invocation import Invocation
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task, TaskOptions
from wren.serialize.cloudpickle_serializer import CloudpickleSerializer
from wren.serialize.function_blob import pack_function
from wren.testing import TEST_KEY
from wren.testing import functions as fn
from wren.worker import open_storage
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports


def _task(storage: Any, func: Any, args: list[Any]) -> Task:
    serializer = CloudpickleSerializer()
    blob = pack_function(func, serializer, None, (), frozenset())
    key = keys.func_key(blob.digest)
    storage.put_object("b", key, blob.data)
    calls = ArgumentBinder(func).bind_all(args)
    data = serializer.dumps(calls.payloads)  # inline: the invocation vouches for it
    return Task(job_key="ex-0/M000", task_id="t00000", func_key=key,
                call_indices=range(len(args)), data_range=(0, len(data)),
                storage_backend="localhost", storage_config=dict(storage.config), bucket="b",
                binding=calls.binding, inline_data=data, options=TaskOptions())


@pytest.fixture
def storage(tmp_path: Path) -> Any:
    found = open_storage("localhost", {"storage_dir": str(tmp_path), "storage_bucket": "b"},
                         {})
    found.create_bucket("b")
    return found


def _stored_errors(storage: Any, job_key: str) -> dict[int, dict[str, str]]:
    """Call index -> error entry of every status document stored for the job (seal checked)."""
    errors = {}
    for key in storage.list_keys("b", keys.status_prefix(job_key)):
        document = StatusDocument.open(storage.get_object("b", key), TEST_KEY)
        for position, index in enumerate(document.indices):
            errors[index] = document.errors[position]
    return errors


def test_reports_count_pushed_and_lost_calls_and_abandon_the_rest(storage: Any) -> None:
    task = _task(storage, fn.double, list(range(5)))
    done: list[TaskReports] = []
    reports = TaskReports(Invocation(task, TEST_KEY), "host-a", storage=storage,
                          on_done=done.append)
    pushed = StatusDocument(task.job_key, task.task_id, 0, None, {})
    pushed.add(0, 0.0, 0.0)
    pushed.add(1, 0.0, 0.0)
    reports.status_pushed(pushed.seal(TEST_KEY))
    reports.status_pushed(pushed.seal(TEST_KEY))  # a call reported twice counts once
    reports.calls_lost(task.job_key, [2], "its worker died", "lost")
    assert reports.remaining == 2 and not done and not reports.wait(0)

    assert reports.abandon("the deadline came", "timeout") == [3, 4]
    assert done == [reports] and reports.wait(0) and reports.lost == 3
    reports.calls_lost(task.job_key, [3], "too late", "lost")  # ignored once abandoned
    assert reports.abandon("again") == []

    errors = _stored_errors(storage, task.job_key)
    assert sorted(errors) == [2, 3, 4]
    assert errors[2]["kind"] == "lost" and "its worker died" in errors[2]["message"]
    assert {errors[3]["kind"], errors[4]["kind"]} == {"timeout"}
    assert "the deadline came" in errors[4]["message"]


def test_a_task_without_calls_is_done_at_once(storage: Any) -> None:
    task = _task(storage, fn.double, [])
    done: list[TaskReports] = []
    reports = TaskReports(Invocation(task, TEST_KEY), "h", storage=storage, on_done=done.append)
    reports.check_done()
    reports.check_done()
    assert done == [reports]


def test_a_write_that_fails_is_logged_and_the_calls_still_count(
        storage: Any, caplog: pytest.LogCaptureFixture) -> None:
    task = _task(storage, fn.double, [1, 2])

    def broken() -> Any:
        raise ConnectionError("storage is down")

    reports = TaskReports(Invocation(task, TEST_KEY), "h", storage=storage)
    reports._open, reports._storage = broken, None  # storage fails from now on
    reports.calls_lost(task.job_key, [0, 1], "gone", "lost")
    assert reports.done and reports.lost == 0
    assert "could not store the error status of 2 lost calls" in caplog.text


def test_cancel_kills_the_running_task_and_loses_its_calls_without_retry(
        storage: Any) -> None:
    task = _task(storage, fn.sleep_for, [30.0, 30.0, 30.0])
    invocation = Invocation(task, TEST_KEY)
    reports = TaskReports(invocation, "h", storage=storage)
    pool = WorkerPool()
    try:
        pool.ensure_size(1)
        [pid] = pool.worker_pids()
        pool.submit([invocation], reports, storage_profile("localhost", {}), owner=1)
        assert not reports.wait(1.5)  # the first call is sleeping
        pool.cancel(1, "stopped by its runtime", "timeout")
        assert reports.wait(10)
        assert pid not in pool.worker_pids()
    finally:
        pool.shutdown()
    errors = _stored_errors(storage, task.job_key)
    assert sorted(errors) == [0, 1, 2]
    assert all(e["kind"] == "timeout" and "stopped by its runtime" in e["message"]
               for e in errors.values())

"""Capturing what calls print, in the worker: attribution, limits, threads, storage."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest
from wren.protocol import keys
from wren.protocol.logs import decode_logs
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task
from wren.worker.output import OUTSIDE_CALLS, CallOutput, _TextProxy
from wren_backend_local import LocalhostStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalhostStorage:
    backend = LocalhostStorage({"storage_dir": str(tmp_path), "storage_bucket": "b"})
    backend.create_bucket("b")
    return backend


def _task() -> Task:
    return Task(job_key="ex-0/M000", task_id="t00000", func_key="k", call_indices=range(3),
                data_range=(0, 0), storage_backend="localhost", storage_config={}, bucket="b")


def test_writes_are_filed_under_the_running_call() -> None:
    before = sys.stdout, sys.stderr
    with CallOutput() as output:
        print("before any call")
        output.index = 0
        print("zero")
        output.index = 2
        print("two", file=sys.stderr)
        sys.stdout.write("more two\n")
        sys.stdout.buffer.write("bytes ü\n".encode())
    assert (sys.stdout, sys.stderr) == before
    assert output.drain() == {OUTSIDE_CALLS: "before any call\n", 0: "zero\n",
                              2: "two\nmore two\nbytes ü\n"}
    assert output.drain() == {}


def test_a_silent_call_leaves_nothing() -> None:
    with CallOutput() as output:
        output.index = 5
    assert not output.pending and output.drain() == {}


def test_output_over_the_limit_is_counted_not_kept() -> None:
    with CallOutput(limit=10) as output:
        output.index = 1
        sys.stdout.write("0123456")
        sys.stdout.write("789abcdef")
    assert output.drain() == {1: "0123456789\n[wren: 6 more characters of output were "
                                 "dropped]\n"}


def test_writes_from_other_threads_belong_to_the_only_task() -> None:
    with CallOutput() as output:
        output.index = 3
        thread = threading.Thread(target=print, args=("from a thread",))
        thread.start()
        thread.join()
    assert output.drain() == {3: "from a thread\n"}


def test_concurrent_tasks_in_threads_keep_their_own_output() -> None:
    barrier = threading.Barrier(2)
    found: dict[str, dict[int, str]] = {}

    def task(name: str) -> None:
        with CallOutput() as output:
            output.index = 0
            barrier.wait()
            for _ in range(50):
                print(name)
            barrier.wait()
        found[name] = output.drain()

    threads = [threading.Thread(target=task, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == {"a": {0: "a\n" * 50}, "b": {0: "b\n" * 50}}
    assert not isinstance(sys.stdout, _TextProxy)


def test_store_writes_one_object_and_names_it_in_the_status(
        storage: LocalhostStorage) -> None:
    task = _task()
    document = StatusDocument(task.job_key, task.task_id, 0, None, {})
    for index in (0, 1, 2):
        document.add(index, 1.0, 2.0)
    with CallOutput() as output:
        output.index = 2
        print("héllo")
    output.store(storage, task, 0, document)
    key = keys.logs_key(task.job_key, task.task_id, 0)
    assert document.worker["logs_key"] == key
    assert document.extra == {2: {"worker_log_bytes": len("héllo\n".encode())}}
    raw = storage.get_object("b", key)
    assert json.loads(raw)["job_key"] == "ex-0/M000"
    assert decode_logs(raw) == {2: "héllo\n"}


def test_store_without_output_writes_nothing(storage: LocalhostStorage) -> None:
    task = _task()
    document = StatusDocument(task.job_key, task.task_id, 0, None, {})
    CallOutput().store(storage, task, 0, document)
    assert "logs_key" not in document.worker
    assert storage.list_keys("b", keys.LOGS_PREFIX) == []


def test_draining_some_calls_leaves_the_others_pending() -> None:
    output = CallOutput()
    for index, text in ((OUTSIDE_CALLS, "between\n"), (0, "zero\n"), (1, "one\n"), (2, "two\n")):
        output.index = index
        output.add(text)
    assert output.drain({0, 1}) == {OUTSIDE_CALLS: "between\n", 0: "zero\n", 1: "one\n"}
    assert output.pending and output.drain() == {2: "two\n"}

"""The action runs its task in the container's supervised pool and never outlives its
activation: before `__OW_DEADLINE` it kills the workers still on the task and fails the calls
that did not report with a timeout, sealed with the invocation's key."""

from __future__ import annotations

import os
import time
from pathlib import Path

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
from wren_backend_ibmcf import action


def test_an_activation_stops_before_its_deadline_and_fails_what_did_not_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = open_storage("localhost", {"storage_dir": str(tmp_path)}, {})
    storage.create_bucket("b")
    serializer = CloudpickleSerializer()
    blob = pack_function(fn.sleep_for, serializer, None, (), frozenset())
    storage.put_object("b", keys.func_key(blob.digest), blob.data)
    calls = ArgumentBinder(fn.sleep_for).bind_all([30.0, 30.0])
    data = serializer.dumps(calls.payloads)  # inline: the invocation vouches for it
    task = Task(job_key="ex-9/M000", task_id="t00000", func_key=keys.func_key(blob.digest),
                call_indices=range(2), data_range=(0, len(data)), storage_backend="localhost",
                storage_config=dict(storage.config), bucket="b", binding=calls.binding,
                inline_data=data, options=TaskOptions())
    deadline = time.time() + action.DEADLINE_MARGIN + 1.5
    monkeypatch.setenv("__OW_DEADLINE", str(int(deadline * 1000)))
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))  # restored after
    monkeypatch.setattr(action, "_pool", None)
    started = time.monotonic()
    try:
        reports = action.run_supervised(Invocation(task, TEST_KEY), {})
        assert time.monotonic() - started < 8
    finally:
        if action._pool is not None:
            action._pool.shutdown()
    assert reports.done and reports.lost == 2
    [key] = storage.list_keys("b", keys.status_prefix(task.job_key))
    document = StatusDocument.open(storage.get_object("b", key), TEST_KEY)
    assert sorted(document.indices) == [0, 1]
    assert {e["kind"] for e in document.errors.values()} == {"timeout"}
    assert "reached its time limit" in document.errors[0]["message"]

"""Fixtures for wren-core's unit tests: a thread-backed compute backend over shared
in-memory storage, registered as if installed through entry points."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from importlib.metadata import EntryPoint
from typing import Any, ClassVar

import pytest
from wren import plugins
from wren.ports import ComputeBackend, InvocationListener
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.testing import MemoryStorage
from wren.worker import run_task


class SharedMemoryStorage(MemoryStorage):
    """Every instance sees the same objects, like clients of one server."""

    name: ClassVar[str] = "shared_memory"
    _shared: ClassVar[dict[Any, Any]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, config: Any = None) -> None:
        super().__init__(config)
        self._objects = SharedMemoryStorage._shared
        self._lock = SharedMemoryStorage._shared_lock


class ThreadCompute(ComputeBackend):
    """Runs tasks on threads; `drop` names task ids it silently loses (like a platform that
    accepts an invocation and never runs it)."""

    name: ClassVar[str] = "threads"
    drop: ClassVar[set[str]] = set()
    grace: ClassVar[float] = 0.5

    def invoke(self, invocations: Sequence[Invocation], listener: InvocationListener) -> None:
        storage = SharedMemoryStorage()
        for invocation in invocations:
            if invocation.task.task_id in self.drop:
                continue
            threading.Thread(target=run_task, args=(invocation.task, storage),
                             kwargs={"key": invocation.key}, daemon=True).start()

    def lost_deadline(self, task: Task, invoked_at: float) -> float | None:
        return invoked_at + task.timeout * len(task.call_indices) + self.grace


@pytest.fixture
def thread_backends(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[ThreadCompute]]:
    """Make `backend="threads"`, `storage="shared_memory"` available; yields the compute
    class so a test can set `drop`."""
    real_scan = plugins._scan
    extra = {
        plugins.COMPUTE_GROUP: EntryPoint("threads", f"{__name__}:ThreadCompute",
                                          plugins.COMPUTE_GROUP),
        plugins.STORAGE_GROUP: EntryPoint("shared_memory", f"{__name__}:SharedMemoryStorage",
                                          plugins.STORAGE_GROUP),
    }
    classes = {"threads": ThreadCompute, "shared_memory": SharedMemoryStorage}

    def scan(group: str) -> dict[str, EntryPoint]:
        found = dict(real_scan(group))
        if group in extra:
            found[extra[group].name] = extra[group]
        return found

    real_load = plugins.load

    def load(group: str, name: str) -> Any:
        return classes[name] if name in classes else real_load(group, name)

    monkeypatch.setattr(plugins, "_scan", scan)
    monkeypatch.setattr(plugins, "load", load)
    SharedMemoryStorage._shared.clear()
    ThreadCompute.drop = set()
    yield ThreadCompute

"""`ArrayWatcher`: failed instances of array jobs become lost calls, once each."""

from __future__ import annotations

import threading
import time
from typing import Any

from wren.dispatch import ArrayWatcher
from wren.protocol.task import Task


def task(n: int) -> Task:
    return Task(job_key="exec/M000", task_id=f"t{n}", func_key="f",
                call_indices=range(2 * n, 2 * n + 2), data_range=(0, 0),
                storage_backend="memory", storage_config={}, bucket="b")


class Listener:
    def __init__(self) -> None:
        self.lost: list[tuple[str, list[int], str, str]] = []

    def status_pushed(self, document: bytes) -> None:
        raise AssertionError("not used")

    def calls_lost(self, *args: Any) -> None:
        self.lost.append(args)


class Scripted(ArrayWatcher):
    """Reports what the test puts in `failures` from its own thread."""

    def __init__(self) -> None:
        super().__init__("test-array-watch")
        self.failures: list[tuple[str, int, str]] = []
        self.started = threading.Event()

    def watch(self) -> None:
        self.started.set()
        while not self.stopping.wait(0.01):
            while self.failures:
                self.report(*self.failures.pop(0))


def test_each_failed_instance_loses_its_tasks_calls_once() -> None:
    watcher, listener = Scripted(), Listener()
    watcher.expect("job-a", [task(0), task(1)], listener)
    assert watcher.started.wait(5) and watcher.expected() == ["job-a"]
    watcher.report("job-a", 1, "pod OOMKilled")
    watcher.report("job-a", 1, "pod OOMKilled again")  # once per instance
    watcher.report("job-a", 7, "no such instance")
    watcher.report("job-b", 0, "no such job")
    assert listener.lost == [("exec/M000", [2, 3], "pod OOMKilled", "lost")]
    watcher.forget("job-a")
    watcher.report("job-a", 0, "after it ended")
    assert len(listener.lost) == 1 and watcher.expected() == []
    watcher.close()
    assert not watcher._thread.is_alive()  # type: ignore[union-attr]


def test_reports_come_from_the_watchers_thread_and_close_stops_it() -> None:
    watcher, listener = Scripted(), Listener()
    watcher.failures.append(("job-a", 0, "image cannot be pulled"))
    watcher.expect("job-a", [task(0)], listener)
    deadline = time.monotonic() + 5
    while not listener.lost and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.lost == [("exec/M000", [0, 1], "image cannot be pulled", "lost")]
    watcher.close()
    watcher.expect("job-b", [task(0)], listener)  # closed: no thread starts again
    assert [t for t in threading.enumerate() if t.name == "test-array-watch"] == []

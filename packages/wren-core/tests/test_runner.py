"""The worker's `run_task`, run in-process against in-memory storage."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from wren.client.binding import ArgumentBinder
from wren.client.builder import JobBuilder, JobSpec
from wren.ports import ComputeBackend, WorkerStorage
from wren.protocol import keys
from wren.protocol.logs import decode_logs
from wren.protocol.results import load_document_values, result_object
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task, TaskOptions
from wren.serialize import CloudpickleSerializer
from wren.testing import TEST_KEY, MemoryStorage
from wren.testing import functions as fn
from wren.worker import run_task
from wren.worker.pool.slots import marked_call
from wren.worker.runner import (
    EAGER_FLUSH_SECONDS,
    FLUSH_COST_FACTOR,
    GROUP,
    NO_CALL,
    SINGLES,
    early_flush_after,
)


class PlanOnly(ComputeBackend):
    """Enough of a compute backend for the builder: it never invokes anything."""

    name = "plan-only"
    max_payload_bytes = 1 << 20

    def invoke(self, tasks: Any, listener: Any) -> None:
        raise AssertionError("not used")


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def build(storage: MemoryStorage, func: Callable[..., Any], items: list[Any],
          chunksize: int | None = None, **spec: Any) -> list[Task]:
    compute = PlanOnly({"max_workers": 1}, WorkerStorage("memory", {}, {}))
    builder = JobBuilder("exec-0", storage, "b", CloudpickleSerializer(), compute, TEST_KEY)
    bound = ArgumentBinder(func).bind_all(items)
    return builder.build(JobSpec(func, bound, "M000", spec.pop("timeout", 60.0),
                                 chunksize=chunksize, **spec))


def outcomes(storage: MemoryStorage, task: Task) -> list[tuple[StatusDocument, list[Any]]]:
    found = []
    for key in storage.list_keys("b", keys.status_prefix(task.job_key)):
        document = StatusDocument.open(storage.get_object("b", key), TEST_KEY)
        blob = result_object(document, storage, "b")
        found.append((document, load_document_values(document, blob, CloudpickleSerializer(), TEST_KEY)))
    return found


def test_a_task_writes_one_status_and_one_result_object(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.double, list(range(100)))
    pushed: list[StatusDocument] = []
    run_task(task, storage, key=TEST_KEY, push=lambda document, encoded: pushed.append(document))
    [(document, values)] = outcomes(storage, task)
    assert values == [2 * i for i in range(100)]
    assert list(document.indices) == list(range(100)) and not document.errors
    assert len(pushed) == 1 and pushed[0].name == document.name
    assert document.worker["pid"] == os.getpid() and document.worker["result_bytes"] > 0


def test_errors_keep_type_message_and_traceback(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.fail_on, [(0, 1), (1, 1), (2, 1)])
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    assert values[0] == 0 and values[2] == 2
    error = document.errors[1]
    assert error["type"] == "KeyError" and error["kind"] == "exception"
    assert "fail_on" in error["traceback"] and "run_task" not in error["traceback"]
    assert isinstance(values[1], KeyError)


def test_unserializable_result_becomes_an_error_for_that_call_only(storage: MemoryStorage
                                                                   ) -> None:
    def maybe_lock(x: int) -> Any:
        import threading

        return threading.Lock() if x == 1 else x

    (task,) = build(storage, maybe_lock, [0, 1, 2])
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    assert list(document.errors) == [1] and "cannot be serialized" in \
        document.errors[1]["message"]
    assert values[0] == 0 and values[2] == 2


def test_a_missing_function_fails_every_call_clearly(storage: MemoryStorage) -> None:
    marker = object()
    (task,) = build(storage, lambda x: (x, marker) and x, [1, 2])
    storage.delete_object("b", task.func_key)
    run_task(task, storage, key=TEST_KEY)
    [(document, _)] = outcomes(storage, task)
    assert sorted(document.errors) == [0, 1]
    assert "could not load the job" in document.errors[0]["message"]


def test_long_tasks_flush_in_parts(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.sleep_then, [(0.06, i) for i in range(4)],
                    options=TaskOptions(flush_interval=0.1))
    run_task(task, storage, key=TEST_KEY)
    found = outcomes(storage, task)
    assert len(found) >= 2
    assert sorted(v for _, values in found for v in values) == [0, 1, 2, 3]


def test_timeouts_interrupt_the_call(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.sleep_then, [(5, "slow"), (0, "fast")], timeout=0.3)
    run_task(task, storage, key=TEST_KEY)
    # the timed-out call took a while, so it has its own document (flushed early)
    [(document, _), (_, values)] = sorted(outcomes(storage, task), key=lambda p: p[0].part)
    assert document.errors[0]["kind"] == "timeout"
    assert "exceeded its 0.3 s timeout" in document.errors[0]["message"]
    assert values == ["fast"]


def test_retried_subset_runs_only_its_positions(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.double, [10, 11, 12, 13])
    retry = task.subset([1, 3], ".r1")
    run_task(retry, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, retry)
    assert (list(document.indices), values) == ([1, 3], [22, 26])


def test_slices_of_a_task_run_their_own_calls(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.double, [10, 11, 12, 13, 14])
    head, rest = task.split(2)
    later, last = rest.split(2)
    for part in (head, later, last):
        run_task(part, storage, key=TEST_KEY)
    got = sorted((list(document.indices), values) for part in (head, later, last)
                 for document, values in outcomes(storage, part)
                 if document.task_id == part.task_id)
    assert got == [([0, 1], [20, 22]), ([2, 3], [24, 26]), ([4], [28])]


def test_a_slice_naming_calls_its_chunk_lacks_fails_each_call(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.double, [10, 11, 12])
    forged = task.with_changes(call_indices=range(0, 5), positions=range(1, 6))
    run_task(forged, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, forged)
    assert list(document.indices) == [0, 1, 2, 3, 4] and len(document.errors) == 5
    assert all(isinstance(value, Exception) for value in values)  # no call ran
    assert "names calls 1-5 of a chunk of 3 arguments" in document.errors[0]["message"]


class OneTaskPlan(PlanOnly):
    """A backend whose platform shares a task out itself, up to `task_bytes` of arguments."""

    task_bytes = 4096

    def plan_chunksize(self, n_calls: int) -> int:
        return max(1, n_calls)


def test_tasks_hold_about_the_backends_task_bytes_of_arguments(storage: MemoryStorage) -> None:
    compute = OneTaskPlan({"max_workers": 2}, WorkerStorage("memory", {}, {}))
    builder = JobBuilder("exec-0", storage, "b", CloudpickleSerializer(), compute, TEST_KEY)
    small = builder.build(JobSpec(fn.double, ArgumentBinder(fn.double).bind_all(
        list(range(100))), "M000", 60.0))
    assert [t.call_indices for t in small] == [range(0, 100)]  # one task for the platform
    words = ["w" * 200] * 100  # ~250 bytes each: 16 to a task of 4 KiB
    tasks = builder.build(JobSpec(fn.double, ArgumentBinder(fn.double).bind_all(words),
                                  "M001", 60.0))
    per_task = 4096 // sys.getsizeof(words[0])
    assert [len(t.call_indices) for t in tasks] == \
        [per_task] * (100 // per_task) + [100 % per_task] * (100 % per_task > 0)


def test_extra_env_is_set_during_the_call_and_restored(storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.read_env, ["WREN_RUNNER_TEST"],
                    extra_env={"WREN_RUNNER_TEST": "on"})
    run_task(task, storage, key=TEST_KEY)
    [(_, values)] = outcomes(storage, task)
    assert values == ["on"] and "WREN_RUNNER_TEST" not in os.environ


def test_large_argument_data_goes_to_a_data_object(storage: MemoryStorage) -> None:
    tasks = build(storage, fn.payload_size, [b"x" * 1_500_000, b"y" * 1_500_000], chunksize=1)
    assert all(t.inline_data is None and t.data_key for t in tasks)
    for task in tasks:
        run_task(task, storage, key=TEST_KEY)
    assert [outcomes(storage, t)[0][1] for t in tasks] == [[1_500_000], [1_500_000]]


def test_a_call_that_took_a_while_is_flushed_without_waiting_for_the_interval(
        storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.sleep_then, [(0.08, 0), (0.0, 1), (0.0, 2)])
    assert task.options.flush_interval >= 1  # the default interval alone would flush once
    run_task(task, storage, key=TEST_KEY)
    found = sorted(outcomes(storage, task), key=lambda pair: pair[0].part)
    assert [list(document.indices) for document, _ in found] == [[0], [1, 2]]


def test_the_flush_policy() -> None:
    assert early_flush_after(2.0, 0.0) == EAGER_FLUSH_SECONDS  # a call that took a while
    assert early_flush_after(2.0, 0.1) == FLUSH_COST_FACTOR * 0.1  # slow storage: rarer
    assert early_flush_after(2.0, 60.0) == 2.0  # never past the interval
    assert early_flush_after(0.01, 0.0) == 0.01
    assert early_flush_after(math.inf, 0.0) == math.inf  # one document per task


def test_failed_calls_in_a_run_leave_the_columns_aligned(storage: MemoryStorage) -> None:
    # The loop's `try` is around the loop: after each failure it goes on with the next call.
    items = [(i, -1) if i % 3 else (i, i) for i in range(30)]  # every third call fails
    (task,) = build(storage, fn.fail_on, items)
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    assert list(document.indices) == list(range(30))
    assert sorted(document.errors) == list(range(0, 30, 3))
    assert len(document.func_start) == len(document.func_end) == 30
    assert all(s <= e for s, e in zip(document.func_start, document.func_end))
    assert [v for i, v in enumerate(values) if i % 3] == [i for i in range(30) if i % 3]


def test_each_call_starts_when_the_one_before_it_ended(storage: MemoryStorage) -> None:
    """The loop reads the clock once per call: a part's first call starts when the part
    began, each later one when the call before it ended (failed or not), and a call's
    times still span what it did (here a sleep)."""
    items = [(0.02, 0), (0.0, 1), (0.03, 2), (0.0, 3)]
    (task,) = build(storage, fn.sleep_then, items, options=TaskOptions(flush_interval=math.inf))
    before = time.time()
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    starts, ends = list(document.func_start), list(document.func_end)
    assert values == [0, 1, 2, 3] and len(starts) == len(ends) == 4
    assert before <= starts[0] and starts[1:] == ends[:-1]
    assert ends[0] - starts[0] >= 0.02 and ends[2] - starts[2] >= 0.03
    assert ends[1] - starts[1] < 0.02 and ends[3] <= time.time()
    other = MemoryStorage()
    (task,) = build(other, fn.fail_on, [(0, 0), (1, 0), (2, 2)])
    run_task(task, other, key=TEST_KEY)
    [(document, _)] = outcomes(other, task)
    assert sorted(document.errors) == [0, 2]
    assert list(document.func_start)[1:] == list(document.func_end)[:-1]


def test_output_is_filed_under_the_call_that_printed_it(storage: MemoryStorage) -> None:
    # the capture asks the loop's columns which call runs; nothing is set per call
    (task,) = build(storage, fn.talk, [0, 1, 0, 3])
    run_task(task, storage, key=TEST_KEY)
    [(document, _)] = outcomes(storage, task)
    logs = storage.get_object("b", document.worker["logs_key"]).decode()
    assert "out 1" in logs and "err 3" in logs
    assert sorted(document.extra) == [1, 3]  # calls 0 and 2 printed nothing


def test_a_failing_flush_is_not_taken_for_a_failed_call(storage: MemoryStorage) -> None:
    class Broken(MemoryStorage):
        def put_object(self, bucket: str, key: str, data: Any) -> None:
            if key.endswith(".status"):
                raise ConnectionError("storage is down")
            super().put_object(bucket, key, data)

    broken = Broken()
    (task,) = build(broken, fn.double, [1, 2, 3])
    with pytest.raises(ConnectionError, match="storage is down"):
        run_task(task, broken, key=TEST_KEY)


def test_the_mark_names_each_call_then_no_call(storage: MemoryStorage) -> None:
    seen: list[int] = []

    class Table(list[int]):
        def __setitem__(self, row: Any, value: Any) -> None:
            seen.append(value)
            super().__setitem__(row, value)

    (task,) = build(storage, fn.double, [5, 6, 7])
    table = Table([0, 0])
    run_task(task, storage, key=TEST_KEY, mark=(table, 1))
    assert seen == [0, 1, 2, -1] and table == [0, -1]


def test_a_timed_out_call_that_catches_the_error_is_not_interrupted_twice(
        storage: MemoryStorage) -> None:
    (task,) = build(storage, fn.catch_timeout_then_sleep, [0.5], timeout=0.2)
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    assert not document.errors and values == ["caught once"]


def _times(storage: MemoryStorage, task: Task) -> tuple[list[float], list[float], list[Any]]:
    """Starts, ends and values of a task's calls, in call order, over all its documents
    (starts are chained within a document: a part's first call starts when it began)."""
    found = sorted(outcomes(storage, task), key=lambda pair: pair[0].part)
    starts = [t for document, _ in found for t in document.func_start]
    ends = [t for document, _ in found for t in document.func_end]
    return starts, ends, [v for _, values in found for v in values]


def test_short_calls_are_timed_a_group_at_a_time(storage: MemoryStorage) -> None:
    """Reading the clock costs as much as a no-op call: once calls prove short, the loop
    reads it once per group of calls, which end together; starts stay chained."""
    n = 4000
    (task,) = build(storage, fn.double, list(range(n)),
                    options=TaskOptions(flush_interval=math.inf))
    before = time.time()
    run_task(task, storage, key=TEST_KEY)
    starts, ends, values = _times(storage, task)
    assert values == [2 * i for i in range(n)] and len(starts) == len(ends) == n
    assert before <= starts[0] and starts[1:] == ends[:-1] and ends == sorted(ends)
    assert ends[-1] <= time.time()
    # about one reading per GROUP calls (timed one by one: one per call, or one per 0.24 µs
    # of the clock's resolution)
    assert len(set(ends)) <= n // 8


def test_a_slow_call_puts_the_loop_back_to_timing_each_call(storage: MemoryStorage) -> None:
    """The first `SINGLES` calls are timed one by one, then short calls run in groups of
    `GROUP`. The group that holds a slow call spans its time (here the call starts the
    group, and is shorter than the watchdog's look), and the calls after it are timed one
    by one, so a slow call there has its own span and the short one before it has not."""
    slow, later = SINGLES + GROUP, SINGLES + 2 * GROUP + SINGLES // 2
    items: list[tuple[float, int]] = [(0.0, i) for i in range(later + 20)]
    items[slow] = (0.03, slow)
    items[later] = (0.02, later)
    (task,) = build(storage, fn.sleep_then, items, options=TaskOptions(flush_interval=math.inf))
    run_task(task, storage, key=TEST_KEY)
    starts, ends, values = _times(storage, task)
    assert values == list(range(later + 20)) and starts[1:] == ends[:-1]
    assert ends[slow] - starts[slow] >= 0.03
    assert ends[later] - starts[later] >= 0.02 and ends[later - 1] - starts[later - 1] < 0.02


def test_the_watchdog_ends_a_group_after_a_call_that_runs_long(storage: MemoryStorage) -> None:
    """A group of short calls runs without a step of Python between its calls, yet a call
    in the middle of one that runs past the watchdog's look ends the group: the loop reads
    the clock right after it, and the calls after it run one by one, each once, timed
    apart."""
    slow = SINGLES + GROUP // 2
    items: list[tuple[float, int]] = [(0.0, i) for i in range(SINGLES + 2 * GROUP)]
    items[slow] = (0.2, slow)
    items[slow + 3] = (0.1, slow + 3)
    (task,) = build(storage, nap_then, items, options=TaskOptions(flush_interval=math.inf))
    run_task(task, storage, key=TEST_KEY)
    starts, ends, values = _times(storage, task)
    assert values == list(range(len(items))) and starts[1:] == ends[:-1]
    # its group (spanned by its first call) ended right after it, before the 0.1 s call
    assert 0.2 <= ends[slow] - starts[SINGLES] < 0.25
    assert ends[slow + 3] - starts[slow + 3] >= 0.1  # timed alone
    assert all(ends[i] - starts[i] < 0.05 for i in (slow + 1, slow + 2, slow + 4))


def test_without_grouping_each_call_is_marked(storage: MemoryStorage) -> None:
    """A pool that must know which call a dead worker ran gets each call's index in the
    mark, never a group mark; with grouping, short calls mark their group's first call."""
    def marks_seen(group_calls: bool) -> list[int]:
        seen: list[int] = []

        class Recording(list):  # type: ignore[type-arg]
            def __setitem__(self, where: Any, value: Any) -> None:
                seen.append(value)
                super().__setitem__(where, value)

        (task,) = build(storage, fn.double, list(range(200)))
        run_task(task, storage, key=TEST_KEY, mark=(Recording([NO_CALL]), 0),
                 group_calls=group_calls)
        return seen

    assert marks_seen(False) == [*range(200), NO_CALL]
    grouped = marks_seen(True)
    assert grouped[:SINGLES] == list(range(SINGLES)) and grouped[-1] == NO_CALL
    assert [marked_call(mark) for mark in grouped[SINGLES:SINGLES + 2]] == [
        (SINGLES, False), (SINGLES + GROUP, False)]
    assert len(grouped) < 200 // 4


def test_a_call_that_fails_among_grouped_calls_keeps_its_place(storage: MemoryStorage) -> None:
    items = [(i, 300) for i in range(600)]  # call 300 raises (x == bad)
    (task,) = build(storage, fn.fail_on, items, options=TaskOptions(flush_interval=math.inf))
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    starts, ends = list(document.func_start), list(document.func_end)
    assert sorted(document.errors) == [300] and isinstance(values[300], KeyError)
    assert [v for i, v in enumerate(values) if i != 300] == [i for i in range(600) if i != 300]
    assert len(starts) == len(ends) == 600 and starts[1:] == ends[:-1] and ends == sorted(ends)


def test_a_call_that_hangs_among_grouped_calls_is_the_one_timed_out(
        storage: MemoryStorage) -> None:
    items: list[tuple[float, Any]] = [(0.0, i) for i in range(200)]
    items[150] = (5.0, "hangs")
    (task,) = build(storage, fn.sleep_then, items, timeout=0.3)
    began = time.monotonic()
    run_task(task, storage, key=TEST_KEY)
    assert time.monotonic() - began < 3
    found = outcomes(storage, task)
    errors = {document.indices[p]: e for document, _ in found for p, e in document.errors.items()}
    assert list(errors) == [150] and errors[150]["kind"] == "timeout"
    starts, ends, values = _times(storage, task)
    assert [v for i, v in enumerate(values) if i != 150] == [i for i in range(200) if i != 150]
    assert ends[150] - starts[150] >= 0.3 and ends == sorted(ends)


def nap_then(seconds: float, value: Any) -> Any:
    """A no-op call when `seconds` is 0 (`fn.sleep_then` sleeps 0 s in a system call)."""
    if seconds:
        time.sleep(seconds)
    return value


def test_slow_calls_after_short_ones_are_neither_cut_short_nor_reported_late(
        storage: MemoryStorage) -> None:
    """Short calls are timed a group at a time; when calls turn slow inside a group, the
    watchdog's question ends the group after the running call: no call is taken for
    overrunning its limit because the calls before it in the group took a while, and the
    first slow call's status is written after it, not after the rest of its group."""
    items: list[tuple[float, int]] = [(0.0, i) for i in range(64)]
    items += [(0.15, 64 + i) for i in range(8)]  # 8 x 0.15 s: over the 0.5 s limit in all
    (task,) = build(storage, nap_then, items, timeout=0.5)
    run_task(task, storage, key=TEST_KEY)
    found = sorted(outcomes(storage, task), key=lambda pair: pair[0].part)
    assert not any(document.errors for document, _ in found)
    assert [v for _, values in found for v in values] == list(range(72))
    first_slow = next(document for document, _ in found if 64 in document.indices)
    assert max(first_slow.indices) == 64  # flushed right after it
    starts, ends, _ = _times(storage, task)
    assert all(ends[i] - starts[i] >= 0.15 for i in range(65, 72))  # each timed alone


def _by_part(storage: MemoryStorage, task: Task) -> list[tuple[StatusDocument, list[Any]]]:
    return sorted(outcomes(storage, task), key=lambda pair: pair[0].part)


def test_quick_calls_are_reported_while_a_slow_call_after_them_runs(
        storage: MemoryStorage) -> None:
    """A task's calls that finished are written once a call after them has run past
    `EAGER_FLUSH_SECONDS`, not when it ends: `map(f, [0, 0, 6], timeout=3)` of
    `concurrent.futures` must yield its first two results before the timeout."""
    (task,) = build(storage, nap_then, [(0.0, 0), (0.0, 1), (0.6, 2), (0.0, 3)])
    pushed: list[tuple[float, list[int]]] = []
    run_task(task, storage, key=TEST_KEY,
             push=lambda document, encoded: pushed.append((time.time(),
                                                           list(document.indices))))
    found = _by_part(storage, task)
    assert [list(document.indices) for document, _ in found] == [[0, 1], [2], [3]]
    assert [values for _, values in found] == [[0, 1], [2], [3]]
    slow = found[1][0]
    assert pushed[0][1] == [0, 1] and pushed[0][0] < slow.func_end[0] - 0.3  # long before
    assert slow.func_start[0] == found[0][0].func_end[-1]  # it started when call 1 ended
    assert slow.func_end[0] - slow.func_start[0] >= 0.6


def test_early_parts_keep_each_failure_on_its_own_call(storage: MemoryStorage) -> None:
    """Errors are filed by position in their part: a part written early, and the part
    after it, each carry their own calls' failures."""
    def shaky(seconds: float, value: int) -> int:
        if seconds:
            time.sleep(seconds)
        if value % 2:
            raise ValueError(f"odd {value}")
        return value

    items = [(0.0, 0), (0.0, 1), (0.0, 2), (0.3, 3), (0.0, 4), (0.0, 5)]
    (task,) = build(storage, shaky, items)
    run_task(task, storage, key=TEST_KEY)
    found = _by_part(storage, task)
    assert list(found[0][0].indices) == [0, 1, 2]  # written while call 3 ran
    failed = {document.indices[p]: error["message"] for document, _ in found
              for p, error in document.errors.items()}
    assert failed == {1: "odd 1", 3: "odd 3", 5: "odd 5"}
    values = {i: v for document, vs in found for i, v in zip(document.indices, vs)}
    assert [values[i] for i in (0, 2, 4)] == [0, 2, 4]
    assert all(isinstance(values[i], ValueError) for i in (1, 3, 5))


def chatty(seconds: float, value: int) -> int:
    print(f"start {value}")
    if seconds:
        time.sleep(seconds)
    print(f"end {value}")
    return value


def test_an_early_part_takes_only_its_calls_output(storage: MemoryStorage) -> None:
    """What the running call printed so far stays for its own part."""
    (task,) = build(storage, chatty, [(0.0, 0), (0.0, 1), (0.3, 2)])
    run_task(task, storage, key=TEST_KEY)
    found = _by_part(storage, task)
    assert [list(document.indices) for document, _ in found] == [[0, 1], [2]]
    logs = [decode_logs(storage.get_object("b", document.worker["logs_key"]))
            for document, _ in found]
    assert logs == [{0: "start 0\nend 0\n", 1: "start 1\nend 1\n"}, {2: "start 2\nend 2\n"}]


def test_one_document_per_task_is_never_written_early(storage: MemoryStorage) -> None:
    """An infinite flush interval (a queue-fed runtime's one status per task) stays one."""
    (task,) = build(storage, nap_then, [(0.0, 0), (0.0, 1), (0.3, 2), (0.0, 3)])
    run_task(task, storage, key=TEST_KEY, flush_interval=math.inf)
    [(document, values)] = outcomes(storage, task)
    assert list(document.indices) == [0, 1, 2, 3] and values == [0, 1, 2, 3]


def test_only_timed_calls_of_a_group_go_early_and_none_twice(storage: MemoryStorage) -> None:
    """Short calls timed a group at a time: those of the running call's group, not timed
    yet, wait for it; every call is reported once, in order."""
    items: list[tuple[float, int]] = [(0.0, i) for i in range(70)] + [(0.4, 70)]
    items += [(0.0, 71 + i) for i in range(5)]
    (task,) = build(storage, nap_then, items)
    run_task(task, storage, key=TEST_KEY)
    found = _by_part(storage, task)
    reported = [i for document, _ in found for i in document.indices]
    assert reported == list(range(76))
    assert [v for _, values in found for v in values] == list(range(76))
    assert 70 not in found[0][0].indices and len(found[0][0].indices) >= SINGLES
    starts, ends, _ = _times(storage, task)
    assert ends == sorted(ends) and starts == sorted(starts)


class FailsFromThreads(MemoryStorage):
    """Storage that refuses writes from any thread but the main one."""

    def put_object(self, bucket: str, key: str, body: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise ConnectionError("storage went away")
        super().put_object(bucket, key, body)


def test_a_failed_early_report_leaves_its_calls_to_the_next_flush(
        capsys: pytest.CaptureFixture[str]) -> None:
    storage = FailsFromThreads()
    (task,) = build(storage, nap_then, [(0.0, 0), (0.0, 1), (0.3, 2)])
    run_task(task, storage, key=TEST_KEY)
    [(document, values)] = outcomes(storage, task)
    assert list(document.indices) == [0, 1, 2] and values == [0, 1, 2]
    assert "could not report the calls finished so far: storage went away" in \
        capsys.readouterr().err


def test_a_task_asked_for_its_calls_back_ends_after_the_running_one(
        storage: MemoryStorage) -> None:
    """`asked_back` (a pool whose other worker idles): the calls not started are left for
    the caller to run elsewhere; the running one ends normally and is reported."""
    asked = iter([False, True])
    (task,) = build(storage, nap_then, [(0.12, i) for i in range(10)])
    run_task(task, storage, key=TEST_KEY, asked_back=lambda: next(asked, False))
    reported = [i for document, _ in _by_part(storage, task) for i in document.indices]
    values = [v for _, vs in _by_part(storage, task) for v in vs]
    assert 1 <= len(reported) <= 3 and reported == values == list(range(len(reported)))
    assert not any(document.errors for document, _ in _by_part(storage, task))

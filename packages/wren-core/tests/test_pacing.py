"""Adaptive hand-out of calls by the client's pool: slice sizes from measured call times
(`wren.worker.pool.pacing`), and how the pool cuts a queued task into slices."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from typing import Any

import pytest
from wren.protocol.task import Task, TaskOptions
from wren.worker.pool import Assignment, WorkerPool
from wren.worker.pool.pacing import (
    SHORT_SLICE_SECONDS,
    SLICE_MAX_BYTES,
    SLICE_SECONDS,
    SPREAD_SECONDS,
    Pacer,
)
from wren.worker.pool.slots import IDLE
from wren.worker.pool.supervisor import ASK_BACK_AFTER


def task(calls: int, *, inline: bytes | None = b"args", keep_together: bool = False,
         func_key: str = "func/abc") -> Task:
    return Task(job_key="e/M000", task_id="t00003", func_key=func_key,
                call_indices=range(10, 10 + calls), data_range=(0, len(inline or b"")),
                storage_backend="memory", storage_config={}, bucket="b",
                inline_data=inline, options=TaskOptions(keep_together=keep_together))


def assignment(t: Task) -> Assignment:
    return Assignment(t, listener=None, profile=("p", "memory", {}),  # type: ignore[arg-type]
                      owner=1, key=b"k" * 32)


def test_an_unmeasured_function_gets_a_probing_share_per_worker() -> None:
    pacer = Pacer()
    assert pacer.slice_size("f", 40) == 40  # nobody to share with
    assert pacer.slice_size("f", 40, workers=2) == 20
    assert pacer.slice_size("f", 41, workers=2) == 21  # the rest: 20 for the other worker
    assert pacer.slice_size("f", 1, workers=2) == 1 and pacer.slice_size("f", 0) == 0
    assert not pacer.prefetch("f")  # its calls may be long


def test_slices_grow_while_calls_are_short() -> None:
    pacer = Pacer()
    pacer.record("f", 1, 0.004)  # a call measured with its dispatch: a slow start
    sizes = []
    per_call = [0.0004, 0.00001]  # dispatch overhead shrinks per call as slices grow
    for seconds in per_call:
        size = pacer.slice_size("f", 10_000)
        sizes.append(size)
        pacer.record("f", size, seconds * size)
    sizes.append(pacer.slice_size("f", 10_000))
    assert sizes == [int(SLICE_SECONDS / 0.004), int(SLICE_SECONDS / 0.0004),
                     int(SLICE_SECONDS / 0.00001)]
    assert sizes == sorted(sizes) and pacer.prefetch("f")


def test_long_calls_go_one_by_one_and_never_wait_in_a_pipe() -> None:
    pacer = Pacer()
    pacer.record("f", 1, 0.3)
    assert pacer.slice_size("f", 40) == 1
    assert not pacer.prefetch("f")
    pacer.record("f", 50, 0.05)  # the same function turned short: it is re-measured
    assert pacer.slice_size("f", 40) == 20 and pacer.prefetch("f")


def test_a_short_slice_lowers_the_measure_but_never_raises_it() -> None:
    """One no-op call (`call_async` before a map of the same function) takes the loop a few
    microseconds: as a measure it would cut the map's next 20,000 calls into slices of
    2,500 instead of one share per worker. A slice over `SHORT_SLICE_SECONDS` counts."""
    pacer = Pacer()
    pacer.record("f", 5000, 0.00075)  # 0.15 µs a call
    pacer.record("f", 1, 0.000008)
    assert pacer.per_call("f") == 0.00075 / 5000
    assert pacer.slice_size("f", 20_000, workers=2) == 10_000  # not 2,500 at 8 µs a call
    pacer.record("f", 100, 0.000005)  # lower: taken
    assert pacer.per_call("f") == 0.000005 / 100
    pacer.record("f", 1, 2 * SHORT_SLICE_SECONDS)  # long enough to tell: taken
    assert pacer.per_call("f") == 2 * SHORT_SLICE_SECONDS
    fresh = Pacer()
    fresh.record("g", 1, 0.000008)  # the first measure of a function is taken as it is
    assert fresh.per_call("g") == 0.000008


def test_short_calls_that_would_keep_one_worker_busy_are_shared_out() -> None:
    pacer = Pacer()
    pacer.record("f", 1000, 0.001)  # 1 µs a call
    worth_sharing = int(SPREAD_SECONDS / 1e-6) * 5  # five times the work worth sharing
    assert pacer.slice_size("f", worth_sharing, workers=2) == worth_sharing // 2
    assert pacer.slice_size("f", worth_sharing + 1, workers=2) == worth_sharing // 2 + 1
    assert pacer.slice_size("f", worth_sharing, workers=1) == worth_sharing  # nobody to share
    few = int(SPREAD_SECONDS / 1e-6) // 2  # cheaper than a second status: one worker
    assert pacer.slice_size("f", few, workers=2) == few
    # a share never exceeds a slice's worth of time
    many = int(SLICE_SECONDS / 1e-6) * 10
    assert pacer.slice_size("f", many, workers=2) == int(SLICE_SECONDS / 1e-6)
    assert Pacer().slice_size("new", few, workers=2) == few // 2  # not measured: probed


def test_a_slice_never_exceeds_what_is_left() -> None:
    pacer = Pacer()
    pacer.record("f", 1000, 0.0)
    assert pacer.slice_size("f", 7) == 7
    assert pacer.slice_size("f", 0) == 0


@pytest.fixture(scope="module")
def shared_pool() -> Iterator[WorkerPool]:
    p = WorkerPool(slicing=True)  # no workers are started: only the assignment logic runs
    yield p
    p.shutdown()


@pytest.fixture
def pool(shared_pool: WorkerPool) -> WorkerPool:
    shared_pool.pacer = Pacer()
    shared_pool._queue.clear()
    shared_pool._slicing = True
    return shared_pool


def cut_all(pool: WorkerPool, item: Assignment) -> list[Assignment]:
    """Hand `item` out slice by slice, as idle workers would take it from the queue."""
    queue: Any = pool._queue
    queue.append(item)
    out = []
    while queue:
        out.append(pool._cut(queue.popleft()))
    return out


def test_the_pool_cuts_a_task_into_slices_that_cover_each_call_once(pool: WorkerPool) -> None:
    pool.pacer.record("func/abc", 1, 0.3)  # long calls: one at a time
    slices = cut_all(pool, assignment(task(4)))
    assert [list(s.task.call_indices) for s in slices] == [[10], [11], [12], [13]]
    assert [list(s.task.positions) for s in slices] == [[0], [1], [2], [3]]
    ids = [s.task.task_id for s in slices]
    assert len(set(ids)) == 4 and all(i.startswith("t00003") for i in ids)
    assert all(s.task.attempt == 0 and s.task.args_context() == "e/M000/args/10"
               for s in slices)  # a slice is no retry, and reads its parent's arguments


def test_short_calls_leave_the_task_whole(pool: WorkerPool) -> None:
    pool.pacer.record("func/abc", 1000, 0.001)
    item = assignment(task(500))
    assert cut_all(pool, item) == [item]


def test_tasks_the_user_grouped_or_with_big_arguments_are_never_cut(pool: WorkerPool) -> None:
    kept = assignment(task(5, keep_together=True))
    big = assignment(task(5, inline=b"x" * (SLICE_MAX_BYTES + 1)))
    in_storage = assignment(task(5, inline=None))
    for item in (kept, big, in_storage):
        assert cut_all(pool, item) == [item]


def test_a_pool_without_slicing_hands_out_whole_tasks(pool: WorkerPool) -> None:
    pool._slicing = False  # what WorkerPool() is: a runtime's pool, a task per invocation
    item = assignment(task(5))
    assert cut_all(pool, item) == [item]


def test_the_rest_of_a_cut_task_keeps_its_place_in_the_queue(pool: WorkerPool) -> None:
    pool.pacer.record("func/abc", 1, 0.3)  # long calls: one at a time
    first, second = assignment(task(3)), assignment(task(2, func_key="func/other"))
    pool._queue = collections.deque([first, second])
    with pool._lock:
        item = pool._queue.popleft()
        head = pool._cut(item)
    assert list(head.task.call_indices) == [10]
    assert [list(i.task.call_indices) for i in pool._queue] == [[11, 12], [10, 11]]
    assert pool._queue[1] is second


class _Told:
    """A listener that is told which calls each pushed status covers."""

    def __init__(self) -> None:
        self.covered: list[tuple[bytes, str, list[int]]] = []

    def status_pushed_covering(self, document: bytes, job_key: str, indices: Any) -> None:
        self.covered.append((document, job_key, list(indices)))


def test_each_pushed_status_covers_the_calls_run_since_the_last(pool: WorkerPool) -> None:
    told = _Told()
    item = Assignment(task(6), listener=told, profile=("p", "memory", {}),  # type: ignore
                      owner=1, key=b"k" * 32)
    worker: Any = collections.namedtuple("Worker", "assignment")(item)
    pool._handle(worker, ("status", "t00003", 2, b"first"))
    pool._handle(worker, ("status", "t00003", 5, b"second"))
    pool._handle(worker, ("status", "t00003", 6, b"third"))
    assert told.covered == [(b"first", "e/M000", [10, 11]), (b"second", "e/M000", [12, 13, 14]),
                            (b"third", "e/M000", [15])]


class _IdleWorker:
    """Stands in for an idle `WorkerProcess`: records what the pool hands it."""

    def __init__(self) -> None:
        self.ready, self.assignment, self.kill_reason = True, None, None
        self.prefetched: list[Assignment] = []
        self.given: list[tuple[Assignment, bool]] = []

    def warmth(self, item: Assignment) -> int:
        return 0

    def assign(self, item: Assignment, ahead: bool = False) -> None:
        self.given.append((item, ahead))
        if ahead:
            self.prefetched.append(item)
        else:
            self.assignment = item


def test_idle_workers_share_a_task_of_short_calls_worth_sharing(pool: WorkerPool) -> None:
    pool.pacer.record("func/abc", 1000, 0.001)  # 1 µs a call
    calls = int(SPREAD_SECONDS / 1e-6) * 3
    workers = [_IdleWorker(), _IdleWorker()]
    pool._workers, pool._size = workers, 2  # type: ignore[assignment]
    try:
        pool._queue.append(assignment(task(calls)))
        pool._assign()
    finally:
        pool._workers, pool._size = [], 0
    given = [w.given for w in workers]
    assert [len(g) for g in given] == [1, 1] and not pool._queue
    shares = sorted((g[0][0].task for g in given), key=lambda t: t.call_indices[0])
    assert [t.call_indices for t in shares] == [range(10, 10 + calls // 2),
                                               range(10 + calls // 2, 10 + calls)]
    assert [t.positions for t in shares] == [range(0, calls // 2), range(calls // 2, calls)]


def test_one_idle_worker_takes_a_task_too_small_to_share(pool: WorkerPool) -> None:
    pool.pacer.record("func/abc", 1000, 0.0001)  # 0.1 µs a call: a no-op
    workers = [_IdleWorker(), _IdleWorker()]
    pool._workers, pool._size = workers, 2  # type: ignore[assignment]
    item = assignment(task(1000))
    try:
        pool._queue.append(item)
        pool._assign()
    finally:
        pool._workers, pool._size = [], 0
    assert sorted(len(w.given) for w in workers) == [0, 1]
    assert next(w for w in workers if w.given).given == [(item, False)]


class _BusyWorker:
    """Stands in for a `WorkerProcess` that started `item` `ran` seconds ago, whose mark the
    pool has read as `mark` since then."""

    def __init__(self, row: int, item: Assignment, mark: int, ran: float) -> None:
        self.row, self.assignment, self.ready, self.kill_reason = row, item, True, None
        now = time.monotonic()
        item.started = now - ran
        self.seen_in, self.seen_mark, self.seen_since = item, mark, now - ran


def test_a_slice_cut_before_its_function_is_measured_is_probing(pool: WorkerPool) -> None:
    head = pool._cut(assignment(task(40)), sharers=2)
    assert len(head.task.call_indices) == 20 and head.probing
    assert [len(i.task.call_indices) for i in pool._queue] == [20]
    pool._queue.clear()
    pool.pacer.record("func/abc", 1000, 0.001)
    assert not pool._cut(assignment(task(40)), sharers=2).probing


def test_a_probing_slice_is_asked_back_once_one_of_its_calls_runs_long(pool: WorkerPool
                                                                        ) -> None:
    """No worker idles, yet the probing slice whose call has run `ASK_BACK_AFTER` gives back
    the calls it has not started (its function's calls are long: they go one by one); a
    probing slice whose calls move on, one not started yet, and a measured slice keep
    theirs."""
    probing = [pool._cut(assignment(task(20)), sharers=2) for _ in range(3)]
    pool.pacer.record("func/abc", 1, 0.001)
    measured = pool._cut(assignment(task(20)))
    pool._queue.clear()
    assert all(p.probing for p in probing) and not measured.probing
    workers = [_BusyWorker(0, probing[0], 12, 2 * ASK_BACK_AFTER),  # one call, long
               _BusyWorker(1, probing[1], 13, ASK_BACK_AFTER / 5),  # a call just started
               _BusyWorker(2, probing[2], IDLE, 2 * ASK_BACK_AFTER),  # loading its function
               _BusyWorker(3, measured, 10, 2 * ASK_BACK_AFTER)]
    for worker in workers:
        pool._slots.ask_back(worker.row, False)
    pool._ask_back(workers, time.monotonic())  # type: ignore[arg-type]
    assert [pool._slots.asked_back(w.row) for w in workers] == [True, False, False, False]
    assert [w.assignment.asked_back for w in workers] == [True, False, False, False]

"""The warm pool: started once, shared by executors, several maps in flight, each executor
within its `worker_processes`, and no interpreter start per call."""

from __future__ import annotations

import threading
import time
import types
import uuid
from pathlib import Path
from typing import Any

import wren
from wren.testing import functions as fn
from wren.worker.pool import describe_exit, get_pool
from wren.worker.pool.process import WorkerProcess
from wren.worker.pool.supervisor import _warmest


def executor(tmp_path: Path, **overrides: object) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(storage_dir=str(tmp_path), **overrides)


def test_workers_are_reused_across_calls_maps_and_executors(tmp_path: Path) -> None:
    with executor(tmp_path, worker_processes=2) as first:
        pids = set(first.get_result(first.map(fn.worker_pid, range(20))))
    with executor(tmp_path, worker_processes=2) as second:
        again = set(second.get_result(second.map(fn.worker_pid, range(20))))
        again.add(second.call_async(fn.worker_pid, 0).result())
    assert again <= set(get_pool().worker_pids()) and pids <= set(get_pool().worker_pids())


def test_several_maps_in_flight_at_once(tmp_path: Path) -> None:
    with executor(tmp_path, worker_processes=2) as fexec:
        started = time.monotonic()
        slow = fexec.map(fn.sleep_then, [(0.5, "a"), (0.5, "b")], chunksize=1)
        quick = fexec.map(fn.double, [21])
        assert fexec.get_result(quick) == [42]
        assert fexec.get_result(slow) == ["a", "b"]
        assert time.monotonic() - started < 2.0


def test_small_and_big_inline_arguments_reach_the_workers(tmp_path: Path) -> None:
    from wren.worker.pool import process

    small, big = b"s" * 100, b"b" * (process._INLINE_IN_MESSAGE * 3)  # inside / after
    with executor(tmp_path, worker_processes=2, shared_memory=False) as fexec:
        sizes = fexec.get_result(fexec.map(fn.payload_size, [small, big, small, big],
                                           chunksize=1))
    assert sizes == [len(small), len(big), len(small), len(big)]


def test_an_executor_uses_at_most_its_worker_processes(tmp_path: Path) -> None:
    with executor(tmp_path, worker_processes=1) as fexec:
        futures = fexec.map(fn.sleep_for, [0.2] * 4, chunksize=1)
        fexec.wait(futures)
        spans = sorted((f.stats["worker_func_start_tstamp"], f.stats["worker_func_end_tstamp"])
                       for f in futures)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end - 0.01, "calls of a one-worker executor overlapped"


def test_a_function_is_loaded_once_per_worker(tmp_path: Path) -> None:
    calls = []
    lock = threading.Lock()

    def counted(x: int) -> int:
        return x

    with executor(tmp_path, worker_processes=2) as fexec:
        for _ in range(3):
            with lock:
                calls.append(fexec.get_result(fexec.map(counted, range(10))))
    assert calls == [list(range(10))] * 3


def test_exit_descriptions() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9).startswith("was killed by signal SIGKILL")
    assert "segmentation fault" in describe_exit(-11)
    assert describe_exit(None) == "stopped responding"


class _Idle:
    """An idle worker as the dispatcher sees it: what it has loaded."""

    def __init__(self, name: str, functions: set[str], profiles: set[str]) -> None:
        self.name, self.functions, self.profiles = name, functions, profiles

    warmth = WorkerProcess.warmth


def test_a_task_goes_to_the_idle_worker_that_loaded_its_function() -> None:
    task = types.SimpleNamespace(task=types.SimpleNamespace(func_key="func/a"),
                                 profile=("p1", "localhost", {}))
    cold, profile_only, warm = (_Idle("cold", set(), set()), _Idle("profile", set(), {"p1"}),
                                _Idle("warm", {"func/a"}, {"p1"}))
    idle: list[Any] = [cold, warm, profile_only]
    assert _warmest(idle, task).name == "warm" and idle == [cold, profile_only]
    assert _warmest(idle, task).name == "profile"
    others: list[Any] = [_Idle("a", set(), set()), _Idle("b", set(), set())]
    assert _warmest(others, task).name == "b"  # equals: the most recently idle one


def test_big_statuses_are_named_by_key_when_storage_shares_memory(tmp_path: Path) -> None:
    """A pooled worker stores each status document, then pushes it; a big one (here 4,000
    calls with float results in one task) of a storage in shared memory is named by its key instead, read by
    the client, so no 100 KB copy goes through the pipes. Without shared memory it is pushed
    as before; the results are the same either way."""
    from wren.worker.pool.worker_main import NAME_STATUS_FROM

    items = [float(i) for i in range(4000)]  # 9 bytes a value in the embedded result
    for shared in (True, False):
        with executor(tmp_path, worker_processes=2, shared_memory=shared) as fexec:
            assert fexec.get_result(fexec.map(fn.double, items, chunksize=4000)) == \
                [2 * i for i in items]
            assert fexec.call_async(fn.double, 21).result() == 42  # small: always pushed
            arrivals = fexec._monitor.arrivals  # (a slow machine may flush a part early)
            assert (arrivals["adapter-named"] >= 1) if shared else \
                (arrivals["adapter-named"] == 0)
            assert arrivals["adapter"] + arrivals["storage"] >= 1
    assert NAME_STATUS_FROM < 4000 * 9  # the values alone: over the threshold


def test_a_cancelled_owner_keeps_a_worker_that_only_finishes_a_reported_task() -> None:
    """When a client goes away (its owner cancelled), a worker whose task of it has reported
    every call is only sending its `done`: it stays, warm for the next client; one with
    calls still to report, or with a task of it sent ahead, is killed."""
    from wren.worker.pool.supervisor import _runs_unreported

    def item(owner: int, calls: int, flushed: int) -> Any:
        return types.SimpleNamespace(owner=owner, flushed=flushed,
                                     task=types.SimpleNamespace(call_indices=range(calls)))

    def worker(assignment: Any, *ahead: Any) -> Any:
        return types.SimpleNamespace(assignment=assignment, prefetched=list(ahead))

    assert not _runs_unreported(worker(item(1, 8, 8)), 1)  # all reported: finishing
    assert _runs_unreported(worker(item(1, 8, 5)), 1)  # three calls still running
    assert _runs_unreported(worker(item(1, 8, 8), item(1, 2, 0)), 1)  # one sent ahead
    assert not _runs_unreported(worker(item(2, 8, 0)), 1)  # another client's task
    assert not _runs_unreported(worker(None), 1)


def test_calls_that_turned_slow_are_taken_back_for_an_idle_worker(tmp_path: Path) -> None:
    """The pool sizes a slice from its function's last measure: 20 calls of a function it
    measured at a few microseconds go to one worker whole. When they turn out to take 0.1 s
    each, the pool asks that worker for the calls it has not started and shares them with
    the idle one: every call still runs once, on both workers, in about half the time."""
    with executor(tmp_path, worker_processes=2) as fexec:
        quick = fexec.map(fn.sleep_then_pid, [(0, i) for i in range(200)])
        assert [v for v, _ in fexec.get_result(quick)] == list(range(200))  # measured short
        started = time.monotonic()
        slow = fexec.map(fn.sleep_then_pid, [(0.1, i) for i in range(20)])
        found = fexec.get_result(slow)
        took = time.monotonic() - started
    assert [value for value, _ in found] == list(range(20))
    assert len({pid for _, pid in found}) == 2
    assert took < 1.8, f"20 x 0.1 s on 2 workers took {took:.2f} s (2 s on one)"


def test_a_new_functions_share_of_slow_calls_is_taken_back(tmp_path: Path) -> None:
    """A function the pool has never measured is cut into a share per worker at once
    (`pacing`): here calls 0-9 are instant and 10-19 take 0.2 s each, so one worker's share
    holds every slow call. The pool asks that share back once a call of it has run long,
    and the slow calls end up on both workers."""
    nonce = uuid.uuid4().hex  # a new function: one the pool cannot have measured
    func = eval(compile(f"lambda i, _nonce={nonce!r}: sleep_then_pid(0.2 if i >= 10 else 0, i)",
                        "<new>", "eval"), {"sleep_then_pid": fn.sleep_then_pid})
    with executor(tmp_path, worker_processes=2) as fexec:
        found = fexec.get_result(fexec.map(func, range(20)))
    assert [value for value, _ in found] == list(range(20))
    assert len({pid for _, pid in found[10:]}) == 2, "one worker ran every slow call"


def exits_on(x: int, bad: int) -> int:
    if x == bad:
        import os

        os._exit(5)
    return x


def test_a_crash_inside_a_group_of_short_calls_is_named_exactly(tmp_path: Path) -> None:
    """Short calls run in groups the worker marks once (`group_mark`): when one of them
    kills its worker, the pool blames none of the group, runs the calls again one by one,
    and the call that kills its worker again is the one reported."""
    from wren.worker.runner import GROUP, SINGLES

    bad = SINGLES + 2 * GROUP + GROUP // 2  # in the middle of the third group
    n = bad + GROUP
    with executor(tmp_path, worker_processes=2) as fexec:
        futures = fexec.map(exits_on, [(i, bad) for i in range(n)], chunksize=n)
        fexec.wait(futures, throw_except=False, timeout=60)
        assert [f.index for f in futures if f.error] == [bad]
        assert [f.result() for f in futures if f.index != bad] == [
            i for i in range(n) if i != bad]
        try:
            futures[bad].result()
        except wren.WorkerLostError as exc:
            assert f"running call {bad} exited with code 5" in str(exc)
        else:
            raise AssertionError("the crashed call did not fail")


def test_a_list_changed_after_map_returns_changes_no_call(tmp_path: Path) -> None:
    """`map` reads a list it is given (without copying it) before it returns."""
    items = list(range(100))
    with executor(tmp_path, worker_processes=2) as fexec:
        futures = fexec.map(fn.double, items)
        items[:] = [-1] * 50
        assert fexec.get_result(futures) == [2 * i for i in range(100)]

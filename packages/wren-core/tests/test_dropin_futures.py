"""`wren.concurrent.futures` and `wren.RetryingFunctionExecutor` on the thread-backed test
backend: the pieces that need no real worker processes (the localhost and storage-server
runs are in tests/integration/test_concurrent_futures.py and test_retries.py)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.concurrent import futures as cf
from wren.concurrent.futures._calls import (
    ArgsCall,
    ChunkCall,
    InitializerFailed,
    ValueCall,
    ValuesCall,
)
from wren.testing import functions as fn

_initialized: list[Any] = []


def flaky(counter: str, fails: int) -> str:
    """Fail the first `fails` attempts, counted in the file `counter` (functions are loaded
    per job, so a module global would not count across attempts)."""
    path = Path(counter)
    attempt = (int(path.read_text()) if path.exists() else 0) + 1
    path.write_text(str(attempt))
    if attempt <= fails:
        raise ConnectionResetError(f"{path.name}: attempt {attempt} failed")
    return path.name


def _record(*args: Any) -> None:
    _initialized.append(args)


def _refuse() -> None:
    raise PermissionError("not here")


def test_importing_the_package_loads_no_executor() -> None:
    code = ("import sys, wren.concurrent.futures as f; "
            "print([m for m in ('wren.executor', 'wren.client.session') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_calls_run_the_initializer_once_per_process_and_pickle() -> None:
    _initialized.clear()
    args_call = ArgsCall(fn.add, _record, ("a",), "token-1")
    assert args_call((1,), {"y": 2}) == 3
    assert ValueCall(fn.double, _record, ("a",), "token-1")(4) == 8  # same token: no rerun
    assert ChunkCall(fn.add, _record, ("b",), "token-2")([(1, 2), (3, 4)]) == [3, 7]
    assert _initialized == [("a",), ("b",)]
    copy = pickle.loads(pickle.dumps(args_call))
    assert copy.fn is fn.add and copy.initargs == ("a",) and repr(copy) == "add"
    with pytest.raises(InitializerFailed, match="PermissionError: not here") as caught:
        ValueCall(fn.double, _refuse, (), "token-3")(1)
    assert isinstance(caught.value, cf.BrokenExecutor)


def test_the_backend_variant(thread_backends: Any) -> None:
    with cf.FunctionExecutor(backend="threads", storage="shared_memory") as executor:
        assert executor.wren_executor.backend == "threads"
        assert executor.submit(fn.add, 1, y=2).result(timeout=30) == 3
        assert list(executor.map(fn.add, [1, 2, 3], [10, 20, 30], chunksize=2)) == \
            [11, 22, 33]
        assert isinstance(executor.submit(fn.fail_on, 1, 1).exception(timeout=30), KeyError)


def test_a_lost_task_is_resubmitted(thread_backends: Any) -> None:
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        retrying = wren.RetryingFunctionExecutor(fexec)
        thread_backends.drop = {"t00000"}  # the platform loses the first task of the map
        futures = retrying.map(fn.double, [1], retries=1, timeout=1)
        thread_backends.drop = set()
        assert retrying.get_result(futures, timeout=60) == [2]
        assert futures[0].stats["attempt"] == 2 and futures[0].failure_count == 1


def test_flaky_calls_succeed_within_their_retries(thread_backends: Any,
                                                  tmp_path: Path) -> None:
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        retrying = wren.RetryingFunctionExecutor(fexec)
        futures = retrying.map(flaky, [(str(tmp_path / name), fails) for name, fails in
                                       (("a", 0), ("b", 2), ("c", 1))], retries=2)
        assert retrying.get_result(futures, timeout=60) == ["a", "b", "c"]
        assert [f.stats["attempt"] for f in futures] == [1, 3, 2]
        single = retrying.call_async(flaky, (str(tmp_path / "d"), 1), retries=1)
        assert single.result(timeout=60) == "d" and (tmp_path / "d").read_text() == "2"


def test_a_chunked_map_over_one_iterable_sends_its_values_in_slices(thread_backends: Any
                                                                    ) -> None:
    sent: list[Any] = []
    with cf.FunctionExecutor(backend="threads", storage="shared_memory") as executor:
        wren_map = executor.wren_executor.map

        def recording_map(func: Any, items: Any, **options: Any) -> Any:
            sent.append((type(func), list(items)))
            return wren_map(func, items, **options)

        executor.wren_executor.map = recording_map
        assert list(executor.map(fn.double, range(7), chunksize=3)) == [2 * i for i in
                                                                        range(7)]
        assert list(executor.map(len, [(1, 2), "abc", [4]], chunksize=2)) == [2, 3, 1]
        assert list(executor.map(fn.add, [1, 2, 3], [10, 20, 30], chunksize=2)) == \
            [11, 22, 33]
    assert sent[0] == (ValuesCall, [(range(0, 3),), (range(3, 6),), (range(6, 7),)])
    assert sent[1] == (ValuesCall, [([(1, 2), "abc"],), ([[4]],)])  # a tuple is one value
    assert sent[2] == (ChunkCall, [([(1, 10), (2, 20)],), ([(3, 30)],)])

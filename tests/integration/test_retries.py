"""`wren.RetryingFunctionExecutor` on localhost: flaky calls and killed workers are run again
until they succeed or their retries are spent, and their stats say which attempt won.

A call's attempts are counted in a file of the test's directory (localhost workers share the
file system), so a function can fail exactly its first N attempts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing import functions as fn

pytestmark = pytest.mark.timeout(180)


def _attempt(counter: str) -> int:
    """This call's attempt number (1 = first), counted in the file `counter`."""
    path = Path(counter)
    attempt = (int(path.read_text()) if path.exists() else 0) + 1
    path.write_text(str(attempt))
    return attempt


def flaky(counter: str, fails: int, value: Any) -> Any:
    """Raise on the first `fails` attempts, then return `value`."""
    attempt = _attempt(counter)
    if attempt <= fails:
        raise ConnectionError(f"attempt {attempt} failed")
    return value


def dies_first(counter: str, value: Any) -> Any:
    """Kill the worker process on the first attempt, then return `value`."""
    if _attempt(counter) == 1:
        os._exit(9)
    return value


@pytest.fixture
def fexec(tmp_path: Path) -> Iterator[wren.FunctionExecutor]:
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(tmp_path / "storage"), worker_processes=2,
                               progress=False) as executor:
        yield executor


def test_flaky_calls_are_retried_to_success(fexec: wren.FunctionExecutor,
                                            tmp_path: Path) -> None:
    retrying = wren.RetryingFunctionExecutor(fexec)
    items = [(str(tmp_path / f"c{i}"), i % 3, i * 10) for i in range(6)]
    futures = retrying.map(flaky, items, retries=2, chunksize=6)  # one task: one status
    done, not_done = retrying.wait(futures, timeout=120)
    assert len(done) == 6 and not not_done
    assert retrying.get_result(futures) == [i * 10 for i in range(6)]
    assert [f.stats["attempt"] for f in futures] == [i % 3 + 1 for i in range(6)]
    assert all(f.stats["success"] for f in futures)
    # The calls failing in one round (one status document) went out again as one map job.
    for attempt in (2, 3):
        jobs = {f.response_future.job_key for f in futures if f.stats["attempt"] == attempt}
        assert len(jobs) == 1


def test_a_killed_worker_is_retried(fexec: wren.FunctionExecutor, tmp_path: Path) -> None:
    retrying = wren.RetryingFunctionExecutor(fexec)
    future = retrying.call_async(dies_first, (str(tmp_path / "k"), "survived"), retries=1)
    assert future.result(timeout=120) == "survived"
    assert future.stats["attempt"] == 2 and future.failure_count == 1


def test_retries_are_spent_then_the_error_stays(fexec: wren.FunctionExecutor,
                                               tmp_path: Path) -> None:
    retrying = wren.RetryingFunctionExecutor(fexec)
    futures = retrying.map(flaky, [(str(tmp_path / "x"), 5, "never")], retries=1)
    done, _ = retrying.wait(futures, throw_except=False, timeout=120)
    assert done == futures and futures[0].error
    assert futures[0].stats["attempt"] == 2
    assert (tmp_path / "x").read_text() == "2"  # ran twice, no more
    with pytest.raises(ConnectionError, match="attempt 2 failed"):
        retrying.wait(futures, timeout=120)
    with pytest.raises(ConnectionError):
        retrying.get_result(futures)
    assert retrying.get_result(futures, throw_except=False) in ([], [None])


def test_no_retries_by_default_and_from_config(tmp_path: Path) -> None:
    with wren.FunctionExecutor(backend="localhost", storage_dir=str(tmp_path / "s"),
                               progress=False) as fexec:
        retrying = wren.RetryingFunctionExecutor(fexec)
        once = retrying.call_async(flaky, (str(tmp_path / "a"), 1, "ok"))
        assert isinstance(once.exception(timeout=120), ConnectionError)
    with wren.FunctionExecutor(backend="localhost", storage_dir=str(tmp_path / "s"),
                               config={"wren": {"retries": 2}}, progress=False) as fexec:
        retrying = wren.RetryingFunctionExecutor(fexec)
        assert retrying.call_async(flaky, (str(tmp_path / "b"), 2, "ok")).result() == "ok"


def test_a_cancelled_future_is_not_retried(fexec: wren.FunctionExecutor,
                                          tmp_path: Path) -> None:
    retrying = wren.RetryingFunctionExecutor(fexec)
    future = retrying.call_async(flaky, (str(tmp_path / "n"), 1, "ok"), retries=3)
    future.cancel()
    retrying.wait([future], throw_except=False, timeout=120)
    assert future.error and future.stats["attempt"] == 1


def test_any_completed_returns_when_one_call_is_final(fexec: wren.FunctionExecutor,
                                                      tmp_path: Path) -> None:
    retrying = wren.RetryingFunctionExecutor(fexec)
    fast = retrying.call_async(fn.double, 4)
    slow = retrying.call_async(fn.sleep_then, (5, "slow"))
    done, not_done = retrying.wait([fast, slow], return_when=wren.ANY_COMPLETED,
                                   timeout=60)
    assert done == [fast] and not_done == [slow]
    assert fast.result() == 8


def test_bad_retries_and_data_maps_are_refused(fexec: wren.FunctionExecutor) -> None:
    retrying = wren.RetryingFunctionExecutor(fexec)
    with pytest.raises(wren.InvalidInputError, match="non-negative"):
        retrying.map(fn.double, [1], retries=-1)
    with pytest.raises(wren.InvalidInputError, match="ordinary maps only"):
        retrying.map(fn.count_lines, ["some/key"])
    with pytest.raises(wren.ConfigError):
        wren.FunctionExecutor(backend="localhost", config={"wren": {"retries": -2}})

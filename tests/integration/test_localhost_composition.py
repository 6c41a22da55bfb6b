"""Dynamic composition on localhost: functions that create an executor inside their worker
and return its futures, which the client's `get_result` follows (as Lithops does).

The inner executor opens the same localhost storage as the client (its directory is passed
in), derives its key from the worker's (`wren.protocol.signing.derive_key`), and the client
recomputes that key from its own: an attacker who can write the bucket can neither forge an
inner result nor get one unpickled.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.protocol import keys
from wren.protocol.signing import new_key, seal, unverified_data
from wren.protocol.status import StatusDocument
from wren.testing.contract.hostile import with_embedded

WAIT = 60.0

pytestmark = pytest.mark.timeout(180)


def _inner(storage_dir: str) -> wren.FunctionExecutor:
    return wren.FunctionExecutor(backend="localhost", storage="localhost",
                                 storage_dir=storage_dir, worker_processes=2)


def double(x: int) -> int:
    return 2 * x


def fail_on_two(x: int) -> int:
    if x == 2:
        raise KeyError("two is the bad one")
    return x


def spawn_map(xs: list[int], storage_dir: str, wait: bool = False) -> Any:
    inner = _inner(storage_dir)
    futures = inner.map(double, xs)
    if wait:
        inner.wait(futures, throw_except=False)
    return futures


def spawn_one(x: int, storage_dir: str) -> Any:
    return _inner(storage_dir).call_async(double, x)


def spawn_failing(xs: list[int], storage_dir: str) -> Any:
    return _inner(storage_dir).map(fail_on_two, xs)


def spawn_spawners(n: int, storage_dir: str) -> Any:
    """Two levels: each inner call returns futures of its own inner executor."""
    return _inner(storage_dir).map(spawn_map, [([i, i + 10], storage_dir) for i in range(n)])


@pytest.fixture
def storage_dir(tmp_path: Path) -> str:
    return str(tmp_path / "storage")


@pytest.fixture
def fexec(storage_dir: str) -> Any:
    with _inner(storage_dir) as executor:
        yield executor


def test_get_result_follows_returned_futures(fexec: wren.FunctionExecutor,
                                             storage_dir: str) -> None:
    outer = fexec.call_async(spawn_map, ([1, 2, 3], storage_dir))
    assert fexec.get_result(outer, timeout=WAIT) == [2, 4, 6]
    # As in Lithops, the call's own result is the futures it returned.
    returned = outer.result(timeout=WAIT)
    assert [type(f).__name__ for f in returned] == ["ResponseFuture"] * 3
    assert returned[0].executor_id != fexec.executor_id and all(f.done for f in returned)
    assert outer.futures and not returned[0].futures


def test_only_results_that_held_futures_are_searched_for_them(
        fexec: wren.FunctionExecutor, storage_dir: str, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """Loading a job's results notes whether any future was unpickled from them; only such
    a job's values are searched for futures to follow (a search of 10,000 plain values
    cost `get_result` a fifth of a millisecond)."""
    from wren.client.composition import Follower

    searched: list[int] = []
    original = Follower.follow

    def noting(self: Follower, value: Any, single: bool) -> Any:
        searched.append(1)
        return original(self, value, single)

    monkeypatch.setattr(Follower, "follow", noting)
    plain = fexec.map(double, [1, 2, 3])
    assert fexec.get_result(plain, timeout=WAIT) == [2, 4, 6] and searched == []
    assert not plain[0].job.returned_futures
    outer = fexec.call_async(spawn_map, ([1, 2], storage_dir))
    assert fexec.get_result(outer, timeout=WAIT) == [2, 4] and searched
    assert outer.job.returned_futures


def test_a_single_returned_future_gives_its_value(fexec: wren.FunctionExecutor,
                                                  storage_dir: str) -> None:
    fexec.call_async(spawn_one, (21, storage_dir))
    assert fexec.get_result(timeout=WAIT) == 42


def test_each_map_call_keeps_its_own_results(fexec: wren.FunctionExecutor,
                                             storage_dir: str) -> None:
    futures = fexec.map(spawn_map, [([1, 2], storage_dir), ([3], storage_dir)])
    assert fexec.get_result(futures, timeout=WAIT) == [[2, 4], [6]]


def test_futures_are_followed_recursively(fexec: wren.FunctionExecutor,
                                          storage_dir: str) -> None:
    fexec.call_async(spawn_spawners, (2, storage_dir))
    assert fexec.get_result(timeout=WAIT) == [[0, 20], [2, 22]]


def test_a_failed_inner_call(fexec: wren.FunctionExecutor, storage_dir: str,
                             caplog: pytest.LogCaptureFixture) -> None:
    outer = fexec.call_async(spawn_failing, ([1, 2, 3], storage_dir))
    with pytest.raises(KeyError, match="two is the bad one"):
        fexec.get_result(outer, timeout=WAIT)
    outer = fexec.call_async(spawn_failing, ([1, 2, 3], storage_dir))
    with caplog.at_level(logging.WARNING, logger="wren"):
        assert fexec.get_result(outer, throw_except=False, timeout=WAIT) == [1, None, 3]
    warnings = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(warnings) == 1 and "/M000/00001" in warnings[0]


def test_a_returned_future_pickled_outside_an_executor_cannot_be_read(
        fexec: wren.FunctionExecutor, storage_dir: str) -> None:
    outer = fexec.call_async(spawn_map, ([1], storage_dir, True))
    inner = outer.result(timeout=WAIT)[0]
    copy = pickle.loads(pickle.dumps(inner))
    assert (copy.job_key, copy.call_id) == (inner.job_key, inner.call_id)
    with pytest.raises(wren.InvalidInputError, match="cannot be read here"):
        copy.result()


class _Payload:
    """What an attacker would like the client to unpickle: it writes a file if it runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return Path.write_text, (self.marker, "the client ran the attacker's pickle")


def _inner_objects(fexec: wren.FunctionExecutor, kind: str) -> list[str]:
    own = keys.executor_prefix(fexec.executor_id)
    return [key for key in fexec.storage.list_keys(fexec.bucket, keys.JOBS_PREFIX)
            if not key.startswith(own) and f"/{kind}/" in key]


@pytest.mark.parametrize("sealed", [True, False])
def test_a_forged_inner_result_is_refused_not_unpickled(
        fexec: wren.FunctionExecutor, storage_dir: str, tmp_path: Path, sealed: bool) -> None:
    outer = fexec.call_async(spawn_map, ([1, 2], storage_dir, True))
    fexec.wait(outer, timeout=WAIT)
    marker = tmp_path / "owned"
    evil = pickle.dumps([_Payload(marker), _Payload(marker)])
    forged = 0
    for key in _inner_objects(fexec, "result"):  # an attacker with write access to the
        fexec.storage.put_object(fexec.bucket, key, seal(new_key(), key, evil) if sealed
                                 else evil)  # bucket, without the key
        forged += 1
    for key in _inner_objects(fexec, "status"):  # small results travel inside their status
        raw = fexec.storage.get_object(fexec.bucket, key)
        document = StatusDocument.peek(raw)
        if document.result_inline:
            fake = seal(new_key(), document.result_key, evil) if sealed else evil
            fexec.storage.put_object(fexec.bucket, key, with_embedded(raw, fake))
            forged += 1
    assert forged, "the inner job stored no result"
    with pytest.raises(wren.TamperedDataError):
        fexec.get_result(outer, timeout=WAIT)
    assert not marker.exists()


def test_a_forged_inner_status_completes_nothing(fexec: wren.FunctionExecutor,
                                                 storage_dir: str, tmp_path: Path) -> None:
    outer = fexec.call_async(spawn_map, ([1, 2], storage_dir, True))
    fexec.wait(outer, timeout=WAIT)
    marker = tmp_path / "owned"
    for key in _inner_objects(fexec, "result"):
        fexec.storage.put_object(fexec.bucket, key, pickle.dumps([_Payload(marker)] * 2))
    for key in _inner_objects(fexec, "status"):
        raw = fexec.storage.get_object(fexec.bucket, key)
        forged = seal(new_key(), "status", bytes(unverified_data(raw)))
        fexec.storage.put_object(fexec.bucket, key, forged)
    with pytest.raises(wren.WaitTimeoutError):
        fexec.get_result(outer, timeout=3)
    assert not marker.exists()


def test_wait_with_downloaded_results_waits_for_returned_futures(
        fexec: wren.FunctionExecutor, storage_dir: str) -> None:
    outer = fexec.call_async(spawn_slow, ([1, 2], 1.5, storage_dir))
    done, not_done = fexec.wait(outer, download_results=True, timeout=WAIT)
    assert done == [outer] and not not_done
    assert all(f.done for f in outer.result())
    assert fexec.get_result(outer, timeout=WAIT) == [1, 2]


def test_wait_timeout_leaves_a_call_with_unfinished_futures_not_done(
        fexec: wren.FunctionExecutor, storage_dir: str) -> None:
    outer = fexec.call_async(spawn_slow, ([1], 6.0, storage_dir))
    fexec.wait(outer, timeout=WAIT)  # the call itself returns at once
    done, not_done = fexec.wait(outer, download_results=True, timeout=1.0)
    assert not done and not_done == [outer]
    assert fexec.get_result(outer, timeout=WAIT) == [1]


def sleep_then(x: int, seconds: float) -> int:
    import time

    time.sleep(seconds)
    return x


def spawn_slow(xs: list[int], seconds: float, storage_dir: str) -> Any:
    return _inner(storage_dir).map(sleep_then, [(x, seconds) for x in xs])

"""`wren.concurrent.futures` held to the standard library's semantics.

The expectations are those CPython's own `test_concurrent_futures` checks (submit, map,
shutdown, cancel, wait, as_completed, exceptions, callbacks), written anew for wren's
executors. `FuturesApiSuite` runs over a `wren.FunctionExecutor` from `make_executor` and is
bound three times: localhost storage, Ceph RGW (`ibm_cos`) and Azurite (`azure_storage`),
all with localhost compute. The tests after it need the localhost backend's own names
(`ProcessPoolExecutor()` with no configuration).
"""

from __future__ import annotations

import asyncio
import concurrent.futures as std
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from custom_errors import Custom, raise_custom
from wren.concurrent import futures as cf
from wren.testing import functions as fn
from wren.testing.contract import MakeExecutor
from wren_backend_ibmcf import IbmCosStorage

from tests.servers.azurite import Azurite, azurite  # noqa: F401 - the fixture
from tests.servers.ceph import CephGateway, shared_gateway

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def executor(make_executor: MakeExecutor) -> Iterator[cf.FunctionExecutor]:
    fexec = make_executor()
    with cf.FunctionExecutor(executor=fexec) as executor:
        yield executor
    fexec.close()


class FuturesApiSuite:
    """The standard library's expectations, on a wren executor from `make_executor`."""

    # submit and Future ---------------------------------------------------------------------
    def test_submit(self, executor: cf.FunctionExecutor) -> None:
        future = executor.submit(pow, 2, 8)
        assert future.result(timeout=60) == 256
        assert isinstance(future, std.Future)

    def test_submit_keyword_arguments(self, executor: cf.FunctionExecutor) -> None:
        assert executor.submit(fn.add, 2, y=3).result(timeout=60) == 5
        assert executor.submit(fn.echo, 1, fn=4).result(timeout=60) == ((1,), {"fn": 4})

    def test_remote_exception_keeps_its_type(self, executor: cf.FunctionExecutor) -> None:
        failed = executor.submit(fn.fail_on, 3, 3)
        with pytest.raises(KeyError, match="call 3 is the bad one"):
            failed.result(timeout=60)
        assert isinstance(failed.exception(), KeyError)
        custom = executor.submit(raise_custom, "mine")
        with pytest.raises(Custom, match="mine"):
            custom.result(timeout=60)
        assert failed.done() and not failed.cancelled() and not failed.running()

    def test_an_argument_that_cannot_be_pickled_fails_its_call(
            self, executor: cf.FunctionExecutor) -> None:
        future = executor.submit(fn.double, threading.Lock())
        with pytest.raises(TypeError):  # wren.SerializationError, as pickle's TypeError
            future.result(timeout=60)
        assert executor.submit(fn.double, 5).result(timeout=60) == 10

    def test_done_callbacks(self, executor: cf.FunctionExecutor) -> None:
        seen: list[Any] = []
        called = threading.Event()

        def callback(future: std.Future[Any]) -> None:
            seen.append(future.result())
            called.set()

        future = executor.submit(fn.sleep_then, 0.2, "late")
        future.add_done_callback(callback)
        assert called.wait(60) and seen == ["late"]
        future.add_done_callback(lambda f: seen.append("again"))  # done: called at once
        assert seen == ["late", "again"]

    def test_a_done_future_cannot_be_cancelled(self, executor: cf.FunctionExecutor) -> None:
        future = executor.submit(fn.double, 21)
        assert future.result(timeout=60) == 42
        assert not future.cancel() and not future.cancelled()

    def test_a_dispatched_call_is_running(self, executor: cf.FunctionExecutor) -> None:
        future = executor.submit(fn.sleep_then, 1.5, "x")
        deadline = time.monotonic() + 30
        while not future.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert future.running() and not future.cancel()
        assert future.result(timeout=60) == "x"

    # map ----------------------------------------------------------------------------------
    def test_map(self, executor: cf.FunctionExecutor) -> None:
        assert list(executor.map(pow, range(10), range(10))) == [pow(i, i) for i in range(10)]
        assert list(executor.map(fn.add, [1, 2], [10, 20])) == [11, 22]
        assert list(executor.map(fn.double, [])) == []
        assert list(executor.map(fn.double, range(3), range(0))) == []  # the shortest

    def test_map_items_that_look_like_argument_lists(
            self, executor: cf.FunctionExecutor) -> None:
        items = [(1, 2), [3], "ab", {"k": 5}.keys().__len__()]
        assert list(executor.map(fn.double, items)) == [x * 2 for x in items]

    def test_map_chunksize(self, executor: cf.FunctionExecutor) -> None:
        assert list(executor.map(pow, range(40), range(40), chunksize=6)) == \
            [pow(i, i) for i in range(40)]
        for bad in (0, -1):
            with pytest.raises(ValueError):
                executor.map(pow, range(4), range(4), chunksize=bad)

    def test_map_raises_at_the_failed_item(self, executor: cf.FunctionExecutor) -> None:
        results = executor.map(divmod, [1, 1, 1, 1], [2, 2, 0, 2])
        assert next(results) == (0, 1)
        assert next(results) == (0, 1)
        with pytest.raises(ZeroDivisionError):
            next(results)

    def test_a_chunked_map_raises_at_the_failed_chunk(self, executor: cf.FunctionExecutor
                                                       ) -> None:
        results = executor.map(divmod, [1, 1, 1, 1, 1], [2, 2, 2, 0, 2], chunksize=2)
        assert [next(results), next(results)] == [(0, 1), (0, 1)]
        with pytest.raises(ZeroDivisionError):
            next(results)  # the chunk of items 2 and 3 failed as a whole

    def test_map_timeout(self, executor: cf.FunctionExecutor) -> None:
        seen = []
        with pytest.raises(std.TimeoutError):
            for value in executor.map(fn.sleep_then, [0, 0, 6], ["a", "b", "c"], timeout=3):
                seen.append(value)
        assert seen == ["a", "b"]

    # wait and as_completed ----------------------------------------------------------------
    def test_wait_first_completed(self, executor: cf.FunctionExecutor) -> None:
        slow = executor.submit(fn.sleep_then, 5, "slow")
        fast = executor.submit(fn.double, 1)
        done, not_done = cf.wait([slow, fast], timeout=60, return_when=cf.FIRST_COMPLETED)
        assert done == {fast} and not_done == {slow}

    def test_wait_first_exception(self, executor: cf.FunctionExecutor) -> None:
        ok = executor.submit(fn.double, 1)
        ok.result(timeout=60)  # finished before the others start
        bad = executor.submit(fn.fail_with, "boom")
        slow = executor.submit(fn.sleep_then, 4, "slow")
        done, not_done = cf.wait([ok, bad, slow], timeout=60,
                                 return_when=cf.FIRST_EXCEPTION)
        assert done == {ok, bad} and not_done == {slow}

    def test_wait_all_completed_and_timeout(self, executor: cf.FunctionExecutor) -> None:
        futures = [executor.submit(fn.double, i) for i in range(5)]
        done, not_done = cf.wait(futures, timeout=60, return_when=cf.ALL_COMPLETED)
        assert done == set(futures) and not not_done
        slow = executor.submit(fn.sleep_then, 3, "slow")
        done, not_done = cf.wait([*futures, slow], timeout=0.5)
        assert done == set(futures) and not_done == {slow}

    def test_as_completed(self, executor: cf.FunctionExecutor) -> None:
        futures = [executor.submit(fn.sleep_then, s, s) for s in (1.0, 0.0, 0.5)]
        order = [f.result() for f in cf.as_completed(futures + futures[:1], timeout=60)]
        assert sorted(order) == [0.0, 0.5, 1.0]  # each future once, duplicates too

    def test_as_completed_timeout(self, executor: cf.FunctionExecutor) -> None:
        fast = executor.submit(fn.double, 2)
        fast.result(timeout=60)
        slow = executor.submit(fn.sleep_then, 4, "slow")
        got = []
        with pytest.raises(std.TimeoutError, match=r"1 \(of 2\) futures unfinished"):
            for future in cf.as_completed([fast, slow], timeout=1):
                got.append(future)
        assert got == [fast]

    def test_asyncio_wraps_the_futures(self, executor: cf.FunctionExecutor) -> None:
        future = executor.submit(fn.add, 20, 22)

        async def main() -> int:
            return int(await asyncio.wrap_future(future))

        assert asyncio.run(main()) == 42

    def test_stats_name_the_wren_call(self, executor: cf.FunctionExecutor) -> None:
        future = executor.submit(fn.double, 3)
        future.result(timeout=60)
        assert future.response_future is not None
        assert future.stats["worker_func_exec_time"] >= 0

    # shutdown -----------------------------------------------------------------------------
    def test_no_submit_after_shutdown(self, make_executor: MakeExecutor) -> None:
        with make_executor() as fexec:
            executor = cf.FunctionExecutor(executor=fexec)
            executor.shutdown()
            executor.shutdown()  # twice is fine
            with pytest.raises(RuntimeError, match="after shutdown"):
                executor.submit(pow, 2, 2)
            with pytest.raises(RuntimeError, match="after shutdown"):
                executor.map(pow, [2], [2])

    def test_shutdown_waits_for_running_calls(self, make_executor: MakeExecutor) -> None:
        with make_executor() as fexec:
            with cf.FunctionExecutor(executor=fexec) as executor:
                futures = [executor.submit(fn.sleep_then, 0.5, i) for i in range(4)]
            assert all(f.done() for f in futures)
            assert [f.result() for f in futures] == [0, 1, 2, 3]

    def test_shutdown_without_waiting_still_finishes(self, make_executor: MakeExecutor
                                                     ) -> None:
        with make_executor() as fexec:
            executor = cf.FunctionExecutor(executor=fexec)
            future = executor.submit(fn.sleep_then, 0.5, "later")
            executor.shutdown(wait=False)
            assert future.result(timeout=60) == "later"

    def test_cancel_queued_calls(self, make_executor: MakeExecutor) -> None:
        """Calls still queued (not handed to wren yet) can be cancelled, one by one or by
        `shutdown(cancel_futures=True)`; the dispatched one runs to its end."""
        with make_executor() as fexec:
            gate = threading.Event()
            call_async = fexec.call_async

            def gated(*args: Any, **kwargs: Any) -> Any:
                gate.wait(60)
                return call_async(*args, **kwargs)

            fexec.call_async = gated  # type: ignore[method-assign]
            executor = cf.FunctionExecutor(executor=fexec)
            first = executor.submit(fn.double, 1)
            deadline = time.monotonic() + 30
            while not first.running() and time.monotonic() < deadline:
                time.sleep(0.01)
            queued = [executor.submit(fn.double, i) for i in range(2, 6)]
            assert queued[0].cancel() and queued[0].cancelled()
            executor.shutdown(wait=False, cancel_futures=True)
            assert all(f.cancelled() for f in queued)
            gate.set()
            assert first.result(timeout=60) == 2
            with pytest.raises(std.CancelledError):
                queued[1].result(timeout=1)
            executor.shutdown(wait=True)

    def test_a_closed_wren_executor_breaks_the_pool(self, make_executor: MakeExecutor
                                                    ) -> None:
        fexec = make_executor()
        executor = cf.FunctionExecutor(executor=fexec)
        slow = executor.submit(fn.sleep_then, 5, "never seen")
        deadline = time.monotonic() + 30
        while not slow.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        fexec.close()
        with pytest.raises(cf.BrokenExecutor):
            slow.result(timeout=60)
        with pytest.raises(cf.BrokenExecutor):
            executor.submit(fn.double, 1)
        executor.shutdown()


class TestFuturesOnLocalhost(FuturesApiSuite):
    @pytest.fixture
    def make_executor(self, tmp_path: Path) -> MakeExecutor:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            return wren.FunctionExecutor(backend="localhost", storage="localhost",
                                         storage_dir=str(tmp_path / "storage"),
                                         worker_processes=2, **overrides)

        return make


@pytest.fixture(scope="module")
def ceph_gateway() -> Iterator[CephGateway]:
    yield from shared_gateway()


@pytest.fixture(scope="module")
def ceph_bucket(ceph_gateway: CephGateway) -> str:
    storage = IbmCosStorage(ceph_gateway.ibm_cos_config("wren-futures"))
    storage.create_bucket("wren-futures")
    storage.close()
    return "wren-futures"


class TestFuturesOnCeph(FuturesApiSuite):
    @pytest.fixture
    def make_executor(self, ceph_gateway: CephGateway, ceph_bucket: str) -> MakeExecutor:
        def make(**overrides: Any) -> wren.FunctionExecutor:
            config = {"ibm_cos": ceph_gateway.ibm_cos_config(ceph_bucket),
                      "localhost": {"worker_processes": 2}}
            return wren.FunctionExecutor(backend="localhost", storage="ibm_cos",
                                         config=config, **overrides)

        return make


class TestFuturesOnAzurite(FuturesApiSuite):
    @pytest.fixture
    def make_executor(self, azurite: Azurite) -> MakeExecutor:  # noqa: F811
        def make(**overrides: Any) -> wren.FunctionExecutor:
            config = {"azure_storage": azurite.storage_config("wren-futures"),
                      "localhost": {"worker_processes": 2}}
            return wren.FunctionExecutor(backend="localhost", storage="azure_storage",
                                         config=config, **overrides)

        return make


# The standard library's names, on the default (localhost) backend -----------------------
@pytest.fixture
def localhost_dir(tmp_path: Path) -> dict[str, Any]:
    return {"storage_dir": str(tmp_path / "storage")}


@pytest.mark.parametrize("pool", [cf.ProcessPoolExecutor, cf.ThreadPoolExecutor])
def test_the_standard_names_run_on_localhost(pool: Callable[..., cf.FunctionExecutor],
                                             localhost_dir: dict[str, Any]) -> None:
    with pool(max_workers=2, **localhost_dir) as executor:
        assert executor.wren_executor.backend == "localhost"
        assert executor.wren_executor.compute.max_workers == 2
        assert list(executor.map(fn.double, range(5))) == [0, 2, 4, 6, 8]
    assert executor.wren_executor._closed  # the wren executor made here is closed with it


def test_a_map_is_one_wren_job(localhost_dir: dict[str, Any]) -> None:
    with cf.ProcessPoolExecutor(max_workers=2, **localhost_dir) as executor:
        assert list(executor.map(fn.double, range(2000))) == [2 * i for i in range(2000)]
        assert list(executor.map(fn.add, range(100), range(100), chunksize=7)) == \
            [2 * i for i in range(100)]
        futures = executor.wren_executor.futures
        assert len(futures) == 2000 + 15  # one wren call per item, then one per chunk
        assert len({f.job_key for f in futures}) == 2


@pytest.mark.parametrize("workers", [0, -1])
def test_max_workers_must_be_positive(workers: int) -> None:
    with pytest.raises(ValueError, match="max_workers must be greater than 0"):
        cf.ProcessPoolExecutor(max_workers=workers)


def test_the_initializer_runs_before_the_calls(localhost_dir: dict[str, Any]) -> None:
    name = "WREN_FUTURES_INITIALIZED"
    with cf.ProcessPoolExecutor(max_workers=2, initializer=_set_env,
                                initargs=(name, "yes"), **localhost_dir) as executor:
        assert set(executor.map(fn.read_env, [name] * 8)) == {"yes"}


def _set_env(name: str, value: str) -> None:
    import os

    os.environ[name] = value


def _broken_initializer() -> None:
    raise OSError("no resources here")


def test_a_failing_initializer_breaks_the_executor(localhost_dir: dict[str, Any]) -> None:
    with cf.ProcessPoolExecutor(max_workers=1, initializer=_broken_initializer,
                                **localhost_dir) as executor:
        future = executor.submit(fn.double, 1)
        with pytest.raises(cf.BrokenExecutor, match="no resources here"):
            future.result(timeout=60)
        with pytest.raises(cf.BrokenExecutor):
            executor.submit(fn.double, 2)


def test_a_killed_worker_fails_only_its_call(localhost_dir: dict[str, Any]) -> None:
    """Unlike the standard library's BrokenProcessPool, wren reports a worker that died on
    the call it ran (`WorkerLostError`), and the executor goes on."""
    with cf.ProcessPoolExecutor(max_workers=2, **localhost_dir) as executor:
        lost = executor.submit(fn.exit_process, 3)
        assert isinstance(lost.exception(timeout=60), wren.WorkerLostError)
        assert executor.submit(fn.double, 4).result(timeout=60) == 8


def test_a_program_left_running_finishes_at_exit(tmp_path: Path) -> None:
    """Without shutdown, the interpreter still waits for the calls, as with the stdlib."""
    import subprocess
    import sys

    out = tmp_path / "out.txt"
    program = tmp_path / "prog.py"
    program.write_text(
        "import time\n"
        "from wren.concurrent.futures import ProcessPoolExecutor\n"
        "def write(path):\n"
        "    time.sleep(0.5)\n"
        "    open(path, 'w').write('written')\n"
        "if __name__ == '__main__':\n"
        f"    ex = ProcessPoolExecutor(max_workers=1, storage_dir={str(tmp_path / 's')!r})\n"
        f"    ex.submit(write, {str(out)!r})\n")
    done = subprocess.run([sys.executable, str(program)], cwd=tmp_path, timeout=120,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "written"


def test_the_documented_program_runs_on_wren_by_changing_its_import(tmp_path: Path) -> None:
    """docs/drop-in-concurrent-futures.md: its stdlib program, then with wren's import line,
    prints the same."""
    import re
    import subprocess
    import sys

    doc = Path(__file__).resolve().parents[2] / "docs" / "drop-in-concurrent-futures.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    program, new_import = blocks[0], blocks[1].strip()
    old_import = program.splitlines()[0]
    assert old_import.startswith("from concurrent.futures import")
    assert new_import == old_import.replace("concurrent.futures", "wren.concurrent.futures")
    outputs = []
    for name, source in (("stdlib", program), ("wren", program.replace(old_import,
                                                                         new_import, 1))):
        path = tmp_path / f"collatz_{name}.py"
        path.write_text(source)
        done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, timeout=120,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert "27: 111 steps" in outputs[1] and "refused: 0 is not a positive" in outputs[1]

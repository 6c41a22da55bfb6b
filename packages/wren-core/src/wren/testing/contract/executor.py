"""The executor contract: the PyWren/Lithops API, end to end, on one compute + storage pair.

Bind it with a `make_executor` fixture: a callable that takes keyword overrides and returns a
`FunctionExecutor` configured for the adapter under test (the test closes it). The functions
it runs live in `wren.testing.functions`, importable by any runtime. Every test has its own
timeout and every wait passes one, so a lost call fails its test instead of hanging the run.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import wren
from wren.protocol import keys
from wren.testing import functions as fn
from wren.testing.contract._binding import WAIT, MakeExecutor
from wren.testing.contract.calls import CallsContract


def _job_keys(fexec: wren.FunctionExecutor, future: wren.ResponseFuture) -> list[str]:
    return fexec.storage.list_keys(fexec.bucket, keys.job_prefix(future.job_key))


def _eventually_empty(fexec: wren.FunctionExecutor, future: wren.ResponseFuture,
                      within: float = 10.0) -> bool:
    """Automatic cleaning runs in the background: give it a moment."""
    deadline = time.monotonic() + within
    while _job_keys(fexec, future):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _exists(fexec: wren.FunctionExecutor, cloud_object: wren.CloudObject) -> bool:
    found = fexec.storage.list_keys(cloud_object.bucket, cloud_object.key)
    return cloud_object.key in found


@pytest.mark.timeout(180)
class ExecutorContract(CallsContract):
    """Mixin of executor tests (the calls contract included); bind the fixture
    `make_executor`."""

    # call_async and get_result ------------------------------------------------------------
    def test_call_async_returns_one_value(self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.add, (2, 3))
        assert fexec.get_result(timeout=WAIT) == 5
        assert future.done and future.success and not future.error
        assert future.result(timeout=WAIT) == 5

    def test_call_async_binds_values_tuples_and_dicts(self, fexec: wren.FunctionExecutor
                                                      ) -> None:
        futures = [fexec.call_async(fn.add, 4), fexec.call_async(fn.add, (4, 5)),
                   fexec.call_async(fn.add, {"x": 1, "y": 2})]
        assert fexec.get_result(futures, timeout=WAIT) == [4, 9, 3]

    # map ----------------------------------------------------------------------------------
    def test_map_returns_results_in_call_order(self, fexec: wren.FunctionExecutor) -> None:
        futures = fexec.map(fn.sleep_then, [((5 - i) * 0.02, i) for i in range(6)])
        assert [f.call_id for f in futures] == [f"{i:05d}" for i in range(6)]
        assert fexec.get_result(timeout=WAIT) == list(range(6))

    def test_map_binding_rules_extra_params_and_id(self, fexec: wren.FunctionExecutor
                                                   ) -> None:
        def run(*args: Any, **kwargs: Any) -> Any:
            return fexec.get_result(fexec.map(*args, **kwargs), timeout=WAIT)

        assert run(fn.add, [1, 2, 3]) == [1, 2, 3]
        assert run(fn.add, [(1, 2), (3, 4)]) == [3, 7]  # (issue 13: a list is one value)
        assert run(fn.add, [{"x": 1, "y": 10}]) == [11]
        assert run(fn.add, [1, 2], extra_params={"y": 100}) == [101, 102]
        assert run(fn.add, [1, 2], extra_args=(5,)) == [6, 7]
        assert run(fn.with_id, [7, 8, 9]) == [(7, 0), (8, 1), (9, 2)]
        assert run(fn.id_first, [7, 8]) == [(0, 7), (1, 8)]

    def test_map_with_chunksize_runs_every_call_once(self, fexec: wren.FunctionExecutor
                                                     ) -> None:
        futures = fexec.map(fn.double, range(50), chunksize=7)
        assert fexec.get_result(futures, timeout=WAIT) == [2 * i for i in range(50)]

    def test_map_of_nothing_returns_nothing(self, fexec: wren.FunctionExecutor) -> None:
        assert fexec.map(fn.double, []) == []
        assert fexec.get_result([], timeout=WAIT) == []

    def test_large_arguments_and_results(self, fexec: wren.FunctionExecutor) -> None:
        size = 3 * 1024 * 1024
        futures = fexec.map(fn.payload_size, [b"a" * size, b"b" * size])
        assert fexec.get_result(futures, timeout=WAIT) == [size, size]
        assert fexec.get_result(fexec.map(fn.make_bytes, [size]), timeout=WAIT) == [b"x" * size]

    def test_extra_env_reaches_the_function_only(self, fexec: wren.FunctionExecutor) -> None:
        with_env = fexec.call_async(fn.read_env, "WREN_CONTRACT_VAR",
                                    extra_env={"WREN_CONTRACT_VAR": "set"})
        assert with_env.result(timeout=WAIT) == "set"
        assert fexec.call_async(fn.read_env, "WREN_CONTRACT_VAR").result(timeout=WAIT) is None

    # map_reduce ---------------------------------------------------------------------------
    @pytest.mark.parametrize("wait_local", [False, True])
    def test_map_reduce_gets_map_results_in_order(self, fexec: wren.FunctionExecutor,
                                                  wait_local: bool) -> None:
        futures = fexec.map_reduce(fn.sleep_then, [((4 - i) * 0.02, i) for i in range(5)],
                                   fn.ordered, reducer_wait_local=wait_local)
        assert len(futures) == 6
        assert fexec.get_result(futures, timeout=WAIT) == [0, 1, 2, 3, 4]

    def test_map_reduce_returns_only_the_reducer_result(self, fexec: wren.FunctionExecutor
                                                        ) -> None:
        fexec.map_reduce(fn.double, range(10), fn.total, spawn_reducer=0)
        assert fexec.get_result(timeout=WAIT) == 90

    def test_map_reduce_reports_a_failed_map_call(self, fexec: wren.FunctionExecutor) -> None:
        fexec.map_reduce(fn.fail_on, [(i, 2) for i in range(4)], fn.total)
        with pytest.raises(KeyError, match="call 2 is the bad one"):
            fexec.get_result(timeout=WAIT)

    # Errors -------------------------------------------------------------------------------
    def test_remote_exception_keeps_type_message_and_traceback(
            self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.fail_with, "broken on purpose")
        with pytest.raises(ValueError, match="broken on purpose") as caught:
            future.result(timeout=WAIT)
        cause = caught.value.__cause__
        assert isinstance(cause, wren.RemoteTraceback)
        assert "fail_with" in str(cause) and "raise ValueError" in str(cause)
        assert future.error and not future.success

    def test_throw_except_false_keeps_failed_calls_in_place(
            self, fexec: wren.FunctionExecutor, caplog: pytest.LogCaptureFixture) -> None:
        futures = fexec.map(fn.fail_on, [(i, 3) for i in range(6)])
        with caplog.at_level("WARNING", logger="wren"):
            results = fexec.get_result(futures, throw_except=False, timeout=WAIT)
        assert results == [0, 1, 2, None, 4, 5]  # as Lithops: aligned with the futures
        warnings = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
        assert len(warnings) == 1 and f"{futures[3].job_key}/00003" in warnings[0]
        assert [f.error for f in futures] == [False, False, False, True, False, False]
        assert isinstance(futures[3].exception(timeout=WAIT), KeyError)
        assert futures[3].result(throw_except=False, timeout=WAIT) is None

    def test_get_result_raises_the_first_failure(self, fexec: wren.FunctionExecutor) -> None:
        fexec.map(fn.fail_on, [(i, 1) for i in range(3)])
        with pytest.raises(KeyError):
            fexec.get_result(timeout=WAIT)

    def test_unserializable_result_is_a_clear_error(self, fexec: wren.FunctionExecutor
                                                    ) -> None:
        futures = fexec.map(fn.unpicklable_result, [1])
        with pytest.raises(wren.RemoteError, match="cannot be serialized"):
            fexec.get_result(futures, timeout=WAIT)

    def test_bad_input_fails_before_anything_runs(self, fexec: wren.FunctionExecutor) -> None:
        with pytest.raises(wren.InvalidInputError, match="does not fit"):
            fexec.map(fn.add, [(1, 2, 3)])
        with pytest.raises(wren.SerializationError, match="call 1"):
            fexec.map(fn.double, [1, fn.Unpicklable()])
        with pytest.raises(wren.InvalidInputError):
            fexec.map(fn.double, 42)  # type: ignore[arg-type]
        with pytest.raises(wren.InvalidInputError):
            fexec.map(fn.double, [1], chunksize=0)
        assert fexec.futures == []

    def test_call_timeout_becomes_an_error_on_the_future(self, fexec: wren.FunctionExecutor
                                                         ) -> None:
        started = time.monotonic()
        future = fexec.call_async(fn.sleep_for, 30, timeout=1)
        with pytest.raises(wren.FunctionTimeoutError, match="exceeded its 1 s timeout"):
            future.result(timeout=WAIT)
        assert time.monotonic() - started < 20

    # wait ---------------------------------------------------------------------------------
    def test_wait_modes(self, fexec: wren.FunctionExecutor) -> None:
        futures = fexec.map(fn.sleep_then, [(0.0, 0), (3.0, 1)])
        done, not_done = fexec.wait(futures, return_when=wren.ANY_COMPLETED, timeout=WAIT)
        assert futures[0] in done and len(done) >= 1
        done, not_done = fexec.wait(futures, return_when=wren.ALWAYS, timeout=WAIT)
        assert len(done) + len(not_done) == 2
        done, not_done = fexec.wait(futures, timeout=0.01)
        assert len(done) + len(not_done) == 2
        done, not_done = fexec.wait(futures, download_results=True, timeout=WAIT)
        assert not not_done and [f.result(timeout=WAIT) for f in done] == [0, 1]

    def test_wait_takes_a_percentage_of_the_futures(self, fexec: wren.FunctionExecutor
                                                    ) -> None:
        futures = fexec.map(fn.sleep_then, [(0.0, 0), (0.0, 1), (3.0, 2), (3.0, 3)])
        done, not_done = fexec.wait(futures, return_when=50, timeout=WAIT)
        assert futures[0] in done and futures[1] in done and len(done) + len(not_done) == 4
        assert fexec.get_result(futures, timeout=WAIT) == [0, 1, 2, 3]

    def test_a_wrong_return_when_or_spawn_reducer_is_invalid_input(
            self, fexec: wren.FunctionExecutor) -> None:
        futures = fexec.map(fn.double, [1])
        for wrong in ("SOME", 101, -2, True, None):
            with pytest.raises(wren.InvalidInputError, match="return_when"):
                fexec.wait(futures, return_when=wrong, timeout=WAIT)
        for bad in (101, "half", 1.5j):
            with pytest.raises(wren.InvalidInputError, match="spawn_reducer"):
                fexec.map_reduce(fn.double, [1], fn.total, spawn_reducer=bad)
        assert len(fexec.futures) == 1  # nothing else was invoked

    def test_spawn_reducer_takes_lithops_values(self, fexec: wren.FunctionExecutor) -> None:
        for when in (wren.ALWAYS, wren.ANY_COMPLETED, wren.ALL_COMPLETED, 50):
            futures = fexec.map_reduce(fn.double, range(4), fn.total, spawn_reducer=when)
            assert fexec.get_result(futures, timeout=WAIT) == 12, when

    def test_wait_works_from_another_thread(self, fexec: wren.FunctionExecutor) -> None:
        import threading

        futures = fexec.map(fn.double, range(4))
        box: list[Any] = []
        thread = threading.Thread(target=lambda: box.append(fexec.wait(futures, timeout=WAIT)))
        thread.start()
        thread.join(60)
        assert box and len(box[0][0]) == 4

    def test_get_result_timeout_raises_and_can_wait_again(self, fexec: wren.FunctionExecutor
                                                          ) -> None:
        futures = fexec.map(fn.sleep_then, [(2.0, "late")])
        with pytest.raises(wren.WaitTimeoutError):
            fexec.get_result(futures, timeout=0.1)
        assert fexec.get_result(futures, timeout=WAIT) == ["late"]

    # Futures ------------------------------------------------------------------------------
    def test_future_identity_and_stats(self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.sleep_for, 0.05)
        future.result(timeout=WAIT)
        assert future.executor_id == fexec.executor_id
        assert future.job_id and future.call_id == "00000"
        stats = future.stats
        assert stats["host_submit_tstamp"] <= stats["worker_start_tstamp"] \
            <= stats["worker_func_start_tstamp"] < stats["worker_func_end_tstamp"] \
            <= stats["worker_end_tstamp"] <= stats["host_status_done_tstamp"] \
            <= stats["host_result_done_tstamp"]
        assert stats["worker_func_exec_time"] >= 0.04
        assert stats["worker_args_bytes"] > 0 and stats["worker_result_bytes"] > 0

    def test_future_state_reads_as_lithops_properties(self, fexec: wren.FunctionExecutor
                                                      ) -> None:
        future = fexec.call_async(fn.sleep_then, (0.3, "x"))
        assert future.invoked and (future.running or future.done)
        assert future.result(timeout=WAIT) == "x"
        assert future.done and future.ready and future.success and not future.error
        assert future.invoked and not future.running
        assert future.cancel() is False and not future.cancelled()  # it ran

    def test_cancel_a_reducer_before_it_is_invoked(self, fexec: wren.FunctionExecutor) -> None:
        from concurrent.futures import CancelledError

        futures = fexec.map_reduce(fn.sleep_then, [(1.0, 1), (1.0, 2)], fn.total,
                                   spawn_reducer=wren.ALL_COMPLETED)
        reducer = futures[-1]
        assert not reducer.invoked and not reducer.done
        assert reducer.cancel() is True
        assert reducer.done and reducer.cancelled() and not reducer.running
        with pytest.raises(CancelledError):
            reducer.result(timeout=WAIT)
        fexec.wait(futures[:-1], timeout=WAIT)
        time.sleep(1.0)  # a reducer spawned by mistake would have reported by now
        assert fexec.storage.list_keys(fexec.bucket, keys.job_prefix(reducer.job_key)) == []
        assert not reducer.invoked

    def test_map_and_map_reduce_return_a_futures_list(self, fexec: wren.FunctionExecutor
                                                      ) -> None:
        from wren.client.futures import FuturesList

        futures = fexec.map(fn.double, [1, 2])
        assert isinstance(futures, FuturesList) and isinstance(futures, list)
        done, not_done = futures.wait(timeout=WAIT)
        assert len(done) == 2 and not not_done
        assert futures.get_result(timeout=WAIT) == [2, 4]
        chained = fexec.map_reduce(fn.double, [1, 2, 3], fn.total)
        assert isinstance(chained, FuturesList) and chained.get_result(timeout=WAIT) == 12

    def test_what_each_call_prints_is_kept(self, fexec: wren.FunctionExecutor) -> None:
        futures = fexec.map(fn.talk, [0, 1, 22], chunksize=3)
        assert fexec.get_result(futures, timeout=WAIT) == [0, 1, 22]
        assert [f.logs for f in futures] == ["", "out 1\nerr 1\n", "out 22\nerr 22\n"]
        assert [f.stats["worker_log_bytes"] for f in futures] == [0, 12, 14]

    # Functions and modules ----------------------------------------------------------------
    def test_function_is_uploaded_once(self, fexec: wren.FunctionExecutor) -> None:
        def blobs() -> set[str]:
            return set(fexec.storage.list_keys(fexec.bucket, keys.FUNCS_PREFIX))

        before = blobs()
        fexec.get_result(fexec.map(fn.double, [1]), timeout=WAIT)
        first = blobs()
        fexec.get_result(fexec.map(fn.double, [2]), timeout=WAIT)
        assert blobs() == first and len(first - before) <= 1
        assert any(k.endswith(".fn") for k in first)

    def test_lambda_and_closure_run_remotely(self, fexec: wren.FunctionExecutor) -> None:
        offset = 10
        assert fexec.get_result(fexec.map(lambda x: x + offset, [1, 2]), timeout=WAIT) == [11, 12]

    def test_user_module_the_worker_cannot_import_is_shipped(
            self, fexec: wren.FunctionExecutor, tmp_path: Path) -> None:
        package = tmp_path / "wren_contract_userpkg"
        package.mkdir()
        (package / "__init__.py").write_text("from .helpers import triple\n")
        (package / "helpers.py").write_text(textwrap.dedent("""
            import wren_contract_usermod
            def triple(x):
                return wren_contract_usermod.scale(x, 3)
        """))
        (tmp_path / "wren_contract_usermod.py").write_text("def scale(x, k):\n    return x*k\n")
        sys.path.insert(0, str(tmp_path))
        try:
            import wren_contract_userpkg

            futures = fexec.map(wren_contract_userpkg.triple, [1, 2])
            assert fexec.get_result(futures, timeout=WAIT) == [3, 6]
        finally:
            sys.path.remove(str(tmp_path))
            for name in ("wren_contract_userpkg", "wren_contract_userpkg.helpers",
                         "wren_contract_usermod"):
                sys.modules.pop(name, None)

    # Cleaning -----------------------------------------------------------------------------
    def test_get_result_cleans_job_data(self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.double, 21)
        assert fexec.get_result(timeout=WAIT) == 42
        assert _eventually_empty(fexec, future)

    def test_clean_removes_data_when_cleaner_is_off(self, make_executor: MakeExecutor
                                                    ) -> None:
        with make_executor(data_cleaner=False) as fexec:
            futures = fexec.map(fn.make_bytes, [10, 20])
            assert fexec.get_result(futures, timeout=WAIT) == [b"x" * 10, b"x" * 20]
            assert _job_keys(fexec, futures[0]) != []
            fexec.clean(futures)
            assert _job_keys(fexec, futures[0]) == []

    def test_clean_deletes_the_cloudobjects_of_its_own_jobs_only(
            self, make_executor: MakeExecutor) -> None:
        with make_executor() as fexec, make_executor() as other:
            first = fexec.get_result(fexec.map(fn.store_text, ["a", "b"]), timeout=WAIT)
            second_futures = fexec.map(fn.store_text, ["c"])
            second = fexec.get_result(second_futures, timeout=WAIT)
            theirs = other.get_result(other.map(fn.store_text, ["d"]), timeout=WAIT)
            client = wren.Storage.from_backend(fexec.storage).put_cloudobject(b"client")
            everything = [*first, *second, *theirs, client]
            assert [_exists(fexec, o) for o in everything] == [True] * 5
            fexec.clean(second_futures, clean_cloudobjects=False)
            assert [_exists(fexec, o) for o in everything] == [True] * 5
            fexec.clean()  # also the objects of a job whose data was cleaned already
            assert [_exists(fexec, o) for o in everything] == [False] * 3 + [True] * 2
            fexec.clean(cs=[client])
            assert [_exists(fexec, o) for o in [*theirs, client]] == [True, False]
            other.clean()
            assert not _exists(fexec, theirs[0])

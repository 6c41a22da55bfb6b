"""The worker-failure contract: a worker that dies, is killed or hangs never hangs the client.

Every compute adapter runs it, whoever sees the worker die: the backend itself
(`supervises_calls`) or its runtime, which reports the calls it lost. Bind it with the same
`make_executor` fixture as the executor contract. Each failure must end as an error on that
call's future that names what happened within `CRASH_WAIT` seconds (waiting for the client's
lost deadline is too late), and the backend must keep serving.
"""

from __future__ import annotations

import signal
import time

import pytest

import wren
from wren.testing import functions as fn
from wren.testing.contract._binding import WAIT, ExecutorBinding

#: A crash is reported by the backend that saw it, in seconds: no test waits for a deadline.
CRASH_WAIT = 20.0


@pytest.mark.timeout(90)
class WorkerFailureContract(ExecutorBinding):
    """Mixin of worker-failure tests; bind the fixture `make_executor`."""

    def _assert_still_serving(self, fexec: wren.FunctionExecutor) -> None:
        assert fexec.get_result(fexec.map(fn.double, range(4)), timeout=WAIT) == [0, 2, 4, 6]

    def test_os_exit_names_the_exit_code(self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.exit_process, 3)
        with pytest.raises(wren.WorkerLostError, match="exited with code 3"):
            future.result(timeout=CRASH_WAIT)
        self._assert_still_serving(fexec)

    def test_sigkill_names_the_signal(self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.kill_self, int(signal.SIGKILL))
        with pytest.raises(wren.WorkerLostError, match="SIGKILL"):
            future.result(timeout=CRASH_WAIT)
        self._assert_still_serving(fexec)

    def test_segfault_names_the_signal(self, fexec: wren.FunctionExecutor) -> None:
        future = fexec.call_async(fn.segfault)
        with pytest.raises(wren.WorkerLostError, match="SIGSEGV"):
            future.result(timeout=CRASH_WAIT)
        self._assert_still_serving(fexec)

    def test_system_exit_in_a_call_is_data_and_never_exits_the_client(
            self, fexec: wren.FunctionExecutor) -> None:
        futures = fexec.map(fn.raise_system_exit, [0, 3])
        for future, code in zip(futures, (0, 3)):
            with pytest.raises(wren.RemoteBaseException, match=rf"SystemExit\({code}\)"):
                future.result(timeout=CRASH_WAIT)
        with pytest.raises(wren.RemoteBaseException):
            fexec.get_result(futures, timeout=CRASH_WAIT)
        self._assert_still_serving(fexec)

    def test_memory_error_is_an_error_on_the_future(self, fexec: wren.FunctionExecutor
                                                    ) -> None:
        future = fexec.call_async(fn.raise_memory_error)
        with pytest.raises(MemoryError, match="ran out of memory"):
            future.result(timeout=CRASH_WAIT)
        self._assert_still_serving(fexec)

    def test_call_that_ignores_its_timeout_is_killed(self, fexec: wren.FunctionExecutor
                                                     ) -> None:
        started = time.monotonic()
        future = fexec.call_async(fn.ignore_alarm_and_sleep, 60, timeout=1)
        with pytest.raises(wren.FunctionTimeoutError, match="exceeded its 1 s timeout"):
            future.result(timeout=CRASH_WAIT)
        assert time.monotonic() - started < 15
        self._assert_still_serving(fexec)

    def test_other_calls_of_a_crashed_task_still_complete(self, fexec: wren.FunctionExecutor
                                                          ) -> None:
        futures = fexec.map(fn.fail_on, [(i, -1) for i in range(6)], chunksize=6)
        crash = fexec.map(fn.exit_process, [9], chunksize=1)
        assert fexec.get_result(futures, timeout=WAIT) == list(range(6))
        with pytest.raises(wren.WorkerLostError, match="exited with code 9"):
            fexec.get_result(crash, timeout=CRASH_WAIT)

    def test_crash_in_the_middle_of_a_batch_retries_the_rest(
            self, fexec: wren.FunctionExecutor) -> None:
        def maybe_die(x: int) -> int:
            if x == 3:
                import os

                os._exit(5)
            return x

        futures = fexec.map(maybe_die, range(8), chunksize=8)
        fexec.wait(futures, throw_except=False, timeout=CRASH_WAIT)
        assert [f.error for f in futures] == [i == 3 for i in range(8)]
        assert [f.result(timeout=CRASH_WAIT) for f in futures if f.index != 3] == [
            0, 1, 2, 4, 5, 6, 7]
        with pytest.raises(wren.WorkerLostError, match="running call 3 exited with code 5"):
            futures[3].result(timeout=CRASH_WAIT)

"""The compute contract: the promises of the `ComputeBackend` port, checked on the port itself.

No `FunctionExecutor` runs the tasks: the contract opens a fresh adapter from the executor's
configuration (`ComputeHarness`), cuts tasks as the client does, calls `invoke` with a
listener of its own and watches storage. It checks that `invoke` returns while the tasks
still run (an adapter that blocks until they finish fails), that every call of every task
ends with a status document (in storage, or pushed for `push_status` backends) or a
`calls_lost` report, that `wait_dispatched` returns True once everything is handed over, that
`max_workers` and `plan_chunksize` are sane, that `runtime_info()` reports versions in the
documented format, and that every capability the adapter declares holds.

Bind it with the executor contract's `make_executor` fixture, or override `harness` to open
the adapter another way.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wren import plugins
from wren._errors import NotSupportedError
from wren.ports import capabilities as caps
from wren.ports.compute import RuntimeInfo
from wren.ports.images import check_image_name
from wren.testing import functions as fn
from wren.testing.contract._binding import WAIT, ExecutorBinding, MakeExecutor
from wren.testing.contract.compute_harness import ComputeHarness
from wren.testing.contract.failures import CRASH_WAIT

#: How long the call behind the "invoke returns promptly" check sleeps; `invoke` must return
#: in well under half of it.
SLOW_CALL = 8.0
COMPUTE_CAPABILITIES = frozenset({caps.PUSH_STATUS, caps.SUPERVISES_CALLS,
                                  caps.RUNTIME_MANAGEMENT, caps.RUNTIME_BUILD,
                                  caps.REMOTE_INVOKER, caps.SHARED_FILESYSTEM,
                                  caps.SHARED_MEMORY})


def _read_file(path: str) -> int:
    with open(path, "rb") as file:
        return len(file.read())


@pytest.mark.timeout(120)
class ComputeBackendContract(ExecutorBinding):
    """Mixin of `ComputeBackend` tests; bind the fixture `make_executor` (or `harness`)."""

    @pytest.fixture
    def harness(self, make_executor: MakeExecutor) -> Iterator[ComputeHarness]:
        """A fresh adapter from the executor's configuration (the executor is closed first,
        so it runs nothing) and the storage its workers write to."""
        with make_executor() as fexec:
            config = fexec.config
        harness = ComputeHarness.open(config)
        try:
            yield harness
        finally:
            harness.close()

    def _warm(self, harness: ComputeHarness) -> None:
        """One full round trip, so a runtime deployed on first use is deployed."""
        listener = harness.listener()
        tasks = harness.tasks(fn.double, [1])
        harness.compute.invoke(harness.invocations(tasks), listener)
        harness.await_reports(tasks, listener, WAIT)

    # invoke --------------------------------------------------------------------------------
    def test_invoke_returns_while_the_tasks_still_run(self, harness: ComputeHarness) -> None:
        self._warm(harness)
        listener = harness.listener()
        tasks = harness.tasks(fn.sleep_for, [SLOW_CALL])
        started = time.monotonic()
        harness.compute.invoke(harness.invocations(tasks), listener)
        took = time.monotonic() - started
        assert took < SLOW_CALL / 2, (
            f"invoke took {took:.1f} s for a call that sleeps {SLOW_CALL} s: it must hand the "
            "tasks over and return, the run is asynchronous")
        reports = harness.await_reports(tasks, listener, WAIT + SLOW_CALL)
        assert reports.error(tasks[0].job_key, 0) is None

    def test_every_call_of_every_task_reports(self, harness: ComputeHarness) -> None:
        listener = harness.listener()
        tasks = harness.tasks(fn.fail_on, [(i, 4) for i in range(10)], chunksize=3)
        assert len(tasks) == 4
        harness.compute.invoke(harness.invocations(tasks), listener)
        reports = harness.await_reports(tasks, listener, WAIT)
        job_key = tasks[0].job_key
        errors = {i: reports.error(job_key, i) for i in range(10)}
        assert [i for i, error in errors.items() if error] == [4], errors
        assert errors[4] is not None and errors[4]["type"] == "KeyError"
        assert "call 4 is the bad one" in errors[4]["message"]
        ids = {t.task_id for t in tasks}
        for document in (*reports.stored, *reports.pushed):
            assert document.job_key == job_key
            assert document.task_id.split(".")[0] in ids, document.task_id

    def test_wait_dispatched_is_true_once_everything_is_handed_over(
            self, harness: ComputeHarness) -> None:
        assert harness.compute.wait_dispatched(timeout=5) is True, "nothing was invoked yet"
        listener = harness.listener()
        tasks = harness.tasks(fn.double, range(6), chunksize=1)
        harness.compute.invoke(harness.invocations(tasks), listener)
        assert harness.compute.wait_dispatched(timeout=WAIT) is True
        harness.await_reports(tasks, listener, WAIT)
        assert harness.compute.wait_dispatched(timeout=5) is True

    # Sizes and runtime facts ---------------------------------------------------------------
    def test_max_workers_and_plan_chunksize_are_sane(self, harness: ComputeHarness) -> None:
        compute = harness.compute
        assert isinstance(compute.max_workers, int) and compute.max_workers >= 1
        assert compute.tasks_per_worker >= 1 and compute.max_payload_bytes >= 1024
        assert compute.task_bytes is None or compute.task_bytes >= 1024
        assert compute.plan_chunksize(0) >= 1
        previous = 1
        for n in (1, 2, 7, 100, 10_000, 1_000_000):
            size = compute.plan_chunksize(n)
            assert isinstance(size, int) and 1 <= size <= n, (n, size)
            assert size >= previous, "more calls must not give smaller tasks"
            previous = size

    def test_runtime_info_reports_versions_in_the_documented_format(
            self, harness: ComputeHarness) -> None:
        try:
            info = harness.compute.runtime_info()
        except NotSupportedError as exc:
            assert harness.compute.name in str(exc)
            return
        assert isinstance(info, RuntimeInfo)
        assert isinstance(info.name, str) and info.name
        assert re.fullmatch(r"\d+\.\d+", info.python_version), (
            f"python_version must be 'MAJOR.MINOR', got {info.python_version!r}")
        assert re.fullmatch(r"\d+\.\d+[\w.+-]*", info.wren_version), info.wren_version
        assert isinstance(info.preinstalled_modules, frozenset)
        assert all(isinstance(m, str) for m in info.preinstalled_modules)

    # Capabilities -------------------------------------------------------------------------
    def test_name_and_capabilities_are_declared(self, harness: ComputeHarness) -> None:
        compute = harness.compute
        assert plugins.compute_backend_class(compute.name) is type(compute)
        assert compute.capabilities <= COMPUTE_CAPABILITIES, (
            f"unknown capabilities: {sorted(compute.capabilities - COMPUTE_CAPABILITIES)}")
        if compute.supports(caps.RUNTIME_BUILD):
            check_image_name(compute.default_runtime_name())
        if not compute.supports(caps.RUNTIME_MANAGEMENT):  # needs the platform otherwise
            for operation in (compute.list_runtimes, lambda: compute.delete_runtime("x"),
                              lambda: compute.deploy_runtime("x")):
                with pytest.raises(NotSupportedError, match=re.escape(compute.name)):
                    operation()

    def test_pushed_statuses_cover_every_call(self, harness: ComputeHarness) -> None:
        if not harness.compute.supports(caps.PUSH_STATUS):
            pytest.skip(f"{harness.compute.name} does not declare push_status")
        listener = harness.listener()
        tasks = harness.tasks(fn.double, range(8), chunksize=3)
        harness.compute.invoke(harness.invocations(tasks), listener)
        harness.await_reports(tasks, listener, WAIT)
        deadline = time.monotonic() + 5
        while True:
            pushed = {i for d in listener.snapshot()[0] for i in d.indices}
            if pushed == set(range(8)) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert pushed == set(range(8)), "a push_status backend must push every status"

    def test_workers_read_local_files_where_declared(self, harness: ComputeHarness,
                                                    tmp_path: Path) -> None:
        if not harness.compute.supports(caps.SHARED_FILESYSTEM):
            pytest.skip(f"{harness.compute.name} does not declare shared_filesystem")
        (tmp_path / "local.bin").write_bytes(b"x" * 123)
        listener = harness.listener()
        tasks = harness.tasks(_read_file, [str(tmp_path / "local.bin")])
        harness.compute.invoke(harness.invocations(tasks), listener)
        reports = harness.await_reports(tasks, listener, WAIT)
        assert reports.error(tasks[0].job_key, 0) is None

    def test_a_killed_worker_is_reported_with_a_reason(self, harness: ComputeHarness) -> None:
        compute = harness.compute
        if not compute.supports(caps.SUPERVISES_CALLS):
            task = harness.tasks(fn.double, [1], timeout=10)[0]
            deadline = compute.lost_deadline(task, 1000.0)
            assert deadline is not None and deadline > 1000.0, (
                "a backend that does not supervise its calls must give the client a deadline")
            return
        listener = harness.listener()
        tasks = harness.tasks(fn.kill_self, [int(signal.SIGKILL)])
        compute.invoke(harness.invocations(tasks), listener)
        reports = harness.await_reports(tasks, listener, CRASH_WAIT)
        lost = [r for r in reports.lost if 0 in r.call_indices]
        assert lost, "a supervising backend reports a killed worker through calls_lost"
        assert lost[0].job_key == tasks[0].job_key and lost[0].kind == "lost"
        assert "SIGKILL" in lost[0].reason, lost[0].reason

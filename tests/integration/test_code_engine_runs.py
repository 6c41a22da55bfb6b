"""`code_engine` job runs after their creation: failed instances, closing, `wren clean`.

The Code Engine API double (tests/doubles/code_engine.py) runs each array instance as a real
process of the runtime's entry point (`process_launcher`: the same code the image runs,
without building the image) with `ibm_cos` on a real Ceph RADOS Gateway. An instance that
cannot start must fail its calls within seconds (not at the lost deadline, minutes later)
while the other calls of its job succeed; closing an executor deletes its completed job
runs; `clean_finished` (`wren clean`) deletes every ended wren job run and unused key secret
of the project and leaves running work alone. The watcher's reading of `status_details` and
`clean_project` are also checked on a double that only records its instances.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import wren
from wren.ports.runtime_probe import METADATA_ENV
from wren.testing import functions as fn
from wren_backend_ibmcf.auth import IamAuth
from wren_backend_ibmcf.code_engine.api import CodeEngineApi
from wren_backend_ibmcf.code_engine.runs import RunWatcher, clean_project, parse_indices

from tests.doubles.code_engine import CodeEngineDouble
from tests.doubles.code_engine_runs import process_launcher
from tests.integration.test_code_engine import (
    MakeExecutor,
    ceph_gateway,
    cos_config,
    make_executor,
)

__all__ = ["ceph_gateway", "cos_config", "make_executor"]
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def code_engine_image() -> str:
    return "wren-ci/code-engine-processes:1"  # the process launcher runs the entry point


@pytest.fixture(scope="module")
def double() -> Iterator[CodeEngineDouble]:
    root = Path(tempfile.mkdtemp(prefix="wren-ce-runs-"))
    served = CodeEngineDouble(root, process_launcher(sys.executable), slots=6)
    yield served
    served.stop()


def _new_runs(double: CodeEngineDouble, before: set[str]) -> list[dict[str, Any]]:
    return [run for run in double.runs()
            if run["name"] not in before and run["name"].startswith("wren-run-")]


def _wait_status(run: dict[str, Any], *statuses: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while run["status"] not in statuses and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run["status"] in statuses, run["status_details"]


def _key_secrets(double: CodeEngineDouble, project_id: str) -> set[str]:
    held = double.state.items.get((project_id, "secrets"), {})
    return {name for name in held if name.startswith("wren-key-")}


def test_an_instance_that_cannot_start_fails_its_calls_at_once(
        make_executor: MakeExecutor, double: CodeEngineDouble) -> None:
    fexec = make_executor()
    assert fexec.get_result(fexec.map(fn.double, [1])) == [2]  # runtime read and deployed
    double.runner.unstartable.append(1)
    started = time.monotonic()
    futures = fexec.map(fn.double, range(3), chunksize=1)
    with pytest.raises(wren.WorkerLostError, match=(
            r"instance 1 of the Code Engine job run wren-run-\w+ ended before its calls "
            r"reported \(ContainerExitedCode125\); see its logs with `ibmcloud ce jobrun "
            r"logs -n (wren-run-\w+) --instance \1-1-0`")):
        futures[1].result(timeout=30)  # the lost deadline is minutes away
    assert time.monotonic() - started < 30
    assert fexec.get_result([futures[0], futures[2]]) == [0, 4]


def test_closing_deletes_completed_job_runs_and_keeps_failed_ones(
        make_executor: MakeExecutor, double: CodeEngineDouble) -> None:
    fexec = make_executor()
    project_id = fexec.compute.project_id
    before = {run["name"] for run in double.runs()}
    earlier_keys = _key_secrets(double, project_id)  # of executors with runs still going
    assert fexec.get_result(fexec.map(fn.double, range(2), chunksize=1)) == [0, 2]
    double.runner.unstartable.append(0)
    failing = fexec.map(fn.double, range(2), chunksize=1)
    assert isinstance(failing[0].exception(timeout=30), wren.WorkerLostError)
    completed, failed = sorted(_new_runs(double, before),
                               key=lambda run: run["status_details"]["failed"])
    _wait_status(completed, "completed")
    _wait_status(failed, "failed")
    assert _key_secrets(double, project_id) - earlier_keys
    fexec.close()
    names = {run["name"] for run in double.runs()}
    assert completed["name"] not in names
    assert failed["name"] in names  # its instances' logs stay until `wren clean`
    assert not _key_secrets(double, project_id) - earlier_keys


def test_clean_finished_removes_ended_runs_and_leaves_running_work(
        make_executor: MakeExecutor, double: CodeEngineDouble) -> None:
    other, busy = make_executor(), make_executor()
    before = {run["name"] for run in double.runs()}
    assert other.get_result(other.map(fn.double, range(2), chunksize=1)) == [0, 2]
    (ended,) = _new_runs(double, before)
    _wait_status(ended, "completed")
    slow = busy.map(fn.sleep_then, [(15, "done")])
    assert busy.compute.wait_dispatched(30)
    (running,) = _new_runs(double, before | {ended["name"]})
    _wait_status(running, "running")
    project_id = busy.compute.project_id
    keys = _key_secrets(double, project_id)
    in_use = {e["reference"] for e in running["run_env_variables"]
              if e["type"] == "secret_key_reference"}
    assert in_use < keys
    expected = [run["name"] for run in double.runs() if run["status"] in ("completed", "failed")]
    lines = make_executor().compute.clean_finished()
    assert lines == [f"{len(expected)} ended job runs in project wren-ci",
                     f"{len(keys - in_use)} key secrets in project wren-ci"]
    names = {run["name"] for run in double.runs()}
    assert ended["name"] not in names and not names & set(expected)
    assert running["name"] in names
    assert _key_secrets(double, project_id) == in_use
    assert busy.get_result(slow) == ["done"]


# The watcher and `clean_project` on a double that only records instances ------------------
@pytest.fixture
def recording() -> Iterator[tuple[CodeEngineDouble, CodeEngineApi, str]]:
    served = CodeEngineDouble(Path(tempfile.mkdtemp(prefix="wren-ce-rec-")), None)
    api = CodeEngineApi(f"{served.url}/v2", IamAuth(served.api_key, served.iam_url))
    yield served, api, api.project_id("wren-recorded", None)
    served.stop()


def _run(double: CodeEngineDouble, name: str) -> dict[str, Any]:
    return next(run for run in double.runs() if run["name"] == name)


def test_index_lists_are_read_as_code_engine_writes_them() -> None:
    assert parse_indices("0-2,5,7-8") == [0, 1, 2, 5, 7, 8]
    assert parse_indices("") == parse_indices(None) == []


def test_failed_and_never_started_indices_are_reported_once(
        recording: tuple[CodeEngineDouble, CodeEngineApi, str]) -> None:
    double, api, project_id = recording
    api.call("create_job_run", project_id, image_reference="img", name="wren-run-a",
             scale_array_spec="0-3")
    tasks = [SimpleNamespace(job_key="job-a", call_indices=(2 * i, 2 * i + 1))
             for i in range(4)]
    lost: list[tuple[str, list[int], str, str]] = []
    listener = SimpleNamespace(calls_lost=lambda *args: lost.append(args))
    watcher = RunWatcher(api, project_id)
    watcher.expect("wren-run-a", tasks, listener)  # type: ignore[arg-type]
    watcher.close()  # the test polls itself
    run = _run(double, "wren-run-a")
    run["status"], run["status_details"] = "running", {
        "succeeded_indices": "0", "failed_indices": "1", "running_indices": "2-3",
        "indices_details": {"1": {"status": "failed", "last_failure_reason": "OOMKilled"}}}
    assert watcher.poll()
    assert [(job, calls) for job, calls, _, _ in lost] == [("job-a", [2, 3])]
    assert "instance 1 of the Code Engine job run wren-run-a" in lost[0][2]
    assert "(OOMKilled)" in lost[0][2] and lost[0][3] == "lost"
    assert not watcher.poll()  # nothing new: nothing reported again
    run["status"], run["status_details"] = "failed", {
        "failed_indices": "1,3", "pending_indices": "2"}
    assert watcher.poll()
    assert [calls for _, calls, _, _ in lost] == [[2, 3], [4, 5], [6, 7]]
    assert "it never started: the job run failed" in lost[1][2]
    run["status_details"] = {"failed_indices": "0-3"}
    watcher.poll()  # the run ended: no longer read
    assert len(lost) == 3


def test_clean_project_deletes_wren_runs_that_ended_and_unused_keys(
        recording: tuple[CodeEngineDouble, CodeEngineApi, str]) -> None:
    double, api, project_id = recording
    for secret in ("wren-key-ended", "wren-key-live", "someone-else"):
        api.call("create_secret", project_id, "generic", secret, data={"WREN_KEY": "x"})
    runs = {"wren-run-ended": "completed", "wren-run-failed": "failed",
            "wren-run-live": "running", "users-run": "completed", "wren-meta": "completed"}
    for name, status in runs.items():
        env = [{"type": "secret_key_reference", "name": "WREN_KEY", "key": "WREN_KEY",
                "reference": "wren-key-live" if name == "wren-run-live" else
                "wren-key-ended"}]
        if name == "wren-meta":
            env = [{"type": "literal", "name": METADATA_ENV, "value": "{}"}]
        api.call("create_job_run", project_id, image_reference="img", name=name,
                 scale_array_spec="0", run_env_variables=env)
        _run(double, name)["status"] = status
    for number in range(100):  # more runs than one page of the list holds (100)
        api.call("create_job_run", project_id, image_reference="img", name=f"users-{number}",
                 scale_array_spec="0")
        _run(double, f"users-{number}")["status"] = "completed"
    assert clean_project(api, project_id) == (3, 1)
    assert {run["name"] for run in double.runs()} == {
        "wren-run-live", "users-run", *(f"users-{number}" for number in range(100))}
    held = double.state.items[(project_id, "secrets")]
    assert set(held) == {"wren-key-live", "someone-else"}

"""The runtimes/knative entry point as a process on loopback, spoken to over HTTP directly.

Tasks are built by a real executor (its storage is the runtime's storage), sent by hand, and
their results read back by that executor: the runtime answers 202 once a worker slot takes a
task, refuses what is not a task or comes from another wren, and drains on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import wren
from wren.client.futures import futures_of
from wren.protocol.invocation import Invocation
from wren.protocol.runtime import RUNTIME_PROTOCOL
from wren.protocol.task import JobKind
from wren.testing import functions as fn

from tests.doubles.knative_serving import RUNTIME_ENTRY
from tests.servers.ports import free_port

Runtime = Callable[..., tuple[subprocess.Popen[bytes], str]]


@pytest.fixture
def storage_dir(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def start_runtime(storage_dir: Path, tmp_path: Path) -> Iterator[Runtime]:
    started: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        variables = {"PATH": os.environ["PATH"], "PORT": str(port),
                     "WREN_LISTEN_HOST": "127.0.0.1", "K_REVISION": "entry-test-00001",
                     "WREN_STORAGE_CONFIG": json.dumps({"storage_dir": str(storage_dir)}),
                     **env}
        log = open(tmp_path / f"runtime-{port}.log", "wb")  # noqa: SIM115 - kept by the process
        process = subprocess.Popen([sys.executable, str(RUNTIME_ENTRY)], env=variables,
                                   cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / f"runtime-{port}.log").read_text()
            try:
                if requests.get(url + "/healthz", timeout=1).status_code == 200:
                    return process, url
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the runtime did not answer its readiness probe in 30 s")

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def fexec(storage_dir: Path) -> Iterator[wren.FunctionExecutor]:
    """An executor whose storage is the runtime's; used to build tasks and read results."""
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(storage_dir), worker_processes=1) as executor:
        yield executor


def tasks_for(fexec: wren.FunctionExecutor, func: Any, items: list[Any]) -> tuple[Any, list[Any]]:
    job, tasks = fexec._prepare(func, items, JobKind.MAP, chunksize=1)
    return job, [json.dumps(Invocation(task, fexec._key).to_dict()).encode() for task in tasks]


def test_metadata_and_readiness(start_runtime: Runtime) -> None:
    _, url = start_runtime(WREN_WORKER_PROCESSES="3", WREN_RUNTIME_NAME="me/rt:1")
    metadata = requests.get(url + "/metadata", timeout=10).json()
    assert metadata["python_version"] == ".".join(map(str, sys.version_info[:2]))
    assert metadata["wren_version"] == wren.__version__
    # issue 11: one metadata document for every runtime, so the name is under "name"
    assert (metadata["name"], metadata["worker_processes"]) == ("me/rt:1", 3)
    assert metadata["protocol"] == RUNTIME_PROTOCOL
    modules = set(metadata["preinstalled_modules"])
    assert {"wren", "json", "cloudpickle"} <= modules
    assert not {"entry_point", "task_runner"} & modules
    assert requests.get(url + "/healthz", timeout=10).json()["worker_processes"] == 3
    assert requests.get(url + "/nothing", timeout=10).status_code == 404


def test_tasks_run_in_the_background_and_report_to_storage(
        start_runtime: Runtime, fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime(WREN_WORKER_PROCESSES="2")
    job, bodies = tasks_for(fexec, fn.sleep_then, [(1.0, "slow"), (0.0, "fast")])
    started = time.monotonic()
    answers = [requests.post(url + "/", data=body, timeout=30) for body in bodies]
    assert [a.status_code for a in answers] == [202, 202]
    assert time.monotonic() - started < 0.9  # accepted, not run, before answering
    assert fexec.get_result(futures_of(job), timeout=30) == ["slow", "fast"]


def test_a_saturated_runtime_holds_requests_until_a_slot_frees(
        start_runtime: Runtime, fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime(WREN_WORKER_PROCESSES="1", WREN_QUEUED_TASKS="0")
    job, bodies = tasks_for(fexec, fn.sleep_then, [(1.5, 0), (0.0, 1)])
    assert requests.post(url + "/", data=bodies[0], timeout=30).status_code == 202
    started = time.monotonic()
    assert requests.post(url + "/", data=bodies[1], timeout=30).status_code == 202
    assert time.monotonic() - started > 1.0
    assert fexec.get_result(futures_of(job), timeout=30) == [0, 1]


def test_what_is_not_a_task_is_refused(start_runtime: Runtime,
                                       fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime()
    garbage = requests.post(url + "/", data=b'{"x": 1}', timeout=10)
    assert garbage.status_code == 400 and "runs wren tasks only" in garbage.json()["error"]
    _, bodies = tasks_for(fexec, fn.double, [1])
    keyless = {"wren_task": json.loads(bodies[0])["wren_task"]}  # issue 12: no key, no run
    refused = requests.post(url + "/", json=keyless, timeout=10)
    assert refused.status_code == 400 and "no executor key" in refused.json()["error"]
    foreign = json.loads(bodies[0])
    foreign["wren_task"].update(protocol=99, wren_version="9.9.0")
    refused = requests.post(url + "/", json=foreign, timeout=10)
    assert refused.status_code == 400
    assert "made by wren 9.9.0" in refused.json()["error"]
    assert requests.post(url + "/elsewhere", data=bodies[0], timeout=10).status_code == 404


def test_a_crashed_worker_is_reported_through_storage(start_runtime: Runtime,
                                                      fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime()
    job, bodies = tasks_for(fexec, fn.exit_process, [7])
    assert requests.post(url + "/", data=bodies[0], timeout=10).status_code == 202
    with pytest.raises(wren.WorkerLostError, match="exited with code 7"):
        fexec.get_result(futures_of(job), timeout=30)


def test_sigterm_drains_then_exits(start_runtime: Runtime,
                                   fexec: wren.FunctionExecutor) -> None:
    process, url = start_runtime(WREN_WORKER_PROCESSES="1")
    job, bodies = tasks_for(fexec, fn.sleep_then, [(1.5, "finished"), (0.0, "late")])
    assert requests.post(url + "/", data=bodies[0], timeout=10).status_code == 202
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    late = requests.post(url + "/", data=bodies[1], timeout=10)
    assert late.status_code == 503 and late.headers["Retry-After"] == "1"
    assert process.wait(30) == 0
    done, _ = fexec.wait(futures_of(job)[:1], timeout=10)
    assert [f.result() for f in done] == ["finished"]

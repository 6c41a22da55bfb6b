"""The runtimes/knative entry point as a process on loopback, spoken to over HTTP directly.

Tasks are built by a real executor (its storage is the runtime's storage), sent by hand, and
their results read back by that executor: the runtime answers 202 once a worker slot takes a
task, refuses what is not a task or comes from another wren, and drains on SIGTERM. It runs
and describes nothing for a caller without its bearer token (issue 12): such a request gets
401 before its body is read, and a runtime without a token does not start.
"""

from __future__ import annotations

import json
import os
import signal
import socket
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
TOKEN = "test-runtime-token-0123456789-abcdefghijklmnop"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


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
                     "WREN_RUNTIME_TOKEN": TOKEN, **env}
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
    metadata = requests.get(url + "/metadata", headers=AUTH, timeout=10).json()
    assert metadata["python_version"] == ".".join(map(str, sys.version_info[:2]))
    assert metadata["wren_version"] == wren.__version__
    # issue 11: one metadata document for every runtime, so the name is under "name"
    assert (metadata["name"], metadata["worker_processes"]) == ("me/rt:1", 3)
    assert metadata["protocol"] == RUNTIME_PROTOCOL
    modules = set(metadata["preinstalled_modules"])
    assert {"wren", "json", "cloudpickle"} <= modules
    assert not {"entry_point", "task_runner"} & modules
    # issue 12: the open readiness probe tells only readiness; its counters need the token
    assert requests.get(url + "/healthz", timeout=10).json() == {"ready": True}
    assert requests.get(url + "/healthz", headers=AUTH,
                        timeout=10).json()["worker_processes"] == 3
    assert requests.get(url + "/nothing", headers=AUTH, timeout=10).status_code == 404


def test_tasks_run_in_the_background_and_report_to_storage(
        start_runtime: Runtime, fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime(WREN_WORKER_PROCESSES="2")
    job, bodies = tasks_for(fexec, fn.sleep_then, [(1.0, "slow"), (0.0, "fast")])
    started = time.monotonic()
    answers = [requests.post(url + "/", data=body, headers=AUTH, timeout=30) for body in bodies]
    assert [a.status_code for a in answers] == [202, 202]
    assert time.monotonic() - started < 0.9  # accepted, not run, before answering
    assert fexec.get_result(futures_of(job), timeout=30) == ["slow", "fast"]


def test_a_saturated_runtime_holds_requests_until_a_slot_frees(
        start_runtime: Runtime, fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime(WREN_WORKER_PROCESSES="1", WREN_QUEUED_TASKS="0")
    job, bodies = tasks_for(fexec, fn.sleep_then, [(1.5, 0), (0.0, 1)])
    assert requests.post(url + "/", data=bodies[0], headers=AUTH, timeout=30).status_code == 202
    started = time.monotonic()
    assert requests.post(url + "/", data=bodies[1], headers=AUTH, timeout=30).status_code == 202
    assert time.monotonic() - started > 1.0
    assert fexec.get_result(futures_of(job), timeout=30) == [0, 1]


def test_what_is_not_a_task_is_refused(start_runtime: Runtime,
                                       fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime()
    garbage = requests.post(url + "/", data=b'{"x": 1}', headers=AUTH, timeout=10)
    assert garbage.status_code == 400 and "runs wren tasks only" in garbage.json()["error"]
    _, bodies = tasks_for(fexec, fn.double, [1])
    keyless = {"wren_task": json.loads(bodies[0])["wren_task"]}  # issue 12: no key, no run
    refused = requests.post(url + "/", json=keyless, headers=AUTH, timeout=10)
    assert refused.status_code == 400 and "no executor key" in refused.json()["error"]
    foreign = json.loads(bodies[0])
    foreign["wren_task"].update(protocol=99, wren_version="9.9.0")
    refused = requests.post(url + "/", json=foreign, headers=AUTH, timeout=10)
    assert refused.status_code == 400
    assert "made by wren 9.9.0" in refused.json()["error"]
    elsewhere = requests.post(url + "/elsewhere", data=bodies[0], headers=AUTH, timeout=10)
    assert elsewhere.status_code == 404


def test_a_crashed_worker_is_reported_through_storage(start_runtime: Runtime,
                                                      fexec: wren.FunctionExecutor) -> None:
    _, url = start_runtime()
    job, bodies = tasks_for(fexec, fn.exit_process, [7])
    assert requests.post(url + "/", data=bodies[0], headers=AUTH, timeout=10).status_code == 202
    with pytest.raises(wren.WorkerLostError, match="exited with code 7"):
        fexec.get_result(futures_of(job), timeout=30)


def test_sigterm_drains_then_exits(start_runtime: Runtime,
                                   fexec: wren.FunctionExecutor) -> None:
    process, url = start_runtime(WREN_WORKER_PROCESSES="1")
    job, bodies = tasks_for(fexec, fn.sleep_then, [(1.5, "finished"), (0.0, "late")])
    assert requests.post(url + "/", data=bodies[0], headers=AUTH, timeout=10).status_code == 202
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    late = requests.post(url + "/", data=bodies[1], headers=AUTH, timeout=10)
    assert late.status_code == 503 and late.headers["Retry-After"] == "1"
    assert process.wait(30) == 0
    done, _ = fexec.wait(futures_of(job)[:1], timeout=10)
    assert [f.result() for f in done] == ["finished"]


# Callers must show the token (issue 12) ------------------------------------------------------
def _touch(path: str) -> str:
    """What an attacker's task would do: leave a canary file behind."""
    with open(path, "w") as canary:
        canary.write("ran")
    return path


def _raw_post(url: str, headers: dict[str, str], head: bytes, declared: int,
              wait: float) -> bytes:
    """POST declaring a `declared`-byte body but sending only `head` of it; what the runtime
    answered within `wait` seconds (b"" if nothing)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as connection:
        lines = ["POST / HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
                 f"Content-Length: {declared}", *(f"{k}: {v}" for k, v in headers.items())]
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + head)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
        return answer


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-the-token"},
                                     {"Authorization": f"Basic {TOKEN}"},
                                     {"Authorization": f"Bearer {TOKEN}x"}],
                         ids=["no-token", "wrong-token", "other-scheme", "longer-token"])
def test_a_caller_without_the_token_runs_nothing(
        start_runtime: Runtime, fexec: wren.FunctionExecutor, tmp_path: Path,
        headers: dict[str, str]) -> None:
    _, url = start_runtime()
    canary = tmp_path / "canary"
    job, bodies = tasks_for(fexec, _touch, [str(canary)])  # a real invocation
    refused = requests.post(url + "/", data=bodies[0], headers=headers, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="wren"'
    assert "Authorization: Bearer" in refused.json()["error"]
    time.sleep(1.0)
    assert not canary.exists()
    # the same body with the token runs: the canary would have caught a run
    assert requests.post(url + "/", data=bodies[0], headers=AUTH, timeout=10).status_code == 202
    assert fexec.get_result(futures_of(job), timeout=30) == [str(canary)]
    assert canary.read_text() == "ran"


def test_the_token_is_checked_before_the_body_is_read(
        start_runtime: Runtime, fexec: wren.FunctionExecutor, tmp_path: Path) -> None:
    _, url = start_runtime()
    canary = tmp_path / "canary"
    _, bodies = tasks_for(fexec, _touch, [str(canary)])
    huge = 1 << 30  # announced, never sent: a runtime that reads it first hangs
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        started = time.monotonic()
        answer = _raw_post(url, headers, bodies[0][:200], huge, wait=10)
        assert answer.startswith(b"HTTP/1.1 401 "), answer
        assert time.monotonic() - started < 3
    # with the token the runtime does wait for the body, which is what the 401 skipped
    assert _raw_post(url, AUTH, bodies[0][:200], huge, wait=1.5) == b""
    # a caller that asks first is refused instead of being told to send its body
    asked = _raw_post(url, {"Expect": "100-continue"}, b"", huge, wait=10)
    assert asked.startswith(b"HTTP/1.1 401 "), asked
    asked = _raw_post(url, {"Expect": "100-continue", **AUTH}, b"", huge, wait=10)
    assert asked.startswith(b"HTTP/1.1 100 "), asked
    assert not canary.exists()


def test_metadata_needs_the_token(start_runtime: Runtime) -> None:
    _, url = start_runtime(WREN_RUNTIME_NAME="me/rt:1")
    for headers in ({}, {"Authorization": "Bearer not-the-token"}):
        refused = requests.get(url + "/metadata", headers=headers, timeout=10)
        assert refused.status_code == 401
        assert "python_version" not in refused.text and "me/rt:1" not in refused.text
        hidden = requests.get(url + "/nothing", headers=headers, timeout=10)
        assert hidden.status_code == 401
    assert requests.get(url + "/metadata", headers=AUTH, timeout=10).json()["name"] == "me/rt:1"


@pytest.mark.parametrize("token", [None, "", "too-short"])
def test_a_runtime_without_a_token_does_not_start(storage_dir: Path, tmp_path: Path,
                                                  token: str | None) -> None:
    env = {"PATH": os.environ["PATH"], "PORT": str(free_port()),
           "WREN_LISTEN_HOST": "127.0.0.1",
           "WREN_STORAGE_CONFIG": json.dumps({"storage_dir": str(storage_dir)})}
    if token is not None:
        env["WREN_RUNTIME_TOKEN"] = token
    ran = subprocess.run([sys.executable, str(RUNTIME_ENTRY)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode != 0
    assert "WREN_RUNTIME_TOKEN" in ran.stderr and "refuses to start" in ran.stderr

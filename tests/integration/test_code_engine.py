"""`code_engine` compute through the Code Engine API double, every instance a real container.

`wren runtime build` builds the code_engine runtime image on the locally built Debian base
with a real engine (podman's Docker API, tests/servers/podman.py) and pushes it to a real
registry (tests/servers/registry.py); the Code Engine API double (tests/doubles/code_engine.py)
runs each array index of a job run as a podman container of that image, pulled from the
registry, and storage is `ibm_cos` on a real Ceph RADOS Gateway. The executor, worker-failure,
data-processing, compute and hostile-storage contracts run here, then what is particular to
Code Engine (credentials, projects, sizes, throttling, tokens, runtimes, cost).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing import functions as fn
from wren.testing.contract import (
    ComputeBackendContract,
    DataProcessingContract,
    ExecutorContract,
    HostileStorageContract,
    WorkerFailureContract,
)
from wren_backend_ibmcf import IbmCosStorage
from wren_backend_ibmcf.code_engine import runtimes as runtime_module
from wren_backend_ibmcf.code_engine.api import CodeEngineError

from tests.doubles.code_engine import CodeEngineDouble
from tests.doubles.code_engine_runs import podman_launcher
from tests.servers.ceph import CephGateway, shared_gateway
from tests.servers.podman import BASE_IMAGE, PodmanEngine, podman_engine
from tests.servers.registry import registry

__all__ = ["podman_engine", "registry"]
pytestmark = pytest.mark.timeout(900)
BUCKET = "wren-code-engine"
MakeExecutor = Callable[..., wren.FunctionExecutor]


@pytest.fixture(scope="session")
def ceph_gateway() -> Iterator[CephGateway]:
    yield from shared_gateway()


@pytest.fixture(scope="module")
def code_engine_image(podman_engine: PodmanEngine, registry: str,
                      tmp_path_factory: pytest.TempPathFactory) -> str:
    """The runtime image, built by `wren runtime build` and pushed to the registry."""
    image = f"{registry}/wren-ci/code-engine-runtime:test"
    home = tmp_path_factory.mktemp("ce-cli-home")
    env = {**os.environ, "DOCKER_HOST": podman_engine.docker_host, "HOME": str(home)}
    env.pop("WREN_CONFIG_FILE", None)
    built = subprocess.run(
        [sys.executable, "-m", "wren_cli", "runtime", "build", image, "-b", "code_engine",
         "-s", "ibm_cos", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"],
        env=env, cwd=home, capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    return image


@pytest.fixture(scope="module")
def double(podman_engine: PodmanEngine, code_engine_image: str) -> Iterator[CodeEngineDouble]:
    root = Path(tempfile.mkdtemp(prefix="wren-ce-double-"))
    served = CodeEngineDouble(root, podman_launcher(podman_engine.env), slots=6)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def cos_config(ceph_gateway: CephGateway) -> dict[str, Any]:
    config = ceph_gateway.ibm_cos_config(BUCKET)
    IbmCosStorage(config).create_bucket(BUCKET)
    return config


@pytest.fixture
def make_executor(double: CodeEngineDouble, code_engine_image: str,
                  cos_config: dict[str, Any]) -> Iterator[MakeExecutor]:
    made: list[wren.FunctionExecutor] = []

    def make(compute: dict[str, Any] | None = None, cos: dict[str, Any] | None = None,
             **overrides: Any) -> wren.FunctionExecutor:
        section = double.config(**{"runtime": code_engine_image, "project_name": "wren-ci",
                                   "max_workers": 6, **(compute or {})})
        config = {"code_engine": section, "ibm_cos": {**cos_config, **(cos or {})}}
        executor = wren.FunctionExecutor(backend="code_engine", storage="ibm_cos",
                                         config=config, **overrides)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.close()


class CodeEngineBinding:
    """Binds the executor suites to this module's `make_executor` fixture."""

    @pytest.fixture
    def make_executor(self, make_executor: MakeExecutor) -> MakeExecutor:
        return make_executor


class TestCodeEngineExecutor(CodeEngineBinding, ExecutorContract):
    pass


class TestCodeEngineWorkerFailures(CodeEngineBinding, WorkerFailureContract):
    pass


class TestCodeEngineDataProcessing(CodeEngineBinding, DataProcessingContract):
    pass


class TestCodeEngineCompute(CodeEngineBinding, ComputeBackendContract):
    pass


class TestCodeEngineHostileStorage(CodeEngineBinding, HostileStorageContract):
    """An attacker with write access to the Ceph bucket (`ibm_cos`)."""


# What is particular to Code Engine --------------------------------------------------------
def test_one_job_run_per_job_and_calls_run_in_the_container(
        make_executor: MakeExecutor, double: CodeEngineDouble) -> None:
    def where(_: int) -> str:  # pickled by value: this module is not in the image
        import os
        import sys

        return f"{sys.executable} {os.environ.get('JOB_INDEX')}"

    fexec = make_executor()
    before = {run["name"] for run in double.runs()}
    answers = fexec.get_result(fexec.map(where, range(5), chunksize=1))
    assert {a.split()[0] for a in answers} == {"/opt/wren/bin/python3"}
    new = [run for run in double.runs() if run["name"] not in before
           and run["scale_array_spec"] != "0"]
    assert len(new) == 1 and new[0]["scale_array_spec"] == "0-4"
    deadline = time.monotonic() + 60  # the instances exit once their pools stopped
    while new[0]["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert new[0]["status"] == "completed", new[0]["status_details"]
    assert sorted(int(a.split()[1]) for a in answers) == [0, 1, 2, 3, 4]


def test_credentials_travel_only_in_secrets(make_executor: MakeExecutor,
                                            double: CodeEngineDouble,
                                            ceph_gateway: CephGateway) -> None:
    fexec = make_executor()
    before = len(double.state.requests)
    assert fexec.get_result(fexec.map(fn.double, range(3), chunksize=1)) == [0, 2, 4]
    runs = [r for r in double.state.requests[before:] if r["path"].endswith("/job_runs")
            and r["method"] == "POST" and "WREN_TASKS" in r["body"]]
    assert runs
    secrets = (ceph_gateway.secret_key, ceph_gateway.access_key, double.api_key)
    for request in runs:
        body = json.loads(request["body"])
        assert not any(s in request["body"] for s in secrets)
        literal = [e for e in body["run_env_variables"] if e["type"] == "literal"]
        assert all("executor_key" not in e["value"] for e in literal)
        assert {"name": "WREN_KEY", "key": "WREN_KEY"}.items() <= next(
            e for e in body["run_env_variables"] if e["type"] == "secret_key_reference").items()
    secrets_held = double.state.items[(fexec.compute.project_id, "secrets")]
    held = [s["data"]["WREN_KEY"] for n, s in secrets_held.items() if n.startswith("wren-key-")]
    assert held and all(len(base64.b64decode(k)) == 32 for k in held)
    # The instances find their tasks in storage (sealed with that key, not carrying it).
    tasks = json.loads(next(e["value"] for r in runs for e in json.loads(r["body"])[
        "run_env_variables"] if e.get("name") == "WREN_TASKS"))
    assert "/fanout/" in tasks["key"] and "executor_key" not in tasks


def test_sizes_outside_the_documented_combinations_fail_before_any_request(
        make_executor: MakeExecutor, double: CodeEngineDouble) -> None:
    before = len(double.state.requests)
    with pytest.raises(wren.ConfigError, match=r"one of 2048, 4096, 8192 MB.*mem-cpu-combo"):
        make_executor(compute={"runtime_cpu": 1, "runtime_memory": 256})
    with pytest.raises(wren.ConfigError, match="between 256 and 32768"):
        make_executor(compute={"runtime_memory": 65536})
    assert len(double.state.requests) == before
    fexec = make_executor()
    with pytest.raises(wren.ConfigError, match="does not run 0.125 vCPU with 4096 MB"):
        fexec.map(fn.double, [1], runtime_memory=4096)


def test_project_by_name_is_created_once_and_by_id_is_used(
        make_executor: MakeExecutor, double: CodeEngineDouble) -> None:
    first = make_executor(compute={"project_name": "wren-new-project"}).compute.project_id
    again = make_executor(compute={"project_name": "wren-new-project"}).compute.project_id
    assert first == again
    assert sum(p["name"] == "wren-new-project" for p in double.state.projects.values()) == 1
    by_id = make_executor(compute={"project_id": first, "project_name": "ignored"})
    assert by_id.compute.project_id == first


def test_throttling_and_expired_tokens_are_retried(make_executor: MakeExecutor,
                                                   double: CodeEngineDouble) -> None:
    fexec = make_executor()
    assert fexec.get_result(fexec.map(fn.double, [1])) == [2]
    double.inject(429, count=3, path="/job_runs", method="POST")
    double.state.expire_tokens()
    issued = double.state.tokens_issued
    assert fexec.get_result(fexec.map(fn.double, range(3), chunksize=1)) == [0, 2, 4]
    assert fexec.compute.dispatcher.throttled >= 3
    assert double.state.tokens_issued > issued


def test_refused_job_runs_fail_their_calls_clearly(make_executor: MakeExecutor,
                                                   double: CodeEngineDouble) -> None:
    fexec = make_executor()
    assert fexec.get_result(fexec.map(fn.double, [1])) == [2]
    double.inject(403, count=1, path="/job_runs", method="POST")
    futures = fexec.map(fn.double, range(2), chunksize=1)
    with pytest.raises(wren.WorkerLostError, match="HTTP 403"):
        fexec.get_result(futures, timeout=60)


def test_runtime_verbs_metadata_and_cost(make_executor: MakeExecutor,
                                         code_engine_image: str, home_dir: Path) -> None:
    compute = make_executor().compute
    runtime_module._metadata.clear()
    info = compute.runtime_info()
    assert info.python_version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert info.wren_version == wren.__version__
    assert {"wren_backend_ibmcf", "ibm_boto3"} <= info.preinstalled_modules
    assert list((home_dir / ".wren" / "cache" / "runtimes" / "code_engine").glob("*.json"))
    entry = compute.deploy_runtime("default", memory=512, timeout=120)
    assert (entry.name, entry.memory, entry.wren_version) == (code_engine_image, 512,
                                                              wren.__version__)
    assert (code_engine_image, 512) in {(e.name, e.memory) for e in compute.list_runtimes()}
    compute.update_runtime("default")
    compute.delete_runtime("default", memory=512)
    assert (code_engine_image, 512) not in {(e.name, e.memory) for e in compute.list_runtimes()}
    with pytest.raises(CodeEngineError, match="HTTP 400"):
        compute.api.manage("create_job", compute.project_id, code_engine_image, "Bad_Name")
    stats = {"worker_start_tstamp": 10.0, "worker_end_tstamp": 12.0, "worker_calls": 2}
    assert compute.call_cost(stats, 1024) == pytest.approx(
        (0.125 * 0.00003431 + 1 * 0.00000356) * 2 / 2)


def test_python_mismatch_names_both_versions(make_executor: MakeExecutor,
                                             home_dir: Path) -> None:
    runtime_module._metadata.clear()
    make_executor().compute.runtime_info()
    runtime_module._metadata.clear()
    for path in (home_dir / ".wren" / "cache" / "runtimes" / "code_engine").glob("*.json"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "python_version": "3.9"}))
    try:
        with pytest.raises(wren.RuntimeMismatchError) as caught:
            make_executor().map(fn.double, [1])
        assert "Python 3.9" in str(caught.value) and "code_engine" in str(caught.value)
    finally:
        runtime_module._metadata.clear()

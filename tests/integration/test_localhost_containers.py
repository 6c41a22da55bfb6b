"""wren's container runtimes on a real engine (podman's Docker API, tests/servers/podman.py).

`wren runtime build` builds runtimes/localhost on the locally built Debian base image; the
executor and worker-failure contracts then run in containers through `wren.docker_executor`,
and the runtime verbs, `wren verify` and the failure paths of a runtime container run against
the same engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import wren
import yaml
from wren.ports.images import LABEL_BACKEND, LABEL_WREN_VERSION
from wren.testing import functions as fn
from wren.testing.contract import ExecutorContract, WorkerFailureContract

from tests.servers.podman import BASE_IMAGE, PodmanEngine, podman_engine  # noqa: F401
from tests.servers.registry import registry  # noqa: F401

RUNTIME = "wren-ci/localhost-runtime:test"
pytestmark = pytest.mark.timeout(600)


def run_wren(*args: str, engine: PodmanEngine, home: Path,
             timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The `wren` command in its own process, with its own home and the engine's socket."""
    env = {**os.environ, "DOCKER_HOST": engine.docker_host, "HOME": str(home)}
    env.pop("WREN_CONFIG_FILE", None)
    return subprocess.run([sys.executable, "-m", "wren_cli", *args], env=env, cwd=home,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-home")


@pytest.fixture(scope="module")
def runtime_image(podman_engine: PodmanEngine, cli_home: Path) -> str:  # noqa: F811
    result = run_wren("runtime", "build", RUNTIME, "-b", "localhost", "--build-arg",
                      f"BASE_IMAGE={BASE_IMAGE}", engine=podman_engine, home=cli_home)
    assert result.returncode == 0, result.stderr
    assert f"built {RUNTIME}" in result.stdout
    return RUNTIME


@pytest.fixture(scope="module")
def container_storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One storage directory for the module, so one runtime container serves every test."""
    return tmp_path_factory.mktemp("container-storage")


@pytest.fixture
def docker_host(podman_engine: PodmanEngine,  # noqa: F811
                monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DOCKER_HOST", podman_engine.docker_host)
    return podman_engine.docker_host


@pytest.fixture
def make_executor(runtime_image: str, container_storage: Path,
                  docker_host: str) -> Callable[..., wren.FunctionExecutor]:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        return wren.docker_executor(runtime=runtime_image, storage_dir=str(container_storage),
                                    worker_processes=2, **overrides)

    return make


class ContainerBinding:
    @pytest.fixture
    def make_executor(self, make_executor: Callable[..., wren.FunctionExecutor]) -> Callable[..., wren.FunctionExecutor]:
        return make_executor  # this module's fixture


class TestContainerExecutor(ContainerBinding, ExecutorContract):
    pass


class TestContainerWorkerFailures(ContainerBinding, WorkerFailureContract):
    pass


def test_built_image_carries_wren_labels(runtime_image: str, docker_host: str) -> None:
    import docker

    labels = docker.from_env().images.get(runtime_image).labels
    assert labels[LABEL_BACKEND] == "localhost"
    assert labels[LABEL_WREN_VERSION] == wren.__version__


def test_calls_run_in_the_container_and_runtime_facts_come_from_it(
        make_executor: Callable[..., wren.FunctionExecutor]) -> None:
    def where(_: int) -> dict[str, Any]:  # pickled by value: this module is not in the image
        import os
        import sys

        return {"executable": sys.executable, "pid": os.getpid(), "uid": os.getuid()}

    with make_executor() as fexec:
        info = fexec.compute.runtime_info()
        assert info.name == RUNTIME
        assert info.python_version == ".".join(map(str, sys.version_info[:2]))
        assert info.wren_version == wren.__version__
        assert "wren_backend_local" in info.preinstalled_modules
        assert "pytest" not in info.preinstalled_modules  # the image's, not this interpreter's
        found = fexec.get_result(fexec.map(where, range(4)))
    assert {w["executable"] for w in found} == {"/opt/wren/bin/python3"}
    assert all(w["pid"] not in (os.getpid(), 1) for w in found)
    assert {w["uid"] for w in found} == {os.getuid()}


def test_a_killed_container_fails_its_calls_and_a_new_one_serves(
        make_executor: Callable[..., wren.FunctionExecutor]) -> None:
    import docker

    with make_executor() as fexec:
        fexec.get_result(fexec.map(fn.double, [1]))
        pool = fexec.compute._pool
        victim = pool.container_id()
        futures = fexec.map(fn.sleep_for, [60, 60])
        time.sleep(1.0)
        docker.from_env().containers.get(victim).kill()
        fexec.wait(futures, throw_except=False, timeout=60)
        for future in futures:
            with pytest.raises(wren.WorkerLostError,
                               match=rf"runtime container {victim[:12]} .*SIGKILL"):
                future.result()
        assert fexec.get_result(fexec.map(fn.double, range(3))) == [0, 2, 4]
        assert pool.container_id() not in (None, victim)


def test_a_closed_executor_is_forgotten_by_the_shared_container(
        make_executor: Callable[..., wren.FunctionExecutor]) -> None:
    with make_executor() as fexec, make_executor() as other:
        assert fexec.get_result(fexec.map(fn.double, range(3))) == [0, 2, 4]
        assert other.get_result(other.map(fn.double, [5])) == [10]
        pool, owner = fexec.compute._pool, id(fexec.compute)
        assert other.compute._pool is pool and owner in pool._listeners
    assert owner not in pool._listeners and id(other.compute) not in pool._listeners


def test_containers_left_by_a_killed_client_are_removed(
        runtime_image: str, docker_host: str, tmp_path: Path) -> None:
    import socket

    import docker
    from wren_backend_local.docker_engine import LABEL_AGENT, LABEL_CLIENT_HOST, LABEL_CLIENT_PID

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a client process id that no longer runs
    client = docker.from_env()
    litter = client.containers.create(runtime_image, command=["true"], labels={
        LABEL_AGENT: "1", LABEL_CLIENT_PID: str(gone.pid),
        LABEL_CLIENT_HOST: socket.gethostname()})
    mine = client.containers.create(runtime_image, command=["true"], labels={
        LABEL_AGENT: "1", LABEL_CLIENT_PID: str(os.getpid()),
        LABEL_CLIENT_HOST: socket.gethostname()})
    try:
        with wren.docker_executor(runtime=runtime_image, storage_dir=str(tmp_path),
                                  worker_processes=1) as fexec:
            assert fexec.get_result(fexec.map(fn.double, [21])) == [42]
        ids = {c.id for c in client.containers.list(all=True)}
        assert litter.id not in ids and mine.id in ids
    finally:
        mine.remove(force=True)


def test_an_image_that_is_not_there_is_a_clear_error(docker_host: str, tmp_path: Path) -> None:
    with wren.docker_executor(runtime="wren-ci/never-built:1",
                              storage_dir=str(tmp_path)) as fexec, \
            pytest.raises(wren.WrenError,
                          match="wren runtime build wren-ci/never-built:1 -b localhost"):
        fexec.map(fn.double, [1])


def test_an_image_without_wren_cannot_start_and_says_why(docker_host: str,
                                                         tmp_path: Path) -> None:
    with wren.docker_executor(runtime=BASE_IMAGE, storage_dir=str(tmp_path)) as fexec, \
            pytest.raises(wren.WrenError,
                          match=r"exited with code 1 before its agent connected.*"
                                r"No module named"):
        fexec.call_async(fn.double, 1)


def test_runtime_verbs_against_the_engine(runtime_image: str,
                                          podman_engine: PodmanEngine,  # noqa: F811
                                          cli_home: Path) -> None:
    import docker

    other = "wren-ci/second-runtime:1"
    client = docker.DockerClient(base_url=podman_engine.docker_host)
    client.images.get(runtime_image).tag("wren-ci/second-runtime", "1")

    listed = run_wren("runtime", "list", "-b", "localhost", engine=podman_engine, home=cli_home)
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "wren-ci/" in line]
    assert len(rows) == 2 and all(wren.__version__ in row for row in rows)

    for verb in ("deploy", "create", "update"):
        result = run_wren("runtime", verb, other, "-b", "localhost", engine=podman_engine,
                          home=cli_home)
        assert result.returncode == 0, result.stderr
    deleted = run_wren("runtime", "delete", other, engine=podman_engine, home=cli_home)
    assert deleted.returncode == 0 and f"deleted {other}" in deleted.stdout
    again = run_wren("runtime", "delete", other, engine=podman_engine, home=cli_home)
    assert again.returncode == 1
    assert again.stderr.strip() == (f"wren: error: there is no runtime image {other!r} to "
                                    "delete; `wren runtime list -b localhost` shows them")
    assert other not in run_wren("runtime", "list", engine=podman_engine,
                                 home=cli_home).stdout

    bad = run_wren("runtime", "build", "Wren-CI/Bad:1", "-b", "localhost",
                   engine=podman_engine, home=cli_home)
    # a malformed argument is a usage error (exit code 2, click's usage text; issue 18)
    assert bad.returncode == 2 and "collecting wheels" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1] == (
        "Error: runtime image name 'Wren-CI/Bad:1' must be lowercase: use 'wren-ci/bad:1'")


def test_a_failing_build_names_its_step_and_shows_what_it_said(
        podman_engine: PodmanEngine, tmp_path: Path) -> None:  # noqa: F811
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\n"
                                        "RUN echo the step says why && false\n")
    result = run_wren("runtime", "build", "wren-ci/broken:1", "-b", "localhost", "-f",
                      str(context / "Dockerfile"), engine=podman_engine, home=tmp_path)
    assert result.returncode == 1
    *before, last = result.stderr.strip().splitlines()
    assert "the step says why" in before
    assert last.startswith("wren: error: building wren-ci/broken:1 failed at STEP 2/")
    assert "RUN echo the step says why && false" in last


def test_build_pushes_to_the_registry_the_name_names(
        runtime_image: str, podman_engine: PodmanEngine,  # noqa: F811
        registry: str, cli_home: Path) -> None:  # noqa: F811
    import requests

    name = f"{registry}/wren-ci/pushed-runtime:1"
    result = run_wren("runtime", "build", name, "-b", "localhost", "--build-arg",
                      f"BASE_IMAGE={BASE_IMAGE}", engine=podman_engine, home=cli_home)
    assert result.returncode == 0, result.stderr
    assert f"wren: pushing {name}" in result.stderr
    tags = requests.get(f"http://{registry}/v2/wren-ci/pushed-runtime/tags/list", timeout=10)
    assert tags.json()["tags"] == ["1"]
    manifest = requests.get(f"http://{registry}/v2/wren-ci/pushed-runtime/manifests/1",
                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                                     "application/vnd.docker.distribution.manifest.v2+json"},
                            timeout=10)
    assert manifest.status_code == 200 and manifest.json()["layers"]


def test_wren_verify_runs_the_contract_in_runtime_containers(
        runtime_image: str, podman_engine: PodmanEngine,  # noqa: F811
        tmp_path: Path) -> None:
    config = tmp_path / "wren.yaml"
    config.write_text(yaml.safe_dump({
        "wren": {"backend": "localhost", "storage": "localhost"},
        "localhost": {"runtime": runtime_image, "worker_processes": 2,
                      "storage_dir": str(tmp_path / "storage")}}))
    result = run_wren("verify", "-c", str(config), "--suite", "executor", "--suite", "failures",
                      "-k", "map_returns_results_in_call_order or sigkill", engine=podman_engine,
                      home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "compute 'localhost' with storage 'localhost' keep the contract" in result.stdout

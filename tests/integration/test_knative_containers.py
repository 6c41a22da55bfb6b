"""The knative runtime in a real container: built, pushed, pulled and run.

`wren runtime build` builds runtimes/knative on the locally built Debian base image with a
real engine (podman's Docker API, tests/servers/podman.py) and pushes it to a real registry
(tests/servers/registry.py). A Kubernetes API test double of its own (tests/doubles) pulls
images from that registry and runs them with podman, so the executor contract runs with every
call inside the container, against Azurite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing.contract import ExecutorContract
from wren_backend_knative import RuntimeDeployError

from tests.servers.azurite import Azurite, azurite
from tests.servers.knative_cluster import KnativeCluster, running_cluster
from tests.servers.podman import BASE_IMAGE, PodmanEngine, podman_engine
from tests.servers.registry import registry

__all__ = ["azurite", "podman_engine", "registry"]
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def knative_image(podman_engine: PodmanEngine, registry: str,
                  tmp_path_factory: pytest.TempPathFactory) -> str:
    """The runtime image, built by `wren runtime build` and pushed to the registry."""
    image = f"{registry}/wren-ci/knative-runtime:test"
    home = tmp_path_factory.mktemp("cli-home")
    env = {**os.environ, "DOCKER_HOST": podman_engine.docker_host, "HOME": str(home)}
    env.pop("WREN_CONFIG_FILE", None)
    built = subprocess.run(
        [sys.executable, "-m", "wren_cli", "runtime", "build", image, "-b", "knative", "-s",
         "azure_storage", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"],
        env=env, cwd=home, capture_output=True, text=True, timeout=900, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    assert f"built {image}" in built.stdout
    return image


@pytest.fixture(scope="module")
def container_cluster(podman_engine: PodmanEngine, registry: str,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnativeCluster]:
    with running_cluster(tmp_path_factory.mktemp("container-cluster"), registry=registry,
                         engine_env=podman_engine.env) as cluster:
        yield cluster


@pytest.fixture
def make_executor(container_cluster: KnativeCluster, knative_image: str, azurite: Azurite
                  ) -> Callable[..., wren.FunctionExecutor]:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        config = {"knative": container_cluster.knative_config(runtime=knative_image,
                                                              concurrency=4, max_workers=8),
                  "azure_storage": azurite.storage_config("wren-knative-containers")}
        return wren.FunctionExecutor(backend="knative", storage="azure_storage",
                                     config=config, **overrides)

    return make


class TestKnativeContainerExecutor(ExecutorContract):
    @pytest.fixture
    def make_executor(self, make_executor: Callable[..., wren.FunctionExecutor]) -> Callable[..., wren.FunctionExecutor]:
        return make_executor  # this module's fixture


def test_calls_run_in_the_container(make_executor: Callable[..., wren.FunctionExecutor],
                                    knative_image: str) -> None:
    def where(_: int) -> str:  # pickled by value: this module is not in the image
        import sys

        return sys.executable

    with make_executor() as fexec:
        info = fexec.compute.runtime_info()
        assert info.name == knative_image
        assert info.python_version == ".".join(map(str, sys.version_info[:2]))
        assert {"wren_backend_knative", "wren_backend_azure"} <= info.preinstalled_modules
        assert "pytest" not in info.preinstalled_modules  # the image's, not this interpreter's
        assert set(fexec.get_result(fexec.map(where, range(4)))) == {"/opt/wren/bin/python3"}


def test_an_image_the_registry_lacks_is_a_deploy_error(
        container_cluster: KnativeCluster, registry: str, tmp_path: Path) -> None:
    missing = f"{registry}/wren-ci/never-pushed:1"
    compute = container_cluster.compute({"storage_dir": str(tmp_path)})
    try:
        with pytest.raises(RuntimeDeployError, match=f'Unable to fetch image "{missing}"'):
            compute.deploy_runtime(missing)
    finally:
        compute.delete_runtime(missing)

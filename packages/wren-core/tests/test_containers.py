"""`wren.containers`: the engine client the CLI and container-running adapters share; its
failures say what to do, and the docker SDK is imported only when a client is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest
from wren.containers import ContainerEngineError, docker_client, short_name


def test_importing_it_does_not_import_the_docker_sdk() -> None:
    code = "import sys, wren.containers; print('docker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_without_the_sdk_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(ContainerEngineError, match=r"pip install 'wren-core\[docker\]'"):
        docker_client()


def test_an_unreachable_engine_names_its_address(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("docker")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/wren-test.sock")
    with pytest.raises(ContainerEngineError, match="cannot reach a container engine at "
                                                   "unix:///nonexistent/wren-test.sock"):
        docker_client()


def test_short_names_drop_the_default_registry() -> None:
    assert short_name("docker.io/library/python:3.11") == "python:3.11"
    assert short_name("docker.io/me/img:1") == "me/img:1"
    assert short_name("localhost/img:1") == "localhost/img:1"

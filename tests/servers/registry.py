"""A real image registry for the tests: the Distribution registry (Debian `docker-registry`,
installed by tests/bootstrap.d/41-docker-registry.sh) on the loopback address the podman
engine trusts for plain HTTP, with storage in a temp directory. Stopped by PID."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.servers.podman import PodmanEngine
from tests.servers.ports import stop_process


@pytest.fixture(scope="session")
def registry(podman_engine: PodmanEngine) -> Iterator[str]:
    """The registry's `host:port`."""
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: run tests/bootstrap "
                    "(tests/bootstrap.d/41-docker-registry.sh)")
    root = Path(tempfile.mkdtemp(prefix="wren-registry-"))
    address = podman_engine.registry_address
    (root / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: {address}\n")
    with open(root / "registry.log", "wb") as log:
        process = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")],
                                   stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"docker-registry exited with {process.returncode}: "
                            f"{(root / 'registry.log').read_text()[-2000:]}")
            try:
                if requests.get(f"http://{address}/v2/", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("docker-registry did not answer within 30 s")
            time.sleep(0.1)
        yield address
    finally:
        stop_process(process)
        shutil.rmtree(root, ignore_errors=True)

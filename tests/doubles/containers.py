"""Revision containers for the Kubernetes API test double: what the kubelet does for a pod.

A `Container` runs an image's command with a free port (standing for the pod's own address)
put where the command and its environment say `{port}`: either the image's entry point as a
process on loopback with exactly the container's env, or `podman run` of a real image with
host networking (see `tests.doubles.knative_serving`). It waits for the readiness probe,
restarts the container when it dies while serving (restartPolicy Always: a new one on a new
port, as a restarted pod gets a new IP), and stops it with SIGTERM, then SIGKILL after the
grace period (and the `cleanup` command, e.g. `podman rm`). Processes are handled by PID only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.servers.ports import free_port, stop_process


class ContainerFailed(Exception):
    """The container exited or did not become ready; the message says how."""


class Container:
    """One revision's container."""

    def __init__(self, labels: dict[str, str], command: Sequence[str], env: dict[str, str],
                 workdir: Path, probe: str | None, *, container_env: Sequence[str] = (),
                 cleanup: Sequence[str] = ()) -> None:
        self.labels, self.command, self.env = labels, list(command), env
        self.workdir, self.probe = workdir, probe
        self.container_env = list(container_env) or [k for k in env if k not in ("PORT",)]
        self.cleanup = list(cleanup)
        self.log_path = workdir / f"{labels['namespace']}.{labels['revision']}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.stopping = False

    def describe(self) -> dict[str, Any]:
        process = self.process
        return {**self.labels, "port": self.port, "restarts": self.restarts,
                "pid": process.pid if process else None,
                "alive": process is not None and process.poll() is None,
                "env": sorted(self.container_env)}

    def log_tail(self, lines: int = 6) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def start(self, ready_timeout: float) -> None:
        """Start the process and wait for its readiness probe (or its port)."""
        self.port = port = free_port()
        env = {k: str(port) if v == "{port}" else v for k, v in self.env.items()}
        command = [part.replace("{port}", str(port)) for part in self.command]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=env, cwd=self.workdir,
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        if self.stopping:  # stopped while (re)starting: this process must not outlive it
            self.process.kill()
            self.process.wait()
            raise ContainerFailed("the container was stopped while starting")
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise ContainerFailed(f"Container failed with: exit code {code}: "
                                      f"{self.log_tail()}")
            try:
                if self.probe:
                    url = f"http://127.0.0.1:{self.port}{self.probe}"
                    with urllib.request.urlopen(url, timeout=2) as answer:
                        if answer.status == 200:
                            return
                else:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise ContainerFailed(f"Container did not become ready within {timeout:g} s: "
                              f"{self.log_tail()}")

    def keep_running(self, ready_timeout: float) -> None:
        """Restart the process whenever it dies, until `stop` (run in its own thread)."""
        def watch() -> None:
            while not self.stopping:
                process = self.process
                if process is None:
                    return
                process.wait()
                if self.stopping:
                    return
                self.restarts += 1
                time.sleep(min(0.2 * self.restarts, 5.0))  # CrashLoopBackOff, shortened
                try:
                    self.start(ready_timeout)
                except ContainerFailed:
                    continue

        threading.Thread(target=watch, daemon=True,
                         name=f"kubelet-{self.labels['revision']}").start()

    def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds, as the kubelet does."""
        self.stopping = True
        if self.process is not None:
            stop_process(self.process, grace)
        if self.cleanup:
            subprocess.run([part.replace("{port}", str(self.port)) for part in self.cleanup],
                           env=self.env, capture_output=True, timeout=60, check=False)


def registry_has(registry: str, image: str) -> bool:
    """Whether the registry at `registry` (host:port, plain HTTP) holds `image`'s manifest,
    asked the way a kubelet's pull starts."""
    repository, _, tag = image[len(registry) + 1:].rpartition(":")
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD",
        headers={"Accept": ", ".join((
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json"))})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def podman_container(labels: dict[str, str], image: str, env: dict[str, str], workdir: Path,
                     probe: str | None) -> Container:
    """A container of `image` run by podman (pulled from its registry, host networking), its
    env in a private env file; podman itself gets this process's environment (the engine's
    settings)."""
    name = f"wren-double-{labels['revision']}-{{port}}"
    env_file = workdir / f"{labels['namespace']}.{labels['revision']}.env"
    env_file.touch(mode=0o600)
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    command = ["podman", "run", "--rm", "--name", name, "--network", "host", "--pull",
               "always", "--env-file", str(env_file), "--env", "PORT={port}", image]
    return Container(labels, command, dict(os.environ), workdir, probe,
                     container_env=list(env), cleanup=["podman", "rm", "-f", "-t", "0", name])

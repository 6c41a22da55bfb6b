"""The localhost runtime's containers on the engine `wren.containers` reaches: finding the
runtime image, starting the agent container, reading how a container ended.

Every failure to find an image or run a container becomes a `ContainerEngineError` that
says what to do. Agent containers share the host's network (no bridge, no iptables rules
left behind), run as the client's user, mount the storage directory at the same path, and
carry labels that let a later client remove the leftovers of one that was killed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from wren.containers import ContainerEngineError, discard, engine_address
from wren.worker.pool import describe_exit

#: Labels on agent containers: the client's host and process id.
LABEL_AGENT = "org.wren.agent"
LABEL_CLIENT_PID = "org.wren.agent.client-pid"
LABEL_CLIENT_HOST = "org.wren.agent.client-host"
AGENT_ARGS = ["-m", "wren_backend_local.agent"]


def find_image(client: Any, name: str, pull: bool = True) -> Any:
    """The image `name`, pulled once if the engine lacks it; else a clear error."""
    import docker.errors

    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        pass
    if pull:
        try:
            return client.images.pull(name)
        except docker.errors.DockerException:
            pass
    raise ContainerEngineError(
        f"runtime image {name!r} is not in the container engine at {engine_address()} and "
        f"could not be pulled; build it with: wren runtime build {name} -b localhost")


def describe_container_exit(code: int | None, oom_killed: bool = False) -> str:
    """E.g. "exited with code 1" or "was killed by signal SIGKILL (...)"."""
    if oom_killed:
        return "was killed because it ran out of memory"
    if code is not None and code > 128:
        return describe_exit(-(code - 128))
    return describe_exit(code)


def start_agent(client: Any, image: str, env: Mapping[str, str], mounts: Sequence[str],
                name_hint: str = "") -> Any:
    """Start the agent container (detached) and return it."""
    volumes = {path: {"bind": path, "mode": "rw"} for path in mounts}
    labels = {LABEL_AGENT: "1", LABEL_CLIENT_PID: str(os.getpid()),
              LABEL_CLIENT_HOST: socket.gethostname()}
    container = client.containers.create(
        image, command=AGENT_ARGS, entrypoint=["python3"], environment=dict(env),
        network_mode="host", init=True, volumes=volumes, labels=labels,
        user=f"{os.getuid()}:{os.getgid()}", working_dir="/", name=name_hint or None)
    container.start()
    return container


def remove_leftovers(client: Any) -> int:
    """Remove agent containers of clients on this host that no longer run; their count."""
    host = socket.gethostname()
    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL_AGENT}):
        labels = container.labels or {}
        if labels.get(LABEL_CLIENT_HOST) != host:
            continue
        try:
            pid = int(labels.get(LABEL_CLIENT_PID, "0"))
            os.kill(pid, 0)
            alive = pid > 0
        except (ValueError, ProcessLookupError):
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            discard(container)
            removed += 1
    return removed


def container_exit(container: Any) -> tuple[int | None, bool, str]:
    """Exit code, whether it was OOM-killed, and the last lines of its output."""
    try:
        code = container.wait(timeout=30).get("StatusCode")
    except Exception:
        container.kill()
        code = container.wait(timeout=30).get("StatusCode")
    try:
        container.reload()
        oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        tail = container.logs(tail=5).decode(errors="replace").strip()
    except Exception:
        oom, tail = False, ""
    return code, oom, tail


def run_once(client: Any, image: str, args: Sequence[str], timeout: float = 120) -> str:
    """Run `python3 args...` in a throwaway container from `image`; return its output, or
    raise `ContainerEngineError` with the output when it fails."""
    container = client.containers.create(
        image, command=list(args), entrypoint=["python3"], network_mode="host",
        user=f"{os.getuid()}:{os.getgid()}", working_dir="/")
    try:
        container.start()
        code = container.wait(timeout=timeout).get("StatusCode")
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        discard(container)
    if code != 0:
        tail = "\n".join(output.strip().splitlines()[-5:])
        raise ContainerEngineError(
            f"`python3 {' '.join(args)}` in image {image!r} {describe_container_exit(code)}: "
            f"{tail}")
    return output

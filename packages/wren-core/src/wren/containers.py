"""The container engine on this machine: whatever Docker-API engine `DOCKER_HOST` names
(Docker, or `podman system service`), reached through the `docker` SDK.

It lives in core because two layers use it and neither may import the other: the `wren`
command builds runtime images through it, and a compute adapter may run its workers in
containers (localhost's container pool). The SDK is imported only when a client is asked
for (`pip install 'wren-core[docker]'`). Every failure to reach the engine becomes a
`ContainerEngineError` that says what to do.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from wren._errors import WrenError

#: A fixed API version spares the /version round trip (half a second on podman); 1.41 is
#: what podman serves and what every current Docker still accepts.
API_VERSION = "1.41"


class ContainerEngineError(WrenError):
    """The container engine cannot be reached, or cannot do what a runtime needs."""


class EngineUnreachableError(ContainerEngineError):
    """No container engine to talk to (none answers, or the docker SDK is missing): there
    are no runtime images either. `summary` says so in a few words, without the cause."""

    def __init__(self, message: str, summary: str) -> None:
        super().__init__(message)
        self.summary = summary


def engine_address() -> str:
    """The engine `DOCKER_HOST` names, for messages."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (the default)"


def docker_client() -> Any:
    """A `docker.DockerClient` for the engine `DOCKER_HOST` names, known to answer."""
    try:
        import docker
    except ImportError as exc:
        raise EngineUnreachableError(
            "container images need the docker SDK: pip install 'wren-core[docker]'",
            "the docker SDK is not installed (pip install 'wren-core[docker]')") from exc
    try:
        client = docker.from_env(version=API_VERSION, timeout=120)
        client.ping()
    except Exception as exc:
        raise EngineUnreachableError(
            f"cannot reach a container engine at {engine_address()}: {exc}. Start Docker, or "
            "`podman system service --time=0 unix:///run/podman/podman.sock`, and set "
            "DOCKER_HOST to its socket (e.g. unix:///run/podman/podman.sock)",
            f"cannot reach a container engine at {engine_address()}; start Docker or podman "
            "and set DOCKER_HOST to its socket") from exc
    return client


def short_name(tag: str) -> str:
    """An image tag as users type it (engines may prefix `docker.io/` or `localhost/`)."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            return tag[len(prefix):]
    return tag


def discard(container: Any) -> None:
    """Remove a container, running or not."""
    with contextlib.suppress(Exception):  # already gone
        container.remove(force=True)


__all__ = [
    "API_VERSION",
    "ContainerEngineError",
    "EngineUnreachableError",
    "discard",
    "docker_client",
    "engine_address",
    "short_name",
]

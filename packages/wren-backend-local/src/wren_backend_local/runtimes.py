"""Runtime management for `localhost`: a runtime is a container image in the local engine.

`build` goes through the caller's `ImageBuilder` (pushing only when the image name names a
registry), `deploy` and `update` check that the image exists (pulling it once if the engine
lacks it) and read its facts by running its agent with `--info`, `delete` removes the image,
and `list` shows the images wren built for this backend (they carry its labels).
"""

from __future__ import annotations

import json
import platform
from typing import Any

from wren.__about__ import __version__ as wren_version
from wren.containers import ContainerEngineError, docker_client, short_name
from wren.ports.compute import RuntimeEntry
from wren.ports.images import LABEL_BACKEND, LABEL_WREN_VERSION, ImageBuilder, image_registry

from wren_backend_local.docker_engine import find_image, run_once

BACKEND = "localhost"
DEFAULT_REPOSITORY = "wren/localhost-py{major}{minor}"


def default_image() -> str:
    """The image `default` stands for: this Python version, this wren version."""
    major, minor = platform.python_version_tuple()[:2]
    return f"{DEFAULT_REPOSITORY.format(major=major, minor=minor)}:{wren_version}"


def _image_id(image: Any) -> str:
    return str(image.id).split(":", 1)[-1][:12]


def probe(client: Any, name: str) -> dict[str, Any]:
    """The facts the image's agent reports about its runtime."""
    output = run_once(client, name, ["-m", "wren_backend_local.agent", "--info"])
    try:
        facts: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise ContainerEngineError(f"the agent in image {name!r} printed no runtime facts: "
                                   f"{output[-300:]!r}") from exc
    return facts


def build(name: str, dockerfile: str | None, builder: ImageBuilder) -> None:
    builder.build(name, dockerfile)
    if image_registry(name) not in (None, "localhost"):  # `localhost/` is the engine's own
        builder.push(name)


def deploy(name: str) -> RuntimeEntry:
    client = docker_client()
    image = find_image(client, name)
    facts = probe(client, name)
    return RuntimeEntry(name, None, str(facts.get("wren_version", "?")), _image_id(image))


def delete(name: str) -> None:
    import docker.errors

    client = docker_client()
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        raise ContainerEngineError(f"there is no runtime image {name!r} to delete; "
                                   "`wren runtime list -b localhost` shows them") from None
    try:
        client.images.remove(name)
    except docker.errors.APIError as exc:
        raise ContainerEngineError(f"cannot delete runtime image {name!r}: "
                                   f"{exc.explanation or exc}") from exc


def list_all() -> list[RuntimeEntry]:
    client = docker_client()
    entries = []
    for image in client.images.list(filters={"label": f"{LABEL_BACKEND}={BACKEND}"}):
        labels = image.labels or {}
        for tag in image.tags:
            entries.append(RuntimeEntry(short_name(tag), None,
                                        labels.get(LABEL_WREN_VERSION, "?"), _image_id(image)))
    return sorted(entries, key=lambda entry: entry.name)

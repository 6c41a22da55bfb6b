"""Container images for runtimes: the rule every runtime image name follows, the labels wren
puts on the images it builds, and the `ImageBuilder` a compute backend's `build_runtime`
receives.

wren-core does not talk to a container engine itself. The caller of `build_runtime` (the
`wren runtime build` command) passes an `ImageBuilder` that builds through whatever Docker-API
engine `DOCKER_HOST` names, with the wren distributions as wheels in the build context; the
backend only decides which Dockerfile, which build arguments, and whether to push. The
builder builds for the platform (os/arch) its caller chose from `ComputeBackend.build_platform()`
(`platform`), so every backend's images target its platform without asking for it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Protocol

from wren.__about__ import __version__ as wren_version
from wren._errors import InvalidInputError

#: Label naming the compute backend an image was built for.
LABEL_BACKEND = "org.wren.runtime.backend"
#: Label holding the wren-core version installed in the image.
LABEL_WREN_VERSION = "org.wren.runtime.wren-version"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?"
_TAG = r"[a-z0-9_][a-z0-9_.-]{0,127}"
_IMAGE = re.compile(rf"(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})+)"
                    rf":(?P<tag>{_TAG})")
_EXAMPLE = "e.g. 'jdoe/wren-runtime:0.1'"


def image_registry(name: str) -> str | None:
    """The registry host an image name starts with, or None (the engine's default one)."""
    first, _, rest = name.partition("/")
    return first if rest and ("." in first or ":" in first or first == "localhost") else None


def _tidy(part: str) -> str:
    """`part` lowercased, each run of characters an image name cannot hold made one '-',
    without separators at its ends."""
    return re.sub(r"[^a-z0-9._-]+", "-", part.lower()).strip("._-")


def suggest_image_name(name: str) -> tuple[str, bool] | None:
    """A valid image name close to `name` (lowercase; spaces and other characters as '-'),
    and whether a part had to be made up (the user `jdoe`, the tag `latest`); None when
    nothing valid comes out of it. `check_image_name` only ever proposes what this returns."""
    head, _, last = name.strip().rpartition("/")
    base, _, tag = last.partition(":")
    host = image_registry(name)
    parts = head.split("/") if head else []
    if host is not None:
        parts = parts[1:]
    path = [tidy for tidy in (_tidy(part) for part in [*parts, base]) if tidy]
    invented = len(path) < 2 or not _tidy(tag)
    if len(path) < 2:
        path.insert(0, "jdoe")
    found = "/".join(path) + ":" + ((_tidy(tag) or "latest")[:128])
    found = f"{host.lower()}/{found}" if host is not None else found
    return (found, invented) if _IMAGE.fullmatch(found) else None


def _use(name: str) -> str:
    """How to write `name` instead: a valid name, proposed only when it is one."""
    suggestion = suggest_image_name(name)
    if suggestion is None:
        return _EXAMPLE
    better, invented = suggestion
    return f"e.g. {better!r}" if invented else f"use {better!r}"


def check_image_name(name: str) -> str:
    """Return `name` if it is a lowercase `[registry/]user/name:tag`, else raise
    `InvalidInputError` saying what is wrong and how to write it (with a valid name)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"a runtime image name is required, {_EXAMPLE}")
    if _IMAGE.fullmatch(name) is not None:
        return name
    if name != name.lower():
        hint = _use(name)
        rule = "lowercase:" if hint.startswith("use ") else "lowercase user/name:tag,"
        raise InvalidInputError(f"runtime image name {name!r} must be {rule} {hint}")
    if "@" in name:
        raise InvalidInputError(f"runtime image name {name!r} has a digest; use a tag instead, "
                                f"{_EXAMPLE}")
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        raise InvalidInputError(f"runtime image name {name!r} has no tag, {_use(name)}")
    parts = name.split("/")
    users = parts[1:] if image_registry(name) else parts
    if len(users) < 2:
        raise InvalidInputError(f"runtime image name {name!r} has no user part, {_use(name)}")
    raise InvalidInputError(
        f"runtime image name {name!r} is not valid (lowercase user/name:tag, each part made "
        f"of letters and digits joined by '.', '_' or '-'): {_use(name)}")


def default_image(kind: str, docker_server: str | None, docker_user: str | None) -> str:
    """The image a backend's runtime `default` stands for: `<user>/wren-<kind>-v<py>:<wren
    version>` for this Python and wren, in `docker_server` unless that is Docker Hub."""
    tag = wren_version.replace("+", "-")
    python = f"{sys.version_info[0]}{sys.version_info[1]}"
    name = f"{docker_user or 'wren'}/wren-{kind}-v{python}:{tag}"
    if docker_server and docker_server not in ("docker.io", "index.docker.io"):
        name = f"{docker_server.rstrip('/')}/{name}"
    return name.lower()


def build_and_push(builder: ImageBuilder, image: str, dockerfile: str | None,
                   username: str | None = None, password: str | None = None) -> None:
    """Build `image` and push it to its registry with that login (a `localhost/` image stays
    in the engine: load it into the platform yourself)."""
    builder.build(image, dockerfile)
    if image_registry(image) != "localhost":
        builder.push(image, username=username, password=password)


class ImageBuilder(Protocol):
    """Builds and pushes container images for `ComputeBackend.build_runtime`.

    `platform`: the os/arch every image it builds targets (`linux/amd64`), None for the
    engine's own; `wren runtime build` sets it from `ComputeBackend.build_platform()`."""

    platform: str | None

    def build(self, name: str, dockerfile: str | None = None, *,
              buildargs: Mapping[str, str] | None = None) -> str:
        """Build image `name` (checked with `check_image_name`) and return its id.

        `dockerfile` None means the backend's default one (`ComputeBackend.runtime_dockerfile`). The
        build context is the Dockerfile's directory plus `wren-wheels/`, holding the wren
        distributions this client runs and their requirements as wheels, which the
        Dockerfile installs (`pip install --no-index --find-links wren-wheels
        wren-wheels/*.whl`); the build argument `PYTHON_VERSION` is the client's."""

    def push(self, name: str, *, username: str | None = None,
             password: str | None = None) -> None:
        """Push image `name` to the registry its name designates."""

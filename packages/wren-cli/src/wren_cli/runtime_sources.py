"""Where the default Dockerfile of a backend's runtime lives, and what the runtime installs.

Each backend ships its runtime as package data and says where with the port's
`ComputeBackend.runtime_dockerfile(python_version)` (by default `<package>/runtime/
Dockerfile.py<major><minor>` for this client's Python, else `<package>/runtime/Dockerfile`),
so `wren runtime build` works from a plain `pip install` and a vendor's backend ships its
own. `WREN_RUNTIMES_DIR` may name a directory of overrides laid out as `<backend>/Dockerfile`.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from wren import InvalidInputError, plugins

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def distribution_of(group: str, name: str) -> str | None:
    """The distribution that registers entry point `name` in `group`."""
    for entry in metadata.entry_points(group=group, name=name):
        if entry.dist is not None:
            return str(entry.dist.name)
    return None


def runtime_distributions(compute: str, storage: str) -> list[str]:
    """What a runtime for this compute and storage pair must have installed."""
    found = ["wren-core"]
    for group, name in ((plugins.COMPUTE_GROUP, compute), (plugins.STORAGE_GROUP, storage)):
        dist = distribution_of(group, name)
        if dist is not None and dist not in found:
            found.append(dist)
    return found


def _override(backend: str, version: str) -> Path | None:
    named = os.environ.get("WREN_RUNTIMES_DIR")
    if not named:
        return None
    directory = Path(named).expanduser() / backend
    major, minor = version.split(".")[:2]
    for candidate in (f"Dockerfile.py{major}{minor}", "Dockerfile"):
        if (directory / candidate).is_file():
            return directory / candidate
    return None


def packaged_dockerfile(backend: str, python_version: str | None = None) -> Traversable:
    """The Dockerfile `backend` ships for this client's Python (or `python_version`)."""
    version = python_version or ".".join(platform.python_version_tuple()[:2])
    found = plugins.compute_backend_class(backend).runtime_dockerfile(version)
    if found is None:
        raise InvalidInputError(
            f"no default Dockerfile for backend {backend!r}: its package ships none for "
            f"Python {version}; pass one with -f Dockerfile")
    return found


def default_dockerfile(backend: str) -> Path:
    """The Dockerfile `wren runtime build` uses for `backend` when none is given; its
    directory is the build context."""
    version = ".".join(platform.python_version_tuple()[:2])
    override = _override(backend, version)
    if override is not None:
        return override
    found = packaged_dockerfile(backend, version)
    path = Path(str(found))
    if not path.is_file():  # e.g. a package imported from a zip file
        raise InvalidInputError(f"the runtime files of backend {backend!r} are not on the file "
                                f"system ({found}); install its package unzipped, or pass "
                                "-f Dockerfile")
    return path

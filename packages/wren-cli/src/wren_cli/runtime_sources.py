"""Where the default Dockerfile of a backend's runtime lives: `runtimes/<dir>/`, where `<dir>`
is the backend's name (`localhost`, `knative`) or its distribution's suffix (`ibmcf` for
`wren-backend-ibmcf`). The `runtimes` directory is looked for in `WREN_RUNTIMES_DIR`, the
current directory, and the source checkout wren-cli runs from. In that directory, `Dockerfile.py<major><minor>` for this client's Python wins over
`Dockerfile`.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

from wren import InvalidInputError, plugins


def runtimes_roots() -> list[Path]:
    """Candidate `runtimes` directories, first match wins."""
    roots = []
    named = os.environ.get("WREN_RUNTIMES_DIR")
    if named:
        roots.append(Path(named).expanduser())
    roots.append(Path.cwd() / "runtimes")
    here = Path(__file__).resolve()
    roots.extend(parent / "runtimes" for parent in here.parents[1:5])  # a source checkout
    return roots


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


def _directory_names(backend: str) -> list[str]:
    names = [backend]
    dist = distribution_of(plugins.COMPUTE_GROUP, backend) or ""
    if dist.startswith("wren-backend-"):
        names.append(dist[len("wren-backend-"):])
    return names


def default_dockerfile(backend: str) -> Path:
    """The Dockerfile `wren runtime build` uses for `backend` when none is given."""
    major, minor = platform.python_version_tuple()[:2]
    searched = []
    for root in runtimes_roots():
        for name in _directory_names(backend):
            directory = root / name
            searched.append(str(directory))
            for candidate in (f"Dockerfile.py{major}{minor}", "Dockerfile"):
                if (directory / candidate).is_file():
                    return directory / candidate
    raise InvalidInputError(
        f"no default Dockerfile for backend {backend!r} (looked in {', '.join(searched[:3])}, "
        "...); pass one with -f Dockerfile, or set WREN_RUNTIMES_DIR to the directory that "
        f"holds {backend}/Dockerfile")

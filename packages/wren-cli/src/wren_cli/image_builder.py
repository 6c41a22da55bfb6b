"""`DockerImageBuilder`: the `ImageBuilder` that `wren runtime build` hands to a backend.

It builds through the `docker` SDK against whatever Docker-API engine `DOCKER_HOST` names
(Docker, or podman's `podman system service`). The build context is the Dockerfile's
directory (minus what its `.dockerignore` excludes) plus `wren-wheels/`, the wheels of the
wren distributions the runtime needs and of their requirements (see `wren_cli.wheels`). The
image gets wren's labels and the build argument `PYTHON_VERSION` (this client's), and is
built for `platform` (the backend's `build_platform()`, e.g. linux/amd64) when one is set;
each line of the engine's output goes to `on_output`. A failed step is a `RuntimeBuildError` naming it.
"""

from __future__ import annotations

import platform
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from wren import InvalidInputError, WrenError
from wren.__about__ import __version__ as wren_version
from wren.ports.images import LABEL_BACKEND, LABEL_WREN_VERSION, check_image_name

from wren_cli.runtime_sources import default_dockerfile
from wren_cli.wheels import write_wheels

WHEELS_DIR = "wren-wheels"


class RuntimeBuildError(WrenError):
    """The engine could not build or push a runtime image."""


def _copy_context(root: Path, dockerfile: Path, context: Path) -> None:
    """Copy what `docker build` would send from `root`, honouring `.dockerignore`."""
    from docker.utils.build import exclude_paths

    ignore = root / ".dockerignore"
    patterns = [line.strip() for line in ignore.read_text().splitlines()
                if line.strip() and not line.startswith("#")] if ignore.is_file() else []
    context.mkdir(parents=True)
    for relative in sorted(exclude_paths(str(root), patterns, dockerfile=dockerfile.name)):
        source, target = root / relative, context / relative
        if source.is_dir() and not source.is_symlink():
            target.mkdir(parents=True, exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


class DockerImageBuilder:
    """Builds runtime images for one compute backend, with the given wren distributions."""

    def __init__(self, backend: str, distributions: Sequence[str],
                 buildargs: Mapping[str, str] | None = None,
                 on_output: Callable[[str], None] = lambda line: None,
                 platform: str | None = None) -> None:
        self.backend = backend
        self.platform = platform
        self.distributions = list(distributions)
        self.buildargs = dict(buildargs or {})
        self.on_output = on_output
        self.last_output: list[str] = []
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from wren.containers import docker_client

            self._client = docker_client()
        return self._client

    def _emit(self, line: str) -> None:
        line = line.rstrip("\n")
        if not line.strip():
            return
        self.last_output = [*self.last_output[-19:], line]
        self.on_output(line)

    def build(self, name: str, dockerfile: str | None = None, *,
              buildargs: Mapping[str, str] | None = None) -> str:
        check_image_name(name)
        path = Path(dockerfile).resolve() if dockerfile else default_dockerfile(self.backend)
        if not path.is_file():
            raise InvalidInputError(f"Dockerfile {str(path)!r} does not exist")
        client = self.client
        version = ".".join(platform.python_version_tuple()[:2])
        args = {"PYTHON_VERSION": version, **self.buildargs, **(buildargs or {})}
        labels = {LABEL_BACKEND: self.backend, LABEL_WREN_VERSION: wren_version}
        with tempfile.TemporaryDirectory(prefix="wren-build-") as temp:
            context = Path(temp) / "context"
            _copy_context(path.parent, path, context)
            self._emit(f"wren: collecting wheels of {', '.join(self.distributions)} and "
                       "their requirements")
            for wheel in write_wheels(self.distributions, context / WHEELS_DIR):
                self._emit(f"wren:   {wheel.name}")
            target = {"platform": self.platform} if self.platform else {}
            stream = client.api.build(path=str(context), dockerfile=path.name, tag=name,
                                      buildargs=args, labels=labels, rm=True, forcerm=True,
                                      network_mode="host", decode=True, **target)
            step = ""
            for chunk in stream:
                text = chunk.get("stream") or chunk.get("status") or ""
                for line in str(text).splitlines():
                    if line.startswith("STEP ") or line.startswith("Step "):
                        step = line
                    self._emit(line)
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("error") or chunk["errorDetail"].get("message", "")
                    where = f" at {step}" if step else ""
                    raise RuntimeBuildError(f"building {name} failed{where}: "
                                            f"{' '.join(str(detail).split())}")
        image = client.images.get(name)
        return str(image.id)

    def push(self, name: str, *, username: str | None = None,
             password: str | None = None) -> None:
        check_image_name(name)
        repository, _, tag = name.rpartition(":")
        auth = {"username": username, "password": password} if username else None
        self._emit(f"wren: pushing {name}")
        for chunk in self.client.api.push(repository, tag=tag, stream=True, decode=True,
                                          auth_config=auth):
            if "error" in chunk or "errorDetail" in chunk:
                detail = chunk.get("error") or chunk["errorDetail"].get("message", "")
                raise RuntimeBuildError(f"pushing {name} failed: {' '.join(str(detail).split())}")
            status = chunk.get("status")
            if status:
                self._emit(f"{status} {chunk.get('progress', '')}".strip())

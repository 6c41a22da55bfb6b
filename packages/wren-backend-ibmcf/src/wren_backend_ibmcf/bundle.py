"""The worker code attached to an action: wren itself, zipped, so images supply only
dependencies and every client runs the workers of its own wren version.

The zip holds the source of the top-level packages the worker imports (`wren`,
`wren_backend_ibmcf`, and the package of the job's storage backend), a minimal `.dist-info`
with each distribution's entry points (so `wren.plugins` finds the adapters inside the
action), and `__main__.py`, whose `main(args)` the action proxy calls. It is deterministic:
the same sources give the same bytes and digest, which the deployed action records so a
changed client redeploys it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

import attrs
from wren import plugins

_DATE = (2020, 1, 1, 0, 0, 0)
_SKIP = {"__pycache__"}
MAIN = "from wren_backend_ibmcf.action import main  # noqa: F401 - called by the proxy\n"


@attrs.frozen
class CodeBundle:
    data: bytes
    digest: str


def _files(package: str) -> list[tuple[str, Path]]:
    module = importlib.import_module(package)
    root = Path(module.__file__ or "").parent
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not _SKIP & set(path.parts) and path.suffix not in (".pyc",
                                                                                    ".pyo"):
            found.append((f"{package}/{path.relative_to(root).as_posix()}", path))
    return found


def _dist_info(package: str) -> list[tuple[str, str]]:
    """Metadata and entry points of the distributions whose entry points live in `package`
    (found through the entry points themselves: editable installs have no file lists)."""
    entries = []
    for dist in importlib.metadata.distributions():
        points = dist.read_text("entry_points.txt") or ""
        if not any(ep.module.split(".")[0] == package for ep in dist.entry_points):
            continue
        name = dist.metadata["Name"]
        folder = f"{name.replace('-', '_')}-{dist.version}.dist-info"
        entries.append((f"{folder}/METADATA",
                        f"Metadata-Version: 2.1\nName: {name}\nVersion: {dist.version}\n"))
        entries.append((f"{folder}/entry_points.txt", points))
    return sorted(set(entries))


def _write(zipped: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, _DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zipped.writestr(info, data)


@functools.cache
def build_bundle(storage_backend: str) -> CodeBundle:
    """The action code for jobs whose workers use `storage_backend`."""
    storage_package = plugins.storage_backend_class(storage_backend).__module__.split(".")[0]
    packages = sorted({"wren", "wren_backend_ibmcf", storage_package})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        _write(zipped, "__main__.py", MAIN.encode())
        for package in packages:
            for name, text in _dist_info(package):
                _write(zipped, name, text.encode())
            for name, path in _files(package):
                _write(zipped, name, path.read_bytes())
    data = buffer.getvalue()
    return CodeBundle(data, hashlib.sha256(data).hexdigest())

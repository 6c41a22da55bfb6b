"""Zip the modules chosen for shipping, deterministically, so the same sources give the same
content hash and are uploaded once. A module given as a `.py` file ships alone, at the path
its dotted name implies (`pkg/sub/mod.py`, `pkg/__init__.py`); a package given as a directory
(only when `include_modules` names it) ships whole, data files included, minus caches and
version-control directories. The zip of unchanged sources is compressed once per process.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".venv", "node_modules"}


def entries(modules: dict[str, Path]) -> dict[str, Path]:
    """{archive name: file} for the modules, as {dotted name: file or package dir}."""
    out: dict[str, Path] = {}
    for name in sorted(modules):
        path = modules[name]
        prefix = name.replace(".", "/")
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                rel = file.relative_to(path)
                if file.is_file() and not _SKIP_DIRS.intersection(rel.parts) \
                        and file.suffix != ".pyc":
                    out[f"{prefix}/{rel.as_posix()}"] = file
        elif path.name == "__init__.py":
            out[f"{prefix}/__init__.py"] = path
        else:
            out[f"{prefix}{path.suffix}"] = path
    return out


def zip_modules(modules: dict[str, Path]) -> bytes:
    """A deterministic zip of the modules (empty bytes when there are none)."""
    files = entries(modules)
    if not files:
        return b""
    return _zip(tuple((arcname, file.read_bytes()) for arcname, file in sorted(files.items())))


@functools.lru_cache(maxsize=8)
def _zip(contents: tuple[tuple[str, bytes], ...]) -> bytes:
    import zipfile  # only jobs that ship modules pay for it

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in contents:
            info = zipfile.ZipInfo(arcname, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()

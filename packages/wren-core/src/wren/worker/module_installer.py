"""Make shipped user modules importable in a long-lived worker process.

Each function blob's zip is extracted once into `<cache>/<digest>/` (atomically, so
concurrent workers on one machine share it). Activating it puts that directory first on
`sys.path` and forgets any previously imported module of the same top-level name, so a warm
worker that ran an older version of `mymod` imports the new one.

The cache is code this worker will import, so it must be private: `<tmp>/wren-<uid>/modules`
is created 0700 and an existing one (or the per-user directory above it) that is a symbolic
link, belongs to another user or is writable by others is refused before anything in it is
trusted (`wren.private_dirs`).
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from wren.private_dirs import ensure_private_dir, remove_private_dir, user_dir

_lock = threading.Lock()
_active: dict[str, str] = {}


_FIX = "remove it (wren creates it again, private to you)"


def default_cache_dir() -> Path:
    return user_dir() / "modules"


def remove_cache(cache_dir: Path | None = None) -> bool:
    """Delete this user's module cache (`wren clean`); False when there is none. Refuses,
    with a `StorageError`, one that is not this user's own (see `remove_private_dir`)."""
    return remove_private_dir(cache_dir or default_cache_dir())


def _extract(archive: bytes, digest: str, cache_dir: Path) -> Path:
    target = ensure_private_dir(cache_dir, fix=_FIX) / digest
    if target.is_dir():
        return target
    import zipfile

    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache_dir))
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            zipped.extractall(staging)
        try:
            os.replace(staging, target)
        except OSError:  # another worker won the race; its copy is identical
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def top_level_names(archive: bytes) -> set[str]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = {n.split("/")[0] for n in zipped.namelist()}
    return {n[:-3] if n.endswith(".py") else n for n in names}


def activate(archive: bytes, digest: str, cache_dir: Path | None = None) -> str | None:
    """Extract (once) and put the modules of a function blob first on `sys.path`; return
    the directory they are in (None when there are none)."""
    if not archive:
        return None
    with _lock:
        path = str(_extract(archive, digest, cache_dir or default_cache_dir()))
        for name in top_level_names(archive):
            if _active.get(name) == path:
                continue
            _active[name] = path
            for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[loaded]
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
    return path

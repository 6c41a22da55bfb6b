"""Where wren keeps what it can rebuild: `~/.wren/cache` (or the directory named by
`WREN_CACHE_DIR`), and `RuntimeInfoCache`, the one policy by which every client caches the
metadata its runtimes report: in this process, and on disk under `runtimes/<backend>/`, until
the adapter forgets it (it deploys, updates or deletes that runtime) or `wren clean` deletes
`runtimes/` (it never touches anything else there, nor the configuration beside it)."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from wren._errors import RuntimeMismatchError
from wren.protocol.runtime import RuntimeInfo

CACHE_ENV = "WREN_CACHE_DIR"
RUNTIMES_DIR = "runtimes"


def cache_dir(*parts: str) -> Path:
    """The cache directory, or a path inside it (not created)."""
    named = os.environ.get(CACHE_ENV)
    root = Path(named).expanduser() if named else Path.home() / ".wren" / "cache"
    return root.joinpath(*parts)


def clear_cache() -> bool:
    """Delete what wren keeps in the cache directory (`runtimes/`); True when there was
    something. The directory and anything else in it stay: `WREN_CACHE_DIR` may name a
    directory that holds other files."""
    ours = cache_dir(RUNTIMES_DIR)
    if not os.path.lexists(ours):
        return False
    if ours.is_symlink() or not ours.is_dir():
        ours.unlink()
    else:
        shutil.rmtree(ours)
    return True


class RuntimeInfoCache:
    """Runtime metadata by backend and identity, read from the runtime once (`fetch`).

    The identity is the adapter's name for one deployment of a runtime (it should change
    when what the runtime runs changes, e.g. include the image and the code it carries). A
    file that cannot be read, or holds metadata of another format, is fetched again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._memory: dict[tuple[str, str], RuntimeInfo] = {}

    @staticmethod
    def path(backend: str, identity: str) -> Path:
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        return cache_dir(RUNTIMES_DIR, backend, f"{digest}.json")

    def get(self, backend: str, identity: str, fetch: Callable[[], RuntimeInfo]) -> RuntimeInfo:
        with self._lock:
            found = self._memory.get((backend, identity))
        if found is not None:
            return found
        path = self.path(backend, identity)
        try:
            found = RuntimeInfo.decode(path.read_bytes())
        except (OSError, RuntimeMismatchError):
            found = fetch()
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(found.encode())
            temporary.replace(path)
        with self._lock:
            self._memory[(backend, identity)] = found
        return found

    def forget(self, backend: str, identity: str) -> None:
        """The runtime changed or went away: ask it again next time."""
        with self._lock:
            self._memory.pop((backend, identity), None)
        self.path(backend, identity).unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget what this process holds (the files stay)."""
        with self._lock:
            self._memory.clear()

"""Where wren keeps what it can rebuild: `~/.wren/cache` (or the directory named by
`WREN_CACHE_DIR`). Adapters cache runtime metadata there under `runtimes/<backend>/`;
`wren clean` deletes the whole directory and never touches the configuration beside it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CACHE_ENV = "WREN_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    """The cache directory, or a path inside it (not created)."""
    named = os.environ.get(CACHE_ENV)
    root = Path(named).expanduser() if named else Path.home() / ".wren" / "cache"
    return root.joinpath(*parts)


def clear_cache() -> bool:
    """Delete the cache directory; True when there was one."""
    root = cache_dir()
    if not root.exists():
        return False
    shutil.rmtree(root)
    return True

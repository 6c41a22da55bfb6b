"""`runtime_metadata()`: how every runtime describes itself to the client.

The same function answers on every platform (an HTTP `GET /metadata`, an activation asking
for it, a queue message naming a blob to write it to), so every client reads the same
`wren.protocol.runtime.RuntimeInfo` document: the interpreter's `major.minor` Python version,
wren's version, and the top-level modules importable here. The directory of the script
that started the process (a runtime's entry point) and the current directory do not count:
only what the image installs is preinstalled. It is computed once per process.
"""

from __future__ import annotations

import functools
import os
import pkgutil
import platform
import sys
from typing import Any

from wren.__about__ import __version__
from wren.protocol.runtime import RuntimeInfo


def _script_dirs() -> set[str]:
    dirs = {os.path.abspath(os.getcwd())}
    if sys.argv and sys.argv[0] and sys.argv[0] != "-c":
        dirs.add(os.path.dirname(os.path.abspath(sys.argv[0])))
    return dirs


@functools.lru_cache(maxsize=1)
def preinstalled_modules() -> frozenset[str]:
    """Top-level modules this interpreter can import from what is installed."""
    skip = _script_dirs()
    paths = [p for p in sys.path if p and os.path.abspath(p) not in skip]
    names = {info.name for info in pkgutil.iter_modules(paths)}
    return frozenset(names | set(sys.builtin_module_names))


def runtime_metadata(name: str = "", **extra: Any) -> RuntimeInfo:
    """This process as a runtime named `name`; `extra` adds platform facts (JSON values)."""
    return RuntimeInfo(name, ".".join(platform.python_version_tuple()[:2]), __version__,
                       preinstalled_modules(),
                       {"python": platform.python_version(), "executable": sys.executable,
                        **extra})

"""Runtime metadata: what a runtime's containers run (Python, wren, preinstalled modules).

A consumer answers a `metadata` message by writing `describe_runtime()` as JSON to the blob
the message names; the client keeps it under `wren.runtimes/azure_containers/<app>.json`, so
the runtime is asked once, not per executor. Deploying or deleting the runtime forgets it.
"""

from __future__ import annotations

import json
import pkgutil
import platform

from wren.__about__ import __version__ as wren_version
from wren.ports import RuntimeInfo

PREFIX = "wren.runtimes/azure_containers/"


def metadata_key(app: str) -> str:
    return f"{PREFIX}{app}.json"


def describe_runtime(name: str) -> RuntimeInfo:
    """This interpreter as a runtime: its Python and wren versions and top-level modules."""
    modules = frozenset(m.name for m in pkgutil.iter_modules() if not m.name.startswith("_"))
    version = ".".join(platform.python_version_tuple()[:2])
    return RuntimeInfo(name, version, wren_version, modules)


def encode(info: RuntimeInfo) -> bytes:
    return json.dumps({"name": info.name, "python_version": info.python_version,
                       "wren_version": info.wren_version,
                       "preinstalled_modules": sorted(info.preinstalled_modules)}).encode()


def decode(raw: bytes) -> RuntimeInfo:
    data = json.loads(raw)
    return RuntimeInfo(data["name"], data["python_version"], data["wren_version"],
                       frozenset(data.get("preinstalled_modules", ())))

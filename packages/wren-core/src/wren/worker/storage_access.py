"""Open the storage backend a task names, with credentials from the worker's environment.

The task carries only the backend name and its public settings. The rest (keys, secrets)
comes from the platform: the local pool's private pipe, an action's bound parameters, a
Kubernetes Secret or a Container Apps secret, handed in here as `private_config`. Instances
are cached per distinct configuration for the life of the worker process.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from wren import plugins
from wren.ports.storage import StorageBackend

#: Environment variable a runtime may set to a JSON object of private storage settings.
STORAGE_CONFIG_ENV = "WREN_STORAGE_CONFIG"

_lock = threading.Lock()
_cache: dict[str, StorageBackend] = {}


def private_config_from_env() -> dict[str, Any]:
    raw = os.environ.get(STORAGE_CONFIG_ENV)
    return json.loads(raw) if raw else {}


def open_storage(backend: str, public_config: Mapping[str, Any],
                 private_config: Mapping[str, Any] | None = None) -> StorageBackend:
    """A storage backend for `backend` with public settings overlaid by private ones."""
    private = private_config if private_config is not None else private_config_from_env()
    config = {**public_config, **private}
    cache_key = backend + json.dumps(config, sort_keys=True, default=str)
    with _lock:
        found = _cache.get(cache_key)
        if found is None:
            found = plugins.storage_backend_class(backend)(config)
            _cache[cache_key] = found
        return found

"""Open the storage backend a task names, with credentials from the worker's environment.

The task carries only the backend name and its public settings. The rest (keys, secrets)
comes from the platform: the local pool's private pipe, an action's bound parameters, a
Kubernetes Secret or a Container Apps secret, handed in here as `private_config`. Instances
are cached per distinct configuration for the life of the worker process.

The private config may also carry, under `SERVICES_KEY`, the secrets of the client's other
services a worker talks to (the AMQP URL of a RabbitMQ status monitor), so they travel
through the same secret channel as storage keys without any adapter knowing about them.
`services_of(storage)` gives them back to the worker for the storage opened with them.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from wren import plugins
from wren.ports.storage import StorageBackend

#: Environment variable a runtime may set to a JSON object of private storage settings.
STORAGE_CONFIG_ENV = "WREN_STORAGE_CONFIG"
#: Key of the private config that holds the secrets of non-storage services, by service.
SERVICES_KEY = "wren_services"

_lock = threading.Lock()
_cache: dict[str, StorageBackend] = {}
#: The arguments and answer of the last `open_storage` given its private settings.
_last: tuple[str, dict[str, Any], dict[str, Any], StorageBackend] | None = None
_services: weakref.WeakKeyDictionary[StorageBackend, Mapping[str, Any]] = \
    weakref.WeakKeyDictionary()


def private_config_from_env() -> dict[str, Any]:
    raw = os.environ.get(STORAGE_CONFIG_ENV)
    return json.loads(raw) if raw else {}


def open_storage(backend: str, public_config: Mapping[str, Any],
                 private_config: Mapping[str, Any] | None = None) -> StorageBackend:
    """A storage backend for `backend` with public settings overlaid by private ones (one
    per distinct configuration; a worker asks again with the settings of its last task
    most of the time, and gets its answer without encoding them for the cache's key)."""
    last = _last
    if last is not None and private_config is not None and last[0] == backend \
            and last[1] == public_config and last[2] == private_config:
        return last[3]
    found = _open(backend, public_config, private_config)
    if private_config is not None:
        _remember_last(backend, public_config, private_config, found)
    return found


def _remember_last(backend: str, public_config: Mapping[str, Any],
                   private_config: Mapping[str, Any], storage: StorageBackend) -> None:
    global _last
    _last = (backend, dict(public_config), dict(private_config), storage)


def _open(backend: str, public_config: Mapping[str, Any],
          private_config: Mapping[str, Any] | None) -> StorageBackend:
    private = dict(private_config if private_config is not None else private_config_from_env())
    services = private.pop(SERVICES_KEY, None) or {}
    config = {**public_config, **private}
    cache_key = backend + json.dumps([config, services], sort_keys=True, default=str)
    with _lock:
        found = _cache.get(cache_key)
        if found is None:
            found = plugins.storage_backend_class(backend)(config)
            _cache[cache_key] = found
            if services:
                _services[found] = services
        return found


def services_of(storage: StorageBackend) -> Mapping[str, Any]:
    """The service secrets delivered with this storage's config (empty when none)."""
    return _services.get(storage, {})

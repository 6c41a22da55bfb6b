"""How `wren.Storage` finds its adapter: the worker's own storage inside a worker, the
adapter a `storage_config=` mapping names, or the configuration loaded like
`FunctionExecutor` loads it (files, then `config=`, with `backend=` picking the storage)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wren import plugins
from wren._errors import InvalidInputError
from wren.ports.storage import StorageBackend


def _worker_storage() -> StorageBackend | None:
    from wren.context import current_storage

    try:
        return current_storage()
    except RuntimeError:
        return None


def _from_storage_config(storage_config: Mapping[str, Any],
                         backend: str | None) -> StorageBackend:
    """Open the adapter `{'backend': name, <section>: {...}}` names (what
    `Storage.get_storage_config()` returns; Lithops' own shape too)."""
    from wren.config.loader import load_config

    if not isinstance(storage_config, Mapping):
        raise InvalidInputError("storage_config= must be a mapping such as "
                                "{'backend': 'localhost', 'localhost': {...}}")
    name = backend or storage_config.get("backend")
    if not name:
        raise InvalidInputError("storage_config= names no backend: give its 'backend' key "
                                "(or backend=)")
    section = plugins.storage_backend_class(name).config_schema.section
    body = storage_config.get(section, storage_config.get(name)) or {}
    loaded = load_config({"wren": {"storage": name}, section: body}, storage=name,
                         read_files=False)
    return plugins.storage_backend_class(name)(loaded.storage)


def open_backend(config: Mapping[str, Any] | None, backend: str | None,
                 storage_config: Mapping[str, Any] | None) -> StorageBackend:
    """The adapter for `Storage(config, backend, storage_config)`."""
    from wren.config.loader import load_config

    if storage_config is not None:
        if config is not None:
            raise InvalidInputError("give either config= or storage_config=, not both")
        return _from_storage_config(storage_config, backend)
    found = _worker_storage() if config is None and backend is None else None
    if found is None:
        loaded = load_config(config, storage=backend)
        found = plugins.storage_backend_class(loaded.storage_backend)(loaded.storage)
    return found

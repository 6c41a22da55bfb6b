"""wren's embedded backends: `localhost` compute (calls in wren's supervised worker pool,
`wren.worker.pool`, on this machine or in a runtime container) and `localhost` storage
(objects as files)."""

from typing import TYPE_CHECKING, Any

from wren_backend_local.__about__ import __version__

if TYPE_CHECKING:
    from wren_backend_local.compute import LocalhostCompute
    from wren_backend_local.storage import LocalhostStorage

__all__ = ["LocalhostCompute", "LocalhostStorage", "__version__"]

# Imported on first use, so a worker process starting up loads only what it runs.
_LAZY = {"LocalhostCompute": "compute", "LocalhostStorage": "storage"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wren_backend_local' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"wren_backend_local.{module}"), name)

"""wren's embedded backends: `localhost` compute (a warm pool of worker processes) and
`localhost` storage (objects as files)."""

from wren_backend_local.__about__ import __version__
from wren_backend_local.compute import LocalhostCompute
from wren_backend_local.pool import WorkerPool, get_pool
from wren_backend_local.storage import LocalhostStorage

__all__ = ["LocalhostCompute", "LocalhostStorage", "WorkerPool", "__version__", "get_pool"]

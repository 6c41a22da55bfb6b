"""What code running inside a worker may ask about its surroundings.

`in_worker()` tells wren's client side it is nested inside a worker (no progress bars);
`current_storage()` gives the worker's storage backend to wren's own helpers, such as the
remote reducer, that run as user functions.
"""

from __future__ import annotations

import os
import threading
from typing import Any

WORKER_ENV = "WREN_WORKER"

_local = threading.local()


def in_worker() -> bool:
    return os.environ.get(WORKER_ENV) == "1" or getattr(_local, "storage", None) is not None


def set_current(storage: Any, task: Any, key: bytes | None = None) -> None:
    _local.storage = storage
    _local.task = task
    _local.key = key


def current_key() -> bytes:
    """The executor key of the task this thread is running (for wren's own helpers that
    read the job's sealed objects, such as the remote reducer)."""
    key = getattr(_local, "key", None)
    if key is None:
        raise RuntimeError("current_key() is only available inside a wren worker")
    return key


def current_storage() -> Any:
    """The storage backend of the task this thread is running."""
    storage = getattr(_local, "storage", None)
    if storage is None:
        raise RuntimeError("current_storage() is only available inside a wren worker")
    return storage


def current_task() -> Any:
    return getattr(_local, "task", None)

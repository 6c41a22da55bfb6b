"""`wren.multiprocessing`: the standard library's `multiprocessing`, run on wren.

Change `import multiprocessing` to `import wren.multiprocessing as multiprocessing` (or
`from wren.multiprocessing import Pool`) and a program's pools and processes run on the
configured wren backend (localhost by default) through one shared `FunctionExecutor`:
`Pool`, `Process`, `cpu_count` need nothing else. The shared state (`Queue`,
`SimpleQueue`, `JoinableQueue`, `Pipe`, `Manager`, `Lock`, `RLock`, `Event`, `Value`) lives
in Redis, named in the `multiprocessing:` config section; every pickle stored there is
sealed with a key derived from the executor key, and the Redis password never travels with
the objects (see docs/drop-in-multiprocessing.md). `configure(**options)` picks the
executor's backend and config.
"""

from multiprocessing import (
    AuthenticationError,
    BufferTooShort,
    ProcessError,
    TimeoutError,
    current_process,
    freeze_support,
    get_logger,
    log_to_stderr,
)
from types import ModuleType
from typing import Any

from wren.multiprocessing.arrays import Array, RawArray
from wren.multiprocessing.connection import Connection, Pipe
from wren.multiprocessing.context import configure
from wren.multiprocessing.managers import Manager, Namespace, SyncManager
from wren.multiprocessing.pool import Pool, cpu_count
from wren.multiprocessing.process import Process
from wren.multiprocessing.proxies import DictProxy, ListProxy
from wren.multiprocessing.queues import JoinableQueue, Queue, SimpleQueue
from wren.multiprocessing.results import AsyncResult, IMapIterator, MapResult
from wren.multiprocessing.synchronize import BoundedSemaphore, Event, Lock, RLock, Semaphore
from wren.multiprocessing.values import RawValue, Value

_START_METHODS = ("fork", "spawn", "forkserver")


def get_context(method: str | None = None) -> ModuleType:
    """This module: wren has one way to start processes, so every context is the same."""
    if method is not None and method not in _START_METHODS:
        raise ValueError(f"cannot find context for {method!r}")
    import sys

    return sys.modules[__name__]


def set_start_method(method: str | None, force: bool = False) -> None:
    """Accepted for compatibility (wren starts its calls its own way)."""
    get_context(method)


def get_start_method(allow_none: bool = False) -> str:
    return "wren"


def get_all_start_methods() -> list[str]:
    return ["wren"]


def active_children() -> list[Any]:
    """No local child processes: calls run on the wren backend."""
    return []


def parent_process() -> None:
    """None: a wren call has no parent process of this program on its machine."""
    return None


def set_executable(executable: str) -> None:
    """Accepted for compatibility: the backend's runtime chooses the interpreter."""


def set_forkserver_preload(module_names: list[str]) -> None:
    """Accepted for compatibility: nothing is forked here."""


def allow_connection_pickling() -> None:
    """Accepted for compatibility: connections always pickle (by name, without secrets)."""


__all__ = [
    "Array",
    "AsyncResult",
    "AuthenticationError",
    "BoundedSemaphore",
    "BufferTooShort",
    "Connection",
    "DictProxy",
    "Event",
    "IMapIterator",
    "JoinableQueue",
    "ListProxy",
    "Lock",
    "Manager",
    "MapResult",
    "Namespace",
    "Pipe",
    "Pool",
    "Process",
    "ProcessError",
    "Queue",
    "RLock",
    "RawArray",
    "RawValue",
    "Semaphore",
    "SimpleQueue",
    "SyncManager",
    "TimeoutError",
    "Value",
    "active_children",
    "allow_connection_pickling",
    "configure",
    "cpu_count",
    "current_process",
    "freeze_support",
    "get_all_start_methods",
    "get_context",
    "get_logger",
    "get_start_method",
    "log_to_stderr",
    "parent_process",
    "set_executable",
    "set_forkserver_preload",
    "set_start_method",
]

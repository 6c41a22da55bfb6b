"""The one `FunctionExecutor` behind `wren.multiprocessing`, and the key its objects share.

Every `Pool` and `Process` of a program runs its calls through one executor, created on first
use with the options given to `configure()` (by default: the user's wren config, no progress
bar). Sharing it means one executor key for the whole program, so a `Queue` made on the
client and used by calls of any pool is sealed and opened with keys both sides can derive:
the client from its executor's key, a worker from `wren.context.current_key()`, which is that
same key. No key ever travels in a payload or sits in Redis.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wren.context import current_key, in_worker

if TYPE_CHECKING:
    from wren.executor import FunctionExecutor

_lock = threading.RLock()
_options: dict[str, Any] = {}
_executor: FunctionExecutor | None = None
#: Called by `configure()` (caches of settings read from the old executor's config).
on_configure: list[Callable[[], None]] = []


def configure(**options: Any) -> None:
    """Options of the executor wren.multiprocessing runs on, as `FunctionExecutor` takes them
    (`backend=`, `storage=`, `config=`, `runtime=`, ...). Call it before the first `Pool`,
    `Process`, `Queue` or `Manager`; an executor already made for earlier ones is closed."""
    global _executor
    with _lock:
        _options.clear()
        _options.update(options)
        old, _executor = _executor, None
    for hook in on_configure:
        hook()
    if old is not None:
        old.close()


def executor() -> FunctionExecutor:
    """The shared executor (made on first use)."""
    global _executor
    with _lock:
        if _executor is None or getattr(_executor, "_closed", False):
            from wren.executor import FunctionExecutor

            options = dict(_options)
            options.setdefault("progress", False)
            _executor = FunctionExecutor(**options)
        return _executor


def executor_key() -> bytes:
    """The executor key shared objects derive their keys from: inside a worker the key of
    the task running this thread, on the client the shared executor's."""
    if in_worker():
        try:
            return current_key()
        except RuntimeError:
            raise RuntimeError(
                "a wren.multiprocessing object was made or opened in a worker outside the "
                "call's thread; pass it to the call as an argument instead") from None
    return bytes(executor()._key)


@atexit.register
def shutdown() -> None:
    """Close the shared executor (at exit, or to start afresh)."""
    global _executor
    with _lock:
        old, _executor = _executor, None
    if old is not None:
        old.close()

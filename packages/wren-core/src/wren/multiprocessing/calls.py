"""What a `Pool` or `Process` actually sends to wren: one picklable callable per job.

`PoolCall` runs a chunk of `map`/`starmap` items (one wren call per chunk, as the standard
library's pool hands a chunk to one worker process) or one `apply` call, after running the
pool's `initializer` once in each worker process that serves the pool. `ProcessCall` runs a
`Process`'s `run()` and turns `SystemExit` into its exit code.
"""

from __future__ import annotations

import itertools
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

#: Pools whose initializer already ran in this (worker) process.
_initialized: set[str] = set()
_init_lock = threading.Lock()

MAP, STARMAP, APPLY = "map", "starmap", "apply"


class PoolCall:
    """The function of one pool job: `func` applied to a chunk, or to one `(args, kwds)`."""

    def __init__(self, func: Callable[..., Any], mode: str, pool_id: str,
                 initializer: Callable[..., Any] | None, initargs: Sequence[Any]) -> None:
        self.func, self.mode, self.pool_id = func, mode, pool_id
        self.initializer, self.initargs = initializer, tuple(initargs)

    def _initialize(self) -> None:
        if self.initializer is None or self.pool_id in _initialized:
            return
        with _init_lock:
            if self.pool_id not in _initialized:
                self.initializer(*self.initargs)
                _initialized.add(self.pool_id)

    def __call__(self, item: Any) -> Any:
        self._initialize()
        func = self.func
        if self.mode == APPLY:
            args, kwds = item
            return func(*args, **kwds)
        if self.mode == STARMAP:
            return list(itertools.starmap(func, item))
        return list(map(func, item))


class ProcessCall:
    """The function of a `Process`'s job: run `process.run()`, give its exit code (a failure
    propagates). The process is the function, not its data, so the modules of its target
    (or of its subclass) are shipped with it."""

    def __init__(self, process: Any) -> None:
        self.process = process

    def __call__(self) -> int:
        try:
            self.process.run()
        except SystemExit as exc:
            if exc.code is None:
                return 0
            if isinstance(exc.code, int):
                return exc.code
            sys.stderr.write(str(exc.code) + "\n")
            return 1
        finally:
            sys.stdout.flush()
        return 0


def format_failure(name: str, exc: BaseException) -> str:
    """What the standard library prints when a child process dies of `exc`."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return f"Process {name}:\n" + "".join(lines)

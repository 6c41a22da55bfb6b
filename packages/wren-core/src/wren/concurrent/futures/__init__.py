"""`concurrent.futures` on wren: change the import line, keep the program.

`ProcessPoolExecutor` and `ThreadPoolExecutor` take the standard library's arguments and run
every call on a `wren.FunctionExecutor` (the localhost backend unless configured otherwise);
`FunctionExecutor` and `LocalhostExecutor` also take wren's `backend=`, `config=` and the
like. Their futures are real `concurrent.futures.Future`s, so the standard `wait`,
`as_completed` (re-exported here with the constants and exceptions) and
`asyncio.wrap_future` accept them. The executors load on first use, so importing this
package — as workers do — stays cheap.
"""

from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    BrokenExecutor,
    CancelledError,
    Executor,
    InvalidStateError,
    TimeoutError,
    as_completed,
    wait,
)
from typing import TYPE_CHECKING

from wren._lazy import lazy_exports

if TYPE_CHECKING:
    from wren.concurrent.futures._executor import (
        FunctionExecutor,
        Future,
        LocalhostExecutor,
        ProcessPoolExecutor,
        ThreadPoolExecutor,
    )

_LAZY = {name: "wren.concurrent.futures._executor" for name in (
    "FunctionExecutor", "Future", "LocalhostExecutor", "ProcessPoolExecutor",
    "ThreadPoolExecutor")}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

__all__ = [
    "ALL_COMPLETED",
    "BrokenExecutor",
    "CancelledError",
    "Executor",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "FunctionExecutor",
    "Future",
    "InvalidStateError",
    "LocalhostExecutor",
    "ProcessPoolExecutor",
    "ThreadPoolExecutor",
    "TimeoutError",
    "as_completed",
    "wait",
]

"""`wren.worker.pool`: the supervised process pool every runtime runs its tasks in.

A `WorkerPool` keeps warm worker processes (fresh interpreters, never forks), hands them
tasks, relays the statuses they push, and supervises them: a worker that exits, is killed by
a signal (a segfault, the kernel's OOM killer), or overruns a call's timeout is reported on
the call it was running through the listener's `calls_lost`, with the exit code or signal
named by `describe_exit`, and the calls of its task that never reported are run again. A
client runs calls on its own machine in this user's pool server (`shared_pool()`, a
`RemotePool` with the same API: `server`, `client`, `rendezvous`, `link`), or in its own
pool (`get_pool()`); a runtime process creates its own.
Modules load on first use, so a worker process imports only what it runs.
"""

from typing import TYPE_CHECKING

from wren._lazy import lazy_exports

if TYPE_CHECKING:
    from wren.worker.pool.client import RemotePool, shared_pool
    from wren.worker.pool.exits import describe_exit
    from wren.worker.pool.process import Assignment
    from wren.worker.pool.profile import Profile, storage_profile
    from wren.worker.pool.rendezvous import PoolServerError
    from wren.worker.pool.supervisor import MAX_ATTEMPTS, WorkerPool, get_pool, kill_grace

__all__ = ["MAX_ATTEMPTS", "Assignment", "PoolServerError", "Profile", "RemotePool",
           "WorkerPool", "describe_exit", "get_pool", "kill_grace", "shared_pool",
           "storage_profile"]

_LAZY = {"Assignment": ".process", "MAX_ATTEMPTS": ".supervisor", "PoolServerError": ".rendezvous",
         "Profile": ".profile", "RemotePool": ".client", "shared_pool": ".client",
         "WorkerPool": ".supervisor", "describe_exit": ".exits", "get_pool": ".supervisor",
         "kill_grace": ".supervisor", "storage_profile": ".profile"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

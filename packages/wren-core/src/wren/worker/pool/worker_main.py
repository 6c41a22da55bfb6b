"""Entry point of a pooled worker process: receive tasks on a pipe, run them, report.

Started once by the pool with `python -c`, it imports wren's worker a single time and then
serves task after task. Messages are pickled tuples on two pipes: from the pool `("profile",
id, backend, config)` (storage settings, secrets included, never written anywhere),
`("task", profile_id, task_dict, apart, flush_interval, key, by_name, one_by_one)` (small
inline arguments inside `task_dict`, big ones following as a raw message when `apart`;
`one_by_one`: mark every call, no group marks, see `wren.worker.pool.slots`) and
`("stop",)`; to the pool `("ready", pid)`, `("status", task_id, calls_flushed, document)`,
`("stored", task_id, calls_flushed, status_key)`, `("done", task_id, seconds_in_calls)` and
`("failed", task_id, message)`. It exits when the pool goes away.

A big status document (`NAME_STATUS_FROM` bytes or more) of a storage on this machine
(`shared_memory`, where statuses live in memory) is named rather than sent when the pool's
listener reads stored statuses (`by_name`): it is in storage already, so the pipes carry a
key instead of a 100 KB copy through the pool server, and a worker never waits for a full
pipe (64 KiB) to drain before its next task.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

#: Status documents from this size are named, not sent, when they can be (see above).
NAME_STATUS_FROM = 32 * 1024


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve(inbox: Connection, outbox: Connection, slots: Any, row: int) -> None:
    from wren.ports import capabilities
    from wren.protocol.task import Task
    from wren.worker import open_storage, run_task

    profiles: dict[str, tuple[str, dict[str, Any]]] = {}
    mark = slots.mark(row)

    def send(message: tuple[Any, ...]) -> None:
        outbox.send_bytes(pickle.dumps(message, protocol=5))

    send(("ready", os.getpid()))
    while True:
        try:
            message = pickle.loads(inbox.recv_bytes())
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "stop":
            return
        if kind == "profile":
            profiles[message[1]] = (message[2], message[3])
            continue
        _, profile_id, task_dict, apart, flush_interval, key, by_name, one_by_one = message
        if apart:
            task_dict["inline_data"] = inbox.recv_bytes()
        task = Task.from_dict(task_dict)
        try:
            backend, private = profiles[profile_id]
            storage = open_storage(backend, task.storage_config, private)
            named = by_name and storage.supports(capabilities.SHARED_MEMORY)
            slots.ask_back(row, False)  # (a request about the task before is no news)
            spent = run_task(task, storage, key=key, push=_pusher(send, task, named),
                             mark=mark, flush_interval=flush_interval,
                             asked_back=lambda: slots.asked_back(row),
                             group_calls=not one_by_one)
        except Exception as exc:  # storage unreachable, etc.: the pool reports the calls
            send(("failed", task.task_id, f"{type(exc).__name__}: {exc}"))
            continue
        send(("done", task.task_id, spent))


def _pusher(send: Callable[[tuple[Any, ...]], None], task: Any, named: bool
            ) -> Callable[[Any, bytes], None]:
    """What `run_task` hands each status document it stored: sent to the pool with the
    count of the task's calls reported so far, or named by its key when `named` and big."""
    from wren.protocol import keys

    flushed = 0

    def push(document: Any, encoded: bytes) -> None:
        nonlocal flushed
        flushed += len(document)
        if named and len(encoded) >= NAME_STATUS_FROM:  # stored already (see above)
            send(("stored", task.task_id, flushed,
                  keys.status_key(task.job_key, task.task_id, document.part)))
        else:
            send(("status", task.task_id, flushed, encoded))

    return push


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    read_fd, write_fd, slot_path, row = int(args[0]), int(args[1]), args[2], int(args[3])
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # the worker imports only what a remote runtime could
    os.environ["WREN_WORKER"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the client
    faulthandler.enable()
    for fd in (read_fd, write_fd):
        os.set_inheritable(fd, False)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    from wren.worker.pool.slots import SlotTable

    slots = SlotTable(slot_path, row + 1)
    serve(Connection(read_fd, writable=False), Connection(write_fd, readable=False), slots, row)

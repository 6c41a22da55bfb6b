"""Entry point of a pooled worker process: receive tasks on a pipe, run them, report.

Started once by the pool with `python -c`, it imports wren's worker a single time and then
serves task after task. Messages are pickled tuples on two pipes: from the pool `("profile",
id, backend, config)` (storage settings, secrets included, never written anywhere),
`("task", profile_id, task_dict, apart, flush_interval, key)` (small inline arguments inside
`task_dict`, big ones following as a raw message when `apart`) and `("stop",)`; to the pool
`("ready", pid)`, `("status", task_id, calls_flushed, document)`, `("done", task_id,
seconds_in_calls)` and `("failed", task_id, message)`. It exits when the pool goes away.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def serve(inbox: Connection, outbox: Connection, slots: Any, row: int) -> None:
    from wren.protocol.status import StatusDocument
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
        _, profile_id, task_dict, apart, flush_interval, key = message
        if apart:
            task_dict["inline_data"] = inbox.recv_bytes()
        task = Task.from_dict(task_dict)
        flushed = 0

        def push(document: StatusDocument, encoded: bytes, task: Task = task) -> None:
            nonlocal flushed
            flushed += len(document)
            send(("status", task.task_id, flushed, encoded))

        try:
            backend, private = profiles[profile_id]
            storage = open_storage(backend, task.storage_config, private)
            spent = run_task(task, storage, key=key, push=push, mark=mark,
                             flush_interval=flush_interval)
        except Exception as exc:  # storage unreachable, etc.: the pool reports the calls
            send(("failed", task.task_id, f"{type(exc).__name__}: {exc}"))
            continue
        send(("done", task.task_id, spent))


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

"""The user's pool server: one `WorkerPool` shared by every client process of this user.

Started by the first client that needs it (`wren.worker.pool.rendezvous`), it listens on a
Unix socket in a private directory, accepts only peers of its own uid, and serves each
client on a thread: the client's executors (`owner`s) get their limits in the one pool, their
tasks run on its warm workers, and the statuses and lost calls of each task go back to the
client that sent it, tagged with the client's listener id. When a client goes away, the tasks
it left behind are cancelled. The server exits once no client has been connected for its
idle timeout (the longest any client asked for), or as soon as it is idle after its socket
was removed or taken over. Messages from a client: `("hello", protocol, version, idle)`,
`("size", n)`, `("limit", owner, n)`, `("release", owner)`, `("profile", id, backend,
config)`, `("tasks", owner, listener, profile_id, [invocation dicts], flush_interval, by_name)`,
`("cancel", owner, reason, kind)`, `("pids", query)`; to it: `("hello", pid)`, `("status",
listener, job_key, indices, document)`, `("lost", listener, job_key, indices, reason, kind)`,
`("answer", query, value)`.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import select
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wren.__about__ import __version__
from wren.worker.pool.link import Link, check_peer
from wren.worker.pool.rendezvous import PROTOCOL
from wren.worker.pool.supervisor import WorkerPool

logger = logging.getLogger("wren")

#: Workers at most, whatever a client asks for.
MAX_SIZE = 256


class _Outbox:
    """What goes to one client. A message is sent at once when nothing is queued and the
    socket takes it whole; otherwise (the rest of) it waits for the outbox's own thread. So a
    client that stops reading stalls only itself, never the pool's dispatcher thread (which
    relays every client's statuses), and a status reaches a reading client without a thread
    switch."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._backlog = 0  # frames queued and not yet sent whole
        threading.Thread(target=self._drain, daemon=True, name="wren-pool-outbox").start()

    def put(self, message: tuple[Any, ...]) -> None:
        frame = Link.frame(message)
        with self._lock:
            if self._backlog == 0:
                try:
                    sent = self.link.send_some(frame)
                except OSError:  # the client is gone; its conversation ends on its own
                    return
                if sent == len(frame):
                    return
                frame = frame[sent:]
            self._backlog += 1
            self._queue.put(frame)

    def close(self) -> None:
        """Send what is queued, then close the link."""
        self._queue.put(None)

    def _drain(self) -> None:
        try:
            while (frame := self._queue.get()) is not None:
                self.link.send_frame(frame)
                with self._lock:
                    self._backlog -= 1
        except OSError:  # the client is gone; its tasks are being cancelled
            pass
        finally:
            self.link.close()


def _compact(indices: Sequence[int]) -> Sequence[int]:
    """Call indices as they cross the link: a range as itself (a few bytes; as a list, the
    5,000 calls of a part cost both ends a tenth of a millisecond), anything else a list."""
    return indices if type(indices) is range else list(indices)


class _Relay:
    """The pool's listener for one client listener: forwards what it learns to the client."""

    def __init__(self, outbox: _Outbox, lid: int, reads_stored: bool = False) -> None:
        self.outbox, self.lid = outbox, lid
        #: Whether the client's listener reads statuses named by key (`status_stored`).
        self.reads_stored_statuses = reads_stored

    def status_pushed(self, document: bytes) -> None:
        from wren.protocol.status import StatusDocument

        peeked = StatusDocument.peek(document)  # which calls reported, for the client's books
        self.status_pushed_covering(document, peeked.job_key, peeked.indices)

    def status_pushed_covering(self, document: bytes, job_key: str,
                               indices: Sequence[int]) -> None:
        """`status_pushed`, told by the pool which calls it covers: no need to decode it."""
        self.outbox.put(("status", self.lid, job_key, _compact(indices), document))

    def status_stored(self, key: str, job_key: str, indices: Sequence[int]) -> None:
        """A worker stored a status document under `key` and named it (see
        `wren.worker.pool.worker_main`): the client reads it."""
        self.outbox.put(("stored", self.lid, job_key, _compact(indices), key))

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        self.outbox.put(("lost", self.lid, job_key, _compact(call_indices), reason, kind))


class PoolServer:
    """The listening socket, the pool, and the connected clients."""

    def __init__(self, path: Path, idle_timeout: float, size: int) -> None:
        self.path, self.idle_timeout = path, idle_timeout
        self.pool = WorkerPool(slicing=True)  # calls paced to their measured time
        self.pool.ensure_size(max(1, min(size, MAX_SIZE)))
        self._owners = itertools.count(1)
        self._lock = threading.Lock()
        self._clients = 0
        self._last_client = time.monotonic()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        staging = path.with_name(f"{path.name}.{os.getpid()}")
        staging.unlink(missing_ok=True)
        self._sock.bind(str(staging))
        self._sock.listen(64)
        os.replace(staging, path)  # clients never see a socket that is not listening yet
        self._inode = os.stat(path).st_ino

    def serve_forever(self) -> None:
        try:
            while not self._should_exit():
                ready, _, _ = select.select([self._sock], [], [], 0.5)
                if ready:
                    self._accept()
        finally:
            self._close()

    def _should_exit(self) -> bool:
        with self._lock:
            if self._clients:
                return False
            idle = time.monotonic() - self._last_client
        if idle >= self.idle_timeout:
            return True
        return idle >= 0.5 and not self._own_socket()

    def _own_socket(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self._inode
        except OSError:
            return False

    def _accept(self) -> None:
        try:
            sock, _ = self._sock.accept()
        except OSError:
            return
        try:
            check_peer(sock)
        except (PermissionError, OSError) as exc:
            logger.warning("wren pool server: refused a connection: %s", exc)
            sock.close()
            return
        with self._lock:
            self._clients += 1
        threading.Thread(target=self._serve_client, args=(Link(sock),), daemon=True,
                         name="wren-pool-client").start()

    def _close(self) -> None:
        if self._own_socket():
            self.path.unlink(missing_ok=True)
        self._sock.close()
        self.pool.shutdown()

    def _serve_client(self, link: Link) -> None:
        owners: dict[int, int] = {}
        outbox = _Outbox(link)
        try:
            self._converse(link, outbox, owners)
        except (EOFError, OSError):
            pass
        except Exception:
            logger.exception("wren pool server: a client sent something unexpected")
        finally:
            outbox.close()
            for owner in owners.values():
                self.pool.cancel(owner, "the client process that submitted the task exited",
                                 "lost")
                self.pool.release(owner)
            with self._lock:
                self._clients -= 1
                self._last_client = time.monotonic()

    def _converse(self, link: Link, outbox: _Outbox, owners: dict[int, int]) -> None:
        from wren.protocol.invocation import Invocation

        hello = link.receive(10.0)
        if hello[0] != "hello" or tuple(hello[1:3]) != (PROTOCOL, __version__):
            outbox.put(("refused", f"this server runs wren {__version__}"))
            return
        self.idle_timeout = max(self.idle_timeout, float(hello[3]))
        outbox.put(("hello", os.getpid()))
        profiles: dict[str, tuple[str, str, dict[str, Any]]] = {}
        relays: dict[int, _Relay] = {}
        pool = self.pool
        while True:
            message = link.receive()
            kind = message[0]
            if kind == "tasks":
                _, owner, lid, profile_id, dicts, flush_interval, by_name = message
                relay = relays.get(lid) or relays.setdefault(lid, _Relay(outbox, lid, by_name))
                mapped = owners.get(owner) or owners.setdefault(owner, next(self._owners))
                pool.submit([Invocation.from_dict(d) for d in dicts], relay,
                            profiles[profile_id], mapped, flush_interval=flush_interval)
            elif kind == "profile":
                profiles[message[1]] = (message[1], message[2], message[3])
            elif kind == "size":
                pool.ensure_size(max(1, min(int(message[1]), MAX_SIZE)))
            elif kind == "limit":
                mapped = owners.get(message[1]) or owners.setdefault(message[1],
                                                                     next(self._owners))
                pool.set_limit(mapped, int(message[2]))
            elif kind == "release" and message[1] in owners:
                pool.release(owners[message[1]])
            elif kind == "cancel" and message[1] in owners:
                pool.cancel(owners[message[1]], message[2], message[3])
            elif kind == "pids":
                outbox.put(("answer", message[1], pool.worker_pids()))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logging.basicConfig(format="%(asctime)s wren pool server: %(message)s")
    PoolServer(Path(args[0]), float(args[1]), int(args[2])).serve_forever()

"""`RemotePool`: the user's shared pool server, seen from a client with `WorkerPool`'s API.

A client that runs calls on its own machine joins this user's pool server
(`wren.worker.pool.server`), whose workers are warm from an earlier script, instead of
starting worker interpreters of its own. It sends invocations (the executor's key included:
the socket is private to this user) and gets back the statuses and lost calls its
listeners would get from an in-process pool. It remembers which calls it sent and has not
heard of yet: if the server goes away (killed, crashed), those calls end as lost with a
reason naming the server, and the next submission starts a new server. `shared_pool` is the
process-wide instance; `ensure_size` and `set_limit` reach the server on first use.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from wren.ports.compute import InvocationListener, reads_stored_statuses
from wren.protocol.invocation import Invocation
from wren.worker.pool.link import Link
from wren.worker.pool.profile import Profile
from wren.worker.pool.rendezvous import open_link, running_link

logger = logging.getLogger("wren")

_ANSWER_TIMEOUT = 10.0


class _Unheard:
    """The calls of one job sent to the server and not heard of yet: counted, not kept one
    by one (a 10,000-call map would fill a set and empty it again, a millisecond of the
    client's); which they are is worked out only if the server is lost. The server reports
    each call once (its status or its loss)."""

    __slots__ = ("_count", "_heard", "_sent")

    def __init__(self) -> None:
        self._count = 0
        self._sent: list[Sequence[int]] = []
        self._heard: list[Sequence[int]] = []

    def sent(self, indices: Sequence[int]) -> None:
        self._sent.append(indices)
        self._count += len(indices)

    def heard(self, indices: Sequence[int]) -> bool:
        """Count `indices` as reported; True once every call sent is."""
        self._heard.append(indices)
        self._count -= len(indices)
        return self._count <= 0

    def unheard(self) -> list[int]:
        """The calls sent and not reported, in order."""
        heard = set(itertools.chain.from_iterable(self._heard))
        return sorted(set(itertools.chain.from_iterable(self._sent)).difference(heard))


class RemotePool:
    """The pool server of this user, reached over one link, reconnected when it is lost."""

    def __init__(self, idle_timeout: float) -> None:
        self.idle_timeout = idle_timeout
        self._lock = threading.RLock()
        self._link: Link | None = None
        self.server_pid: int | None = None
        self._size = 0
        self._limits: dict[int, int] = {}
        self._profiles: set[str] = set()
        self._lids: dict[int, int] = {}  # id(listener) -> listener id
        self._listeners: dict[int, InvocationListener] = {}
        self._outstanding: dict[tuple[int, str], _Unheard] = {}
        self._next_id = itertools.count(1)
        self._answers: dict[int, list[Any]] = {}
        self._answered = threading.Condition(self._lock)
        self.servers_joined = 0

    # WorkerPool's API ---------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self._size

    def ensure_size(self, size: int) -> None:
        with self._lock:
            if size > self._size:
                self._size = size
                self._tell(("size", size))

    def set_limit(self, owner: int, limit: int) -> None:
        with self._lock:
            self._limits[owner] = limit
            self._tell(("limit", owner, limit))

    def release(self, owner: int) -> None:
        with self._lock:
            if self._limits.pop(owner, None) is not None and self._link is not None:
                self._tell(("release", owner))

    def submit(self, invocations: Sequence[Invocation], listener: InvocationListener,
               profile: Profile, owner: int, *, flush_interval: float | None = None) -> None:
        with self._lock:
            link = self._connected()  # first: a server that cannot start leaves no books
            lid = self._lids.get(id(listener))
            if lid is None or self._listeners.get(lid) is not listener:
                lid = next(self._next_id)
                self._lids[id(listener)] = lid
                self._listeners[lid] = listener
            for invocation in invocations:
                task = invocation.task
                books = self._outstanding.get((lid, task.job_key))
                if books is None:
                    books = self._outstanding[(lid, task.job_key)] = _Unheard()
                books.sent(task.call_indices)
            try:
                if profile[0] not in self._profiles:
                    link.send(("profile", *profile))
                    self._profiles.add(profile[0])
                link.send(("tasks", owner, lid, profile[0],
                           [i.to_dict(binary=True) for i in invocations], flush_interval,
                           reads_stored_statuses(listener)))
            except OSError:
                pass  # the reader reports the outstanding calls once the link is closed

    def cancel(self, owner: int, reason: str, kind: str = "timeout") -> None:
        with self._lock:
            self._tell(("cancel", owner, reason, kind))

    def worker_pids(self) -> list[int]:
        with self._lock:
            query = next(self._next_id)
            self._connected().send(("pids", query))
            if not self._answered.wait_for(lambda: query in self._answers, _ANSWER_TIMEOUT):
                raise TimeoutError("the wren pool server did not answer")
            return list(self._answers.pop(query))

    def connect_soon(self) -> None:
        """Reach the server now if one runs (about a millisecond), or start one on a
        background thread, so it is ready by the first submission; a failure is left for
        that submission to report. (Reaching a running server in the background would cost
        the first job more: each of that thread's waits gives the interpreter lock back to a
        busy main thread for up to its switch interval, 5 ms.)"""
        with self._lock:
            if self._link is not None:
                return
            try:
                found = running_link(self.idle_timeout)
            except Exception as exc:
                logger.debug("reaching the wren pool server failed: %s", exc)
                found = None
            if found is not None:
                self._joined(*found)
                return
        threading.Thread(target=self._connect_quietly, daemon=True,
                         name="wren-pool-connect").start()

    def introduce(self, profile: Profile) -> None:
        """Send the storage `profile` of a compute backend's tasks now if the server is
        reached already (its executor is being created), so the first job's submission
        carries its tasks only; otherwise the first submission sends it."""
        with self._lock:
            if self._link is None or profile[0] in self._profiles:
                return
            try:
                self._link.send(("profile", *profile))
            except OSError:
                return  # the reader reports the link's loss; the next submission reconnects
            self._profiles.add(profile[0])

    def _connect_quietly(self) -> None:
        try:
            with self._lock:
                self._connected()
        except Exception as exc:
            logger.debug("reaching the wren pool server ahead of the first job failed: %s",
                         exc)

    def shutdown(self) -> None:
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()

    # Internals ----------------------------------------------------------------------------
    def _tell(self, message: tuple[Any, ...]) -> None:
        """Send a setting if connected (under the lock); a new link sends them all."""
        if self._link is not None:
            try:
                self._link.send(message)
            except OSError:
                pass

    def _connected(self) -> Link:
        """The link, opened (starting a server if need be) when there is none (under the
        lock)."""
        if self._link is None:
            self._joined(*open_link(self.idle_timeout, self._size or 1))
        assert self._link is not None
        return self._link

    def _joined(self, link: Link, server_pid: int) -> None:
        """Take `link` to a server as this client's (under the lock): send it the settings
        and start reading it."""
        self.server_pid = server_pid
        self._link, self._profiles = link, set()
        self.servers_joined += 1
        if self._size:
            link.send(("size", self._size))
        for owner, limit in self._limits.items():
            link.send(("limit", owner, limit))
        threading.Thread(target=self._read, args=(link,), daemon=True,
                         name="wren-pool-client").start()

    def _read(self, link: Link) -> None:
        while True:
            try:
                message = link.receive()
            except (EOFError, OSError):
                break
            try:
                self._handle(message)
            except Exception:  # a listener's failure must not stop the relay
                logger.exception("wren: could not handle a message from the pool server")
        self._lost(link)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "answer":
            with self._lock:
                self._answers[message[1]] = message[2]
                self._answered.notify_all()
            return
        lid, job_key, indices = message[1], message[2], message[3]
        listener = self._settle(lid, job_key, indices)
        if listener is None:
            return
        if kind == "status":
            listener.status_pushed(message[4])
        elif kind == "stored":
            listener.status_stored(message[4], job_key, indices)
        elif kind == "lost":
            listener.calls_lost(job_key, indices, message[4], message[5])

    def _settle(self, lid: int, job_key: str, indices: Sequence[int]) -> Any:
        """Mark calls as reported; the listener to tell (dropped once nothing of it is in
        flight, so a long-lived client does not keep every job alive)."""
        with self._lock:
            listener = self._listeners.get(lid)
            waiting = self._outstanding.get((lid, job_key))
            if waiting is not None and waiting.heard(indices):
                del self._outstanding[(lid, job_key)]
                if not any(key[0] == lid for key in self._outstanding):
                    self._forget(lid)
            return listener

    def _forget(self, lid: int) -> None:
        listener = self._listeners.pop(lid, None)
        if listener is not None and self._lids.get(id(listener)) == lid:
            del self._lids[id(listener)]

    def _lost(self, link: Link) -> None:
        with self._lock:
            if self._link is not link:
                return
            self._link = None
            lost, self._outstanding = self._outstanding, {}
            listeners = dict(self._listeners)
            self._listeners.clear()
            self._lids.clear()
        link.close()
        reason = (f"the wren pool server (pid {self.server_pid}) running it stopped (it was "
                  "killed or crashed); the next job starts a new one")
        for (lid, job_key), books in lost.items():
            listener = listeners.get(lid)
            indices = books.unheard()
            if listener is not None and indices:
                listener.calls_lost(job_key, indices, reason, "lost")


_shared: RemotePool | None = None
_shared_lock = threading.Lock()


def shared_pool(idle_timeout: float) -> RemotePool:
    """The process-wide client of this user's pool server (which starts on first use and
    stops `idle_timeout` seconds after its last client left)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RemotePool(idle_timeout)
            atexit.register(_shared.shutdown)
        return _shared


def _forget_after_fork() -> None:
    global _shared, _shared_lock
    _shared, _shared_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

"""`ContainerPool`: the localhost worker pool, run inside a runtime container.

One container per image and set of mounts per client process, shared by every executor in
it that asks for that runtime, started when the first of them is created so that a missing
engine, a missing image or a runtime that cannot start is an error before anything runs.
Inside, the agent (`wren_backend_local.agent`) runs the same `WorkerPool` as the host does,
so crashed, killed and timed-out calls are caught and named by the same code and come back as
`calls_lost`. This side remembers the calls it sent and has not heard of yet: if the
container itself dies (killed, out of memory, agent crash), those calls end as errors naming
the container's exit, and a new container serves what comes next. The container is stopped
`IDLE_SECONDS` after the last executor using it closes, and at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from wren.containers import ContainerEngineError, discard, docker_client
from wren.ports.compute import InvocationListener
from wren.protocol.invocation import Invocation
from wren.protocol.status import StatusDocument

from wren_backend_local.agent_channel import ADDRESS_ENV, KEY_ENV, AgentListener, Channel
from wren_backend_local.docker_engine import (
    container_exit,
    describe_container_exit,
    find_image,
    remove_leftovers,
    start_agent,
)

logger = logging.getLogger("wren")

START_TIMEOUT = 60.0
IDLE_SECONDS = 30.0
Profile = tuple[str, str, dict[str, Any]]


class ContainerPool:
    """A runtime container, its agent's channel, and the calls in flight in it."""

    def __init__(self, image: str, mounts: Sequence[str]) -> None:
        self.client = docker_client()
        self.image, self.mounts = image, tuple(mounts)
        find_image(self.client, image)
        remove_leftovers(self.client)
        self._lock = threading.Lock()
        self._limits: dict[int, int] = {}
        self._listeners: dict[int, InvocationListener] = {}
        self._size = 0
        self._sent_profiles: set[str] = set()
        self._outstanding: dict[tuple[int, str], set[int]] = {}
        self._pending: list[tuple[int, Profile, list[Invocation]]] = []
        self._channel: Channel | None = None
        self._container: Any = None
        self._starting = False
        self._closed = False
        self._idle: threading.Timer | None = None
        self.facts: dict[str, Any] = {}
        self.containers_started = 0
        self._connect()

    # Starting -----------------------------------------------------------------------------
    def _connect(self) -> None:
        """Start a container and wait until its agent has connected and said hello."""
        listener = AgentListener()
        try:
            env = {ADDRESS_ENV: listener.address, KEY_ENV: listener.key.hex()}
            container = start_agent(self.client, self.image, env, self.mounts)
            try:
                channel = self._await_agent(listener, container)
                facts = channel.receive(timeout=START_TIMEOUT)[1]
            except BaseException:
                discard(container)
                raise
        finally:
            listener.close()
        with self._lock:
            self._container, self._channel, self.facts = container, channel, facts
            self._sent_profiles = set()
            self._starting = False
            self.containers_started += 1
            channel.send(("size", self._size))
            for owner, limit in self._limits.items():
                channel.send(("limit", owner, limit))
            for owner, profile, invocations in self._pending:
                self._send(channel, owner, profile, invocations)
            self._pending = []
        threading.Thread(target=self._read, args=(channel, container), daemon=True,
                         name="wren-container-reader").start()

    def _await_agent(self, listener: AgentListener, container: Any) -> Channel:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            channel = listener.accept(0.25)
            if channel is not None:
                return channel
            container.reload()
            if container.status in ("exited", "dead"):
                code, oom, tail = container_exit(container)
                raise ContainerEngineError(
                    f"the runtime container from image {self.image!r} "
                    f"{describe_container_exit(code, oom)} before its agent connected"
                    f"{': ' + tail if tail else ''}. A runtime image needs python3 with "
                    "wren-core and wren-backend-local installed; build one with: wren runtime "
                    "build <user>/<name>:<tag> -b localhost")
        raise ContainerEngineError(f"the agent in the runtime container from image "
                                   f"{self.image!r} did not connect within {START_TIMEOUT:g} s")

    def _restart(self) -> None:
        try:
            self._connect()
        except Exception as exc:
            with self._lock:
                self._starting = False
            self._fail_pending(f"the runtime container could not be started again: {exc}")

    def _fail_pending(self, reason: str) -> None:
        """End the calls of tasks no container will run, with `reason`."""
        with self._lock:
            failed, self._pending = self._pending, []
        for owner, _, invocations in failed:
            listener = self._listeners.get(owner)
            for task in (invocation.task for invocation in invocations):
                self._settle(owner, task.job_key, task.call_indices)
                if listener is not None:
                    listener.calls_lost(task.job_key, list(task.call_indices), reason, "system")

    # Pool API (the same as the host's WorkerPool) -----------------------------------------
    def ensure_size(self, size: int) -> None:
        with self._lock:
            if size > self._size:
                self._size = size
                self._tell(("size", size))

    def set_limit(self, owner: int, limit: int) -> None:
        with self._lock:
            self._limits[owner] = limit
            if self._idle is not None:
                self._idle.cancel()
                self._idle = None
            self._tell(("limit", owner, limit))

    def submit(self, invocations: list[Invocation], listener: InvocationListener,
               profile: Profile, owner: int) -> None:
        with self._lock:
            self._listeners[owner] = listener
            for invocation in invocations:
                task = invocation.task
                self._outstanding.setdefault((owner, task.job_key), set()).update(
                    task.call_indices)
            if self._channel is not None:
                self._send(self._channel, owner, profile, invocations)
                return
            self._pending.append((owner, profile, invocations))
            start = not (self._starting or self._closed)
            self._starting = self._starting or start
            closed = self._closed
        if closed:
            self._fail_pending("the runtime container was stopped: this client is exiting")
        elif start:
            threading.Thread(target=self._restart, daemon=True,
                             name="wren-container-start").start()

    def release(self, owner: int) -> None:
        """The executor `owner` is closed; stop the container once no executor uses it."""
        with self._lock:
            self._limits.pop(owner, None)
            self._forget_if_done(owner)
            if self._limits or self._closed:
                return
            self._idle = threading.Timer(IDLE_SECONDS, _close_if_idle, (self,))
            self._idle.daemon = True
            self._idle.start()

    @property
    def idle(self) -> bool:
        return not self._limits

    def container_id(self) -> str | None:
        container = self._container
        return container.id if container is not None else None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            channel, container = self._channel, self._container
        if channel is not None:
            with contextlib.suppress(OSError):
                channel.send(("stop",))
        if container is not None:
            with contextlib.suppress(Exception):  # not stopped in time: removed by force
                container.wait(timeout=10)
            discard(container)
        if channel is not None:
            channel.close()

    # Internals ----------------------------------------------------------------------------
    def _tell(self, message: tuple[Any, ...]) -> None:
        """Send a setting to the agent, if one is connected (under the lock)."""
        if self._channel is not None:
            with contextlib.suppress(OSError):  # the reader reports the agent's end
                self._channel.send(message)

    def _send(self, channel: Channel, owner: int, profile: Profile,
              invocations: list[Invocation]) -> None:
        """Send under the lock; a broken channel is left to the reader, which reports the
        outstanding calls once the container's exit is known."""
        try:
            if profile[0] not in self._sent_profiles:
                channel.send(("profile", *profile))
                self._sent_profiles.add(profile[0])
            channel.send(("tasks", owner, profile[0],
                          [i.to_dict(binary=True) for i in invocations]))
        except OSError:
            pass

    def _settle(self, owner: int, job_key: str, indices: Sequence[int]) -> None:
        with self._lock:
            waiting = self._outstanding.get((owner, job_key))
            if waiting is not None:
                waiting.difference_update(indices)
                if not waiting:
                    del self._outstanding[(owner, job_key)]
                    self._forget_if_done(owner)

    def _forget_if_done(self, owner: int) -> None:
        """Drop a closed executor's listener once none of its calls is in flight (under the
        lock), so a long-lived process does not keep every executor's jobs alive."""
        if owner not in self._limits and not any(key[0] == owner for key in self._outstanding):
            self._listeners.pop(owner, None)

    def _read(self, channel: Channel, container: Any) -> None:
        while True:
            try:
                message = channel.receive()
            except (EOFError, OSError):
                break
            try:
                self._handle(message)
            except Exception:  # a listener's failure must not stop the relay
                logger.exception("wren: could not handle a message from the runtime agent")
        self._agent_gone(channel, container)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind, owner = message[0], message[1]
        listener = self._listeners.get(owner)
        if kind == "status":
            document = StatusDocument.peek(message[2])  # the listener checks the seal
            self._settle(owner, document.job_key, document.indices)
            if listener is not None:
                listener.status_pushed(message[2])
        elif kind == "lost":
            _, _, job_key, indices, reason, lost_kind = message
            self._settle(owner, job_key, indices)
            if listener is not None:
                listener.calls_lost(job_key, indices, reason, lost_kind)

    def _agent_gone(self, channel: Channel, container: Any) -> None:
        with self._lock:
            if self._channel is not channel:
                return
            self._channel, self._container = None, None
            lost, self._outstanding = self._outstanding, {}
            closing = self._closed
            restart = not closing and (bool(self._limits) or bool(self._pending))
            self._starting = restart
        channel.close()
        if closing:
            return
        code, oom, tail = container_exit(container)
        discard(container)
        reason = (f"the runtime container {container.short_id} (image {self.image}) "
                  f"{describe_container_exit(code, oom)}")
        logger.warning("%s%s", reason, f"; its last output: {tail}" if tail else "")
        for (owner, job_key), indices in lost.items():
            listener = self._listeners.get(owner)
            if listener is not None and indices:
                listener.calls_lost(job_key, sorted(indices), reason, "lost")
        with self._lock:
            for owner in list(self._listeners):
                self._forget_if_done(owner)
        if restart:
            self._restart()


_pools: dict[tuple[str, str, tuple[str, ...]], ContainerPool] = {}
_pools_lock = threading.Lock()


def _close_if_idle(pool: ContainerPool) -> None:
    with _pools_lock:
        if not pool.idle:
            return
        for key, found in list(_pools.items()):
            if found is pool:
                del _pools[key]
    pool.close()


def container_pool(image: str, mounts: Sequence[str], owner: int, limit: int) -> ContainerPool:
    """The process-wide pool for `image` with `mounts` (started on first use), with `owner`
    registered to use at most `limit` workers of it."""
    key = (os.environ.get("DOCKER_HOST", ""), image, tuple(sorted(set(mounts))))
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None or pool._closed:
            pool = ContainerPool(image, key[2])
            _pools[key] = pool
        pool.set_limit(owner, limit)  # under the lock, so an idle close cannot intervene
        return pool


@atexit.register
def close_all() -> None:
    """Stop every runtime container this process started."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _forget_after_fork() -> None:
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

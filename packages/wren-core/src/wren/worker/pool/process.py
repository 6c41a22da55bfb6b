"""`WorkerProcess`: the pool's handle on one worker process and the task it is running.

The process is a fresh interpreter started with `python -c` (never a fork of the client, so
threads and locks of the client cannot leak into it) with two private pipes. Its exit is
watched through a pidfd where Linux offers one, so a death is noticed at once.
"""

from __future__ import annotations

import collections
import os
import pickle
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import attrs

from wren.ports.compute import InvocationListener, reads_stored_statuses
from wren.protocol.task import Task
from wren.worker.pool.profile import Profile
from wren.worker.pool.slots import IDLE

_BOOT = "from wren.worker.pool.worker_main import main; main()"
#: Function keys a worker is assumed to hold (the worker caches 32: `wren.worker.runner`).
_FUNCTIONS_REMEMBERED = 32
#: Inline arguments up to this size travel inside their task's message (one write, one
#: wake-up of the worker); bigger ones follow it as a raw message, never copied.
_INLINE_IN_MESSAGE = 64 * 1024

@attrs.define
class Assignment:
    """A task waiting for, or running on, a worker."""

    task: Task
    listener: InvocationListener
    profile: Profile
    owner: int
    #: The executor's key, sent with the task over the worker's private pipe.
    key: bytes = attrs.field(repr=False)
    flushed: int = 0
    #: Overrides the task's flush interval (`math.inf`: one status document per task).
    flush_interval: float | None = None
    #: When it started running (monotonic clock; None while queued or sent ahead).
    started: float | None = None
    #: Its worker was asked to give back the calls it had not started.
    asked_back: bool = False
    #: Its worker marks every call (no group marks): it runs again the calls of a worker
    #: that died while one of a group of them ran, to learn which one it was.
    one_by_one: bool = False
    #: Cut without a measure of its function's calls (`pacing`): asked back as soon as one
    #: of them runs long, or a worker idles.
    probing: bool = False

    def with_task(self, task: Task, one_by_one: bool | None = None) -> Assignment:
        """A new assignment of `task` (some of this one's calls) for the same listener,
        profile, owner, key and flush interval, not started yet; marked as this one is
        unless `one_by_one` says."""
        return Assignment(task, self.listener, self.profile, self.owner, self.key,
                          flush_interval=self.flush_interval,
                          one_by_one=self.one_by_one if one_by_one is None else one_by_one)


class WorkerProcess:
    """One worker: its process, pipes, slot row, and current assignment."""

    def __init__(self, row: int, slot_path: str) -> None:
        self.row = row
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ, WREN_WORKER="1")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(to_child_r), str(from_child_w), slot_path,
                 str(row)], pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                env=env, close_fds=True)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.inbox = Connection(from_child_r, writable=False)
        self.outbox = Connection(to_child_w, readable=False)
        self.pidfd: int | None = None
        if hasattr(os, "pidfd_open"):
            try:
                self.pidfd = os.pidfd_open(self.proc.pid)
            except OSError:
                self.pidfd = None
        self.ready = False
        self.assignment: Assignment | None = None
        #: Small tasks sent ahead, read by the worker once the current one is done.
        self.prefetched: collections.deque[Assignment] = collections.deque()
        self.profiles: set[str] = set()
        #: Functions this worker loaded lately (a hint: its own cache may have dropped some).
        self.functions: set[str] = set()
        self.kill_reason: str | None = None
        self.kill_kind = "lost"
        #: Killed by `WorkerPool.cancel`: its calls are lost, not run again.
        self.cancelled = False
        #: The mark (`slots.marked_call`) the supervisor last saw, in which task, and since when.
        self.seen_mark = IDLE
        self.seen_in: Assignment | None = None
        self.seen_since = 0.0
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, message: tuple[Any, ...]) -> None:
        self.outbox.send_bytes(pickle.dumps(message, protocol=5))

    def receive(self) -> tuple[Any, ...]:
        return pickle.loads(self.inbox.recv_bytes())

    def warmth(self, assignment: Assignment) -> int:
        """How much of `assignment` this worker has loaded already: its function (2) and
        its storage profile (1). A warm worker starts the task sooner."""
        return 2 * (assignment.task.func_key in self.functions) + \
            (assignment.profile[0] in self.profiles)

    def assign(self, assignment: Assignment, ahead: bool = False) -> None:
        """Send a task; `ahead` queues it behind the current one instead of starting it."""
        profile_id, backend, config = assignment.profile
        if profile_id not in self.profiles:
            self.send(("profile", profile_id, backend, config))
            self.profiles.add(profile_id)
        if len(self.functions) >= _FUNCTIONS_REMEMBERED:
            self.functions.clear()
        self.functions.add(assignment.task.func_key)
        if ahead:
            self.prefetched.append(assignment)
        else:
            self.assignment = assignment
        task = assignment.task.to_dict(binary=True)
        inline = task.get("inline_data")
        apart = inline is not None and len(inline) > _INLINE_IN_MESSAGE
        if apart:
            del task["inline_data"]
        self.send(("task", profile_id, task, apart, assignment.flush_interval,
                   assignment.key, reads_stored_statuses(assignment.listener),
                   assignment.one_by_one))
        if inline is not None and apart:  # sent as is, not copied into the message's pickle
            self.outbox.send_bytes(inline)

    def advance(self) -> None:
        """The current task is over: the next prefetched one (if any) is now running."""
        self.assignment = self.prefetched.popleft() if self.prefetched else None

    def kill(self, reason: str, kind: str) -> None:
        if self.kill_reason is None:
            self.kill_reason, self.kill_kind = reason, kind
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass

    def reap(self, timeout: float = 5.0) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def close(self) -> None:
        for conn in (self.inbox, self.outbox):
            try:
                conn.close()
            except OSError:
                pass
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

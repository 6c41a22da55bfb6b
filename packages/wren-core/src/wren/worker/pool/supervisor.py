"""`WorkerPool`: a warm, supervised pool of worker processes, the one every platform's
runtime (and a client running calls on its own machine) runs tasks in.

Started once per process and shared by every user of it, the pool keeps worker
processes alive between calls, maps and executors, so no call pays for an interpreter start
or an import. One dispatcher thread hands queued tasks to idle workers (each executor may
use at most its limit at once); a pool started with `slicing` (the client's own) hands out a
task a slice at a time, sized from its function's measured call time (`pacing`), so workers
pull calls from one shared queue and none idles while another holds calls it has not
started; when a slice runs well past what its function's measure promised while a worker
its executor may use idles with nothing queued (calls that turned slow), or a slice cut
before its function was measured turns out to hold a long call, the pool asks its worker
for the calls it has not started (`SlotTable.ask_back`) and queues them again. The
dispatcher relays pushed statuses, enforces timeouts from
the slot table, and turns a worker's death into an error on the call it was running: the
calls of that task it had not yet reported are queued again, and a new worker takes its
place.

Its runtime directory (`<tmp>/wren-pool-*`, 0700 from `mkdtemp`, holding the slot table) is
removed when the pool shuts down, which `get_pool` arranges for interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import itertools
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from wren.ports.compute import InvocationListener
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.worker.pool.exits import describe_exit
from wren.worker.pool.pacing import SLICE_MAX_BYTES, Pacer
from wren.worker.pool.process import Assignment, Profile, WorkerProcess
from wren.worker.pool.slots import IDLE, SlotTable, marked_call

logger = logging.getLogger("wren")

SUPERVISE_INTERVAL = 0.1
#: A slice runs at least this long, and twice what its function's measure promised, before
#: its worker is asked for its calls not started (see above).
ASK_BACK_AFTER = 0.05
#: Largest inline task data sent to a busy worker ahead of time.
PREFETCH_BYTES = 32 * 1024
MAX_ATTEMPTS = 3


def _warmest(idle: list[WorkerProcess], item: Assignment) -> WorkerProcess:
    """Take from `idle` the worker that already loaded most of what `item` needs (the
    last one of equals, as a stack: the most recently idle worker is the warmest)."""
    return idle.pop(max(reversed(range(len(idle))), key=lambda p: idle[p].warmth(item)))


def kill_grace(timeout: float) -> float:
    """Extra time a call gets past its timeout before its worker is killed from outside."""
    return 0.5 + 0.05 * timeout


def _runs_unreported(worker: WorkerProcess, owner: int) -> bool:
    """Whether `worker` runs, or was sent ahead, a task of `owner` with calls that did not
    report yet."""
    current = worker.assignment
    if current is not None and current.owner == owner and \
            current.flushed < len(current.task.call_indices):
        return True
    return any(item.owner == owner for item in worker.prefetched)


class WorkerPool:
    """Warm worker processes and the queue of tasks they serve."""

    def __init__(self, *, slicing: bool = False) -> None:
        """`slicing`: hand tasks out a slice at a time (`wren.worker.pool.pacing`). A runtime
        whose task is a platform invocation leaves it off: there each status document is a
        storage request, and its own platform spreads the invocations."""
        self._lock = threading.Lock()
        self._slicing = slicing
        self.pacer = Pacer()
        self._queue: collections.deque[Assignment] = collections.deque()
        self._workers: list[WorkerProcess] = []
        self._limits: dict[int, int] = {}
        self._size = 0
        self._rows = itertools.count()
        self._dir = tempfile.mkdtemp(prefix="wren-pool-")
        self._slots = SlotTable(os.path.join(self._dir, "slots"), 64, create=True)
        wake_r, wake_w = os.pipe()
        self._wake_r = Connection(wake_r, writable=False)
        self._wake_w = Connection(wake_w, readable=False)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="wren-worker-pool", daemon=True)
        self._thread.start()

    # API ----------------------------------------------------------------------------------
    def ensure_size(self, size: int) -> None:
        """Grow the pool to at least `size` workers (it never shrinks while in use)."""
        with self._lock:
            while self._size < size:
                self._size += 1
                self._start_worker()

    @property
    def size(self) -> int:
        return self._size

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._workers]

    def set_limit(self, owner: int, limit: int) -> None:
        with self._lock:
            self._limits[owner] = limit

    def release(self, owner: int) -> None:
        """The executor `owner` is closed; its queued tasks still run (without a limit)."""
        with self._lock:
            self._limits.pop(owner, None)

    def submit(self, invocations: Sequence[Invocation], listener: InvocationListener,
               profile: Profile, owner: int, *, flush_interval: float | None = None) -> None:
        """Queue the invocations for `owner`; their statuses and lost calls go to `listener`, and
        `flush_interval` overrides the tasks' own (`math.inf`: one document per task)."""
        with self._lock:
            self._queue.extend(Assignment(i.task, listener, profile, owner, i.key,
                                          flush_interval=flush_interval) for i in invocations)
        # Hand tasks to idle workers from the caller's thread: the dispatcher thread would
        # first have to win the interpreter lock back from a client that is still busy.
        self._assign()
        self._wake()

    def cancel(self, owner: int, reason: str, kind: str = "timeout") -> None:
        """Stop `owner`'s tasks: its queued ones are dropped and the workers running them
        killed; every call of them that did not report is lost with `reason` (no retry). A
        worker whose task of `owner` has reported every call is only finishing it (its
        `done` is on the way): it is left to serve the next task, warm."""
        with self._lock:
            dropped = [item for item in self._queue if item.owner == owner]
            self._queue = collections.deque(i for i in self._queue if i.owner != owner)
            running = [w for w in self._workers if _runs_unreported(w, owner)]
        for item in dropped:
            item.listener.calls_lost(item.task.job_key, item.task.call_indices[item.flushed:],
                                     reason, kind)
        for worker in running:
            worker.cancelled = True
            worker.kill(reason, kind)
        self._wake()

    def shutdown(self) -> None:
        self._stopping = True
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            try:
                worker.send(("stop",))
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        for worker in workers:
            try:
                worker.proc.wait(max(0.0, deadline - time.monotonic()))
            except Exception:
                worker.proc.kill()
        self._wake()
        # The slot table stays mapped for the dispatcher thread; only its name goes.
        shutil.rmtree(self._dir, ignore_errors=True)

    # Internals ----------------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except OSError:
            pass

    def _start_worker(self) -> None:
        row = next(self._rows)
        self._slots.grow(row + 1)
        self._slots.reset(row)
        self._workers.append(WorkerProcess(row, self._slots.path))

    def _assign(self) -> None:
        with self._lock:
            idle = [w for w in self._workers if w.ready and w.assignment is None]
            if not idle or not self._queue:
                return
            busy: collections.Counter[int] = collections.Counter(
                w.assignment.owner for w in self._workers if w.assignment is not None)
            waiting: list[Assignment] = []
            while idle and self._queue:
                item = self._queue.popleft()
                limit = self._limits.get(item.owner, self._size)
                if busy[item.owner] >= limit:
                    waiting.append(item)
                    continue
                worker = _warmest(idle, item)
                # a share for this worker and each other one the owner may still use
                item = self._cut(item, sharers=max(1, min(limit, self._size) - busy[item.owner]))
                busy[item.owner] += 1
                item.started = time.monotonic()
                try:
                    worker.assign(item)
                except OSError:  # died meanwhile; its exit handler requeues the task
                    worker.assignment = item
            self._queue.extendleft(reversed(waiting))
            self._prefetch()

    def _prefetch(self) -> None:
        """Send each busy worker its owner's next small task, so it starts without waiting
        for this thread (caller holds the lock). Big tasks are not sent ahead: a full pipe
        would block the sender until the worker finished its current task."""
        if not self._queue:
            return
        for worker in self._workers:
            current = worker.assignment
            if current is None or worker.prefetched or worker.kill_reason is not None:
                continue
            item = next((q for q in self._queue if q.owner == current.owner), None)
            if item is None or len(item.task.inline_data or b"") > PREFETCH_BYTES:
                continue
            if self._slicing and not self.pacer.prefetch(item.task.func_key):
                continue  # its calls may be long: leave them to whichever worker is idle
            place = self._queue.index(item)
            del self._queue[place]
            item = self._cut(item, place)
            try:
                worker.assign(item, ahead=True)
            except OSError:
                worker.prefetched.append(item)

    def _cut(self, item: Assignment, place: int = 0, sharers: int = 1) -> Assignment:
        """The slice of `item` to hand out now, to one of `sharers` workers that may share
        its calls; the rest goes back in the queue at `place`, where `item` was (the caller
        holds the lock and took `item` out)."""
        task = item.task
        if not self._cuttable(task):
            return item
        size = self.pacer.slice_size(task.func_key, len(task.call_indices), sharers)
        if size < len(task.call_indices):
            head, rest = task.split(size)
            self._queue.insert(place, item.with_task(rest))
            item = item.with_task(head)
        item.probing = self.pacer.per_call(task.func_key) is None
        return item

    def _cuttable(self, task: Task) -> bool:
        """Whether this pool hands `task` out in slices (and so may ask part of it back)."""
        return self._slicing and not task.options.keep_together and \
            task.inline_data is not None and len(task.inline_data) <= SLICE_MAX_BYTES

    def _run(self) -> None:
        while not self._stopping:
            try:
                self._step()
            except Exception:  # the pool must outlive any one failure
                logger.exception("the worker pool hit an internal error")
                time.sleep(SUPERVISE_INTERVAL)

    def _step(self) -> None:
        self._assign()
        with self._lock:
            workers = list(self._workers)
        watched: list[Any] = [self._wake_r]
        for worker in workers:
            watched.append(worker.inbox)
            if worker.pidfd is not None:
                watched.append(worker.pidfd)
        busy = any(w.assignment is not None for w in workers)
        ready = wait(watched, SUPERVISE_INTERVAL if busy or not workers else 1.0)
        for obj in ready:
            if obj is self._wake_r:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
                continue
            owner = next((w for w in workers if obj is w.inbox or obj == w.pidfd), None)
            if owner is None or owner not in self._workers:
                continue
            if obj is owner.inbox:
                self._receive(owner)
            else:
                self._on_exit(owner)
        self._supervise(workers)

    def _receive(self, worker: WorkerProcess) -> None:
        try:
            while worker.inbox.poll():
                message = worker.receive()
                self._handle(worker, message)
        except (EOFError, OSError):
            self._on_exit(worker)

    def _handle(self, worker: WorkerProcess, message: tuple[Any, ...]) -> None:
        kind = message[0]
        item = worker.assignment
        if kind == "ready":
            worker.ready = True
        elif kind in ("status", "stored") and item is not None:
            # the calls it covers: those run since the last flush (a task runs in order)
            covered = item.task.call_indices[item.flushed:message[2]]
            item.flushed = message[2]
            if kind == "stored":  # named, not sent: only to a listener that reads them
                item.listener.status_stored(  # type: ignore[attr-defined]
                    message[3], item.task.job_key, covered)
                return
            covering = getattr(item.listener, "status_pushed_covering", None)
            if covering is not None:
                covering(message[3], item.task.job_key, covered)
            else:
                item.listener.status_pushed(message[3])
        elif kind == "done":
            if item is not None and item.started is not None:
                # the worker's own time in the calls when it says (the pipe's and this
                # thread's delays are not the calls'), else the time since it started
                spent = message[2] if len(message) > 2 else time.monotonic() - item.started
                self.pacer.record(item.task.func_key, item.flushed, spent)
            self._advance(worker)
            if item is not None and item.flushed < len(item.task.call_indices):
                self._requeue_rest(item)  # it gave back the calls it had not started
        elif kind == "failed" and item is not None:
            self._advance(worker)
            rest = item.task.call_indices[item.flushed:]
            item.listener.calls_lost(item.task.job_key, rest,
                                     f"the worker could not run the task: {message[2]}",
                                     "system")

    def _requeue_rest(self, item: Assignment) -> None:
        """Queue the calls of `item` its worker did not report, first: as a slice named by
        its first call (the task's own id has their parts already)."""
        rest = item.task.split(item.flushed)[1]
        rest = rest.with_changes(task_id=f"{item.task.task_id}.s{rest.call_indices[0]}")
        with self._lock:
            self._queue.appendleft(item.with_task(rest))
        self._wake()

    def _ask_back(self, workers: list[WorkerProcess], now: float) -> None:
        """Ask a worker for the calls of its slice it has not started: when the slice runs
        past `ASK_BACK_AFTER` and twice its measured time while a worker its owner may use
        idles and nothing of that owner is queued; and, for a probing slice (cut with no
        measure, `pacing`), as soon as one of its calls has run `ASK_BACK_AFTER` (as the
        marks read at the last supervision show) or a worker idles: its calls are long, or
        shared out unevenly."""
        if not self._slicing:
            return
        idle = any(w.ready and w.assignment is None for w in workers)
        with self._lock:
            queued = {item.owner for item in self._queue}
            busy = collections.Counter(w.assignment.owner for w in workers
                                       if w.assignment is not None)
            limits = dict(self._limits)
        for worker in workers:
            item = worker.assignment
            if item is None or item.asked_back or item.started is None or \
                    worker.kill_reason is not None or \
                    len(item.task.call_indices) - item.flushed < 2 or \
                    not self._cuttable(item.task):
                continue
            long_call = item.probing and worker.seen_in is item and \
                worker.seen_mark != IDLE and now - worker.seen_since >= ASK_BACK_AFTER
            wanted = idle and item.owner not in queued and \
                busy[item.owner] < limits.get(item.owner, self._size) and \
                now - item.started >= self._expected_within(item)
            if long_call or wanted:
                item.asked_back = True
                self._slots.ask_back(worker.row)

    def _expected_within(self, item: Assignment) -> float:
        """How long the slice of `item` may run before an idle worker wants its calls not
        started: `ASK_BACK_AFTER`, and twice its measured time unless it is probing (cut
        with no measure: its size promised nothing)."""
        if item.probing:
            return ASK_BACK_AFTER
        per_call = self.pacer.per_call(item.task.func_key) or 0.0
        return max(ASK_BACK_AFTER, 2 * per_call * len(item.task.call_indices))

    @staticmethod
    def _advance(worker: WorkerProcess) -> None:
        worker.advance()
        if worker.assignment is not None:  # a prefetched task starts now
            worker.assignment.started = time.monotonic()

    def _supervise(self, workers: list[WorkerProcess]) -> None:
        now = time.monotonic()
        self._ask_back(workers, now)
        for worker in workers:
            item = worker.assignment
            if item is None or worker.kill_reason is not None:
                continue
            mark = self._slots.read(worker.row)
            if mark != worker.seen_mark or item is not worker.seen_in:
                worker.seen_mark, worker.seen_in, worker.seen_since = mark, item, now
                continue
            timeout = item.task.timeout
            if mark != IDLE and timeout and now - worker.seen_since > timeout + \
                    kill_grace(timeout):
                index, exact = marked_call(mark)
                worker.kill(f"call {index}{'' if exact else ' or one after it'} exceeded its "
                            f"{timeout:g} s timeout and did not stop, so its worker process "
                            "was killed", "timeout")
            elif worker.pidfd is None and worker.proc.poll() is not None:
                self._on_exit(worker)

    def _on_exit(self, worker: WorkerProcess) -> None:
        with self._lock:
            if worker not in self._workers:
                return
            self._workers.remove(worker)
        # Statuses the worker managed to send before dying still count.
        try:
            while worker.inbox.poll():
                self._handle(worker, worker.receive())
        except (EOFError, OSError):
            pass
        code = worker.reap()
        mark = self._slots.read(worker.row)
        worker.close()
        item = worker.assignment
        if worker.prefetched and worker.cancelled:
            for ahead in worker.prefetched:
                ahead.listener.calls_lost(ahead.task.job_key, ahead.task.call_indices,
                                          worker.kill_reason or "cancelled", worker.kill_kind)
            worker.prefetched.clear()
        if worker.prefetched:  # never started: run them elsewhere, unchanged
            with self._lock:
                self._queue.extendleft(reversed(worker.prefetched))
            worker.prefetched.clear()
        if item is not None:
            self._recover(item, mark, worker, code)
        elif not self._stopping and not worker.ready:
            logger.error("a worker process %s while starting; see its output above",
                         describe_exit(code))
        if not self._stopping:
            with self._lock:
                if len(self._workers) < self._size:
                    self._start_worker()
        self._wake()

    def _recover(self, item: Assignment, mark: int, worker: WorkerProcess,
                 code: int | None) -> None:
        """Report the call a dead worker was running as lost, and queue the calls of its
        task that never reported again. When it died inside a group of short calls (a
        group mark: that call or one after it), no call is blamed: they all run again
        one by one, without counting as an attempt, so a call that kills its worker again
        is then named exactly."""
        task = item.task
        unreported = list(task.call_indices[item.flushed:])
        index, exact = marked_call(mark)
        reason = worker.kill_reason or (
            f"the worker process running call {index} {describe_exit(code)}" if index >= 0
            else f"the worker process {describe_exit(code)} between calls")
        if not exact and not worker.cancelled and index in unreported:
            logger.debug("running %d calls of %s/%s again one by one after: %s",
                         len(unreported), task.job_key, task.task_id, reason)
            again = item.with_task(task.subset(unreported, f".g{task.attempt}", retry=False),
                                   one_by_one=True)
            with self._lock:
                self._queue.appendleft(again)
            return
        lost = [index] if index in unreported else []
        retry = [i for i in unreported if i not in lost]
        if retry and (worker.cancelled or task.attempt + 1 >= MAX_ATTEMPTS):
            lost, retry = unreported, []
        if lost:
            item.listener.calls_lost(task.job_key, lost, reason, worker.kill_kind)
        if retry:
            logger.debug("retrying %d calls of %s/%s after: %s", len(retry), task.job_key,
                         task.task_id, reason)
            again = item.with_task(task.subset(retry, f".r{task.attempt + 1}"),
                                   one_by_one=False)
            with self._lock:
                self._queue.appendleft(again)


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> WorkerPool:
    """The process-wide pool, started on first use (and again after a fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._stopping:
            _pool = WorkerPool(slicing=True)
            atexit.register(_pool.shutdown)
        return _pool


def _forget_after_fork() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)

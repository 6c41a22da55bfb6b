"""`Dispatcher`: delivers tasks from a pool of threads, with retries, and reports every failure.

`submit` queues tasks and returns at once; up to `threads` threads (started on demand) take
them in order and call the adapter's `Deliverer`. `Throttled` is retried (after its
`retry_after`, else with backoff and jitter) until the platform made no progress for
`throttle_timeout` seconds: this task throttled all that time and no other delivery got
through either (a platform that lets some through is pacing, not stuck, so its tasks wait
their turn); then the calls fail with a reason that names `max_workers` and the chunksize; `Unavailable` is
retried `retries` times with exponential backoff and jitter; `Refused`, spent retries and
unexpected errors report the task's calls through the listener's `calls_lost`. So every task
is either delivered or reported, and `wait` returns once each one was. A fan-out (remote
invoker) request travels the same way and, when lost, loses the calls of all its tasks.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Sequence

import attrs

from wren.dispatch.backoff import backoff
from wren.dispatch.deliverer import Deliverer, FanoutDeliverer
from wren.dispatch.outcomes import Refused, Throttled, Unavailable
from wren.ports.compute import InvocationListener
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.worker.fanout import FanoutRequest

logger = logging.getLogger("wren")

#: Longest wait a `Retry-After` may impose on an `Unavailable` retry.
MAX_RETRY_AFTER = 60.0

_live: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


@attrs.frozen
class _Parcel:
    """One delivery: a task, or a fan-out request standing for `tasks`."""

    item: Invocation | FanoutRequest
    tasks: tuple[Task, ...]
    listener: InvocationListener
    prefix: str = ""

    def describe(self) -> str:
        if isinstance(self.item, Invocation):
            return f"task {self.item.task.task_id} of {self.item.task.job_key}"
        return f"the fan-out of {len(self.tasks)} tasks of {self.item.job_key}"


class Dispatcher:
    """Background delivery of tasks through one `Deliverer`; thread-safe."""

    def __init__(self, deliverer: Deliverer, *, threads: int, retries: int = 4,
                 throttle_timeout: float = 120.0, first_delay: float = 0.05,
                 max_delay: float = 2.0, name: str = "wren-dispatch") -> None:
        if threads < 1:
            raise ValueError("a dispatcher needs at least one thread")
        self.deliverer = deliverer
        self.threads, self.retries = threads, retries
        self.throttle_timeout = throttle_timeout
        self.first_delay, self.max_delay = first_delay, max_delay
        self.name = name
        self._queue: queue.SimpleQueue[_Parcel | None] = queue.SimpleQueue()
        self._condition = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._pending = 0
        self._closed = False
        self._stop = threading.Event()
        self.delivered = 0
        self.throttled = 0
        self.lost = 0
        self._last_delivery = time.monotonic()
        _live.add(self)

    # Submitting -------------------------------------------------------------------------
    def submit(self, invocations: Sequence[Invocation], listener: InvocationListener) -> None:
        """Queue one delivery per invocation; return at once."""
        self._enqueue([_Parcel(inv, (inv.task,), listener) for inv in invocations])

    def submit_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                      listener: InvocationListener) -> None:
        """Queue one remote-invoker request that stands for `tasks`."""
        if not isinstance(self.deliverer, FanoutDeliverer):
            raise TypeError(f"{type(self.deliverer).__name__} cannot deliver fan-out requests")
        self._enqueue([_Parcel(request, tuple(tasks), listener,
                               "the remote invoker could not start: ")])

    def _enqueue(self, parcels: list[_Parcel]) -> None:
        if not parcels:
            return
        with self._condition:
            if self._closed:
                raise RuntimeError(f"dispatcher {self.name} is closed")
            self._pending += len(parcels)
            wanted = min(self.threads, self._pending) - len(self._workers)
            for _ in range(wanted):
                worker = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self.name}-{len(self._workers)}")
                self._workers.append(worker)
                worker.start()
        for parcel in parcels:
            self._queue.put(parcel)

    # Waiting ----------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Deliveries submitted and not yet delivered or reported."""
        return self._pending

    def wait(self, timeout: float | None = None) -> bool:
        """True once every submitted delivery was made or reported; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Take no more tasks, deliver (or report) those already submitted within `timeout`
        seconds, and stop the threads. False if deliveries were still pending: those are
        reported lost, so none is left without an answer."""
        with self._condition:
            if self._closed:
                return self._pending == 0
            self._closed = True
            workers = list(self._workers)
        finished = self.wait(timeout)
        if not finished:
            self._stop.set()  # retries give up at once and report their calls lost
        for _ in workers:
            self._queue.put(None)
        for worker in workers:
            if worker is not threading.current_thread():
                worker.join()
        _live.discard(self)
        return finished

    # Delivering -------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            parcel = self._queue.get()
            if parcel is None:
                return
            try:
                reason = self._attempt(parcel)
                if reason is not None:
                    self._report(parcel, parcel.prefix + reason)
            finally:
                with self._condition:
                    self._pending -= 1
                    if self._pending == 0:
                        self._condition.notify_all()

    def _send(self, parcel: _Parcel) -> None:
        if isinstance(parcel.item, Invocation):
            self.deliverer.deliver(parcel.item)
        else:
            self.deliverer.deliver_fanout(  # type: ignore[attr-defined]
                parcel.item, parcel.tasks, parcel.listener)

    def _attempt(self, parcel: _Parcel) -> str | None:
        """Deliver until it worked (None) or the reason the calls are lost."""
        failures = throttles = 0
        throttled_since: float | None = None
        while True:
            if self._stop.is_set():
                return f"wren was closed before {parcel.describe()} could be delivered"
            try:
                self._send(parcel)
            except Throttled as throttled:
                now = time.monotonic()
                throttled_since = throttled_since if throttled_since is not None else now
                waited = now - throttled_since
                stalled = min(waited, now - self._last_delivery)
                if stalled >= self.throttle_timeout:
                    return (f"the platform kept throttling {parcel.describe()} for "
                            f"{waited:.0f} s and let no task through for {stalled:.0f} s: "
                            f"{throttled.detail}. Lower `max_workers`, use a larger chunksize, "
                            "or raise the platform's limits")
                throttles += 1
                with self._condition:
                    self.throttled += 1
                delay = throttled.retry_after
                if delay is None:
                    delay = backoff(throttles, self.first_delay, self.max_delay)
                self._stop.wait(min(delay, self.throttle_timeout - stalled + 0.01))
            except Unavailable as unavailable:
                throttled_since = None
                failures += 1
                if failures > self.retries:
                    return (f"wren could not deliver {parcel.describe()} in {failures} "
                            f"attempts; last: {unavailable.detail}")
                delay = unavailable.retry_after
                delay = (backoff(failures, self.first_delay, self.max_delay) if delay is None
                         else min(delay, MAX_RETRY_AFTER))
                self._stop.wait(delay)
            except Refused as refused:
                return refused.reason
            except Exception as exc:  # a bug or a surprise: report it, never drop the task
                logger.exception("delivering %s failed", parcel.describe())
                return f"wren could not send {parcel.describe()}: {type(exc).__name__}: {exc}"
            else:
                with self._condition:
                    self.delivered += 1
                    self._last_delivery = time.monotonic()
                return None

    def _report(self, parcel: _Parcel, reason: str) -> None:
        logger.warning("%s not delivered: %s", parcel.describe(), reason)
        for task in parcel.tasks:
            try:
                parcel.listener.calls_lost(task.job_key, list(task.call_indices), reason,
                                           "lost")
            except Exception:
                logger.exception("reporting the lost calls of task %s failed", task.task_id)
        with self._condition:
            self.lost += len(parcel.tasks)


@atexit.register
def _finish_deliveries() -> None:
    """At interpreter exit, give tasks already submitted a chance to leave (the threads are
    daemons so that a dispatcher nobody closed cannot keep the process alive)."""
    for dispatcher in list(_live):
        dispatcher.close(timeout=10.0)

"""`DeliveringCompute`: a `ComputeBackend` whose `invoke` hands tasks to a `Dispatcher`.

An adapter subclasses it and writes `deliver(task)` (and its runtime management); the base
class implements `invoke` (returns at once), `wait_dispatched` and `close` through one
`Dispatcher` made on first use from `dispatch_settings()`. Before tasks are queued,
`prepare_delivery(tasks)` runs in the caller's thread: the place to make sure the runtimes the
tasks need are deployed, so that configuration errors still raise from `invoke`.

Array jobs (`array_jobs`, Kubernetes indexed Jobs, Code Engine job runs) take the same path
for every job: its tasks are staged and `deliver_fanout` starts one array job per request.

The remote invoker: when the adapter declares `capabilities.REMOTE_INVOKER`, implements
`deliver_fanout` and its config sets `remote_invoker`, an `invoke` of several tasks stages
them in storage (one request per job, `wren.worker.fanout`) and delivers only the request; the
worker that receives it opens the same adapter from the credentials its platform gave it
(`fanout_credentials()` says which) and dispatches the tasks with this same class.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from wren.dispatch.dispatcher import Dispatcher
from wren.ports import capabilities
from wren.ports.compute import ComputeBackend, InvocationListener, WorkerStorage
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.worker.fanout import FanoutRequest, stage_fanout


@attrs.frozen
class DispatchSettings:
    """How a `Dispatcher` delivers for one adapter (see `Dispatcher` for each field)."""

    threads: int = 64
    retries: int = 4
    throttle_timeout: float = 120.0
    first_delay: float = 0.05
    max_delay: float = 2.0


class DeliveringCompute(ComputeBackend):
    """Base of the compute adapters that deliver each task in the background."""

    #: Most tasks one fan-out request may carry (0: a job's tasks all go in one); a job with
    #: more is staged as several requests (a platform's largest array job, for instance).
    max_fanout_tasks: ClassVar[int] = 0
    #: True for batch platforms that run a staged request as one array job, each instance
    #: finding its task by index (`wren.worker.array_task`): every job, even of one task, is
    #: staged and goes to `deliver_fanout`; `deliver` is never called.
    array_jobs: ClassVar[bool] = False

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        super().__init__(config, worker_storage)
        self._dispatcher: Dispatcher | None = None
        self._dispatcher_lock = threading.Lock()

    # What the adapter writes ------------------------------------------------------------
    def deliver(self, invocation: Invocation) -> None:
        """Hand one invocation (`invocation.to_dict()`: the task and the executor's key) to
        the platform's invocation channel, or raise `Throttled`, `Unavailable` or `Refused`
        (called from the dispatcher's threads, several at once). Every adapter writes it,
        except those with `array_jobs`."""
        self.unsupported("delivering single tasks")

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        """Send a staged request standing for `tasks` to one worker (adapters with
        `REMOTE_INVOKER`) or as one array job (`array_jobs`)."""
        self.unsupported("the remote invoker")

    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        """Runs in `invoke` before the tasks are queued: deploy what they need."""

    def dispatch_settings(self) -> DispatchSettings:
        """Threads and retry rules; by default `invoke_pool_threads` threads."""
        return DispatchSettings(threads=int(self.config.get("invoke_pool_threads") or 64))

    def fanout_credentials(self) -> dict[str, Any]:
        """The secret settings a fan-out worker needs to open this adapter (the adapter
        gives them to its workers through the platform, never in a payload)."""
        public = self.config_schema.public(self.config)
        return {k: v for k, v in self.config.items() if k not in public and v}

    # What the base class does -----------------------------------------------------------
    @property
    def dispatcher(self) -> Dispatcher:
        with self._dispatcher_lock:
            if self._dispatcher is None:
                settings = self.dispatch_settings()
                self._dispatcher = Dispatcher(
                    self, threads=settings.threads, retries=settings.retries,
                    throttle_timeout=settings.throttle_timeout,
                    first_delay=settings.first_delay, max_delay=settings.max_delay,
                    name=f"wren-{self.name}")
            return self._dispatcher

    @property
    def remote_invoker(self) -> bool:
        """True when `invoke` fans out through one worker per job."""
        return self.supports(capabilities.REMOTE_INVOKER) and bool(
            self.config.get("remote_invoker"))

    def invoke(self, invocations: Sequence[Invocation], listener: InvocationListener) -> None:
        """Queue the invocations for delivery and return at once."""
        if not invocations:
            return
        self.prepare_delivery([invocation.task for invocation in invocations])
        if not (self.array_jobs or (self.remote_invoker and len(invocations) > 1)):
            self.dispatcher.submit(invocations, listener)
            return
        jobs: dict[str, list[Invocation]] = {}
        for invocation in invocations:
            jobs.setdefault(invocation.task.job_key, []).append(invocation)
        size = self.max_fanout_tasks or len(invocations)
        for job in jobs.values():
            for start in range(0, len(job), size):
                part = job[start:start + size]
                request = stage_fanout(part, self.worker_storage, self.name,
                                       self.config_schema.public(self.config))
                self.dispatcher.submit_fanout(request, [i.task for i in part], listener)

    def wait_dispatched(self, timeout: float | None = None) -> bool:
        """Block until every task given to `invoke` was accepted by the platform or
        reported through `calls_lost`; False if `timeout` passed first."""
        dispatcher = self._dispatcher
        return True if dispatcher is None else dispatcher.wait(timeout)

    def close(self) -> None:
        """Deliver (or report) what is queued, then stop the dispatcher's threads."""
        with self._dispatcher_lock:
            dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.close()

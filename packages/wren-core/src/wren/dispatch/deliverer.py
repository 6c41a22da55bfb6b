"""The `Deliverer` interface: the one thing an adapter writes to get tasks onto its platform.

`deliver(invocation)` sends one task with the executor's key (`invocation.to_dict()` is its
wire form, for the platform's invocation channel only) and returns once the
platform accepted it, or raises an outcome of `wren.dispatch.outcomes` for the `Dispatcher` to
act on. It is called from the dispatcher's threads, several at once, so it must be thread-safe;
it is never called from `invoke`'s caller. Recoveries that only the adapter knows (renew a
token, deploy a runtime that vanished, take a fresh route) stay inside `deliver`, which then
retries or raises. `deliver_fanout(request, tasks, listener)` sends a staged request (the
tasks of one job, or part of one) in the same way: to one worker that invokes them (the remote
invoker), or as one array job of the platform (`DeliveringCompute.array_jobs`); `tasks` are
what the request stands for, in index order, and `listener` is where their calls report, for
an adapter that watches the array job's instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from wren.ports.compute import InvocationListener
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task
from wren.worker.fanout import FanoutRequest


@runtime_checkable
class Deliverer(Protocol):
    """Sends one invocation to the platform, or raises `Throttled`, `Unavailable` or `Refused`."""

    def deliver(self, invocation: Invocation) -> None:
        """Hand `invocation` to the platform; return when it was accepted."""


@runtime_checkable
class FanoutDeliverer(Deliverer, Protocol):
    """A `Deliverer` that can also send a remote-invoker request to one worker."""

    def deliver_fanout(self, request: FanoutRequest, tasks: Sequence[Task],
                       listener: InvocationListener) -> None:
        """Hand `request` (standing for `tasks`) to one worker or one array job."""

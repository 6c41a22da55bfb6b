"""The `Deliverer` interface: the one thing an adapter writes to get tasks onto its platform.

`deliver(invocation)` sends one task with the executor's key (`invocation.to_dict()` is its
wire form, for the platform's invocation channel only) and returns once the
platform accepted it, or raises an outcome of `wren.dispatch.outcomes` for the `Dispatcher` to
act on. It is called from the dispatcher's threads, several at once, so it must be thread-safe;
it is never called from `invoke`'s caller. Recoveries that only the adapter knows (renew a
token, deploy a runtime that vanished, take a fresh route) stay inside `deliver`, which then
retries or raises. `deliver_fanout(request)` sends a remote-invoker request (the staged tasks
of one job) to one worker in the same way; only adapters with `capabilities.REMOTE_INVOKER`
implement it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from wren.protocol.invocation import Invocation
from wren.worker.fanout import FanoutRequest


@runtime_checkable
class Deliverer(Protocol):
    """Sends one invocation to the platform, or raises `Throttled`, `Unavailable` or `Refused`."""

    def deliver(self, invocation: Invocation) -> None:
        """Hand `invocation` to the platform; return when it was accepted."""


@runtime_checkable
class FanoutDeliverer(Deliverer, Protocol):
    """A `Deliverer` that can also send a remote-invoker request to one worker."""

    def deliver_fanout(self, request: FanoutRequest) -> None:
        """Hand `request` to one worker, which invokes its tasks from inside the platform."""

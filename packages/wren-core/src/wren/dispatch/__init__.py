"""The dispatch kit: what every compute adapter that sends tasks in the background shares.

An adapter implements `Deliverer.deliver(task)` (usually by subclassing `DeliveringCompute`),
raising `Throttled`, `Unavailable` or `Refused` when the platform did not take the task; the
`Dispatcher` owns the threads, the concurrency limit, the retries and back-off (honouring
`Retry-After`), the pending count behind `wait_dispatched`, and the reports of calls that
could not be delivered. The remote invoker (`remote_invoker`) rides on the same kit.
"""

from wren.dispatch.array_watch import ArrayWatcher
from wren.dispatch.backoff import backoff
from wren.dispatch.compute import DeliveringCompute, DispatchSettings
from wren.dispatch.deliverer import Deliverer, FanoutDeliverer
from wren.dispatch.dispatcher import Dispatcher
from wren.dispatch.outcomes import (
    DeliveryProblem,
    Refused,
    Throttled,
    Unavailable,
    outcome_of_status,
    parse_retry_after,
)

__all__ = [
    "ArrayWatcher",
    "DeliveringCompute",
    "Deliverer",
    "DeliveryProblem",
    "DispatchSettings",
    "Dispatcher",
    "FanoutDeliverer",
    "Refused",
    "Throttled",
    "Unavailable",
    "backoff",
    "outcome_of_status",
    "parse_retry_after",
]

"""Build an executor's `JobMonitor` for its monitoring plan and compute backend.

`storage` monitoring polls status prefixes (fast, as statuses are the only news) unless the
compute adapter pushes them, in which case polling is only a slow safety net. `rabbitmq`
monitoring connects to the broker first, so an unreachable one fails the executor's creation,
then listens to the executor's queue; storage is read only in a sweep every `RABBITMQ_SWEEP`
seconds (statuses lost with a broker restart), or at the storage pace while disconnected.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from wren.client.monitor import JobMonitor
from wren.monitoring.settings import MonitoringPlan, mask_url
from wren.ports import capabilities
from wren.ports.storage import StorageBackend

logger = logging.getLogger("wren")

#: (poll_min, poll_max) seconds when storage is the only way to learn of finished calls.
STORAGE_PACE = (0.05, 2.0)
#: ... when the compute adapter pushes statuses and polling is a safety net.
PUSHED_PACE = (0.5, 5.0)
#: Seconds between storage sweeps while the RabbitMQ listener is connected.
RABBITMQ_SWEEP = 30.0


def open_monitor(plan: MonitoringPlan, storage: StorageBackend, bucket: str,
                 condition: threading.Condition, compute_cls: Any, key: bytes) -> JobMonitor:
    """The monitor for one executor (whose key authenticates the statuses it accepts);
    raises `MonitoringError` if its broker is unreachable."""
    if plan.kind != "rabbitmq":
        pushes = capabilities.PUSH_STATUS in compute_cls.capabilities
        poll_min, poll_max = PUSHED_PACE if pushes else STORAGE_PACE
        if plan.poll_interval is not None and not pushes:
            poll_min, poll_max = min(poll_min, plan.poll_interval), plan.poll_interval
        return JobMonitor(storage, bucket, condition, key, poll_min=poll_min, poll_max=poll_max)
    from wren.monitoring.listener import RabbitMQStatusListener

    assert plan.amqp_url is not None and plan.status_queue is not None
    listener = RabbitMQStatusListener(plan.amqp_url, plan.status_queue)
    monitor = JobMonitor(storage, bucket, condition, key, poll_min=RABBITMQ_SWEEP,
                         poll_max=RABBITMQ_SWEEP, adapter_pushes=False)
    monitor.attach(listener)
    listener.start(monitor, STORAGE_PACE)
    logger.info("executor %s: statuses arrive on RabbitMQ queue %r at %s", plan.executor_id,
                plan.status_queue, mask_url(plan.amqp_url))
    return monitor

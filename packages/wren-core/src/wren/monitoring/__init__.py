"""How the client learns that calls finished: polling storage, or statuses pushed by workers
to a RabbitMQ queue (`monitoring: rabbitmq`), fed into the executor's `JobMonitor`."""

from wren.monitoring.settings import RABBITMQ_SCHEMA, MonitoringPlan, mask_url
from wren.monitoring.setup import open_monitor

__all__ = ["RABBITMQ_SCHEMA", "MonitoringPlan", "mask_url", "open_monitor"]

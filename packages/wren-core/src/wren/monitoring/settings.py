"""The `rabbitmq:` config section, and what an executor's `monitoring` choice asks of workers.

```yaml
wren:
  monitoring: rabbitmq        # or `storage` (the default); Lithops' rabbitmq_monitor: true
rabbitmq:
  amqp_url: amqp://user:password@broker.example.com:5672/vhost
```

`MonitoringPlan` is the validated choice for one executor: the status queue its workers push
to (named after the executor, so it travels in task options), and the AMQP URL, a secret,
which reaches workers only inside their private storage config (`SERVICES_KEY`), through the
platform's own secret mechanism like storage keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

from wren._errors import ConfigError
from wren.config.loader import WrenConfig
from wren.config.schema import ConfigKey, ConfigSchema
from wren.protocol.task import TaskOptions
from wren.worker.storage_access import SERVICES_KEY

RABBITMQ_SCHEMA = ConfigSchema("rabbitmq", (
    ConfigKey("amqp_url", str, None,
              "AMQP URL of the broker: amqp://user:password@host:5672/vhost", secret=True),
))
STATUS_QUEUE_PREFIX = "wren.status."


def mask_url(url: str) -> str:
    """`url` with its password replaced by `***`, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@attrs.frozen
class MonitoringPlan:
    """How one executor learns that calls finished: `storage` or `rabbitmq`."""

    kind: str
    executor_id: str
    amqp_url: str | None = attrs.field(default=None, repr=False)
    #: `monitoring_interval` (Lithops' key): the longest wait between storage polls.
    poll_interval: float | None = None

    @classmethod
    def from_config(cls, config: WrenConfig, executor_id: str) -> MonitoringPlan:
        kind = config.wren["monitoring"]
        if kind != "rabbitmq":
            return cls(kind, executor_id, poll_interval=config.wren.get("monitoring_interval"))
        section = RABBITMQ_SCHEMA.validate(config.sections.get("rabbitmq"))
        url = section["amqp_url"]
        if not url:
            raise ConfigError("monitoring 'rabbitmq' needs the broker's address: set `amqp_url` "
                              "in the `rabbitmq:` config section (amqp://user:password@host:"
                              "5672/vhost), or use monitoring 'storage'")
        if urlsplit(url).scheme not in ("amqp", "amqps") or not urlsplit(url).hostname:
            raise ConfigError(f"key 'amqp_url' in section 'rabbitmq' is {mask_url(url)!r}; "
                              "expected amqp://user:password@host:5672/vhost (or amqps://)")
        return cls(kind, executor_id, url)

    @property
    def status_queue(self) -> str | None:
        """The queue workers push this executor's status documents to."""
        return STATUS_QUEUE_PREFIX + self.executor_id if self.kind == "rabbitmq" else None

    @property
    def task_options(self) -> TaskOptions:
        """What every task must carry (public: no secrets)."""
        if self.kind != "rabbitmq":
            return TaskOptions()
        return TaskOptions(monitoring="rabbitmq", status_queue=self.status_queue)

    def worker_config(self, storage_config: Mapping[str, Any]) -> dict[str, Any]:
        """The private config workers receive: storage settings plus service secrets."""
        if self.kind != "rabbitmq":
            return dict(storage_config)
        return {**storage_config, SERVICES_KEY: {"rabbitmq": {"amqp_url": self.amqp_url}}}

"""Push a task's status documents to the client's monitor when the task asks for it.

A task of an executor with `monitoring: rabbitmq` carries `options.monitoring` and the
queue name; the broker's URL is a secret that came with the worker's private storage config
(`services_of`). Without it (a platform that did not deliver it, or pika missing) the worker
says so once on stderr and the statuses reach the client through storage alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wren.ports.storage import StorageBackend
from wren.protocol.status import StatusDocument
from wren.protocol.task import Task
from wren.worker.output import original_stderr
from wren.worker.storage_access import services_of

Pusher = Callable[[StatusDocument, bytes], None]
_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(f"wren: {message}", file=original_stderr())


def with_monitor_push(task: Task, storage: StorageBackend, push: Pusher | None
                      ) -> Pusher | None:
    """`push`, plus publishing to the monitor the task names (if any)."""
    if task.options.monitoring != "rabbitmq":
        return push
    settings: Any = services_of(storage).get("rabbitmq") or {}
    url, queue = settings.get("amqp_url"), task.options.status_queue
    if not url or not queue:
        _warn_once("the task asks to push its statuses to RabbitMQ but this worker was given "
                   "no amqp_url; the client will read them from storage")
        return push
    try:
        from wren.monitoring.publisher import publisher_for

        publisher = publisher_for(url)
    except Exception as exc:  # pika missing, most likely
        _warn_once(f"cannot push statuses to RabbitMQ ({exc}); the client will read them "
                   "from storage")
        return push

    def push_both(document: StatusDocument, encoded: bytes) -> None:
        if push is not None:
            push(document, encoded)
        try:
            publisher.publish(queue, encoded)
        except Exception as exc:  # never fail a task over news the client can read anyway
            _warn_once(f"pushing a status to RabbitMQ failed: {exc}")

    return push_both

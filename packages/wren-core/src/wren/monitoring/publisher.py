"""`StatusPublisher`: the worker end of `monitoring: rabbitmq`.

A worker process keeps one connection per broker URL and publishes each status document to
the executor's queue right after writing it to storage, so storage stays the record and the
message is only news. Publishing never fails a task: a broker that is down, blocked or gone
costs one connection attempt and a line on the worker's stderr, and the client finds the
statuses in storage. A refused connection is tried again a second later (it costs nothing);
one that timed out (a host that does not answer) only after `SLOW_RETRY_AFTER` seconds,
doubling up to `MAX_RETRY_AFTER`, so a dead broker cannot stall the calls.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from wren.monitoring.amqp import connect, reason, require_pika
from wren.worker.output import original_stderr

CONNECT_TIMEOUT = 3.0
FAST_RETRY_AFTER = 1.0
SLOW_RETRY_AFTER = 5.0
MAX_RETRY_AFTER = 120.0

_publishers: dict[str, StatusPublisher] = {}
_publishers_lock = threading.Lock()


class StatusPublisher:
    """Publishes encoded status documents to RabbitMQ queues (thread-safe)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._errors = (require_pika().exceptions.AMQPError, OSError)
        self._lock = threading.Lock()
        self._connection: Any = None
        self._channel: Any = None
        self._retry_at = 0.0
        self._retry_after = SLOW_RETRY_AFTER
        self._warned = False
        self.published = 0

    def publish(self, queue: str, body: bytes) -> bool:
        """Send `body` to `queue`; True if the broker took it."""
        with self._lock:
            for _ in range(2):  # a connection the broker closed while idle is reopened once
                if self._channel is None and not self._reopen():
                    return False
                try:
                    self._connection.process_data_events(0)
                    self._channel.basic_publish("", queue, body)
                except self._errors as exc:
                    self._drop(exc)
                    continue
                self.published += 1
                self._warned = False
                return True
            return False

    def _reopen(self) -> bool:
        started = time.monotonic()
        if started < self._retry_at:
            return False
        try:
            self._connection = connect(self.url, CONNECT_TIMEOUT, "wren worker")
            self._channel = self._connection.channel()
        except Exception as exc:
            now = time.monotonic()
            if now - started < 1.0:
                self._retry_at = now + FAST_RETRY_AFTER
            else:
                self._retry_at = now + self._retry_after
                self._retry_after = min(2 * self._retry_after, MAX_RETRY_AFTER)
            self._drop(exc)
            return False
        self._retry_after = SLOW_RETRY_AFTER
        return True

    def _drop(self, exc: BaseException) -> None:
        connection = self._connection
        self._connection = self._channel = None
        if connection is not None:
            try:
                if connection.is_open:
                    connection.close()
            except Exception:
                pass
        if not self._warned:
            self._warned = True
            print(f"wren: could not push a status to RabbitMQ ({reason(exc)}); "
                  "the client will read it from storage", file=original_stderr())


def publisher_for(url: str) -> StatusPublisher:
    """The process's publisher for `url`."""
    with _publishers_lock:
        found = _publishers.get(url)
        if found is None:
            found = _publishers[url] = StatusPublisher(url)
        return found

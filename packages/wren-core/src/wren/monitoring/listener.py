"""`RabbitMQStatusListener`: the client end of `monitoring: rabbitmq`.

It connects when the executor is created (so an unreachable broker is an error there, not a
hang later), declares the executor's status queue, and consumes it on a daemon thread,
handing each message, an encoded status document, to the `JobMonitor`. The queue expires on
the broker if the client vanishes without closing. When the connection drops, the monitor
falls back to polling storage at its usual pace while the listener reconnects; after it is
back, one storage sweep picks up what was published meanwhile. `stop()` deletes the queue and
closes the connection; the monitor calls it when it stops with its executor.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from wren._errors import MonitoringError
from wren.client.monitor import JobMonitor
from wren.monitoring.amqp import connect, reason, require_pika
from wren.monitoring.settings import mask_url

logger = logging.getLogger("wren")

CONNECT_TIMEOUT = 5.0
#: The broker deletes a status queue nobody has consumed for this long (ms).
QUEUE_EXPIRES_MS = 15 * 60 * 1000
_EVENTS_SLICE = 0.25
_MAX_RETRY_DELAY = 15.0


class RabbitMQStatusListener:
    """Consumes one executor's status queue and feeds its monitor."""

    def __init__(self, url: str, queue: str, *, timeout: float = CONNECT_TIMEOUT) -> None:
        self.url, self.queue, self.timeout = url, queue, timeout
        self._pika_errors = (require_pika().exceptions.AMQPError, OSError)
        self._connection: Any = None
        self._channel: Any = None
        self._open()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._monitor: JobMonitor | None = None
        self._fallback = (0.05, 2.0)
        self._pace = (30.0, 30.0)
        self.received = 0
        self.reconnects = 0

    def _open(self) -> None:
        connection = connect(self.url, self.timeout, f"wren client {self.queue}")
        try:
            channel = connection.channel()
            channel.queue_declare(self.queue, arguments={"x-expires": QUEUE_EXPIRES_MS})
            channel.basic_consume(self.queue, self._on_message, auto_ack=True)
        except self._pika_errors as exc:
            _close_quietly(connection)
            raise MonitoringError(f"the RabbitMQ broker at {mask_url(self.url)} would not give "
                                  f"wren its status queue {self.queue!r}: {reason(exc)}") \
                from exc
        self._connection, self._channel = connection, channel

    # Lifecycle ----------------------------------------------------------------------------
    def start(self, monitor: JobMonitor, fallback: tuple[float, float]) -> None:
        """Feed `monitor`; poll storage at `fallback` pace while disconnected."""
        self._monitor, self._fallback = monitor, fallback
        self._pace = (monitor.poll_min, monitor.poll_max)
        self._thread = threading.Thread(target=self._run, name="wren-rabbitmq", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is None:
            self._shutdown()
        elif thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def connected(self) -> bool:
        return self._connection is not None

    # Internals ----------------------------------------------------------------------------
    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        self.received += 1
        assert self._monitor is not None
        try:
            self._monitor.status_received(body, "rabbitmq")
        except Exception:
            logger.exception("a status message from RabbitMQ could not be applied")

    def _run(self) -> None:
        monitor = self._monitor
        assert monitor is not None
        delay = 0.5
        try:
            while not self._stop.is_set():
                if self._connection is None:
                    try:
                        self._open()
                    except MonitoringError as exc:
                        logger.warning("%s; retrying in %.1f s", exc, delay)
                        self._stop.wait(delay)
                        delay = min(delay * 2, _MAX_RETRY_DELAY)
                        continue
                    delay = 0.5
                    self.reconnects += 1
                    logger.info("reconnected to RabbitMQ; reading storage once for statuses "
                                "published meanwhile")
                    monitor.set_pace(*self._pace)
                    monitor.sweep()
                try:
                    self._connection.process_data_events(time_limit=_EVENTS_SLICE)
                except Exception as exc:  # any failure: reconnect, never end the thread
                    logger.warning("lost the RabbitMQ status connection (%s); polling storage "
                                   "until it is back", reason(exc))
                    _close_quietly(self._connection)
                    self._connection = self._channel = None
                    monitor.set_pace(*self._fallback)
                    monitor.sweep()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        connection, channel = self._connection, self._channel
        self._connection = self._channel = None
        if connection is None:
            return
        try:
            channel.queue_delete(self.queue)
        except self._pika_errors as exc:
            logger.debug("could not delete status queue %s: %s", self.queue, exc)
        _close_quietly(connection)


def _close_quietly(connection: Any) -> None:
    try:
        if connection.is_open:
            connection.close()
    except Exception as exc:
        logger.debug("closing a RabbitMQ connection failed: %s", exc)

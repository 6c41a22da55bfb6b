"""The queue consumer that runs in an `azure_containers` container.

It serves one runtime's queue with wren's supervised worker pool (`wren.worker.pool`, one
worker process per `worker_processes`): it takes a message whenever a worker is free,
hidden from other consumers for one `message_lease`, and renews that lease (Update Message)
every third of it while the task runs, so a consumer that dies (a replica killed on
scale-in, out of memory) holds its message for one lease at most, not for the task's whole
budget. On SIGTERM it takes no new message and lets the tasks in flight finish within the
replica's termination grace period; just before the platform kills it, it hands the
messages of unfinished tasks back to the queue (visible at once) for another replica. The task
runs in the pool with a single flush at the end, so every delivery writes the same status
and result keys. The pool reports each status as it is stored and supervises the worker: a
call that crashes its worker (exit, signal, out of memory) or overruns its timeout gets an
error status naming what happened, and the task's other calls are run again, exactly as on
every other platform. The message is deleted only once every call of the task has reported
in storage; if the consumer (the container) dies first, the message becomes visible again
and another consumer runs the task (at least once); one that finds the task's status stored
just deletes it. A message delivered more than `max_dequeue_count` times is not run again:
its calls get an error status instead. No call runs longer than `runtime_timeout`.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import signal
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs
from wren._errors import (
    MalformedDocumentError,
    ProtocolVersionError,
    StorageNoSuchKeyError,
    TamperedDataError,
)
from wren.ports import StorageBackend
from wren.protocol import keys
from wren.protocol.invocation import Invocation, open_sealed_task
from wren.protocol.lost import lost_calls_document, store_status
from wren.protocol.status import StatusDocument
from wren.worker import open_storage
from wren.worker.entry import INFO_FIELD, handle
from wren.worker.pool import WorkerPool, storage_profile
from wren.worker.reports import TaskReports

from wren_backend_azure.clients import ensure_queue, queue_client
from wren_backend_azure.messages import Message, decode
from wren_backend_azure.settings import ConsumerSettings

logger = logging.getLogger("wren.azure.consumer")

_IDLE_MIN, _IDLE_MAX = 0.05, 1.0
#: A running task's lease is renewed every third of it (two chances before it runs out).
_RENEW_FRACTION = 1 / 3
#: Seconds before the end of the grace period when unfinished tasks are handed back.
_RELEASE_MARGIN = 5.0
#: Seconds before a task that failed for wren's own reasons (storage down) is tried again.
_RETRY_DELAY = 5


def _completed_before(invocation: Invocation, storage: StorageBackend) -> bool:
    """True when an earlier delivery stored the task's first status. It is checked with the
    executor's key: a status someone else wrote there must not stop the task."""
    task = invocation.task
    key = keys.status_key(task.job_key, task.task_id, 0)
    try:
        raw = storage.get_object(task.bucket, key)
    except StorageNoSuchKeyError:
        return False
    try:
        StatusDocument.open(raw, invocation.key, key)
    except (MalformedDocumentError, TamperedDataError, ProtocolVersionError) as exc:
        logger.warning("running task %s of %s anyway: %s", task.task_id, task.job_key, exc)
        return False
    return True


class _Delivery(TaskReports):
    """One message's task in the pool: its calls' reports (pool thread), and whether the
    message must be delivered again instead of deleted."""

    def __init__(self, consumer: Consumer, message: Any, receipt: str,
                 invocation: Invocation, storage: StorageBackend) -> None:
        super().__init__(invocation, consumer.host, storage=storage,
                         on_done=consumer.finished.put)
        self.message, self.receipt = message, receipt
        self.retry_later = False
        self.started = time.monotonic()
        self.renew_at = self.started + consumer.renew_every

    def record_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                    kind: str) -> bool:
        if kind == "system":  # wren could not run the task (storage down): try again later
            logger.error("task %s of %s could not run (%s); retrying in %d s",
                         self.task.task_id, job_key, reason, _RETRY_DELAY)
            self.retry_later = True
            return False
        if not super().record_lost(job_key, call_indices, reason, kind):
            self.retry_later = True  # not safe yet: the message is delivered again
            return False
        return True


class Consumer:
    """Serves one runtime's queue until `stop` is set."""

    def __init__(self, settings: ConsumerSettings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.queue = queue_client({"connection_string": settings.queue_connection},
                                  settings.queue)
        self.host = socket.gethostname()
        self.handled = 0
        self.processes = max(1, settings.processes)
        self.finished: queue.Queue[TaskReports] = queue.Queue()
        self.in_flight = 0
        self.lease = math.ceil(settings.message_lease)
        self.renew_every = settings.message_lease * _RENEW_FRACTION
        self.running: dict[str, _Delivery] = {}
        self._pool: WorkerPool | None = None
        self._profile = storage_profile(settings.storage_backend, settings.storage_config)

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool()
            self._pool.ensure_size(self.processes)
        return self._pool

    def storage(self, backend: str, public_config: Any) -> StorageBackend:
        return open_storage(backend, public_config, self.settings.storage_config)

    # The loop ---------------------------------------------------------------------------
    def serve(self) -> None:
        ensure_queue(self.queue)
        self.pool  # noqa: B018 - the workers start while the first message is awaited
        idle = _IDLE_MIN
        try:
            while not self.stop.is_set():
                self._renew()
                self._settle(0.0)
                if self.in_flight >= self.processes:
                    self._settle(_IDLE_MAX, block=True)
                    continue
                if self._receive_one():
                    idle = _IDLE_MIN
                    continue
                self._settle(idle, block=True)
                idle = min(idle * 2, _IDLE_MAX)
            self._drain(time.monotonic())
        finally:
            if self._pool is not None:
                self._pool.shutdown()

    def _drain(self, stopped: float) -> None:
        """Stopping: let the tasks in the pool finish within the grace period, then hand the
        messages of those still running back to the queue before the platform kills us."""
        grace = self.settings.grace_period
        release_at = stopped + max(0.0, grace - min(_RELEASE_MARGIN, grace * 0.2))
        while self.in_flight and time.monotonic() < release_at:
            self._renew()
            self._settle(min(_IDLE_MAX, max(0.01, release_at - time.monotonic())), block=True)
        for delivery in list(self.running.values()):
            logger.warning("task %s of %s did not finish within the grace period; handing "
                           "its message back to the queue", delivery.task.task_id,
                           delivery.task.job_key)
            self._hide(delivery.message.id, delivery.receipt, 0)
        self.running.clear()

    def _renew(self) -> None:
        """Extend the lease of every running task's message that is due."""
        now = time.monotonic()
        for delivery in list(self.running.values()):
            if delivery.renew_at > now:
                continue
            try:
                delivery.receipt = self.queue.update_message(
                    delivery.message.id, delivery.receipt,
                    visibility_timeout=self.lease).pop_receipt
            except Exception as exc:  # another consumer may run it too; its results win
                logger.warning("could not renew the lease of message %s: %s",
                               delivery.message.id, exc)
            delivery.renew_at = now + self.renew_every

    def _receive_one(self) -> bool:
        try:
            message = self.queue.receive_message(visibility_timeout=self.lease)
            if message is None:
                return False
            self.handle(message)
            self.handled += 1
        except Exception:  # the message, if any, shows up again after its hide time
            logger.exception("serving queue %s failed; going on", self.settings.queue)
            return False
        return True

    def _settle(self, timeout: float, block: bool = False) -> None:
        """Delete (or hide again) the messages of the tasks that finished."""
        while True:
            try:
                delivery = self.finished.get(block=block, timeout=timeout if block else None)
            except queue.Empty:
                return
            block = False
            self.in_flight -= 1
            self._complete(delivery)

    def _complete(self, delivery: TaskReports) -> None:
        assert isinstance(delivery, _Delivery)
        task, message = delivery.task, delivery.message
        self.running.pop(message.id, None)
        if delivery.retry_later:
            self._hide(message.id, delivery.receipt, _RETRY_DELAY)
            return
        logger.info("task %s of %s: %d calls in %.2f s (delivery %d)", task.task_id,
                    task.job_key, len(task.call_indices), time.monotonic() - delivery.started,
                    message.dequeue_count)
        self._delete(message, delivery.receipt)

    def handle(self, message: Any) -> None:
        try:
            decoded = decode(message.content)
        except (ValueError, KeyError, TypeError) as exc:
            logger.error("dropping message %s: %s", message.id, exc)
            self._delete(message, message.pop_receipt)
            return
        if decoded.kind == "metadata":
            self._describe(decoded, message)
            return
        try:
            invocation = decoded.invocation or self._load_invocation(decoded)
        except (TamperedDataError, MalformedDocumentError) as exc:
            logger.error("dropping message %s: %s", message.id, exc)
            self._delete(message, message.pop_receipt)
            return
        if invocation is None:  # its job was cleaned: nothing is waiting for it any more
            self._delete(message, message.pop_receipt)
            return
        task = invocation.task
        storage = self.storage(task.storage_backend, task.storage_config)
        if _completed_before(invocation, storage):
            self._delete(message, message.pop_receipt)
            return
        if message.dequeue_count > self.settings.max_dequeue_count:
            self._give_up(invocation, storage, message)
            return
        self._run(invocation, storage, message)

    # Steps ------------------------------------------------------------------------------
    def _run(self, invocation: Invocation, storage: StorageBackend, message: Any) -> None:
        task = invocation.task
        task = attrs.evolve(task, timeout=min(task.timeout, self.settings.runtime_timeout),
                            attempt=message.dequeue_count - 1)
        invocation = Invocation(task, invocation.key)
        receipt = self.queue.update_message(message.id, message.pop_receipt,
                                            visibility_timeout=self.lease).pop_receipt
        delivery = _Delivery(self, message, receipt, invocation, storage)
        self.running[message.id] = delivery
        self.in_flight += 1
        if delivery.remaining == 0:
            delivery.check_done()
            return
        self.pool.submit([invocation], delivery, self._profile, id(self),
                         flush_interval=math.inf)

    def _give_up(self, invocation: Invocation, storage: StorageBackend, message: Any) -> None:
        task = invocation.task
        tries = message.dequeue_count - 1
        reason = (f"the task was delivered {tries} times and never completed: each time its "
                  "container was lost (killed, out of memory, crashed) or ran past the "
                  f"task's time budget; wren stops after max_dequeue_count={tries}")
        document = lost_calls_document(task.job_key, task.call_indices, reason,
                                       task_id=task.task_id, host=self.host)
        store_status(storage, task.bucket, document, invocation.key)
        logger.error("task %s of %s: %s", task.task_id, task.job_key, reason)
        self._delete(message, message.pop_receipt)

    def _describe(self, decoded: Message, message: Any) -> None:
        ref = decoded.ref
        assert ref is not None
        info = handle({INFO_FIELD: True}, runtime_name=self.settings.runtime,
                      worker_processes=self.processes)
        self.storage(ref.backend, ref.config).put_object(ref.bucket, ref.key,
                                                         json.dumps(info).encode())
        self._delete(message, message.pop_receipt)

    def _load_invocation(self, decoded: Message) -> Invocation | None:
        """The task a message names by reference, checked with the message's key."""
        from wren import StorageNoSuchKeyError

        ref, key = decoded.ref, decoded.key
        assert ref is not None and key is not None
        try:
            raw = self.storage(ref.backend, ref.config).get_object(ref.bucket, ref.key)
        except StorageNoSuchKeyError:
            return None
        return Invocation(open_sealed_task(raw, key, ref.key), key)

    def _hide(self, message_id: str, receipt: str, seconds: int) -> None:
        try:
            self.queue.update_message(message_id, receipt, visibility_timeout=seconds)
        except Exception as exc:
            logger.warning("could not reschedule message %s: %s", message_id, exc)

    def _delete(self, message: Any, receipt: str) -> None:
        from azure.core.exceptions import HttpResponseError

        try:
            self.queue.delete_message(message.id, receipt)
        except HttpResponseError as exc:  # its visibility ran out: another consumer has it
            logger.warning("message %s was not deleted (%s); the consumer that holds it now "
                           "will find its results stored", message.id,
                           getattr(exc, "error_code", exc))


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT (scale-in, shutdown) finish the tasks in flight, then stop."""
    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

"""The queue consumer that runs in an `azure_containers` container (runtimes/azure).

It receives one message at a time, hidden from other consumers for `visibility_margin`
seconds, and as soon as it has read the task extends that to the task's own budget: every
call to its timeout, plus the margin. (A consumer that dies before knowing the budget so
holds the message only briefly, not for the runtime's longest call.) It runs the task with `wren.worker.run_task` on the main thread, flushing
once at the end, so every delivery of a task writes the same status and result keys; it
deletes the message only after both are stored. If the consumer dies first, the message
becomes visible again and another consumer runs the task (at least once); one that finds the
task's status already stored just deletes the message. A message delivered more than
`max_dequeue_count` times is not run again: its calls get an error status instead. No call
runs longer than the runtime's `runtime_timeout`, whatever the client asked.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import socket
import threading
import time
from typing import Any

from wren.ports import StorageBackend
from wren.protocol import keys
from wren.protocol.lost import lost_calls_document, store_status
from wren.protocol.task import Task
from wren.worker import open_storage, run_task

from wren_backend_azure import metadata
from wren_backend_azure.clients import ensure_queue, queue_client
from wren_backend_azure.messages import BlobRef, Message, decode, visibility_for
from wren_backend_azure.settings import ConsumerSettings

logger = logging.getLogger("wren.azure.consumer")

_IDLE_MIN, _IDLE_MAX = 0.05, 1.0
#: Seconds before a task that failed for wren's own reasons (storage down) is tried again.
_RETRY_DELAY = 5


class Consumer:
    """Serves one runtime's queue until `stop` is set."""

    def __init__(self, settings: ConsumerSettings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.queue = queue_client({"connection_string": settings.queue_connection},
                                  settings.queue)
        self.host = socket.gethostname()
        self.handled = 0

    def storage(self, backend: str, public_config: Any) -> StorageBackend:
        return open_storage(backend, public_config, self.settings.storage_config)

    # The loop ---------------------------------------------------------------------------
    def serve(self) -> None:
        ensure_queue(self.queue)
        first_hide = math.ceil(self.settings.visibility_margin)
        idle = _IDLE_MIN
        while not self.stop.is_set():
            try:
                message = self.queue.receive_message(visibility_timeout=first_hide)
                if message is not None:
                    idle = _IDLE_MIN
                    self.handle(message)
                    self.handled += 1
                    continue
            except Exception:  # the message, if any, shows up again after its hide time
                logger.exception("serving queue %s failed; going on", self.settings.queue)
            self.stop.wait(idle)
            idle = min(idle * 2, _IDLE_MAX)

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
        task = decoded.task or self._load_task(decoded.ref)
        if task is None:  # its job was cleaned: nothing is waiting for it any more
            self._delete(message, message.pop_receipt)
            return
        storage = self.storage(task.storage_backend, task.storage_config)
        if storage.exists(task.bucket, keys.status_key(task.job_key, task.task_id, 0)):
            self._delete(message, message.pop_receipt)  # an earlier delivery completed it
            return
        if message.dequeue_count > self.settings.max_dequeue_count:
            self._give_up(task, storage, message)
            return
        self._run(task, storage, message)

    # Steps ------------------------------------------------------------------------------
    def _run(self, task: Task, storage: StorageBackend, message: Any) -> None:
        task.options = {**task.options, "flush_interval": math.inf}
        task.timeout = min(task.timeout, self.settings.runtime_timeout)
        task.attempt = message.dequeue_count - 1
        budget = visibility_for(task, self.settings.visibility_margin)
        receipt = self.queue.update_message(message.id, message.pop_receipt,
                                            visibility_timeout=budget).pop_receipt
        started = time.monotonic()
        try:
            run_task(task, storage)
        except Exception as exc:  # wren could not store the outcome: try again later
            logger.error("task %s of %s failed to complete (%s: %s); retrying in %d s",
                         task.task_id, task.job_key, type(exc).__name__, exc, _RETRY_DELAY)
            self._hide(message.id, receipt, _RETRY_DELAY)
            return
        logger.info("task %s of %s: %d calls in %.2f s (delivery %d)", task.task_id,
                    task.job_key, len(task.call_indices), time.monotonic() - started,
                    message.dequeue_count)
        self._delete(message, receipt)

    def _give_up(self, task: Task, storage: StorageBackend, message: Any) -> None:
        tries = message.dequeue_count - 1
        reason = (f"the task was delivered {tries} times and never completed: each time its "
                  "container was lost (killed, out of memory, crashed) or ran past the "
                  f"task's time budget; wren stops after max_dequeue_count={tries}")
        document = lost_calls_document(task.job_key, task.call_indices, reason,
                                       task_id=task.task_id, host=self.host)
        store_status(storage, task.bucket, document)
        logger.error("task %s of %s: %s", task.task_id, task.job_key, reason)
        self._delete(message, message.pop_receipt)

    def _describe(self, decoded: Message, message: Any) -> None:
        ref = decoded.ref
        assert ref is not None
        info = metadata.describe_runtime(self.settings.runtime)
        self.storage(ref.backend, ref.config).put_object(ref.bucket, ref.key,
                                                         metadata.encode(info))
        self._delete(message, message.pop_receipt)

    def _load_task(self, ref: BlobRef | None) -> Task | None:
        from wren import StorageNoSuchKeyError

        assert ref is not None
        try:
            raw = self.storage(ref.backend, ref.config).get_object(ref.bucket, ref.key)
        except StorageNoSuchKeyError:
            return None
        return Task.from_dict(json.loads(raw))

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
                           "will find its results stored", message.id, getattr(exc, "error_code", exc))


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT (scale-in, shutdown) finish the current task, then stop."""
    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

"""Put tasks on a runtime's queue from a pool of client threads, without blocking `invoke`.

`submit` cuts the tasks into one slice per thread and returns at once; each thread sends its
slice in order (a task over the message limit goes to a blob first, its message then carries
the reference). A task that cannot be enqueued, even after the SDK's retries, is reported
through the listener's `calls_lost` with the reason, so its futures fail instead of waiting.
`drain` waits until everything submitted has been sent; `close` drains and stops the pool.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from wren.ports import InvocationListener, StorageBackend
from wren.protocol.task import Task

from wren_backend_azure.messages import BlobRef, ref_message, task_message, task_payload

logger = logging.getLogger("wren")


def ensure_queue(queue: Any) -> None:
    """Create the queue unless it exists."""
    from azure.core.exceptions import ResourceExistsError

    with contextlib.suppress(ResourceExistsError):
        queue.create_queue()


def delete_queue(queue: Any) -> None:
    """Delete the queue if it exists."""
    from azure.core.exceptions import ResourceNotFoundError

    with contextlib.suppress(ResourceNotFoundError):
        queue.delete_queue()


class QueueDispatcher:
    """Sends tasks to one queue; thread-safe."""

    def __init__(self, queue: Any, storage: Callable[[], StorageBackend], threads: int) -> None:
        self.queue, self._storage, self.threads = queue, storage, threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="wren-azure-send")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self.sent = 0

    def submit(self, tasks: Sequence[Task], listener: InvocationListener) -> None:
        size = max(1, math.ceil(len(tasks) / self.threads))
        for start in range(0, len(tasks), size):
            future = self._pool.submit(self._send_all, tasks[start:start + size], listener)
            with self._lock:
                self._pending.add(future)
            future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _send_all(self, tasks: Sequence[Task], listener: InvocationListener) -> None:
        for task in tasks:
            try:
                self.send(task)
            except Exception as exc:
                logger.warning("could not enqueue task %s of %s: %s", task.task_id,
                               task.job_key, exc)
                listener.calls_lost(task.job_key, list(task.call_indices),
                                    f"the task could not be put on the Azure queue "
                                    f"{getattr(self.queue, 'queue_name', '?')!r}: "
                                    f"{type(exc).__name__}: {exc}")

    def send(self, task: Task) -> None:
        """Enqueue one task now (in the calling thread)."""
        text = task_message(task)
        if text is None:
            ref = BlobRef.for_task(task)
            self._storage().put_object(ref.bucket, ref.key, task_payload(task).encode())
            text = ref_message("task", ref)
        self.send_text(text)

    def send_text(self, text: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.queue.send_message(text)
        except ResourceNotFoundError:  # the queue was never created, or deleted since
            self.ensure_queue()
            self.queue.send_message(text)
        with self._lock:
            self.sent += 1

    def ensure_queue(self) -> None:
        ensure_queue(self.queue)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every submitted task was sent (or reported); False on timeout."""
        with self._lock:
            pending = list(self._pending)
        _, not_done = wait(pending, timeout)
        return not not_done

    def close(self) -> None:
        self.drain()
        self._pool.shutdown(wait=True)
        self.queue.close()

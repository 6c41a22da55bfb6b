"""`Cleaner`: deletes jobs' temporary data in the background, so `get_result` returns as
soon as results are in hand. `flush()` waits for what was asked so far; `clean(fs)` and
closing an executor call it, so explicit cleaning is complete when they return."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence

from wren.client.job import JobState
from wren.ports.storage import StorageBackend
from wren.protocol import keys

logger = logging.getLogger("wren")


class Cleaner:
    """A daemon thread that deletes `wren.jobs/<job>/` prefixes it is given."""

    def __init__(self, storage: StorageBackend, bucket: str) -> None:
        self.storage, self.bucket = storage, bucket
        self._queue: queue.Queue[list[JobState] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, jobs: Sequence[JobState]) -> None:
        todo = [job for job in jobs if not job.cleaned]
        if not todo:
            return
        for job in todo:
            job.cleaned = True
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wren-cleaner",
                                                daemon=True)
                self._thread.start()
        self._queue.put(todo)

    def flush(self) -> None:
        """Block until everything submitted so far is deleted."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def stop(self) -> None:
        self.flush()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(5.0)

    def _run(self) -> None:
        while True:
            jobs = self._queue.get()
            try:
                if jobs is None:
                    return
                for job in jobs:
                    self._delete(job)
            finally:
                self._queue.task_done()

    def _delete(self, job: JobState) -> None:
        prefix = keys.job_prefix(job.job_key)
        try:
            self.storage.delete_objects(self.bucket, self.storage.list_keys(self.bucket, prefix))
        except Exception as exc:  # leftovers are removed by `wren clean`
            logger.warning("could not clean %s: %s", prefix, exc)

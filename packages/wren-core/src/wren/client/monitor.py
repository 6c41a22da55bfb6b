"""`JobMonitor`: learns which calls finished, by push where the backend pushes, else by polling.

One daemon thread per executor lists the status prefixes of unfinished jobs, backing off
(×1.5 up to `poll_max`) while nothing changes and snapping back when something does. Pushed
status documents (`status_pushed`) and lost calls (`calls_lost`) are applied at once from the
adapter's thread. Lost calls also get an error status written to storage, so a remote reducer
waiting on the job sees them. `stop()` ends the thread; an executor always stops its monitor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from wren.client.job import JobState
from wren.job import keys
from wren.job.lost import lost_calls_document, store_status
from wren.job.status import StatusDocument
from wren.ports.storage import StorageBackend

logger = logging.getLogger("wren")


class JobMonitor:
    """Tracks jobs of one executor; implements the `InvocationListener` protocol."""

    def __init__(self, storage: StorageBackend, bucket: str, condition: threading.Condition,
                 *, poll_min: float = 0.05, poll_max: float = 2.0) -> None:
        self.storage, self.bucket, self.condition = storage, bucket, condition
        self.poll_min, self.poll_max = poll_min, poll_max
        self.jobs: dict[str, JobState] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.polls = 0

    # Lifecycle ----------------------------------------------------------------------------
    def track(self, job: JobState) -> None:
        with self.condition:
            self.jobs[job.job_key] = job
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="wren-monitor", daemon=True)
            self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # Listener -----------------------------------------------------------------------------
    def status_pushed(self, document: bytes) -> None:
        self._apply([StatusDocument.decode(document)])

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        document = lost_calls_document(job_key, call_indices, reason, kind)
        try:
            store_status(self.storage, self.bucket, document)
        except Exception as exc:  # the client still learns; only remote readers miss it
            logger.warning("could not store the error status of lost calls: %s", exc)
        self._apply([document])

    # Internals ----------------------------------------------------------------------------
    def _apply(self, documents: list[StatusDocument]) -> int:
        hooks = []
        completed = 0
        with self.condition:
            for document in documents:
                job = self.jobs.get(document.job_key)
                if job is not None:
                    completed += job.apply(document)
                    hooks.extend(job.due_hooks())
            if completed:
                self.condition.notify_all()
        for hook in hooks:
            try:
                hook()
            except Exception:
                logger.exception("a job progress hook failed")
        return completed

    def _active_jobs(self) -> list[JobState]:
        with self.condition:
            return [job for job in self.jobs.values() if not job.finished]

    def poll_once(self) -> int:
        """List and read new status documents of every unfinished job once."""
        self.polls += 1
        documents: list[StatusDocument] = []
        for job in self._active_jobs():
            for info in self.storage.list_objects(self.bucket, keys.status_prefix(job.job_key)):
                name = info.key.rsplit("/", 1)[-1].removesuffix(".status")
                if job.seen(name):
                    continue
                try:
                    documents.append(StatusDocument.decode(
                        self.storage.get_object(self.bucket, info.key)))
                except Exception as exc:
                    logger.debug("status %s not readable yet: %s", info.key, exc)
        completed = self._apply(documents) if documents else 0
        self._check_deadlines()
        return completed

    def _check_deadlines(self) -> None:
        now = time.time()
        for job in self._active_jobs():
            with self.condition:
                late = job.overdue(now)
            if late:
                self.calls_lost(job.job_key, late,
                                "no status arrived from the worker before the call's deadline "
                                "(its timeout plus a grace period); the worker was lost: "
                                "killed, out of memory, or dropped by the platform")

    def _run(self) -> None:
        interval = self.poll_min
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            if not self._active_jobs():
                interval = self.poll_max
                continue
            try:
                changed = self.poll_once()
            except Exception as exc:
                logger.warning("polling job status failed (will retry): %s", exc)
                changed = 0
            interval = self.poll_min if changed else min(interval * 1.5, self.poll_max)

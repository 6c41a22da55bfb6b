"""`JobMonitor`: learns which calls finished, by push where the backend pushes, else by polling.

One daemon thread per executor lists the status prefixes of unfinished jobs, backing off
(each wait 1.5 times the last, up to `poll_max`) while nothing changes, and snapping back
when something does or a new job starts. Pushed status documents (`status_pushed` from the
adapter, `status_received` from a feed such as the RabbitMQ listener) and lost calls
(`calls_lost`) are applied at once from the caller's thread, as are documents a local
pool's worker names by their storage key (`status_stored`, read here); `arrivals` counts
documents by the way they came. Lost calls also get an error status written to storage, so
a remote reducer waiting on the job sees them. `stop()` ends the thread and every attached
feed; an executor always stops its monitor.

A storage that stops answering never leaves futures waiting forever: task deadlines are
checked whether or not polling works, and once an outage (`wren.client.outage`) outlasts a
job's call timeout plus a grace period, its pending calls fail with a `WorkerLostError` that
names the storage, how long it was unreachable and its last error. Error statuses that could
not be stored during an outage are written once the storage answers again.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from wren._errors import MalformedDocumentError, ProtocolVersionError, TamperedDataError
from wren.client.job import JobState
from wren.client.logs import announce_logs
from wren.client.outage import OUTAGE_GRACE, StorageOutage
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.lost import lost_calls_document, store_status
from wren.protocol.status import StatusDocument

logger = logging.getLogger("wren")


class Feed(Protocol):
    """Something that feeds the monitor from its own thread until stopped."""

    def stop(self, timeout: float = 5.0) -> None: ...


class JobMonitor:
    """Tracks jobs of one executor; implements the `InvocationListener` protocol.

    `adapter_pushes=False` ignores status documents the compute adapter pushes (the client
    chose another channel, e.g. RabbitMQ) but still applies the calls it reports lost.
    """

    def __init__(self, storage: StorageBackend, bucket: str, condition: threading.Condition,
                 key: bytes, *, poll_min: float = 0.05, poll_max: float = 2.0,
                 adapter_pushes: bool = True, outage_grace: float = OUTAGE_GRACE) -> None:
        self.storage, self.bucket, self.condition = storage, bucket, condition
        self.key = key
        self.poll_min, self.poll_max = poll_min, poll_max
        self.adapter_pushes = adapter_pushes
        self.jobs: dict[str, JobState] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._restart = self._sweep = False
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._feeds: list[Feed] = []
        self.polls = 0
        self.interval = poll_min
        self.arrivals: collections.Counter[str] = collections.Counter()
        #: Status documents refused (forged, tampered, malformed, another wren's), by source.
        self.rejected: collections.Counter[str] = collections.Counter()
        #: Refused stored documents, by key: what their listing said (a worker may still
        #: write its real document over a forged one, which must then be read).
        self._refused: dict[str, tuple[int, float | None, str | None]] = {}
        self.outage = StorageOutage(getattr(storage, "name", type(storage).__name__),
                                    outage_grace)
        self._call_timeouts: dict[str, float] = {}
        self._unstored: collections.deque[StatusDocument] = collections.deque()

    # Lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the monitor's thread (idle until a job is tracked; `track` starts it if
        this was not called): the executor starts it when it is created, so its first job
        does not wait for a thread to start."""
        with self._lifecycle:
            if self._thread is None and not self._stop.is_set():
                thread = threading.Thread(target=self._run, name="wren-monitor", daemon=True)
                thread.start()
                # Published only once started: `stop()` from another thread joins it.
                self._thread = thread

    def track(self, job: JobState, call_timeout: float = 0.0) -> None:
        """Watch `job`, whose calls may each run `call_timeout` seconds."""
        with self.condition:
            self.jobs[job.job_key] = job
            self._call_timeouts[job.job_key] = call_timeout
        if self._thread is None:
            self.start()
        self._restart = True
        self._wake.set()

    def attach(self, feed: Feed) -> None:
        """Stop `feed` together with this monitor."""
        self._feeds.append(feed)

    def set_pace(self, poll_min: float, poll_max: float) -> None:
        """Poll storage between these intervals from now on."""
        self.poll_min, self.poll_max = poll_min, poll_max
        self._restart = True
        self._wake.set()

    def sweep(self) -> None:
        """Read the status prefixes now (a feed may have missed documents)."""
        self._sweep = True
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for feed in self._feeds:
            try:
                feed.stop(timeout)
            except Exception:
                logger.exception("stopping a status feed failed")
        with self._lifecycle:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def stopped(self) -> bool:
        """True once `stop()` was called: no status will be applied any more."""
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # Listener -----------------------------------------------------------------------------
    def status_pushed(self, document: bytes) -> None:
        if not self.adapter_pushes:
            self.arrivals["adapter-ignored"] += 1
            return
        self.status_received(document, "adapter")

    #: It takes statuses named by their key (`status_stored`, `wren.ports.compute`).
    reads_stored_statuses = True

    def status_stored(self, key: str, job_key: str = "", indices: Sequence[int] = ()) -> None:
        """A status document its worker stored under `key` and named instead of pushing (a
        local pool's big documents, see `wren.worker.pool.worker_main`): read and applied
        like a pushed one. If it cannot be read now, polling finds it."""
        if not self.adapter_pushes:
            self.arrivals["adapter-ignored"] += 1
            return
        try:
            raw = self.storage.get_object(self.bucket, key)
        except Exception as exc:
            logger.debug("could not read the status %s a worker named: %s", key, exc)
            self._wake.set()
            return
        self.arrivals["adapter-named"] += 1
        found = self._open(raw, key)
        if found is not None:
            self._apply([found])

    def status_received(self, document: bytes, source: str) -> None:
        """Apply an encoded status document that arrived through `source`."""
        self.arrivals[source] += 1
        found = self._open(document, source)
        if found is not None:
            self._apply([found])

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        document = lost_calls_document(job_key, call_indices, reason, kind)
        if self.outage.active:  # don't wait on a dead storage: store it when it is back
            self._unstored.append(document)
        else:
            self._store(document)
        self._apply([document])

    def _store(self, document: StatusDocument) -> bool:
        try:
            store_status(self.storage, self.bucket, document, self.key)
        except Exception as exc:  # the client still learns; only remote readers miss it
            logger.warning("could not store the error status of lost calls (will retry "
                           "when the storage answers): %s", exc)
            self.outage.failed(exc)
            self._unstored.append(document)
            return False
        return True

    def _store_pending(self) -> None:
        """Write the error statuses an outage kept from storage."""
        while self._unstored and not self.outage.active:
            if not self._store(self._unstored.popleft()):
                return

    # Internals ----------------------------------------------------------------------------
    def _open(self, raw: bytes, source: str, job: JobState | None = None
              ) -> StatusDocument | None:
        """The status document in `raw`, or None (with one warning) when it is not one this
        executor's workers wrote: it then executes nothing and completes no call."""
        try:
            document = StatusDocument.open(raw, self.key, source)
        except (MalformedDocumentError, TamperedDataError, ProtocolVersionError) as exc:
            self.rejected[source] += 1
            if job is None:
                job = self._job_named_in(raw)
            if job is not None:
                job.rejected_statuses += 1
            logger.warning("ignored a status document from %s: %s", source, exc)
            return None
        return document

    def _job_named_in(self, raw: bytes) -> JobState | None:
        """The tracked job a rejected pushed document claims to be about, if any."""
        for job_key in list(self.jobs):
            if job_key.encode() in raw:
                return self.jobs[job_key]
        return None

    def _apply(self, documents: list[StatusDocument]) -> int:
        hooks = []
        finished = []
        completed = 0
        with self.condition:
            for document in documents:
                job = self.jobs.get(document.job_key)
                if job is not None:
                    done = job.apply(document)
                    completed += done
                    hooks.extend(job.due_hooks())
                    if done and job.finished:
                        finished.append(job)
            if completed:
                self.condition.notify_all()
        for job in finished:
            announce_logs(job, self.storage, self.bucket)
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
                version = (info.size, info.last_modified, info.etag)
                if job.seen(name) or self._refused.get(info.key) == version:
                    continue
                found = self._open(self.storage.get_object(self.bucket, info.key), info.key,
                                   job)
                if found is not None:
                    documents.append(found)
                else:
                    self._refused[info.key] = version
        self.arrivals["storage"] += len(documents)
        completed = self._apply(documents) if documents else 0
        self._check_deadlines()
        return completed

    def _check_deadlines(self) -> None:
        now = time.time()
        outage = self.outage
        for job in self._active_jobs():
            timeout = self._call_timeouts.get(job.job_key, 0.0)
            with self.condition:
                late = job.overdue(now)
                cut_off = [] if late else outage.overdue(job, timeout, now)
            if late:
                cause = (f"; meanwhile {outage.reason(timeout, now)}" if outage.active else
                         "; the worker was lost: killed, out of memory, or dropped by the "
                         "platform")
                self.calls_lost(job.job_key, late,
                                "no status arrived from the worker before the call's deadline "
                                "(its timeout plus a grace period)" + cause)
            elif cut_off:
                self.calls_lost(job.job_key, cut_off, outage.reason(timeout, now))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            if self._restart:  # a new job: look again soon, not at the backed-off pace
                self._restart = False
                self.interval = self.poll_min
                if not self._sweep:
                    continue
            self._sweep = False
            if not self._active_jobs():
                self.interval = self.poll_max
                continue
            try:
                changed = self.poll_once()
            except Exception as exc:
                self.outage.failed(exc)
                logger.debug("polling job status failed (will retry): %s", exc)
                changed = 0
                self._check_deadlines()
            else:
                self.outage.succeeded()
                self._store_pending()
            self.interval = self.poll_min if changed else min(self.interval * 1.5,
                                                              self.poll_max)

"""`Cleaner`: deletes jobs' temporary data in the background, so `get_result` returns as
soon as results are in hand. It deletes only prefixes of this executor's own jobs (their
data, and when asked their logs and the cloud objects their calls stored) and the cloud
objects it is handed, a tenth of a second after being asked, with whatever else came
meanwhile. `flush()` waits for what was asked so far (without that delay); `clean(fs)` and closing an
executor call it, so explicit cleaning is complete when they return. A job cleaned while
still running may write objects afterwards: its prefixes are deleted once more after it
finishes (at the next request, or at `stop()`)."""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from wren._errors import InvalidInputError
from wren.client import phases
from wren.client.job import JobState
from wren.ports.storage import StorageBackend
from wren.protocol import keys

if TYPE_CHECKING:
    from wren.storage_api.cloudobject import CloudObject

logger = logging.getLogger("wren")

#: Background deletions wait this long for more to delete with them (`flush()` does not).
COALESCE_SECONDS = 0.1
#: At exit, what waits to be deleted gets this long.
EXIT_SECONDS = 10.0

_busy: weakref.WeakSet[Cleaner] = weakref.WeakSet()
_registered = False


def _at_exit(cleaner: Cleaner) -> None:
    """Finish `cleaner`'s waiting deletions when the interpreter exits."""
    global _registered
    if not _registered:
        atexit.register(_finish_all)
        _registered = True
    _busy.add(cleaner)


def _finish_all() -> None:
    for cleaner in list(_busy):
        cleaner.finish_soon(EXIT_SECONDS)

#: One unit of work: (bucket, exact keys to delete, prefixes whose keys to delete).
_Work = tuple[str, list[str], list[str]]


def settled(job: JobState) -> bool:
    """Whether nothing of `job` is left to read: every call reported, and each one's result
    was handed to the user or it failed (a job without output only has to be finished)."""
    if not job.finished:
        return False
    if not job.produces_output:
        return True
    return job.all_read or all(read or job.error_info(index) is not None
                               for index, read in enumerate(job.read))


class Cleaner:
    """A daemon thread that deletes the storage prefixes and objects it is given."""

    def __init__(self, storage: StorageBackend, bucket: str) -> None:
        self.storage, self.bucket = storage, bucket
        self.backend = storage.name or type(storage).__name__
        self._queue: queue.Queue[_Work | None] = queue.Queue()
        self._hurry = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done: set[str] = set()
        self._again: dict[str, tuple[JobState, list[str]]] = {}

    def submit(self, jobs: Sequence[JobState], *, cloudobjects: bool = False,
               logs: bool = False) -> None:
        """Delete these jobs' data (each once), and their logs and the anonymous cloud
        objects their calls stored when asked. A job still running gets its prefixes
        deleted again by `stop()`, as its calls may write after this."""
        self._retry_finished()
        prefixes: list[str] = []
        for job in jobs:
            wanted = [keys.job_prefix(job.job_key)]
            if cloudobjects:
                wanted.append(keys.job_cloudobjects_prefix(job.job_key))
            if logs:
                wanted.append(keys.logs_prefix(job.job_key))
            job.cleaned = True
            if not job.finished:
                _, before = self._again.get(job.job_key, (job, []))
                self._again[job.job_key] = (job, before + [p for p in wanted
                                                           if p not in before])
            prefixes.extend(p for p in wanted if p not in self._done)
        self._done.update(prefixes)
        if prefixes:
            self._put((self.bucket, [], prefixes))

    def delete_cloudobjects(self, cloud_objects: Iterable[CloudObject] | CloudObject) -> None:
        """Delete these cloud objects (all checked first); one of another storage backend
        is left alone, with a warning naming it (this executor cannot reach it)."""
        from wren.storage_api.cloudobject import CloudObject  # the Storage API: when used

        if isinstance(cloud_objects, CloudObject):
            cloud_objects = [cloud_objects]
        found = list(cloud_objects)
        wrong = next((o for o in found if not isinstance(o, CloudObject)), None)
        if wrong is not None:
            raise InvalidInputError(f"cs= takes CloudObjects (from put_cloudobject), got "
                                    f"{type(wrong).__name__}: {wrong!r}")
        by_bucket: dict[str, list[str]] = {}
        for cloud_object in found:
            if cloud_object.backend != self.backend:
                logger.warning("not cleaning %s: it lives in storage backend %r, this "
                               "executor uses %r", cloud_object, cloud_object.backend,
                               self.backend)
                continue
            by_bucket.setdefault(cloud_object.bucket, []).append(cloud_object.key)
        for bucket, names in by_bucket.items():
            self._put((bucket, names, []))

    def flush(self) -> None:
        """Block until everything submitted so far is deleted."""
        if self._thread is not None and self._thread.is_alive():
            self._hurry.set()  # no waiting for more
            try:
                self._queue.join()
            finally:
                self._hurry.clear()

    def _retry_finished(self, everything: bool = False) -> None:
        """Delete again the prefixes of jobs cleaned while running that finished since."""
        for job_key, (job, prefixes) in list(self._again.items()):
            if job.finished or everything:
                if not job.finished:
                    logger.info("job %s still runs; what it writes from now on stays "
                                "until `wren clean`", job_key)
                del self._again[job_key]
                self._put((self.bucket, [], prefixes))

    def stop(self) -> None:
        """Delete once more what jobs cleaned while running left behind, then finish."""
        self._retry_finished(everything=True)
        self.flush()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(5.0)

    def start(self) -> None:
        """Start the deleting thread now (the executor does, when it is created), so the
        first job's `get_result` does not wait for a thread to start (a fraction of a
        millisecond on a busy machine); it is started on first use otherwise."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wren-cleaner",
                                                daemon=True)
                self._thread.start()
                _at_exit(self)

    def _put(self, work: _Work) -> None:
        self.start()
        self._queue.put(work)

    def finish_soon(self, timeout: float) -> None:
        """Delete what is waiting now, giving up after `timeout` seconds (at exit: a script
        that never closed its executor leaves no job data behind for a delay's sake)."""
        if self._thread is None or not self._thread.is_alive():
            return
        self._hurry.set()
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            if batch[0] is not None:
                # Let more come first: a loop of short jobs is then cleaned in batches, not
                # each while the next one is being submitted (when this thread would take
                # the interpreter lock from the client for milliseconds).
                self._hurry.wait(COALESCE_SECONDS)
            while batch[-1] is not None:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for work in batch:
                try:
                    if work is not None:
                        self._delete(*work)
                finally:
                    self._queue.task_done()
            if batch[-1] is None:
                return

    def _delete(self, bucket: str, names: list[str], prefixes: list[str]) -> None:
        began = time.perf_counter() if phases.telling() else 0.0
        deleted = 0
        try:
            if names:
                self.storage.delete_objects(bucket, names)
                deleted += len(names)
        except Exception as exc:
            logger.warning("could not delete %d cloud objects in bucket %r: %s",
                           len(names), bucket, exc)
        for prefix in prefixes:
            try:
                found = self.storage.list_keys(bucket, prefix)
                self.storage.delete_objects(bucket, found)
                deleted += len(found)
            except Exception as exc:  # leftovers are removed by `wren clean`
                logger.warning("could not clean %s: %s", prefix, exc)
        if began:
            logger.info("cleaned %s in %s (%s)", phases.plural(deleted, "object"),
                        phases.since(began), ", ".join(prefixes) or f"bucket {bucket!r}")

"""Read what calls printed: `future.logs`, `wren logs`, and the client's note of where it is.

Workers store each flushed part's output as one object under `wren.logs/<job key>/` (see
`wren.worker.output`), named by the status document that reports those calls. A future
reads its document's object once per job and keeps it; `read_job_logs` merges every part
of a job for the command line. Log objects outlive the job's temporary data (they are not
removed when results are read) until `FunctionExecutor.clean` or `wren clean`.
"""

from __future__ import annotations

import logging
import weakref

import attrs

from wren._errors import StorageNoSuchKeyError, WrenError
from wren.client.job import JobState
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.logs import decode_logs

logger = logging.getLogger("wren")

_cache: weakref.WeakKeyDictionary[JobState, dict[str, dict[int, str]]] = \
    weakref.WeakKeyDictionary()


@attrs.frozen
class LoggedJob:
    """A job that left output in storage, as `wren logs list` shows it."""

    job_key: str
    parts: int
    size: int
    last_modified: float | None


def where(storage: StorageBackend, bucket: str, job_key: str) -> str:
    return f"{storage.name}://{bucket}/{keys.logs_prefix(job_key)}"


def call_logs(job: JobState, index: int) -> str | None:
    """What call `index` printed, "" when nothing, None while the call has not finished."""
    document = job.docs[index]
    if document is None:
        return None
    key = document.worker.get("logs_key")
    if not key:
        return ""
    parts = _cache.setdefault(job, {})
    found = parts.get(document.name)
    if found is None:
        session = job.executor_services
        try:
            found = decode_logs(session.storage.get_object(session.bucket, key))
        except StorageNoSuchKeyError:
            raise WrenError(f"the output of {job.job_key} call {index:05d} is no longer in "
                            f"storage ({key} was removed by clean)") from None
        parts[document.name] = found
    return found.get(index, "")


def announce_logs(job: JobState, storage: StorageBackend, bucket: str) -> None:
    """Log, once a job finished, how many calls printed something and where to read it."""
    keys_seen = {d.worker.get("logs_key") for d in job.documents} - {None}
    if not keys_seen:
        return
    printed = sum(1 for d in job.documents for extra in d.extra.values()
                  if extra.get("worker_log_bytes"))
    logger.info("job %s: %d of %d calls wrote output; read it with future.logs or "
                "`wren logs get %s` (stored under %s)", job.job_key, printed, job.size,
                job.job_key, where(storage, bucket, job.job_key))


def read_job_logs(storage: StorageBackend, bucket: str, job_key: str) -> dict[int, str]:
    """Every call's output of a job, merged over its parts, by call index (-1: outside any
    call). Empty when the job printed nothing or its logs were cleaned."""
    merged: dict[int, str] = {}
    for key in storage.list_keys(bucket, keys.logs_prefix(job_key)):
        try:
            found = decode_logs(storage.get_object(bucket, key))
        except StorageNoSuchKeyError:
            continue
        for index, text in found.items():
            merged[index] = merged.get(index, "") + text
    return dict(sorted(merged.items()))


def list_logged_jobs(storage: StorageBackend, bucket: str) -> list[LoggedJob]:
    """Jobs with output in storage, oldest first."""
    jobs: dict[str, list[tuple[int, float | None]]] = {}
    for info in storage.list_objects(bucket, keys.LOGS_PREFIX):
        job_key = info.key[len(keys.LOGS_PREFIX):].rsplit("/", 1)[0]
        jobs.setdefault(job_key, []).append((info.size, info.last_modified))
    found = [LoggedJob(key, len(parts), sum(size for size, _ in parts),
                       max((t for _, t in parts if t is not None), default=None))
             for key, parts in jobs.items()]
    return sorted(found, key=lambda job: (job.last_modified or 0.0, job.job_key))


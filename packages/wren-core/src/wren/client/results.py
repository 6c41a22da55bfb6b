"""Download results and rebuild remote exceptions.

Futures are grouped by the status document that completed them; each document's result
object (one pickled list) is fetched once, in parallel threads across documents (unless it
came inside the status object, which is then let go), and its values land in the job's
columns with one slice assignment. A failed call becomes its original exception when it can be unpickled here, with
the remote traceback as its cause; otherwise a `RemoteError` (or `WorkerLostError`,
`FunctionTimeoutError`) that keeps the remote type, message and traceback.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from wren._errors import RemoteTraceback
from wren.client import phases
from wren.client.futures import ResponseFuture
from wren.client.job import JobState
from wren.client.references import ReferenceReader, adoptions, reading_results
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend
from wren.protocol.results import load_document_values, result_object
from wren.protocol.status import StatusDocument

_MAX_DOWNLOAD_THREADS = 16
#: Below this many result bytes in all, downloading one after another beats starting threads.
_PARALLEL_BYTES = 1024 * 1024


def fetch_documents(pairs: Sequence[tuple[JobState, StatusDocument]], storage: StorageBackend,
                    bucket: str, serializer: Serializer, key: bytes,
                    reader: ReferenceReader | None = None) -> None:
    """Download the results of these documents into their jobs' columns (futures found in
    them are adopted by `reader`, see `wren.client.references`)."""

    backend = _backend_name(reader)

    def _load(pair: tuple[JobState, StatusDocument]) -> None:
        job, document = pair
        blob = result_object(document, storage, bucket)
        before = adoptions()
        if reader is None:
            values = load_document_values(document, blob, serializer, key)
        else:
            with reading_results(key, reader):
                values = load_document_values(document, blob, serializer, key)
        if adoptions() != before:  # (another thread's adoption only costs a scan)
            job.returned_futures = True
        indices = document.indices
        if isinstance(indices, range) and indices.step == 1:
            job.values[indices.start:indices.stop] = values
        else:
            for index, value in zip(indices, values):
                job.values[index] = value
        for position in document.errors:
            index = indices[position]
            if job.docs[index] is document:
                job.exceptions[index] = _located(values[position], job, document, index,
                                                 backend)
                job.values[index] = None
        job.loaded.add(document.name)
        document.release_result()
        job.result_times[document.name] = time.time()

    fetched = [document for _, document in pairs if document.inline_result is None]
    size = sum(document.worker.get("result_bytes", _PARALLEL_BYTES) for document in fetched)
    began = time.perf_counter() if pairs and phases.telling() else 0.0
    if len(pairs) == 1 or size < _PARALLEL_BYTES:
        for pair in pairs:
            _load(pair)
    elif pairs:
        from concurrent.futures import ThreadPoolExecutor  # big results only

        with ThreadPoolExecutor(min(_MAX_DOWNLOAD_THREADS, len(pairs))) as pool:
            list(pool.map(_load, pairs))
    if began:
        phases.logger.info(
            "results of %s read in %s: %s downloaded (%s), %d more in status objects",
            phases.plural(sum(len(document.indices) for _, document in pairs), "call"),
            phases.since(began), phases.plural(len(fetched), "result object"),
            phases.size_text(sum(document.worker.get("result_bytes", 0)
                                 for document in fetched)), len(pairs) - len(fetched))


def _located(exc: Any, job: JobState, document: StatusDocument, index: int,
             backend: str) -> Any:
    """`exc` with its remote traceback saying which call of which job raised it, where."""
    cause = getattr(exc, "__cause__", None)
    if isinstance(cause, RemoteTraceback) and not cause.where:
        worker = document.worker
        place = f" on {backend}" if backend else ""
        host = " ".join(f"{name} {worker[name]}" for name in ("host", "pid")
                        if worker.get(name) is not None)
        cause.where = (f"remote call {index:05d} of job {job.job_key}{place}"
                       + (f", worker {host}" if host else ""))
    return exc


def _backend_name(reader: Any) -> str:
    """The compute backend of the executor that owns the session `reader` (if known)."""
    owner = getattr(reader, "owner", None)
    executor = owner() if callable(owner) else None
    return str(getattr(getattr(executor, "compute", None), "name", "") or "")


def missing_documents(futures: Sequence[ResponseFuture]
                      ) -> list[tuple[JobState, StatusDocument]]:
    """Documents whose results some of these done futures still need."""
    found: dict[int, tuple[JobState, StatusDocument]] = {}
    for future in futures:
        job = future.job
        doc = job.docs[future.index]
        if doc is not None and doc.name not in job.loaded and id(doc) not in found:
            found[id(doc)] = (job, doc)
    return list(found.values())


def job_documents(jobs: Sequence[JobState]) -> list[tuple[JobState, StatusDocument]]:
    """Documents of whole jobs whose results were not downloaded yet."""
    return [(job, doc) for job in jobs for doc in job.documents if doc.name not in job.loaded]

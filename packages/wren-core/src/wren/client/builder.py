"""Build a job: pack and upload the function once, serialize the arguments, cut tasks.

Calls per task: the user's `chunksize` (then no pool cuts the tasks again), else the
adapter's plan adjusted to the calls' measured duration (`wren.client.grouping`).

Each task's arguments are one pickled list, and the lists are laid end to end in one blob.
Inline, they travel inside the invocation, next to the executor's key, so the channel that
protects the key protects them; in the job's data object (storage) each list is sealed with
the key and bound to the job and the chunk's first call (`Task.args_context`).
When every task's list fits the compute backend's payload limit it travels inline; otherwise
the blob is uploaded as the job's data object and each task reads its own byte range of it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from wren._errors import SerializationError, StorageNoSuchKeyError, TamperedDataError
from wren.client import phases
from wren.client.binding import BoundCalls
from wren.client.grouping import CallTimes, calls_per_task
from wren.ports import capabilities
from wren.ports.compute import ComputeBackend
from wren.ports.serializer import Serializer
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.signing import check_digest, seal_header
from wren.protocol.task import Task, TaskOptions
from wren.serialize.function_blob import pack_function
from wren.serialize.out_of_band import offloading, shared_put

logger = logging.getLogger("wren")

#: Keys of the function blobs this process uploaded itself (not found already stored):
#: what `wren.own_objects` may delete without touching another process's functions.
STORED_HERE: set[str] = set()

#: Without an explicit chunksize, a task's arguments should stay around this size, so big
#: arguments spread over workers instead of queueing behind each other in one task.
TARGET_TASK_BYTES = 4 * 1024 * 1024


def _calls_per_task_by_size(payloads: list[Any], target: int = TARGET_TASK_BYTES) -> int:
    """An upper bound on calls per task from the (cheaply estimated) size of the arguments:
    about `target` bytes of them per task."""
    sample = payloads[:8]
    if not sample:
        return 1
    estimate = sum(sys.getsizeof(p) for p in sample) / len(sample)
    return max(1, int(target // max(estimate, 1)))


@attrs.frozen
class JobSpec:
    """Everything a user asked for one job."""

    func: Callable[..., Any]
    calls: BoundCalls
    job_id: str
    timeout: float
    extra_env: dict[str, str] = attrs.field(factory=dict)
    runtime_memory: int | None = None
    include_modules: Sequence[str] | None = ()
    exclude_modules: Sequence[str] = ()
    chunksize: int | None = None
    options: TaskOptions = attrs.field(factory=TaskOptions)
    #: Whether the calls' arguments name results of earlier calls (futures as iterdata);
    #: None leaves it to the worker to look.
    reads_results: bool | None = None


class JobBuilder:
    """Turns a `JobSpec` into tasks for one executor's storage and compute backend."""

    def __init__(self, executor_id: str, storage: StorageBackend, bucket: str,
                 serializer: Serializer, compute: ComputeBackend, key: bytes,
                 preinstalled: Callable[[], frozenset[str]] = frozenset) -> None:
        self.executor_id, self.storage, self.bucket = executor_id, storage, bucket
        self.key = key
        self.serializer, self.compute, self.preinstalled = serializer, compute, preinstalled
        self._uploaded: set[str] = set()
        self._lock = threading.Lock()
        #: Measured call times of earlier jobs; the executor points `jobs` at its jobs.
        self.call_times = CallTimes()

    def upload_function(self, func: Callable[..., Any], include: Sequence[str] | None,
                        exclude: Sequence[str]) -> str:
        began = time.perf_counter() if phases.telling() else 0.0
        blob = pack_function(func, self.serializer, include, exclude, self.preinstalled())
        key = keys.func_key(blob.digest)
        with self._lock:
            known = key in self._uploaded
        if not known:
            stored = self._stored_intact(key, blob.digest)
            if not stored:
                self.storage.put_object(self.bucket, key, blob.data)
                STORED_HERE.add(key)
            with self._lock:
                self._uploaded.add(key)
            if began:
                phases.logger.info("function %s() packed (%s) and %s %s in %s",
                                   getattr(func, "__qualname__", type(func).__name__),
                                   phases.size_text(len(blob.data)),
                                   "found already stored as" if stored else "uploaded to",
                                   key, phases.since(began))
        return key

    def _stored_intact(self, key: str, digest: str) -> bool:
        """True when `key` holds exactly the blob of `digest`. A blob someone replaced is
        uploaded again (workers check the hash too, so it could never run anyway)."""
        try:
            check_digest(key, self.storage.get_object(self.bucket, key), digest)
        except StorageNoSuchKeyError:
            return False
        except TamperedDataError as exc:
            logger.warning("%s; uploading the function again", exc)
            return False
        return True

    def serialize_chunks(self, payloads: list[Any],
                         bounds: list[tuple[int, int]]) -> list[bytes]:
        """One pickled list of payloads per task."""
        try:
            if bounds == [(0, len(payloads))] and type(payloads) is list:  # one task: no copy
                return [self.serializer.dumps(payloads)]
            return [self.serializer.dumps(payloads[lo:hi]) for lo, hi in bounds]
        except Exception:
            for index, payload in enumerate(payloads):
                try:
                    self.serializer.dumps(payload)
                except Exception as exc:
                    raise SerializationError(
                        f"the arguments of call {index} cannot be serialized: "
                        f"{type(exc).__name__}: {exc}. Pass data that pickles (plain values, "
                        "containers, arrays), or open resources inside the function") from exc
            raise

    def build(self, spec: JobSpec) -> list[Task]:
        job_key = f"{self.executor_id}/{spec.job_id}"
        func_key = self.upload_function(spec.func, spec.include_modules, spec.exclude_modules)
        began = time.perf_counter() if phases.telling() else 0.0
        payloads = spec.calls.payloads
        n = len(payloads)
        size = spec.chunksize or calls_per_task(
            n, min(self.compute.plan_chunksize(n), _calls_per_task_by_size(
                payloads, self.compute.task_bytes or TARGET_TASK_BYTES)),
            self.call_times.per_call(func_key), self.compute.max_workers)
        self.call_times.job_built(job_key, func_key)
        bounds = [(lo, min(lo + size, n)) for lo in range(0, n, size)]
        # Workers on this machine read big arguments from shared memory, not the pickles.
        put = shared_put(self.storage, self.bucket, job_key) \
            if self.compute.supports(capabilities.SHARED_MEMORY) else None
        with offloading(put):
            pickled = self.serialize_chunks(payloads, bounds)
        serialized = phases.since(began) if began else ""
        inline = max(map(len, pickled), default=0) <= self.compute.max_payload_bytes
        ranges: list[tuple[int, int]] = []
        data_key = None
        if inline:  # inside the invocation, with the key: the channel itself vouches for them
            chunks: list[bytes | None] = list(pickled)
            ranges = [(0, len(body)) for body in pickled]
        else:  # in storage: each chunk sealed, one object copied once (header, chunk, ...)
            headers = [seal_header(self.key, f"{job_key}/args/{lo}", chunk)
                       for (lo, _), chunk in zip(bounds, pickled)]
            chunks = [None] * len(pickled)
            data_key = keys.data_key(job_key)
            position = 0
            for header, body in zip(headers, pickled):
                ranges.append((position, position + len(header) + len(body)))
                position += len(header) + len(body)
            sent = time.perf_counter() if began else 0.0
            self.storage.put_object(self.bucket, data_key, b"".join(
                part for pair in zip(headers, pickled) for part in pair))
        if began:
            phases.logger.info(
                "job %s: arguments of %s serialized in %s (%s in %s), %s", job_key,
                phases.plural(n, "call"), serialized,
                phases.size_text(sum(map(len, pickled))), phases.plural(len(pickled), "task"),
                "sent inside the invocations" if inline else
                f"uploaded to {data_key} in {phases.since(sent)}")
        worker_storage = self.compute.worker_storage
        options = spec.options
        if spec.chunksize:  # the user's grouping: no pool cuts these tasks
            options = attrs.evolve(options, keep_together=True)
        now = time.time()
        tasks = []
        for number, ((lo, hi), chunk, data_range) in enumerate(zip(bounds, chunks, ranges)):
            tasks.append(Task(
                job_key=job_key, task_id=f"t{number:05d}", func_key=func_key,
                call_indices=range(lo, hi), data_range=data_range,
                storage_backend=worker_storage.backend,
                storage_config=dict(worker_storage.public_config), bucket=self.bucket,
                serializer=self.serializer.name, binding=spec.calls.binding,
                data_key=data_key,
                inline_data=chunk,
                timeout=spec.timeout, runtime_memory=spec.runtime_memory,
                extra_env=dict(spec.extra_env), host_submit_time=now, options=options,
                reads_results=spec.reads_results))
        return tasks

"""What a pickled future is: a reference to its call, and how a reader turns it back.

`FutureReference` names a call (executor id, job key, kind and size, call index) and where
its job lives (storage backend, bucket, serializer); it never holds a key. A future
unpickled while an executor reads results (`reading_results`) is adopted by that reader:
the job of a live executor of this process is itself; any other job is read from storage,
authenticated with `derive_key(<key of the result that held the reference>, <executor id>)`
(an executor created inside a worker derives its key that way, so nothing new travels).
Unpickled anywhere else, the future can only say what it refers to.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from wren.client.job import JobState


@attrs.frozen
class FutureReference:
    """Enough to find one call's status and result in storage (and no secret)."""

    executor_id: str
    job_key: str
    kind: str
    size: int
    index: int
    produces_output: bool
    storage: str
    bucket: str
    serializer: str


class ReferenceReader(Protocol):
    """What adopts references found in results it reads (the client session)."""

    def adopt(self, reference: FutureReference, key: bytes) -> JobState:
        """The job `reference` belongs to, read with `key`."""


_live: weakref.WeakValueDictionary[str, JobState] = weakref.WeakValueDictionary()
_local = threading.local()


def register(job: JobState) -> None:
    """Note a job of an executor of this process (a reference to it adopts the job)."""
    _live[job.job_key] = job


@contextmanager
def reading_results(key: bytes, reader: ReferenceReader) -> Iterator[None]:
    """Within this block (on this thread), futures unpickled from results sealed with `key`
    are adopted by `reader`."""
    saved = getattr(_local, "frame", None)
    _local.frame = (key, reader)
    try:
        yield
    finally:
        _local.frame = saved


_adoptions = 0


def adoptions() -> int:
    """How many futures were unpickled in this process so far (a reader compares the count
    before and after loading results to learn whether they held any)."""
    return _adoptions


def adopt(reference: FutureReference) -> JobState:
    """The job of an unpickled future (see the module docstring)."""
    from wren.protocol.signing import derive_key

    global _adoptions
    _adoptions += 1
    live = _live.get(reference.job_key)
    if live is not None and live.size == reference.size and not isinstance(
            live.executor_services, _Unreachable):
        return live
    frame: Any = getattr(_local, "frame", None)
    if frame is None:
        return detached_job(reference, "it was unpickled outside the results an executor "
                            "reads, so nothing can authenticate its result")
    key, reader = frame
    return reader.adopt(reference, derive_key(key, reference.executor_id))


class _Unreachable:
    """The services of a job no executor here can read: every use says why."""

    bucket: str

    def __init__(self, reference: FutureReference, why: str) -> None:
        self.reference, self.why = reference, why
        self.bucket = reference.bucket
        self.storage = type("StorageName", (), {"name": reference.storage})()
        self.serializer = type("SerializerName", (), {"name": reference.serializer})()

    def _refuse(self) -> Any:
        from wren._errors import InvalidInputError

        raise InvalidInputError(
            f"the future of call {self.reference.index} of {self.reference.job_key} cannot be "
            f"read here: {self.why}. Get it through the executor whose results returned it "
            "(its get_result follows returned futures)")

    def wait_and_fetch(self, futures: Any, timeout: float | None = None) -> None:
        self._refuse()

    def cancel(self, future: Any) -> bool:
        return bool(self._refuse())


def detached_job(reference: FutureReference, why: str) -> JobState:
    """A job whose futures only say what they refer to (their use raises, saying `why`)."""
    from wren.client.job import JobState
    from wren.protocol.task import JobKind

    return JobState(_Unreachable(reference, why), reference.executor_id,
                    JobKind(reference.kind), 0, reference.size,
                    produces_output=reference.produces_output,
                    job_id=reference.job_key.rsplit("/", 1)[-1])

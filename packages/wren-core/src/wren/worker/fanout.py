"""The remote invoker: one invocation fans out a job's tasks from inside the platform.

With `remote_invoker`, a compute adapter stages the tasks of an `invoke` in storage
(`stage_fanout`, sealed with the executor's key: whoever can write the bucket cannot change
what the fan-out invokes) and sends a single invocation carrying the small `FanoutRequest`
instead of one invocation per task. The worker that receives it (`run_fanout`) reads the
tasks back and invokes them through the same compute port, built from the request's public
settings and the compute credentials the platform gave that worker, so the client's uplink
carries one request whatever the job's size. A task the worker cannot deliver gets an error
status in storage (`wren.worker.reports.LostCallsWriter`), so the client reports it instead
of waiting. Any adapter that declares `capabilities.REMOTE_INVOKER` can use it; the inner
compute runs with `remote_invoker` off.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from wren import plugins
from wren.ports.compute import WorkerStorage
from wren.ports.storage import StorageBackend
from wren.protocol import keys
from wren.protocol.invocation import Invocation, decode_key, encode_key
from wren.protocol.signing import open_sealed, seal
from wren.protocol.task import Task
from wren.worker.reports import LostCallsWriter
from wren.worker.storage_access import open_storage

logger = logging.getLogger("wren")

#: The payload field that carries a `FanoutRequest` (as a dict).
FANOUT_FIELD = "wren_fanout"


@attrs.frozen
class FanoutRequest:
    """Where a fan-out worker finds the tasks, and how it reaches storage and compute
    (public settings only: credentials come from the worker's platform)."""

    job_key: str
    bucket: str
    key: str
    count: int
    storage_backend: str
    storage_config: Mapping[str, Any]
    compute_backend: str
    compute_config: Mapping[str, Any]
    #: The executor's key: the request travels only in the invocation channel.
    executor_key: bytes = attrs.field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        out["executor_key"] = encode_key(self.executor_key)
        return out

    def public_json(self) -> str:
        """The request without its key, as JSON: what a batch platform may see in a
        container's environment (the key comes from a platform secret)."""
        return json.dumps({k: v for k, v in attrs.asdict(self).items() if k != "executor_key"},
                          default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FanoutRequest:
        known = {f.name for f in attrs.fields(cls)}
        fields = {k: v for k, v in data.items() if k in known}
        fields["executor_key"] = decode_key(fields.get("executor_key"))
        return cls(**fields)


def stage_fanout(invocations: Sequence[Invocation], worker_storage: WorkerStorage,
                 compute_backend: str, compute_public: Mapping[str, Any]) -> FanoutRequest:
    """Store the tasks under their job's prefix (deleted with the job), sealed with the
    executor's key, and return the request a fan-out worker needs. All tasks must belong to
    one job."""
    if not invocations:
        raise ValueError("a fan-out needs at least one task")
    tasks = [invocation.task for invocation in invocations]
    executor_key = invocations[0].key
    job_key, bucket = tasks[0].job_key, tasks[0].bucket
    if any(t.job_key != job_key for t in tasks):
        raise ValueError("a fan-out carries the tasks of one job only")
    storage = open_storage(worker_storage.backend, worker_storage.public_config,
                           worker_storage.config)
    key = f"{keys.job_prefix(job_key)}fanout/{uuid.uuid4().hex[:12]}.tasks"
    body = json.dumps([task.to_dict() for task in tasks]).encode()
    storage.put_object(bucket, key, seal(executor_key, f"fanout:{key}", body))
    return FanoutRequest(job_key, bucket, key, len(tasks), worker_storage.backend,
                         dict(worker_storage.public_config), compute_backend,
                         dict(compute_public), executor_key)


def staged_invocations(request: FanoutRequest, storage: StorageBackend) -> list[Invocation]:
    """The tasks `stage_fanout` stored for `request`, authenticated with its key
    (`TamperedDataError` if anyone changed them). A platform that starts one instance per
    task (an array job) runs `staged_invocations(...)[index]` in each."""
    raw = storage.get_object(request.bucket, request.key)
    key = request.executor_key
    staged = json.loads(bytes(open_sealed(key, f"fanout:{request.key}", raw)))
    return [Invocation(Task.from_dict(data), key) for data in staged]


def run_fanout(request: FanoutRequest, storage_private: Mapping[str, Any],
               compute_private: Mapping[str, Any], timeout: float | None = None) -> int:
    """Invoke the staged tasks through the compute port; return how many were delivered.

    Runs inside a worker. `storage_private` and `compute_private` are the credentials the
    platform gave the worker (never part of the request)."""
    storage = open_storage(request.storage_backend, request.storage_config, storage_private)
    executor_key = request.executor_key
    invocations = staged_invocations(request, storage)
    worker_storage = WorkerStorage(request.storage_backend,
                                   {**request.storage_config, **storage_private},
                                   dict(request.storage_config))
    config = {**request.compute_config, **compute_private, "remote_invoker": False}
    compute = plugins.compute_backend_class(request.compute_backend)(config, worker_storage)
    listener = LostCallsWriter(storage, request.bucket, executor_key, host="fan-out")
    try:
        compute.invoke(invocations, listener)
        if not compute.wait_dispatched(timeout):
            logger.warning("fan-out of %s: not every task was delivered within %s s",
                           request.job_key, timeout)
    finally:
        compute.close()
    return len(invocations) - listener.lost

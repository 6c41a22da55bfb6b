"""`Task`: the payload that tells a worker which calls of a job to run.

A task names the job, the content-addressed function, and the byte range that holds its
calls' arguments: one pickled list, inline in `inline_data` or inside the job's data object
in storage. `call_indices` (often a `range`) numbers the calls; a retried subset keeps the
parent's list and names the `positions` in it to run (a `range` when they are contiguous, as
in the slices a pool cuts a task into, `split`). `binding` says how a payload becomes
a call (`wren.protocol.binding`) and `options` what the worker does besides running calls.

A task carries the storage backend's *public* settings only; credentials reach workers
through the platform's secret mechanism. `to_dict()` gives the one JSON-safe encoding for
HTTP and queue transports (inline bytes as base64; `binary=True` keeps raw bytes for pipes),
stamped with the protocol version; `from_dict` checks that version and the fields' types.
"""

from __future__ import annotations

import base64
import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from wren.protocol.binding import CallBinding
from wren.protocol.fields import decode_indices, encode_indices
from wren.protocol.version import MalformedDocumentError, check, stamp

DEFAULT_FLUSH_INTERVAL = 2.0


class JobKind(enum.Enum):
    """What a job is for; its id starts with the value (`M000`, `R001`)."""

    CALL = "A"
    MAP = "M"
    REDUCE = "R"


@attrs.frozen
class TaskOptions:
    """What a worker does besides running the calls: how often it flushes statuses and
    results while a task runs, where it pushes statuses (`monitoring="rabbitmq"` with
    the client's `status_queue`), and whether its calls must run together in one worker
    (`keep_together`: the user chose the chunksize, so a pool never cuts the task)."""

    flush_interval: float = DEFAULT_FLUSH_INTERVAL
    monitoring: str | None = None
    status_queue: str | None = None
    keep_together: bool = False

    def to_dict(self) -> dict[str, Any]:
        interval = self.flush_interval
        return {"flush_interval": None if math.isinf(interval) else interval,
                "monitoring": self.monitoring, "status_queue": self.status_queue,
                "keep_together": self.keep_together}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskOptions:
        interval = data.get("flush_interval")
        return cls(math.inf if interval is None else float(interval), data.get("monitoring"),
                   data.get("status_queue"), bool(data.get("keep_together", False)))


@attrs.frozen
class Task:
    """One unit of work for one worker: some calls of one job."""

    job_key: str
    task_id: str
    func_key: str
    call_indices: Sequence[int]
    data_range: tuple[int, int]
    storage_backend: str
    storage_config: Mapping[str, Any]
    bucket: str
    serializer: str = "cloudpickle"
    binding: CallBinding = attrs.field(factory=CallBinding)
    positions: Sequence[int] | None = None
    data_key: str | None = None
    inline_data: bytes | None = None
    timeout: float = 1800.0
    runtime_memory: int | None = None
    extra_env: Mapping[str, str] = attrs.field(factory=dict)
    host_submit_time: float = 0.0
    attempt: int = 0
    options: TaskOptions = attrs.field(factory=TaskOptions)
    #: Whether some call's arguments name results of earlier calls (futures passed as
    #: iterdata); None when the client did not say, and the worker looks for them.
    reads_results: bool | None = None

    @property
    def executor_id(self) -> str:
        return self.job_key.split("/", 1)[0]

    @property
    def job_id(self) -> str:
        return self.job_key.split("/", 1)[1]

    @property
    def chunk_start(self) -> int:
        """The index of the first call of the chunk of arguments this task reads: a retried
        subset still reads its parent's chunk, at `positions`."""
        if not self.call_indices:
            return 0
        return self.call_indices[0] - (self.positions[0] if self.positions else 0)

    def args_context(self) -> str:
        """What the task's sealed arguments are bound to (see `wren.protocol.signing`)."""
        return f"{self.job_key}/args/{self.chunk_start}"

    def subset(self, call_indices: Sequence[int], suffix: str, *, retry: bool = True) -> Task:
        """A task for some of these calls, with its own id: to retry them elsewhere (the
        attempt counts up), or with `retry=False` a slice run beside the rest."""
        own = list(self.call_indices)
        where = {index: i for i, index in enumerate(own)}
        base = self.positions if self.positions is not None else range(len(own))
        return attrs.evolve(
            self, task_id=f"{self.task_id}{suffix}", call_indices=list(call_indices),
            positions=[base[where[i]] for i in call_indices],
            attempt=self.attempt + 1 if retry else self.attempt)

    def split(self, size: int) -> tuple[Task, Task]:
        """The first `size` calls as a slice of their own (its id ends with `.s` and its first
        call index), and the task for the rest (same id): run beside each other, not retried.
        Contiguous calls stay ranges, so cutting a big task costs the same as a small one."""
        base = self.positions if self.positions is not None else range(len(self.call_indices))
        head = self.call_indices[:size]
        return (attrs.evolve(self, task_id=f"{self.task_id}.s{head[0]}", call_indices=head,
                             positions=base[:size]),
                attrs.evolve(self, call_indices=self.call_indices[size:],
                             positions=base[size:]))

    def with_changes(self, **changes: Any) -> Task:
        """A copy with some fields replaced (a runtime capping `timeout`, say)."""
        return attrs.evolve(self, **changes)

    def to_dict(self, binary: bool = False) -> dict[str, Any]:
        out = attrs.asdict(self, recurse=False)
        out["call_indices"] = encode_indices(self.call_indices)
        out["data_range"] = list(self.data_range)
        out["storage_config"] = dict(self.storage_config)
        out["extra_env"] = dict(self.extra_env)
        out["binding"] = self.binding.to_dict()
        if self.positions is not None:
            out["positions"] = encode_indices(self.positions)
        out["options"] = self.options.to_dict()
        if self.inline_data is not None and not binary:
            out["inline_data"] = base64.b64encode(self.inline_data).decode("ascii")
        return stamp(out)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        check(data, "task")
        fields = {f.name: data[f.name] for f in attrs.fields(cls) if f.name in data}
        try:
            inline = fields.get("inline_data")
            if isinstance(inline, str):
                fields["inline_data"] = base64.b64decode(inline, validate=True)
            fields["call_indices"] = decode_indices(fields["call_indices"])
            if fields.get("positions") is not None:
                fields["positions"] = decode_indices(fields["positions"])
            start, end = fields["data_range"]
            fields["data_range"] = (int(start), int(end))
            fields["binding"] = CallBinding.from_dict(fields.get("binding") or {"mode": "args"})
            fields["options"] = TaskOptions.from_dict(fields.get("options") or {})
            task = cls(**fields)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedDocumentError(f"malformed task: {type(exc).__name__}: {exc}") from None
        for name in ("job_key", "task_id", "func_key", "bucket", "storage_backend"):
            if not isinstance(getattr(task, name), str):
                raise MalformedDocumentError(f"malformed task: {name} is not a string")
        if task.reads_results not in (None, True, False):
            raise MalformedDocumentError("malformed task: reads_results is not a boolean")
        return task

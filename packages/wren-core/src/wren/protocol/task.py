"""`Task`: the payload that tells a worker which calls of a job to run.

A task names the job, the content-addressed function, and the byte range that holds its
calls' arguments: one pickled list, inline in `inline_data` or inside the job's data object
in storage. `call_indices` (often a `range`) numbers the calls; a retried subset keeps the
parent's list and names the `positions` in it to run. `call` says how a list item becomes a
call (`kwargs`: a dict of arguments or an `(args, kwargs)` pair; `value:<name>`: a plain
value for parameter `<name>`; `value`: a plain value passed positionally) and `inject_id`
whether the call index goes to an `id` parameter.

A task carries the storage backend's *public* settings only; credentials reach workers
through the platform's secret mechanism. `to_dict()` gives a JSON-safe form for HTTP and
queue transports (inline bytes as base64); `to_dict(binary=True)` keeps raw bytes for pipes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from wren.__about__ import __version__


def _encode_indices(indices: Sequence[int]) -> Any:
    if isinstance(indices, range) and indices.step == 1:
        return {"range": [indices.start, indices.stop]}
    return list(indices)


def _decode_indices(raw: Any) -> Sequence[int]:
    if isinstance(raw, Mapping):
        return range(*raw["range"])
    return raw if isinstance(raw, range) else list(raw)


@attrs.define(slots=True)
class Task:
    """One unit of work for one worker: some calls of one job."""

    job_key: str
    task_id: str
    func_key: str
    call_indices: Sequence[int]
    data_range: tuple[int, int]
    storage_backend: str
    storage_config: dict[str, Any]
    bucket: str
    serializer: str = "cloudpickle"
    call: str = "kwargs"
    inject_id: bool = False
    positions: list[int] | None = None
    data_key: str | None = None
    inline_data: bytes | None = None
    timeout: float = 1800.0
    runtime_memory: int | None = None
    extra_env: dict[str, str] = attrs.field(factory=dict)
    host_submit_time: float = 0.0
    wren_version: str = __version__
    attempt: int = 0
    options: dict[str, Any] = attrs.field(factory=dict)

    @property
    def executor_id(self) -> str:
        return self.job_key.split("/", 1)[0]

    @property
    def job_id(self) -> str:
        return self.job_key.split("/", 1)[1]

    def subset(self, call_indices: Sequence[int], suffix: str) -> Task:
        """A task for some of these calls (to retry them elsewhere), with its own id."""
        own = list(self.call_indices)
        where = {index: i for i, index in enumerate(own)}
        base = self.positions if self.positions is not None else range(len(own))
        return attrs.evolve(
            self, task_id=f"{self.task_id}{suffix}", call_indices=list(call_indices),
            positions=[base[where[i]] for i in call_indices], attempt=self.attempt + 1)

    def to_dict(self, binary: bool = False) -> dict[str, Any]:
        out = attrs.asdict(self, recurse=False)
        out["call_indices"] = _encode_indices(self.call_indices)
        out["data_range"] = list(self.data_range)
        if self.inline_data is not None and not binary:
            out["inline_data"] = base64.b64encode(self.inline_data).decode("ascii")
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        fields = dict(data)
        inline = fields.get("inline_data")
        if isinstance(inline, str):
            fields["inline_data"] = base64.b64decode(inline)
        fields["call_indices"] = _decode_indices(fields["call_indices"])
        fields["data_range"] = tuple(fields["data_range"])
        known = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in fields.items() if k in known})

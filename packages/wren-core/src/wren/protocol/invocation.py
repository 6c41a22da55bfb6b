"""`Invocation`: what travels in the invocation channel to start a task — the task and the
executor's key.

The key authenticates every pickle of the job (`wren.protocol.signing`), so it must reach
workers only through the channel the platform protects for the caller (activation
parameters, the HTTP request to an authenticated runtime, the queue message, a private pipe)
and never be written to storage or logs: `Task` has no field for it, `repr` hides it, and an
adapter that parks a task in storage (a queue message too big to carry it) stores
`sealed_task` there and the key in the message. `to_dict`/`from_dict` are the wire form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import attrs

from wren.protocol.fields import mapping, text
from wren.protocol.signing import KEY_BYTES, open_sealed, seal
from wren.protocol.task import Task
from wren.protocol.version import MalformedDocumentError

#: The payload fields of an invocation: the task's dict and the base64 executor key.
TASK_FIELD = "wren_task"
KEY_FIELD = "wren_key"


def _check_key(instance: Any, attribute: Any, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != KEY_BYTES:
        raise MalformedDocumentError(f"an invocation carries no valid executor key "
                                     f"({KEY_BYTES} bytes expected)")


@attrs.frozen
class Invocation:
    """A task and the key of the executor that made it."""

    task: Task
    key: bytes = attrs.field(repr=False, validator=_check_key)

    def to_dict(self, binary: bool = False) -> dict[str, Any]:
        """The payload a runtime hands to `wren.worker.handle`."""
        return {TASK_FIELD: self.task.to_dict(binary=binary), KEY_FIELD: encode_key(self.key)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Invocation:
        if KEY_FIELD not in data:
            raise MalformedDocumentError(
                "the invocation carries no executor key: it was not sent by a wren client of "
                "this version (the key authenticates the job's data)")
        try:
            task = mapping(data[TASK_FIELD])
        except (KeyError, TypeError) as exc:
            raise MalformedDocumentError(f"malformed invocation: {exc}") from None
        return cls(Task.from_dict(task), decode_key(data[KEY_FIELD]))


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(raw: Any) -> bytes:
    try:
        return base64.b64decode(text(raw), validate=True)
    except (TypeError, ValueError) as exc:
        raise MalformedDocumentError(f"an invocation's key is not base64: {exc}") from None


def sealed_task(task: Task, key: bytes, where: str) -> bytes:
    """`task` as stored at `where` by an adapter that cannot send it whole: sealed, so nobody
    who can write there can change what the worker runs."""
    return seal(key, f"task:{where}", json.dumps(task.to_dict()).encode())


def open_sealed_task(raw: bytes, key: bytes, where: str) -> Task:
    """The task an adapter stored at `where` (`TamperedDataError` if it was changed)."""
    return Task.from_dict(json.loads(bytes(open_sealed(key, f"task:{where}", raw))))

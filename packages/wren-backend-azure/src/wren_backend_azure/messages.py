"""The queue messages between the `azure_containers` client and its consumers.

Each message is one JSON object (ASCII, so its size is its length): a `task` message carries
the `Task` itself, or, when that would pass the queue's 64 KiB message limit, a reference to
a blob under the job's prefix that holds it (deleted with the job's other data by `clean`);
a `metadata` message asks a consumer to describe its runtime into a blob. References name
the storage backend, its public settings and the bucket: credentials never travel here,
consumers have their own from the Container App's secrets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import attrs
from wren.protocol import keys
from wren.protocol.task import Task

FORMAT = 1
#: The queue's limit on one message's text.
MAX_MESSAGE_BYTES = 64 * 1024
#: The longest visibility timeout Azure Queue Storage accepts (7 days).
MAX_VISIBILITY = 7 * 24 * 3600


def visibility_for(task: Task, margin: float) -> int:
    """Seconds a delivered task stays invisible to other consumers: time for every call to
    run to its timeout, plus `margin` for loading and storing."""
    budget = task.timeout * max(1, len(task.call_indices)) + margin
    return min(MAX_VISIBILITY, math.ceil(budget))


@attrs.frozen
class BlobRef:
    """Where an object lives, and how to open its storage (without credentials)."""

    backend: str
    config: Mapping[str, Any]
    bucket: str
    key: str

    @classmethod
    def for_task(cls, task: Task) -> BlobRef:
        return cls(task.storage_backend, task.storage_config, task.bucket,
                   f"{keys.job_prefix(task.job_key)}tasks/{task.task_id}.json")


@attrs.frozen
class Message:
    """A decoded message: a task (inline or by reference) or a metadata request."""

    kind: str
    task: Task | None = None
    ref: BlobRef | None = None


def _dump(body: dict[str, Any]) -> str:
    return json.dumps({"wren": FORMAT, **body}, separators=(",", ":"))


def task_payload(task: Task) -> str:
    """The JSON form of a task, as stored in a blob when it is too large for a message."""
    return json.dumps(task.to_dict(), separators=(",", ":"))


def task_message(task: Task) -> str | None:
    """The message that carries `task`, or None when it is over the queue's limit."""
    text = _dump({"kind": "task", "task": task.to_dict()})
    return text if len(text) <= MAX_MESSAGE_BYTES else None


def ref_message(kind: str, ref: BlobRef) -> str:
    return _dump({"kind": kind, "ref": attrs.asdict(ref)})


def decode(text: str) -> Message:
    """Parse a message; raise ValueError for anything that is not one of ours."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a wren message (invalid JSON: {exc})") from None
    if not isinstance(body, dict) or body.get("wren") != FORMAT:
        raise ValueError("not a wren message of format "
                         f"{FORMAT}: {text[:80]!r}")
    kind = body.get("kind")
    if kind not in ("task", "metadata"):
        raise ValueError(f"unknown wren message kind {kind!r}")
    task = Task.from_dict(body["task"]) if "task" in body else None
    ref = BlobRef(**body["ref"]) if "ref" in body else None
    if task is None and ref is None:
        raise ValueError(f"a {kind} message without a task or a reference")
    return Message(kind, task, ref)

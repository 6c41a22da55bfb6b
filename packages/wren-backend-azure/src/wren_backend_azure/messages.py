"""The queue messages between the `azure_containers` client and its consumers.

Each message is one JSON object (ASCII, so its size is its length): a `task` message carries
the invocation (the `Task` and the executor's key) itself, or, when that would pass the
queue's 64 KiB message limit, the key and a reference to a blob under the job's prefix that
holds the task sealed with that key (so whoever can write the bucket cannot change it; the
blob is deleted with the job's other data by `clean`);
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
from wren.protocol.invocation import (
    KEY_FIELD,
    TASK_FIELD,
    Invocation,
    decode_key,
    encode_key,
)
from wren.protocol.task import Task

FORMAT = 1
#: The queue's limit on one message's text.
MAX_MESSAGE_BYTES = 64 * 1024
#: The longest visibility timeout Azure Queue Storage accepts (7 days).
MAX_VISIBILITY = 7 * 24 * 3600


def visibility_for(task: Task, margin: float) -> int:
    """A delivered task's time budget in seconds: every call run to its timeout, plus
    `margin` for loading and storing (the client's bound on one delivery; the consumer itself
    holds the message by renewing a shorter lease)."""
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
    invocation: Invocation | None = None
    ref: BlobRef | None = None
    key: bytes | None = attrs.field(default=None, repr=False)


def _dump(body: dict[str, Any]) -> str:
    return json.dumps({"wren": FORMAT, **body}, separators=(",", ":"))


def task_message(invocation: Invocation) -> str | None:
    """The message that carries `invocation`, or None when it is over the queue's limit."""
    text = _dump({"kind": "task", **invocation.to_dict()})
    return text if len(text) <= MAX_MESSAGE_BYTES else None


def ref_message(kind: str, ref: BlobRef, key: bytes | None = None) -> str:
    """A message naming a blob (for a task: the sealed task, with the key to open it)."""
    body: dict[str, Any] = {"kind": kind, "ref": attrs.asdict(ref)}
    if key is not None:
        body[KEY_FIELD] = encode_key(key)
    return _dump(body)


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
    invocation = Invocation.from_dict(body) if TASK_FIELD in body else None
    ref = BlobRef(**body["ref"]) if "ref" in body else None
    if invocation is None and ref is None:
        raise ValueError(f"a {kind} message without a task or a reference")
    key = decode_key(body[KEY_FIELD]) if invocation is None and KEY_FIELD in body else None
    if kind == "task" and invocation is None and key is None:
        raise ValueError("a task message by reference without the executor key")
    return Message(kind, invocation, ref, key)

"""The log object: what the calls of one flushed part printed, as stored under `wren.logs/`.

Workers write one per part that printed anything (`wren.worker.output`); the client reads it
for `future.logs` and `wren logs` (`wren.client.logs`). It is JSON (data only), stamped with
the protocol version; `decode_logs` validates it and returns the text by call index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from wren.protocol.fields import mapping
from wren.protocol.version import MalformedDocumentError, check, stamp


def encode_logs(job_key: str, task_id: str, part: int, calls: Mapping[int, str]) -> bytes:
    """The log object of one part: `calls` maps call index to what it printed."""
    return json.dumps(stamp({"kind": "logs", "job_key": job_key, "task_id": task_id,
                             "part": part,
                             "calls": {str(index): text for index, text in calls.items()}})
                      ).encode("utf-8")


def decode_logs(raw: bytes) -> dict[int, str]:
    """The printed text of a stored log object, by call index."""
    try:
        body = mapping(json.loads(raw))
    except (ValueError, TypeError) as exc:
        raise MalformedDocumentError(f"a log object is not a JSON object: {exc}") from None
    if body.get("kind") != "logs":
        raise MalformedDocumentError("a log object is not of kind 'logs'")
    check(body, "log object")
    try:
        return {int(index): text for index, text in mapping(body["calls"]).items()
                if isinstance(text, str)}
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedDocumentError(f"a log object is malformed: {exc}") from None

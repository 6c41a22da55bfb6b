"""Holding a task's request open while the task runs, so Knative's autoscaler sees the work.

Knative scales a revision by the requests in flight at its pods (the queue-proxy counts
them); a runtime that answers 202 and works in the background looks idle, and its busy pods
may be scaled down. A client that sends `Wren-Hold: <seconds>` (wren does so unless the
task may outlast the revision's `timeoutSeconds`) gets `200` with a streamed
(`application/x-ndjson`, chunked) body instead: a first line once a worker slot took the
task (`{"accepted": ...}`), a heartbeat line every `HEARTBEAT` seconds (so no proxy's idle
timeout cuts it), and a last line when the task is done (`{"done": true}`), or when the hold
ran out (`{"released": ...}`: the task runs on in the background, as an async one, rather
than Knative cutting the request at `timeoutSeconds`). A caller that goes away ends the hold
only; its task still runs and reports through storage.
"""

from __future__ import annotations

import json
import threading
import time
from io import BufferedIOBase
from typing import Any

#: The request header that asks for a held request, valued in seconds.
HOLD_HEADER = "Wren-Hold"
#: The answer's header that says the request is held (an older runtime answers 202).
HELD_HEADER = "Wren-Held"
#: Seconds between heartbeat lines.
HEARTBEAT = 10.0


def hold_seconds(value: str | None) -> float | None:
    """The hold a request asks for (None: answer 202 at once)."""
    try:
        seconds = float(value) if value else 0.0
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _chunk(out: BufferedIOBase, line: dict[str, Any] | None) -> None:
    data = (json.dumps(line) + "\n").encode() if line is not None else b""
    out.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    out.flush()


def stream_hold(out: BufferedIOBase, accepted: dict[str, Any], done: threading.Event,
                seconds: float) -> None:
    """Write the held answer's body (the head is sent) until `done`, or `seconds` passed;
    a write that fails (the caller left) ends the hold quietly."""
    deadline = time.monotonic() + seconds
    try:
        _chunk(out, accepted)
        while True:
            left = deadline - time.monotonic()
            if done.wait(max(0.0, min(HEARTBEAT, left))):
                _chunk(out, {"done": True})
                break
            if time.monotonic() >= deadline:
                _chunk(out, {"released": f"held for {seconds:g} s; the task runs on"})
                break
            _chunk(out, {"running": True})
        _chunk(out, None)  # the last chunk: the answer is complete
    except OSError:
        raise ConnectionError("the caller left while its task was held") from None

"""`?watch=true` for the Kubernetes API test double (see `tests.doubles.kube_api`).

A watch request gets `200` and then one JSON line per event, `{"type": "ADDED" | "MODIFIED" |
"DELETED", "object": {...}}`, the way the API server streams them: first an `ADDED` for each
object that matches (kind, namespace, label selector), then every change as the store makes
it, until `timeoutSeconds` pass, the client goes away or the server stops. Each event is one
chunk of a chunked body, so the client reads it as soon as it is sent.
"""

from __future__ import annotations

import json
import queue
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.doubles.kube_objects import Kind, ObjectStore, selector_matches

Event = tuple[str, dict[str, Any]]


def stream_events(handler: BaseHTTPRequestHandler, store: ObjectStore, kind: Kind,
                  namespace: str | None, selector: str, timeout: float) -> None:
    events: queue.Queue[Event] = queue.Queue()

    def matches(obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        return (namespace is None or meta.get("namespace") == namespace) and \
            selector_matches(selector, meta.get("labels") or {})

    def watcher(event: str, changed: Kind, obj: dict[str, Any]) -> None:
        if changed == kind and matches(obj):
            events.put((event, obj))

    store.watchers.append(watcher)
    try:
        for obj in store.list(kind, namespace, selector)["items"]:
            events.put(("ADDED", obj))
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event, obj = events.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            line = (json.dumps({"type": event, "object": obj}) + "\n").encode()
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        store.watchers.remove(watcher)

"""A test double of the OpenWhisk controller, as Apache OpenWhisk and IBM Cloud Functions
serve it, with a tiny IBM Cloud IAM token endpoint beside it.

No real OpenWhisk controller can run on these machines (see shared/SERVICES.md), so this
stands in for it in tests and benchmarks, and only there. It speaks the real REST API: the
paths under `/api/v1/namespaces/{ns}/` for packages, actions (PUT with `exec`, `limits`,
`parameters`, `annotations`; GET with `?code=false`; DELETE; POST to invoke, 202 with an
`activationId`, or `?blocking=true&result=true`) and activations, and `GET /api/v1/namespaces`.
Auth is real too: Basic `uuid:key` for plain OpenWhisk namespaces, IAM bearer tokens (from
`POST /identity/token`, with an expiry) for IBM's IAM namespaces addressed by id; anything
else is 401, a foreign namespace 403. Listings page as the API documents (`limit` 0..200,
default 30, 0 meaning 200; `skip`, or `offset` for IBM's namespace list, whose answer carries
`total_count`); a `limit` out of range is the controller's 400. The spec's `flavour` ("stock":
Apache OpenWhisk's docs/reference.md "System limits"; "ibm": IBM Cloud Functions' "System
details and limits") sets the action bounds and the namespace limits it enforces, with the
controller's 400/413/429 answers (see `openwhisk_state`); `limits` overrides them, e.g. a
small `concurrent` for a 429 storm. What runs behind it is real: every activation is
executed by the action's image command (the runtimes/ibmcf action proxy) as its own process
on loopback (`openwhisk_containers`), with the action's default parameters merged under the
invocation's, as OpenWhisk does.

Admin routes for tests (not OpenWhisk's): `POST /_double/faults` queues injected answers
(`{"status": 429, "count": 3, "path": "/actions/", "method": "POST", "skip": 0}`; `skip`
lets that many matching requests through first; `/_double/faults/clear` drops them), `POST
/_double/hold` (`{"hold": true}`) keeps accepted activations queued until released (the
benchmark measures dispatch apart from execution), `POST /_double/expire-tokens`
invalidates every IAM token, `GET /_double/invocations` lists the raw
bodies of the invocations received, `GET /_double/stats` counts things.

Run as `python -m tests.doubles.openwhisk_controller --spec spec.json` (see `DoubleSpec` in
`openwhisk_handle`); it writes its port to `spec["port_file"]`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.doubles.openwhisk_routes import NOT_FOUND, Request, Routes
from tests.doubles.openwhisk_state import Reply, error

_NS = r"/api/v1/namespaces/(?P<ns>[^/]+)"
_ACTION = _NS + r"/actions/(?:(?P<pkg>[^/]+)/)?(?P<name>[^/]+)"
ROUTES = [(method, re.compile(pattern + r"\Z"), handler) for method, pattern, handler in [
    ("POST", r"/identity/token", "token"),
    ("GET", r"/api/v1/namespaces", "namespaces"),
    ("GET", _NS + r"/packages", "list_packages"),
    ("PUT", _NS + r"/packages/(?P<pkg>[^/]+)", "put_package"),
    ("GET", _NS + r"/packages/(?P<pkg>[^/]+)", "get_package"),
    ("DELETE", _NS + r"/packages/(?P<pkg>[^/]+)", "delete_package"),
    ("GET", _NS + r"/actions/?", "list_actions"),
    ("GET", _NS + r"/actions/(?P<pkg>[^/]+)/", "list_actions"),
    ("PUT", _ACTION, "put_action"),
    ("GET", _ACTION, "get_action"),
    ("DELETE", _ACTION, "delete_action"),
    ("POST", _ACTION, "invoke"),
    ("GET", _NS + r"/activations/(?P<id>[^/]+)", "get_activation"),
]]


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; each request is routed to the shared `Routes`."""

    protocol_version = "HTTP/1.1"
    routes: Routes

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        routes = self.routes
        try:
            status, body = self._route(routes, split.path, query, raw)
        except Reply as reply:
            status, body = reply.status, reply.body
        except Exception as exc:
            traceback.print_exc()
            status, body = 500, {"error": f"internal error of the double: {exc}"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, routes: Routes, path: str, query: dict[str, str],
               raw: bytes) -> tuple[int, Any]:
        with routes.lock:
            routes.stats["requests"] += 1
        if path.startswith("/_double/"):
            return routes.admin(Request(self.command, path, {}, query, self.headers, raw))
        fault = routes.injected(self.command, path)
        if fault is not None:
            raise fault
        for method, pattern, name in ROUTES:
            if method != self.command:
                continue
            match = pattern.match(path)
            if match is not None:
                params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                request = Request(self.command, path, params, query, self.headers, raw)
                handler = getattr(routes, name)
                answer: tuple[int, Any] = handler(request)
                return answer
        raise error(404, NOT_FOUND)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="JSON file: see openwhisk_handle")
    options = parser.parse_args(argv)
    spec = json.loads(Path(options.spec).read_text())
    routes = Routes(spec)
    handler = type("BoundHandler", (Handler,), {"routes": routes})
    server = Server(("127.0.0.1", int(spec.get("port", 0))), handler)
    routes.url = f"http://127.0.0.1:{server.server_address[1]}"
    signal.signal(signal.SIGTERM, _stop)
    port_file = Path(spec["port_file"])
    temp = port_file.with_suffix(".tmp")
    temp.write_text(str(server.server_address[1]))
    os.replace(temp, port_file)
    try:
        server.serve_forever()
    finally:
        routes.shutdown()
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()

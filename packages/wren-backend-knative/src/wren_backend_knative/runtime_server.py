"""The HTTP server of wren's Knative runtime: tasks in, 202 out, work in the background.

The runtime's entry point (runtime/entry_point.py, package data) runs `main()`; Knative
Serving starts the container with `PORT` set and routes requests to it:

Every request goes to wren's worker entry, `wren.worker.handle`.

- `POST /` with a task (`wren.protocol.task.Task.to_dict()` as JSON, or a `handle` payload
  naming it under `wren_task`) answers `202 Accepted` as
  soon as a worker slot takes the task, and the task runs in the background (see
  `runtime_tasks`); with `Wren-Hold: <seconds>` the answer is a held `200` whose streamed
  body ends when the task does (see `runtime_hold`), so Knative counts the work; a body that is not a task, or a task from an incompatible wren, gets 400
  with the reason, and a runtime that is shutting down answers 503 so the client retries.
- `GET /metadata` answers the runtime's metadata (`wren.protocol.runtime.RuntimeInfo`: Python
  and wren versions, installed top-level modules), which the client reads before shipping
  functions.
- `GET /healthz` is the readiness probe: open to anyone, it answers only whether the runtime
  takes tasks (its counters need the token).

Every other request must carry `Authorization: Bearer <token>`, the token the runtime got in
`WREN_RUNTIME_TOKEN` (from the runtime's Kubernetes Secret, which the client reads too). The
header is compared in constant time before a byte of the body is read; a request without it,
or with another token, gets 401 and the connection is closed. A runtime started without a
token (or with one too short to be secret) refuses to start, so it never runs open.

On SIGTERM (Knative scaling a pod down) it stops taking tasks and lets those in flight finish,
for up to `WREN_DRAIN_SECONDS` (default: just under the pod's grace period, 600 s), then exits.
Settings come from the environment: `WREN_WORKER_PROCESSES` (calls at once, default 1),
`WREN_QUEUED_TASKS` (tasks that may wait for a slot, default as many as processes),
`WREN_STORAGE_CONFIG` (private storage settings, from a Kubernetes Secret), `WREN_RUNTIME_TOKEN`
(the callers' bearer token, from the same Secret; taken out of the environment before any
worker starts), and
`WREN_LISTEN_HOST` (default 0.0.0.0, the pod's own network).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wren.__about__ import __version__ as wren_version
from wren.worker.entry import INFO_FIELD, PayloadError, handle

from wren_backend_knative.runtime_auth import MissingTokenError, is_authorized, runtime_token
from wren_backend_knative.runtime_hold import HELD_HEADER, HOLD_HEADER, hold_seconds, stream_hold
from wren_backend_knative.runtime_tasks import Draining, TaskRunner

logger = logging.getLogger("wren.runtime")


class RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm
    #: and the client's delayed ACK hold each answer back by some 40 ms.
    disable_nagle_algorithm = True
    server: RuntimeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        """Whether the request carries the token; if not, answer 401 and drop the
        connection (its body, if any, is never read)."""
        if is_authorized(self.headers.get("Authorization"), self.server.token):
            return True
        self.close_connection = True
        self._reply(401, {"error": "this runtime runs tasks only for its owner: send "
                                   "`Authorization: Bearer <token>`"},
                    {"WWW-Authenticate": 'Bearer realm="wren"', "Connection": "close"})
        return False

    def handle_expect_100(self) -> bool:
        """A caller that asks before sending its body (`Expect: 100-continue`) is refused
        before it is told to go on."""
        return self._authorized() and super().handle_expect_100()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        runner = self.server.runner
        if path == "/healthz" and "Authorization" not in self.headers:
            self._reply(503 if runner.draining else 200, {"ready": not runner.draining})
            return
        if not self._authorized():
            return
        if path == "/metadata":
            self._reply(200, self.server.metadata())
        elif path == "/healthz":
            self._reply(503 if runner.draining else 200, runner.stats())
        else:
            self._reply(404, {"error": f"no such path {path!r}: use POST / or GET /metadata"})

    def do_POST(self) -> None:
        if not self._authorized():  # before a byte of the body is read
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0] != "/":
            self._reply(404, {"error": f"no such path {self.path!r}: tasks go to POST /"})
            return
        hold = hold_seconds(self.headers.get(HOLD_HEADER))
        admitted: list[threading.Event] = []

        def run(invocation: Any) -> None:
            admitted.append(self.server.runner.admit(invocation))

        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise PayloadError("the body is not a JSON object")
            answer = handle(payload, run=run)
        except Draining:
            self._reply(503, {"error": "this runtime is shutting down; retry"},
                        {"Retry-After": "1"})
            return
        except (ValueError, PayloadError) as exc:
            self._reply(400, {"error": str(exc)})
            return
        if hold is None or not admitted:
            self._reply(202, answer)
            return
        self.send_response(200)
        for name, value in (("Content-Type", "application/x-ndjson"),
                            ("Transfer-Encoding", "chunked"), (HELD_HEADER, "1")):
            self.send_header(name, value)
        self.end_headers()
        try:
            stream_hold(self.wfile, answer, admitted[0], hold)
        except ConnectionError:
            self.close_connection = True


class RuntimeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, host: str, port: int, runner: TaskRunner, token: str) -> None:
        super().__init__((host, port), RuntimeHandler)
        self.runner, self.token = runner, token
        self._metadata: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            name = os.environ.get("WREN_RUNTIME_NAME") or os.environ.get("K_SERVICE", "knative")
            self._metadata = handle({INFO_FIELD: True}, runtime_name=name,
                                    worker_processes=self.runner.processes)
        return self._metadata


def main() -> None:
    logging.basicConfig(level=os.environ.get("WREN_LOG_LEVEL", "WARNING"),
                        format="%(asctime)s [%(levelname)s] %(name)s: %(message)s")
    try:
        token = runtime_token()
    except MissingTokenError as exc:
        sys.exit(f"wren runtime: {exc}")
    processes = max(1, int(os.environ.get("WREN_WORKER_PROCESSES") or 1))
    queued = max(0, int(os.environ.get("WREN_QUEUED_TASKS") or processes))
    drain_seconds = float(os.environ.get("WREN_DRAIN_SECONDS") or 590)
    runner = TaskRunner(processes, queued, os.environ.get("K_REVISION") or socket.gethostname())
    server = RuntimeServer(os.environ.get("WREN_LISTEN_HOST") or "0.0.0.0",
                           int(os.environ.get("PORT") or 8080), runner, token)

    def stop() -> None:
        if not runner.drain(drain_seconds):
            logger.warning("stopping with %d tasks still running", runner.in_flight)
        server.shutdown()

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop, daemon=True).start())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logger.info("wren %s Knative runtime on port %s with %d worker processes", wren_version,
                server.server_address[1], processes)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        runner.pool.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()

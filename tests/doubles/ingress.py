"""The Knative ingress gateway (what Kourier's or Istio's Envoy does), for the test double.

An HTTP/1.1 reverse proxy on loopback that routes each request by its `Host` header to the
revision serving that Knative Service, as a real ingress does: an unknown host gets 404, a
Service whose revision is down gets 503. Connections to revisions are kept alive per proxy
thread, so a client with a pooled session sees keep-alive end to end. Tests may ask it to
fail the next few `POST`s with a given status (`inject`), as an overloaded gateway does.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.doubles.knative_serving import KnativeServing

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade",
               "proxy-connection", "host", "content-length"}


class QuietHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 (keep-alive) handler that logs nothing and answers in one call."""

    protocol_version = "HTTP/1.1"
    #: Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm
    #: and the client's delayed ACK hold each answer back by some 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, code: int, body: bytes,
                headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyHandler(QuietHandler):
    server: IngressServer

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.server.take_fault() if self.command == "POST" else None
        if fault is not None:
            self._answer(fault, b"injected by the test double")
            return
        host = (self.headers.get("Host") or "").split(":")[0]
        revision = self.server.serving.route(host)
        if revision is None:
            self._answer(404, b"")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.update({"Host": host, "Content-Length": str(len(body)),
                        "X-Forwarded-For": self.client_address[0]})
        for attempt in range(2):  # a kept-alive upstream connection may have been closed
            connection = self.server.upstream(revision.port)
            try:
                connection.request(self.command, self.path, body, headers)
                answer = connection.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                self.server.drop(revision.port)
                if attempt == 0 and revision.process is not None and \
                        revision.process.poll() is None:
                    continue
                self._answer(503, b"upstream connect error or disconnect/reset before headers")
                return
            break
        passed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        self._answer(answer.status, data, passed)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


class IngressServer(ThreadingHTTPServer):
    """The proxy server; `upstream(port)` is this thread's kept-alive connection."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, serving: KnativeServing) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.serving = serving
        self._local = threading.local()
        self._faults: list[int] = []
        self._faults_lock = threading.Lock()

    def inject(self, status: int, count: int) -> None:
        """Answer the next `count` POSTs with `status` instead of forwarding them."""
        with self._faults_lock:
            self._faults = [status] * count

    def take_fault(self) -> int | None:
        with self._faults_lock:
            return self._faults.pop() if self._faults else None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def upstream(self, port: int) -> http.client.HTTPConnection:
        pool: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool",
                                                                                     {})
        connection = pool.get(port)
        if connection is None:
            connection = pool[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        return connection

    def drop(self, port: int) -> None:
        connection = self._local.__dict__.get("pool", {}).pop(port, None)
        if connection is not None:
            connection.close()

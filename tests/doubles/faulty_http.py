"""A fault-injecting HTTP reverse proxy, put in front of a real server (Ceph RGW) to prove
that a client retries 5xx answers and dropped connections with backoff.

It stands in for a flaky network path or an overloaded S3 front end: each request is
forwarded unchanged (same Host header, so SigV4 signatures stay valid) unless a queued fault
applies to it: `"503"` answers 503 with an S3 `SlowDown`-style error body, `"500"` an
`InternalError`, `"reset"` closes the connection without answering.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ERRORS = {"503": (503, "SlowDown", "Please reduce your request rate."),
           "500": (500, "InternalError", "We encountered an internal error.")}


class FaultyProxy:
    """Forwards to `upstream` (host, port); `inject(*faults)` queues faults for the next
    requests, in order."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.faults: deque[str] = deque()
        self.seen = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy.forward(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def inject(self, *faults: str) -> None:
        with self._lock:
            self.faults.extend(faults)

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.seen += 1
            fault = self.faults.popleft() if self.faults else None
        if fault == "reset":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in _ERRORS:
            status, code, message = _ERRORS[fault]
            text = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                    f"<Message>{message}</Message></Error>").encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(text)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(text)
            return
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items()}
            upstream.request(handler.command, handler.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            handler.send_response(answer.status, answer.reason)
            head = handler.command == "HEAD"
            for name, value in answer.getheaders():
                skip = ("transfer-encoding", "connection") + (() if head else ("content-length",))
                if name.lower() not in skip:
                    handler.send_header(name, value)
            if not head:
                handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        finally:
            upstream.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

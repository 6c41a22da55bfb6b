"""A stand-in runtime image built for another Python (3.8), for the Kubernetes API double.

It answers the runtime's readiness probe and `GET /metadata` like the real runtimes/knative
entry point would inside a Python 3.8 image, so a test can check that a client refuses a
runtime whose Python differs from its own before it sends anything. It runs no tasks.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

METADATA = {"protocol": 1, "name": "python3.8 stand-in", "python_version": "3.8", "python": "3.8.18",
            "wren_version": "0.1.0", "worker_processes": 1, "preinstalled_modules": ["os"]}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps(METADATA if self.path == "/metadata" else {}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    host = os.environ.get("WREN_LISTEN_HOST", "127.0.0.1")
    HTTPServer((host, int(os.environ["PORT"])), Handler).serve_forever()

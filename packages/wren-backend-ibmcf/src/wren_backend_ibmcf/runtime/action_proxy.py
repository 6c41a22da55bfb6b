"""The action entry point of wren's IBM Cloud Functions / OpenWhisk runtime images.

It speaks the OpenWhisk action-proxy protocol on port 8080 (`PORT` overrides it, `HOST` the
address): `POST /init` receives the action's code (a base64 zip with `__main__.py`, or a
plain source text), unpacks it and imports its `main`; `POST /run` receives
`{"value": {...arguments...}, "activation_id": ..., "deadline": ...}`, exports the other
fields as `__OW_*` environment variables, calls `main(value)` and answers its dict as JSON
(502 with `{"error": ...}` when it raises or returns something else). One activation runs at
a time, on the main thread, as OpenWhisk expects of a container; after each one the log
sentinel is written to stdout and stderr. Standard library only: the image supplies just
Python and the dependencies of the attached code.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import socket
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
_state: dict[str, Any] = {"main": None}


def _load(value: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    code = value.get("code")
    if not code:
        raise ValueError("the init message carries no code")
    target = tempfile.mkdtemp(prefix="wren-action-")
    if value.get("binary"):
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(code))) as zipped:
            zipped.extractall(target)
    else:
        with open(os.path.join(target, "__main__.py"), "w", encoding="utf-8") as out:
            out.write(code)
    for name, setting in (value.get("env") or {}).items():
        os.environ[str(name)] = str(setting)
    sys.path.insert(0, target)
    spec = importlib.util.spec_from_file_location("__wren_action__",
                                                  os.path.join(target, "__main__.py"))
    if spec is None or spec.loader is None:
        raise ValueError("the action's code has no __main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, str(value.get("main") or "main"))


class ActionHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any, sentinel: bool = True) -> None:
        data = json.dumps(body).encode()
        if sentinel:
            for stream in (sys.stdout, sys.stderr):
                stream.write(SENTINEL + "\n")
                stream.flush()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _message(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        message = json.loads(self.rfile.read(length) or b"{}")
        if not isinstance(message, dict):
            raise ValueError("the message is not a JSON object")
        return message

    def do_POST(self) -> None:
        try:
            message = self._message()
        except ValueError as exc:
            self._answer(400, {"error": f"bad request: {exc}"})
            return
        if self.path == "/init":
            self._init(message)
        elif self.path == "/run":
            self._run(message)
        else:
            self._answer(404, {"error": f"no route {self.path}"}, sentinel=False)

    def _init(self, message: dict[str, Any]) -> None:
        if _state["main"] is not None:
            self._answer(403, {"error": "Cannot initialize the action more than once."})
            return
        try:
            _state["main"] = _load(message.get("value") or {})
        except Exception as exc:
            traceback.print_exc()
            self._answer(502, {"error": f"The action failed to initialize: {exc}"})
            return
        self._answer(200, {"ok": True}, sentinel=False)

    def _run(self, message: dict[str, Any]) -> None:
        main = _state["main"]
        if main is None:
            self._answer(502, {"error": "The action was not initialized."})
            return
        for key, value in message.items():
            if key != "value":
                os.environ[f"__OW_{key.upper()}"] = str(value)
        args = message.get("value") or {}
        try:
            result = main(args)
        except BaseException as exc:  # SystemExit included: the container must answer
            traceback.print_exc()
            self._answer(502, {"error": f"The action raised {type(exc).__name__}: {exc}"})
            return
        if not isinstance(result, (dict, list)):
            self._answer(502, {"error": "The action did not return a dictionary or array."})
            return
        self._answer(200, result)


def main() -> None:
    host = os.environ.get("HOST", "0.0.0.0")
    port = int(os.environ.get("PORT", "8080"))
    server = HTTPServer((host, port), ActionHandler)
    print(f"wren action proxy listening on {host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

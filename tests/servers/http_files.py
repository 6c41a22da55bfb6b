"""A static file server for the public-URL tests, run as its own process on 127.0.0.1.

`python http_files.py DIR LOG MODE` serves the files of DIR on a free port, prints the port
on its first line once it listens, and appends one JSON line per request to LOG (method,
path, Range header, status). MODE `ranges` answers `Range: bytes=A-B` with 206 and
advertises `Accept-Ranges: bytes`, as object stores and CDNs do; `none` ignores Range,
answers 200 with the whole file and says `Accept-Ranges: none`, like a plain dynamic
server; `ignored` advertises ranges but still answers 200 with the whole file (a
misconfigured proxy). `serve_files` is the pytest-side helper that starts it and stops it
by PID.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class FileHandler(BaseHTTPRequestHandler):
    """GET and HEAD over the files of `server.root`, with or without Range support."""

    protocol_version = "HTTP/1.1"
    server: FileServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self, status: int) -> None:
        line = json.dumps({"method": self.command, "path": self.path, "status": status,
                           "range": self.headers.get("Range")})
        with self.server.log_lock, open(self.server.log, "a") as log:
            log.write(line + "\n")

    def _target(self) -> tuple[int, int, int, int] | None:
        """`(status, start, end, size)` of the answer, or None after sending 404/416."""
        path = self.server.root / self.path.lstrip("/")
        if not path.is_file():
            self._record(404)
            self.send_error(404)
            return None
        size = path.stat().st_size
        wanted = self.headers.get("Range")
        match = _RANGE.match(wanted or "") if self.server.mode == "ranges" else None
        if match is None or match.groups() == ("", ""):
            return 200, 0, size, size
        first, last = match.groups()
        if first == "":
            start, end = max(0, size - int(last)), size
        else:
            start, end = int(first), size if last == "" else min(size, int(last) + 1)
        if start >= size:
            self._record(416)
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return 206, start, end, size

    def _answer(self, with_body: bool) -> None:
        target = self._target()
        if target is None:
            return
        status, start, end, size = target
        self._record(status)
        self.send_response(status)
        self.send_header("Accept-Ranges", "none" if self.server.mode == "none" else "bytes")
        self.send_header("Content-Length", str(end - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.end_headers()
        if not with_body:
            return
        with open(self.server.root / self.path.lstrip("/"), "rb") as handle:
            handle.seek(start)
            left = end - start
            while left > 0:
                block = handle.read(min(left, 1 << 20))
                if not block:
                    break
                try:
                    self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client read what it needed and hung up
                left -= len(block)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, log: str, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), FileHandler)
        self.root, self.log, self.mode = root, log, mode
        self.log_lock = threading.Lock()


def main(argv: list[str]) -> None:
    server = FileServer(Path(argv[0]), argv[1], argv[2])
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextlib.contextmanager
def serve_files(root: Path, log: Path, mode: str = "ranges") -> Iterator[str]:
    """Run the server over `root` in its own process; yields its base URL."""
    if mode not in ("ranges", "none", "ignored"):
        raise ValueError(f"unknown mode {mode!r}: use ranges, none or ignored")
    args = [sys.executable, __file__, str(root), str(log), mode]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the HTTP file server did not start (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        from tests.servers.ports import stop_process

        stop_process(proc)


if __name__ == "__main__":
    main(sys.argv[1:])

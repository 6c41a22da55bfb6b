"""Requests counted AT THE STORAGE SERVERS, from their access logs, for bench:cloudcost.

- Ceph RGW: the beast frontend writes one access line per request (`beast: ... "PUT
  /bucket/key HTTP/1.1" 200 ...`) at `debug_rgw` level 1, the level tests/servers/ceph.py
  runs it at, into its log file; `RgwLog` flushes that log through the daemon's admin
  socket and reads the lines written since a mark.
- Azurite: started here as tests/servers/azurite.py starts it, but without `--silent`, so
  it writes one access line per blob or queue request to its output, which goes to a file
  `AzuriteLog` reads the same way.

`classify` turns one request line into an operation: PUT (objects and blocks; a container
or bucket creation too), GET, HEAD, LIST (a bucket/container listing), DELETE (one object,
or one batch/multi-object delete request); queue requests on Azurite are counted apart
(QUEUE-SEND, QUEUE-RECEIVE, QUEUE-DELETE, QUEUE-OTHER).
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import tempfile
from pathlib import Path

from tests.servers.azurite import AZURITE, Azurite
from tests.servers.ceph import CephGateway
from tests.servers.ports import free_port, wait_listening

REQUEST = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})')


def classify(method: str, target: str, container: str) -> str:
    path, _, query = target.partition("?")
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "devstoreaccount1":  # Azurite: /account/container/blob
        parts = parts[1:]
        if parts and parts[0] != container:
            return _queue_operation(method, parts)
    has_key = len(parts) > 1
    if method == "POST" and ("delete" in query or "comp=batch" in query):
        return "DELETE"
    if method in ("PUT", "POST"):
        return "PUT"
    if method == "GET":
        return "GET" if has_key else "LIST"
    return method


def _queue_operation(method: str, parts: list[str]) -> str:
    if len(parts) >= 2 and parts[1] == "messages":
        operation = {"POST": "SEND", "GET": "RECEIVE", "DELETE": "DELETE"}.get(method, "OTHER")
        return f"QUEUE-{operation}"
    return "QUEUE-OTHER"


def count(lines: list[str], container: str, skip_users: tuple[str, ...] = ()
          ) -> collections.Counter[str]:
    """Operations in these access lines (lines of other kinds are ignored)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        match = REQUEST.search(line)
        if match is None or any(f" - {user} [" in line for user in skip_users):
            continue
        counts[classify(match.group(1), match.group(2), container)] += 1
    return counts


class LogSince:
    """The lines a server appended to its log file after `mark()`."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def flush(self) -> None:
        """Make the server write out what it has buffered (nothing for most servers)."""

    def mark(self) -> None:
        self.flush()
        self.offset = self.path.stat().st_size

    def lines(self) -> list[str]:
        self.flush()
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            return log.read().decode(errors="replace").splitlines()


class RgwLog(LogSince):
    """The access lines of a running `CephGateway` (its health checks, made anonymously,
    are left out by `count(..., skip_users=("anonymous",))`)."""

    def __init__(self, gateway: CephGateway) -> None:
        super().__init__(gateway.root / "log" / "client.rgw.wren.log")
        self.socket = gateway.root / "run" / "client.rgw.wren.asok"

    def flush(self) -> None:
        subprocess.run(["ceph", "--admin-daemon", str(self.socket), "log", "flush"],
                       check=True, capture_output=True, timeout=60)


def start_logged_azurite() -> tuple[Azurite, LogSince]:
    """An in-memory Azurite on free loopback ports, with its access log in a file."""
    if not AZURITE.exists():
        raise RuntimeError(f"Azurite is not installed at {AZURITE}: run ./tests/bootstrap")
    blob, queue, table = free_port(), free_port(), free_port()
    log = Path(tempfile.mkdtemp(prefix="wren-azurite-")) / "access.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(AZURITE), "--disableTelemetry", "--skipApiVersionCheck", "--loose",
             "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", str(blob),
             "--queueHost", "127.0.0.1", "--queuePort", str(queue), "--tableHost",
             "127.0.0.1", "--tablePort", str(table)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=log.parent, env={**os.environ, "AZURITE_ACCEPT_EULA": "true"})
    server = Azurite(blob, queue, process)
    alive = lambda: process.poll() is None  # noqa: E731
    if not (wait_listening(blob, 60, alive) and wait_listening(queue, 60, alive)):
        server.stop()
        raise RuntimeError(f"Azurite did not start:\n{log.read_text(errors='replace')[-2000:]}")
    return server, LogSince(log)

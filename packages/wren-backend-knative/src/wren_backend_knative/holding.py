"""`Holder`: sends tasks whose requests stay open while they run, without a thread per request.

A held request (`Wren-Hold`, see `runtime_hold`) lasts as long as its task, so a dispatcher
thread must not wait for it. `Holder.post` sends the request on a kept-alive connection of
its own (HTTP/1.1 through `h11`, over a plain or TLS socket), waits only for the answer's
head and first line (the runtime took the task), and hands the still-open answer to one
background thread, which watches every held socket with a selector, reads the heartbeats
and the last line as they arrive, and puts the connection back in the idle pool once the
answer is complete. Answers that are not held (an error, or `202` from an older runtime) are
read whole and returned, for the deliverer to judge. It connects to the gateway directly
(no HTTP proxy from the environment: a held answer must not sit in a proxy's buffer).
"""

from __future__ import annotations

import json
import logging
import selectors
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlparse

import attrs
import h11
from requests.structures import CaseInsensitiveDict

logger = logging.getLogger("wren")

#: Seconds a held answer may stay silent (the runtime writes a heartbeat every 10 s).
SILENCE_LIMIT = 60.0


@attrs.frozen
class Answer:
    """The head and first body bytes of an answer (the whole body unless `held`)."""

    status: int
    reason: str
    headers: CaseInsensitiveDict[str]
    body: bytes
    held: bool = False

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.define(eq=False)
class _Connection:
    key: tuple[str, str, str]
    sock: socket.socket
    http: h11.Connection
    last_heard: float = 0.0


class Holder:
    """Held requests of one client; thread-safe. `ssl_context` checks https gateways."""

    def __init__(self, connect_timeout: float, read_timeout: float,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._idle: dict[tuple[str, str, str], list[_Connection]] = {}
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._new: list[_Connection] = []
        self._closed = False
        self.held = 0  # answers being held right now
        self._thread: threading.Thread | None = None  # started by the first hold

    # Sending ----------------------------------------------------------------------------
    def _connect(self, key: tuple[str, str, str]) -> _Connection:
        scheme, netloc, host = key
        parsed = urlparse(f"{scheme}://{netloc}")
        port = parsed.port or (443 if scheme == "https" else 80)
        sock = socket.create_connection((parsed.hostname or "", port), self.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":  # the gateway answers for the Service's name (SNI), not its IP
            sock = self.ssl_context.wrap_socket(sock, server_hostname=host.split(":")[0])
        return _Connection(key, sock, h11.Connection(h11.CLIENT))

    def _take(self, key: tuple[str, str, str]) -> tuple[_Connection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        return self._connect(key), False

    def post(self, url: str, headers: dict[str, str], body: bytes,
             method: str = "POST") -> Answer:
        """POST `body` to `url` (or another `method`); return the answer (held answers:
        once the task was taken). Raises `OSError` or `h11.ProtocolError` when the
        connection fails."""
        parsed = urlparse(url)
        key = (parsed.scheme, parsed.netloc, headers.get("Host", parsed.netloc))
        for attempt in range(2):
            connection, reused = self._take(key)
            try:
                return self._exchange(connection, method, parsed.path or "/", headers, body)
            except (OSError, h11.ProtocolError):
                connection.sock.close()
                if not reused or attempt:  # a kept-alive connection may have been closed
                    raise
        raise AssertionError("unreachable")

    def _exchange(self, connection: _Connection, method: str, target: str,
                  headers: dict[str, str], body: bytes) -> Answer:
        http, sock = connection.http, connection.sock
        fields = [(k, v) for k, v in headers.items()] + [("Content-Length", str(len(body)))]
        sock.settimeout(self.read_timeout)
        sock.sendall(http.send(h11.Request(method=method, target=target, headers=fields)) +
                     (http.send(h11.Data(data=body)) or b"") +
                     (http.send(h11.EndOfMessage()) or b""))
        head: h11.Response | None = None
        held, data = False, b""
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                head = event
                held = event.status_code == 200 and \
                    dict(event.headers).get(b"wren-held") == b"1"
            elif isinstance(event, h11.Data):
                data += bytes(event.data)
                if held and head is not None and b"\n" in data:
                    return self._hold(connection, head, data)
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                self._finished(connection)
                return _answer(head, data)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the gateway closed the connection")

    def _hold(self, connection: _Connection, head: h11.Response, first: bytes) -> Answer:
        connection.last_heard = time.monotonic()
        with self._lock:
            self.held += 1
            self._new.append(connection)
            if self._thread is None:
                thread = threading.Thread(target=self._watch, daemon=True,
                                          name="wren-knative-hold")
                thread.start()
                self._thread = thread  # published once started: close() joins it
        self._wake_w.send(b"x")
        return _answer(head, first, held=True)

    def _finished(self, connection: _Connection) -> None:
        """The answer is complete: keep the connection for the next request if it can be."""
        http = connection.http
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
            connection.sock.settimeout(self.read_timeout)
            with self._lock:
                if not self._closed:
                    self._idle.setdefault(connection.key, []).append(connection)
                    return
        connection.sock.close()

    # Watching held answers --------------------------------------------------------------
    def _watch(self) -> None:
        watched: dict[int, _Connection] = {}
        while not self._closed:
            for item, _ in self._selector.select(timeout=5.0):
                if item.fileobj is self._wake_r:
                    self._wake_r.recv(4096)
                    with self._lock:
                        new, self._new = self._new, []
                    for connection in new:
                        connection.sock.setblocking(False)
                        watched[connection.sock.fileno()] = connection
                        self._selector.register(connection.sock, selectors.EVENT_READ)
                        self._read(connection, watched)  # bytes already buffered (TLS)
                    continue
                found = watched.get(item.fd)
                if found is not None:
                    self._read(found, watched)
            now = time.monotonic()
            for connection in [c for c in watched.values()
                               if now - c.last_heard > SILENCE_LIMIT]:
                logger.debug("knative: a held request went silent; its task reports through "
                             "storage all the same")
                self._release(connection, watched, keep=False)

    def _read(self, connection: _Connection, watched: dict[int, _Connection]) -> None:
        http, sock = connection.http, connection.sock
        try:
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    try:
                        chunk = sock.recv(65536)
                    except (BlockingIOError, ssl.SSLWantReadError):
                        return
                    connection.last_heard = time.monotonic()
                    http.receive_data(chunk)
                    continue
                if isinstance(event, h11.EndOfMessage):
                    self._release(connection, watched, keep=True)
                    return
                if isinstance(event, h11.ConnectionClosed):
                    break
        except (OSError, h11.ProtocolError):
            pass
        self._release(connection, watched, keep=False)  # the hold broke; the task runs on

    def _release(self, connection: _Connection, watched: dict[int, _Connection],
                 keep: bool) -> None:
        fileno = connection.sock.fileno()
        watched.pop(fileno, None)
        try:
            self._selector.unregister(connection.sock)
        except (KeyError, ValueError):
            pass
        with self._lock:
            self.held -= 1
        if keep:
            connection.sock.setblocking(True)
            self._finished(connection)
        else:
            connection.sock.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for group in self._idle.values() for c in group]
            self._idle.clear()
        self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(10)
        for connection in idle:
            connection.sock.close()
        for key in list(self._selector.get_map().values()):
            if key.fileobj is not self._wake_r:
                key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


def _answer(head: h11.Response, body: bytes, held: bool = False) -> Answer:
    headers = CaseInsensitiveDict({k.decode(): v.decode(errors="replace")
                                   for k, v in head.headers})
    return Answer(head.status_code, head.reason.decode(errors="replace"), headers, body, held)

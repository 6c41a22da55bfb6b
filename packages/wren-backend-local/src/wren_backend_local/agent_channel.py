"""The authenticated connection between a client and the agent in its runtime container.

The client listens on 127.0.0.1 (runtime containers share the host's network) and hands the
container the address and a fresh random key; the agent connects back, and each side proves
it knows the key before anything else is said (the HMAC challenge of
`multiprocessing.connection`, both ways). After that the two sides exchange pickled tuples,
so storage settings the agent's workers need never leave this private channel.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import socket
import struct
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

#: Environment variables that tell the agent where to connect and with which key.
ADDRESS_ENV = "WREN_AGENT_ADDRESS"
KEY_ENV = "WREN_AGENT_KEY"
_HANDSHAKE_TIMEOUT = 10.0


class Channel:
    """A connection that carries pickled tuples; `send` may be called from any thread."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=5)
        with self._send_lock:
            self._conn.send_bytes(data)

    def receive(self, timeout: float | None = None) -> tuple[Any, ...]:
        """The next message; `TimeoutError` when none came within `timeout` seconds,
        `EOFError` or `OSError` once the other side is gone."""
        if timeout is not None and not self._conn.poll(timeout):
            raise TimeoutError(f"no message within {timeout:g} s")
        message: tuple[Any, ...] = pickle.loads(self._conn.recv_bytes())
        return message

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.close()


def _receive_timeout(sock: socket.socket, seconds: float) -> None:
    """Bound blocking reads on the socket (0 = unbounded); the descriptor stays blocking, as
    `Connection` needs."""
    whole = int(seconds)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                    struct.pack("ll", whole, int((seconds - whole) * 1e6)))


def _authenticated(sock: socket.socket, key: bytes, server: bool) -> Channel:
    sock.setblocking(True)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _receive_timeout(sock, _HANDSHAKE_TIMEOUT)  # a silent peer cannot stall the handshake
    try:
        conn = Connection(os.dup(sock.fileno()))
    finally:
        sock.close()
    try:
        if server:
            deliver_challenge(conn, key)
            answer_challenge(conn, key)
        else:
            answer_challenge(conn, key)
            deliver_challenge(conn, key)
        with socket.socket(fileno=os.dup(conn.fileno())) as view:
            _receive_timeout(view, 0)
    except BaseException:
        conn.close()
        raise
    return Channel(conn)


class AgentListener:
    """The client's side: a loopback port that accepts only agents holding its key."""

    def __init__(self) -> None:
        self.key = os.urandom(32)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        host, port = self._sock.getsockname()
        self.address = f"{host}:{port}"

    def accept(self, timeout: float) -> Channel | None:
        """An authenticated channel, or None when no agent connected within `timeout`.
        A peer that fails the challenge is dropped and the wait goes on."""
        with selectors.DefaultSelector() as selector:  # poll/epoll: no FD_SETSIZE limit
            selector.register(self._sock, selectors.EVENT_READ)
            ready = selector.select(timeout)
        if not ready:
            return None
        sock, _ = self._sock.accept()
        try:
            channel = _authenticated(sock, self.key, server=True)
        except (AuthenticationError, OSError, EOFError):
            return None
        return channel

    def close(self) -> None:
        self._sock.close()


def connect(address: str, key: bytes, timeout: float = 10.0) -> Channel:
    """The agent's side: connect to the client at `host:port` and authenticate."""
    host, _, port = address.rpartition(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    return _authenticated(sock, key, server=False)

"""`Link`: one connection between a client and the user's pool server, over a Unix socket.

Both ends are this user's own processes (the socket lives in a 0700 directory, and each side
checks the other's uid with `SO_PEERCRED`), so the link carries pickled tuples, including
the executor keys and storage settings the workers need, exactly what the in-process pool
sends its workers over their pipes. `send` may be called from any thread.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import socket
import struct
import threading
from multiprocessing.connection import Connection
from typing import Any

_CRED = struct.Struct("3i")  # pid, uid, gid


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end, or None where the system cannot tell."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
    return int(_CRED.unpack(raw)[1])


def check_peer(sock: socket.socket) -> None:
    """Refuse a peer that runs as another user (`PermissionError`)."""
    uid = peer_uid(sock)
    if uid is not None and uid != os.geteuid():
        raise PermissionError(f"the wren pool socket's peer runs as uid {uid}, not as you "
                              f"(uid {os.geteuid()})")


class Link:
    """Pickled tuples over a connected Unix socket (which the link takes over)."""


    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        self._conn = Connection(os.dup(sock.fileno()))
        self._sock = sock  # kept to shut the connection down under a blocked reader
        self._send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=5)
        with self._send_lock:
            self._conn.send_bytes(data)

    def receive(self, timeout: float | None = None) -> tuple[Any, ...]:
        """The next message; `TimeoutError` when none came within `timeout` seconds,
        `EOFError` or `OSError` once the other side is gone."""
        if timeout is not None and not self._conn.poll(timeout):
            raise TimeoutError(f"no answer from the wren pool server within {timeout:g} s")
        message: tuple[Any, ...] = pickle.loads(self._conn.recv_bytes())
        return message

    def fileno(self) -> int:
        return self._conn.fileno()

    def close(self) -> None:
        """Close both ways: a thread blocked reading this link sees its end at once."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with contextlib.suppress(OSError):
            self._conn.close()

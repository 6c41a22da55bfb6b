"""`Link`: one connection between a client and the user's pool server, over a Unix socket.

Both ends are this user's own processes (the socket lives in a 0700 directory, and each side
checks the other's uid with `SO_PEERCRED`), so the link carries pickled tuples, including
the executor keys and storage settings the workers need, exactly what the in-process pool
sends its workers over their pipes. `send` may be called from any thread.
"""

from __future__ import annotations

import _socket  # the C layer of `socket`: all a link needs, without its enum set-up
import contextlib
import os
import pickle
import select
import struct
import threading
from typing import Any

_CRED = struct.Struct("3i")  # pid, uid, gid
_SIZE, _BIG = struct.Struct("!i"), struct.Struct("!Q")
_SMALL_MAX = 0x7FFFFFFF
#: Messages up to this size go out in one write with their header.
_JOIN_BELOW = 16384


def _header(size: int) -> bytes:
    """The frame header of a message of `size` bytes."""
    return _SIZE.pack(size) if size <= _SMALL_MAX else _SIZE.pack(-1) + _BIG.pack(size)


def peer_uid(sock: _socket.socket) -> int | None:
    """The uid of the process at the other end, or None where the system cannot tell."""
    if not hasattr(_socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, _CRED.size)
    return int(_CRED.unpack(raw)[1])


def check_peer(sock: _socket.socket) -> None:
    """Refuse a peer that runs as another user (`PermissionError`)."""
    uid = peer_uid(sock)
    if uid is not None and uid != os.geteuid():
        raise PermissionError(f"the wren pool socket's peer runs as uid {uid}, not as you "
                              f"(uid {os.geteuid()})")


class Link:
    """Pickled tuples over a connected Unix socket (which the link takes over). Each message
    is framed as `multiprocessing.connection.Connection` frames it (a 4-byte big-endian
    length; -1 then an 8-byte length past 2 GiB), without importing `multiprocessing`."""

    def __init__(self, sock: _socket.socket) -> None:
        sock.setblocking(True)
        self._sock = sock
        self._send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        data = pickle.dumps(message, protocol=5)
        with self._send_lock:
            if len(data) > _JOIN_BELOW:
                self._sock.sendall(_header(len(data)))
                self._sock.sendall(data)
            else:
                self._sock.sendall(_header(len(data)) + data)

    @staticmethod
    def frame(message: tuple[Any, ...]) -> bytes:
        """`message` framed as `send` sends it, for `send_some` and `send_frame`."""
        data = pickle.dumps(message, protocol=5)
        return _header(len(data)) + data

    def send_some(self, frame: bytes | memoryview) -> int:
        """Send what of `frame` the socket takes now without waiting; return how many bytes
        (the caller sends the rest, before anything else, with `send_frame`)."""
        with self._send_lock:
            try:
                return self._sock.send(frame, _socket.MSG_DONTWAIT)
            except BlockingIOError:
                return 0

    def send_frame(self, frame: bytes | memoryview) -> None:
        """Send (the rest of) a frame, waiting while the socket is full."""
        with self._send_lock:
            self._sock.sendall(frame)

    def receive(self, timeout: float | None = None) -> tuple[Any, ...]:
        """The next message; `TimeoutError` when none came within `timeout` seconds,
        `EOFError` or `OSError` once the other side is gone."""
        if timeout is not None and not self._readable(timeout):
            raise TimeoutError(f"no answer from the wren pool server within {timeout:g} s")
        size = _SIZE.unpack(self._exactly(_SIZE.size))[0]
        if size == -1:
            size = _BIG.unpack(self._exactly(_BIG.size))[0]
        message: tuple[Any, ...] = pickle.loads(self._exactly(size))
        return message

    def _readable(self, timeout: float) -> bool:
        """True once a message waits; `poll`, not `select`: a long-lived client (a notebook,
        a test session) may hold descriptors past FD_SETSIZE, which `select` refuses."""
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        return bool(poller.poll(max(0.0, timeout) * 1000))

    def _exactly(self, size: int) -> bytearray:
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            count = self._sock.recv_into(view[got:])
            if not count:
                raise EOFError("the wren pool link was closed")
            got += count
        return buffer

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        """Close both ways: a thread blocked reading this link sees its end at once."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(_socket.SHUT_RDWR)
        self._sock.close()

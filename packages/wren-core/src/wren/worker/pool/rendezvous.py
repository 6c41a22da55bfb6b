"""Where this user's pool server listens, and how a client reaches it or starts it.

The server's socket lives in a private directory (`<tmp>/wren-<uid>/pool`, 0700, refused
when it is a link or someone else's: `wren.private_dirs`; `WREN_POOL_DIR` names another).
Its name is a digest of what a worker inherits from the client that starts the server (wren's
version and install location, the interpreter, the working directory and the environment),
so a client only ever joins a server whose workers behave like its own would, and a client of
another wren version starts its own. Starting is serialised by a lock file, so two clients
starting at once end with one server; the server is a new interpreter (never a fork) in its
own session, detached from the client's terminal, and outlives the client until it is idle.
"""

from __future__ import annotations

import _socket  # what a client needs of `socket`, without its enum set-up
import contextlib
import fcntl
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from wren.__about__ import __version__
from wren._errors import WrenError
from wren.private_dirs import ensure_private_dir, user_dir
from wren.worker.pool.link import Link, check_peer

if TYPE_CHECKING:
    import subprocess

POOL_DIR_ENV = "WREN_POOL_DIR"
#: Bumped when the messages between client and server change.
PROTOCOL = 2
START_TIMEOUT = 20.0
HELLO_TIMEOUT = 5.0
_BOOT = "from wren.worker.pool.server import main; main()"
#: Environment variables that differ between two runs of the same script in one shell.
_VOLATILE = frozenset({"_", "OLDPWD", "SHLVL", "PWD", "TERM_SESSION_ID", "WINDOWID"})
#: The server's log (its and its workers' own output) starts afresh past this size.
_LOG_BYTES = 1 << 20
_FIX = "remove it, or set WREN_POOL_DIR to a directory you own that only you can write"


class PoolServerError(WrenError):
    """The user's pool server could not be started or reached."""


def pool_dir() -> Path:
    """The private directory holding the servers' sockets, lock and log files."""
    return ensure_private_dir(os.environ.get(POOL_DIR_ENV) or user_dir() / "pool", fix=_FIX)


def server_name() -> str:
    """The digest naming the server this process may share (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if k not in _VOLATILE}
    installed = str(Path(__file__).resolve().parents[2])  # the `wren` package's directory
    facts = [PROTOCOL, __version__, installed, sys.executable,
             os.getcwd(), sorted(env.items())]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:20]


def _hello(path: Path, idle_timeout: float) -> tuple[Link, int] | None:
    """A link to the server at `path` that answered the handshake, or None (none there,
    gone, or another version)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        check_peer(sock)
    except (FileNotFoundError, ConnectionError):
        sock.close()
        return None
    except BaseException:
        sock.close()
        raise
    link = Link(sock)
    try:
        link.send(("hello", PROTOCOL, __version__, idle_timeout))
        answer = link.receive(HELLO_TIMEOUT)
    except (EOFError, OSError, TimeoutError):
        link.close()
        return None
    if answer[0] != "hello":
        link.close()
        return None
    return link, int(answer[1])


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the start lock; `PoolServerError` when another client holds it past the time a
    start may take (stopped while starting a server, say): never a hang."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        deadline = time.monotonic() + START_TIMEOUT + 2 * HELLO_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PoolServerError(f"another wren client has held {str(path)!r} for "
                                          "too long while starting the pool server") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # releases the lock


def _start(directory: Path, name: str, idle_timeout: float, size: int) -> subprocess.Popen[bytes]:
    path = directory / f"{name}.log"
    trim = os.O_TRUNC if path.exists() and path.stat().st_size > _LOG_BYTES else 0
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | trim, 0o600)
    import subprocess  # only a client that starts the server pays for it

    try:
        return subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(directory / f"{name}.sock"),
             repr(float(idle_timeout)), str(size)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True,
            start_new_session=True)
    finally:
        os.close(log)


def running_link(idle_timeout: float) -> tuple[Link, int] | None:
    """A link to this user's pool server (and its pid) if one is running, else None."""
    return _hello(pool_dir() / f"{server_name()}.sock", idle_timeout)


def open_link(idle_timeout: float, size: int) -> tuple[Link, int]:
    """A link to this user's pool server (and its pid), started first when none answers;
    `PoolServerError` when none could be started."""
    directory = pool_dir()
    name = server_name()
    path = directory / f"{name}.sock"
    found = _hello(path, idle_timeout)
    if found is not None:
        return found
    with _locked(directory / f"{name}.lock"):
        found = _hello(path, idle_timeout)  # another client may have started it meanwhile
        if found is not None:
            return found
        proc = _start(directory, name, idle_timeout, size)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = _hello(path, idle_timeout)
            if found is not None:
                return found
            if proc.poll() is not None:
                break
            time.sleep(0.002)
    with contextlib.suppress(Exception):
        proc.kill()
    raise PoolServerError(f"wren could not start its worker pool server ({_tail(directory, name)}); "
                          "set pool_idle_timeout: 0 in the localhost section to run workers "
                          "in this process instead")


def _tail(directory: Path, name: str) -> str:
    try:
        text = (directory / f"{name}.log").read_text(errors="replace").strip()
    except OSError:
        text = ""
    return f"its last output: {text[-500:]}" if text else "it did not answer"

"""Helpers shared by the server fixtures: free ports, daemons started and stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Daemon:
    """One server process in the foreground of its own session, output to a log file."""

    def __init__(self, name: str, argv: Sequence[str], log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.log = name, log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env,
                                            start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if not self.alive():
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(5)


def wait_for(what: str, ready: Callable[[], bool], timeout: float,
             daemons: Sequence[Daemon] = ()) -> None:
    """Poll `ready` until it is true; fail loudly (with the daemons' logs) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        dead = [d for d in daemons if not d.alive()]
        if dead:
            break
        time.sleep(0.2)
    logs = "\n".join(f"--- {d.name} (pid {d.pid}, exit {d.process.poll()}):\n{tail(d.log)}"
                     for d in daemons)
    raise RuntimeError(f"{what} did not become ready within {timeout:g} s\n{logs}")

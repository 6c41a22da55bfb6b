"""Daemons for the server fixtures: started in their own session with output to a log file,
stopped by PID, and waited for with their logs in the error when they fail to come up."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tests.servers.ports import stop_process


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
        stop_process(self.process, grace)


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

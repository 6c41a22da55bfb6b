"""Consumer processes running the real azure runtime entry point (wren_backend_azure/runtime), standing in for the
replicas that Azure Container Apps would start for a runtime.

`ConsumerFleet` starts `count` processes of that `entry_point.py` with a
runtime's environment (as the Container App would set it), restarts any that exits (as the
platform restarts a crashed container), can SIGKILL or SIGTERM one on demand, and stops them all by PID.
Each process logs to its own file, shown when a test asks for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from importlib.resources import files
from pathlib import Path

ENTRY_POINT = Path(str(files("wren_backend_azure") / "runtime" / "entry_point.py"))


class ConsumerFleet:
    """Several consumers of one queue, kept running until `stop`."""

    def __init__(self, environ: dict[str, str], count: int) -> None:
        self.environ, self.count = environ, count
        self.logs = Path(tempfile.mkdtemp(prefix="wren-azure-consumers-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.exits: list[int] = []
        self.started = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = open(self.logs / f"consumer-{self.started:03d}.log", "wb")  # noqa: SIM115
        env = {**os.environ, **self.environ}
        env.pop("PYTHONPATH", None)  # a runtime imports only what is installed in it
        try:
            # Its own process group, like a container: `kill` ends the consumer and the
            # pool workers running its tasks together, as a container kill does.
            return subprocess.Popen([sys.executable, str(ENTRY_POINT)], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=self.logs, start_new_session=True)
        finally:
            log.close()

    def start(self) -> ConsumerFleet:
        with self._lock:
            self.processes = [self._spawn() for _ in range(self.count)]
        self._watcher.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                for slot, process in enumerate(self.processes):
                    code = process.poll()
                    if code is not None and not self._stop.is_set():
                        self.exits.append(code)
                        self.processes[slot] = self._spawn()

    def kill(self, slot: int) -> int:
        """SIGKILL one consumer and its worker processes, as a container is killed (it is
        restarted); return its PID."""
        with self._lock:
            process = self.processes[slot % len(self.processes)]
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return process.pid

    def terminate(self, slot: int) -> int:
        """SIGTERM one consumer (not its workers), as the platform stops a replica on
        scale-in; it is restarted when it exits. Return its PID."""
        with self._lock:
            process = self.processes[slot % len(self.processes)]
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        return process.pid

    def log_text(self, tail: int = 4000) -> str:
        parts = [f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
                 for path in sorted(self.logs.glob("*.log"))]
        return "\n".join(parts)

    def stop(self) -> None:
        self._stop.set()
        if self._watcher.is_alive():
            self._watcher.join(5)
        with self._lock:
            processes = list(self.processes)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for process in processes:  # a consumer's workers, should any outlive it
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

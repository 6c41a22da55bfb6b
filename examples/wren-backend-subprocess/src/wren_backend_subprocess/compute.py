"""Compute `subprocess`: each task runs in a fresh local process, started the way a cloud
adapter starts a container.

`deliver` is the whole invocation channel: it starts `python -m wren_backend_subprocess.runner`
with the storage secrets in its environment (the platform's secret mechanism: never in the
payload), writes the invocation's wire form to its stdin and returns once the runner
answers that it accepted the task. The dispatch kit (`wren.dispatch.DeliveringCompute`) owns
the threads, retries and `wait_dispatched`. The runner reports what its workers lost through
storage, so the adapter declares no `supervises_calls`: a runner that itself vanishes is
ended by the client's `lost_deadline`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any, ClassVar

from wren.config.schema import ConfigKey
from wren.dispatch import DeliveringCompute, Refused, Unavailable
from wren.ports import Invocation, RuntimeInfo
from wren.ports import capabilities as caps
from wren.ports.compute_config import COMPUTE_SCHEMA
from wren.worker.storage_access import STORAGE_CONFIG_ENV

#: The runtime's entry point, run as `python -m RUNNER`.
RUNNER = "wren_backend_subprocess.runner"

CONFIG_SCHEMA = COMPUTE_SCHEMA.extend(
    "subprocess",
    (ConfigKey("python", str, None, "interpreter the runtime runs (default: the client's)"),),
    max_workers={"default": 4},
)


class SubprocessCompute(DeliveringCompute):
    """Runs each task in `python -m wren_backend_subprocess.runner` on this machine."""

    name: ClassVar[str] = "subprocess"
    capabilities = frozenset({caps.SHARED_FILESYSTEM})
    config_schema = CONFIG_SCHEMA

    @property
    def python(self) -> str:
        return str(self.config.get("python") or sys.executable)

    def _start_runner(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env[STORAGE_CONFIG_ENV] = json.dumps(dict(self.worker_storage.config), default=str)
        try:
            return subprocess.Popen([self.python, "-m", RUNNER], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, env=env)
        except OSError as exc:
            raise Unavailable(f"cannot start the runtime {self.python}: {exc}") from exc

    def _ask(self, payload: dict[str, Any]) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
        """Start a runner, send it `payload`, and read its one-line answer."""
        proc = self._start_runner()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(payload).encode())
            proc.stdin.close()
        except OSError:
            pass  # it died at once: its answer (none) says so
        line = proc.stdout.readline()
        if not line:
            code = proc.wait()
            raise Unavailable(f"the runtime exited with code {code} before answering")
        return proc, json.loads(line)

    def deliver(self, invocation: Invocation) -> None:
        proc, answer = self._ask(invocation.to_dict())
        # The runner goes on with the task; reap it when it ends.
        threading.Thread(target=proc.wait, name="wren-subprocess-reaper", daemon=True).start()
        if "error" in answer:
            raise Refused(f"the runtime refused the task: {answer['error']}")

    def runtime_info(self) -> RuntimeInfo:
        proc, answer = self._ask({"wren_runtime_info": True})
        proc.wait()
        if "error" in answer:
            raise RuntimeError(f"the runtime cannot describe itself: {answer['error']}")
        return RuntimeInfo.from_dict(answer, f"{self.name}:{self.python}")

"""Containers of the OpenWhisk controller double: real action-proxy processes on loopback.

Part of the test double in `openwhisk_controller` (which stands in for the OpenWhisk / IBM
Cloud Functions controller and invoker). What it runs is real: an action's image is mapped to
a command (the runtimes/ibmcf action proxy under a local Python) that is started as its own
process on a free 127.0.0.1 port, initialised with `POST /init` (the action's code) and given
each activation with `POST /run`, as an OpenWhisk invoker does with a container. An action
version has up to `max_containers` containers, each running one activation at a time; one
that overruns the action's time limit is killed (as OpenWhisk does), one that dies is
replaced, and their output goes to log files.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from tests.servers.ports import free_port

Result = tuple[str, dict[str, Any]]  # (status, result): "success", "application error", ...
TIMEOUT_STATUS = "action developer error"


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the double dies, however it dies."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@attrs.define
class ActionSpec:
    """What the invoker needs to run one version of an action."""

    key: str                      # /namespace/package/name
    version: int
    image: str
    code: str | None
    binary: bool
    main: str
    timeout_ms: int
    namespace: str


class Container:
    """One action-proxy process."""

    def __init__(self, argv: Sequence[str], log: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**env, "HOST": "127.0.0.1", "PORT": str(self.port),
                     "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                preexec_fn=_die_with_parent)
        self.connection: http.client.HTTPConnection | None = None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the container exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the container did not listen within {timeout:g} s")

    def post(self, path: str, body: dict[str, Any], timeout: float) -> tuple[int, Any]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        self.connection.timeout = timeout
        if self.connection.sock is not None:
            self.connection.sock.settimeout(timeout)
        data = json.dumps(body).encode()
        self.connection.request("POST", path, body=data,
                                headers={"Content-Type": "application/json"})
        answer = self.connection.getresponse()
        raw = answer.read()
        try:
            return answer.status, json.loads(raw) if raw else {}
        except ValueError:
            return answer.status, {"error": raw[:500].decode(errors="replace")}

    def kill(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class ActionRunner:
    """Runs the activations of one action version on up to `max_containers` containers."""

    def __init__(self, spec: ActionSpec, command: Sequence[str] | None, max_containers: int,
                 log_dir: Path, api_host: str, gate: threading.Event | None = None) -> None:
        self.spec, self.command, self.log_dir = spec, command, log_dir
        self.gate = gate or threading.Event()
        if gate is None:
            self.gate.set()
        self.api_host = api_host
        self.queue: queue.Queue[Any] = queue.Queue()
        self.containers: set[Container] = set()
        self.started = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, daemon=True,
                                          name=f"invoker-{spec.key}-{i}")
                         for i in range(max_containers)]
        for thread in self._threads:
            thread.start()

    def submit(self, activation_id: str, args: dict[str, Any],
               done: Callable[[str, dict[str, Any], float, float], None]) -> None:
        self.queue.put((activation_id, args, done))

    def retire(self) -> None:
        """Stop taking work; containers end once their current activation is over."""
        for _ in self._threads:
            self.queue.put(None)

    def _start(self) -> Container:
        if self.command is None:
            raise LookupError(f"Failed to pull container image '{self.spec.image}'.")
        with self._lock:
            self.started += 1
            number = self.started
        name = f'{self.spec.key.strip("/").replace("/", "_")}-v{self.spec.version}-{number}'
        scratch = self.log_dir / f"{name}.tmp"  # the container's own /tmp
        scratch.mkdir(parents=True, exist_ok=True)
        container = Container(self.command, self.log_dir / f"{name}.log",
                              {**os.environ, "TMPDIR": str(scratch)})
        with self._lock:
            self.containers.add(container)
        container.wait_ready()
        value = {"name": self.spec.key, "main": self.spec.main, "code": self.spec.code,
                 "binary": self.spec.binary, "env": {"__OW_API_HOST": self.api_host}}
        status, body = container.post("/init", {"value": value}, 60.0)
        if status != 200:
            self._drop(container)
            raise RuntimeError(f"the action failed to initialize: {body.get('error', body)}")
        return container

    def _drop(self, container: Container) -> None:
        container.kill()
        with self._lock:
            self.containers.discard(container)

    def _work(self) -> None:
        container: Container | None = None
        try:
            while True:
                item = self.queue.get()
                if item is None:
                    return
                self.gate.wait()  # closed while a benchmark holds execution
                activation_id, args, done = item
                start = time.time()
                status, result, container = self._run(container, activation_id, args)
                done(status, result, start, time.time())
        finally:
            if container is not None:
                self._drop(container)

    def _run(self, container: Container | None, activation_id: str,
             args: dict[str, Any]) -> tuple[str, dict[str, Any], Container | None]:
        spec = self.spec
        try:
            container = container or self._start()
        except (LookupError, RuntimeError) as exc:
            return "action developer error", {"error": str(exc)}, None
        seconds = spec.timeout_ms / 1000
        message = {"value": args, "namespace": spec.namespace, "action_name": spec.key,
                   "activation_id": activation_id, "api_host": self.api_host,
                   "deadline": str(int((time.time() + seconds) * 1000))}
        try:
            status, body = container.post("/run", message, seconds)
        except TimeoutError:
            self._drop(container)
            return TIMEOUT_STATUS, {"error": f"The action exceeded its time limits of "
                                             f"{spec.timeout_ms} milliseconds."}, None
        except (OSError, http.client.HTTPException):
            self._drop(container)
            return TIMEOUT_STATUS, {"error": "The action did not produce a valid response "
                                             "and exited unexpectedly."}, None
        if status == 200 and isinstance(body, dict):
            return "success", body, container
        return "application error", body if isinstance(body, dict) else {"error": body}, \
            container

    def shutdown(self) -> None:
        self.retire()
        with self._lock:
            containers = list(self.containers)
        for container in containers:
            container.kill()

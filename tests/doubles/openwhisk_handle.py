"""Start and drive the OpenWhisk controller double (`openwhisk_controller`, a stand-in for
the OpenWhisk / IBM Cloud Functions controller) from tests and benchmarks.

`OpenWhiskDouble.start()` runs it as its own process on a free 127.0.0.1 port with one plain
OpenWhisk namespace (Basic auth), one IBM IAM namespace (an API key, tokens from the IAM
double) and wren's runtime image for this Python mapped to the real runtimes/ibmcf action
proxy. `flavour` picks the limits it enforces: "ibm" (IBM Cloud Functions) or "stock" (Apache
OpenWhisk's defaults), see `openwhisk_state`; `limits` overrides some of them (a small
`concurrent` or `minute_rate` makes a 429 storm the way a busy namespace does). Its methods wrap the admin routes (fault injection, recorded invocations, stats);
`stop()` ends it, and it ends its containers, by PID.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from wren_backend_ibmcf.config import default_runtime

REPO = Path(__file__).resolve().parents[2]
PROXY = Path(str(files("wren_backend_ibmcf") / "runtime" / "action_proxy.py"))


class OpenWhiskDouble:
    """A running controller double and the credentials it accepts."""

    def __init__(self, root: Path, max_containers: int = 4, token_ttl: float = 3600,
                 record: bool = True, blocking_wait: float = 60, flavour: str = "ibm",
                 limits: dict[str, int] | None = None, namespaces: int = 0) -> None:
        self.root = root
        self.image = str(default_runtime())
        self.basic_key = f"{uuid.uuid4()}:{secrets.token_hex(16)}"
        self.basic_namespace = "wren-openwhisk"
        self.iam_api_key = secrets.token_urlsafe(24)
        self.iam_namespace = "wren-ci"
        self.iam_namespace_id = str(uuid.uuid4())
        # `namespaces` more IAM namespaces listed before wren's (to page through them).
        others = {str(uuid.uuid4()): f"other-{n:04d}" for n in range(namespaces)}
        spec = {"basic": {self.basic_key: self.basic_namespace},
                "iam": {self.iam_api_key: [*others, self.iam_namespace_id]},
                "iam_namespaces": {**others, self.iam_namespace_id: self.iam_namespace},
                "flavour": flavour, "limits": dict(limits or {}),
                "images": {self.image: [sys.executable, str(PROXY)]},
                "max_containers": max_containers, "token_ttl": token_ttl, "record": record,
                "blocking_wait": blocking_wait,
                "log_dir": str(root), "port_file": str(root / "port")}
        (root / "spec.json").write_text(json.dumps(spec))
        self.log = root / "controller.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.doubles.openwhisk_controller", "--spec",
                 str(root / "spec.json")], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.iam_url = f"{self.url}/identity/token"

    @classmethod
    def start(cls, root: Path | None = None, **options: Any) -> OpenWhiskDouble:
        return cls(Path(tempfile.mkdtemp(prefix="wren-openwhisk-", dir=root)), **options)

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 30
        port_file = self.root / "port"
        while time.monotonic() < deadline:
            if port_file.exists():
                return int(port_file.read_text())
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"the OpenWhisk controller double did not start:\n{log}")

    # Configs ------------------------------------------------------------------------------
    def ibm_cf_config(self, **extra: Any) -> dict[str, Any]:
        return {"endpoint": self.url, "namespace": self.iam_namespace,
                "iam_endpoint": self.iam_url, "runtime": self.image, **extra}

    def openwhisk_config(self, **extra: Any) -> dict[str, Any]:
        return {"endpoint": self.url, "namespace": "_", "api_key": self.basic_key,
                "runtime": self.image, **extra}

    # Admin --------------------------------------------------------------------------------
    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def inject(self, status: int, count: int = 1, path: str = "", method: str | None = None,
               error: str | None = None, skip: int = 0) -> None:
        fault: dict[str, Any] = {"status": status, "count": count, "path": path, "skip": skip}
        if method:
            fault["method"] = method
        if error:
            fault["error"] = error
        self._admin("POST", "/_double/faults", fault)

    def clear_faults(self) -> None:
        self._admin("POST", "/_double/faults/clear", {})

    def hold(self, hold: bool = True) -> None:
        """Keep accepted activations queued (True) or run them (False)."""
        self._admin("POST", "/_double/hold", {"hold": hold})

    def expire_tokens(self) -> int:
        return int(self._admin("POST", "/_double/expire-tokens", {})["expired"])

    def invocations(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self._admin("GET", f"/_double/invocations?since={since}"))

    def stats(self) -> dict[str, Any]:
        return dict(self._admin("GET", "/_double/stats"))

    def stop(self) -> None:
        """End the controller (it ends its containers) and remove its files."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


def running_double(**options: Any) -> Iterator[OpenWhiskDouble]:
    """Yield a started double and stop it afterwards (for a fixture)."""
    double = OpenWhiskDouble.start(**options)
    try:
        yield double
    finally:
        double.stop()

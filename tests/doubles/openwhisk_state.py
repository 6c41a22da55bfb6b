"""State of the OpenWhisk controller double (see `openwhisk_controller`, which stands in for
the OpenWhisk / IBM Cloud Functions controller): namespaces and credentials, IAM tokens,
entities, activations, injected faults and the flavour's limits, with the checks every route
shares.

Two flavours, each with its published limits (a spec's `limits` may override any of them):
- `stock`: Apache OpenWhisk's defaults, docs/reference.md "System limits" (per action memory
  128..512 MB, timeout 100..300000 ms; per namespace 100 activations executing or queued and
  120 invocations per minute; payload 1 MB "Per activation payload size").
- `ibm`: IBM Cloud Functions, "System details and limits" (memory 128..2048 MB, timeout up to
  600000 ms, 1000 concurrent activations, 10000 invocations per minute, 5 MB payload).
A request beyond a namespace limit gets what the controller answers (429 with the
`tooManyRequests` / `tooManyConcurrentRequests` text of OpenWhisk's `Messages`, `{"error",
"code"}`, no `Retry-After`); an action outside its flavour's bounds gets a 400 with the
`MemoryLimit` / `TimeLimit` threshold text.
"""

from __future__ import annotations

import base64
import collections
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.doubles.openwhisk_containers import ActionRunner

GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"


FLAVOURS: dict[str, dict[str, int]] = {
    "stock": {"min_memory": 128, "max_memory": 512, "min_timeout": 100,
              "max_timeout": 300_000, "concurrent": 100, "minute_rate": 120,
              "payload": 1024 * 1024},
    "ibm": {"min_memory": 128, "max_memory": 2048, "min_timeout": 100,
            "max_timeout": 600_000, "concurrent": 1000, "minute_rate": 10_000,
            "payload": 5 * 1024 * 1024},
}


class Reply(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def error(status: int, message: str) -> Reply:
    return Reply(status, {"error": message, "code": uuid.uuid4().hex[:12]})


class Controller:
    """State of the double: namespaces, credentials, entities, activations, faults."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.url = ""
        self.basic: dict[str, str] = dict(spec.get("basic", {}))          # uuid:key -> ns
        self.iam_keys: dict[str, list[str]] = dict(spec.get("iam", {}))   # api key -> ids
        self.iam_names: dict[str, str] = dict(spec.get("iam_namespaces", {}))  # id -> name
        self.images: dict[str, list[str]] = dict(spec.get("images", {}))
        self.max_containers = int(spec.get("max_containers", 4))
        self.token_ttl = float(spec.get("token_ttl", 3600))
        self.blocking_wait = float(spec.get("blocking_wait", 60))  # OpenWhisk: 60 s
        self.record = bool(spec.get("record", True))
        self.log_dir = Path(spec.get("log_dir", "."))
        self.flavour = str(spec.get("flavour", "ibm"))
        self.limits = {**FLAVOURS[self.flavour], **spec.get("limits", {})}
        self.recent: dict[str, collections.deque[float]] = {}  # ns -> invocation times
        self.in_flight: collections.Counter[str] = collections.Counter()  # ns -> activations
        self.tokens: dict[str, tuple[str, float]] = {}
        self.packages: dict[tuple[str, str], dict[str, Any]] = {}
        self.actions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.runners: dict[tuple[str, str, str], ActionRunner] = {}
        self.activations: dict[str, dict[str, Any]] = {}
        self.finished: dict[str, threading.Event] = {}
        self.invocations: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.stats = {"requests": 0, "invocations": 0, "tokens_issued": 0, "faults": 0,
                      "completed": 0, "unauthorized": 0, "throttled": 0}
        self.lock = threading.Lock()
        self.running = threading.Event()  # cleared: activations are accepted but wait
        self.running.set()

    # Auth ---------------------------------------------------------------------------------
    def principal(self, headers: Any) -> tuple[str, str]:
        """("basic", namespace) or ("iam", api key) of a request, else 401."""
        header = headers.get("Authorization") or ""
        scheme, _, credential = header.partition(" ")
        if scheme == "Basic":
            try:
                pair = base64.b64decode(credential).decode()
            except ValueError:
                pair = ""
            if pair in self.basic:
                return "basic", self.basic[pair]
        elif scheme == "Bearer":
            with self.lock:
                found = self.tokens.get(credential)
            if found is not None and found[1] >= time.time():
                return "iam", found[0]
        raise self._unauthorized()

    def namespace(self, headers: Any, path_ns: str) -> tuple[str, str]:
        """(key, display name) of the namespace a request may use, else 401 or 403."""
        kind, who = self.principal(headers)
        if kind == "basic" and path_ns in ("_", who):
            return who, who
        if kind == "iam" and path_ns in self.iam_keys.get(who, []):
            return path_ns, self.iam_names.get(path_ns, path_ns)
        raise error(403, f"The supplied authentication is not authorized to access "
                         f"'{path_ns}'.")

    def _unauthorized(self) -> Reply:
        with self.lock:
            self.stats["unauthorized"] += 1
        return error(401, "The supplied authentication is invalid")

    def issue_token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        if form.get("grant_type", [""])[0] != GRANT_TYPE:
            raise Reply(400, {"errorCode": "BXNIM0109E", "errorMessage":
                              "Property missing or empty. Property name(s): grant_type"})
        key = form.get("apikey", [""])[0]
        if key not in self.iam_keys:
            raise Reply(400, {"errorCode": "BXNIM0415E",
                              "errorMessage": "Provided API key could not be found."})
        token = secrets.token_urlsafe(32)
        expires = time.time() + self.token_ttl
        with self.lock:
            self.tokens[token] = (key, expires)
            self.stats["tokens_issued"] += 1
        return {"access_token": token, "refresh_token": "not_supported", "token_type": "Bearer",
                "expires_in": int(self.token_ttl), "expiration": int(expires),
                "scope": "ibm openid"}

    # Limits -------------------------------------------------------------------------------
    def check_action_limits(self, limits: dict[str, Any]) -> None:
        """400 for an action whose memory or timeout is outside the flavour's bounds."""
        low, high = self.limits["min_memory"], self.limits["max_memory"]
        memory = int(limits["memory"])
        if not low <= memory <= high:
            side = f"below allowed threshold of {low}" if memory < low else \
                f"exceeds allowed threshold of {high}"
            raise error(400, f"The request content was malformed:\nmemory {memory} MB {side} MB")
        low, high = self.limits["min_timeout"], self.limits["max_timeout"]
        timeout = int(limits["timeout"])
        if not low <= timeout <= high:
            side = f"below allowed threshold of {low}" if timeout < low else \
                f"exceeds allowed threshold of {high}"
            raise error(400, f"The request content was malformed:\nduration {timeout} "
                             f"milliseconds {side} milliseconds")

    def admit(self, namespace: str, size: int) -> None:
        """Count an invocation against the namespace's limits, or refuse it as the controller
        does: 413 for a payload too big, 429 past the per-minute rate or the activations in
        flight (executing or queued). An admitted one is in flight until `finish`."""
        if size > self.limits["payload"]:
            raise error(413, f"Request larger than allowed: {size} > {self.limits['payload']} "
                             "bytes.")
        now = time.monotonic()
        with self.lock:
            recent = self.recent.setdefault(namespace, collections.deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            in_flight = self.in_flight[namespace]
            message = None
            if len(recent) >= self.limits["minute_rate"]:
                message = (f"Too many requests in the last minute (count: {len(recent) + 1}, "
                           f"allowed: {self.limits['minute_rate']}).")
            elif in_flight >= self.limits["concurrent"]:
                message = (f"Too many concurrent requests in flight (count: {in_flight + 1}, "
                           f"allowed: {self.limits['concurrent']}).")
            if message is not None:
                self.stats["throttled"] += 1
                raise error(429, message)
            recent.append(now)
            self.in_flight[namespace] += 1

    def finish(self, namespace: str) -> None:
        """An admitted activation ended."""
        with self.lock:
            self.in_flight[namespace] -= 1

    def page(self, query: dict[str, str], items: list[Any], collection: str,
             skip_name: str = "skip") -> list[Any]:
        """The page `limit`/`skip` ask for: `limit` 0..200 (default 30; 0 means 200, the
        maximum), anything else a 400, as the controller's list routes answer."""
        raw_limit, raw_skip = query.get("limit", "30"), query.get(skip_name, "0")
        try:
            limit, skip = int(raw_limit), int(raw_skip)
        except ValueError:
            raise error(400, f"The value '{raw_limit}' is not in the range of 0 to 200 for "
                             f"{collection}.") from None
        if not 0 <= limit <= 200:
            raise error(400, f"The value '{limit}' is not in the range of 0 to 200 for "
                             f"{collection}.")
        if skip < 0:
            raise error(400, f"The value '{skip}' is not greater than or equal to 0 for "
                             f"{collection}.")
        return items[skip:skip + (limit or 200)]

    # Faults -------------------------------------------------------------------------------
    def injected(self, method: str, path: str) -> Reply | None:
        with self.lock:
            for fault in self.faults:
                if fault.get("method", method) == method and fault.get("path", "") in path:
                    if fault.get("skip", 0) > 0:
                        fault["skip"] -= 1
                        return None
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    self.stats["faults"] += 1
                    status = int(fault["status"])
                    message = fault.get("error") or {
                        429: "Too many requests in the last minute (count: 999, allowed: 1).",
                        401: "The supplied authentication is invalid"}.get(status, "injected")
                    return error(status, message)
        return None

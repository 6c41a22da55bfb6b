"""State of the OpenWhisk controller double (see `openwhisk_controller`, which stands in for
the OpenWhisk / IBM Cloud Functions controller): namespaces and credentials, IAM tokens,
entities, activations and injected faults, with the checks every route shares."""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.doubles.openwhisk_containers import ActionRunner

GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"


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
        self.tokens: dict[str, tuple[str, float]] = {}
        self.packages: dict[tuple[str, str], dict[str, Any]] = {}
        self.actions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.runners: dict[tuple[str, str, str], ActionRunner] = {}
        self.activations: dict[str, dict[str, Any]] = {}
        self.finished: dict[str, threading.Event] = {}
        self.invocations: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.stats = {"requests": 0, "invocations": 0, "tokens_issued": 0, "faults": 0,
                      "completed": 0, "unauthorized": 0}
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

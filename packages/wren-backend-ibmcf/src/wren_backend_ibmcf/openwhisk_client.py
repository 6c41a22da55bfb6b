"""A small client of the OpenWhisk REST API (`/api/v1/namespaces/{ns}/...`).

Control-plane calls (packages, actions, activations, namespaces) go through a pooled
`requests.Session`. Invocations, the hot path of a 10,000-call map, go through persistent
keep-alive connections kept one per dispatcher thread (`http.client`, the transport under
requests and urllib3): the pool bookkeeping of those layers costs as much CPU as the request
itself, and the client's CPU is what bounds the dispatch rate. Every request carries the
current credential; a 401 renews an IAM token once and repeats. Listings page through the
collection, at most `LIST_PAGE` entities a request. `deliver_invocation` turns an invocation's
answer into the outcomes of wren's dispatch kit; a 429 carries `throttle_hint` (the
platform's limits and what to change, set by the compute backend).
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

import requests
from wren import WrenError
from wren.dispatch import Unavailable, backoff, outcome_of_status

from wren_backend_ibmcf.auth import BasicAuth, IamAuth

Auth = BasicAuth | IamAuth
BLOCKING_LIMIT = 65.0  # a blocking invocation answers within 60 s (then 202 + id)
#: Entities per page of a listing: the most the API returns (`limit` 0..200; 0 means 200,
#: not "all"), so listings page with `skip` (entities) or `offset` (IBM's namespaces).
LIST_PAGE = 200


class Invocation(NamedTuple):
    """The controller's answer to one non-blocking invocation."""

    status: int
    data: dict[str, Any]
    credential: str
    retry_after: str | None


class OpenWhiskError(WrenError):
    """The controller answered a control-plane request with an error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _body(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {"error": raw[:200].decode(errors="replace")}
    return data if isinstance(data, dict) else {"result": data}


class OpenWhiskClient:
    """REST client for one namespace of one OpenWhisk (or IBM Cloud Functions) endpoint."""

    def __init__(self, endpoint: str, auth: Auth, *, namespace: str = "_",
                 insecure: bool = False, pool_size: int = 32) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.auth = auth
        self.namespace = namespace
        self.throttle_hint = "the namespace's rate or concurrency limit was hit"
        self.session = requests.Session()
        self.session.verify = not insecure
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        split = urlsplit(self.endpoint)
        self._https = split.scheme == "https"
        self._host = split.hostname or "localhost"
        self._port = split.port or (443 if self._https else 80)
        self._tls: ssl.SSLContext | None = None
        if self._https:
            import certifi

            self._tls = ssl.create_default_context(cafile=certifi.where())
            if insecure:
                self._tls.check_hostname = False
                self._tls.verify_mode = ssl.CERT_NONE
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"{self.endpoint}/api/v1/namespaces/{quote(self.namespace, safe='')}"

    def action_url(self, package: str, action: str) -> str:
        return f"{self.base}/actions/{quote(package, safe='')}/{quote(action, safe='')}"

    # Control plane ------------------------------------------------------------------------
    def call(self, method: str, url: str, what: str, *, body: Any = None,
             params: Mapping[str, str] | None = None,
             accept: tuple[int, ...] = (200,)) -> tuple[int, dict[str, Any]]:
        """One control-plane request; raises `OpenWhiskError` unless the status is in
        `accept`. `what` names the operation in errors."""
        answer = self._send(method, url, body, params)
        data = _body(answer.content)
        if answer.status_code not in accept:
            raise OpenWhiskError(answer.status_code, self.explain(answer.status_code, data, what))
        return answer.status_code, data

    def _send(self, method: str, url: str, body: Any,
              params: Mapping[str, str] | None) -> requests.Response:
        for attempt in range(2):
            header = self.auth.header()
            try:
                answer = self.session.request(method, url, json=body, params=params,
                                              headers={"Authorization": header},
                                              timeout=(10, BLOCKING_LIMIT))
            except requests.RequestException as exc:
                raise OpenWhiskError(0, f"cannot reach {self.endpoint}: {exc}; check "
                                        "`endpoint` and that the service is up") from exc
            if answer.status_code != 401 or attempt or not self.auth.renew(header):
                return answer
        return answer

    def explain(self, status: int, data: Mapping[str, Any], what: str) -> str:
        error = data.get("error") or data.get("message") or "no details"
        if isinstance(error, dict):
            error = error.get("error") or json.dumps(error)
        hint = {401: f"the controller rejected the {self.auth.kind} credentials: fix "
                     "`api_key` / `iam_api_key` in the config",
                403: f"the credentials may not use namespace {self.namespace!r}: check "
                     "`namespace` / `namespace_id`",
                429: self.throttle_hint}.get(status, "")
        return f"{what} failed at {self.endpoint}: HTTP {status}: {error}" + (
            f"; {hint}" if hint else "")

    def list_namespaces(self) -> list[dict[str, Any]]:
        """The IAM namespaces the credentials may use (IBM's `{"namespaces": [...],
        "total_count": n}` pages, read with `limit`/`offset` until all were seen)."""
        found: list[dict[str, Any]] = []
        while True:
            _, data = self.call("GET", f"{self.endpoint}/api/v1/namespaces",
                                "listing namespaces",
                                params={"limit": str(LIST_PAGE), "offset": str(len(found))})
            page = data.get("namespaces")
            if not isinstance(page, list):
                return found
            found.extend(item for item in page if isinstance(item, dict))
            total = data.get("total_count")
            if len(page) < LIST_PAGE or (isinstance(total, int) and len(found) >= total):
                return found

    def list_entities(self, url: str, what: str) -> list[dict[str, Any]] | None:
        """Every entity of the collection at `url`, read in pages of `LIST_PAGE` with
        `limit`/`skip`; None when the collection does not exist (404)."""
        found: list[dict[str, Any]] = []
        while True:
            status, data = self.call("GET", url, what, accept=(200, 404),
                                     params={"limit": str(LIST_PAGE), "skip": str(len(found))})
            if status == 404:
                return found or None
            page = data.get("result")
            if not isinstance(page, list):
                return found
            found.extend(item for item in page if isinstance(item, dict))
            if len(page) < LIST_PAGE:
                return found

    def get_activation(self, activation_id: str) -> dict[str, Any] | None:
        status, data = self.call("GET", f"{self.base}/activations/{activation_id}",
                                 "reading an activation", accept=(200, 404))
        return data if status == 200 else None

    def invoke_blocking(self, package: str, action: str, payload: Mapping[str, Any],
                        wait: float = 600.0, throttle_wait: float = 120.0) -> dict[str, Any]:
        """Invoke and return the action's result, following a long run by its activation. A
        namespace at its limit (429) is asked again with back-off and jitter for up to
        `throttle_wait` seconds; then the 429 is raised (`OpenWhiskError`, with the hint)."""
        url = self.action_url(package, action)
        what, throttled_until, attempt = f"invoking {package}/{action}", None, 0
        while True:
            status, data = self.call("POST", url, what, body=payload,
                                     params={"blocking": "true", "result": "true"},
                                     accept=(200, 202, 429, 502))
            if status != 429:
                break
            attempt += 1
            now = time.monotonic()
            throttled_until = throttled_until or now + throttle_wait
            if now >= throttled_until:
                raise OpenWhiskError(429, self.explain(429, data, what))
            time.sleep(min(backoff(attempt, 0.2, 5.0), throttled_until - now))
        if status == 200:
            return data
        if status == 502:
            raise OpenWhiskError(502, f"action {package}/{action} failed: "
                                      f"{data.get('error') or data}")
        activation_id = str(data.get("activationId"))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            record = self.get_activation(activation_id)
            if record is not None:
                response = record.get("response") or {}
                result = response.get("result") or {}
                if not response.get("success", False):
                    raise OpenWhiskError(502, f"action {package}/{action} failed: "
                                              f"{result.get('error') or response}")
                return dict(result)
            time.sleep(1.0)
        raise OpenWhiskError(504, f"action {package}/{action} gave no result within "
                                  f"{wait:g} s (activation {activation_id})")

    # Hot path -----------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection",
                                                                None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(self._host, self._port,
                                                         timeout=BLOCKING_LIMIT,
                                                         context=self._tls)
            else:
                connection = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=BLOCKING_LIMIT)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def post_invocation(self, url: str, body: bytes) -> Invocation:
        """Send one non-blocking invocation; return the status, JSON answer, credential used
        and `Retry-After`. Connection errors propagate (the dispatcher retries them); a
        kept-alive connection the server closed meanwhile is reopened once at once."""
        path = url[len(self.endpoint):] if url.startswith(self.endpoint) else url
        header = self.auth.header()
        headers = {"Content-Type": "application/json", "Authorization": header}
        for attempt in (0, 1):
            reused = getattr(self._local, "connection", None) is not None
            connection = self._connection()
            try:
                connection.request("POST", path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                self._drop_connection()
                if reused and attempt == 0:
                    continue
                raise
            if answer.will_close:
                self._drop_connection()
            return Invocation(answer.status, _body(data), header,
                              answer.getheader("Retry-After"))
        raise AssertionError("unreachable")

    def deliver_invocation(self, url: str, action: str, body: bytes,
                           deploy_missing: Callable[[str], None]) -> None:
        """Invoke `action` at `url` without blocking, as a `wren.dispatch` deliverer does:
        return once accepted; a 401 renews the token once and a 404 calls
        `deploy_missing(action)` once, then post again; else raise `Throttled` (429),
        `Unavailable` (5xx, connection errors) or `Refused` (any other answer)."""
        renewed = deployed = False
        while True:
            try:
                answer = self.post_invocation(url, body)
            except (OSError, http.client.HTTPException) as exc:
                raise Unavailable(f"cannot reach {self.endpoint} to invoke {action}: "
                                  f"{type(exc).__name__}: {exc}") from exc
            status = answer.status
            if status in (200, 202):
                return
            if status == 401 and not renewed and self.auth.renew(answer.credential):
                renewed = True
                continue
            if status == 404 and not deployed:
                deployed = True
                deploy_missing(action)
                continue
            raise outcome_of_status(status, self.explain(status, answer.data,
                                                         f"invoking {action}"),
                                    answer.retry_after)

    def close(self) -> None:
        self.session.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

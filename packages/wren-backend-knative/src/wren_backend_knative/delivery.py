"""`HttpDeliverer`: posts tasks to runtimes over one pooled HTTP session (a wren `Deliverer`).

Each task is one `POST /` of its JSON form to the ingress gateway with the runtime's `Host`
and `Authorization: Bearer <the route's token>`; the runtime answers 202 as soon as a
worker slot takes it. A task `hold_for(task)` gives seconds to is sent held (`Wren-Hold`,
see `runtime_hold`) through the `Holder`, which returns once the task was taken and keeps
the answer open in the background, so the request lasts as long as the work and Knative's
autoscaler counts it, while the dispatcher's thread goes on; https routes (a cluster with
`http-protocol: Redirected`) go through the `Holder` too, which names the Service in SNI.
429 is `Throttled`; other 5xx answers (the gateway's 502/503/504, a runtime that is
shutting down), 408 and connection errors are `Unavailable`, honouring `Retry-After`; wren's
dispatcher retries both. A 404 means the gateway knows no Service for that `Host` (the
runtime was deleted meanwhile): `reroute` is asked once for a fresh route (the backend
deploys the runtime again) and the task is posted there; a 401 (the runtime takes another
token) is asked the same way, since a fresh route reads the token again. A redirect
(http-protocol Redirected, the route not yet https) is `Refused` with the fix, never
followed with the token. Any other answer is `Refused`, naming the runtime and the answer.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable

import h11
import requests
from requests.adapters import HTTPAdapter
from wren.dispatch import Refused, Unavailable, outcome_of_status
from wren.protocol.invocation import Invocation
from wren.protocol.task import Task

from wren_backend_knative.holding import Answer, Holder
from wren_backend_knative.ingress import Route
from wren_backend_knative.runtime_auth import authorization
from wren_backend_knative.runtime_hold import HOLD_HEADER

CONNECT_TIMEOUT = 10.0

#: What to do when the gateway redirects (a redirect is never followed with the token).
REDIRECT_HINT = ("the cluster sends http to https (its config-network `http-protocol` is "
                 "Redirected): set `ingress_endpoint` in the `knative` config section to the "
                 "gateway's https address (https://HOST:443), or leave it unset so that wren "
                 "finds the gateway's https port, and `ingress_ca` to the CA of its "
                 "certificate if the system does not trust it")

#: Given a route the gateway answered 404 for, a route to try instead (or None).
Reroute = Callable[[Route], "Route | None"]


def _where(route: Route) -> str:
    return f"the runtime {route.service} (Host {route.host} at {route.url})"


class HttpDeliverer:
    """Delivers tasks to the route `route_for(task)` names; thread-safe."""

    def __init__(self, route_for: Callable[[Task], Route], *, threads: int,
                 read_timeout: float, reroute: Reroute | None = None,
                 hold_for: Callable[[Task], float | None] | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.route_for, self.read_timeout, self.reroute = route_for, read_timeout, reroute
        self.hold_for = hold_for
        self.holder = Holder(CONNECT_TIMEOUT, read_timeout, ssl_context)
        self.session = requests.Session()
        # Each route's request is prepared once, and proxy settings are read from the
        # environment once (scanning os.environ per request costs more than the request).
        self.session.trust_env = False
        self._templates: dict[Route, tuple[requests.PreparedRequest, dict[str, str]]] = {}
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=threads, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def deliver(self, invocation: Invocation) -> None:
        task = invocation.task
        hold = self.hold_for(task) if self.hold_for is not None else None
        self.post(self.route_for(task), json.dumps(invocation.to_dict()).encode(),
                  f"task {task.task_id}", hold)

    def _template(self, route: Route) -> tuple[requests.PreparedRequest, dict[str, str]]:
        """A prepared POST to `route` and the proxies for it, made once per route."""
        found = self._templates.get(route)
        if found is None:
            request = requests.Request("POST", route.url, data=b"", headers={
                "Host": route.host, "Content-Type": "application/json",
                **authorization(route.token)})
            found = (self.session.prepare_request(request),
                     requests.utils.get_environ_proxies(route.url))
            self._templates[route] = found
        return found

    def _send(self, route: Route, body: bytes, hold: float | None
              ) -> Answer | requests.Response:
        if hold is not None or route.endpoint.startswith("https:"):
            headers = {"Host": route.host, "Content-Type": "application/json",
                       **authorization(route.token)}
            if hold is not None:
                headers[HOLD_HEADER] = f"{hold:g}"
            try:
                return self.holder.post(route.url, headers, body)
            except (OSError, h11.ProtocolError) as exc:
                raise Unavailable(f"{type(exc).__name__}: {exc} ({_where(route)})") from exc
        template, proxies = self._template(route)
        request = template.copy()
        request.body = body
        request.headers["Content-Length"] = str(len(body))
        try:
            return self.session.send(request, proxies=proxies, allow_redirects=False,
                                     timeout=(CONNECT_TIMEOUT, self.read_timeout))
        except requests.RequestException as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc} ({_where(route)})") from exc

    def post(self, route: Route, body: bytes, what: str, hold: float | None = None) -> None:
        """POST `body` (which carries `what`) to `route`; return once it was taken (held
        for up to `hold` seconds while it runs, when given)."""
        rerouted = False
        while True:
            answer = self._send(route, body, hold)
            status = answer.status_code
            if 200 <= status < 300:
                return
            last = f"HTTP {status} {answer.reason}: {answer.text[:500]}"
            if status in (301, 302, 307, 308):
                last += f" (Location: {answer.headers.get('location')})"
            if status == 401:
                last += ("; the runtime does not take this client's token (its Secret was "
                         "changed after it started?): deploy it again with `wren runtime "
                         "update <image> -b knative`")
            if status in (401, 404) and self.reroute is not None and not rerouted:
                fresh = self.reroute(route)
                if fresh is not None:
                    rerouted, route = True, fresh
                    continue
            if status in (301, 302, 307, 308):
                raise Refused(f"{_where(route)} refused {what}: {last}; {REDIRECT_HINT}")
            detail = (f"{_where(route)} refused {what}: {last}" if 400 <= status < 500
                      and status not in (408, 429) else f"{last} ({_where(route)})")
            raise outcome_of_status(status, detail, answer.headers.get("Retry-After"))

    def get(self, route: Route, path: str) -> Answer | requests.Response:
        """GET `path` of `route` (e.g. the runtime's `/metadata`)."""
        headers = {"Host": route.host, **authorization(route.token)}
        if route.endpoint.startswith("https:"):
            return self.holder.post(route.endpoint + path, headers, b"", method="GET")
        url = route.endpoint + path
        return self.session.get(url, headers=headers, timeout=(CONNECT_TIMEOUT, 60),
                                allow_redirects=False,
                                proxies=requests.utils.get_environ_proxies(url))

    def close(self) -> None:
        self.session.close()
        self.holder.close()

"""`Dispatcher`: sends tasks to runtimes over one pooled HTTP session, from a thread pool.

`submit` returns at once; worker threads POST each task (JSON) to the ingress gateway with
the runtime's `Host`. The runtime answers 202 as soon as a worker slot takes the task, so a
thread is held only while every slot is busy. A 5xx answer (the gateway's 502/503/504, a
runtime that is shutting down), 429, or a connection error is retried with exponential
backoff and jitter. A 404 means the gateway knows no Service for that `Host` (the runtime
was deleted meanwhile): the dispatcher asks `reroute` once for a fresh route (the backend
deploys the runtime again) and retries there. When the retries are spent, or the answer is a
4xx that retrying cannot fix, the task's calls are reported lost through the listener with
the last problem in the message, so they fail on their futures instead of hanging.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter
from wren.ports.compute import InvocationListener
from wren.protocol.task import Task

from wren_backend_knative.ingress import Route

logger = logging.getLogger("wren")

FIRST_DELAY = 0.25
MAX_DELAY = 8.0
CONNECT_TIMEOUT = 10.0


def retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


#: Given a route the gateway answered 404 for, a route to try instead (or None).
Reroute = Callable[[Route], "Route | None"]


class Dispatcher:
    """A thread pool and an HTTP session shared by every task one client sends."""

    def __init__(self, threads: int, retries: int, read_timeout: float,
                 reroute: Reroute | None = None) -> None:
        self.threads, self.retries, self.read_timeout = threads, retries, read_timeout
        self.reroute = reroute
        self.session = requests.Session()
        # Each route's request is prepared once, and proxy settings are read from the
        # environment once (scanning os.environ per request costs more than the request).
        self.session.trust_env = False
        self._templates: dict[Route, tuple[requests.PreparedRequest, dict[str, str]]] = {}
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=threads, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="wren-knative-invoke")
        self._condition = threading.Condition()
        self._pending = 0
        self.sent = 0

    def submit(self, route: Route, tasks: Sequence[Task], listener: InvocationListener) -> None:
        with self._condition:
            self._pending += len(tasks)
        for task in tasks:
            self._pool.submit(self._deliver, route, task, listener)

    def _deliver(self, route: Route, task: Task, listener: InvocationListener) -> None:
        try:
            problem = self._post(route, task)
            if problem is not None:
                logger.warning("knative: task %s/%s not delivered: %s", task.job_key,
                               task.task_id, problem)
                listener.calls_lost(task.job_key, list(task.call_indices), problem, "lost")
        except Exception as exc:  # never let a task vanish without a report
            logger.exception("knative: delivering task %s failed", task.task_id)
            listener.calls_lost(task.job_key, list(task.call_indices),
                                f"wren could not send the task: {type(exc).__name__}: {exc}",
                                "lost")
        finally:
            with self._condition:
                self._pending -= 1
                self.sent += 1
                self._condition.notify_all()

    def _template(self, route: Route) -> tuple[requests.PreparedRequest, dict[str, str]]:
        """A prepared POST to `route` and the proxies for it, made once per route."""
        found = self._templates.get(route)
        if found is None:
            request = requests.Request("POST", route.url, data=b"", headers={
                "Host": route.host, "Content-Type": "application/json"})
            found = (self.session.prepare_request(request),
                     requests.utils.get_environ_proxies(route.url))
            self._templates[route] = found
        return found

    def _post(self, route: Route, task: Task) -> str | None:
        """Deliver one task; None when the runtime took it, else what went wrong."""
        body = json.dumps(task.to_dict()).encode()
        template, proxies = self._template(route)
        delay = FIRST_DELAY
        attempts = self.retries + 1
        rerouted = False
        for attempt in range(1, attempts + 1):
            try:
                request = template.copy()
                request.body = body
                request.headers["Content-Length"] = str(len(body))
                answer = self.session.send(request, proxies=proxies, allow_redirects=False,
                                           timeout=(CONNECT_TIMEOUT, self.read_timeout))
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= answer.status_code < 300:
                    return None
                last = f"HTTP {answer.status_code} {answer.reason}: {answer.text[:500]}"
                fresh = self.reroute(route) if answer.status_code == 404 and \
                    self.reroute is not None and not rerouted else None
                if fresh is not None:
                    rerouted, route = True, fresh
                    template, proxies = self._template(route)
                    continue
                if not retryable(answer.status_code):
                    return (f"the runtime {route.service} (Host {route.host} at {route.url}) "
                            f"refused task {task.task_id}: {last}")
            if attempt < attempts:
                time.sleep(delay * (1 + 0.25 * random.random()))
                delay = min(delay * 2, MAX_DELAY)
        return (f"wren could not deliver task {task.task_id} to the runtime {route.service} "
                f"(Host {route.host} at {route.url}) in {attempts} attempts; last: {last}")

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted task was delivered or reported; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._condition.wait(left)
        return True

    @property
    def pending(self) -> int:
        return self._pending

    def close(self) -> None:
        """Stop taking tasks; those already submitted are still delivered."""
        self._pool.shutdown(wait=False)

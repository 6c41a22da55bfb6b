"""Deliver invocations from a pool of client threads, with the platform's retry rules.

`Dispatcher.submit` queues one invocation and returns at once. A pool thread builds its JSON
body and posts it: 202 is delivered; 429 (throttled) is retried with exponential backoff and
jitter until `throttle_timeout` seconds have passed, then the calls fail with a clear reason;
401 renews an IAM token once; 404 (no such action) deploys the runtime once and retries; 5xx
answers and connection errors are retried a few times with backoff. A failure is reported to
the submitter's `on_lost` callback, never dropped: the client's future raises it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wren_backend_ibmcf.openwhisk_client import OpenWhiskClient

logger = logging.getLogger("wren")

MAX_ERRORS = 5
LostCallback = Callable[[str], None]


def backoff(attempt: int, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): exponential, jittered."""
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class Dispatcher:
    """Background delivery of invocations to one OpenWhisk endpoint."""

    def __init__(self, client: OpenWhiskClient, threads: int, throttle_timeout: float,
                 deploy_missing: Callable[[str], None]) -> None:
        self.client = client
        self.throttle_timeout = throttle_timeout
        self.deploy_missing = deploy_missing
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="wren-invoke")
        self._idle = threading.Condition()
        self._pending = 0
        self.delivered = 0
        self.throttled = 0

    def submit(self, url: str, action: str, payload: Callable[[], Mapping[str, Any]],
               on_lost: LostCallback) -> None:
        """Queue one invocation of `url` (action `action`) with the payload `payload()`."""
        with self._idle:
            self._pending += 1
        self._pool.submit(self._run, url, action, payload, on_lost)

    def wait(self, timeout: float | None = None) -> bool:
        """True once every submitted invocation was delivered or reported lost."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _run(self, url: str, action: str, payload: Callable[[], Mapping[str, Any]],
             on_lost: LostCallback) -> None:
        try:
            reason = self._deliver(url, action, json.dumps(payload()).encode())
        except Exception as exc:  # a bug or an unexpected failure: report, never drop
            logger.exception("invoking %s failed", action)
            reason = f"invoking {action} failed: {type(exc).__name__}: {exc}"
        try:
            if reason is not None:
                on_lost(reason)
        finally:
            with self._idle:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.notify_all()

    def _deliver(self, url: str, action: str, body: bytes) -> str | None:
        """Post until delivered; return None, or why the invocation could not be made."""
        errors = throttles = 0
        renewed = deployed = False
        throttled_since: float | None = None
        while True:
            try:
                status, data, credential = self.client.post_invocation(url, body)
            except Exception as exc:  # connection refused or reset, timeout
                errors += 1
                if errors >= MAX_ERRORS:
                    return (f"could not reach {self.client.endpoint} to invoke {action} after "
                            f"{errors} attempts: {exc}")
                time.sleep(backoff(errors))
                continue
            if status in (200, 202):
                with self._idle:
                    self.delivered += 1
                return None
            if status == 429:
                now = time.monotonic()
                throttled_since = throttled_since or now
                if now - throttled_since >= self.throttle_timeout:
                    return (f"the platform kept refusing to invoke {action} with HTTP 429 "
                            f"(too many requests) for {now - throttled_since:.0f} s: "
                            f"{data.get('error', '')} Lower `max_workers`, use a larger "
                            "chunksize, or raise the namespace's limits")
                throttles += 1
                with self._idle:
                    self.throttled += 1
                time.sleep(backoff(throttles, cap=min(2.0, self.throttle_timeout or 2.0)))
                continue
            if status == 401 and not renewed and self.client.auth.renew(credential):
                renewed = True
                continue
            if status == 404 and not deployed:
                deployed = True
                self.deploy_missing(action)
                continue
            if status >= 500 and errors + 1 < MAX_ERRORS:
                errors += 1
                time.sleep(backoff(errors))
                continue
            return self.client.explain(status, data, f"invoking {action}")

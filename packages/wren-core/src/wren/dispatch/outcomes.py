"""What a `Deliverer` raises when a task did not reach its platform, for the dispatcher to act on.

`deliver` returns None when the platform took the task. Otherwise it raises one of these:
`Throttled` (HTTP 429, or a 503 that says "slow down"): retried, honouring `retry_after`,
until the dispatcher's throttle deadline passes; `Unavailable` (other 5xx answers, refused or
reset connections, timeouts): retried a bounded number of times with exponential backoff and
jitter; `Refused` (an answer retrying cannot change, such as 400, 403 or a payload too large):
final, the task's calls are reported lost with `reason`. Any other exception is treated as a
bug in the adapter and reported lost as well, never dropped.
"""

from __future__ import annotations

import email.utils
import time


class DeliveryProblem(Exception):
    """Base of the outcomes a `Deliverer` raises instead of delivering."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class Throttled(DeliveryProblem):
    """The platform asked to slow down; retry after `retry_after` seconds (None: back off)."""


class Unavailable(DeliveryProblem):
    """The platform could not be reached or failed for now; worth a few more attempts."""


class Refused(DeliveryProblem):
    """The platform will not take this task; its calls are lost with `detail` as the reason."""

    @property
    def reason(self) -> str:
        return self.detail


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds an HTTP `Retry-After` header asks for (delta-seconds or an HTTP date), or None
    when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def outcome_of_status(status: int | None, detail: str,
                      retry_after: str | None = None) -> DeliveryProblem:
    """The outcome of an HTTP answer `status` that is not a success (None: no answer at all):
    429 is `Throttled`; 408, 5xx and no answer are `Unavailable`; the rest are `Refused`.
    `retry_after` is the answer's `Retry-After` header."""
    wait = parse_retry_after(retry_after)
    if status == 429:
        return Throttled(detail, wait)
    if status is None or status >= 500 or status == 408:
        return Unavailable(detail, wait)
    return Refused(detail)

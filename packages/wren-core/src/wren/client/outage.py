"""`StorageOutage`: how long the job storage has been unreachable, seen from the monitor.

The monitor reports every failed and every successful storage request here. While the
storage stays unreachable, no status can arrive through it and no result can be read, so a
call that was pending when the outage began cannot still be running once its timeout plus a
grace period has passed since: `overdue` names the pending calls of a job at that point, and
`reason` says which storage failed, since when, and with what error, for their futures.
"""

from __future__ import annotations

import logging
import time

from wren.client.job import JobState

logger = logging.getLogger("wren")

#: Seconds an outage must outlast a call's timeout before its pending calls fail.
OUTAGE_GRACE = 30.0


class StorageOutage:
    """The current outage of one storage backend (none while `since` is None)."""

    def __init__(self, storage_name: str, grace: float = OUTAGE_GRACE) -> None:
        self.storage_name = storage_name
        self.grace = grace
        self.since: float | None = None
        self.error = ""

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException, now: float | None = None) -> None:
        """A request to the storage failed with `exc` (the outage begins or goes on)."""
        self.error = f"{type(exc).__name__}: {exc}"
        if self.since is None:
            self.since = time.time() if now is None else now
            logger.warning("storage %r is unreachable (will keep trying): %s",
                           self.storage_name, self.error)

    def succeeded(self, now: float | None = None) -> None:
        """A request to the storage succeeded (the outage, if any, is over)."""
        if self.since is not None:
            now = time.time() if now is None else now
            logger.warning("storage %r is reachable again after %.0f s", self.storage_name,
                           now - self.since)
            self.since = None

    def overdue(self, job: JobState, call_timeout: float, now: float) -> list[int]:
        """Calls of `job` still pending once the outage outlasted `call_timeout` + grace."""
        if self.since is None or now - self.since < call_timeout + self.grace:
            return []
        return [index for index, doc in enumerate(job.docs) if doc is None]

    def reason(self, call_timeout: float, now: float) -> str:
        """Why the overdue calls failed, for their futures."""
        since = 0.0 if self.since is None else self.since
        return (f"the storage {self.storage_name!r} has been unreachable for "
                f"{now - since:.0f} s (since {time.strftime('%H:%M:%S', time.localtime(since))}"
                f"), longer than the call's {call_timeout:g} s timeout plus {self.grace:g} s, "
                f"so its status and result cannot arrive: {self.error}")

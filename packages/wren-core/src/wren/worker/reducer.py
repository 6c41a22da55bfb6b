"""The remote reducer: a function that runs in a worker, waits for a map job's results in
storage, and hands them, in map order, to the user's reduce function.

`map_reduce` spawns it as an ordinary call once `spawn_reducer` percent of the map calls are
done, so the client does not have to download the map results at all. A reducer may take a
`range` of the map's calls instead of all of them (one reducer per input object). If any
map call failed, the reducer fails with an error that names the call and keeps its
exception as the cause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from wren._errors import (
    MalformedDocumentError,
    ProtocolVersionError,
    TamperedDataError,
    WrenError,
)
from wren.protocol import keys
from wren.protocol.status import StatusDocument
from wren.worker.upstream import ResultReader

logger = logging.getLogger("wren")

#: The reducer lists the map's statuses this often at first (seconds), so a quick map is
#: reduced within milliseconds; on a cloud each listing is a storage request, so...
FIRST_POLL = 0.001
#: ...the interval grows to this whatever the listings find (and returns to it when a
#: listing finds something new)...
STEADY_POLL = 0.05
#: ...and on to this while they find nothing new.
MAX_POLL = 2.0


def next_poll(delay: float, changed: bool) -> float:
    """The wait before the next listing, after one that waited `delay` and did (`changed`)
    or did not find a new status."""
    if not changed:
        return min(delay * 1.5, MAX_POLL)
    return min(delay * 1.5, STEADY_POLL) if delay < STEADY_POLL else STEADY_POLL


class MapCallFailedError(WrenError):
    """A map call failed, so its reducer cannot run."""


def _collect(storage: Any, bucket: str, job_key: str, wanted: range,
             poll: float, key: bytes) -> dict[int, tuple[StatusDocument, int]]:
    """The status document and position of each wanted call, read as they appear; the
    listings are paced by `next_poll`, from `poll` seconds."""
    found: dict[int, tuple[StatusDocument, int]] = {}
    missing = set(wanted)
    seen: set[str] = set()
    delay = poll
    while missing:
        changed = False
        for info in storage.list_objects(bucket, keys.status_prefix(job_key)):
            if info.key in seen:
                continue
            seen.add(info.key)
            try:
                document = StatusDocument.open(storage.get_object(bucket, info.key), key)
            except (MalformedDocumentError, TamperedDataError, ProtocolVersionError) as exc:
                logger.warning("ignoring %s: %s", info.key, exc)
                continue
            for position, index in enumerate(document.indices):
                found.setdefault(index, (document, position))
                missing.discard(index)
            changed = True
        if missing:
            time.sleep(delay)
            delay = next_poll(delay, changed)
    return found


class RemoteReducer:
    """The function a remote reducer call runs: `RemoteReducer(...)(n_calls, map_job_key)`
    waits for the results of map job `map_job_key` (all `n_calls`, or the calls in a
    `range`) and returns the user's reduce function applied to them. Its attributes travel
    with it, so the reduce function is shipped like any other function; the map job comes
    as an argument, so every `map_reduce` with the same reduce function packs, uploads and
    stores the same function object (one per map job would each be a new blob, kept)."""

    def __init__(self, reduce_function: Callable[..., Any],
                 serializer_name: str = "cloudpickle") -> None:
        self.reduce_function = reduce_function
        self.serializer_name = serializer_name
        self.__qualname__ = getattr(reduce_function, "__qualname__", "reducer")

    def __call__(self, n_calls: int | range, map_job_key: str) -> Any:
        return reduce_remote(self.reduce_function, map_job_key, n_calls,
                             self.serializer_name)


def reduce_remote(reduce_function: Callable[..., Any], map_job_key: str, n_calls: int | range,
                  serializer_name: str = "cloudpickle", poll: float = FIRST_POLL,
                  **kwargs: Any) -> Any:
    """Wait for the map job's results (all `n_calls`, or the calls in a `range`), then
    return `reduce_function(results, **kwargs)`."""
    reader = ResultReader.current(serializer_name)
    wanted = range(n_calls) if isinstance(n_calls, int) else n_calls
    found = _collect(reader.storage, reader.bucket, map_job_key, wanted, poll, reader.key)
    results = []
    for index in wanted:
        document, position = found[index]
        value = reader.values(document)[position]
        if not document.ok(position):
            raise MapCallFailedError(f"map call {index} failed, so the reducer cannot run: "
                                     f"{type(value).__name__}: {value}") from value
        results.append(value)
    return reduce_function(results, **kwargs)

"""`Pacer`: how many of a queued task's calls the pool hands an idle worker at once.

The pool does not give a worker a whole task when that could leave other workers idle
while it still holds calls it has not started: it gives a *slice* of the task, sized from
the measured time per call of the task's function (keyed by its content hash, so a later
job of the same function starts informed). A function not yet measured gets a *probing*
slice: a share of the task for each worker that may take one (`WorkerPool` asks it back as
soon as one of its calls runs `ASK_BACK_AFTER`, or a worker idles while it holds calls not
started, and the calls it gives back are cut by the measure it made). A new function's map
of no-op calls thus runs at once in a share per worker, instead of one probe call, a round
trip and slices growing from there. Once its calls are known to be short, slices grow until
one takes about `SLICE_SECONDS`, so a map of no-op calls still crosses the pipe in a few big
pieces. The longest a worker can then hold work another idle worker could have taken is
about one call, or `SLICE_SECONDS` of short calls. Short calls that would keep one worker
busy for `SPREAD_SECONDS` or more are shared out among the pool's workers instead, so a map
of a few thousand short calls ends on every worker at once; fewer go to one worker whole (one
status document instead of several: each costs more than the calls it would save). Only
short slices are sent ahead to a busy worker (`prefetch`), for the same reason.

A slice that ran under `SHORT_SLICE_SECONDS` only bounds its calls' time from above: the
loop's own few microseconds weigh as much as the calls (one no-op call measures 4-8 µs,
where 5,000 take 0.15 µs each), so it lowers the measure but never raises it; a measure
that is too low costs at most one slow job, whose slice the pool then asks back
(`WorkerPool`), and whose longer slices measure it again.
"""

from __future__ import annotations

import collections

#: About how long a slice of short calls should run.
SLICE_SECONDS = 0.02
#: Known-short calls that would keep one worker busy this long are shared among the workers.
SPREAD_SECONDS = 0.002
#: A slice that ran less than this never raises its function's measure (see above).
SHORT_SLICE_SECONDS = 0.001
#: A task whose inline arguments are bigger than this is never cut (each slice carries the
#: task's whole argument list, so cutting would copy it once per slice).
SLICE_MAX_BYTES = 1024 * 1024
#: Functions remembered.
_REMEMBERED = 256


class Pacer:
    """Measured seconds per call of each function, and the slice sizes they imply."""

    def __init__(self) -> None:
        self._per_call: collections.OrderedDict[str, float] = collections.OrderedDict()

    def per_call(self, func_key: str) -> float | None:
        """The last measured seconds per call of `func_key` (None: never measured)."""
        return self._per_call.get(func_key)

    def record(self, func_key: str, calls: int, seconds: float) -> None:
        """A slice of `calls` calls of `func_key` ran in `seconds` (dispatch included)."""
        if calls <= 0:
            return
        per_call = max(seconds, 0.0) / calls
        known = self._per_call.get(func_key)
        if known is not None and known < per_call and seconds < SHORT_SLICE_SECONDS:
            per_call = known  # (the loop's own time, mostly: see above)
        self._per_call[func_key] = per_call
        self._per_call.move_to_end(func_key)
        while len(self._per_call) > _REMEMBERED:
            self._per_call.popitem(last=False)

    def slice_size(self, func_key: str, remaining: int, workers: int = 1) -> int:
        """Calls to hand out now out of `remaining` queued ones of one task, in a pool of
        `workers` that may run them."""
        per_call = self.per_call(func_key)
        if remaining <= 1:
            return max(0, remaining)
        if per_call is None:  # a probing slice (see above)
            return -(-remaining // max(1, workers))
        if per_call <= 0:
            return remaining
        size = int(SLICE_SECONDS / per_call)
        if workers > 1 and remaining * per_call >= SPREAD_SECONDS:
            size = min(size, -(-remaining // workers))  # a share for every worker
        return max(1, min(remaining, size))

    def prefetch(self, func_key: str) -> bool:
        """Whether a slice of `func_key` may wait in a busy worker's pipe: only when its
        calls are known to be short, so no long call waits there while a worker idles."""
        per_call = self.per_call(func_key)
        return per_call is not None and per_call <= SLICE_SECONDS

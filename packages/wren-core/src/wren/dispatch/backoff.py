"""How long to wait before the next attempt: exponential, capped, with jitter.

`backoff(attempt, first, cap)` is the delay before retry number `attempt` (1, 2, ...): `first`
doubled per attempt, at most `cap`, scaled by a random factor in [0.5, 1.0] so that threads
that failed together do not retry together.
"""

from __future__ import annotations

import random


def backoff(attempt: int, first: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...)."""
    return min(cap, first * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)

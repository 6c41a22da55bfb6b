"""The `return_when` values of `wait` (also what `spawn_reducer` takes), with Lithops' numbers.

A `return_when` is a percentage of the futures waited for: `ALL_COMPLETED` (100) waits for
all of them, any number from 0 to 100 for that share (`ALWAYS`, 0, returns at once), and
`ANY_COMPLETED` (-1) for the first one. `wait_threshold` checks a value and says how many of
`total` futures must be done; anything else is refused with `InvalidInputError`.
"""

from __future__ import annotations

import math
from typing import Any

from wren._errors import InvalidInputError

ALL_COMPLETED = 100
ANY_COMPLETED = -1
ALWAYS = 0

#: The names wren used before it took Lithops' numbers, still understood.
_NAMES = {"ALL_COMPLETED": ALL_COMPLETED, "ANY_COMPLETED": ANY_COMPLETED, "ALWAYS": ALWAYS}


def percentage(value: Any, name: str = "return_when") -> float:
    """`value` as a percentage of futures (-1 for `ANY_COMPLETED`), or `InvalidInputError`."""
    if isinstance(value, str) and value in _NAMES:
        return _NAMES[value]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (
            value == ANY_COMPLETED or 0 <= value <= 100):
        return value
    raise InvalidInputError(
        f"{name} must be ALL_COMPLETED (100), ANY_COMPLETED (-1), ALWAYS (0) or a percentage "
        f"of the futures from 0 to 100, got {value!r}")


def wait_threshold(value: Any, total: int, name: str = "return_when") -> int:
    """How many of `total` futures must be done for `value` (a checked `return_when`)."""
    share = percentage(value, name)
    if share == ANY_COMPLETED:
        return min(1, total)
    return min(total, math.ceil(share * total / 100))

"""Read the HTTP `Range` header form of a byte range (`extra_get_args={'Range': 'bytes=A-B'}`,
as Lithops and boto take it) into wren's half-open `(start, end)` ranges."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from wren._errors import InvalidInputError

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range_header(value: str, size: Callable[[], int]) -> tuple[int, int]:
    """`bytes=A-B` (inclusive) -> `(A, B + 1)`; `bytes=A-` -> to the end; `bytes=-N` -> the
    last N bytes (`size()` is asked only for the last two)."""
    match = _RANGE.match(value or "")
    if not match or match.group(1) == match.group(2) == "":
        raise InvalidInputError(f"cannot read Range {value!r}: use 'bytes=<first>-<last>' "
                                "(inclusive), 'bytes=<first>-' or 'bytes=-<count>'")
    first, last = match.groups()
    if first == "":
        total = size()
        return max(0, total - int(last)), total
    if last == "":
        return int(first), max(int(first), size())
    if int(last) < int(first):
        raise InvalidInputError(f"Range {value!r} ends before it starts")
    return int(first), int(last) + 1


def range_from_get_args(extra_get_args: Mapping[str, Any] | None,
                        size: Callable[[], int]) -> tuple[int, int] | None:
    """The byte range named by a Lithops-style `extra_get_args`, if any; other keys are
    refused so a typo does not silently read the whole object."""
    if not extra_get_args:
        return None
    unknown = set(extra_get_args) - {"Range"}
    if unknown:
        raise InvalidInputError(f"extra_get_args supports only 'Range', got "
                                f"{sorted(unknown)}; use byte_range=(start, end) for ranges")
    return parse_range_header(str(extra_get_args["Range"]), size)

"""Glob patterns over object keys, the `match_pattern=` of `Storage.list_objects`.

The rules are those Lithops documents for its key patterns: keys are `/`-separated paths;
`*` matches any run of characters inside one part and `?` one character; a part that is
exactly `**` matches any number of whole parts, none included; a backslash makes the next
character literal. The whole key must match (a trailing `/` is ignored on both sides).
"""

from __future__ import annotations

import functools
import re

from wren._errors import InvalidInputError

_ANY_PARTS = "(?:[^/]*/)*"


def _part(text: str) -> str:
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    if escaped:
        raise InvalidInputError(f"key pattern part {text!r} ends with a lone backslash")
    return "".join(out)


@functools.lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The regular expression a key matches exactly when it matches the glob `pattern`."""
    parts = pattern.rstrip("/").split("/")
    if any("**" in part and part != "**" for part in parts):
        raise InvalidInputError(f"key pattern {pattern!r}: '**' must be a whole part between "
                                "slashes, e.g. 'data/**/*.csv'")
    collapsed: list[str] = []
    for part in parts:
        if not (part == "**" and collapsed and collapsed[-1] == "**"):
            collapsed.append(part)
    regex = ""
    for number, part in enumerate(collapsed):
        last = number == len(collapsed) - 1
        if part != "**":
            regex += _part(part) + ("" if last else "/")
        elif not last:
            regex += _ANY_PARTS
        elif regex:
            regex = regex[:-1] + "(?:/.*)?"  # `a/**` is `a` and everything below it
        else:
            regex = ".*"
    return re.compile(regex, re.DOTALL)


def key_matches(pattern: str, key: str) -> bool:
    """True when `key` matches the glob `pattern` (see the module's rules)."""
    return compile_pattern(pattern).fullmatch(key.rstrip("/")) is not None

"""Text objects for the data-processing tests, and the reference split into lines that the
partitioner's output is checked against (a line keeps its newline; the last line may have
none)."""

from __future__ import annotations

import random


def split_lines(data: bytes, newline: bytes = b"\n") -> list[bytes]:
    """`data` cut after every `newline`, newlines kept; no empty last line."""
    lines = []
    start = 0
    while start < len(data):
        found = data.find(newline, start)
        if found < 0:
            lines.append(data[start:])
            break
        lines.append(data[start:found + len(newline)])
        start = found + len(newline)
    return lines


def make_text(size: int, seed: int = 0, newline: bytes = b"\n", long_line: int = 0,
              final_newline: bool = True) -> bytes:
    """About `size` bytes of numbered lines of random length (0-200 bytes), with one line of
    `long_line` bytes in the middle when asked, `newline` after each line."""
    rnd = random.Random(seed)
    parts: list[bytes] = []
    total = 0
    number = 0
    while total < size:
        if long_line and number == 7:
            body = b"L" * long_line
        else:
            body = b"%d:" % number + b"x" * rnd.randint(0, 200)
        parts.append(body + newline)
        total += len(body) + len(newline)
        number += 1
    data = b"".join(parts)
    return data if final_newline else data[:-len(newline)]

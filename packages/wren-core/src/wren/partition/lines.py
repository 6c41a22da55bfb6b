"""The `lines` partitioner: chunks aligned to line boundaries, for lines of any length.

`plan` cuts even byte ranges; `open` gives a buffered file over the whole lines that start
in the range (see `LineRangeReader`), so for any object and any chunking the chunks' lines
concatenated are exactly the object's lines: none lost, doubled or split, `\\r\\n` files and
files without a final newline included.
"""

from __future__ import annotations

import io
from typing import IO, Any, ClassVar

from wren._errors import InvalidInputError
from wren.partition.line_reader import BLOCK, LineRangeReader, has_border
from wren.partition.planning import EvenSplitPartitioner
from wren.ports.partitioner import Partition, RangeOpener


def newline_bytes(newline: str | bytes) -> bytes:
    """The newline as bytes, checked: non-empty and without a border."""
    raw = newline.encode() if isinstance(newline, str) else newline
    if not isinstance(raw, bytes) or not raw:
        raise InvalidInputError(f"obj_newline must be a non-empty str or bytes (or None for "
                                f"exact byte ranges), got {newline!r}")
    if has_border(raw):
        raise InvalidInputError(
            f"obj_newline {newline!r} cannot be used: it begins with its own ending, so its "
            "occurrences could overlap and chunk edges would be ambiguous. Use a separator "
            "such as '\\n' or '\\r\\n'")
    return raw


class LinePartitioner(EvenSplitPartitioner):
    """Chunks of whole lines; `newline` (default `\\n`) ends a line."""

    name: ClassVar[str] = "lines"

    def __init__(self, newline: str | bytes = b"\n", block: int = BLOCK) -> None:
        self.newline = newline_bytes(newline)
        self.block = block

    @property
    def options(self) -> dict[str, Any]:
        return {"newline": self.newline}

    def open(self, partition: Partition, open_range: RangeOpener) -> IO[bytes]:
        raw = LineRangeReader(partition, open_range, self.newline, self.block)
        return io.BufferedReader(raw, buffer_size=self.block)

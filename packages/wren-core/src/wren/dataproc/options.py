"""The chunking options of a data-processing `map`/`map_reduce`, checked before anything runs.

`chunk_size` (alias `obj_chunk_size`) is any positive number of bytes per chunk (below
1 MiB a warning, once: small chunks cost more in calls than they gain); `chunk_n` (alias
`obj_chunk_number`) is chunks per object and wins when both are given; neither means one
call per object. `obj_newline` (default `'\\n'`) aligns chunks to whole lines through the
`lines` partitioner; `None` gives exact byte ranges through the `bytes` partitioner.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from wren import plugins
from wren._errors import InvalidInputError
from wren.partition.lines import newline_bytes
from wren.ports.partitioner import Partitioner

#: Below this `chunk_size` a warning says the calls may cost more than they gain.
MIN_CHUNK_SIZE = 1 << 20

logger = logging.getLogger("wren")
_warned_small = False


def _pick(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    if value is not None and alias_value is not None and value != alias_value:
        raise InvalidInputError(f"{name}={value!r} and its alias {alias}={alias_value!r} "
                                "disagree; give only one of them")
    return value if value is not None else alias_value


def _whole(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    return value


@attrs.frozen
class ChunkingOptions:
    """Validated chunking of the objects a data-processing map reads."""

    chunk_size: int | None = None
    chunk_n: int | None = None
    newline: bytes | None = b"\n"

    @classmethod
    def from_arguments(cls, chunk_size: int | None = None, chunk_n: int | None = None,
                       obj_chunk_size: int | None = None,
                       obj_chunk_number: int | None = None,
                       obj_newline: str | bytes | None = "\n") -> ChunkingOptions:
        size = _whole("chunk_size", _pick("chunk_size", chunk_size, "obj_chunk_size",
                                          obj_chunk_size))
        number = _whole("chunk_n", _pick("chunk_n", chunk_n, "obj_chunk_number",
                                         obj_chunk_number))
        if number is not None and number < 1:
            raise InvalidInputError(f"chunk_n is the number of chunks per object and must be "
                                    f"at least 1, got {number}")
        if size is not None and size < 1:
            raise InvalidInputError(f"chunk_size is a number of bytes and must be at least 1, "
                                    f"got {size}")
        if size is not None and size < MIN_CHUNK_SIZE and number is None:
            _warn_small(size)
        newline = None if obj_newline is None else newline_bytes(obj_newline)
        return cls(None if number is not None else size, number, newline)

    @property
    def chunked(self) -> bool:
        """True when the user asked for more than one call per object."""
        return self.chunk_size is not None or self.chunk_n is not None

    def partitioner(self) -> Partitioner:
        """The partitioner these options call for, found through its entry point."""
        if self.newline is None:
            return plugins.partitioner_class("bytes")()
        return plugins.partitioner_class("lines")(newline=self.newline)


def _warn_small(size: int) -> None:
    global _warned_small
    if not _warned_small:
        _warned_small = True
        logger.warning("chunk_size=%d is below 1 MiB: each chunk is one call, and small chunks "
                       "usually cost more in calls than they gain (warned once)", size)

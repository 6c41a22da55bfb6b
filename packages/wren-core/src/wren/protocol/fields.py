"""Encoders and checks for the field types the protocol's documents share.

Call indices travel as `{"range": [start, stop]}` when contiguous (a 10,000-call task costs
a few bytes) and as a list otherwise; a column of call times travels as a list of numbers up
to `PACK_TIMES_FROM` calls and as `{"f64le": base64}` (little-endian doubles) beyond, which
costs a 10,000-call document about a twentieth of writing and parsing its floats as JSON (a
worker keeps its columns as `array("d")`, whose memory is that packed form already). Calls
that ran back to back send their start column as `{"after": first}`: each started when the
one before it ended (`ChainedStarts`). A worker keeps its end column as runs (`EndRuns`:
short calls are timed a group at a time, and a group's calls end together), and a long one
travels as them, `{"f64le": run ends, "runs": u32le counts}` (`RunTimes`), when some run
holds more than one call: a fifth of the packed column for a map of no-op calls. The
checks raise `TypeError`/`ValueError`, which each document's decoder turns into one
`MalformedDocumentError` naming the document.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

#: A column of more call times than this travels packed.
PACK_TIMES_FROM = 64
_BIG_ENDIAN = sys.byteorder == "big"


def _from_base64(encoded: str) -> bytes:
    """Strict base64 decoding (`binascii`'s own is twice as fast as `base64`'s, from 3.11)."""
    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(encoded, strict_mode=True)
    return base64.b64decode(encoded, validate=True)


def encode_indices(indices: Sequence[int]) -> Any:
    if isinstance(indices, range) and indices.step == 1:
        return {"range": [indices.start, indices.stop]}
    return list(indices)


def decode_indices(raw: Any) -> Sequence[int]:
    if isinstance(raw, range):
        return raw
    if isinstance(raw, Mapping):
        start, stop = raw["range"]
        return range(integer(start), integer(stop))
    if not isinstance(raw, list):
        raise TypeError(f"expected call indices, got {type(raw).__name__}")
    return [integer(i) for i in raw]


def encode_times(values: Sequence[float]) -> bytes:
    """A column of call times as it travels in a document: its JSON text, written here
    because a packed column is base64 text, which JSON never escapes (letting `json` scan
    10,000 calls' worth of it cost a worker a fifth of a millisecond)."""
    if isinstance(values, PackedTimes):  # as it came: never decoded to be encoded again
        return b'{"f64le":"%s"}' % values.encoded.encode("ascii")
    if isinstance(values, ChainedStarts):
        return b'{"after":%s}' % json.dumps(values.first).encode()
    if isinstance(values, RunTimes):
        return b'{"f64le":"%s","runs":"%s"}' % (values.ends.encoded.encode("ascii"),
                                                values.counts_encoded.encode("ascii"))
    if isinstance(values, EndRuns):
        if len(values.ends) == len(values):  # one call per run: the plain column
            values = values.ends
        elif len(values) > PACK_TIMES_FROM:
            return b'{"f64le":"%s","runs":"%s"}' % (_packed(values.ends),
                                                    _packed(values.counts))
    if len(values) <= PACK_TIMES_FROM:
        return json.dumps(list(values), separators=(",", ":")).encode()
    if not (isinstance(values, array) and values.typecode == "d"):
        values = array("d", values)
    return b'{"f64le":"%s"}' % _packed(values)


def _packed(values: array[Any]) -> bytes:
    """A column's little-endian bytes as base64 (a worker's array already is that form)."""
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return binascii.b2a_base64(values, newline=False)


def decode_times(raw: Any, ends: Sequence[float] | None = None) -> Sequence[float]:
    """A column of call times from a document (any form; a packed one stays packed until it
    is read, see `PackedTimes`); `ends`, the document's end column, for a start column that
    travels as `{"after": first}` (`ChainedStarts`)."""
    if isinstance(raw, Mapping):
        if "runs" in raw:
            return RunTimes(text(raw["f64le"]), text(raw["runs"]))
        if "after" in raw and ends is not None:
            first = raw["after"]
            if type(first) not in _NUMBER_TYPES:
                raise TypeError("expected the first call's start time")
            return ChainedStarts(first, ends)
        return PackedTimes(text(raw["f64le"]))
    return numbers(raw)


class _Column(Sequence[float]):
    """What the column types below share: equal to any sequence of the same times, and
    unhashable, like the list each stands for."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class ChainedStarts(_Column):
    """The start column of calls that ran one after another, each starting when the one
    before it ended (a worker's loop reads the clock once per call): the first call's start
    and the end column, which it reads from. It travels as `{"after": first}`, half of what
    a packed column of its own would (and a worker never builds it)."""

    __slots__ = ("ends", "first")

    def __init__(self, first: float, ends: Sequence[float]) -> None:
        self.first, self.ends = first, ends

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("call time index out of range")
        return self.first if position == 0 else self.ends[position - 1]

    def __iter__(self) -> Iterator[float]:
        if len(self.ends):
            yield self.first
            yield from self.ends[:-1]

    def __repr__(self) -> str:
        return f"<ChainedStarts of {len(self)} calls>"


class EndRuns(_Column):
    """A worker's end column as runs: `ends[r]` is when `counts[r]` consecutive calls
    ended (one for a call timed alone; a group's size for short calls timed together, see
    `wren.worker.runner`). The loop appends to the two arrays itself; `append` adds a call
    timed alone. Reading it call by call (small parts, tests) expands it."""

    __slots__ = ("counts", "ends")

    def __init__(self) -> None:
        self.ends = array("d")
        self.counts = array("I")

    def append(self, value: float) -> None:
        self.ends.append(value)
        self.counts.append(1)

    def __len__(self) -> int:
        return sum(self.counts)

    def __bool__(self) -> bool:
        return bool(self.ends)

    def last(self, default: float) -> float:
        """The latest end (`default` when no call ended yet)."""
        return self.ends[-1] if self.ends else default

    def fit(self, calls: int, pending: float) -> None:
        """Make the column hold `calls` calls: the latest ones dropped, or calls added that
        ended at `pending`."""
        extra = len(self) - calls
        while extra > 0:
            if self.counts[-1] > extra:
                self.counts[-1] -= extra
                break
            extra -= self.counts.pop()
            self.ends.pop()
        if extra < 0:
            self.ends.append(pending)
            self.counts.append(-extra)

    def __getitem__(self, index: Any) -> Any:
        return _expanded(self.ends, self.counts)[index]

    def __iter__(self) -> Iterator[float]:
        return iter(_expanded(self.ends, self.counts))

    def __repr__(self) -> str:
        return f"<EndRuns of {len(self)} calls in {len(self.ends)} runs>"


def _expanded(ends: Sequence[float], counts: Sequence[int]) -> list[float]:
    out: list[float] = []
    for end, count in zip(ends, counts):
        out.extend([end] * count)
    return out


class RunTimes(_Column):
    """An end column that travelled as runs (`EndRuns`), expanded when first read call by
    call; the first and last times (what chunk sizing reads) come from the run ends alone.
    The counts are decoded and checked at once: each at least one, one per run end."""

    __slots__ = ("_count", "_values", "counts", "counts_encoded", "ends")

    def __init__(self, ends_encoded: str, counts_encoded: str) -> None:
        self.ends = PackedTimes(ends_encoded)
        raw = _from_base64(counts_encoded) if counts_encoded.isascii() else b"?"
        if len(raw) % 4:
            raise ValueError("the runs of call times are not whole 4-byte counts")
        counts = array("I", raw)
        if _BIG_ENDIAN:
            counts.byteswap()
        if len(counts) != len(self.ends) or (counts and min(counts) < 1):
            raise ValueError("the runs of call times do not match their ends")
        self.counts, self.counts_encoded = counts, counts_encoded
        self._count = sum(counts)
        self._values: list[float] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if self._values is None and index in (0, -1) and self._count:
            return self.ends[index]
        if self._values is None:
            self._values = _expanded(self.ends, self.counts)
        return self._values[index]

    def __iter__(self) -> Iterator[float]:
        return iter(self[:])

    def __repr__(self) -> str:
        return f"<RunTimes of {self._count} calls in {len(self.counts)} runs>"


class PackedTimes(_Column):
    """A packed column of call times as a document brought it, decoded when first read.

    Most documents are applied without anyone reading their times (a map's results need
    none of them), and decoding 5,000 costs the client a third of a millisecond; stats,
    plots and chunk sizing read them later, if ever. The length comes from the text's
    length, and one time alone (the first and last of a part: what chunk sizing reads)
    from the few characters that hold it; reading a third makes the whole column a list.
    The text is checked to hold whole doubles here and its characters when it is decoded
    (`ValueError`): a document gets that far only once its seal was checked, so only a
    broken writer could have put bad characters in it."""

    __slots__ = ("_count", "_peeks", "_values", "encoded")

    def __init__(self, encoded: str) -> None:
        if len(encoded) % 4 or not encoded.isascii():
            raise ValueError("packed call times are not base64 text")
        size = len(encoded) // 4 * 3 - encoded.endswith("=") - encoded.endswith("==")
        if size % 8:
            raise ValueError("packed call times are not whole 8-byte numbers")
        self.encoded = encoded
        self._count = size // 8
        self._peeks = 0
        self._values: list[float] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if self._values is None and isinstance(index, int) and self._peeks < 2:
            self._peeks += 1
            return self._one(index)
        return self._list()[index]

    def _list(self) -> list[float]:
        if self._values is None:
            self._values = _unpack(_from_base64(self.encoded))
        return self._values

    def _one(self, index: int) -> float:
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError("call time index out of range")
        first = position * 8
        group = first // 3  # base64 turns each 3 bytes into 4 characters
        chunk = _from_base64(self.encoded[group * 4:-(-(first + 8) // 3) * 4])
        return _unpack(chunk[first - group * 3:first - group * 3 + 8])[0]

    def __iter__(self) -> Iterator[float]:
        return iter(self._list())

    def __reversed__(self) -> Iterator[float]:
        return reversed(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedTimes):
            return self.encoded == other.encoded
        return super().__eq__(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"<PackedTimes of {self._count} calls>"


def _unpack(packed: bytes) -> list[float]:
    values = array("d", packed)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def integer(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


_NUMBER_TYPES = frozenset({int, float})


def numbers(values: Any) -> list[float]:
    """`values` when it is a list of ints and floats (exactly: not bools, not subclasses);
    checked by type set, as documents carry thousands of them."""
    if not isinstance(values, list) or not _NUMBER_TYPES.issuperset(map(type, values)):
        raise TypeError("expected a list of numbers")
    return values


def mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value

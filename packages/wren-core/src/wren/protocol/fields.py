"""Encoders and checks for the field types the protocol's documents share.

Call indices travel as `{"range": [start, stop]}` when contiguous (a 10,000-call task costs
a few bytes) and as a list otherwise; a column of call times travels as a list of numbers up
to `PACK_TIMES_FROM` calls and as `{"f64le": base64}` (little-endian doubles) beyond, which
costs a 10,000-call document about a twentieth of writing and parsing its floats as JSON. The
checks raise `TypeError`/`ValueError`, which each document's decoder turns into one
`MalformedDocumentError` naming the document.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from collections.abc import Mapping, Sequence
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


def encode_times(values: Sequence[float]) -> Any:
    """A column of call times as it travels in a document."""
    if len(values) <= PACK_TIMES_FROM:
        return list(values)
    packed = array("d", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return {"f64le": binascii.b2a_base64(packed, newline=False).decode("ascii")}


def decode_times(raw: Any) -> list[float]:
    """A column of call times from a document (either form)."""
    if isinstance(raw, Mapping):
        packed = _from_base64(text(raw["f64le"]))
        if len(packed) % 8:
            raise ValueError("packed call times are not whole 8-byte numbers")
        values = array("d", packed)
        if _BIG_ENDIAN:
            values.byteswap()
        return values.tolist()
    return numbers(raw)


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

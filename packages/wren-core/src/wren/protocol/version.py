"""The protocol version every encoded object carries, and the error a mismatch raises.

A task, a status document or a runtime's metadata made by one wren and read by another of a
different protocol version is refused with `ProtocolVersionError`, whose message names both
wren versions and says which side to upgrade, instead of failing later on a missing field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wren.__about__ import __version__
from wren._errors import MalformedDocumentError, ProtocolVersionError

#: Bumped whenever an encoded object changes shape in a way an older reader cannot follow.
PROTOCOL_VERSION = 3


def stamp(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with this side's protocol and wren versions added."""
    data["protocol"] = PROTOCOL_VERSION
    data["wren_version"] = __version__
    return data


def check(data: Mapping[str, Any], what: str) -> None:
    """Raise `ProtocolVersionError` unless `data` was encoded with this protocol version."""
    theirs = data.get("protocol")
    if theirs == PROTOCOL_VERSION:
        return
    if type(theirs) is not int:
        raise MalformedDocumentError(f"this {what} carries no protocol version: it was not "
                                     "written by wren")
    other = data.get("wren_version", "an unknown version")
    raise ProtocolVersionError(
        f"this {what} was made by wren {other} (protocol {theirs}), but this side runs wren "
        f"{__version__} (protocol {PROTOCOL_VERSION}). Use the same wren version on the "
        "client and in the runtime: upgrade the older side, or rebuild the runtime with "
        "`wren runtime build` / `wren runtime update`")

"""How a section reads the keys of Lithops 3.8's config that it does not declare by that name.

Each schema lists its Lithops keys as data (`LithopsKey`): a key is *renamed* (its value is
read as a wren key, possibly converted: Azure's `location` is `region`), *retired* (accepted
with one notice naming what to do instead, because it has no effect in wren), or *refused*
(a `ConfigError` naming the replacement). Values that mean what wren does anyway (`trigger:
pub/sub`, `data_limit: false`) are accepted silently. `translate` applies a section's table
to its raw values before they are validated, so the same table serves wren's own files and
Lithops' files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from wren._errors import ConfigError

logger = logging.getLogger("wren")

_noticed: set[tuple[str, str]] = set()


@attrs.frozen
class LithopsKey:
    """One Lithops key a section reads differently from its own keys.

    `rename`: the wren key its value is read as (`convert` turns the value into that key's
    value; the section's own value for `rename` wins). Without `rename`, the key is retired:
    `note` says why it has no effect and what to do instead, logged once per process, or, with
    `refuse`, raised as a `ConfigError`. `harmless` values are dropped without a word.
    """

    name: str
    note: str = ""
    rename: str | None = None
    convert: Callable[[Any], Any] | None = None
    refuse: bool = False
    harmless: tuple[Any, ...] = ()
    #: Whether a renamed key is also named in a notice (to have the user write wren's form).
    notify: bool = False
    #: A password or key: its value never appears in a notice or an error.
    secret: bool = False

    def message(self, section: str, value: Any) -> str:
        verb = ("is not supported by wren" if self.refuse else "has no effect in wren"
                if self.rename is None else "is read by wren")
        shown = "a secret value" if self.secret else repr(value)
        return f"Lithops key {self.name!r} in section {section!r} ({shown}) {verb}: {self.note}"


def renamed(name: str, to: str, convert: Callable[[Any], Any] | None = None,
            note: str = "") -> LithopsKey:
    """A key honoured under wren's name `to` (the value converted by `convert`)."""
    return LithopsKey(name, note=note or f"read as {to!r}", rename=to, convert=convert)


def retired(name: str, note: str, harmless: tuple[Any, ...] = ()) -> LithopsKey:
    """A key accepted with one notice (`note`: why, and what to use instead)."""
    return LithopsKey(name, note=note, harmless=harmless)


def refused(name: str, note: str, harmless: tuple[Any, ...] = ()) -> LithopsKey:
    """A key that is an error (`note` names the replacement), except for `harmless` values."""
    return LithopsKey(name, note=note, refuse=True, harmless=harmless)


def merge_tables(*tables: Iterable[LithopsKey]) -> tuple[LithopsKey, ...]:
    """Tables joined; a later entry for the same Lithops key replaces an earlier one."""
    out: dict[str, LithopsKey] = {}
    for table in tables:
        for key in table:
            out[key.name] = key
    return tuple(out.values())


def notice_once(topic: tuple[str, str], message: str) -> None:
    """Log `message` as a warning the first time this process meets `topic`."""
    if topic not in _noticed:
        _noticed.add(topic)
        logger.warning("%s", message)


def forget_notices() -> None:
    """Let every notice be logged again (for tests)."""
    _noticed.clear()


def translate(section: str, table: Iterable[LithopsKey], values: Mapping[str, Any],
              declared: Callable[[str], bool]) -> dict[str, Any]:
    """`values` with the table's Lithops keys renamed, converted, dropped or refused.

    A key the section `declared` itself is left alone unless the table converts it in place
    (`rename` equal to its own name, e.g. localhost's `runtime: python3`).
    """
    out = dict(values)
    for key in table:
        if key.name not in out or (declared(key.name) and key.rename != key.name):
            continue
        value = out.pop(key.name)
        if any(value == h and type(value) is type(h) for h in key.harmless):
            continue
        if key.refuse:
            raise ConfigError(key.message(section, value))
        if key.rename is None or key.notify:
            notice_once((section, key.name), key.message(section, value))
        if key.rename is None:
            continue
        converted = key.convert(value) if key.convert is not None else value
        if key.rename == key.name or key.rename not in out:
            out[key.rename] = converted
        logger.debug("section %r: Lithops key %r read as %r", section, key.name, key.rename)
    return out


__all__ = ["LithopsKey", "forget_notices", "merge_tables", "notice_once", "refused", "renamed",
           "retired", "translate"]

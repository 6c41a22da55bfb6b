"""Typed, documented configuration keys and the validation that turns raw YAML into settings.

A `ConfigSchema` is the list of keys one section accepts. Each adapter declares the schema of
its own section (the Lithops habit of a per-backend `config.py` with defaults), extending its
port's schema (`extend`) so that keys every backend shares are declared once; wren-core
declares the `wren:` section. A schema also lists how it reads Lithops' keys of other names
(`lithops`, see `wren.config.lithops_keys`). Validation translates those, applies defaults,
checks types, and rejects unknown keys with a message that names the key, its section and a
valid key of the same meaning when one is spelled almost alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from wren._errors import ConfigError
from wren.config.lithops_keys import LithopsKey, merge_tables, translate

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "a mapping"}


@attrs.frozen
class ConfigKey:
    """One key of a config section: its type, default, meaning, and whether it is a secret.

    `secret` keys (passwords, API keys, account keys) never leave the client in a job payload;
    compute adapters hand them to workers through the platform's own secret mechanism.
    `minimum`/`maximum` are inclusive bounds; `limit_source` names the document that sets them
    (a platform's published limits), and is quoted in the error so the user can check it.
    """

    name: str
    type: type
    default: Any = None
    doc: str = ""
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    limit_source: str = ""

    def check(self, section: str, value: Any) -> Any:
        """Return `value` converted to this key's type, or raise `ConfigError` naming it."""
        if value is None:
            if self.default is None or self.nullable:
                return None
            raise ConfigError(f"key {self.name!r} in section {section!r} cannot be empty; "
                              f"expected {_TYPE_NAMES.get(self.type, self.type.__name__)}")
        value = self._coerce(section, value)
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ConfigError(f"key {self.name!r} in section {section!r} is {value!r}; "
                              f"allowed values: {allowed}")
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"key {self.name!r} in section {section!r} is {value!r}; "
                              f"it must be {self.bounds_text()}{self._source_text()}")
        return value

    def bounds_text(self) -> str:
        """The key's bounds in words ("at least 1", "between 128 and 2048"), or ""."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"between {low:g} and {high:g}"
        if low is not None:
            return f"at least {low:g}"
        if high is not None:
            return f"at most {high:g}"
        return ""

    def _source_text(self) -> str:
        return f" ({self.limit_source})" if self.limit_source else ""

    def _coerce(self, section: str, value: Any) -> Any:
        expected = self.type
        ok: bool
        if expected is bool:
            ok = isinstance(value, bool)
        elif expected is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif expected is list:
            ok = isinstance(value, (list, tuple))
            value = list(value) if ok else value
        else:
            ok = isinstance(value, expected)
        if not ok:
            want = _TYPE_NAMES.get(expected, expected.__name__)
            raise ConfigError(f"key {self.name!r} in section {section!r} must be {want}, "
                              f"got {value!r} ({type(value).__name__})")
        return value


@attrs.frozen
class ConfigSchema:
    """The keys one config section accepts."""

    section: str
    keys: tuple[ConfigKey, ...]
    #: Shared sections whose values fill this section's keys when it does not set them
    #: (Lithops' `ibm:` section gives `iam_api_key` to both `ibm_cf` and `ibm_cos`).
    inherit: tuple[str, ...] = ()
    #: Lithops keys this section reads under other names, retires or refuses.
    lithops: tuple[LithopsKey, ...] = ()

    def key_names(self) -> list[str]:
        return sorted(k.name for k in self.keys)

    def get(self, name: str) -> ConfigKey | None:
        for key in self.keys:
            if key.name == name:
                return key
        return None

    def extend(self, section: str, keys: Iterable[ConfigKey] = (), *,
               inherit: tuple[str, ...] = (), lithops: Iterable[LithopsKey] = (),
               **refine: Mapping[str, Any]) -> ConfigSchema:
        """The schema of an adapter's `section`: this (port's) schema's keys, then `keys`;
        this schema's Lithops table, then `lithops`.

        `refine` changes what the inherited keys say for this adapter: e.g.
        `runtime_memory={"default": 256, "minimum": 128, "doc": "MB per action"}`. A
        refinement may not change a key's name or type, and `keys` may not declare an
        inherited key again: both raise `ValueError` when the adapter is imported.
        """
        inherited = {key.name for key in self.keys}
        for name, changes in refine.items():
            if name not in inherited:
                raise ValueError(f"cannot refine key {name!r}: the {self.section!r} schema "
                                 f"declares no such key (it has {', '.join(self.key_names())})")
            fixed = {"name", "type"} & set(changes)
            if fixed:
                raise ValueError(f"cannot change the {' or '.join(sorted(fixed))} of key "
                                 f"{name!r} declared by the {self.section!r} schema")
        keys = tuple(keys)
        for key in keys:
            if key.name in inherited:
                raise ValueError(f"key {key.name!r} is declared by the {self.section!r} "
                                 f"schema; refine it instead: {key.name}={{'default': ...}}")
        base = tuple(attrs.evolve(key, **refine.get(key.name, {})) for key in self.keys)
        return ConfigSchema(section, base + keys, inherit, merge_tables(self.lithops, lithops))

    def merged_with(self, other: ConfigSchema) -> ConfigSchema:
        """Union of two schemas for one section (e.g. `localhost` compute and storage)."""
        known = {k.name for k in self.keys}
        inherit = self.inherit + tuple(s for s in other.inherit if s not in self.inherit)
        return ConfigSchema(self.section, self.keys + tuple(k for k in other.keys
                                                            if k.name not in known), inherit,
                            merge_tables(self.lithops, other.lithops))

    def with_inherited(self, sections: Mapping[str, Any]) -> dict[str, Any]:
        """This section's raw values, completed from the shared sections it inherits from
        (only keys this schema declares; the section's own values win)."""
        values = self.translate(sections.get(self.section) or {})
        for shared in self.inherit:
            body = sections.get(shared)
            if isinstance(body, Mapping):
                for name, value in body.items():
                    if self.get(name) is not None:
                        values.setdefault(name, value)
        return values

    def validate(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the section with defaults filled in; raise `ConfigError` on any bad key."""
        if values is not None and not isinstance(values, Mapping):
            raise ConfigError(f"section {self.section!r} must be a mapping of keys to values, "
                              f"got {values!r}")
        values = self.translate(values or {})
        for name in values:
            if self.get(name) is None:
                raise ConfigError(unknown_key_message(self.section, name, self.key_names()))
        return {key.name: key.check(self.section, values.get(key.name, key.default))
                for key in self.keys}

    def translate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values` with this section's Lithops keys renamed, converted or dropped (raises
        `ConfigError` for a refused one); unknown keys are left for `validate` to reject."""
        return translate(self.section, self.lithops, values, lambda n: self.get(n) is not None)

    def with_defaults(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """`values` with this schema's defaults filled in for missing keys (no checking:
        for adapters built directly rather than through the config loader)."""
        return {**{key.name: key.default for key in self.keys}, **(values or {})}

    def public(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values without secret keys: what may travel in a job payload."""
        secret = {k.name for k in self.keys if k.secret}
        return {name: value for name, value in values.items() if name not in secret}


def _words(name: str) -> set[str]:
    return set(name.lower().split("_"))


def close_key(name: str, valid: Iterable[str]) -> str | None:
    """The valid key `name` is a misspelling of, if any: spelled almost alike, and not a key
    that merely shares or drops a word (`namespace` is no spelling of `docker_namespace`)."""
    import difflib  # only to explain a mistake

    for candidate in difflib.get_close_matches(name, list(valid), n=3, cutoff=0.8):
        mine, theirs = _words(name), _words(candidate)
        if not (mine <= theirs or theirs <= mine):
            return candidate
    return None


def unknown_key_message(section: str, name: str, valid: Iterable[str]) -> str:
    """A message for an unknown key that lists valid keys and suggests a misspelled one."""
    valid = sorted(valid)
    close = close_key(name, valid)
    hint = f" Did you mean {close!r}?" if close else ""
    listing = ", ".join(valid) if valid else "(none)"
    return f"unknown key {name!r} in section {section!r}.{hint} Valid keys: {listing}"

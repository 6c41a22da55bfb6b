"""The configuration reference, generated from the config schemas as Markdown.

Every section this installation reads has a schema: the `wren:` section's own, the one each
installed compute and storage backend declares (`config_schema`; a compute and a storage
backend of the same name share one section, as `localhost` does), and the shared sections
registered in the `wren.config_sections` entry-point group (Lithops' `ibm:`, `rabbitmq:`,
...). `section_schemas` gathers them; `section_reference` renders one section as a table of
its keys (type, default, bounds or allowed values, secret or not, meaning) followed by how it
reads Lithops' keys of other names, and `reference` renders them all. The documentation site
(docs/_hooks/config_reference.py) puts these tables where a page asks for them, so the
reference never drifts from what the loader accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wren import plugins
from wren._errors import ConfigError
from wren.config.lithops_keys import LithopsKey
from wren.config.schema import ConfigKey, ConfigSchema
from wren.config.wren_section import WREN_SECTION

_TYPE_WORDS = {str: "string", int: "integer", float: "number", bool: "boolean",
               list: "list", dict: "mapping"}


def section_schemas() -> dict[str, ConfigSchema]:
    """Every section's schema by section name: `wren` first, then the others sorted."""
    schemas: dict[str, ConfigSchema] = {}
    for group in (plugins.COMPUTE_GROUP, plugins.STORAGE_GROUP):
        for name in plugins.registered(group):
            schema = plugins.load(group, name).config_schema
            prior = schemas.get(schema.section)
            if prior is None:
                schemas[schema.section] = schema
            elif prior is not schema:
                schemas[schema.section] = prior.merged_with(schema)
    for name in plugins.registered(plugins.CONFIG_SECTION_GROUP):
        schema = plugins.load(plugins.CONFIG_SECTION_GROUP, name)
        if isinstance(schema, ConfigSchema):
            schemas.setdefault(schema.section, schema)
    return {"wren": WREN_SECTION, **dict(sorted(schemas.items()))}


def section_aliases() -> dict[str, str]:
    """Registered section names read as another section (Lithops' `redis:` is read as
    `multiprocessing:`), each with the section it is read as."""
    aliases = {}
    for name in plugins.registered(plugins.CONFIG_SECTION_GROUP):
        schema = plugins.load(plugins.CONFIG_SECTION_GROUP, name)
        if isinstance(schema, ConfigSchema) and schema.section != name:
            aliases[name] = schema.section
    return aliases


def section_reference(section: str) -> str:
    """The Markdown reference of one section; `ConfigError` names the known sections when
    this installation reads no section of that name."""
    schemas = section_schemas()
    aliases = section_aliases()
    name = aliases.get(section, section)
    schema = schemas.get(name)
    if schema is None:
        known = ", ".join([*schemas, *aliases])
        raise ConfigError(f"no config section {section!r} is installed; known sections: "
                          f"{known}")
    lines = list(_key_table(schema))
    if name != section:
        lines += ["", f"Lithops' `{section}:` section is read as `{name}:`."]
    if schema.inherit:
        shared = ", ".join(f"`{s}:`" for s in schema.inherit)
        lines += ["", f"A key this section does not set is taken from the shared {shared} "
                      "section when that one sets it."]
    if schema.lithops:
        lines += ["", f"Lithops keys of the `{name}:` section that wren reads its own way:", ""]
        lines += _lithops_table(schema.lithops)
    return "\n".join(lines) + "\n"


def reference(heading_level: int = 2) -> str:
    """The reference of every section, each under a heading `` `name:` ``."""
    marks = "#" * heading_level
    parts = [f"{marks} `{name}:`\n\n{section_reference(name)}" for name in section_schemas()]
    return "\n".join(parts)


def _key_table(schema: ConfigSchema) -> Iterator[str]:
    yield "| key | type | default | allowed values | secret | meaning |"
    yield "|---|---|---|---|---|---|"
    for key in schema.keys:
        cells = (f"`{key.name}`", type_text(key), _code(key.default), allowed_text(key),
                 "yes" if key.secret else "no", key.doc)
        yield "| " + " | ".join(_cell(c) for c in cells) + " |"


def _lithops_table(keys: tuple[LithopsKey, ...]) -> Iterator[str]:
    yield "| Lithops key | read as | note |"
    yield "|---|---|---|"
    for key in sorted(keys, key=lambda k: k.name):
        what = (f"`{key.rename}`" if key.rename is not None else
                "refused (an error)" if key.refuse else "ignored, with one notice")
        yield f"| `{key.name}` | {_cell(what)} | {_cell(key.note)} |"


def type_text(key: ConfigKey) -> str:
    """The key's type in words, with "or null" where an empty value is accepted."""
    word = _TYPE_WORDS.get(key.type, key.type.__name__)
    return f"{word} or null" if key.default is None or key.nullable else word


def allowed_text(key: ConfigKey) -> str:
    """The key's choices or inclusive bounds (and the document that sets them), or ""."""
    if key.choices is not None:
        return "one of " + ", ".join(_code(c) for c in key.choices)
    bounds = key.bounds_text()
    if bounds and key.limit_source:
        return f"{bounds} ({key.limit_source})"
    return bounds


def _code(value: Any) -> str:
    """A value as it is written in YAML, in code style."""
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    if isinstance(value, (list, tuple)):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, dict):
        return "`{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    """Text that stays inside one table cell (no pipes, no line breaks) and reads as it is
    written: outside code spans, brackets are escaped (`[:port][/db]` is no link) and so is
    `<` (`https://<region>.example` is no HTML tag)."""
    parts = text.replace("|", "\\|").replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):  # outside `code`
        parts[i] = parts[i].replace("[", "\\[").replace("]", "\\]").replace("<", "&lt;")
    return "`".join(parts)


__all__ = ["allowed_text", "reference", "section_aliases", "section_reference",
           "section_schemas", "type_text"]

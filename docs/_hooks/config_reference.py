"""MkDocs hook: the configuration reference tables, generated from the config schemas.

A page asks for the table of one config section with a line of its own,
`<!-- wren:config-reference SECTION -->` (`all` for every section, each under a heading);
this hook replaces that line with `wren.config.reference`'s Markdown for it, so no config
table is ever written by hand. A section this installation does not read fails the build,
naming the page and the known sections. The hook lives beside the pages but is no page
(mkdocs.yml excludes `_hooks/`); tests/docs tests `expand` without MkDocs.
"""

from __future__ import annotations

import re
from typing import Any

from wren._errors import ConfigError
from wren.config import reference

MARKER = re.compile(r"^<!--\s*wren:config-reference\s+(\S+)\s*-->[ \t]*$", re.MULTILINE)


def expand(markdown: str, where: str) -> str:
    """`markdown` with each marker line replaced by its section's reference; `ConfigError`
    naming `where` (the page) for a section this installation does not read."""

    def table(match: re.Match[str]) -> str:
        section = match.group(1)
        if section == "all":
            return reference.reference(heading_level=2)
        try:
            return reference.section_reference(section)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    return MARKER.sub(table, markdown)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    from mkdocs.exceptions import PluginError

    try:
        return expand(markdown, page.file.src_path)
    except ConfigError as exc:
        raise PluginError(str(exc)) from exc

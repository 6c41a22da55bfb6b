"""The code samples of the documentation: every fenced block of docs/**/*.md and README.md.

A block is the text between a line of three backquotes naming its language and the closing
line (indented blocks, inside list items, are dedented). The line before it may carry a
marker that says how the block is checked instead of being run:

- `<!-- sample: skip (reason) -->`: not run here; the reason is required and says what it
  needs (a cloud account, a container engine);
- `<!-- sample: excerpt PATH -->`: an excerpt of the file PATH (relative to the repository),
  whose text must appear there verbatim; that file is what CI runs.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs

REPO = Path(__file__).resolve().parents[2]
OPEN = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n`]*$")
MARKER = re.compile(r"^\s*<!--\s*sample:\s*(?P<kind>\S+)\s*(?P<arg>.*?)\s*-->\s*$")


@attrs.frozen
class Sample:
    """One fenced block: where it is, its language, its text and its marker, if any."""

    path: Path
    line: int
    lang: str
    code: str
    kind: str = ""  # "", "skip" or "excerpt"
    arg: str = ""

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def documentation_files() -> list[Path]:
    """README.md and every page of the site (not the hooks)."""
    pages = sorted(p for p in (REPO / "docs").rglob("*.md") if "_hooks" not in p.parts)
    return [REPO / "README.md", *pages]


def samples_in(path: Path) -> Iterator[Sample]:
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opened = OPEN.match(lines[i])
        if opened is None:
            i += 1
            continue
        indent, start = opened.group("indent"), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: a code block is never closed")
        i += 1
        if not opened.group("lang"):
            continue
        code = textwrap.dedent("\n".join(body)) + "\n" if indent else "\n".join(body) + "\n"
        kind = arg = ""
        before = _previous_text_line(lines, start)
        marked = MARKER.match(before) if before is not None else None
        if marked is not None:
            kind, arg = marked.group("kind"), marked.group("arg")
        yield Sample(path, start + 1, opened.group("lang"), code, kind, arg)


def _previous_text_line(lines: list[str], index: int) -> str | None:
    for line in reversed(lines[:index]):
        if line.strip():
            return line
    return None


def all_samples(lang: str | None = None) -> list[Sample]:
    """The samples of every page, of one language or (None) of all."""
    return [s for path in documentation_files() for s in samples_in(path)
            if lang is None or s.lang == lang]


__all__ = ["REPO", "Sample", "all_samples", "documentation_files", "samples_in"]

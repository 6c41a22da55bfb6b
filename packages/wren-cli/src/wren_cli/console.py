"""Terminal output of the `wren` command: rich tables and spinners on a terminal, plain wide
text when piped (so `wren runtime list | grep` sees whole names)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr), made per call so click's test runner captures it."""
    found = Console(stderr=stderr, highlight=False)
    if not found.is_terminal:
        found = Console(stderr=stderr, highlight=False, width=200, no_color=True)
    return found


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]],
                title: str | None = None) -> None:
    """Print rows under the column headings; numbers right-aligned, `None` as `-`."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for index, heading in enumerate(columns):
        numeric = bool(rows) and all(isinstance(row[index], (int, float)) or row[index] is None
                                     for row in rows)
        table.add_column(heading, justify="right" if numeric else "left", no_wrap=index == 0)
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    console().print(table)


@contextlib.contextmanager
def status(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner with `message` on stderr while the block runs (on a terminal only); yields
    a function that prints a line of progress above it."""
    out = console(stderr=True)
    if not out.is_terminal:
        yield lambda line: click.echo(line, err=True)
        return
    with out.status(message):
        yield lambda line: out.print(line, markup=False, highlight=False, soft_wrap=True)


def done(message: str) -> None:
    console().print(f"[green]✓[/green] {message}")

"""The `wren` command line (`wren_cli.main:cli`)."""

from wren_cli.__about__ import __version__
from wren_cli.main import cli, main

__all__ = ["__version__", "cli", "main"]

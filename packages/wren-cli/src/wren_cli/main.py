"""The `wren` command: a click group that gathers the verbs of every module."""

from __future__ import annotations

import click

from wren_cli.__about__ import __version__
from wren_cli.commands_basic import clean, hello
from wren_cli.commands_logs import logs
from wren_cli.commands_runtime import runtime
from wren_cli.commands_storage import storage
from wren_cli.commands_verify import verify
from wren_cli.exit_codes import EPILOG, WrenGroup
from wren_cli.options import global_options


def _version_text() -> str:
    from wren.__about__ import __version__ as core

    return f"wren-cli {__version__}, wren-core {core}"


@global_options
@click.group(name="wren", cls=WrenGroup, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="wren", message=_version_text())
def cli() -> None:
    """wren: run Python functions at scale on serverless and container platforms.

    The options -c/--config, -b/--backend, -s/--storage and -d/--debug go before the verb
    or after it: `wren -b localhost hello` is `wren hello -b localhost`.

    Example: wren hello -b localhost
    """


cli.add_command(hello)
cli.add_command(clean)
cli.add_command(logs)
cli.add_command(runtime)
cli.add_command(storage)
cli.add_command(verify)


def main() -> None:
    cli()

"""Options every `wren` verb takes (`-c/--config`, `-b/--backend`, `-s/--storage`,
`-d/--debug`) and the error handling that turns any failure into one line and exit code 1."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import attrs
import click


@attrs.frozen
class Target:
    """The backends and config a verb runs against."""

    backend: str | None
    storage: str | None
    debug: bool

    def executor(self, **overrides: Any) -> Any:
        import wren

        return wren.FunctionExecutor(backend=self.backend, storage=self.storage,
                                     log_level="DEBUG" if self.debug else None, **overrides)

    def config(self) -> Any:
        from wren.config import load_config

        return load_config(backend=self.backend, storage=self.storage)

    def open_storage(self) -> Any:
        """The configured storage backend (its `default_bucket` is wren's bucket)."""
        from wren.backends import open_storage

        return open_storage(self.config())


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared options; the command receives a `target: Target` argument."""

    @click.option("-c", "--config", "config_file", type=click.Path(dir_okay=False),
                  help="YAML config file (default: WREN_CONFIG_FILE, ./.wren_config, "
                       "~/.wren/config).")
    @click.option("-b", "--backend", help="Compute backend, e.g. localhost, ibm_cf, knative.")
    @click.option("-s", "--storage", help="Storage backend, e.g. localhost, ibm_cos.")
    @click.option("-d", "--debug", is_flag=True, help="Log debug details and show tracebacks.")
    @functools.wraps(command)
    def wrapper(config_file: str | None, backend: str | None, storage: str | None,
                debug: bool, **kwargs: Any) -> Any:
        if config_file:
            if not os.path.isfile(config_file):
                fail(f"config file {config_file!r} does not exist")
            os.environ["WREN_CONFIG_FILE"] = os.path.abspath(config_file)
        if debug:
            logging.basicConfig(level=logging.DEBUG)
        target = Target(backend, storage, debug)
        try:
            return command(target=target, **kwargs)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if debug:
                raise
            fail(f"{type(exc).__name__}: {exc}" if not str(exc).strip() else str(exc))

    return wrapper


def fail(message: str) -> NoReturn:
    """Print `message` as one line on stderr and exit with code 1."""
    click.echo(f"wren: error: {' '.join(message.split())}", err=True)
    sys.exit(1)

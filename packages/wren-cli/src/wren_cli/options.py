"""Options every `wren` verb takes (`-c/--config`, `-b/--backend`, `-s/--storage`,
`-d/--debug`, the spellings of Lithops' CLI), accepted before the verb (`wren -c X hello`, on
the groups) or after it (`wren hello -c X`, on each verb; a value given after the verb wins),
and the turning of any failure into one line and an exit code of the policy in
`wren_cli.exit_codes`."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, NoReturn

import attrs
import click

from wren_cli.exit_codes import ERROR, exit_with

#: Where the values of the options given before the verb wait for it (`click.Context.meta`).
_GIVEN = "wren_cli.options"
_OPTIONS: tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] = (
    (("-c", "--config"), "config_file",
     {"type": click.Path(dir_okay=False),
      "help": "YAML config file (default: WREN_CONFIG_FILE, ./.wren_config, ~/.wren/config)."}),
    (("-b", "--backend"), "backend", {"help": "Compute backend, e.g. localhost, ibm_cf, knative."}),
    (("-s", "--storage"), "storage", {"help": "Storage backend, e.g. localhost, ibm_cos."}),
    (("-d", "--debug"), "debug",
     {"is_flag": True, "default": None, "help": "Log debug details and show tracebacks."}),
)


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


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name is not None:
        ctx.meta.setdefault(_GIVEN, {})[param.name] = value
    return value


def global_options(group: click.Group) -> click.Group:
    """Let `group` take the shared options before its verbs (`wren -c X runtime list`)."""
    for flags, name, settings in _OPTIONS:  # on a made group, each option goes last
        click.option(*flags, name, expose_value=False, callback=_remember,
                     **settings)(group)
    return group


def _given(name: str, value: Any) -> Any:
    """`value` given after the verb, else the one given before it."""
    if value is not None:
        return value
    return click.get_current_context().meta.get(_GIVEN, {}).get(name)


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared options; the command receives a `target: Target` argument."""

    @functools.wraps(command)
    def wrapper(config_file: str | None, backend: str | None, storage: str | None,
                debug: bool | None, **kwargs: Any) -> Any:
        config_file = _given("config_file", config_file)
        debug = bool(_given("debug", debug))
        if config_file:
            if not os.path.isfile(config_file):
                usage_error(f"config file {config_file!r} does not exist")
            os.environ["WREN_CONFIG_FILE"] = os.path.abspath(config_file)
        if debug:
            logging.basicConfig(level=logging.DEBUG)
        target = Target(_given("backend", backend), _given("storage", storage), debug)
        try:
            return command(target=target, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
            raise
        except Exception as exc:
            if debug:
                raise
            fail(f"{type(exc).__name__}: {exc}" if not str(exc).strip() else str(exc))

    for flags, name, settings in reversed(_OPTIONS):
        wrapper = click.option(*flags, name, **settings)(wrapper)
    return wrapper


def fail(message: str) -> NoReturn:
    """Print `message` as one line on stderr and exit with the error code (1)."""
    click.echo(f"wren: error: {' '.join(message.split())}", err=True)
    exit_with(ERROR)


def usage_error(message: str) -> NoReturn:
    """Refuse the command line as click does (usage, then the error; exit code 2)."""
    raise click.UsageError(" ".join(message.split()), click.get_current_context(silent=True))

"""The exit codes of the `wren` command, one policy for every verb, and the group class that
applies it to what click leaves alone: an output pipe closed early (`wren ... | head`) ends
the command quietly, Ctrl-C ends it with one line.

0 the verb did what was asked, or found nothing to do (no runtimes on the backend); 1 it ran
and failed (backend, storage, configuration, a job or a contract); 2 the command line is
wrong (unknown verb or option, missing or malformed argument; checked before anything runs);
130 interrupted (Ctrl-C); 141 the output pipe closed early (as tools killed by SIGPIPE).
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

OK = 0
ERROR = 1
USAGE = 2
INTERRUPTED = 130
PIPE_CLOSED = 141

#: The policy as `wren --help` shows it (click keeps the lines of a `\b` paragraph).
EPILOG = ("\b\nExit codes:\n"
          f"  {OK}    done (or nothing to do, e.g. no runtimes on the backend)\n"
          f"  {ERROR}    failed while running: backend, storage, config, job or contract\n"
          f"  {USAGE}    wrong command line: unknown verb or option, bad argument\n"
          f"  {INTERRUPTED}  interrupted (Ctrl-C)\n"
          f"  {PIPE_CLOSED}  the output pipe closed early (e.g. `wren ... | head`), quietly")


def exit_with(code: int) -> NoReturn:
    sys.exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit finds no closed
    pipe to complain about (what Python's documentation advises after a BrokenPipeError)."""
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


class WrenGroup(click.Group):
    """The root `wren` group: its verbs end with the codes of this module's policy."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _silence_stdout()
            exit_with(PIPE_CLOSED)
        except KeyboardInterrupt:
            click.echo("\nwren: interrupted", err=True)
            exit_with(INTERRUPTED)
        except click.Abort:  # a prompt or a verb gave up on Ctrl-C
            click.echo("\nwren: interrupted", err=True)
            exit_with(INTERRUPTED)

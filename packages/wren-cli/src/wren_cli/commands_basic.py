"""The first verbs: `wren hello` and `wren clean`."""

from __future__ import annotations

import shutil
import time

import click

from wren_cli.options import Target, common_options


def _hello(name: str) -> str:
    import platform
    import socket

    return (f"Hello {name}! wren ran this on {socket.gethostname()} "
            f"(Python {platform.python_version()}).")


@click.command()
@click.argument("name", default="World")
@common_options
def hello(target: Target, name: str) -> None:
    """Run a real function on the configured backend and print its result.

    Example: wren hello -b localhost
    """
    started = time.perf_counter()
    with target.executor() as fexec:
        result = fexec.call_async(_hello, name).result()
    click.echo(result)
    click.echo(f"(backend {fexec.backend!r}, storage {fexec.storage_backend_name!r}, "
               f"{time.perf_counter() - started:.2f} s)")


@click.command()
@common_options
def clean(target: Target) -> None:
    """Remove wren's temporary data: job objects, call output, cached functions and shipped
    modules.

    The configuration is never touched. Example: wren clean -s localhost
    """
    from wren.job import keys
    from wren.worker.module_installer import default_cache_dir

    storage = target.open_storage()
    bucket = storage.default_bucket
    removed = 0
    for prefix in (keys.JOBS_PREFIX, keys.LOGS_PREFIX, keys.FUNCS_PREFIX):
        found = storage.list_keys(bucket, prefix)
        storage.delete_objects(bucket, found)
        removed += len(found)
    shutil.rmtree(default_cache_dir(), ignore_errors=True)
    click.echo(f"removed {removed} objects from {storage.name}://{bucket} and the "
               "local module cache")

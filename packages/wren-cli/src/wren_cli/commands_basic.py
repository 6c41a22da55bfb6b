"""The first verbs: `wren hello` and `wren clean`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import click
from wren import WrenError
from wren.backends import open_compute, open_storage
from wren.ports import ComputeBackend

from wren_cli.commands_runtime import deployed_runtimes
from wren_cli.console import done
from wren_cli.options import Target, common_options


def _greeter(run_id: str) -> Callable[[str], str]:
    """A function of this run's own (its id is a default argument, so its blob is unique):
    deleting it afterwards cannot take the function of another `wren hello` running now."""

    def greet(name: str, _run: str = run_id) -> str:
        import platform
        import socket

        return (f"Hello {name}! wren ran this on {socket.gethostname()} "
                f"(Python {platform.python_version()}).")

    return greet


@click.command()
@click.argument("name", default="World")
@common_options
def hello(target: Target, name: str) -> None:
    """Run a real function on the configured backend and print its result; then delete
    what the run stored (its job's objects and its function), leaving storage as it was.

    Example: wren hello -b localhost
    """
    from wren.own_objects import delete_own_objects

    started = time.perf_counter()
    fexec = target.executor()
    try:
        with fexec:
            result = fexec.get_result(fexec.call_async(_greeter(os.urandom(6).hex()), name))
    finally:
        try:
            delete_own_objects(fexec.storage, fexec.bucket)
        except Exception as exc:  # what the run said matters more; `wren clean` removes it
            click.echo(f"wren: warning: could not delete what the run stored: {exc}", err=True)
    click.echo(result)
    click.echo(f"(backend {fexec.backend!r}, storage {fexec.storage_backend_name!r}, "
               f"{time.perf_counter() - started:.2f} s)")


@click.command()
@click.option("-a", "--all", "everything", is_flag=True,
              help="Also delete every runtime deployed on the compute backend.")
@common_options
def clean(target: Target, everything: bool) -> None:
    """Remove wren's temporary data (job objects, call output, cached functions), its cached
    runtime metadata and shipped modules, and what ended jobs left on the platform (finished
    Kubernetes Jobs, Code Engine job runs); with --all also every deployed runtime of the
    backend.

    Only this user's storage and cache are touched: the configured bucket's wren prefixes,
    `runtimes/` in the cache directory and this user's module cache (left alone, with a
    warning, when it is not a real directory of this user's). The configuration is never
    touched. Example: wren clean -b localhost -s localhost --all
    """
    from wren.cache import cache_dir, clear_cache
    from wren.protocol import keys
    from wren.worker.module_installer import default_cache_dir, remove_cache

    config = target.config()
    storage = open_storage(config)
    bucket = storage.default_bucket
    removed = 0
    for prefix in (keys.JOBS_PREFIX, keys.LOGS_PREFIX, keys.FUNCS_PREFIX):
        found = storage.list_keys(bucket, prefix)
        storage.delete_objects(bucket, found)
        removed += len(found)
    done(f"removed {removed} objects from {config.storage_backend}://{bucket}")
    clear_cache()
    done(f"removed the cached runtime metadata in {cache_dir()}")
    try:
        if remove_cache():
            done(f"removed the module cache {default_cache_dir()}")
    except WrenError as exc:
        click.echo(f"wren: warning: {exc}", err=True)
    compute = open_compute(config)
    try:
        _clean_platform(compute)
        if everything:
            _delete_runtimes(compute)
    finally:
        compute.close()


def _clean_platform(compute: ComputeBackend) -> None:
    """What ended jobs left on the platform; a platform that cannot be reached is a warning
    (the storage was cleaned, which is what most users ask for)."""
    try:
        removed = compute.clean_finished()
    except WrenError as exc:
        click.echo(f"wren: warning: could not clean up the {compute.name} platform: {exc}",
                   err=True)
        return
    for line in removed:
        done(f"removed {line}")


def _delete_runtimes(compute: ComputeBackend) -> None:
    for entry in deployed_runtimes(compute, "delete") or []:
        compute.delete_runtime(entry.name, entry.memory)
        done(f"deleted runtime {entry.name}"
             + (f" ({entry.memory} MB)" if entry.memory else ""))

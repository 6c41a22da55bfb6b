"""`wren storage`: put, get, list and delete objects through the configured storage backend
(the `StorageBackend` port), the way Lithops' `storage` verbs do."""

from __future__ import annotations

import datetime
import shutil
import sys
from pathlib import Path
from typing import IO

import click
from wren.backends import open_storage
from wren.ports import StorageBackend

from wren_cli.console import done, print_table
from wren_cli.options import Target, common_options, global_options, usage_error


@global_options
@click.group()
def storage() -> None:
    """Put, get, list and delete objects in the configured storage. Here -b names the
    storage backend when -s does not, as in Lithops' `storage` verbs (they use no compute).

    Example: wren storage list wren -s localhost
    """


def _open(target: Target) -> tuple[StorageBackend, str]:
    storage = target.storage or target.backend  # Lithops: `lithops storage ... -b ibm_cos`
    config = Target(None, storage, target.debug).config()
    return open_storage(config), config.storage_backend


@storage.command()
@click.argument("filename", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("bucket")
@click.option("-k", "--key", help="Object key (default: the file's name).")
@common_options
def put(target: Target, filename: str, bucket: str, key: str | None) -> None:
    """Upload FILENAME (`-` for stdin) to BUCKET.

    Example: wren storage put data.csv wren -k inputs/data.csv
    """
    if filename == "-" and not key:
        usage_error("reading stdin needs a key: add -k KEY")
    if filename != "-" and not Path(filename).is_file():
        usage_error(f"file {filename!r} does not exist")
    key = key or Path(filename).name
    backend, name = _open(target)
    stream: IO[bytes] = sys.stdin.buffer if filename == "-" else open(filename, "rb")  # noqa: SIM115
    with stream:
        backend.put_object(bucket, key, stream)
    size = backend.head_object(bucket, key).size
    done(f"uploaded {size:,} bytes to {name}://{bucket}/{key}")


@storage.command()
@click.argument("bucket")
@click.argument("key")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write it (`-` for stdout; default: the key's last part).")
@common_options
def get(target: Target, bucket: str, key: str, output: str | None) -> None:
    """Download object KEY of BUCKET.

    Example: wren storage get wren inputs/data.csv -o data.csv
    """
    backend, name = _open(target)
    output = output or key.rstrip("/").rsplit("/", 1)[-1]
    with backend.get_object_stream(bucket, key) as source:
        if output == "-":
            shutil.copyfileobj(source, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        with open(output, "wb") as target_file:
            shutil.copyfileobj(source, target_file)
    done(f"downloaded {name}://{bucket}/{key} to {output} "
         f"({Path(output).stat().st_size:,} bytes)")


def _when(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


@storage.command(name="list")
@click.argument("bucket")
@click.option("-p", "--prefix", default="", help="Only keys that start with PREFIX.")
@common_options
def list_(target: Target, bucket: str, prefix: str) -> None:
    """List the objects of BUCKET (under PREFIX): key, size, last modified.

    Example: wren storage list wren -p wren.jobs/
    """
    backend, name = _open(target)
    objects = list(backend.list_objects(bucket, prefix))
    if not objects:
        click.echo(f"no objects in {name}://{bucket}/{prefix}")
        return
    print_table(("key", "size (bytes)", "last modified"),
                [(o.key, o.size, _when(o.last_modified)) for o in objects])
    click.echo(f"{len(objects):,} objects, {sum(o.size for o in objects):,} bytes")


@storage.command()
@click.argument("bucket")
@click.argument("keys", nargs=-1)
@click.option("-p", "--prefix", help="Delete every object whose key starts with PREFIX.")
@common_options
def delete(target: Target, bucket: str, keys: tuple[str, ...], prefix: str | None) -> None:
    """Delete objects KEYS of BUCKET, or every object under a prefix.

    Example: wren storage delete wren -p wren.jobs/
    """
    if not keys and prefix is None:
        usage_error("name the keys to delete, or give -p PREFIX (-p '' for the whole bucket)")
    backend, name = _open(target)
    missing = [key for key in keys if not backend.exists(bucket, key)]
    doomed = [key for key in keys if key not in missing]
    doomed += backend.list_keys(bucket, prefix) if prefix is not None else []
    backend.delete_objects(bucket, doomed)
    done(f"deleted {len(doomed):,} objects from {name}://{bucket}")
    if missing:
        click.echo(f"not found: {', '.join(missing)}", err=True)

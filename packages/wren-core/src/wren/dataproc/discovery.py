"""Turn parsed map inputs into sized `DataObject`s: list prefixes, HEAD single objects and
URLs, stat local files. Everything happens on the client before anything is invoked, so a
missing object, an unreachable URL or a storage the workers cannot read is a clear error.

Workers read storage objects through the executor's own storage backend only (their
credentials come from it), so an input that names another backend is refused. Local paths
need a compute backend whose workers share this machine's files (`shared_filesystem`).
Lookups of many single objects or URLs run on a small thread pool.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import attrs

from wren import plugins
from wren._errors import InvalidInputError, StorageNoSuchKeyError
from wren.dataproc import http
from wren.dataproc.inputs import InputSpec
from wren.dataproc.refs import DataObject
from wren.ports.storage import StorageBackend

_PARALLEL_FROM = 8
_MAX_THREADS = 32


@attrs.frozen
class DataTarget:
    """What the executor offers its data-processing calls."""

    storage: StorageBackend
    backend: str
    local_files: bool


def _check_backend(spec: InputSpec, target: DataTarget) -> None:
    if spec.backend is None or spec.backend == target.backend:
        return
    installed = plugins.installed(plugins.STORAGE_GROUP)
    if spec.backend not in installed:
        raise InvalidInputError(
            f"map input {spec.text!r} names storage backend {spec.backend!r}, which is not "
            f"installed (installed: {', '.join(installed) or 'none'}; other schemes they "
            f"serve: {', '.join(plugins.storage_schemes()) or 'none'}). Check the scheme, "
            f"install the adapter that serves it (by wren's naming convention: pip install "
            f"{plugins.distribution_hint(spec.backend)}), or write "
            f"'{spec.bucket}/{spec.key}' for this executor's storage")
    raise InvalidInputError(
        f"map input {spec.text!r} is in storage backend {spec.backend!r}, but this executor's "
        f"workers read storage {target.backend!r} only. Create the executor with "
        f"storage={spec.backend!r}, or copy the data into {target.backend!r} first")


def _walk(spec: InputSpec) -> list[DataObject]:
    root = spec.key
    if os.path.isfile(root):
        return [DataObject("path", os.path.abspath(root), os.path.getsize(root))]
    if not os.path.isdir(root):
        raise InvalidInputError(f"map input {spec.text!r}: no such file or directory")
    found = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.abspath(os.path.join(directory, name))
            found.append(DataObject("path", path, os.path.getsize(path)))
    return found


def _resolve_one(spec: InputSpec, target: DataTarget) -> list[DataObject]:
    if spec.kind == "url":
        size, ranges = http.probe(spec.key)
        return [DataObject("url", spec.key, size, ranges=ranges)]
    if spec.kind == "path":
        if not target.local_files:
            raise InvalidInputError(
                f"map input {spec.text!r} is a local path, but this executor's workers do "
                "not run on this machine; upload it first (wren.Storage().upload_file) and "
                "pass '<bucket>/<key>'")
        return _walk(spec)
    storage = target.storage
    if spec.kind == "prefix":
        return [DataObject("storage", info.key, info.size, target.backend, spec.bucket)
                for info in storage.list_objects(spec.bucket, spec.key)
                if not info.key.endswith("/")]
    try:
        info = storage.head_object(spec.bucket, spec.key)
    except StorageNoSuchKeyError as exc:
        raise InvalidInputError(
            f"map input {spec.text!r}: {exc}. To process every object under a prefix, end "
            "the name with '/'") from exc
    return [DataObject("storage", spec.key, info.size, target.backend, spec.bucket)]


def resolve(specs: Sequence[InputSpec], target: DataTarget) -> list[list[DataObject]]:
    """The objects of every input, in input order (a prefix's in key order)."""
    for spec in specs:
        _check_backend(spec, target)
    lookups = sum(1 for spec in specs if spec.kind in ("object", "url"))
    if lookups < _PARALLEL_FROM:
        found = [_resolve_one(spec, target) for spec in specs]
    else:  # batches, so a fast store is not slowed down by one future per object
        threads = min(_MAX_THREADS, lookups)
        size = -(-len(specs) // (threads * 4))
        batches = [specs[i:i + size] for i in range(0, len(specs), size)]
        with ThreadPoolExecutor(threads) as pool:
            found = [objects for batch in pool.map(
                lambda batch: [_resolve_one(spec, target) for spec in batch], batches)
                for objects in batch]
    for spec, objects in zip(specs, found, strict=True):
        if not objects:
            raise InvalidInputError(f"map input {spec.text!r} matches no objects; check the "
                                    "bucket and prefix")
    return found

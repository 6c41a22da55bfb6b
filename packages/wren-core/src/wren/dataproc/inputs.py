"""Parse what a data-processing map was given into `InputSpec`s, before anything is listed.

Accepted, per item: `'<backend>://<bucket>/<key>'`, `'<backend>://<bucket>/<prefix>/'` (or
`'<backend>://<bucket>'`: the whole bucket), `'<bucket>/<key>'` and `'<bucket>/<prefix>/'`
on the executor's storage, a `CloudObject`, an `http(s)://` URL, and a local path:
absolute, starting with `./`, `../` or `~`, a `file://` URL or a `pathlib.Path`.
Any other scheme goes to the installed storage backend that declares it in `url_schemes`
(`s3://` to whichever adapter serves S3). Anything else is a clear error. `is_reference`
tells an item that names an object from a plain value, before anything is parsed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from wren import plugins
from wren._errors import InvalidInputError
from wren.storage_api.cloudobject import CloudObject

ACCEPTED = ("'<backend>://<bucket>/<key>', '<backend>://<bucket>/<prefix>/', "
            "'<bucket>/<key>', '<bucket>/<prefix>/', a CloudObject, an http(s):// URL, or a "
            "local path ('/abs', './rel', '~/x', 'file://...', a pathlib.Path)")


@attrs.frozen
class InputSpec:
    """One map input, parsed. `kind` is `object`, `prefix`, `url` or `path`; `backend` is
    the storage a scheme named (None: the executor's); `key` holds the key, prefix, URL or
    local path."""

    kind: str
    text: str
    key: str
    bucket: str = ""
    backend: str | None = None


def is_reference(item: Any) -> bool:
    """True when `item` names something to process: a CloudObject, a path object, a string
    with a scheme (`<backend>://`, URLs, `file://`) or a `/` (`bucket/key`, `bucket/prefix/`,
    local paths) or starting with `~`, or a dict whose `obj` entry is one of those."""
    if isinstance(item, Mapping):
        return "obj" in item and is_reference(item["obj"])
    if isinstance(item, (CloudObject, os.PathLike)):
        return True
    return isinstance(item, str) and ("/" in item or item.startswith("~"))


def _storage_spec(text: str, backend: str | None, rest: str) -> InputSpec:
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise InvalidInputError(f"map input {text!r} names no bucket; write it as {ACCEPTED}")
    kind = "prefix" if key == "" or key.endswith("/") else "object"
    return InputSpec(kind, text, key, bucket, backend)


def storage_for_scheme(text: str, scheme: str) -> str:
    """The storage backend a URL scheme names: the backend registered under that name, else
    the one installed backend that declares it in `url_schemes`, else the scheme itself
    (which `wren.dataproc.discovery` reports as not installed)."""
    if scheme in plugins.installed(plugins.STORAGE_GROUP):
        return scheme
    serving = plugins.storage_schemes().get(scheme.lower(), ())
    if len(serving) > 1:
        raise InvalidInputError(
            f"map input {text!r}: scheme {scheme!r} is served by storage backends "
            f"{', '.join(serving)}; write the backend's name instead, e.g. "
            f"'{serving[0]}://{text.partition('://')[2]}'")
    return serving[0] if serving else scheme


def parse_input(value: Any) -> InputSpec:
    """The `InputSpec` for one map input."""
    if isinstance(value, CloudObject):
        return InputSpec("object", value.uri, value.key, value.bucket, value.backend)
    if isinstance(value, os.PathLike):
        return InputSpec("path", os.fspath(value), os.path.expanduser(os.fspath(value)))
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"cannot read map input {value!r:.80}: a function with an `obj` "
                                f"parameter takes objects to process, given as {ACCEPTED}")
    scheme, found, rest = value.partition("://")
    if found:
        lowered = scheme.lower()
        if lowered in ("http", "https"):
            return InputSpec("url", value, value)
        if lowered == "file":
            path = unquote(urlsplit(value).path)
            if not path:
                raise InvalidInputError(f"map input {value!r} names no file path")
            return InputSpec("path", value, path)
        return _storage_spec(value, storage_for_scheme(value, scheme), rest)
    if value.startswith(("/", "./", "../", "~")) or value in (".", ".."):
        return InputSpec("path", value, os.path.expanduser(value))
    if "/" not in value:
        raise InvalidInputError(
            f"map input {value!r} is neither an object nor a prefix: write "
            f"'{value}/<key>' for an object, '{value}/' for every object in bucket {value!r}, "
            f"or './{value}' for a local file")
    return _storage_spec(value, None, value)

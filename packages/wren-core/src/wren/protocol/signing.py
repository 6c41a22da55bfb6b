"""Authenticated pickles: what must be a pickle is signed by the side that wrote it.

Results, exceptions and arguments are pickles, and unpickling runs code; storage, queues and
brokers may be writable by people who cannot run code on the client. So every such object is
*sealed*: an HMAC-SHA256 over a context (the storage key the object lives under, plus what
part of it this is) and the bytes, with the executor's key. The key is made fresh for each
executor (`new_key`), reaches workers only through the invocation channel, and is never
written to storage or logs. `open_sealed` checks the tag before anything is unpickled and
raises `TamperedDataError` naming the object otherwise; because the context is bound in, a
valid sealed object moved to another key fails too.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from wren._errors import TamperedDataError

_MAGIC = b"WRN1"
_TAG = hashlib.sha256().digest_size
HEADER_BYTES = len(_MAGIC) + _TAG
KEY_BYTES = 32


def new_key() -> bytes:
    """A fresh random executor key, from the system's CSPRNG (`os.urandom`, what
    `secrets.token_bytes` returns, without importing `secrets` and `random`)."""
    return os.urandom(KEY_BYTES)


def derive_key(key: bytes, label: str) -> bytes:
    """A key for `label` (a nested executor's id, a queue's name) that whoever holds `key`
    can recompute, so a derived key never needs to travel or be stored: an executor created
    inside a worker, or a broker object shared by a job's calls, is authenticated by the
    parent executor's key without anything new crossing the channel."""
    return hmac.new(key, b"wren-derive\x00" + label.encode("utf-8"), hashlib.sha256).digest()


def _tag(key: bytes, context: str, data: bytes | memoryview) -> bytes:
    mac = hmac.new(key, context.encode("utf-8") + b"\x00", hashlib.sha256)
    mac.update(data)
    return mac.digest()


def seal_header(key: bytes, context: str, data: bytes | memoryview) -> bytes:
    """The header that, put in front of `data`, seals it (for writers that concatenate
    anyway and would otherwise copy big data twice)."""
    return _MAGIC + _tag(key, context, data)


def seal(key: bytes, context: str, data: bytes) -> bytes:
    """`data` with a header that authenticates it for `context` under `key`."""
    return seal_header(key, context, data) + data


def open_sealed(key: bytes, context: str, blob: bytes | memoryview,
                name: str | None = None) -> memoryview:
    """The data of a sealed `blob` after checking it (`TamperedDataError` naming `name`, by
    default the context, if it fails)."""
    view = memoryview(blob)
    if len(view) < HEADER_BYTES or view[:len(_MAGIC)] != _MAGIC:
        raise TamperedDataError(name or context, "it carries no wren signature")
    data = view[HEADER_BYTES:]
    if not hmac.compare_digest(bytes(view[len(_MAGIC):HEADER_BYTES]), _tag(key, context, data)):
        raise TamperedDataError(name or context)
    return data


def unverified_data(blob: bytes | memoryview) -> memoryview:
    """The data of a sealed `blob` without checking it (for bookkeeping only: never
    unpickle what this returns)."""
    view = memoryview(blob)
    if len(view) < HEADER_BYTES or view[:len(_MAGIC)] != _MAGIC:
        raise TamperedDataError("a pushed document", "it carries no wren signature")
    return view[HEADER_BYTES:]


def check_digest(name: str, data: bytes | memoryview, sha256_hex: str) -> None:
    """Raise `TamperedDataError` unless `data` hashes to `sha256_hex` (content-addressed
    objects: a function and its shipped modules)."""
    found = hashlib.sha256(data).hexdigest()
    if not hmac.compare_digest(found, sha256_hex):
        raise TamperedDataError(name, f"its sha256 is {found[:12]}…, the job names "
                                      f"{sha256_hex[:12]}…")

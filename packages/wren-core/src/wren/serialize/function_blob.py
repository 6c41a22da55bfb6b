"""The function blob: a pickled function, the source lines of its by-value code, and a zip
of the user modules it needs.

Layout: the magic `WRENFN2\n`, the lengths of the pickle and of the sources as 8 big-endian
bytes each, the pickle, the sources (`wren.serialize.sources`, possibly empty), then the zip
(possibly empty); a `WRENFN1\n` blob of an earlier wren has no sources part. The blob is stored under its SHA-256 (`wren.funcs/<sha>.fn`), so a
function already uploaded by any earlier job is never uploaded again. The modules shipped are
logged at INFO once per blob and process, with a warning when their zip passes
`WARN_MODULE_BYTES`.
"""

from __future__ import annotations

import logging
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from wren._errors import SerializationError
from wren.ports.serializer import Serializer

if TYPE_CHECKING:
    from wren.serialize.reach import Reach
    from wren.serialize.sources import ShippedSources

logger = logging.getLogger("wren")

MAGIC = b"WRENFN2\n"
_MAGIC_V1 = b"WRENFN1\n"
_HEADER = struct.Struct(">QQ")
_HEADER_V1 = struct.Struct(">Q")
#: Shipped modules above this many (zipped) bytes are worth a warning: every cold worker
#: downloads and extracts them.
WARN_MODULE_BYTES = 10 * 2**20
_logged: set[str] = set()
#: Blobs of functions that ship no modules, packed lately, by their pickle and module choice,
#: with the source lines they ship: a function pickled to the same bytes needs the same (no)
#: modules, so calling it again skips their search, the second pickling pass that finds its
#: code, the zip and the hash, unless a shipped line reads differently now. A blob with
#: modules is packed anew each time, since its module files may change on disk or resolve
#: elsewhere after `sys.path` changes.
_packed: dict[tuple[Any, ...], tuple[FunctionBlob, ShippedSources]] = {}
_packed_bytes = 0  # of the blobs in `_packed`
_PACKED_BYTES = 32 * 2**20
_packed_lock = threading.Lock()


@attrs.frozen
class FunctionBlob:
    """A packed function ready to upload."""

    data: bytes
    digest: str
    modules: tuple[str, ...]


def load_packing() -> None:
    """Import what packing a function needs (the module analysis, about a millisecond),
    resolve Python's own directories (what tells user modules from the rest) and read the
    script's lines (which its functions ship, for tracebacks): an executor does it when it
    is created, instead of its first job."""
    import hashlib  # noqa: F401
    import linecache

    import wren.serialize.modules
    import wren.serialize.reach
    import wren.serialize.sources

    wren.serialize.modules.system_roots()
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    if isinstance(script, str):
        linecache.getlines(script)


def pack_function(func: Callable[..., Any], serializer: Serializer,
                  include: Iterable[str] | None = (), exclude: Iterable[str] = (),
                  preinstalled: frozenset[str] = frozenset()) -> FunctionBlob:
    """Pickle `func` and zip the user modules it needs into one content-addressed blob."""
    import hashlib

    from wren.serialize.modules import find_user_modules, try_reach

    if not callable(func):
        raise SerializationError(f"expected a function, got {type(func).__name__}: "
                                 f"{func!r:.80}")
    try:
        pickled, found = _pickled(func, serializer)
    except Exception as exc:
        name = getattr(func, "__qualname__", repr(func))
        raise SerializationError(
            f"function {name} cannot be serialized: {type(exc).__name__}: {exc}. Functions "
            "must not capture open files, locks, sockets or similar objects; create them "
            "inside the function instead") from exc
    include = None if include is None else list(include)
    memo = (type(serializer), pickled, None if include is None else tuple(include),
            tuple(exclude), preinstalled)
    known = _packed.get(memo)
    if known is not None and known[1].is_current():
        return known[0]
    reached = found if found is not None else try_reach(func)  # (found as it was pickled)
    codes = reached.codes if reached is not None else ()
    modules = {} if reached is None and include == [] else \
        find_user_modules(func, include, exclude, preinstalled, reached)
    archive, files = b"", {}
    if modules:
        from wren.serialize.module_zip import entries, zip_modules

        archive = zip_modules(modules)
        files = {name: str(path) for name, path in entries(modules).items()}
    shipped = _sources(func, codes, files)
    sources = shipped.to_bytes()
    data = MAGIC + _HEADER.pack(len(pickled), len(sources)) + pickled + sources + archive
    blob = FunctionBlob(data, hashlib.sha256(data).hexdigest(), tuple(sorted(modules)))
    if not modules:
        _remember(memo, blob, shipped)
    if modules and blob.digest not in _logged:
        _logged.add(blob.digest)
        _log_modules(blob, len(archive), getattr(func, "__qualname__", repr(func)))
    return blob


def _pickled(func: Callable[..., Any], serializer: Serializer) -> tuple[bytes, Reach | None]:
    """`serializer.dumps_function(func)`, and what `func` reaches when the same pass can
    tell: with the default cloudpickle serializer the pass that finds it pickles the very
    same bytes (`pickle_and_reach`), so the function is pickled once, not twice (a tenth of
    a millisecond of a first job). If that pass fails, the serializer's own pickling says
    whether the function pickles at all."""
    from wren.serialize.cloudpickle_serializer import CloudpickleSerializer
    from wren.serialize.out_of_band import current_put

    kind = type(serializer)
    if kind.dumps_function is Serializer.dumps_function and \
            kind.dumps is CloudpickleSerializer.dumps and current_put() is None:
        from wren.serialize.reach import pickle_and_reach

        try:
            return pickle_and_reach(func)
        except Exception:
            pass
    return serializer.dumps_function(func), None


def _sources(func: Any, codes: Iterable[Any], modules: dict[str, str]) -> ShippedSources:
    """The shipped source lines of `codes` (none when they cannot be read: tracebacks
    without source lines, never a job that cannot start)."""
    from wren.serialize.sources import ShippedSources, collect_sources

    try:
        return collect_sources(codes, modules)
    except Exception:
        logger.debug("cannot collect the source lines of %r", func, exc_info=True)
        return ShippedSources()


def _remember(memo: tuple[Any, ...], blob: FunctionBlob, shipped: ShippedSources) -> None:
    """Keep `blob` (and the lines it ships) for its pickle, dropping the oldest blobs past
    `_PACKED_BYTES` in all."""
    global _packed_bytes
    with _packed_lock:
        replaced = _packed.get(memo)
        _packed_bytes += len(blob.data) - (len(replaced[0].data) if replaced else 0)
        _packed[memo] = (blob, shipped)
        while _packed_bytes > _PACKED_BYTES and len(_packed) > 1:
            _packed_bytes -= len(_packed.pop(next(iter(_packed)))[0].data)


def _log_modules(blob: FunctionBlob, size: int, func_name: str) -> None:
    logger.info("shipping %d user module(s) with %s (%s zipped): %s", len(blob.modules),
                func_name, _megabytes(size), ", ".join(blob.modules))
    if size > WARN_MODULE_BYTES:
        logger.warning("the user modules shipped with %s are %s zipped (above %s); every cold "
                       "worker downloads them. Name only what it needs with include_modules, "
                       "drop the rest with exclude_modules, or install them in the runtime",
                       func_name, _megabytes(size), _megabytes(WARN_MODULE_BYTES))


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.1f} KB"


def blob_parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """Return (pickle, sources, zip) from a blob."""
    if data.startswith(MAGIC):
        start = len(MAGIC) + _HEADER.size
        length, sources = _HEADER.unpack_from(data, len(MAGIC))
    elif data.startswith(_MAGIC_V1):
        start, sources = len(_MAGIC_V1) + _HEADER_V1.size, 0
        (length,) = _HEADER_V1.unpack_from(data, len(_MAGIC_V1))
    else:
        raise SerializationError("not a wren function blob (bad magic); the object may have "
                                 "been written by another tool or be corrupted")
    middle = start + length
    return data[start:middle], data[middle:middle + sources], data[middle + sources:]


def split_blob(data: bytes) -> tuple[bytes, bytes]:
    """Return (pickle, zip) from a blob."""
    pickled, _, archive = blob_parts(data)
    return pickled, archive


def unpack_function(data: bytes, serializer: Serializer) -> Any:
    """Load the function of a blob whose modules are already importable."""
    pickled, _ = split_blob(data)
    return serializer.loads(pickled)

"""The source lines shipped with a function, so a remote traceback shows the user's code.

cloudpickle carries a function defined in a script, a notebook cell or `exec`'d code by value,
but not its source, and names its code `<dynamic-code>`: a remote traceback then has neither
the file nor the line's text. `collect_sources` takes the code objects the pickle carries by
value (`wren.serialize.reach` records them) and keeps, for each, its original file name and
only the lines it spans (read through `linecache`, which also knows notebook cells and what
IPython registered), with lines that assign a password, token or key redacted and the whole
capped at `SOURCES_LIMIT` bytes. The result travels inside the function blob, so it is
checked against the blob's hash like the pickle; `wren.worker.sources` puts it back.
"""

from __future__ import annotations

import binascii
import functools
import json
import linecache
import re
import types
from collections.abc import Iterable, Mapping

from wren._errors import SerializationError

#: Bytes of source text shipped with one function, at most.
SOURCES_LIMIT = 64 * 1024
#: Characters of one line kept; the rest is cut.
LINE_LIMIT = 400
#: The file name cloudpickle gives the code it carries by value.
DYNAMIC_FILENAME = "<dynamic-code>"
_SECRET_PATTERN = r"""(?ix)\b(\w*(?:password|passwd|secret|token|api_?key|access_?key|credential)\w*)
    (\s*[:=]\s*)(?:[rbuf]{0,2})(['"]).*?\3"""
#: Words one of which a line has when `_SECRET_PATTERN` can match it (lower case).
_SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "credential")


@functools.cache
def _secret() -> re.Pattern[str]:
    """The pattern, compiled when a line first needs it (a millisecond of the first job)."""
    return re.compile(_SECRET_PATTERN)


class ShippedSources:
    """`files[name][line] = text` for the lines shipped; `codes[code_key(c)]` = the name of
    the file code `c` came from; `modules[archive name]` = the file a shipped module's
    archive member was read from (tracebacks name it, not the worker's copy). A plain
    class: defining it is on the path of every process's first job."""

    __slots__ = ("codes", "files", "modules")

    def __init__(self, files: dict[str, dict[int, str]] | None = None,
                 codes: dict[str, str] | None = None,
                 modules: dict[str, str] | None = None) -> None:
        self.files = {} if files is None else files
        self.codes = {} if codes is None else codes
        self.modules = {} if modules is None else modules

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ShippedSources):
            return NotImplemented
        return (self.files, self.codes, self.modules) == (other.files, other.codes,
                                                           other.modules)

    __hash__ = None  # type: ignore[assignment]  # mutable, like its dicts

    def __repr__(self) -> str:
        return (f"ShippedSources(files={self.files!r}, codes={self.codes!r}, "
                f"modules={self.modules!r})")

    def __bool__(self) -> bool:
        return bool(self.codes or self.modules)

    def is_current(self) -> bool:
        """Whether every shipped line still reads the same (through `linecache`, as it was
        collected): a file or notebook cell edited since would ship other lines."""
        for filename, lines in self.files.items():
            source = linecache.getlines(filename)
            for number, text in lines.items():
                if number > len(source) or _shipped_line(source, number) != text:
                    return False
        return True

    def to_bytes(self) -> bytes:
        """JSON, or b"" when nothing is shipped."""
        if not self:
            return b""
        files = {name: {str(n): text for n, text in sorted(lines.items())}
                 for name, lines in sorted(self.files.items())}
        return json.dumps({"files": files, "codes": dict(sorted(self.codes.items())),
                           "modules": dict(sorted(self.modules.items()))},
                          separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview) -> ShippedSources:
        if not data:
            return cls()
        try:
            raw = json.loads(bytes(data))
            files = {str(name): {int(n): str(text) for n, text in lines.items()}
                     for name, lines in raw["files"].items()}
            codes = {str(key): str(name) for key, name in raw["codes"].items()}
            modules = {str(key): str(name) for key, name in raw.get("modules", {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SerializationError(f"the sources shipped with the function are malformed: "
                                     f"{type(exc).__name__}: {exc}") from exc
        return cls(files, codes, modules)


def code_key(code: types.CodeType) -> str:
    """What names a code object on both sides (its file name is not kept by the pickle)."""
    return f"{code.co_name}:{code.co_firstlineno}:{binascii.crc32(code.co_code):08x}"


def nested_codes(code: types.CodeType) -> list[types.CodeType]:
    """`code` and every code object defined inside it (lambdas, inner functions, ...)."""
    found, stack = [], [code]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return found


def _span(code: types.CodeType) -> range:
    lines = [line for _, _, line in code.co_lines() if line is not None]
    return range(code.co_firstlineno, max([code.co_firstlineno, *lines]) + 1)


def _shipped_line(source: list[str], number: int) -> str:
    """Line `number` of `source` as it is shipped: cut at `LINE_LIMIT`, secrets redacted."""
    return redact(source[number - 1].rstrip("\r\n")[:LINE_LIMIT])


def redact(line: str) -> str:
    """`line` with the string assigned to anything named like a password, token or key
    replaced by `'***'`."""
    lowered = line.lower()
    if not any(word in lowered for word in _SECRET_WORDS):
        return line
    return _secret().sub(lambda m: f"{m.group(1)}{m.group(2)}'***'", line)


def collect_sources(codes: Iterable[types.CodeType], modules: Mapping[str, str] | None = None,
                    limit: int = SOURCES_LIMIT) -> ShippedSources:
    """The shipped sources of these by-value code objects (and the code nested in them),
    the first ones first until `limit` bytes of text are taken; `modules` maps the archive
    names of the shipped modules to their files."""
    shipped = ShippedSources(modules=dict(modules or {}))
    budget = limit
    seen: set[int] = set()
    for code in (c for top in codes for c in nested_codes(top)):
        filename = code.co_filename
        if id(code) in seen or filename == DYNAMIC_FILENAME:
            continue
        seen.add(id(code))
        shipped.codes[code_key(code)] = filename
        source = linecache.getlines(filename)
        kept = shipped.files.setdefault(filename, {})
        for number in _span(code):
            if number in kept or number > len(source) or budget <= 0:
                continue
            text = _shipped_line(source, number)
            kept[number] = text
            budget -= len(text.encode()) + 1
        if not kept:
            del shipped.files[filename]
    return shipped

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

import json
import linecache
import re
import types
import zlib
from collections.abc import Iterable, Mapping

import attrs

from wren._errors import SerializationError

#: Bytes of source text shipped with one function, at most.
SOURCES_LIMIT = 64 * 1024
#: Characters of one line kept; the rest is cut.
LINE_LIMIT = 400
#: The file name cloudpickle gives the code it carries by value.
DYNAMIC_FILENAME = "<dynamic-code>"
_SECRET = re.compile(
    r"""(?ix)\b(\w*(?:password|passwd|secret|token|api_?key|access_?key|credential)\w*)
        (\s*[:=]\s*)(?:[rbuf]{0,2})(['"]).*?\3""")


@attrs.frozen
class ShippedSources:
    """`files[name][line] = text` for the lines shipped; `codes[code_key(c)]` = the name of
    the file code `c` came from; `modules[archive name]` = the file a shipped module's
    archive member was read from (tracebacks name it, not the worker's copy)."""

    files: dict[str, dict[int, str]] = attrs.field(factory=dict)
    codes: dict[str, str] = attrs.field(factory=dict)
    modules: dict[str, str] = attrs.field(factory=dict)

    def __bool__(self) -> bool:
        return bool(self.codes or self.modules)

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
    return f"{code.co_name}:{code.co_firstlineno}:{zlib.crc32(code.co_code):08x}"


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


def redact(line: str) -> str:
    """`line` with the string assigned to anything named like a password, token or key
    replaced by `'***'`."""
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}'***'", line)


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
            text = redact(source[number - 1].rstrip("\r\n")[:LINE_LIMIT])
            kept[number] = text
            budget -= len(text.encode()) + 1
        if not kept:
            del shipped.files[filename]
    return shipped

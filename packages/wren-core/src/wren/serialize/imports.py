"""Import statements as data: what a source file or a code object imports, and the dotted
module names an import can load. An `ImportRef` is `(level, module, names)` exactly as the
`import`/`from ... import` statement wrote it (level > 0 for relative imports); `candidates`
turns one into absolute dotted names given the importing module's package, including each
`from pkg import name` name (it may be a submodule; the caller keeps those that exist). Source
files are parsed with `ast` once per file version (cached on path, mtime and size).
"""

from __future__ import annotations

import ast
import dis
import functools
import types
from pathlib import Path

#: (level, module, names): `from ..a import b, c` is (2, "a", ("b", "c")); `import a.b` is
#: (0, "a.b", ()).
ImportRef = tuple[int, str, tuple[str, ...]]


def file_imports(path: Path) -> frozenset[ImportRef]:
    """Every import statement of a source file, anywhere in it (cached until it changes)."""
    try:
        stat = path.stat()
    except OSError:
        return frozenset()
    return _parse_imports(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _parse_imports(path: str, mtime_ns: int, size: int) -> frozenset[ImportRef]:
    try:
        tree = ast.parse(Path(path).read_bytes(), filename=path)
    except (SyntaxError, OSError, ValueError):
        return frozenset()
    refs: set[ImportRef] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            refs.update((0, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names if alias.name != "*")
            refs.add((node.level, node.module or "", names))
    return frozenset(refs)


def code_imports(code: types.CodeType) -> set[ImportRef]:
    """The imports a code object (and the code nested in it) runs when called."""
    refs: set[ImportRef] = set()
    stack = [code]
    while stack:
        current = stack.pop()
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        if not current.co_names:
            continue
        instrs = list(dis.get_instructions(current))
        for i, instr in enumerate(instrs):
            if instr.opname != "IMPORT_NAME":
                continue
            level, fromlist = (ins.argval if ins.opname == "LOAD_CONST" else None
                               for ins in instrs[max(i - 2, 0):i]) if i >= 2 else (0, None)
            names = tuple(n for n in fromlist if isinstance(n, str) and n != "*") \
                if isinstance(fromlist, tuple) else ()
            refs.add((level if isinstance(level, int) else 0, str(instr.argval), names))
    return refs


def candidates(ref: ImportRef, package: str | None) -> list[str]:
    """Absolute dotted names `ref` may import, from the package of the importing module
    (`None` or "" for a top-level module or script, where relative imports cannot resolve)."""
    level, module, names = ref
    if level:
        if not package:
            return []
        parts = package.split(".")
        if level - 1 >= len(parts):
            return []
        base = ".".join(parts[:len(parts) - (level - 1)])
        module = f"{base}.{module}" if module else base
    if not module:
        return []
    parts = module.split(".")
    out = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out.extend(f"{module}.{name}" for name in names)
    return out

"""Names a package exports but imports only on first use (PEP 562), in one place.

A package whose names pull in heavy modules (the executor, the kubernetes client, the task
runner) declares `{name: module}` and gets the module-level `__getattr__` and `__dir__` that
import a name's module when the name is first asked for and keep the value, so importing the
package stays cheap and `dir()` still lists everything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str], namespace: dict[str, Any]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`: `names` maps each lazy name to the module that
    defines it (absolute, or relative to `package` when it starts with a dot);
    `namespace` is the package's `globals()`, where each value is kept once imported."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = importlib.import_module(module, package if module.startswith(".") else None)
        value = getattr(target, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__

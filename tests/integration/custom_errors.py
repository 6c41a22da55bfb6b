"""An exception type of the user's own, for tests that check a remote exception comes back
as itself. It lives in a module of its own that imports nothing of the test tree, so the
module shipped to workers with `raise_custom` loads there whatever the workers' `sys.path`
(a whole test module would drag in `tests.servers`, which workers need not find)."""

from __future__ import annotations


class Custom(Exception):
    """An exception type the client knows: it must come back as itself."""


def raise_custom(message: str) -> None:
    raise Custom(message)


__all__ = ["Custom", "raise_custom"]

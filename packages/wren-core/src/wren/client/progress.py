"""A progress bar while waiting, shown only to a person: in a terminal or a notebook, never
when output is redirected or when running inside a worker."""

from __future__ import annotations

import sys
from typing import Any

from wren.context import in_worker


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = getattr(shell, "get_ipython", lambda: None)()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def wants_progress(enabled: bool) -> bool:
    if not enabled or in_worker():
        return False
    return _in_notebook() or bool(getattr(sys.stderr, "isatty", lambda: False)())


class ProgressBar:
    """A thin wrapper on tqdm that only moves forward."""

    def __init__(self, total: int, description: str) -> None:
        if _in_notebook():
            from tqdm.auto import tqdm  # widgets when available, text otherwise
        else:
            from tqdm import tqdm
        self._bar: Any = tqdm(total=total, desc=description, unit="call", leave=True,
                              dynamic_ncols=True)
        self._shown = 0

    def update(self, done: int) -> None:
        if done > self._shown:
            self._bar.update(done - self._shown)
            self._shown = done

    def close(self) -> None:
        self._bar.close()

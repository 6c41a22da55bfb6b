"""What a worker runs for a `wren.concurrent.futures` executor: the user's call, unpacked.

Submitted calls travel through an ordinary wren job; this module's small callables are the
job's function. `ArgsCall` gets each call's positional and keyword arguments as two values,
`ValueCall` a single plain value (the fast path of `map` over one iterable), `ValuesCall` and
`ChunkCall` a chunk of values or of argument tuples (`map` with a `chunksize`). Both run the
executor's `initializer` once per worker process before the first call, as the standard
library does; an initializer that raises fails the call with `InitializerFailed`, which
breaks the executor on the client. The module is imported on workers, so it stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor
from typing import Any

#: Tokens of the executors whose initializer already ran in this (worker) process.
_initialized: set[str] = set()


class InitializerFailed(BrokenExecutor):
    """The executor's `initializer` raised on a worker; the executor is broken."""


class _Call:
    """The user's function with the executor's initializer (pickled once per job)."""

    __slots__ = ("fn", "initargs", "initializer", "token")

    def __init__(self, fn: Callable[..., Any], initializer: Callable[..., Any] | None = None,
                 initargs: tuple[Any, ...] = (), token: str = "") -> None:
        self.fn, self.initializer, self.initargs, self.token = fn, initializer, initargs, token

    def __getstate__(self) -> tuple[Any, ...]:
        return self.fn, self.initializer, self.initargs, self.token

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.fn, self.initializer, self.initargs, self.token = state

    def _initialize(self) -> None:
        if self.initializer is None or self.token in _initialized:
            return
        try:
            self.initializer(*self.initargs)
        except BaseException as exc:
            raise InitializerFailed(
                f"the executor's initializer {self.initializer!r} raised "
                f"{type(exc).__name__}: {exc}") from exc
        _initialized.add(self.token)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # each kind of call unpacks its payload its own way

    def __repr__(self) -> str:  # error messages name the user's function
        return str(getattr(self.fn, "__qualname__", None) or repr(self.fn))


class ArgsCall(_Call):
    """Runs `fn(*args, **kwargs)` for one call."""

    __slots__ = ()

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._initialize()
        return self.fn(*args, **kwargs)


class ValueCall(_Call):
    """Runs `fn(value)` for one call."""

    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        self._initialize()
        return self.fn(value)


class ValuesCall(_Call):
    """Runs `fn(value)` for each value of a chunk (a `map` over one iterable with
    `chunksize` > 1): a chunk of values, or of a range a range, pickles in a fraction of the
    time its argument tuples would; returns the list of results."""

    __slots__ = ()

    def __call__(self, chunk: Sequence[Any]) -> list[Any]:
        self._initialize()
        return list(map(self.fn, chunk))


class ChunkCall(_Call):
    """Runs `fn(*args)` for each argument tuple of a chunk (a `map` with `chunksize` > 1,
    as the standard library's pools do); returns the list of results."""

    __slots__ = ()

    def __call__(self, chunk: list[tuple[Any, ...]]) -> list[Any]:
        self._initialize()
        return [self.fn(*args) for args in chunk]

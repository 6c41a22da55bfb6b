"""Bind each `iterdata` item to the function's parameters, as PyWren and Lithops do.

A plain value goes to the first parameter, a tuple or list to the positional parameters in
order, a dict to parameters by name; `extra_params` (a dict, or a tuple appended positionally)
is added to every call. The reserved names `id` (the call index), `storage` and `obj` (filled
in by the worker) are skipped when binding by position. Every distinct shape of item is
checked against the signature once, before anything is invoked, so a mismatch is a clear
error on the client rather than a failure in every worker.

When every item is a plain value and there are no extra parameters, the items travel as they
are and the worker passes each as the first argument (`CallMode.VALUE`), or by name when
reserved parameters come first (`CallMode.NAMED_VALUE`): no per-call dict is ever built.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from wren._errors import InvalidInputError
from wren.protocol.binding import CallBinding, CallMode

RESERVED_PARAMETERS = ("id", "storage", "obj")
#: Parameters the worker fills in; the client only checks they exist.
WORKER_INJECTED = ("storage", "obj")
_COMPOSITE = (tuple, list)


@attrs.frozen
class BoundCalls:
    """The payload of every call, and how the worker turns one into a call."""

    payloads: list[Any]
    binding: CallBinding

    @property
    def injected(self) -> tuple[str, ...]:
        return self.binding.inject


def takes_obj(func: Callable[..., Any]) -> bool:
    """True when `func` has a parameter named `obj` (a data-processing function)."""
    try:
        return "obj" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


class ArgumentBinder:
    """Turns items into call payloads for one function."""

    def __init__(self, func: Callable[..., Any], extra_params: Any = None) -> None:
        self.func = func
        self.name = getattr(func, "__qualname__", None) or repr(func)
        try:
            self.signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            self.signature = None
        params = list(self.signature.parameters.values()) if self.signature else []
        self.positional = [p.name for p in params
                           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                           and p.name not in RESERVED_PARAMETERS]
        self._kinds = {p.name: p.kind for p in params}
        self.wants_id = "id" in self._kinds
        self.injected = tuple(n for n in WORKER_INJECTED if n in self._kinds)
        if extra_params is not None and not isinstance(extra_params, (Mapping, tuple, list)):
            raise InvalidInputError("extra_params must be a dict (added by name) or a tuple "
                                    f"(added by position), got {type(extra_params).__name__}")
        self.extra = extra_params
        self._checked: set[Any] = set()

    def _describe(self) -> str:
        return f"{self.name}{self.signature}" if self.signature else self.name

    def bind_all(self, items: Iterable[Any]) -> BoundCalls:
        """Payloads for every item, with the plain-value fast path where it applies."""
        items = items if isinstance(items, list) else list(items)
        kinds = {type(item) for item in items}
        plain = not any(issubclass(k, _COMPOSITE) or issubclass(k, Mapping) for k in kinds)
        if plain and self.extra is None and items and (self.positional or self.signature
                                                       is None):
            param = None
            if self.positional:
                target = self.positional[0]
                first = next(iter(self.signature.parameters)) if self.signature else None
                if first != target:  # reserved parameters come first: bind by name
                    param = target
                trial = {target: items[0]} if param is not None else {}
                self._check((items[0],) if param is None else (), trial, items[0], 0,
                            with_id=True)
            mode = CallMode.VALUE if param is None else CallMode.NAMED_VALUE
            return BoundCalls(items, CallBinding(mode, param, self.wants_id, self.injected))
        payloads = []
        for index, item in enumerate(items):
            args, kwargs = self.bind(item, index)
            payloads.append(kwargs if not args else (args, kwargs))
        return BoundCalls(payloads, CallBinding(CallMode.ARGS, None, False, self.injected))

    def bind(self, item: Any, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """`(args, kwargs)` for one item (ids included)."""
        if isinstance(item, Mapping):
            args: tuple[Any, ...] = ()
            kwargs = dict(item)
            shape: Any = ("d", frozenset(kwargs))
        elif isinstance(item, _COMPOSITE):
            args, kwargs, shape = tuple(item), {}, ("t", len(item))
        else:
            args, kwargs, shape = (item,), {}, "v"
        if isinstance(self.extra, Mapping):
            clash = sorted(set(self.extra) & set(kwargs))
            if clash:
                raise InvalidInputError(
                    f"iterdata item {index} gives parameter {clash[0]!r} twice (in the item and "
                    f"in extra_params) for {self._describe()}")
            kwargs.update(self.extra)
        elif self.extra:
            args = args + tuple(self.extra)
        if args and len(args) <= len(self.positional):
            for name, value in zip(self.positional, args):
                if name in kwargs:
                    raise InvalidInputError(
                        f"iterdata item {index} gives parameter {name!r} twice (by position "
                        f"and by name) for {self._describe()}")
                kwargs[name] = value
            args = ()
        if self.wants_id:
            kwargs.setdefault("id", index)
        if shape not in self._checked:
            self._check(args, kwargs, item, index)
            self._checked.add(shape)
        return args, kwargs

    def _check(self, args: tuple[Any, ...], kwargs: dict[str, Any], item: Any,
               index: int, with_id: bool = False) -> None:
        if self.signature is None:
            return
        trial = dict(kwargs)
        for name in self.injected:
            trial.setdefault(name, None)
        if with_id and self.wants_id:
            trial.setdefault("id", index)
        try:
            self.signature.bind(*args, **trial)
        except TypeError as exc:
            raise InvalidInputError(
                f"iterdata item {index} ({item!r:.80}) does not fit {self._describe()}: {exc}. "
                "A plain value binds to the first parameter, a tuple to the positional "
                "parameters, a dict to parameters by name") from None

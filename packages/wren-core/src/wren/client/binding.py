"""Bind each `iterdata` item to the function's parameters, as PyWren and Lithops do.

A tuple is spread over the positional parameters in order, a dict binds by name (its entry
named like a `*args` parameter gives the extra positionals, its entry named like a
`**kwargs` parameter a dict of extra keywords, as in Lithops), and any other value, a list
included, goes to the first parameter as one value (as in Python's `map`). `extra_params` (a
dict, or a tuple appended positionally) is added to every call. The reserved names `id` (the
call index), `storage` and, in a data-processing map, `obj` (filled in by the worker) are
skipped when binding by position. Every distinct shape of item is checked against the
signature once, before anything is invoked, so a mismatch is a clear error on the client
rather than a failure in every worker.

When every item is a plain value and there are no extra parameters, the items travel as they
are and the worker passes each as the first argument (`CallMode.VALUE`), or by name when
reserved parameters come first (`CallMode.NAMED_VALUE`): no per-call dict is ever built.
"""

from __future__ import annotations

import functools
import inspect
import operator
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from wren._errors import InvalidInputError
from wren.protocol.binding import CallBinding, CallMode

RESERVED_PARAMETERS = ("id", "storage", "obj")
#: Parameters the worker fills in; the client only checks they exist.
WORKER_INJECTED = ("storage", "obj")


@attrs.frozen
class BoundCalls:
    """The payload of every call, and how the worker turns one into a call."""

    payloads: list[Any]
    binding: CallBinding

    @property
    def injected(self) -> tuple[str, ...]:
        return self.binding.inject


@functools.lru_cache(maxsize=256)
def _builtin_signature(func: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(func)


#: Signatures of Python functions, by function, with what they were worked out from.
_function_signatures: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], inspect.Signature]
                                                ] = weakref.WeakKeyDictionary()


def signature_of(func: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature(func)`, kept for a module-level builtin (working it out parses
    its text signature), for a plain Python function while its code and defaults stay the
    same, and for the instances of a plain class by their class's `__call__` (what
    `wren.multiprocessing` and `wren.concurrent.futures` make for every job): every job asks
    twice, and each costs some tens of microseconds."""
    if isinstance(func, types.BuiltinFunctionType) and isinstance(
            getattr(func, "__self__", None), (types.ModuleType, type(None))):
        return _builtin_signature(func)
    if hasattr(func, "__signature__") or hasattr(func, "__wrapped__"):
        return inspect.signature(func)
    owner: Any
    if type(func) is types.FunctionType:
        owner, code_of = func, func
    else:
        call = type(func).__dict__.get("__call__")  # its own: an inherited one is not kept
        if type(call) is not types.FunctionType or type(type(func)) is not type or \
                hasattr(call, "__wrapped__"):
            return inspect.signature(func)
        owner, code_of = type(func), call  # every instance has the signature of its class
    made_from = (code_of.__code__, code_of.__defaults__, code_of.__kwdefaults__)
    known = _function_signatures.get(owner)
    if known is not None and all(map(operator.is_, known[0], made_from)):
        return known[1]
    signature = inspect.signature(func)
    _function_signatures[owner] = (made_from, signature)
    return signature


def takes_obj(func: Callable[..., Any]) -> bool:
    """True when `func` has a parameter named `obj` that a worker can pass a chunk to by
    name (`len`'s positional-only `obj` is not one): it may process data."""
    try:
        param = signature_of(func).parameters.get("obj")
    except (TypeError, ValueError):
        return False
    return param is not None and param.kind in (param.POSITIONAL_OR_KEYWORD,
                                                param.KEYWORD_ONLY)


class ArgumentBinder:
    """Turns items into call payloads for one function."""

    def __init__(self, func: Callable[..., Any], extra_params: Any = None, *,
                 data_processing: bool = False) -> None:
        self.func = func
        self.name = getattr(func, "__qualname__", None) or repr(func)
        try:
            self.signature: inspect.Signature | None = signature_of(func)
        except (TypeError, ValueError):
            self.signature = None
        params = list(self.signature.parameters.values()) if self.signature else []
        reserved = RESERVED_PARAMETERS if data_processing else ("id", "storage")
        self.positional = [p.name for p in params
                           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                           and p.name not in reserved]
        self._by_position_only = {p.name for p in params if p.kind is p.POSITIONAL_ONLY}
        self._kinds = {p.name: p.kind for p in params}
        self._var_args = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
        self._var_kwargs = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
        self._defaults = {p.name: p.default for p in params if p.default is not p.empty}
        self.wants_id = "id" in self._kinds
        self.injected = tuple(n for n in WORKER_INJECTED if n in self._kinds
                              and (n != "obj" or data_processing))
        if extra_params is not None and not isinstance(extra_params, (Mapping, tuple, list)):
            raise InvalidInputError("extra_params must be a dict (added by name) or a tuple "
                                    f"(added by position), got {type(extra_params).__name__}")
        self.extra = extra_params
        self._checked: set[Any] = set()

    def _describe(self) -> str:
        return f"{self.name}{self.signature}" if self.signature else self.name

    def bind_all(self, items: Iterable[Any], kinds: set[type] | None = None) -> BoundCalls:
        """Payloads for every item, with the plain-value fast path where it applies (`kinds`:
        the distinct types of `items` when the caller has them)."""
        items = items if isinstance(items, list) else list(items)
        # tuples spread and dicts bind by name: any other item is one value (checked per
        # distinct type, not per item)
        if kinds is None:
            kinds = set(map(type, items))
        plain = not any(issubclass(kind, (tuple, Mapping)) for kind in kinds)
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
            args, kwargs = self._by_name(item, index)
            shape: Any = ("d", frozenset(item), len(args))
        elif isinstance(item, tuple):
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
        if args and len(args) <= len(self.positional) and not any(
                name in self._by_position_only for name in self.positional[:len(args)]):
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

    def _by_name(self, item: Mapping[Any, Any], index: int
                 ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """`(args, kwargs)` for a dict item: its `*args` entry becomes the positionals after
        the named positional parameters (which then go by position too), its `**kwargs`
        entry is merged into the keywords."""
        kwargs = dict(item)
        args: tuple[Any, ...] = ()
        if self._var_kwargs is not None and self._var_kwargs in kwargs:
            extra = kwargs.pop(self._var_kwargs)
            if not isinstance(extra, Mapping):
                raise InvalidInputError(
                    f"iterdata item {index} gives {self._var_kwargs!r} = {extra!r:.60}, but "
                    f"that entry fills **{self._var_kwargs} of {self._describe()} and must "
                    "be a dict of keyword arguments")
            clash = sorted(set(extra) & set(kwargs))
            if clash:
                raise InvalidInputError(f"iterdata item {index} gives parameter {clash[0]!r} "
                                        f"twice (directly and in {self._var_kwargs!r})")
            kwargs.update(extra)
        if self._var_args is not None and self._var_args in kwargs:
            rest = kwargs.pop(self._var_args)
            if isinstance(rest, (str, bytes, Mapping)) or not isinstance(rest, Iterable):
                raise InvalidInputError(
                    f"iterdata item {index} gives {self._var_args!r} = {rest!r:.60}, but that "
                    f"entry fills *{self._var_args} of {self._describe()} and must be a tuple "
                    "of positional arguments")
            head = []
            for name, kind in self._kinds.items():
                if kind is inspect.Parameter.VAR_POSITIONAL:
                    break
                if name in kwargs:
                    head.append(kwargs.pop(name))
                elif name in self._defaults:
                    head.append(self._defaults[name])
                else:  # missing: let the signature check name it
                    break
            args = (*head, *rest)
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

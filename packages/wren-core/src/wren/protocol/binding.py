"""How a worker turns one call's payload into a call of the user's function.

The client decides once per job (see `wren.client.binding`) and the task carries the result
as a `CallBinding`: `ARGS` payloads are a dict of keyword arguments or an `(args, kwargs)`
pair; `VALUE` payloads are passed as the first positional argument; `NAMED_VALUE` payloads
are passed by the name `param`. `inject_id` adds the call index as `id`, and `inject` names
the parameters the worker fills in itself (`storage`: a storage client; `obj`: the chunk of
an object a data-processing call reads).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from wren.protocol.version import MalformedDocumentError

#: Parameters a worker can fill in itself.
INJECTABLE = ("obj", "storage")


class CallMode(enum.Enum):
    """What one call's payload is."""

    ARGS = "args"
    VALUE = "value"
    NAMED_VALUE = "named"


def _check_inject(instance: Any, attribute: Any, value: tuple[str, ...]) -> None:
    unknown = [name for name in value if name not in INJECTABLE]
    if unknown:
        raise MalformedDocumentError(f"a task asks the worker to inject {unknown}; only "
                                     f"{list(INJECTABLE)} can be injected")


@attrs.frozen
class CallBinding:
    """The call shape shared by every call of a job."""

    mode: CallMode = CallMode.ARGS
    param: str | None = None
    inject_id: bool = False
    inject: tuple[str, ...] = attrs.field(default=(), validator=_check_inject)

    def __attrs_post_init__(self) -> None:
        if (self.mode is CallMode.NAMED_VALUE) != (self.param is not None):
            raise MalformedDocumentError(
                f"a {self.mode.value!r} call binding {'needs' if self.param is None else 'takes no'}"
                " parameter name")

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "param": self.param, "inject_id": self.inject_id,
                "inject": list(self.inject)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallBinding:
        try:
            return cls(CallMode(data["mode"]), data.get("param"), bool(data.get("inject_id")),
                       tuple(data.get("inject") or ()))
        except (KeyError, ValueError, TypeError) as exc:
            raise MalformedDocumentError(f"malformed call binding {dict(data)!r}: {exc}") from None

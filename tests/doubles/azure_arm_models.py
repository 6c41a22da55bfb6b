"""Checks an ARM request body against the `azure-mgmt-appcontainers` models installed, for the
ARM double (tests/doubles/azure_arm.py): the SDK's models are the published REST schema of
Microsoft.App (generated from the service's API specification), so a body they cannot
represent is one ARM would refuse.

Two generations of the SDK are handled, so the double is as strict at the oldest version the
package allows as at the newest: msrest models (3.x, 4.x: `_attribute_map`, properties
flattened) are deserialized and serialized back, and any member lost on the way was unknown;
the TypeSpec models of 5.x (`_attr_to_rest_field`) are walked field by field with their type
hints. Unknown members, values of the wrong JSON type and missing required members raise
`InvalidContent` with the path, which the double answers as ARM does: 400
`InvalidRequestContent`.
"""

from __future__ import annotations

import sys
import typing
from typing import Any


class InvalidContent(Exception):
    """The body does not fit the model: `path` names the member."""

    def __init__(self, path: str, problem: str, model: str) -> None:
        super().__init__(f"{problem}. Path '{path}'")
        self.path, self.problem, self.model = path, problem, model


def check_body(model_name: str, body: Any) -> None:
    """Raise `InvalidContent` unless `body` is a valid `model_name` (e.g. `ContainerApp`)."""
    from azure.mgmt.appcontainers import models

    cls = getattr(models, model_name)
    if not isinstance(body, dict):
        raise InvalidContent("", f"Expected an object of type '{model_name}'", model_name)
    if hasattr(cls, "_attribute_map"):
        _check_msrest(cls, body)
    else:
        _walk(cls, body, "")


# msrest models (azure-mgmt-appcontainers 3.x and 4.x) ---------------------------------------
def _check_msrest(cls: type, body: dict[str, Any]) -> None:
    try:
        model = cls.deserialize(body)  # type: ignore[attr-defined]
    except Exception as exc:  # DeserializationError: a value of the wrong type
        raise InvalidContent("", f"Could not convert a value: {exc}", cls.__name__) from None
    for attr, rules in getattr(cls, "_validation", {}).items():
        if rules.get("required") and getattr(model, attr, None) is None:
            rest = cls._attribute_map[attr]["key"]  # type: ignore[attr-defined]
            raise InvalidContent(rest, f"Required property '{rest}' not found in JSON",
                                 cls.__name__)
    _compare(body, model.serialize(keep_readonly=True), "", cls.__name__)


def _compare(given: Any, kept: Any, path: str, model: str) -> None:
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            where = f"{path}.{key}" if path else key
            if key not in kept:
                if value is None:
                    continue
                raise InvalidContent(where, f"Could not find member '{key}' on object of "
                                            f"type '{model}'", model)
            _compare(value, kept[key], where, model)
    elif isinstance(given, list) and isinstance(kept, list):
        for index, (item, out) in enumerate(zip(given, kept)):
            _compare(item, out, f"{path}[{index}]", model)


# TypeSpec models (azure-mgmt-appcontainers 5.x) -------------------------------------------
def _hints(cls: type) -> dict[str, Any]:
    from azure.mgmt.appcontainers import models

    names = {**vars(sys.modules[cls.__module__]), "_models": models}
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("azure.mgmt.appcontainers"):
            hints.update(typing.get_type_hints(klass, globalns=names))
    return hints


def _walk(cls: type, data: dict[str, Any], path: str) -> None:
    fields = getattr(cls, "_attr_to_rest_field", {})
    by_rest = {field._rest_name: attr for attr, field in fields.items()}
    hints = _hints(cls)
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        attr = by_rest.get(key)
        if attr is None:
            raise InvalidContent(where, f"Could not find member '{key}' on object of type "
                                        f"'{cls.__name__}'", cls.__name__)
        _check_value(hints.get(attr, Any), value, where, cls.__name__)
    if not path:  # the resource itself: members its model requires
        for attr, field in fields.items():
            hint = hints.get(attr, Any)
            optional = type(None) in typing.get_args(hint)
            if not optional and "create" in (field._visibility or ()) \
                    and field._rest_name not in data:
                raise InvalidContent(field._rest_name, f"Required property "
                                     f"'{field._rest_name}' not found in JSON", cls.__name__)


def _check_value(hint: Any, value: Any, path: str, model: str) -> None:
    from azure.mgmt.appcontainers._utils.model_base import Model

    if value is None or hint is Any:
        return
    if hint is type(None):
        raise InvalidContent(path, f"Error converting value {value!r}: expected null", model)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        errors = []
        for arg in args:
            try:
                _check_value(arg, value, path, model)
                return
            except InvalidContent as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        return
    if origin is list:
        _expect(isinstance(value, list), "an array", value, path, model)
        for index, item in enumerate(value):
            _check_value(args[0] if args else Any, item, f"{path}[{index}]", model)
        return
    if origin is dict:
        _expect(isinstance(value, dict), "an object", value, path, model)
        for key, item in value.items():
            _check_value(args[1] if len(args) > 1 else Any, item, f"{path}.{key}", model)
        return
    if isinstance(hint, type) and issubclass(hint, Model):
        _expect(isinstance(value, dict), f"an object of type '{hint.__name__}'", value, path,
                model)
        _walk(hint, value, path)
        return
    if hint is bool:
        _expect(isinstance(value, bool), "a boolean", value, path, model)
    elif hint is int:
        _expect(isinstance(value, int) and not isinstance(value, bool), "an integer", value,
                path, model)
    elif hint is float:
        _expect(isinstance(value, (int, float)) and not isinstance(value, bool), "a number",
                value, path, model)
    elif isinstance(hint, type) and issubclass(hint, str):
        _expect(isinstance(value, str), "a string", value, path, model)


def _expect(ok: bool, what: str, value: Any, path: str, model: str) -> None:
    if not ok:
        raise InvalidContent(path, f"Error converting value {value!r}: expected {what}", model)

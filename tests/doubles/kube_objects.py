"""The object store behind the Kubernetes API test double (see `tests.doubles.kube_api`).

It keeps resources the way the real API server does, as far as wren's adapters can tell:
every object gets `uid`, `resourceVersion`, `creationTimestamp` and `generation` (bumped only
when `spec` changes), names are validated, a stale `resourceVersion` on update is a conflict,
list takes label selectors (equality and set-based), merge patches follow RFC 7386, Secrets
turn `stringData` into base64 `data`, and every failure is an `ApiError` that renders as a
Kubernetes `Status` body. Watchers are told about each change, status writes included (the
Knative reconciler, the Job controller and `?watch=true` requests are watchers), and `schema`,
when set, checks every object written against the Kubernetes schema of its kind.
"""

from __future__ import annotations

import base64
import copy
import itertools
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs

DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ApiError(Exception):
    """A failure the API answers with a `Status` body and an HTTP code."""

    def __init__(self, code: int, reason: str, message: str,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message,
                                "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


@attrs.frozen
class Kind:
    """One resource type: where it lives in the API and how it is named."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    dns1035_names: bool = False
    #: `status` is a subresource: writes to the object itself leave it alone.
    has_status: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def not_found(self, name: str) -> ApiError:
        return ApiError(404, "NotFound", f'{self.qualified} "{name}" not found',
                        {"name": name, "group": self.group, "kind": self.plural})


def _selector_terms(text: str) -> list[tuple[str, str, set[str]]]:
    """Parse a label selector into (key, operator, values) terms."""
    terms: list[tuple[str, str, set[str]]] = []
    for part in re.findall(r"[^,(]+(?:\([^)]*\))?", text or ""):
        part = part.strip().lstrip(",").strip()
        if not part:
            continue
        found = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if found:
            values = {v.strip() for v in found.group(3).split(",") if v.strip()}
            terms.append((found.group(1), found.group(2), values))
        elif "!=" in part:
            key, value = part.split("!=", 1)
            terms.append((key.strip(), "!=", {value.strip()}))
        elif "=" in part:
            key, value = part.replace("==", "=").split("=", 1)
            terms.append((key.strip(), "=", {value.strip()}))
        elif part.startswith("!"):
            terms.append((part[1:].strip(), "!exists", set()))
        elif re.fullmatch(r"[\w./-]+", part):
            terms.append((part, "exists", set()))
        else:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {part!r}")
    return terms


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for key, operator, values in _selector_terms(selector):
        present = key in labels
        value = labels.get(key)
        if operator in ("=", "in") and (not present or value not in values):
            return False
        if operator in ("!=", "notin") and present and value in values:
            return False
        if operator == "exists" and not present:
            return False
        if operator == "!exists" and present:
            return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


Watcher = Callable[[str, Kind, dict[str, Any]], None]
#: An admission webhook: raises `ApiError` (422) for an object it rejects.
Validator = Callable[[dict[str, Any]], None]


class ObjectStore:
    """Every object of the double, keyed by kind, namespace and name; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._versions = itertools.count(1000)
        self.watchers: list[Watcher] = []
        self.validators: dict[str, Validator] = {}
        #: Validates every object written against the Kubernetes schema of its kind.
        self.schema: Validator | None = None

    def _key(self, kind: Kind, namespace: str, name: str) -> tuple[str, str, str]:
        return (kind.qualified, namespace if kind.namespaced else "", name)

    def _check_name(self, kind: Kind, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise ApiError(422, "Invalid", f"{kind.kind}.{kind.group or 'core'} is invalid: "
                           "metadata.name: Required value: name or generateName is required")
        pattern, limit = (DNS1035, 63) if kind.dns1035_names else (DNS1123_SUBDOMAIN, 253)
        if len(name) > limit or not pattern.match(name):
            rule = "a lowercase RFC 1035 label" if kind.dns1035_names \
                else "a lowercase RFC 1123 subdomain"
            raise ApiError(422, "Invalid", f'{kind.kind}.{kind.group or "core"} "{name}" is '
                           f"invalid: metadata.name: Invalid value: {name!r}: must be {rule} "
                           f"of at most {limit} characters",
                           {"name": name, "group": kind.group, "kind": kind.kind})
        return name

    def _normalise(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        if kind.kind == "Secret":
            data = dict(body.get("data") or {})
            for key, value in (body.pop("stringData", None) or {}).items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            for key, value in data.items():
                try:
                    base64.b64decode(value, validate=True)
                except Exception:
                    raise ApiError(400, "BadRequest", f"Secret data[{key}] is not valid base64"
                                   ) from None
            body["data"] = data
            body.setdefault("type", "Opaque")
        body["apiVersion"], body["kind"] = kind.api_version, kind.kind
        if self.schema is not None:
            self.schema(body)
        validator = self.validators.get(kind.qualified)
        if validator is not None:
            validator(body)
        return body

    def _notify(self, event: str, kind: Kind, obj: dict[str, Any]) -> None:
        for watcher in list(self.watchers):
            watcher(event, kind, copy.deepcopy(obj))

    def create(self, kind: Kind, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        meta = body.setdefault("metadata", {})
        name = self._check_name(kind, meta.get("name"))
        if kind.namespaced and meta.get("namespace", namespace) != namespace:
            raise ApiError(400, "BadRequest", "the namespace of the provided object does not "
                           "match the namespace sent on the request")
        with self._lock:
            key = self._key(kind, namespace, name)
            if key in self._objects:
                raise ApiError(409, "AlreadyExists", f'{kind.qualified} "{name}" already exists',
                               {"name": name, "group": kind.group, "kind": kind.plural})
            meta.update(uid=str(uuid.uuid4()), resourceVersion=str(next(self._versions)),
                        generation=1, creationTimestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                      time.gmtime()))
            if kind.namespaced:
                meta["namespace"] = namespace
            if kind.has_status:
                body.pop("status", None)
            obj = self._normalise(kind, body)
            self._objects[key] = obj
            result = copy.deepcopy(obj)
        self._notify("ADDED", kind, result)
        return result

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            found = self._objects.get(self._key(kind, namespace, name))
            if found is None:
                raise kind.not_found(name)
            return copy.deepcopy(found)

    def list(self, kind: Kind, namespace: str | None, selector: str = "") -> dict[str, Any]:
        with self._lock:
            items = [copy.deepcopy(obj) for (qualified, ns, _), obj in sorted(
                self._objects.items()) if qualified == kind.qualified
                and (namespace is None or ns == namespace or not kind.namespaced)
                and selector_matches(selector, obj["metadata"].get("labels") or {})]
            version = str(next(self._versions))
        return {"apiVersion": kind.api_version, "kind": f"{kind.kind}List",
                "metadata": {"resourceVersion": version}, "items": items}

    def replace(self, kind: Kind, namespace: str, name: str, body: dict[str, Any]
                ) -> dict[str, Any]:
        body = copy.deepcopy(body)
        meta = body.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise ApiError(400, "BadRequest", "the name of the object "
                           f"({meta.get('name')}) does not match the name on the URL ({name})")
        with self._lock:
            old = self._objects.get(self._key(kind, namespace, name))
            if old is None:
                raise kind.not_found(name)
            sent = meta.get("resourceVersion")
            if sent and sent != old["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on '
                               f'{kind.qualified} "{name}": the object has been modified; '
                               "please apply your changes to the latest version and try again",
                               {"name": name, "group": kind.group, "kind": kind.plural})
            kept = {k: old["metadata"][k] for k in ("uid", "creationTimestamp", "generation",
                                                    "namespace") if k in old["metadata"]}
            meta.update(kept, name=name, resourceVersion=str(next(self._versions)))
            if body.get("spec") != old.get("spec"):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
            if kind.has_status:
                body.pop("status", None)
                if "status" in old:
                    body["status"] = old["status"]
            obj = self._normalise(kind, body)
            self._objects[self._key(kind, namespace, name)] = obj
            result = copy.deepcopy(obj)
        self._notify("MODIFIED", kind, result)
        return result

    def patch(self, kind: Kind, namespace: str, name: str, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise ApiError(400, "BadRequest", "a merge patch must be a JSON object")
        with self._lock:
            current = self.get(kind, namespace, name)
            merged = merge_patch(current, patch)
            merged["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return self.replace(kind, namespace, name, merged)

    def set_status(self, kind: Kind, namespace: str, name: str, status: dict[str, Any],
                   generation: int | None = None) -> bool:
        """What a controller does: write `status` (only if the object is still at
        `generation`). False when the object is gone or has moved on."""
        with self._lock:
            obj = self._objects.get(self._key(kind, namespace, name))
            if obj is None or (generation is not None and
                               obj["metadata"].get("generation") != generation):
                return False
            obj["status"] = status
            obj["metadata"]["resourceVersion"] = str(next(self._versions))
            result = copy.deepcopy(obj)
        self._notify("MODIFIED", kind, result)
        return True

    def delete(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        with self._lock:
            obj = self._objects.pop(self._key(kind, namespace, name), None)
            if obj is None:
                raise kind.not_found(name)
        self._notify("DELETED", kind, obj)
        return obj


def container_env(store: ObjectStore, namespace: str, container: dict[str, Any]
                  ) -> dict[str, str]:
    """A container's env as the kubelet gives it: `value`s, and `secretKeyRef`s read from the
    namespace's Secrets (`LookupError` saying what is missing, as the kubelet reports it)."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = ((item.get("valueFrom") or {}).get("secretKeyRef")) or {}
        try:
            secret = store.get(Kind("", "v1", "secrets", "Secret"), namespace,
                               ref.get("name", ""))
        except ApiError:
            raise LookupError(f'secret "{ref.get("name")}" not found') from None
        data = secret.get("data") or {}
        if ref.get("key") not in data:
            raise LookupError(f"couldn't find key {ref.get('key')} in Secret "
                              f"{namespace}/{ref.get('name')}")
        env[item["name"]] = base64.b64decode(data[ref["key"]]).decode()
    return env

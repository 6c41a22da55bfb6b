"""Runtimes of `ibm_cf` / `openwhisk`: blackbox actions in a `wren_<digest>` package.

An action runs a container image (which supplies Python and the dependencies) with wren's
worker code attached (`wren_backend_ibmcf.bundle`). Its name encodes the image, the memory
and the wren version (`wren-ibmcf-python311-0.1.0_256MB_wren0.1.0`); annotations keep the
image, the code digest and the memory for `list`. Its default parameters carry the workers'
credentials (the worker reads them from the activation's arguments), so no invocation payload
ever does. Each set of credentials gets its own package, named by a short digest of them, so
clients with different storage never overwrite each other's parameters. `ensure` checks a
runtime once per process and (re)deploys it when it is missing or differs (image, code);
`info` reads the runtime's metadata by invoking it once, and caches it in memory and in
`wren.cache` (`~/.wren/cache/runtimes/<backend>/`, which `wren clean` empties). Inside an
action (the remote invoker) the manager uses the package it runs in and deploys nothing:
the client made sure the actions exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from wren import RuntimeMismatchError
from wren.__about__ import __version__ as wren_version
from wren.cache import RuntimeInfoCache
from wren.ports import RuntimeEntry, RuntimeInfo

from wren_backend_ibmcf.action import INFO_FIELD
from wren_backend_ibmcf.bundle import CodeBundle
from wren_backend_ibmcf.config import PACKAGE_PREFIX
from wren_backend_ibmcf.openwhisk_client import OpenWhiskClient, OpenWhiskError

logger = logging.getLogger("wren")

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_lock = threading.Lock()
_verified: dict[tuple[str, ...], str] = {}
_metadata = RuntimeInfoCache()


def action_name(image: str, memory: int) -> str:
    """The action that runs `image` with `memory` MB for this wren version."""
    slug = _UNSAFE.sub("-", image).strip("-.")
    return f"{slug}_{memory}MB_wren{_UNSAFE.sub('-', wren_version)}"


def package_name(parameters: Mapping[str, Any]) -> str:
    """The package whose actions carry these default parameters."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode())
    return f"{PACKAGE_PREFIX}{digest.hexdigest()[:12]}"


def running_package() -> str | None:
    """The package of the action this process serves, when it is a wren action."""
    name = os.environ.get("__OW_ACTION_NAME", "")  # /namespace/package/action
    parts = name.strip("/").split("/")
    return parts[1] if len(parts) == 3 and parts[1].startswith(PACKAGE_PREFIX) else None


def _pairs(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in sorted(values.items())]


def _unpairs(pairs: Any) -> dict[str, Any]:
    return {str(p.get("key")): p.get("value") for p in pairs or () if isinstance(p, Mapping)}


class RuntimeManager:
    """Deploys, checks, lists and deletes the actions of one namespace."""

    def __init__(self, client: OpenWhiskClient, backend: str, timeout_s: int,
                 parameters: Callable[[], dict[str, Any]],
                 bundle: Callable[[], CodeBundle]) -> None:
        self.client, self.backend, self.timeout_s = client, backend, timeout_s
        self.parameters, self.bundle = parameters, bundle
        #: Seconds a blocking invocation is retried while the namespace answers 429.
        self.throttle_wait = 120.0
        inside = running_package()
        self.managed = inside is None
        self.package = inside or package_name(parameters())
        self._deploy_lock = threading.Lock()

    def _key(self, action: str) -> tuple[str, ...]:
        client = self.client
        return (client.endpoint, client.auth.identity, client.namespace, self.package, action)

    def _fingerprint(self, image: str) -> str:
        return json.dumps([image, self.bundle().digest, self.parameters()], sort_keys=True,
                          default=str)

    # Deploying ----------------------------------------------------------------------------
    def deploy(self, image: str, memory: int, timeout_s: int | None = None) -> RuntimeEntry:
        """Create the package and the action (replacing an existing one)."""
        name = action_name(image, memory)
        bundle = self.bundle()
        self.client.call("PUT", f"{self.client.base}/packages/{self.package}",
                         f"creating package {self.package}", body={"publish": False},
                         params={"overwrite": "false"}, accept=(200, 409))
        body = {
            "exec": {"kind": "blackbox", "image": image, "binary": True, "main": "main",
                     "code": base64.b64encode(bundle.data).decode("ascii")},
            "limits": {"memory": memory, "timeout": int(timeout_s or self.timeout_s) * 1000,
                       "concurrency": 1},
            "parameters": _pairs(self.parameters()),
            "annotations": _pairs({"wren-image": image, "wren-version": wren_version,
                                   "wren-code": bundle.digest, "wren-memory": memory}),
        }
        self.client.call("PUT", self.client.action_url(self.package, name),
                         f"deploying runtime {image} ({memory} MB)", body=body,
                         params={"overwrite": "true"})
        with _lock:
            _verified[self._key(name)] = self._fingerprint(image)
        _metadata.forget(self.backend, self._cache_name(name))
        logger.info("deployed runtime %s (%d MB) as %s/%s", image, memory, self.package,
                    name)
        return RuntimeEntry(image, memory, wren_version, f"{self.package}/{name}")

    def ensure(self, image: str, memory: int) -> str:
        """The action name, after making sure it exists and matches this client."""
        name = action_name(image, memory)
        if not self.managed:
            return name
        key, wanted = self._key(name), self._fingerprint(image)
        if _verified.get(key) == wanted:
            return name
        with self._deploy_lock:
            if _verified.get(key) == wanted:
                return name
            url = self.client.action_url(self.package, name)
            status, action = self.client.call("GET", url, f"reading runtime {image}",
                                              params={"code": "false"}, accept=(200, 404))
            notes = _unpairs(action.get("annotations"))
            current = json.dumps([(action.get("exec") or {}).get("image"), notes.get("wren-code"),
                                  _unpairs(action.get("parameters"))], sort_keys=True,
                                 default=str)
            if status == 404 or current != wanted:
                self.deploy(image, memory)
            with _lock:
                _verified[key] = wanted
        return name

    def redeploy_missing(self, image: str, memory: int) -> None:
        """An invocation found no action: deploy it once, however many threads saw that."""
        if not self.managed:
            raise OpenWhiskError(404, f"runtime {image} ({memory} MB) is missing from package "
                                      f"{self.package}; the client deploys it")
        with _lock:
            _verified.pop(self._key(action_name(image, memory)), None)
        self.ensure(image, memory)

    # Listing and deleting -----------------------------------------------------------------
    def list(self) -> list[RuntimeEntry]:
        url = f"{self.client.base}/actions/{self.package}/"
        entries = []
        for action in self.client.list_entities(url, "listing runtimes") or []:
            notes = _unpairs(action.get("annotations"))
            if "wren-image" not in notes:
                continue
            memory = (action.get("limits") or {}).get("memory") or notes.get("wren-memory")
            entries.append(RuntimeEntry(str(notes["wren-image"]), int(memory) if memory
                                        else None, str(notes.get("wren-version", "")),
                                        f"{self.package}/{action.get('name')}"))
        return sorted(entries, key=lambda e: (e.name, e.memory or 0))

    def delete(self, image: str, memory: int | None = None) -> int:
        """Delete the image's action of `memory` MB, or all of its actions; return how many."""
        names = [e.worker_name.split("/", 1)[1] for e in self.list()
                 if e.name == image and (memory is None or e.memory == memory)]
        if memory is not None:
            names = sorted(set(names) | {action_name(image, memory)})
        deleted = 0
        for name in names:
            url = self.client.action_url(self.package, name)
            status, _ = self.client.call("DELETE", url, f"deleting runtime {image}",
                                         accept=(200, 404))
            deleted += status == 200
            with _lock:
                _verified.pop(self._key(name), None)
            _metadata.forget(self.backend, self._cache_name(name))
        if not self.list():  # the last one: the package and its credentials go too
            self.client.call("DELETE", f"{self.client.base}/packages/{self.package}",
                             f"deleting package {self.package}", accept=(200, 404, 409))
        return deleted

    # Metadata -----------------------------------------------------------------------------
    def _cache_name(self, action: str) -> str:
        endpoint, _, namespace, package, _ = self._key(action)
        identity = json.dumps([self.backend, endpoint, namespace, package, action,
                               self.bundle().digest])
        return hashlib.sha256(identity.encode()).hexdigest()[:32]

    def info(self, image: str, memory: int) -> RuntimeInfo:
        """What the runtime offers, read from the runtime itself once and then cached."""
        name = self.ensure(image, memory)
        return _metadata.get(self.backend, self._cache_name(name), lambda: RuntimeInfo.from_dict(
            self._read_from_runtime(image, name), image))

    def _read_from_runtime(self, image: str, name: str) -> dict[str, Any]:
        try:
            data = self.client.invoke_blocking(self.package, name, {INFO_FIELD: True},
                                               throttle_wait=self.throttle_wait)
        except OpenWhiskError as exc:
            if exc.status == 429:  # the namespace is busy: nothing is wrong with the runtime
                raise
            raise RuntimeMismatchError(
                f"runtime {image} cannot run wren workers: {exc}. Check that the image exists "
                f"and was built from wren-backend-ibmcf's runtime (wren runtime build {image} -b "
                f"{self.backend})") from exc
        return data

"""What every Redis-backed object of wren.multiprocessing has in common.

A `SharedObject` is a name (under the configured key prefix) and a `RedisAddress`; pickled
into a call it carries exactly those, never a password or a key. Everything it writes to
Redis that is a pickle is *sealed* with a key derived from the executor key for its name
(`wren.protocol.signing.derive_key`), and everything it reads is opened with
`open_sealed` before it is unpickled: someone who can write to Redis but cannot run code on
the client gets `TamperedDataError`, never code execution.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import uuid
from typing import Any

import cloudpickle

from wren._errors import ConfigError, WrenError
from wren.context import in_worker
from wren.multiprocessing import context
from wren.multiprocessing.redis_settings import (
    RedisAddress,
    address_from_config,
    delivered_password,
    section_of,
    worker_password,
)
from wren.protocol.signing import derive_key, open_sealed, seal

_lock = threading.Lock()
_clients: dict[tuple[int, RedisAddress], Any] = {}
_passwords: dict[RedisAddress, str | None] = {}
_client_address: list[RedisAddress] = []


def client_address() -> RedisAddress:
    """The Redis address of the client's `multiprocessing:` section (read once)."""
    with _lock:
        if _client_address:
            return _client_address[0]
    address, password = address_from_config(section_of(context.executor().config.sections))
    with _lock:
        _passwords[address] = password
        _client_address[:] = [address]
    return address


def connection(address: RedisAddress) -> Any:
    """A `redis.Redis` client for `address` in this process (one per process)."""
    key = (os.getpid(), address)
    with _lock:
        found = _clients.get(key)
    if found is not None:
        return found
    try:
        import redis
    except ImportError as exc:
        raise WrenError("wren.multiprocessing's shared state needs the redis package: "
                        "pip install 'wren-core[multiprocessing]'") from exc
    with _lock:
        password = _passwords.get(address)
    if password is None and not in_worker():  # an object made before `configure()`
        with contextlib.suppress(ConfigError):
            client_address()
        with _lock:
            password = _passwords.get(address)
    if password is None:  # a worker, or a client whose config names no password
        password = _delivered(address) or worker_password(address)
    client = redis.Redis(host=address.host, port=address.port, db=address.db,
                         username=address.username, password=password, ssl=address.ssl)
    with _lock:
        return _clients.setdefault(key, client)


def _delivered(address: RedisAddress) -> str | None:
    """The password the executor delivered to this worker with its storage secrets."""
    if not in_worker():
        return None
    from wren.context import current_storage
    from wren.worker.storage_access import services_of

    try:
        return delivered_password(address, services_of(current_storage()))
    except RuntimeError:
        return None


def forget_client_settings() -> None:
    """Drop the cached client address and connections (after `configure()`)."""
    with _lock:
        _client_address.clear()
        _passwords.clear()
        _clients.clear()


context.on_configure.append(forget_client_settings)


class SharedObject:
    """A named object in Redis; subclasses say what they store under `self.key(...)`."""

    kind = "object"

    def __init__(self, *, _name: str | None = None,
                 _address: RedisAddress | None = None) -> None:
        self._address = _address or client_address()
        self._name = _name or f"{self._address.key_prefix}:{self.kind}:{uuid.uuid4().hex}"
        self._signing_key: bytes | None = None

    # Pickling: the name and the public address, nothing else ------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"_name": self._name, "_address": self._address, **self._public_state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._signing_key = None
        if in_worker():  # derive now, while the call's key is at hand: the user's code may
            try:         # use the object from threads of its own
                self._key_for_sealing()
            except RuntimeError:
                pass

    def _public_state(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"<wren.multiprocessing {type(self).__name__} {self._name}>"

    # Redis --------------------------------------------------------------------------------
    @property
    def _redis(self) -> Any:
        return connection(self._address)

    def key(self, part: str = "") -> str:
        return f"{self._name}:{part}" if part else self._name

    def _touch(self, pipe: Any, *keys: str) -> None:
        for key in keys:
            pipe.expire(key, self._address.expire)

    def _keys(self) -> list[str]:
        """Every Redis key this object may use (deleted by `Manager.shutdown`)."""
        return [self.key()]

    def _delete(self) -> None:
        self._redis.delete(*self._keys())

    # Sealing ------------------------------------------------------------------------------
    def _key_for_sealing(self) -> bytes:
        if self._signing_key is None:
            self._signing_key = derive_key(context.executor_key(), self._name)
        return self._signing_key

    def _seal(self, value: Any, part: str) -> bytes:
        data = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return seal(self._key_for_sealing(), f"{self._name}:{part}", data)

    def _open(self, blob: bytes, part: str) -> Any:
        data = open_sealed(self._key_for_sealing(), f"{self._name}:{part}", blob,
                           name=f"{self.kind} {self._name!r} in Redis")
        return pickle.loads(data)

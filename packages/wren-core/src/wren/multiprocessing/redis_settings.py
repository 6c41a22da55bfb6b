"""The `multiprocessing:` config section: where the Redis server of the shared state is.

```yaml
multiprocessing:
  url: redis://:s3cret@redis.example.com:6379/0   # or host/port/db/username/password/ssl
```

Only the shared state (queues, `Pipe`, `Manager`, locks, semaphores, `Event`, `Value`,
`Array`) needs it; `Pool`, `Process` and `cpu_count` do not. `RedisAddress` is the public part
(host, port, db, user, TLS, key prefix) that a shared object carries when it is pickled into a
call; the password never does. A worker finds it, in order: among the service secrets
its executor handed the compute backend with the storage credentials (`SERVICES_KEY`,
the platform's own secret channel: `with_worker_services`), in the `WREN_REDIS_PASSWORD`
environment variable, or in the `multiprocessing:` section of its own config files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from wren._errors import ConfigError
from wren.config.schema import ConfigKey, ConfigSchema
from wren.worker.storage_access import SERVICES_KEY

SECTION = "multiprocessing"
#: Lithops' section for its multiprocessing Redis; read when `multiprocessing:` is absent.
LITHOPS_SECTION = "redis"
PASSWORD_ENV = "WREN_REDIS_PASSWORD"

MULTIPROCESSING_SCHEMA = ConfigSchema(SECTION, (
    ConfigKey("url", str, None, "redis://[user[:password]@]host[:port][/db] (rediss:// for "
              "TLS); the other keys override its parts", secret=True),
    ConfigKey("host", str, None, "Redis server host"),
    ConfigKey("port", int, None, "Redis server port (default 6379)", minimum=1),
    ConfigKey("db", int, None, "Redis database number (default 0)", minimum=0),
    ConfigKey("username", str, None, "Redis ACL user name"),
    ConfigKey("password", str, None, "Redis password (never sent to workers: they read "
              f"{PASSWORD_ENV} or their own config)", secret=True),
    ConfigKey("ssl", bool, None, "connect with TLS"),
    ConfigKey("key_prefix", str, "wren-mp", "prefix of every Redis key wren makes"),
    ConfigKey("expire", int, 86400, "seconds a shared object lives in Redis after its last "
              "write", minimum=1),
))

NO_REDIS_HELP = (
    "add a `multiprocessing:` section to your wren config naming a Redis server, e.g.\n"
    "  multiprocessing:\n    url: redis://localhost:6379/0\n"
    "(or pass config={'multiprocessing': {...}} to wren.multiprocessing.configure). Only "
    "the shared state (Queue, Pipe, Manager, Lock, Semaphore, Event, Value, Array) needs "
    "Redis; Pool and Process do not")


@attrs.frozen
class RedisAddress:
    """Where a shared object lives, without the password: safe to pickle into a call."""

    host: str
    port: int = 6379
    db: int = 0
    username: str | None = None
    ssl: bool = False
    key_prefix: str = "wren-mp"
    expire: int = 86400


def _parse(raw: Mapping[str, Any] | None) -> tuple[RedisAddress, str | None]:
    section = MULTIPROCESSING_SCHEMA.validate(raw)
    parts: dict[str, Any] = {}
    password = None
    if section["url"]:
        url = urlsplit(section["url"])
        if url.scheme not in ("redis", "rediss"):
            raise ConfigError(f"key 'url' in section {SECTION!r} must start with redis:// "
                              f"or rediss://, got scheme {url.scheme!r}")
        parts = {"host": url.hostname, "port": url.port or 6379, "ssl": url.scheme == "rediss",
                 "username": unquote(url.username) if url.username else None,
                 "db": int(url.path.strip("/") or 0)}
        password = unquote(url.password) if url.password else None
    for name in ("host", "port", "db", "username", "ssl"):
        if section[name] is not None:
            parts[name] = section[name]
    if not parts.get("host"):
        raise ConfigError(f"wren.multiprocessing has no Redis server to use: {NO_REDIS_HELP}")
    address = RedisAddress(key_prefix=section["key_prefix"], expire=section["expire"],
                           **{k: v for k, v in parts.items() if v is not None})
    return address, section["password"] or password


def section_of(sections: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The `multiprocessing:` section of a config, else the keys wren knows of a Lithops
    `redis:` section (Lithops passes that whole section to its Redis client)."""
    own = sections.get(SECTION)
    if own:
        return dict(own)
    lithops = sections.get(LITHOPS_SECTION)
    if isinstance(lithops, Mapping) and lithops:
        known = set(MULTIPROCESSING_SCHEMA.key_names())
        return {k: v for k, v in lithops.items() if k in known}
    return None


def address_from_config(raw: Mapping[str, Any] | None) -> tuple[RedisAddress, str | None]:
    """The address and password a `multiprocessing:` section names (ConfigError if none)."""
    if not raw:
        raise ConfigError(f"wren.multiprocessing has no Redis server to use: {NO_REDIS_HELP}")
    return _parse(raw)


def worker_password(address: RedisAddress) -> str | None:
    """The password for `address` in a process that did not read the client's config: the
    environment, then this process's own config files when they name the same server."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    from wren.config.loader import read_config_files

    try:
        raw, _ = read_config_files()
        mine, found = _parse(section_of(raw))
    except ConfigError:
        return None
    same = (mine.host, mine.port, mine.db) == (address.host, address.port, address.db)
    return found if same else None


def with_worker_services(private: Mapping[str, Any],
                         sections: Mapping[str, Any]) -> dict[str, Any]:
    """The private worker config `private` plus the Redis password of the config's
    `multiprocessing:` section, as a service secret (only when it names one)."""
    raw = section_of(sections)
    try:
        address, password = address_from_config(raw)
    except ConfigError:
        return dict(private)
    if not password:
        return dict(private)
    services = dict(private.get(SERVICES_KEY) or {})
    services[SECTION] = {"host": address.host, "port": address.port, "db": address.db,
                         "password": password}
    return {**private, SERVICES_KEY: services}


def delivered_password(address: RedisAddress, services: Mapping[str, Any]) -> str | None:
    """The password among a worker's service secrets, if they name `address`'s server."""
    found = services.get(SECTION)
    if not isinstance(found, Mapping):
        return None
    same = (found.get("host"), found.get("port"), found.get("db")) == (
        address.host, address.port, address.db)
    password = found.get("password")
    return str(password) if same and password else None

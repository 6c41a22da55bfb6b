"""The `multiprocessing:` config section: the Redis address it names, the password kept out
of that address, where a worker finds the password, and the error without a section."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from wren import ConfigError
from wren.multiprocessing.redis_settings import (
    PASSWORD_ENV,
    RedisAddress,
    address_from_config,
    worker_password,
)


def test_url_gives_the_address_and_the_password_apart() -> None:
    address, password = address_from_config(
        {"url": "rediss://user:p%40ss@redis.example.com:6380/3"})
    assert address == RedisAddress(host="redis.example.com", port=6380, db=3,
                                   username="user", ssl=True)
    assert password == "p@ss"
    assert b"p@ss" not in pickle.dumps(address)


def test_keys_override_the_url_and_defaults_apply() -> None:
    address, password = address_from_config(
        {"url": "redis://h:1/0", "port": 2, "db": 5, "password": "pw", "key_prefix": "x"})
    assert (address.host, address.port, address.db, address.key_prefix) == ("h", 2, 5, "x")
    assert password == "pw"
    address, password = address_from_config({"host": "only-host"})
    assert (address.port, address.db, address.ssl, password) == (6379, 0, False, None)


@pytest.mark.parametrize("section", [None, {}, {"port": 1}])
def test_no_server_names_the_section_to_add(section: dict[str, object] | None) -> None:
    with pytest.raises(ConfigError, match="multiprocessing:"):
        address_from_config(section)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'password'"):
        address_from_config({"host": "h", "passwd": "x"})
    with pytest.raises(ConfigError, match="redis://"):
        address_from_config({"url": "http://h:1"})


def test_worker_password_from_environment_then_own_config(
        monkeypatch: pytest.MonkeyPatch, home_dir: Path) -> None:
    address = RedisAddress(host="h", port=7)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert worker_password(address) is None
    (home_dir / ".wren").mkdir()
    (home_dir / ".wren" / "config").write_text(
        "multiprocessing:\n  url: redis://:from-file@h:7/0\n")
    assert worker_password(address) == "from-file"
    assert worker_password(RedisAddress(host="other", port=7)) is None  # another server
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert worker_password(address) == "from-env"


def test_a_lithops_redis_section_is_read_when_there_is_no_multiprocessing_section() -> None:
    from wren.multiprocessing.redis_settings import section_of

    lithops = {"redis": {"host": "h", "port": 7, "password": "pw", "socket_timeout": 3}}
    address, password = address_from_config(section_of(lithops))
    assert (address.host, address.port, password) == ("h", 7, "pw")
    both = {**lithops, "multiprocessing": {"host": "mine"}}
    assert address_from_config(section_of(both))[0].host == "mine"
    assert section_of({}) is None

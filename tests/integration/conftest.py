"""Fixtures shared by integration test modules. `redis_server` is defined here once, so
the session has ONE Redis whichever modules use it; `mp_redis` is the fixture of the
wren.multiprocessing shared-state tests: the shared executor
configured with the session's real Redis (password in the client's config only; workers get
it through the executor's secret channel to the worker pool, never in a payload)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wren.multiprocessing import context
from wren.multiprocessing.redis_settings import PASSWORD_ENV

from tests.servers.redis import RedisServer, redis_server  # noqa: F401


@pytest.fixture
def mp_redis(redis_server: RedisServer,  # noqa: F811
             monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    context.configure(config={"multiprocessing": redis_server.config})
    yield redis_server
    context.shutdown()
    context.configure()

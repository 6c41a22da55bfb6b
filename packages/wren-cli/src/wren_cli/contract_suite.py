"""The contract suites of `wren.testing.contract`, bound to the backends `wren verify` names.

`wren verify` runs this module with pytest. The compute and storage backend names come from
the environment (`WREN_VERIFY_BACKEND`, `WREN_VERIFY_STORAGE`), the configuration from the
usual files (and `WREN_CONFIG_FILE`). The storage suite writes under a random prefix of the
storage's default bucket and removes what it wrote; the worker-failure suite runs only on
backends that supervise their calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import wren
from wren.backends import open_storage
from wren.config import load_config
from wren.ports import StorageBackend, capabilities
from wren.testing.contract import ExecutorContract, StorageBackendContract, WorkerFailureContract

BACKEND_ENV = "WREN_VERIFY_BACKEND"
STORAGE_ENV = "WREN_VERIFY_STORAGE"


def _names() -> tuple[str | None, str | None]:
    return os.environ.get(BACKEND_ENV) or None, os.environ.get(STORAGE_ENV) or None


class TestStorage(StorageBackendContract):
    @pytest.fixture
    def storage(self) -> Iterator[StorageBackend]:
        backend, storage = _names()
        opened = open_storage(load_config(backend=backend, storage=storage))
        yield opened
        opened.close()

    @pytest.fixture
    def bucket(self, storage: StorageBackend) -> str:
        return storage.default_bucket


@pytest.fixture
def make_executor() -> Callable[..., wren.FunctionExecutor]:
    def make(**overrides: Any) -> wren.FunctionExecutor:
        backend, storage = _names()
        return wren.FunctionExecutor(backend=backend, storage=storage, **overrides)

    return make


class TestExecutor(ExecutorContract):
    pass


class TestWorkerFailures(WorkerFailureContract):
    @pytest.fixture(autouse=True)
    def _supervised(self, make_executor: Callable[..., wren.FunctionExecutor]) -> None:
        with make_executor() as fexec:
            if not fexec.compute.supports(capabilities.SUPERVISES_CALLS):
                pytest.skip(f"backend {fexec.backend!r} does not supervise its calls")

"""The storage contracts on the unit tests' in-memory backend, so it is known to be faithful."""

from __future__ import annotations

import pytest
from wren.testing import MemoryStorage
from wren.testing.contract import PartitionerContract, StorageApiContract, StorageBackendContract


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def bucket() -> str:
    return "contract"


class TestMemoryStorage(StorageBackendContract):
    pass


class TestMemoryStorageApi(StorageApiContract):
    pass


class TestMemoryPartitioner(PartitionerContract):
    pass

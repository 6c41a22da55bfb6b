"""The storage contracts on the unit tests' in-memory backend, so it is known to be faithful."""

from __future__ import annotations

import pytest
from wren.testing import MemoryStorage
from wren.testing.contract import PartitionerContract, StorageApiContract, StorageBackendContract


class MemoryBinding:
    """The storage suites' fixtures: a fresh in-memory storage and its bucket."""

    @pytest.fixture
    def storage(self) -> MemoryStorage:
        return MemoryStorage()

    @pytest.fixture
    def bucket(self) -> str:
        return "contract"


class TestMemoryStorage(MemoryBinding, StorageBackendContract):
    pass


class TestMemoryStorageApi(MemoryBinding, StorageApiContract):
    pass


class TestMemoryPartitioner(MemoryBinding, PartitionerContract):
    pass

"""The in-memory test storage keeps the same contract as real adapters."""

from __future__ import annotations

import pytest
from wren.testing import MemoryStorage
from wren.testing.contract import StorageBackendContract


class TestMemoryStorage(StorageBackendContract):
    @pytest.fixture
    def storage(self) -> MemoryStorage:
        return MemoryStorage()

    @pytest.fixture
    def bucket(self) -> str:
        return "memory-bucket"

"""Test support that ships with wren-core: the contract suites every adapter runs
(`wren.testing.contract`) and the plain functions they execute remotely
(`wren.testing.functions`). Install the extra `wren-core[testing]` for pytest."""

from wren.testing.memory import MemoryStorage

#: An executor key for tests that run workers directly (never use a fixed key elsewhere).
TEST_KEY = b"wren-test-key-0123456789abcdef!!"

__all__ = ["TEST_KEY", "MemoryStorage"]

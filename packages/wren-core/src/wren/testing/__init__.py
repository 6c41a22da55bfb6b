"""Test support that ships with wren-core: the contract suites every adapter runs
(`wren.testing.contract`) and the plain functions they execute remotely
(`wren.testing.functions`). Install the extra `wren-core[testing]` for pytest."""

from wren.testing.memory import MemoryStorage

__all__ = ["MemoryStorage"]

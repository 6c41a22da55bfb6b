"""The public names this part of wren-core exports: sorted, importable, and the ones the
docs promise (`wren.Storage`, `wren.CloudObject`, the contract mixins)."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["wren", "wren.dataproc", "wren.partition", "wren.storage_api", "wren.ports",
           "wren.testing.contract"]


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__, key=_isort_key)
    assert all(hasattr(module, attr) for attr in module.__all__)


def test_promised_names() -> None:
    import wren
    import wren.testing.contract as contract

    assert {"Storage", "CloudObject", "StorageNoSuchKeyError"} <= set(wren.__all__)
    assert {"StorageApiContract", "PartitionerContract", "DataProcessingContract"} <= set(
        contract.__all__)
    assert wren.Storage.from_backend.__self__ is wren.Storage

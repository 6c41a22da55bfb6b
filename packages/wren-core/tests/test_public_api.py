"""The public surface stays honest: every exported name exists, `__all__` is sorted, and each
distribution carries its version and `py.typed` marker."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PUBLIC_MODULES = ["wren", "wren.ports", "wren.protocol", "wren.config", "wren.serialize",
                  "wren.concurrent.futures", "wren.worker", "wren.testing.contract", "wren_backend_local", "wren_cli"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for attribute in exported:
        assert hasattr(module, attribute), f"{name}.{attribute} is exported but missing"


@pytest.mark.parametrize("package", ["wren", "wren_backend_local", "wren_cli"])
def test_each_package_has_version_and_py_typed(package: str) -> None:
    module = importlib.import_module(package)
    about = importlib.import_module(f"{package}.__about__")
    assert about.__version__.count(".") == 2
    assert (Path(module.__file__).parent / "py.typed").is_file()


def test_the_api_lithops_users_expect() -> None:
    import wren

    executor = wren.FunctionExecutor
    for verb in ("call_async", "map", "map_reduce", "wait", "get_result", "clean"):
        assert callable(getattr(executor, verb))
    # Lithops' numbers (lithops.wait: ALL_COMPLETED 100, ANY_COMPLETED -1, ALWAYS 0).
    assert (wren.ALL_COMPLETED, wren.ANY_COMPLETED, wren.ALWAYS) == (100, -1, 0)
    assert callable(wren.function_executor) and callable(wren.local_executor)


def test_importing_wren_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = ("import sys, wren; heavy = [m for m in ('yaml', 'tqdm', 'requests', 'matplotlib')"
            " if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"

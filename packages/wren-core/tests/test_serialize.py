"""Function blobs: deterministic, content-addressed, and carrying exactly the user's modules."""

from __future__ import annotations

import os
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from wren import SerializationError
from wren.serialize import CloudpickleSerializer, find_user_modules, pack_function
from wren.serialize.function_blob import split_blob, unpack_function
from wren.serialize.modules import is_user_module


@pytest.fixture
def user_modules(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "blobpkg").mkdir()
    (tmp_path / "blobpkg" / "__init__.py").write_text("from blobpkg.core import work\n")
    (tmp_path / "blobpkg" / "core.py").write_text(textwrap.dedent("""
        import blobhelper
        def work(x):
            return blobhelper.twice(x)
        def lazy(x):
            import blobonly_inside
            return blobonly_inside.VALUE + x
    """))
    (tmp_path / "blobhelper.py").write_text("def twice(x):\n    return 2 * x\n")
    (tmp_path / "blobonly_inside.py").write_text("VALUE = 40\n")
    (tmp_path / "blobunused.py").write_text("X = 1\n")
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("blob")]:
        del sys.modules[name]


def test_user_modules_are_found_through_globals_and_imports(user_modules: Path) -> None:
    import blobpkg

    found = find_user_modules(blobpkg.work)
    assert found == {"blobpkg": user_modules / "blobpkg" / "__init__.py",
                     "blobpkg.core": user_modules / "blobpkg" / "core.py",
                     "blobhelper": user_modules / "blobhelper.py",
                     "blobonly_inside": user_modules / "blobonly_inside.py"}


def test_include_and_exclude(user_modules: Path) -> None:
    import blobpkg

    assert find_user_modules(blobpkg.work, include=None) == {}
    assert set(find_user_modules(blobpkg.work, include=["blobhelper"])) == {"blobhelper"}
    assert set(find_user_modules(blobpkg.work, exclude=["blobhelper"])) == {
        "blobpkg", "blobpkg.core", "blobonly_inside"}


def test_stdlib_installed_and_wren_modules_are_not_shipped() -> None:
    for name in ("json", "os", "cloudpickle", "yaml", "wren", "wren_backend_local"):
        assert not is_user_module(name), name


def test_blob_is_deterministic_and_holds_the_sources(user_modules: Path) -> None:
    import blobpkg

    serializer = CloudpickleSerializer()
    first = pack_function(blobpkg.work, serializer)
    second = pack_function(blobpkg.work, serializer)
    assert first.digest == second.digest and first.data == second.data
    _, archive = split_blob(first.data)
    names = zipfile.ZipFile(BytesIO(archive)).namelist()
    assert {"blobpkg/__init__.py", "blobpkg/core.py", "blobhelper.py"} <= set(names)
    assert not any("__pycache__" in n for n in names)
    assert unpack_function(first.data, serializer)(4) == 8


def test_changed_source_changes_the_digest(user_modules: Path) -> None:
    import blobpkg

    before = pack_function(blobpkg.work, CloudpickleSerializer()).digest
    (user_modules / "blobhelper.py").write_text("def twice(x):\n    return x + x\n")
    assert pack_function(blobpkg.work, CloudpickleSerializer()).digest != before


def test_unpicklable_function_is_a_clear_error() -> None:
    import threading

    lock = threading.Lock()

    def holds_lock(x):
        with lock:
            return x

    with pytest.raises(SerializationError, match="holds_lock cannot be serialized"):
        pack_function(holds_lock, CloudpickleSerializer())
    with pytest.raises(SerializationError, match="expected a function"):
        pack_function(42, CloudpickleSerializer())  # type: ignore[arg-type]


def test_a_function_without_modules_is_packed_once_until_its_pickle_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wren.serialize import modules

    searches = []
    search = modules.find_user_modules
    monkeypatch.setattr(modules, "find_user_modules",
                        lambda *args: searches.append(1) or search(*args))
    factor = 3

    def scaled(x: int) -> int:
        return factor * x

    serializer = CloudpickleSerializer()
    first = pack_function(scaled, serializer)
    assert pack_function(scaled, serializer) is first and len(searches) == 1
    factor = 4  # the closure's value is part of the pickle: a new blob that runs the new code
    changed = pack_function(scaled, serializer)
    assert changed.digest != first.digest and len(searches) == 2
    assert unpack_function(changed.data, serializer)(2) == 8


def test_a_function_with_modules_is_searched_every_time(user_modules: Path) -> None:
    import blobpkg

    serializer = CloudpickleSerializer()
    first = pack_function(blobpkg.work, serializer)
    assert pack_function(blobpkg.work, serializer) is not first


def test_the_system_roots_hold_every_install_path_sysconfig_names() -> None:
    import sysconfig

    from wren.serialize.modules import _in_system_roots

    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        assert _in_system_roots(os.path.join(sysconfig.get_path(key), "some_module.py")), key
    assert not _in_system_roots(os.path.join(os.path.expanduser("~"), "project", "mod.py"))


def test_packed_blobs_are_kept_within_their_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from wren.serialize import function_blob

    monkeypatch.setattr(function_blob, "_packed", {})
    monkeypatch.setattr(function_blob, "_packed_bytes", 0)
    serializer = CloudpickleSerializer()
    blobs = []
    for number in range(40):
        def scaled(x: int, factor: int = number) -> int:
            return factor * x

        blobs.append(pack_function(scaled, serializer))
    bound = 5 * len(blobs[0].data)
    monkeypatch.setattr(function_blob, "_PACKED_BYTES", bound)
    pack_function(lambda x: x, serializer)  # the next one makes room: oldest first
    kept = [blob for blob, _ in function_blob._packed.values()]
    assert function_blob._packed_bytes == sum(len(blob.data) for blob in kept) <= bound
    assert blobs[-1] in kept and blobs[0] not in kept


def test_an_executor_prepares_packing_before_its_first_job() -> None:
    import linecache

    from wren.serialize import modules
    from wren.serialize.function_blob import load_packing

    modules.system_roots.cache_clear()
    script = getattr(sys.modules["__main__"], "__file__", None)
    if isinstance(script, str):
        linecache.cache.pop(script, None)
    load_packing()  # what FunctionExecutor() calls
    assert modules.system_roots.cache_info().currsize == 1  # resolved, not in the first job
    assert not isinstance(script, str) or script in linecache.cache  # the script's lines

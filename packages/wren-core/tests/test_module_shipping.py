"""Shipping user modules: only what the function reaches, packages by file, data files only
when `include_modules` names the package, and a log of what ships."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from wren.serialize import CloudpickleSerializer, find_user_modules, pack_function
from wren.serialize.function_blob import WARN_MODULE_BYTES, split_blob

PROJECT = {
    "shipa.py": "import shipc\ndef f(x):\n    return shipc.g(x) + 1\n",
    "shipb.py": "def unused(x):\n    return x\n",
    "shipc.py": "def g(x):\n    return 2 * x\n",
    "shipd.py": "class Thing:\n    k = 5\n",
    "shipe.py": "def h():\n    return 7\n",
    "shipf.py": "V = 9\n",
    "shippkg/__init__.py": "",
    "shippkg/used.py": "from . import sibling\nfrom .sub.deep import D\n"
                       "def fn(x):\n    return sibling.S + D + x\n",
    "shippkg/sibling.py": "S = 100\n",
    "shippkg/unused.py": "import shipb\n",
    "shippkg/sub/__init__.py": "",
    "shippkg/sub/deep.py": "D = 1000\n",
    "shippkg/table.json": "{\"rows\": []}\n",
}

MAIN = """
import json, sys
import shipa, shipb, shipd, shipe, shippkg.used
from wren.serialize import find_user_modules

def work(x):
    return shipa.f(x)

def with_default(x, thing=shipd.Thing()):
    return thing.k + x

class Runner:
    def run(self):
        return shipe.h()

def with_method(x):
    return Runner().run() + x

def lazy(x):
    import shipf
    return shipf.V + x

def plain(x):
    return x + 1

names = {f.__name__: sorted(find_user_modules(f))
         for f in (work, with_default, with_method, lazy, plain, shippkg.used.fn)}
json.dump(names, sys.stdout)
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("ship")]:
        del sys.modules[name]


def _zip_names(blob: bytes) -> set[str]:
    return set(zipfile.ZipFile(BytesIO(split_blob(blob)[1])).namelist())


def test_main_script_ships_only_what_each_function_reaches(project: Path) -> None:
    (project / "main.py").write_text(MAIN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project), *sys.path])}
    out = subprocess.run([sys.executable, str(project / "main.py")], cwd=project, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {
        "work": ["shipa", "shipc"],                  # shipb: imported by __main__ only
        "with_default": ["shipd"],                   # a default argument's class
        "with_method": ["shipe"],                    # a method of a __main__ class
        "lazy": ["shipf"],                           # an import inside the function
        "plain": [],
        "fn": ["shippkg", "shippkg.sibling", "shippkg.sub", "shippkg.sub.deep",
               "shippkg.used"],                      # relative imports, not shippkg.unused
    }


def test_package_ships_reached_py_files_and_no_data(project: Path) -> None:
    import shippkg.used

    blob = pack_function(shippkg.used.fn, CloudpickleSerializer())
    assert _zip_names(blob.data) == {
        "shippkg/__init__.py", "shippkg/used.py", "shippkg/sibling.py",
        "shippkg/sub/__init__.py", "shippkg/sub/deep.py"}


def test_include_modules_naming_the_package_ships_its_data(project: Path) -> None:
    import shippkg.used

    blob = pack_function(shippkg.used.fn, CloudpickleSerializer(), include=["shippkg"])
    names = _zip_names(blob.data)
    assert {"shippkg/table.json", "shippkg/unused.py", "shippkg/sub/deep.py"} <= names
    assert not any(n.startswith("shipb") for n in names)  # exactly what was named


def test_objects_inside_captured_data_bring_their_module(project: Path) -> None:
    import shipd

    things = [shipd.Thing(), shipd.Thing()]

    def count(x: int) -> int:
        return len(things) + x

    assert set(find_user_modules(count)) == {"shipd"}


def test_exclude_and_preinstalled_win(project: Path) -> None:
    import shipa
    import shippkg.used

    assert set(find_user_modules(shippkg.used.fn, exclude=["shippkg.sub"])) == {
        "shippkg", "shippkg.used", "shippkg.sibling"}
    assert set(find_user_modules(shipa.f, exclude=["shipc"])) == {"shipa"}
    assert find_user_modules(shipa.f, preinstalled=frozenset({"shipa"})) == {}
    assert find_user_modules(shipa.f, include=None) == {}


def test_shipped_modules_are_logged_once_at_info(project: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    import shipa

    with caplog.at_level(logging.INFO, logger="wren"):
        pack_function(shipa.f, CloudpickleSerializer())
        pack_function(shipa.f, CloudpickleSerializer())
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1
    assert "2 user module(s) with f" in infos[0] and infos[0].endswith("shipa, shipc")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_modules_above_ten_megabytes_warn(project: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    import shippkg.used

    (project / "shippkg" / "weights.bin").write_bytes(os.urandom(WARN_MODULE_BYTES + 2**20))
    with caplog.at_level(logging.INFO, logger="wren"):
        blob = pack_function(shippkg.used.fn, CloudpickleSerializer(), include=["shippkg"])
    assert len(blob.data) > WARN_MODULE_BYTES
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "shipped with fn are 11.0 MB zipped" in warnings[0]


def test_unpicklable_reach_ships_nothing_with_a_warning(project: Path,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    import threading

    lock = threading.Lock()

    def holds_lock() -> bool:
        return lock.locked()

    with caplog.at_level(logging.WARNING, logger="wren"):
        assert find_user_modules(holds_lock) == {}
    assert "cannot work out the user modules" in caplog.text


WORKER = """
import pickle, sys
from pathlib import Path
from wren.serialize.function_blob import split_blob
from wren.worker import module_installer

data = Path(sys.argv[1]).read_bytes()
pickled, archive = split_blob(data)
module_installer.activate(archive, "digest", Path(sys.argv[2]))
print(pickle.loads(pickled)(1))
"""


def test_a_partly_shipped_package_runs_where_the_project_is_absent(project: Path,
                                                                     tmp_path_factory:
                                                                     pytest.TempPathFactory
                                                                     ) -> None:
    import shippkg.used

    blob = pack_function(shippkg.used.fn, CloudpickleSerializer())
    elsewhere = tmp_path_factory.mktemp("worker")
    (elsewhere / "fn.blob").write_bytes(blob.data)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p != str(project))}
    out = subprocess.run([sys.executable, "-c", WORKER, str(elsewhere / "fn.blob"),
                          str(elsewhere / "cache")], cwd=elsewhere, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1101"


def _closure(offset: int):  # by value: defined inside a function
    import json as captured

    def shifted(x: int) -> str:
        return captured.dumps(x + offset)

    return shifted


@pytest.mark.parametrize("func", [_closure(3), lambda x: x, _closure(0).__call__],
                         ids=["closure", "lambda", "method-wrapper"])
def test_one_pass_pickles_the_same_bytes_and_finds_the_same_reach(func) -> None:
    import cloudpickle
    from wren.serialize.reach import pickle_and_reach, reach

    pickled, found = pickle_and_reach(func)
    alone = reach(func)
    assert pickled == cloudpickle.dumps(func, protocol=5)
    assert (found.named, found.imports, found.codes) == (alone.named, alone.imports,
                                                         alone.codes)


def test_a_failing_one_pass_pickling_falls_back_to_the_serializer(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import wren.serialize.reach as reach_module

    func = _closure(1)
    expected = pack_function(func, CloudpickleSerializer())

    def broken(_: object) -> None:
        raise RuntimeError("the watching pickler failed")

    monkeypatch.setattr(reach_module, "pickle_and_reach", broken)
    monkeypatch.setattr(reach_module, "reach", broken)
    from wren.serialize import function_blob

    monkeypatch.setattr(function_blob, "_packed", {})  # not the blob remembered above
    with caplog.at_level(logging.WARNING, logger="wren"):
        blob = pack_function(func, CloudpickleSerializer())
    assert split_blob(blob.data)[0] == split_blob(expected.data)[0]  # the same pickle
    assert "cannot work out the user modules" in caplog.text  # its reach, told as before


def test_cloudpickle_is_never_a_user_module_and_its_file_is_not_looked_up(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wren.serialize import modules

    def looked_up(name: str) -> None:
        raise AssertionError(f"looked up {name}")

    monkeypatch.setattr(modules, "module_path", looked_up)
    assert not modules.is_user_module("cloudpickle")
    with pytest.raises(AssertionError):
        modules.is_user_module("some_user_module")

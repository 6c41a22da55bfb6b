"""Remote tracebacks show the user's code: the source lines of by-value code travel in the
function blob (checked by its hash like the pickle), go back into `linecache` under their
original file names in the worker, and the client marks where wren's frames were left out.
These run the worker in this process; tests/integration/test_tracebacks_on_localhost.py runs real
localhost workers and a script in its own process."""

from __future__ import annotations

import json
import linecache
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from test_runner import build, outcomes
from wren import RemoteTraceback, SerializationError
from wren.serialize import CloudpickleSerializer
from wren.serialize.function_blob import blob_parts, pack_function, split_blob
from wren.serialize.sources import (
    DYNAMIC_FILENAME,
    LINE_LIMIT,
    ShippedSources,
    collect_sources,
    redact,
)
from wren.testing import TEST_KEY, MemoryStorage
from wren.worker import run_task

CELL = '''\
import math

def inner(x):
    password = "hunter2"  # never shipped as written
    return math.sqrt(x) + {"k": 1}[x]

def outer(x):
    y = x
    return inner(y)
'''


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
def cell() -> Iterator[tuple[str, dict[str, Any]]]:
    """`CELL` run as a notebook runs a cell: its source known to `linecache` only."""
    name = "<ipython-input-3-0123abcd>"
    linecache.cache[name] = (len(CELL), None, CELL.splitlines(True), name)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(CELL, name, "exec"), namespace)
    yield name, namespace
    linecache.cache.pop(name, None)


def _remote_text(storage: MemoryStorage, func: Any, item: Any) -> tuple[BaseException, str]:
    (task,) = build(storage, func, [item])
    run_task(task, storage, key=TEST_KEY)
    [(_, [exc])] = outcomes(storage, task)
    assert isinstance(exc, BaseException)
    return exc, "".join(traceback.format_exception(exc))


def test_a_cell_function_shows_its_cell_lines_and_source(
        storage: MemoryStorage, cell: tuple[str, dict[str, Any]]) -> None:
    name, namespace = cell
    (task,) = build(storage, namespace["outer"], [4])
    linecache.cache.pop(name)  # the worker has only what the blob carries
    run_task(task, storage, key=TEST_KEY)
    [(document, [exc])] = outcomes(storage, task)
    assert isinstance(exc, KeyError)  # the user's exception, as raised
    remote = document.errors[0]["traceback"]
    assert f'File "{name}", line 9, in outer\n    return inner(y)\n' in remote
    assert f'File "{name}", line 5, in inner\n' in remote
    assert 'return math.sqrt(x) + {"k": 1}[x]' in remote
    assert DYNAMIC_FILENAME not in remote and "runner.py" not in remote
    assert "hunter2" not in json.dumps(linecache.getlines(name))


def test_the_sources_travel_inside_the_hashed_blob(cell: tuple[str, dict[str, Any]]) -> None:
    name, namespace = cell
    blob = pack_function(namespace["outer"], CloudpickleSerializer())
    pickled, sources, archive = blob_parts(blob.data)
    shipped = ShippedSources.from_bytes(sources)
    assert set(shipped.files) == {name} and archive == b""
    assert sorted(shipped.files[name]) == [3, 4, 5, 7, 8, 9]  # the functions' lines only
    assert shipped.files[name][4] == "    password = '***'  # never shipped as written"
    assert split_blob(blob.data) == (pickled, archive)
    other = CELL.replace("y = x", "y = x ")
    linecache.cache[name] = (len(other), None, other.splitlines(True), name)
    again = pack_function(namespace["outer"], CloudpickleSerializer())
    assert again.digest != blob.digest, "the lines are part of the content hash"


def test_a_changed_sources_part_is_refused_like_a_changed_pickle(
        storage: MemoryStorage, cell: tuple[str, dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import OrderedDict

    from wren.worker import runner

    monkeypatch.setattr(runner, "_functions", OrderedDict())  # not loaded by an earlier test
    _, namespace = cell
    (task,) = build(storage, namespace["outer"], [4])
    data = storage.get_object("b", task.func_key)
    storage.put_object("b", task.func_key, data.replace(b"return inner(y)", b"return other(y)"))
    run_task(task, storage, key=TEST_KEY)
    [(document, _)] = outcomes(storage, task)
    assert "not what wren wrote" in document.errors[0]["message"]


def test_code_without_known_source_still_names_its_file(storage: MemoryStorage) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile("def typed(x):\n    return x + 1\n", "<stdin>", "exec"), namespace)
    exc, text = _remote_text(storage, namespace["typed"], "a")
    assert isinstance(exc, TypeError)
    assert 'File "<stdin>", line 2, in typed' in text and DYNAMIC_FILENAME not in text


def test_the_client_marks_where_the_worker_frames_were() -> None:
    cause = RemoteTraceback('Traceback (most recent call last):\n  File "s.py", line 2, in f\n'
                            "ValueError: x\n", "remote call 00003 of job e-0/M000 on localhost")
    assert str(cause).splitlines()[1:4] == [
        "Remote traceback (most recent call last):",
        "  --- remote call 00003 of job e-0/M000 on localhost; wren's own frames left out ---",
        '  File "s.py", line 2, in f']
    assert str(RemoteTraceback("")).count("--- remote call;") == 1
    import pickle

    assert pickle.loads(pickle.dumps(cause)).where == cause.where


def test_redaction_keeps_the_name_and_drops_the_value() -> None:
    assert redact('    api_key = "sk-123"') == "    api_key = '***'"
    assert redact("connect(PASSWORD='x', user='me')") == "connect(PASSWORD='***', user='me')"
    assert redact("    total = price * 2") == "    total = price * 2"


def test_the_shipped_sources_are_capped(cell: tuple[str, dict[str, Any]]) -> None:
    name, namespace = cell
    long = "x" * (LINE_LIMIT + 50)
    lines = CELL.replace("y = x", f"y = x  # {long}").splitlines(True)
    linecache.cache[name] = (0, None, lines, name)
    capped = collect_sources([namespace["outer"].__code__, namespace["inner"].__code__], limit=40)
    assert len(capped.files[name]) < 6
    full = collect_sources([namespace["outer"].__code__])
    assert max(len(text) for text in full.files[name].values()) == LINE_LIMIT


def test_malformed_sources_are_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="sources shipped"):
        ShippedSources.from_bytes(b'{"files": []}')
    assert not ShippedSources.from_bytes(b"")


def test_a_blob_of_the_first_format_still_loads() -> None:
    import struct

    pickled = CloudpickleSerializer().dumps(abs)
    old = b"WRENFN1\n" + struct.pack(">Q", len(pickled)) + pickled
    assert blob_parts(old) == (pickled, b"", b"")


CLASSES = '''\
class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, x):
        return self.apply(x)

    def apply(self, x):
        return x * self.factor + missing_name
'''


def test_methods_of_a_cell_class_and_a_callable_instance_show_their_lines(
        storage: MemoryStorage) -> None:
    name = "<ipython-input-4-feedbeef>"
    linecache.cache[name] = (len(CLASSES), None, CLASSES.splitlines(True), name)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(CLASSES, name, "exec"), namespace)
    try:
        (task,) = build(storage, namespace["Scaler"](3), [2])
    finally:
        linecache.cache.pop(name)
    run_task(task, storage, key=TEST_KEY)
    [(document, [exc])] = outcomes(storage, task)
    assert isinstance(exc, NameError)
    remote = document.errors[0]["traceback"]
    assert f'File "{name}", line 6, in __call__\n    return self.apply(x)\n' in remote
    assert f'File "{name}", line 9, in apply\n    return x * self.factor + missing_name\n' \
        in remote

"""The serializer contract: what every `Serializer` adapter must carry between client and worker.

Bind it with a `serializer` fixture (an instance of the adapter). It checks that the adapter
is registered under its `name`; that plain values, functions (module-level, lambdas, closures,
functions and classes defined in `__main__`, which must travel by value), exceptions and large
byte strings survive `dumps`/`loads` (and `loads` of a memoryview); that it works where numpy
is not installed; and that an object it cannot serialize fails with an error naming its type.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wren import plugins
from wren.ports.serializer import Serializer
from wren.testing import functions as fn
from wren.testing.contract._binding import KnownGaps, override_me

MiB = 1 << 20

#: Defines, under module name `__main__`, a closure and a class no runtime can import.
_MAIN_SOURCE = textwrap.dedent("""
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    def make(scale):
        def shift(p):
            return Point(p.x * scale, p.y * scale)
        return shift
""")

#: Loads a blob in a fresh interpreter where numpy cannot be imported, and runs it.
_LOAD_ELSEWHERE = textwrap.dedent("""
    import sys
    sys.modules["numpy"] = None
    from wren import plugins
    serializer = plugins.serializer_class(sys.argv[1])()
    shift, point = serializer.loads(sys.stdin.buffer.read())
    moved = shift(point)
    print(type(moved).__name__, moved.x, moved.y, "numpy" in sys.modules and
          sys.modules["numpy"] is not None)
""")


def _main_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(_MAIN_SOURCE, "<contract __main__>", "exec"), namespace)
    return namespace


class ContractError(ValueError):
    """An exception class of the contract's own, with an extra attribute."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message, code)
        self.code = code


def _unpicklable() -> Iterator[tuple[Any, str]]:
    """Objects no serializer can carry, and the type name its error must mention."""
    lock = threading.Lock()
    yield lock, "lock"
    yield (x for x in range(3)), "generator"
    yield {"nested": [1, lock]}, "lock"


@pytest.mark.timeout(60)
class SerializerContract(KnownGaps):
    """Mixin of `Serializer` tests; bind the fixture `serializer`."""

    @pytest.fixture
    def serializer(self) -> Serializer:
        """Override me: an instance of the serializer under test."""
        override_me("serializer", "a Serializer instance")

    def _round_trip(self, serializer: Serializer, value: Any) -> Any:
        data = serializer.dumps(value)
        assert isinstance(data, bytes), "dumps must return bytes"
        return serializer.loads(data)

    def test_name_is_the_registered_name(self, serializer: Serializer) -> None:
        assert serializer.name, "a serializer sets `name`, the entry-point name"
        assert plugins.serializer_class(serializer.name) is type(serializer)

    def test_plain_values_round_trip(self, serializer: Serializer) -> None:
        values = [None, True, 0, -7, 2**100, 1.5, math.inf, "", "héllo ✓", b"\x00\xff",
                  bytearray(b"ba"), (1, "a"), [1, [2, [3]]], {"k": {"n": [1, 2]}, 3: None},
                  {1, 2}, frozenset({"x"}), range(2, 10, 3), complex(1, 2)]
        assert self._round_trip(serializer, values) == values
        nan = self._round_trip(serializer, math.nan)
        assert math.isnan(nan)

    def test_functions_lambdas_and_closures_round_trip(self, serializer: Serializer) -> None:
        offset = 10

        def closure(x: int) -> int:
            return x + offset

        class Local:
            def __init__(self, value: int) -> None:
                self.value = value

        square: Callable[[int], int] = lambda x: x * x  # noqa: E731
        loaded = self._round_trip(serializer, [fn.add, closure, square, Local(4)])
        assert loaded[0](2, 3) == 5 and loaded[1](1) == 11 and loaded[2](7) == 49
        assert loaded[3].value == 4 and type(loaded[3]).__name__ == "Local"
        again = serializer.loads(serializer.dumps_function(closure))
        assert again(5) == 15

    def test_main_functions_travel_by_value_without_numpy(self, serializer: Serializer
                                                          ) -> None:
        namespace = _main_namespace()
        data = serializer.dumps((namespace["make"](3), namespace["Point"](1, 2)))
        done = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, serializer.name],
                              input=data, capture_output=True, timeout=50, check=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert done.stdout.decode().split() == ["Point", "3", "6", "False"]

    def test_exceptions_keep_type_message_and_attributes(self, serializer: Serializer
                                                         ) -> None:
        errors = [ValueError("broken on purpose"), KeyError("call 2"), MemoryError(),
                  ContractError("with a code", code=7), OSError(2, "No such file", "x.txt")]
        loaded = self._round_trip(serializer, errors)
        assert [type(e) for e in loaded] == [type(e) for e in errors]
        assert [str(e) for e in loaded] == [str(e) for e in errors]
        assert loaded[3].code == 7 and loaded[4].filename == "x.txt"

    def test_big_bytes_round_trip_and_load_from_a_memoryview(self, serializer: Serializer
                                                             ) -> None:
        body = bytes(range(256)) * (48 * MiB // 256) + b"tail"
        data = serializer.dumps([body, b"small"])
        assert len(data) >= len(body)
        assert serializer.loads(data) == [body, b"small"]
        assert serializer.loads(memoryview(data)) == [body, b"small"]

    @pytest.mark.parametrize("case", range(3))
    def test_unserializable_objects_fail_naming_their_type(self, serializer: Serializer,
                                                           case: int) -> None:
        obj, type_name = list(_unpicklable())[case]
        with pytest.raises(Exception) as caught:
            serializer.dumps(obj)
        assert type_name in str(caught.value), (
            f"the error must name what cannot be serialized, got: {caught.value!r}")

    def test_garbage_is_an_error_not_a_value(self, serializer: Serializer) -> None:
        with pytest.raises(Exception):  # noqa: B017 - whatever the format's own error is
            serializer.loads(b"this is not the output of dumps")

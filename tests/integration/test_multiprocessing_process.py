"""`wren.multiprocessing.Process` on localhost: the standard library's life cycle and exit
codes (CPython's `_TestProcess` expectations, written again for wren). No Redis needed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest
import wren.multiprocessing as mp
from wren.multiprocessing import context


def sleeper(seconds: float) -> None:
    time.sleep(seconds)


def exits(code: object) -> None:
    sys.exit(code)


def raises() -> None:
    raise RuntimeError("from the child")


class Subclassed(mp.Process):
    def __init__(self, code: int) -> None:
        super().__init__(name="custom")
        self.code = code

    def run(self) -> None:
        sys.exit(self.code)


@pytest.fixture(autouse=True)
def fresh_executor() -> Iterator[None]:
    context.configure()
    yield
    context.shutdown()


def test_life_cycle() -> None:
    p = mp.Process(target=sleeper, args=(0.5,), name="sleepy", daemon=True)
    assert p.name == "sleepy" and p.daemon and isinstance(p.authkey, bytes)
    assert p.exitcode is None and p.pid is None and not p.is_alive()
    with pytest.raises(AssertionError):
        p.join()  # not started
    p.start()
    assert p.is_alive()
    with pytest.raises(AssertionError):
        p.start()
    p.join(timeout=0.05)
    assert p.is_alive() and p.exitcode is None
    p.join()
    assert not p.is_alive()
    assert p.exitcode == 0
    assert isinstance(p.pid, int)
    p.close()
    with pytest.raises(ValueError):
        p.is_alive()


@pytest.mark.parametrize(("code", "expected"), [(None, 0), (0, 0), (3, 3), ("msg", 1)])
def test_sys_exit_gives_the_exit_code(code: object, expected: int) -> None:
    p = mp.Process(target=exits, args=(code,))
    p.start()
    p.join()
    assert p.exitcode == expected


def test_failure_exit_code_is_one_and_traceback_is_printed(
        capsys: pytest.CaptureFixture[str]) -> None:
    p = mp.Process(target=raises, name="bad")
    p.start()
    p.join()
    assert p.exitcode == 1
    err = capsys.readouterr().err
    assert "Process bad:" in err and "RuntimeError: from the child" in err


def test_subclass_run_is_what_runs() -> None:
    p = Subclassed(7)
    p.start()
    p.join()
    assert (p.name, p.exitcode) == ("custom", 7)


def test_terminate_gives_the_signal_exit_code() -> None:
    p = mp.Process(target=sleeper, args=(3,))
    p.start()
    p.terminate()
    assert p.exitcode == -15 and not p.is_alive()


def test_group_must_be_none() -> None:
    with pytest.raises(ValueError):
        mp.Process(group=object())  # type: ignore[arg-type]

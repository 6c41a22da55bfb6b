"""Issue 18: with `log_level: INFO` the client tells a job's phases with their times, in the
order they happen; with INFO off it words nothing (no sizes or times computed)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
import wren
from wren.client import phases

pytestmark = [pytest.mark.usefixtures("thread_backends"), pytest.mark.timeout(60)]


def _double(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    return x * 2


@pytest.fixture
def wren_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("wren")
    level = logger.level
    yield logger
    logger.setLevel(level)


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wren"]


def test_info_tells_each_phase_with_its_time(caplog: pytest.LogCaptureFixture,
                                             wren_logger: logging.Logger) -> None:
    caplog.set_level(logging.INFO, logger="wren")
    with wren.FunctionExecutor(backend="threads", storage="shared_memory",
                               log_level="INFO", runtime_memory=512) as fexec:
        futures = fexec.map(_double, range(6), chunksize=2)
        values = fexec.get_result(futures, throw_except=False)
    assert values == [0, 2, None, 6, 8, 10]
    executor, job = fexec.executor_id, futures[0].job_key
    seconds = r"\d+\.\d{3} s"
    expected = [
        rf"executor {executor} created: compute 'threads' \(runtime default, memory 512 MB\), "
        r"storage 'shared_memory' \(bucket '[^']+'\), monitoring 'storage'",
        rf"function _double\(\) packed \(\d+(\.\d)? K?i?B\) and uploaded to "
        rf"wren\.funcs/[0-9a-f]{{64}}\.fn in {seconds}",
        rf"job {job}: arguments of 6 calls serialized in {seconds} \(\d+ B in 3 tasks\), "
        r"sent inside the invocations",
        rf"job {job}: invoked 6 calls \(3 tasks\) on 'threads' in {seconds}",
        rf"waiting for 6 calls \(job {job}\)",
        rf"waited {seconds}: 6 of 6 calls done, 1 failed",
        rf"results of 6 calls read in {seconds}: \d+ result objects? downloaded \(.+\), "
        r"\d+ more in status objects",
        rf"cleaned \d+ objects? in {seconds} \(wren\.jobs/{job}/",
    ]
    messages = _messages(caplog)
    position = 0
    for pattern in expected:  # each phase, in this order
        found = next((i for i, m in enumerate(messages[position:], position)
                      if re.fullmatch(pattern, m) or re.match(pattern, m)), None)
        assert found is not None, f"no line like {pattern!r} after line {position}:\n" + \
            "\n".join(messages)
        position = found + 1


def test_uploaded_arguments_say_where_and_how_long(caplog: pytest.LogCaptureFixture,
                                                   wren_logger: logging.Logger,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.INFO, logger="wren")
    with wren.FunctionExecutor(backend="threads", storage="shared_memory",
                               log_level="INFO") as fexec:
        monkeypatch.setattr(fexec.compute, "max_payload_bytes", 10)  # nothing fits inline
        futures = fexec.map(_double, [1, 3])
        fexec.get_result(futures)
    job = futures[0].job_key
    assert any(re.fullmatch(rf"job {job}: arguments of 2 calls serialized in \d+\.\d{{3}} s "
                            rf"\(\d+ B in \d+ tasks?\), uploaded to wren\.jobs/{job}/data in "
                            r"\d+\.\d{3} s", m) for m in _messages(caplog)), _messages(caplog)


def test_with_info_off_nothing_is_worded(monkeypatch: pytest.MonkeyPatch,
                                         caplog: pytest.LogCaptureFixture,
                                         wren_logger: logging.Logger) -> None:
    wren_logger.setLevel(logging.WARNING)

    def refuse(*args: object) -> str:
        raise AssertionError("a phase was worded with INFO off")

    monkeypatch.setattr(phases, "since", refuse)
    monkeypatch.setattr(phases, "size_text", refuse)
    monkeypatch.setattr(phases, "plural", refuse)
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        assert fexec.get_result(fexec.map(_double, [1, 3])) == [2, 6]
    assert not [r for r in caplog.records if r.name == "wren" and r.levelno < logging.WARNING]


@pytest.mark.parametrize(("size", "text"), [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                            (5 * 2**20, "5.0 MiB"), (3 * 2**30, "3.0 GiB")])
def test_size_text(size: int, text: str) -> None:
    assert phases.size_text(size) == text

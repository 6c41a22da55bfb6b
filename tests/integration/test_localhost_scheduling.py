"""How soon a finished call is seen, and how calls are spread, on `localhost`: causality
tests (a call that cannot end until the test says so), never wall-clock thresholds.

Calls other than the first wait on a gate file the test creates only after `wait` saw a
call done; if a finished call were only reported with the calls queued or grouped behind
it, `wait(ANY_COMPLETED)` could never return before the gate opens, and times out empty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import wren


def gated(index: int, gate: str, first_seconds: float) -> int:
    """Call 0 ends after `first_seconds`; every other call waits for `gate` (30 s at most)."""
    import os
    import time

    if index == 0:
        time.sleep(first_seconds)
        return index
    deadline = time.monotonic() + 30.0
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.01)
    return index


def run_gated(tmp_path: Path, calls: int, first_seconds: float, **options: Any) -> None:
    gate = str(tmp_path / "gate")
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=str(tmp_path / "storage"), worker_processes=2,
                               log_level=None) as fexec:
        # a fresh function each time: the pool has never measured its calls
        func = eval(compile("lambda *a: gated(*a)", "<gated>", "eval"), {"gated": gated})
        futures = fexec.map(func, [(i, gate, first_seconds) for i in range(calls)],
                            **options)
        try:
            done, pending = fexec.wait(futures, return_when=wren.ANY_COMPLETED, timeout=20,
                                       show_progressbar=False)
            assert [f.result() for f in done] == [0], "only call 0 could have finished"
            assert len(pending) == calls - 1
        finally:
            Path(gate).touch()
        assert fexec.get_result(futures) == list(range(calls))


@pytest.mark.timeout(120)
def test_any_completed_returns_after_the_first_call_not_its_group(tmp_path: Path) -> None:
    # 24 calls on 2 workers would be grouped several to a task; call 1 shares call 0's group
    run_gated(tmp_path, 24, 0.0)


@pytest.mark.timeout(120)
def test_a_finished_call_is_reported_before_the_rest_of_a_user_chunk(tmp_path: Path) -> None:
    # the user's chunksize keeps calls 0-2 in one task on one worker: call 0 (which took a
    # while) is reported while call 1 still waits for the gate
    run_gated(tmp_path, 3, 0.1, chunksize=3)

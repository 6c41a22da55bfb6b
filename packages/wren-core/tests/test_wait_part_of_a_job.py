"""Waiting on some of a job's futures sees their failures: `wait(fs[:2])` raises the first
call's exception as `wait(fs)` does (it returned as if nothing failed before issue 18)."""

from __future__ import annotations

import pytest
import wren

pytestmark = [pytest.mark.usefixtures("thread_backends"), pytest.mark.timeout(60)]


def _fails_at_zero(x: int) -> int:
    if x == 0:
        raise ValueError("zero")
    return x


def test_waiting_on_part_of_a_job_raises_its_failure() -> None:
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        futures = fexec.map(_fails_at_zero, range(4))
        with pytest.raises(ValueError, match="zero"):
            fexec.wait(futures[:2])
        done, not_done = fexec.wait(futures[1:3])  # no failure among these
        assert len(done) == 2 and not not_done
        done, _ = fexec.wait(futures[:2], throw_except=False)
        assert [f.error for f in done] == [True, False]

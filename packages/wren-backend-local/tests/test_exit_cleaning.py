"""A script that never closes its executor still leaves no job data behind: the data of the
jobs whose results it read is deleted before the interpreter exits, although background
deletions wait a moment for company (`wren.client.cleaner`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import sys
    import wren

    def double(x):
        return 2 * x

    fexec = wren.FunctionExecutor(storage_dir=sys.argv[1], pool_idle_timeout=0)
    assert fexec.get_result(fexec.map(double, range(20))) == [2 * x for x in range(20)]
    print(fexec.executor_id)
    # no close(): the interpreter exits at once
""")


def test_a_script_that_exits_without_closing_leaves_no_job_data(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    left = [p for p in tmp_path.rglob("*") if p.is_file() and "wren.jobs" in p.parts]
    assert left == [], f"job data left behind: {left}"

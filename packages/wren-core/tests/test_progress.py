"""A progress bar for people (a terminal), none for programs (pipes) or inside workers."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

SCRIPT = """
import time, wren
with wren.FunctionExecutor(storage_dir={storage!r}) as fexec:
    fexec.map(time.sleep, [0.3] * 4, chunksize=1)
    print("results", fexec.get_result())
"""


def run(script: str, tty: bool) -> str:
    if not tty:
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True, timeout=60).stdout
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=follower, stderr=follower,
                            stdin=follower, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(60)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    out = run(SCRIPT.format(storage=str(tmp_path)), tty=True)
    assert "results [None, None, None, None]" in out
    # issue 18: the line names its job (it said "wren:"), with the rate
    assert re.search(r"wren [0-9a-f]{6}-\d+/M000: 100%\|", out), out
    assert "4/4" in out and ("call/s" in out or "s/call" in out)


def test_redirected_output_has_no_progress_bar(tmp_path: Path) -> None:
    out = run(SCRIPT.format(storage=str(tmp_path)), tty=False)
    assert out.strip() == "results [None, None, None, None]"


TWO_JOBS = """
import time, wren
def f(x):
    time.sleep(0.1)
    if x == 2:
        raise ValueError(x)
    return x
with wren.FunctionExecutor(storage_dir={storage!r}) as fexec:
    first = fexec.map(f, range(6), chunksize=1)
    second = fexec.map(f, range(3), chunksize=1)
    print("results", fexec.get_result([*first, *second], throw_except=False))
    print("jobs", first[0].job_key, second[0].job_key)
"""


def screen(output: str) -> list[str]:
    """The lines a terminal shows at the end of `output` (carriage returns, line feeds and
    cursor-up moves applied; colours dropped)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[A|.", text, re.DOTALL):
        if token == "\x1b[A":
            row = max(0, row - 1)
        elif token == "\r":
            col = 0
        elif token == "\n":
            row += 1
            lines.extend([""] * (row + 1 - len(lines)))
        else:
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + 1:]
            col += 1
    return [line.rstrip() for line in lines]


def test_terminal_keeps_one_line_per_job_in_order_with_failures(tmp_path: Path) -> None:
    shown = screen(run(TWO_JOBS.format(storage=str(tmp_path)), tty=True))
    first, second = next(line for line in shown if line.startswith("jobs ")).split()[1:]
    bars = [line for line in shown if line.startswith("wren ")]
    assert len(bars) == 2, shown  # one line per job, each left at its final state
    assert bars[0].startswith(f"wren {first}: 100%") and "6/6" in bars[0]
    assert bars[1].startswith(f"wren {second}: 100%") and "3/3" in bars[1]
    assert all("1 failed" in bar for bar in bars), bars
    assert all("call/s" in bar or "s/call" in bar for bar in bars), bars  # the rate

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
    assert "4/4" in out and "call/s" in out


def test_redirected_output_has_no_progress_bar(tmp_path: Path) -> None:
    out = run(SCRIPT.format(storage=str(tmp_path)), tty=False)
    assert out.strip() == "results [None, None, None, None]"

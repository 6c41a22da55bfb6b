"""A progress bar for people (a terminal), none for programs (pipes) or inside workers."""

from __future__ import annotations

import fcntl
import os
import pty
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
    assert "wren:" in out and "4/4" in out and "%|" in out


def test_redirected_output_has_no_progress_bar(tmp_path: Path) -> None:
    out = run(SCRIPT.format(storage=str(tmp_path)), tty=False)
    assert out.strip() == "results [None, None, None, None]"

"""The program of docs/drop-in-multiprocessing.md runs on wren by changing its import line:
this test runs the doc's code block as written (the standard library) and with the wren
import, against the session's real Redis, and compares what they print."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from wren.multiprocessing.redis_settings import PASSWORD_ENV

from tests.servers.redis import RedisServer

DOC = Path(__file__).parents[2] / "docs" / "drop-in-multiprocessing.md"
STDLIB_IMPORT = "import multiprocessing as mp   # on wren: import wren.multiprocessing as mp"


def _program() -> str:
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None, "the doc has no python block"
    code = block.group(1)
    assert code.splitlines()[0] == STDLIB_IMPORT
    return code


def _run(code: str, tmp_path: Path, env: dict[str, str]) -> str:
    script = tmp_path / "program.py"
    script.write_text(code)
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_doc_example_prints_the_same_on_wren(redis_server: RedisServer,
                                             tmp_path: Path) -> None:
    code = _program()
    expected = _run(code, tmp_path, dict(os.environ))
    assert expected.splitlines()[0] == str([x * x for x in range(10)])
    config = tmp_path / "wren-config.yaml"
    config.write_text(f"multiprocessing:\n  url: {redis_server.url}\n")
    env = dict(os.environ, WREN_CONFIG_FILE=str(config))
    env[PASSWORD_ENV] = redis_server.password
    wren_code = code.replace(STDLIB_IMPORT, "import wren.multiprocessing as mp", 1)
    assert _run(wren_code, tmp_path, env) == expected

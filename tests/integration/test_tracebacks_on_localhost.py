"""Remote tracebacks on real `localhost` workers (fresh interpreters that never saw the
client's files in `linecache`): a function from a script run as its own process, one from
`exec`'d code under a notebook-like name, one from a module file shipped with the job. Each
shows file, line number and source line below the marker of the call, and the client
re-raises the user's own exception type."""

from __future__ import annotations

import linecache
import os
import re
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
import wren

MARKER = re.compile(r"  --- remote call (\d{5}) of job \S+/(\w+) on localhost, worker host \S+ "
                    r"pid \d+; wren's own frames left out ---\n")

SCRIPT = '''\
import sys, traceback, wren

def check(value):
    return {"known": 1}[value]

def boom(value):
    checked = check(value)
    return checked

if __name__ == "__main__":
    with wren.FunctionExecutor(backend="localhost", storage="localhost",
                               storage_dir=sys.argv[1], worker_processes=1,
                               pool_idle_timeout=0) as fexec:
        futures = fexec.map(boom, ["known", "unknown"])
        try:
            fexec.get_result(futures)
        except KeyError:
            traceback.print_exc(file=sys.stdout)
            print("caught KeyError")
'''


def _rendered(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _remote_part(text: str) -> str:
    """The remote traceback: from the marker to the end of the cause."""
    found = MARKER.search(text)
    assert found, text
    return text[found.start():text.index("The above exception was the direct cause")]


def test_a_script_run_as_a_process_shows_its_lines(tmp_path: Path) -> None:
    script = tmp_path / "my_job.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WREN_CONFIG")}
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "storage")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.rstrip().endswith("caught KeyError")
    remote = _remote_part(out)
    assert MARKER.match(remote).groups() == ("00001", "M000")  # type: ignore[union-attr]
    assert (f'  File "{script}", line 7, in boom\n    checked = check(value)\n'
            f'              ^^^^^^^^^^^^\n  File "{script}", line 4, in check\n'
            f'    return {{"known": 1}}[value]\n') in remote
    assert "KeyError: 'unknown'" in remote
    assert "<dynamic-code>" not in out and "wren/worker" not in remote


def test_exec_code_with_a_notebook_name_shows_its_lines(tmp_path: Path) -> None:
    name = "<ipython-input-12-5f3c2a>"
    source = "def ratio(a, b):\n    scaled = a * 2\n    return scaled / b\n"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, name, "exec"), namespace)
    try:
        with wren.FunctionExecutor(backend="localhost", storage="localhost",
                                   storage_dir=str(tmp_path), worker_processes=1) as fexec:
            future = fexec.call_async(namespace["ratio"], (3, 0))
            with pytest.raises(ZeroDivisionError) as caught:
                future.result()
    finally:
        linecache.cache.pop(name, None)
    remote = _remote_part(_rendered(caught.value))
    assert MARKER.match(remote).groups() == ("00000", "A000")  # type: ignore[union-attr]
    assert f'File "{name}", line 3, in ratio\n    return scaled / b\n' in remote


def test_a_shipped_module_file_shows_the_clients_path(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "src"
    package.mkdir()
    module_file = package / "wren_tb_parsing.py"
    module_file.write_text("class ParseFailed(ValueError):\n    pass\n\n\n"
                           "def parse(text):\n    if not text.isdigit():\n"
                           "        raise ParseFailed(f'not a number: {text}')\n"
                           "    return int(text)\n")
    monkeypatch.syspath_prepend(str(package))
    import wren_tb_parsing  # type: ignore[import-not-found]

    try:
        with wren.FunctionExecutor(backend="localhost", storage="localhost",
                                   storage_dir=str(tmp_path / "storage"),
                                   worker_processes=1) as fexec:
            futures = fexec.map(wren_tb_parsing.parse, ["12", "x7"])
            with pytest.raises(wren_tb_parsing.ParseFailed, match="not a number: x7") as caught:
                fexec.get_result(futures)
    finally:
        sys.modules.pop("wren_tb_parsing", None)
    remote = _remote_part(_rendered(caught.value))
    assert (f'File "{module_file}", line 7, in parse\n'
            "    raise ParseFailed(f'not a number: {text}')\n") in remote
    assert "/modules/" not in remote, "the client's file, not the worker's copy"

"""A fresh process pays only for what it uses: `import wren`, the executor stack, and a
first localhost job do not import the heavy modules that were made lazy (each costs a fresh
client tens of milliseconds), so a change that imports one at module level fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Never imported by `import wren` alone.
NOT_BY_IMPORT_WREN = ("wren.executor", "wren.config", "wren.protocol", "wren.client.futures",
                      "wren.storage_api", "attr", "attrs", "yaml", "cloudpickle", "logging",
                      "importlib.metadata", "multiprocessing", "json", "hashlib", "inspect")
#: Never imported by the executor stack (`import wren.executor`).
NOT_BY_EXECUTOR = ("importlib.metadata", "importlib.resources", "sysconfig", "yaml",
                   "email", "email.utils", "wren.storage_api", "wren.dataproc", "wren.plots",
                   "wren.serialize.modules", "cloudpickle", "difflib", "tempfile", "zipfile",
                   "wren.ports.partitioner", "wren.ports.runtime_verbs", "wren.ports.images",
                   "secrets", "random", "concurrent.futures.thread")
#: Never imported by creating a localhost executor and running one call of a builtin: the
#: client of the user's pool server needs neither the in-process pool's machinery
#: (`multiprocessing`, the supervisor, `tempfile` and `shutil`, which bring `bz2` and
#: `lzma`), nor `socket`'s enum set-up, nor the runtime-container modules.
NOT_BY_FIRST_JOB = ("importlib.metadata", "importlib.resources", "sysconfig", "yaml", "email",
                    "wren.storage_api", "wren.dataproc", "wren.plots", "zipfile",
                    "multiprocessing", "multiprocessing.connection",
                    "wren.worker.pool.supervisor", "wren.worker.pool.process", "tempfile",
                    "shutil", "socket", "wren.containers", "wren_backend_local.runtimes",
                    "wren_backend_local.docker_engine", "wren.ports.partitioner",
                    "wren.ports.runtime_verbs", "wren.ports.images", "secrets", "random",
                    "concurrent.futures.thread")

SCRIPT = """
import json, sys
before = set(sys.modules)
import wren
after_wren = set(sys.modules)
import wren.executor
after_executor = set(sys.modules)
with wren.FunctionExecutor(storage_dir=sys.argv[1]) as fexec:
    assert fexec.call_async(abs, -1).result() == 1
after_job = set(sys.modules)
print(json.dumps([sorted(after_wren - before), sorted(after_executor - before),
                  sorted(after_job - before)]))
"""


def _last_line(tmp_path: Path, script: str) -> Any:
    """The JSON `script` prints last, run in a fresh process without wren settings."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WREN_", "LITHOPS_"))} | {"HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "storage")],
                         cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
                         timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def _imported(tmp_path: Path) -> tuple[set[str], set[str], set[str]]:
    wren_mods, executor_mods, job_mods = _last_line(tmp_path, SCRIPT)
    return set(wren_mods), set(executor_mods), set(job_mods)


def test_import_wren_and_a_first_job_leave_the_heavy_modules_alone(tmp_path: Path) -> None:
    by_wren, by_executor, by_job = _imported(tmp_path)
    assert "wren" in by_wren and "wren.executor" in by_executor
    assert sorted(by_wren & set(NOT_BY_IMPORT_WREN)) == []
    assert sorted(by_executor & set(NOT_BY_EXECUTOR)) == []
    assert sorted(by_job & set(NOT_BY_FIRST_JOB)) == []


FIRST_JOB_SCRIPT = """
import json, sys
import wren

def double(x):
    return 2 * x

with wren.FunctionExecutor(storage_dir=sys.argv[1]) as fexec:
    before = set(sys.modules)
    assert fexec.get_result(fexec.map(double, [1, 2])) == [2, 4]
    after = set(sys.modules)
print(json.dumps(sorted(after - before)))
"""


def test_a_first_job_imports_nothing_the_executor_could_have(tmp_path: Path) -> None:
    # creating the executor imports what its first job needs (packing a function
    # included), so the job does not pay for imports on its way to the workers
    imported = _last_line(tmp_path, FIRST_JOB_SCRIPT)
    assert [name for name in imported if name.startswith("wren")] == []

"""Job runs after their creation: failed instances become errors at once; ended runs go.

A `RunWatcher` (one daemon thread per client) reads the client's unfinished job runs every
second or so (slower while none changes). An index in `status_details.failed_indices`, or still
pending when its run `failed`, will never report: its task's calls are reported lost at once
(the monitor ignores that for calls that reported), naming the run, the index, Code Engine's
reason and the logs. `clean_project` deletes wren's ended job runs and unused key secrets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from wren.ports.compute import InvocationListener
from wren.protocol.task import Task
from wren.worker.fanout import FanoutRequest

from wren_backend_ibmcf.code_engine.api import CodeEngineApi
from wren_backend_ibmcf.code_engine.runtimes import METADATA_ENV

logger = logging.getLogger("wren")
ENDED = ("completed", "failed")


def parse_indices(spec: str | None) -> list[int]:
    """The indices of a Code Engine index list (`0-2,5`; empty: none)."""
    found: list[int] = []
    for part in filter(None, (p.strip() for p in str(spec or "").split(","))):
        low, _, high = part.partition("-")
        found.extend(range(int(low), int(high or low) + 1))
    return found


def lost_indices(run: dict[str, Any]) -> dict[int, str]:
    """The indices of `run` whose instance will never report, with Code Engine's reason."""
    details = run.get("status_details") or {}
    about = details.get("indices_details") or {}
    lost = {i: str((about.get(str(i)) or {}).get("last_failure_reason") or "it failed")
            for i in parse_indices(details.get("failed_indices"))}
    if run.get("status") == "failed":
        lost.update((i, "it never started: the job run failed")
                    for i in parse_indices(details.get("pending_indices")))
    return lost


class RunWatcher:
    """Reports the calls of this client's job-run instances that fail; thread-safe."""

    def __init__(self, api: CodeEngineApi, project_id: str,
                 tasks_of: Callable[[FanoutRequest], Sequence[Task]]) -> None:
        self.api, self.project_id, self.tasks_of = api, project_id, tasks_of
        self._runs: dict[str, tuple[FanoutRequest, InvocationListener]] = {}
        self._seen: dict[str, tuple[Any, set[int]]] = {}  # status_details, reported
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread: threading.Thread | None = None

    def expect(self, run: str, request: FanoutRequest, listener: InvocationListener) -> None:
        """Job run `run` runs the tasks staged for `request` (task i at index i)."""
        with self._lock:
            self._runs[run] = (request, listener)
            if self._thread is None and not self._stop.is_set():
                thread = threading.Thread(target=self._loop, daemon=True,
                                          name="wren-code-engine-runs")
                thread.start()
                self._thread = thread  # published once started: `close` joins it

    def _loop(self) -> None:
        delay = 1.0
        while not self._stop.wait(delay):
            delay = 1.0 if self.poll() else min(5.0, delay * 1.5)

    def poll(self) -> bool:
        """Read each unfinished job run once, report its new lost indices; True if a run
        changed since the last read."""
        with self._lock:
            runs = list(self._runs.items())
        changed = False
        for name, (request, listener) in runs:
            try:
                run = self.api.call("get_job_run", self.project_id, name, missing_ok=True) or {}
                details, reported = self._seen.setdefault(name, (None, set()))
                changed |= details != run.get("status_details")
                self._seen[name] = (run.get("status_details"), reported)
                lost = lost_indices(run)
                new = sorted(set(lost) - reported)
                tasks = self.tasks_of(request) if new else []
                for index in new:
                    reported.add(index)
                    reason = (f"instance {index} of the Code Engine job run {name} ended "
                              f"before its calls reported ({lost[index]}); see its logs with "
                              f"`ibmcloud ce jobrun logs -n {name} --instance "
                              f"{name}-{index}-0`")
                    logger.warning("code_engine: %s", reason)
                    task = tasks[index]
                    listener.calls_lost(task.job_key, list(task.call_indices), reason, "lost")
            except Exception as exc:  # the API or storage failed for a moment: read again
                logger.debug("code_engine: reading job run %s failed: %s", name, exc)
                continue
            if not run or run.get("status") in ENDED:
                with self._lock:
                    self._runs.pop(name, None)
                self._seen.pop(name, None)
        return changed

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10.0)


def clean_project(api: CodeEngineApi, project_id: str) -> tuple[int, int]:
    """Delete wren's ended job runs (`wren-run-*` and runtime metadata runs) and the key
    secrets (`wren-key-*`) no unfinished job run references; return how many of each."""
    needed: set[str] = set()
    ended: list[str] = []
    for run in api.pages("list_job_runs", project_id):
        env = run.get("run_env_variables") or []
        if run.get("status") not in ENDED:
            needed.update(str(e.get("reference")) for e in env)
        elif str(run.get("name")).startswith("wren-run-") or any(
                e.get("name") == METADATA_ENV for e in env):
            ended.append(str(run["name"]))
    keys = [str(s["name"]) for s in api.pages("list_secrets", project_id)
            if str(s.get("name")).startswith("wren-key-") and s["name"] not in needed]
    for name in ended:
        api.manage("delete_job_run", project_id, name, missing_ok=True)
    for name in keys:
        api.manage("delete_secret", project_id, name, missing_ok=True)
    return len(ended), len(keys)

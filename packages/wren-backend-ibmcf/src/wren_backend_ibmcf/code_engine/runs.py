"""Job runs after their creation: failed instances become errors at once; ended runs go.

A `RunWatcher` (`wren.dispatch.ArrayWatcher`: one daemon thread per client) reads the client's unfinished job runs every
second or so (slower while none changes). An index in `status_details.failed_indices`, or still
pending when its run `failed`, will never report: its task's calls are reported lost at once
(the monitor ignores that for calls that reported), naming the run, the index, Code Engine's
reason and the logs. `clean_project` deletes wren's ended job runs and unused key secrets.
"""

from __future__ import annotations

import logging
from typing import Any

from wren.dispatch import ArrayWatcher
from wren.ports.runtime_probe import METADATA_ENV

from wren_backend_ibmcf.code_engine.api import CodeEngineApi

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


class RunWatcher(ArrayWatcher):
    """Reads this client's unfinished job runs and reports their failed instances."""

    def __init__(self, api: CodeEngineApi, project_id: str) -> None:
        super().__init__("wren-code-engine-runs")
        self.api, self.project_id = api, project_id
        self._details: dict[str, Any] = {}  # the status_details last read, by run

    def watch(self) -> None:
        delay = 1.0
        while not self.stopping.wait(delay):
            delay = 1.0 if self.poll() else min(5.0, delay * 1.5)

    def poll(self) -> bool:
        """Read each unfinished job run once, report its new lost indices; True if a run
        changed since the last read."""
        changed = False
        for name in self.expected():
            try:
                run = self.api.call("get_job_run", self.project_id, name, missing_ok=True) or {}
            except Exception as exc:  # the API failed for a moment: read again
                logger.debug("code_engine: reading job run %s failed: %s", name, exc)
                continue
            changed |= self._details.get(name) != run.get("status_details")
            self._details[name] = run.get("status_details")
            for index, why in sorted(lost_indices(run).items()):
                self.report(name, index, (
                    f"instance {index} of the Code Engine job run {name} ended before its "
                    f"calls reported ({why}); see its logs with `ibmcloud ce jobrun logs -n "
                    f"{name} --instance {name}-{index}-0`"))
            if not run or run.get("status") in ENDED:
                self.forget(name)
                self._details.pop(name, None)
        return changed


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

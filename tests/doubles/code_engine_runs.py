"""Job runs of the IBM Code Engine API double (`tests.doubles.code_engine`): what Code Engine's
batch scheduler does with a job run, done with real containers.

Part of the test double. Each array index of a job run becomes one `podman run` of the job's
image (pulled from its registry, host networking, `--rm`) with the environment Code Engine
documents for job instances ("Running a job", environment variables): the job's and the job
run's variables (literals, whole secrets, single secret keys; the run's win), plus
`JOB_INDEX`, `JOB_ARRAY_SIZE`, `CE_JOB`, `CE_JOBRUN`. Variables go through a private env file
(0600), never the command line. At most `slots` instances run at once across the double;
an instance that overruns the job's `scale_max_execution_time` is killed. The run's status
and `status_details` (requested/pending/running/succeeded/failed counts and index lists,
`indices_details` with a failed index's `last_failure_reason`) follow its instances; with
`launch=None` instances are only recorded (for the dispatch bench), as a scheduler that has
taken the job run but not yet started it. `unstartable` lists array indices whose next
instance cannot start (as when its image cannot be pulled): it fails with exit code 125.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

Launcher = Callable[[str, Mapping[str, str], Path, float], int]


def indices(spec: str) -> list[int]:
    """The array indices of `scale_array_spec` (`0-99`, `1,3,5-7`), or ValueError."""
    found: set[int] = set()
    for part in str(spec).split(","):
        low, _, high = part.strip().partition("-")
        first, last = int(low), int(high or low)
        if first < 0 or last < first:
            raise ValueError(f"bad range {part!r}")
        found.update(range(first, last + 1))
    return sorted(found)


def compress(values: Sequence[int]) -> str:
    """`[0, 1, 2, 5]` -> `0-2,5`, the way Code Engine lists indices."""
    parts: list[str] = []
    for value in sorted(values):
        if parts and parts[-1].split("-")[-1] == str(value - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{value}"
        else:
            parts.append(str(value))
    return ",".join(parts)


def podman_launcher(engine_env: Mapping[str, str]) -> Launcher:
    """Run an instance as a podman container of `image`; return its exit code."""
    def launch(image: str, env: Mapping[str, str], log: Path, timeout: float) -> int:
        fd, env_file = tempfile.mkstemp(prefix="ce-env-", dir=log.parent)
        name = f"wren-ce-{log.stem}"
        try:
            with os.fdopen(fd, "w") as out:
                out.write("".join(f"{k}={v}\n" for k, v in env.items()))
            command = ["podman", "run", "--rm", "--name", name, "--network", "host",
                       "--pull", "newer", "--env-file", env_file, image]
            with open(log, "ab") as output:
                process = subprocess.Popen(command, env=dict(engine_env), stdout=output,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                try:
                    return process.wait(timeout)
                except subprocess.TimeoutExpired:
                    subprocess.run(["podman", "kill", name], env=dict(engine_env),
                                   capture_output=True, timeout=60, check=False)
                    process.wait(30)
                    return 137
        finally:
            os.unlink(env_file)
    return launch


def process_launcher(python: str) -> Launcher:
    """Run an instance as a local process of `python` (image ignored): the entry point
    without a container, for quick runs and benches."""
    def launch(image: str, env: Mapping[str, str], log: Path, timeout: float) -> int:
        with open(log, "ab") as output:
            process = subprocess.Popen(
                [python, "-m", "wren_backend_ibmcf.code_engine.entry"],
                env={"PATH": os.environ.get("PATH", ""), **env}, stdout=output,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=log.parent)
            try:
                return process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                return process.wait()
    return launch


class JobRunner:
    """Starts the instances of job runs on a bounded number of slots."""

    def __init__(self, launch: Launcher | None, log_dir: Path, slots: int) -> None:
        self.launch, self.log_dir = launch, log_dir
        self.slots = threading.Semaphore(slots)
        self.lock = threading.Lock()
        self.instances_started = 0
        self.unstartable: list[int] = []

    def start(self, run: dict[str, Any], image: str, env: Mapping[str, str]) -> None:
        """Schedule every index of `run` (its dict is updated in place)."""
        wanted = indices(run["scale_array_spec"])
        details = run["status_details"] = {
            "requested": len(wanted), "pending": len(wanted), "running": 0, "succeeded": 0,
            "failed": 0, "unknown": 0, "pending_indices": compress(wanted),
            "running_indices": "", "succeeded_indices": "", "failed_indices": ""}
        run["status"] = "pending"
        if self.launch is None:
            return
        state = {"pending": set(wanted), "running": set(), "succeeded": set(), "failed": set()}
        for index in wanted:
            threading.Thread(target=self._instance, daemon=True,
                             args=(run, image, env, index, state, details)).start()

    def _move(self, run: dict[str, Any], state: dict[str, set[int]], index: int, old: str,
              new: str, reason: str | None = None) -> None:
        with self.lock:  # a new details dict: the API may be serializing the old one
            state[old].discard(index)
            state[new].add(index)
            details = dict(run["status_details"])
            for kind, members in state.items():
                details[kind] = len(members)
                details[f"{kind}_indices"] = compress(sorted(members))
            if reason is not None:
                failure = {"status": "failed", "last_failure_reason": reason, "retries": 0}
                details["indices_details"] = {**details.get("indices_details", {}),
                                              str(index): failure}
            if state["running"] or state["pending"]:
                run["status"] = "running"
            else:
                run["status"] = "failed" if state["failed"] else "completed"
                details["completion_time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ")
            run["status_details"] = details

    def _instance(self, run: dict[str, Any], image: str, env: Mapping[str, str], index: int,
                  state: dict[str, set[int]], details: dict[str, Any]) -> None:
        assert self.launch is not None
        with self.slots:
            self._move(run, state, index, "pending", "running")
            with self.lock:
                self.instances_started += 1
                refused = index in self.unstartable
                if refused:
                    self.unstartable.remove(index)
            instance_env = {**env, "JOB_INDEX": str(index),
                            "JOB_ARRAY_SIZE": str(details["requested"]),
                            "CE_JOB": str(run.get("job_name") or ""), "CE_JOBRUN": run["name"]}
            log = self.log_dir / f"{run['name']}-{index}.log"
            try:
                if refused:
                    raise RuntimeError(f"cannot pull image {image} (unstartable)")
                code = self.launch(image, instance_env, log,
                                   float(run.get("scale_max_execution_time") or 7200))
            except Exception as exc:  # the engine failed: the instance failed
                with open(log, "a") as out:
                    out.write(f"double: {type(exc).__name__}: {exc}\n")
                code = 125
            self._move(run, state, index, "running", "succeeded" if code == 0 else "failed",
                       None if code == 0 else f"ContainerExitedCode{code}")

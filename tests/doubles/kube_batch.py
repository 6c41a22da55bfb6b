"""Kubernetes' Job controller and kubelet, as the Kubernetes API test double plays them.

For the `k8s` backend's tests only (no real cluster can run here; see
`tests.doubles.kube_api`). A `batch/v1` Job with `completionMode: Indexed` gets one pod per
completion index, at most `parallelism` at a time, each labelled and annotated with its
index and Job (`batch.kubernetes.io/job-completion-index`, `batch.kubernetes.io/job-name`,
`job-name`) and owned by the Job. A pod's container is REAL: an image from the test registry
runs with `podman run` (host networking, its env in a private file), an image of the double's
image table as a process of this interpreter; its env resolves `secretKeyRef`s and adds
`JOB_COMPLETION_INDEX`. Pods go Pending → Running → Succeeded or Failed (exit code and
reason), a pod past `activeDeadlineSeconds` fails with `DeadlineExceeded`, an image no
registry holds stays Pending in `ErrImagePull`, a missing Secret in
`CreateContainerConfigError`. Tests kill a pod with `terminate(ns, name, reason)`: `OOMKilled`
(container ended with 137, as the kernel's OOM killer leaves it) or `Evicted` (the pod fails
with the kubelet's eviction message and a `DisruptionTarget` condition). The Job's status
follows (`active`, `succeeded`, `failed`, `completedIndexes`, `failedIndexes`, `Complete` or
`Failed` conditions, `backoffLimitPerIndex: 0` only). Deleting a Job deletes its pods and the
objects it owns (the garbage collector), and `ttlSecondsAfterFinished` is honoured.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.doubles.containers import registry_has
from tests.doubles.kube_objects import ApiError, Kind, ObjectStore, container_env

JOB = Kind("batch", "v1", "jobs", "Job", has_status=True)
POD = Kind("", "v1", "pods", "Pod", has_status=True)
SECRET_KIND = Kind("", "v1", "secrets", "Secret")
INDEX = "batch.kubernetes.io/job-completion-index"
JOB_NAME = "batch.kubernetes.io/job-name"
PROCESS_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "PYTHONUNBUFFERED": "1"}
EVICTION = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: "
            "51200Ki. Container worker was using 812344Ki, request is 512Mi.")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _ranges(indexes: Sequence[int]) -> str:
    """Kubernetes' interval form of completed indexes: "0-2,5"."""
    out: list[str] = []
    for index in sorted(indexes):
        if out and "-" in out[-1] and int(out[-1].split("-")[1]) == index - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{index}"
        elif out and "-" not in out[-1] and int(out[-1]) == index - 1:
            out[-1] = f"{out[-1]}-{index}"
        else:
            out.append(str(index))
    return ",".join(out)


class _Pod:
    """One pod's container and what ended it."""

    def __init__(self, namespace: str, name: str) -> None:
        self.namespace, self.name = namespace, name
        self.process: subprocess.Popen[bytes] | None = None
        self.container = ""
        self.forced: str | None = None  # "OOMKilled", "Evicted" or "DeadlineExceeded"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.container:
            subprocess.run(["podman", "rm", "-f", "-t", "0", self.container],
                           capture_output=True, timeout=60, check=False)


class BatchController:
    """Runs the indexed Jobs of an `ObjectStore` as pods of real containers."""

    def __init__(self, store: ObjectStore, images: Mapping[str, Sequence[str]], workdir: Path,
                 registry: str | None = None) -> None:
        self.store, self.images, self.workdir, self.registry = store, dict(images), workdir, \
            registry
        self._lock = threading.Lock()
        self._pods: dict[tuple[str, str], _Pod] = {}
        self._stopping = False
        store.watchers.append(self._on_change)

    # Tests' handle ---------------------------------------------------------------------------
    def terminate(self, namespace: str, name: str, reason: str) -> dict[str, Any]:
        """Kill a running pod as the kernel (`OOMKilled`) or the kubelet (`Evicted`) does."""
        if reason not in ("OOMKilled", "Evicted"):
            raise ApiError(400, "BadRequest", f"reason must be OOMKilled or Evicted: {reason}")
        with self._lock:
            pod = self._pods.get((namespace, name))
        if pod is None:
            raise POD.not_found(name)
        pod.forced = reason
        pod.kill()
        return {"terminated": name, "reason": reason}

    def shutdown(self) -> None:
        self._stopping = True
        with self._lock:
            pods = list(self._pods.values())
        for pod in pods:
            pod.kill()

    # Reconciling -----------------------------------------------------------------------------
    def _on_change(self, event: str, kind: Kind, obj: dict[str, Any]) -> None:
        if kind != JOB:
            return
        if event == "ADDED":
            threading.Thread(target=self._run_job, args=(obj,), daemon=True,
                             name=f"job-{obj['metadata']['name']}").start()
        elif event == "DELETED":
            threading.Thread(target=self._collect, args=(obj,), daemon=True).start()

    def _collect(self, job: dict[str, Any]) -> None:
        """The garbage collector: what the deleted Job owned goes too."""
        uid = job["metadata"]["uid"]
        namespace = job["metadata"]["namespace"]
        for kind in (POD, SECRET_KIND):
            for obj in self.store.list(kind, namespace)["items"]:
                owners = obj["metadata"].get("ownerReferences") or []
                if any(o.get("uid") == uid for o in owners):
                    with self._lock:
                        pod = self._pods.pop((namespace, obj["metadata"]["name"]), None)
                    if pod is not None:
                        pod.kill()
                    try:
                        self.store.delete(kind, namespace, obj["metadata"]["name"])
                    except ApiError:
                        pass

    def _run_job(self, job: dict[str, Any]) -> None:
        meta, spec = job["metadata"], job["spec"]
        namespace, name = meta["namespace"], meta["name"]
        completions = int(spec.get("completions") or 1)
        slots = threading.Semaphore(max(1, int(spec.get("parallelism") or 1)))
        started = _now()
        done: dict[str, list[int]] = {"succeeded": [], "failed": []}
        threads = []
        for index in range(completions):
            slots.acquire()
            if self._stopping or not self._exists(JOB, namespace, name):
                return
            self._job_status(job, started, done, active=len(threads) - sum(map(len,
                                                                                done.values())))
            thread = threading.Thread(target=self._run_index, daemon=True,
                                      args=(job, index, slots, done, started))
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()
        finished = self._job_status(job, started, done, active=0, final=True)
        ttl = spec.get("ttlSecondsAfterFinished")
        if finished and ttl is not None:
            time.sleep(float(ttl))
            try:
                self.store.delete(JOB, namespace, name)
            except ApiError:
                pass

    def _exists(self, kind: Kind, namespace: str, name: str) -> bool:
        try:
            self.store.get(kind, namespace, name)
            return True
        except ApiError:
            return False

    def _run_index(self, job: dict[str, Any], index: int, slots: threading.Semaphore,
                   done: dict[str, list[int]], started: str) -> None:
        try:
            outcome = self._run_pod(job, index)
            with self._lock:
                done[outcome].append(index)
            self._job_status(job, started, done, active=None)
        finally:
            slots.release()

    def _job_status(self, job: dict[str, Any], started: str, done: dict[str, list[int]],
                    active: int | None, final: bool = False) -> bool:
        meta = job["metadata"]
        with self._lock:
            succeeded, failed = list(done["succeeded"]), list(done["failed"])
        status: dict[str, Any] = {"startTime": started, "succeeded": len(succeeded),
                                  "failed": len(failed), "ready": 0,
                                  "completedIndexes": _ranges(succeeded),
                                  "failedIndexes": _ranges(failed)}
        if active is not None:
            status["active"] = active
        if final:
            kind = "Failed" if failed else "Complete"
            reason = "FailedIndexes" if failed else "CompletionsReached"
            status["conditions"] = [{"type": kind, "status": "True", "reason": reason,
                                     "lastProbeTime": _now(), "lastTransitionTime": _now()}]
            status["completionTime" if not failed else "startTime"] = \
                _now() if not failed else started
        return self.store.set_status(JOB, meta["namespace"], meta["name"], status)

    # The kubelet -----------------------------------------------------------------------------
    def _pod_object(self, job: dict[str, Any], index: int) -> dict[str, Any]:
        meta, template = job["metadata"], job["spec"]["template"]
        labels = {**((template.get("metadata") or {}).get("labels") or {}),
                  JOB_NAME: meta["name"], "job-name": meta["name"],
                  "controller-uid": meta["uid"], INDEX: str(index)}
        return {"metadata": {"name": f"{meta['name']}-{index}-{secrets.token_hex(3)[:5]}",
                             "labels": labels, "annotations": {INDEX: str(index)},
                             "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                                                  "name": meta["name"], "uid": meta["uid"],
                                                  "controller": True}]},
                "spec": {**template["spec"], "hostname": f"{meta['name']}-{index}",
                         "nodeName": "wren-double-node"}}

    def _set_pod(self, namespace: str, name: str, phase: str, **extra: Any) -> None:
        self.store.set_status(POD, namespace, name, {"phase": phase, **extra})

    def _command(self, image: str, name: str, env_file: Path) -> tuple[list[str], bool]:
        if image in self.images:
            return list(self.images[image]), False
        if self.registry and image.startswith(f"{self.registry}/") and \
                registry_has(self.registry, image):
            return ["podman", "run", "--rm", "--name", name, "--network", "host", "--pull",
                    "missing", "--env-file", str(env_file), image], True
        raise FileNotFoundError(image)

    def _run_pod(self, job: dict[str, Any], index: int) -> str:
        namespace = job["metadata"]["namespace"]
        body = self.store.create(POD, namespace, self._pod_object(job, index))
        name, spec = body["metadata"]["name"], body["spec"]
        container = spec["containers"][0]
        waiting = {"name": container["name"], "ready": False, "restartCount": 0,
                   "image": container["image"], "imageID": ""}
        try:
            env = {**container_env(self.store, namespace, container),
                   "JOB_COMPLETION_INDEX": str(index)}
        except LookupError as exc:
            self._set_pod(namespace, name, "Pending", containerStatuses=[{**waiting, "state": {
                "waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}}}])
            return "failed"
        env_file = self.workdir / f"{namespace}.{name}.env"
        env_file.touch(mode=0o600)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        try:
            command, podman = self._command(container["image"], f"wren-pod-{name}", env_file)
        except FileNotFoundError:
            self._set_pod(namespace, name, "Pending", containerStatuses=[{**waiting, "state": {
                "waiting": {"reason": "ErrImagePull", "message": f'failed to pull and unpack '
                            f'image "{container["image"]}": not found'}}}])
            return "failed"
        pod = _Pod(namespace, name)
        pod.container = f"wren-pod-{name}" if podman else ""
        with self._lock:
            self._pods[(namespace, name)] = pod
        run_env = dict(os.environ) if podman else {**PROCESS_ENV, **env,
                                                   "HOME": str(self.workdir)}
        with open(self.workdir / f"{namespace}.{name}.log", "ab") as log:
            pod.process = subprocess.Popen(command, env=run_env, cwd=self.workdir,
                                           stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        started = _now()
        self._set_pod(namespace, name, "Running", startTime=started, containerStatuses=[
            {**waiting, "ready": True, "started": True,
             "state": {"running": {"startedAt": started}}}])
        deadline = spec.get("activeDeadlineSeconds")
        try:
            code = pod.process.wait(float(deadline) if deadline else None)
        except subprocess.TimeoutExpired:
            pod.forced = "DeadlineExceeded"
            pod.kill()
            code = pod.process.wait()
        if podman and pod.forced:
            pod.kill()
        with self._lock:
            self._pods.pop((namespace, name), None)
        env_file.unlink(missing_ok=True)
        return self._ended(namespace, name, waiting, started, code, pod.forced)

    def _ended(self, namespace: str, name: str, waiting: dict[str, Any], started: str,
               code: int, forced: str | None) -> str:
        code = 137 if forced else (128 - code if code < 0 else code)
        reason = "OOMKilled" if forced == "OOMKilled" else (
            "Completed" if code == 0 else "Error")
        terminated = {"exitCode": code, "reason": reason, "startedAt": started,
                      "finishedAt": _now()}
        statuses = [{**waiting, "state": {"terminated": terminated}}]
        if forced == "Evicted":
            self._set_pod(namespace, name, "Failed", reason="Evicted", message=EVICTION,
                          containerStatuses=statuses, conditions=[
                              {"type": "DisruptionTarget", "status": "True",
                               "reason": "TerminationByKubelet", "message": EVICTION,
                               "lastTransitionTime": _now()}])
        elif forced == "DeadlineExceeded":
            self._set_pod(namespace, name, "Failed", reason="DeadlineExceeded",
                          message="Pod was active on the node longer than the specified "
                                  "deadline", containerStatuses=statuses)
        else:
            self._set_pod(namespace, name, "Succeeded" if code == 0 else "Failed",
                          containerStatuses=statuses)
        return "succeeded" if code == 0 and not forced else "failed"


def process_image(entry: Path) -> list[str]:
    """The command of a process-run image: the entry point with this interpreter."""
    return [sys.executable, str(entry)]

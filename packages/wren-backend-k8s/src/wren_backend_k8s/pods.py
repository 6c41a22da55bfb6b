"""`PodWatcher`: turns the pods of wren's Jobs that fail into errors on their calls.

One thread per client watches the pods labelled with its client id. A pod that ends `Failed`
(its container OOMKilled, the pod Evicted or past its deadline, or the runtime exiting with an
error) or that can never start (its image cannot be pulled, its Secret is missing) means its
task will not report: the task is found by the pod's Job and completion index, and its calls
are reported lost with the pod's reason, once. Calls that already reported keep their result.
Crashes of single calls inside a running pod are reported by the pod itself (wren's
supervised pool); this covers what kills the whole pod.
"""

from __future__ import annotations

import logging
from typing import Any

from wren.dispatch import ArrayWatcher

from wren_backend_k8s.cluster import Cluster
from wren_backend_k8s.manifest import CLIENT_LABEL

logger = logging.getLogger("wren")

INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
JOB_LABEL = "batch.kubernetes.io/job-name"
#: Waiting reasons of a container that will never start without a change.
STUCK = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError")
#: Seconds one watch request lasts before it is made again.
WATCH_SECONDS = 300


def failure_reason(pod: dict[str, Any]) -> str | None:
    """Why this pod's task will never report, or None while it may."""
    name, status = pod["metadata"]["name"], pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        ended, waiting = state.get("terminated") or {}, state.get("waiting") or {}
        if ended.get("reason") == "OOMKilled":
            limit = ((pod["spec"]["containers"][0].get("resources") or {}).get("limits") or {}
                     ).get("memory", "?")
            return (f"the pod {name} was OOMKilled: it used more than its memory limit of "
                    f"{limit}; raise `runtime_memory` in the `k8s` config section")
        if waiting.get("reason") in STUCK:
            return (f"the pod {name} cannot start: {waiting['reason']}: "
                    f"{waiting.get('message', '')}".rstrip(": "))
        if status.get("phase") == "Failed" and ended and not status.get("reason"):
            detail = ": ".join(str(ended[k]) for k in ("reason", "message") if ended.get(k))
            return (f"the pod {name} failed: its container exited with code "
                    f"{ended.get('exitCode')}{f' ({detail})' if detail else ''}")
    if status.get("phase") == "Failed":
        return (f"the pod {name} was {status.get('reason') or 'Failed'}: "
                f"{status.get('message') or 'no message'}")
    return None


class PodWatcher(ArrayWatcher):
    """Watches one client's pods (one watch stream) and reports the ones that fail."""

    join_timeout = 0.0  # the watch request blocks up to WATCH_SECONDS: never wait for it

    def __init__(self, cluster: Cluster, client: str) -> None:
        super().__init__(f"wren-k8s-pods-{client}")
        self.cluster, self.client = cluster, client

    def seen(self, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        job = (meta.get("labels") or {}).get(JOB_LABEL)
        index = (meta.get("annotations") or {}).get(INDEX_ANNOTATION)
        reason = failure_reason(pod)
        if job is not None and index is not None and reason is not None:
            self.report(job, int(index), reason)

    def watch(self) -> None:
        while not self.stopping.is_set():
            try:
                for event in self.cluster.watch_pods(f"{CLIENT_LABEL}={self.client}",
                                                     WATCH_SECONDS):
                    if self.stopping.is_set():
                        return
                    obj = event.get("raw_object") or event.get("object")
                    if isinstance(obj, dict):
                        self.seen(obj)
            except Exception as exc:  # the API went away for a moment: watch again
                logger.debug("k8s: watching pods failed (%s); watching again", exc)
                self.stopping.wait(1.0)

"""`Cluster`: the Kubernetes API as the k8s backend uses it (`wren.kube.KubeCluster`, plus Jobs).

Jobs go through `BatchV1Api`, pods and Secrets through `CoreV1Api`; every call has a time
limit and a refusal becomes a `K8sError` quoting the API's `Status` message. Deleting a Job
asks for background propagation, so Kubernetes' garbage collector removes its pods and the
Secret it owns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wren.kube import KubeCluster

from wren_backend_k8s.errors import K8sError


class Cluster(KubeCluster):
    """One cluster and namespace, with the Jobs and pods of wren."""

    section = "k8s"
    error = K8sError

    def __init__(self, kubecfg_path: str | None = None, context: str | None = None,
                 namespace: str | None = None) -> None:
        from kubernetes import client

        super().__init__(kubecfg_path, context, namespace)
        self.batch = client.BatchV1Api(self.api_client)

    def create_job(self, body: dict[str, Any]) -> Any:
        return self.call(f"create Job {body['metadata']['name']!r}",
                         self.batch.create_namespaced_job, self.namespace, body)

    def read_job(self, name: str) -> Any:
        return self.call(f"read Job {name!r}", self.batch.read_namespaced_job, name,
                         self.namespace, missing_ok=True)

    def list_jobs(self, selector: str) -> list[Any]:
        found = self.call("list Jobs", self.batch.list_namespaced_job, self.namespace,
                          label_selector=selector)
        return list(found.items or [])

    def delete_job(self, name: str) -> bool:
        found = self.call(f"delete Job {name!r}", self.batch.delete_namespaced_job, name,
                          self.namespace, propagation_policy="Background", missing_ok=True)
        return found is not None

    def own_secret(self, name: str, job: Any) -> None:
        """Make Secret `name` belong to `job`: it is deleted with the Job."""
        owner = {"apiVersion": "batch/v1", "kind": "Job", "name": job.metadata.name,
                 "uid": job.metadata.uid}
        self.call(f"patch Secret {name!r}", self.core.patch_namespaced_secret, name,
                  self.namespace, {"metadata": {"ownerReferences": [owner]}})

    def watch_pods(self, selector: str, timeout: int) -> Iterator[dict[str, Any]]:
        """Pod events (`{"type": ..., "object": pod}`) for up to `timeout` seconds."""
        from kubernetes import watch

        stream = watch.Watch().stream(self.core.list_namespaced_pod, self.namespace,
                                      label_selector=selector, timeout_seconds=timeout,
                                      _request_timeout=(10, timeout + 30))
        yield from stream

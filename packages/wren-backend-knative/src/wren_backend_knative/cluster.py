"""`Cluster`: the Kubernetes API, as the knative backend uses it, with errors that say what to do.

Access comes from a kubeconfig (`kubecfg_path`, else `$KUBECONFIG`, else `~/.kube/config`,
with an optional `context`) or, inside a pod, from the service account. Knative Services go
through `CustomObjectsApi` (`serving.knative.dev/v1`, plural `services`), Secrets and the
ingress gateway's Service through `CoreV1Api`. Every call has a time limit, and a refusal
(`Status` body) or an unreachable server becomes a `KnativeError` that quotes the API's
message and names the cluster.
"""

from __future__ import annotations

from typing import Any

from wren.kube import KubeCluster

from wren_backend_knative.errors import KnativeError

GROUP, VERSION, PLURAL = "serving.knative.dev", "v1", "services"


class Cluster(KubeCluster):
    """One cluster and namespace, reached through the `kubernetes` client
    (`wren.kube.KubeCluster`), with Knative Services."""

    section = "knative"
    error = KnativeError

    def __init__(self, kubecfg_path: str | None = None, context: str | None = None,
                 namespace: str | None = None) -> None:
        from kubernetes import client

        super().__init__(kubecfg_path, context, namespace)
        self.custom = client.CustomObjectsApi(self.api_client)

    def check(self) -> str:
        """The cluster's version; an error unless Knative Serving is installed."""
        version = self.call("read its version", self.version_api.get_code)
        found = self.call("list the serving.knative.dev/v1 resources",
                          self.custom.get_api_resources, GROUP, VERSION, missing_ok=True)
        if found is None:
            raise KnativeError(f"Knative Serving is not installed on the cluster at {self.host}"
                               f": its API group {GROUP}/{VERSION} is missing. Install Knative "
                               "Serving, or choose another compute backend")
        return str(version.git_version)

    # Knative Services ---------------------------------------------------------------------
    def _svc(self, what: str, verb: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.custom, f"{verb}_namespaced_custom_object")
        return self.call(what, method, GROUP, VERSION, self.namespace, PLURAL, *args, **kwargs)

    def get_service(self, name: str) -> dict[str, Any] | None:
        return self._svc(f"read Knative Service {name!r}", "get", name, missing_ok=True)

    def create_service(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        return self._svc(f"create Knative Service {name!r}", "create", body)

    def replace_service(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._svc(f"replace Knative Service {name!r}", "replace", name, body)

    def patch_service(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self._svc(f"patch Knative Service {name!r}", "patch", name, patch)

    def delete_service(self, name: str) -> bool:
        found = self._svc(f"delete Knative Service {name!r}", "delete", name, missing_ok=True)
        return found is not None

    def list_services(self, label_selector: str) -> list[dict[str, Any]]:
        found = self._svc("list Knative Services", "list", label_selector=label_selector)
        return list(found.get("items") or [])

    # The ingress gateway ------------------------------------------------------------------
    def read_core_service(self, namespace: str, name: str) -> Any:
        return self.call(f"read Service {namespace}/{name}",
                         self.core.read_namespaced_service, name, namespace, missing_ok=True)

    def node_addresses(self) -> list[tuple[str, str]]:
        """(type, address) of every node, e.g. ("InternalIP", "10.0.0.4")."""
        nodes = self.call("list nodes", self.core.list_node)
        return [(a.type, a.address) for node in nodes.items
                for a in ((node.status.addresses if node.status else None) or [])]

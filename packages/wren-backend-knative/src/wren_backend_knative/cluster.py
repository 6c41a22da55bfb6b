"""`Cluster`: the Kubernetes API, as the knative backend uses it, with errors that say what to do.

Access comes from a kubeconfig (`kubecfg_path`, else `$KUBECONFIG`, else `~/.kube/config`,
with an optional `context`) or, inside a pod, from the service account. Knative Services go
through `CustomObjectsApi` (`serving.knative.dev/v1`, plural `services`), Secrets and the
ingress gateway's Service through `CoreV1Api`. Every call has a time limit, and a refusal
(`Status` body) or an unreachable server becomes a `KnativeError` that quotes the API's
message and names the cluster.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wren_backend_knative.errors import KnativeError

GROUP, VERSION, PLURAL = "serving.knative.dev", "v1", "services"
NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#: (connect, read) seconds for each API call.
REQUEST_TIMEOUT = (10, 60)


def _kubeconfig_path(configured: str | None) -> Path | None:
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise KnativeError(f"the kubeconfig {str(path)!r} named by `kubecfg_path` in the "
                               "`knative` config section does not exist; fix the path")
        return path
    listed = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    for candidate in (listed, str(Path.home() / ".kube" / "config")):
        if candidate and Path(candidate).expanduser().is_file():
            return Path(candidate).expanduser()
    return None


def _status_message(exc: Any) -> str:
    """The `message` of a Kubernetes `Status` body, else the raw reason."""
    try:
        body = json.loads(exc.body or "")
        return f"{body.get('message') or exc.reason} ({body.get('reason') or exc.reason}, " \
               f"HTTP {exc.status})"
    except (TypeError, ValueError, AttributeError):
        return f"{exc.reason} (HTTP {exc.status})"


class Cluster:
    """One cluster and namespace, reached through the `kubernetes` client."""

    def __init__(self, kubecfg_path: str | None = None, context: str | None = None,
                 namespace: str | None = None) -> None:
        from kubernetes import client
        from kubernetes import config as kube_config

        configuration = client.Configuration()
        own_namespace = None
        path = _kubeconfig_path(kubecfg_path)
        if path is not None:
            try:
                kube_config.load_kube_config(config_file=str(path), context=context,
                                             client_configuration=configuration,
                                             persist_config=False)
                contexts, current = kube_config.list_kube_config_contexts(str(path))
            except Exception as exc:
                raise KnativeError(f"cannot use the kubeconfig {str(path)!r}"
                                   f"{f' with context {context!r}' if context else ''}: {exc}. "
                                   "Fix the file, or set `context` in the `knative` config "
                                   "section to one of its contexts") from exc
            chosen = next((c for c in contexts if c.get("name") == context), None) \
                if context else current
            own_namespace = ((chosen or {}).get("context") or {}).get("namespace")
            self.where = f"context {(chosen or {}).get('name')!r} of {str(path)!r}"
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            kube_config.load_incluster_config(client_configuration=configuration)
            if os.path.isfile(NAMESPACE_FILE):
                own_namespace = Path(NAMESPACE_FILE).read_text().strip() or None
            self.where = "the pod's service account"
        else:
            raise KnativeError("no Kubernetes cluster is configured: set `kubecfg_path` in the "
                               "`knative` config section, set KUBECONFIG, or create "
                               "~/.kube/config (inside a pod, the service account is used)")
        self.host = str(configuration.host)
        self.namespace = namespace or own_namespace or "default"
        self.api_client = client.ApiClient(configuration)
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self.version_api = client.VersionApi(self.api_client)

    def call(self, what: str, method: Callable[..., Any], *args: Any,
             missing_ok: bool = False, **kwargs: Any) -> Any:
        """`method(*args, **kwargs)` with a time limit; None for 404 when `missing_ok`."""
        from kubernetes.client.exceptions import ApiException

        try:
            return method(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
        except ApiException as exc:
            if exc.status == 404 and missing_ok:
                return None
            hint = f"; check the credentials of {self.where}" if exc.status in (401, 403) \
                else ""
            raise KnativeError(f"the Kubernetes API at {self.host} refused to {what}: "
                               f"{_status_message(exc)}{hint}") from exc
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("urllib3", "socket", "ssl") and \
                    not isinstance(exc, OSError):
                raise
            raise KnativeError(f"cannot reach the Kubernetes API at {self.host} "
                               f"({self.where}) to {what}: {exc}") from exc

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

    # Secrets and the ingress gateway ------------------------------------------------------
    def get_secret(self, name: str) -> Any:
        return self.call(f"read Secret {name!r}", self.core.read_namespaced_secret, name,
                         self.namespace, missing_ok=True)

    def create_secret(self, body: dict[str, Any]) -> Any:
        return self.call(f"create Secret {body['metadata']['name']!r}",
                         self.core.create_namespaced_secret, self.namespace, body)

    def replace_secret(self, name: str, body: dict[str, Any]) -> Any:
        return self.call(f"replace Secret {name!r}", self.core.replace_namespaced_secret,
                         name, self.namespace, body)

    def delete_secret(self, name: str) -> bool:
        found = self.call(f"delete Secret {name!r}", self.core.delete_namespaced_secret, name,
                          self.namespace, missing_ok=True)
        return found is not None

    def read_core_service(self, namespace: str, name: str) -> Any:
        return self.call(f"read Service {namespace}/{name}",
                         self.core.read_namespaced_service, name, namespace, missing_ok=True)

    def node_addresses(self) -> list[tuple[str, str]]:
        """(type, address) of every node, e.g. ("InternalIP", "10.0.0.4")."""
        nodes = self.call("list nodes", self.core.list_node)
        return [(a.type, a.address) for node in nodes.items
                for a in ((node.status.addresses if node.status else None) or [])]

    def close(self) -> None:
        self.api_client.close()

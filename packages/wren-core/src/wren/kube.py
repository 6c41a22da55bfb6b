"""`KubeCluster`: a Kubernetes API and namespace, as every adapter that runs on Kubernetes reaches it.

Access comes from a kubeconfig (`kubecfg_path`, else `$KUBECONFIG`, else `~/.kube/config`,
with an optional `context`) or, inside a pod, from the service account; the namespace from
the config, else the context's (or the pod's), else `default`. `call` gives every API call a
time limit and turns a refusal (a `Status` body) or an unreachable server into the adapter's
own error class, quoting the API's message and naming the cluster. Core Secrets are here
since every such adapter hands its workers their credentials through one. The `kubernetes`
client is the adapter's dependency, imported only when a cluster is opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from wren._errors import WrenError

NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#: (connect, read) seconds for each API call.
REQUEST_TIMEOUT = (10, 60)

__all__ = ["NAMESPACE_FILE", "REQUEST_TIMEOUT", "KubeCluster", "status_message"]


def _kubeconfig_path(configured: str | None, section: str,
                     error: type[Exception]) -> Path | None:
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise error(f"the kubeconfig {str(path)!r} named by `kubecfg_path` in the "
                        f"`{section}` config section does not exist; fix the path")
        return path
    listed = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    for candidate in (listed, str(Path.home() / ".kube" / "config")):
        if candidate and Path(candidate).expanduser().is_file():
            return Path(candidate).expanduser()
    return None


def status_message(exc: Any) -> str:
    """The `message` of a Kubernetes `Status` body (an `ApiException`), else its reason."""
    try:
        body = json.loads(exc.body or "")
        return f"{body.get('message') or exc.reason} ({body.get('reason') or exc.reason}, " \
               f"HTTP {exc.status})"
    except (TypeError, ValueError, AttributeError):
        return f"{exc.reason} (HTTP {exc.status})"


class KubeCluster:
    """One cluster and namespace, reached through the `kubernetes` client. Subclasses set
    `section` (their config section, named in messages) and `error` (what they raise)."""

    section: ClassVar[str] = "kubernetes"
    error: ClassVar[type[Exception]] = WrenError

    def __init__(self, kubecfg_path: str | None = None, context: str | None = None,
                 namespace: str | None = None) -> None:
        from kubernetes import client
        from kubernetes import config as kube_config

        configuration = client.Configuration()
        own_namespace = None
        path = _kubeconfig_path(kubecfg_path, self.section, self.error)
        if path is not None:
            try:
                kube_config.load_kube_config(config_file=str(path), context=context,
                                             client_configuration=configuration,
                                             persist_config=False)
                contexts, current = kube_config.list_kube_config_contexts(str(path))
            except Exception as exc:
                raise self.error(f"cannot use the kubeconfig {str(path)!r}"
                                 f"{f' with context {context!r}' if context else ''}: {exc}. "
                                 f"Fix the file, or set `context` in the `{self.section}` "
                                 "config section to one of its contexts") from exc
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
            raise self.error("no Kubernetes cluster is configured: set `kubecfg_path` in the "
                             f"`{self.section}` config section, set KUBECONFIG, or create "
                             "~/.kube/config (inside a pod, the service account is used)")
        self.host = str(configuration.host)
        self.namespace = namespace or own_namespace or "default"
        self.api_client = client.ApiClient(configuration)
        self.core = client.CoreV1Api(self.api_client)
        self.version_api = client.VersionApi(self.api_client)

    def call(self, what: str, method: Callable[..., Any], *args: Any,
             missing_ok: bool = False, **kwargs: Any) -> Any:
        """`method(*args, **kwargs)` with a time limit; None for 404 when `missing_ok`."""
        from kubernetes.client.exceptions import ApiException

        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            if exc.status == 404 and missing_ok:
                return None
            hint = f"; check the credentials of {self.where}" if exc.status in (401, 403) \
                else ""
            raise self.error(f"the Kubernetes API at {self.host} refused to {what}: "
                             f"{status_message(exc)}{hint}") from exc
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in ("urllib3", "socket", "ssl") and \
                    not isinstance(exc, OSError):
                raise
            raise self.error(f"cannot reach the Kubernetes API at {self.host} "
                             f"({self.where}) to {what}: {exc}") from exc

    # Secrets ------------------------------------------------------------------------------
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

    def close(self) -> None:
        self.api_client.close()

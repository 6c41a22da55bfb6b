"""Where requests to a runtime go: the ingress gateway's address and the Service's `Host`.

Knative routes by `Host` header: every request goes to the networking layer's gateway and
names the Service in `Host` (from the Service's `status.url`). The gateway is the configured
`ingress_endpoint`, or is found from the cluster: Kourier's `kourier` Service in
`kourier-system`, or Istio's `istio-ingressgateway` in `istio-system`. A load-balancer
address wins; without one, the gateway's node port on a node's address is used (minikube,
kind, bare metal); an https `status.url` (a cluster with auto-TLS, e.g. `http-protocol:
Redirected`) takes the gateway's https port.

A URL in Knative's cluster-local domain (`*.svc.cluster.local`: a Service labelled
`networking.knative.dev/visibility: cluster-local`, or any Service of a cluster whose
config-domain names no domain, Knative's default since 1.9) is not served by the public
gateway (it answers 404). Inside the cluster (`KUBERNETES_SERVICE_HOST` set) wren sends to
that URL itself, which the cluster's DNS resolves to Knative's local gateway; outside, only
a configured `ingress_endpoint` (e.g. a port-forward to `kourier-internal` or Istio's
`knative-local-gateway`) reaches it, and without one `plan_route` raises an error that names
both fixes. Each route carries the runtime's bearer token (never shown in its repr).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

import attrs

from wren_backend_knative.cluster import Cluster
from wren_backend_knative.errors import KnativeError

GATEWAYS = {"kourier": ("kourier-system", "kourier"),
            "istio": ("istio-system", "istio-ingressgateway")}
_HTTP_PORT_NAMES = ("http2", "http", "http80")
_HTTPS_PORT_NAMES = ("https", "https443")
#: Knative's cluster-local domain: URLs in it are not exposed through the public gateway.
CLUSTER_LOCAL_DOMAIN = "svc.cluster.local"
#: The gateway that serves cluster-local URLs, per networking layer (namespace, Service).
LOCAL_GATEWAYS = {"kourier": ("kourier-system", "kourier-internal"),
                  "istio": ("istio-system", "knative-local-gateway")}
_NODE_ADDRESS_ORDER = ("ExternalIP", "InternalIP", "Hostname")


@attrs.frozen
class Route:
    """How to reach one runtime Service: gateway URL and the `Host` it answers to."""

    service: str
    endpoint: str
    host: str
    memory: int = 0
    token: str = attrs.field(default="", repr=False)
    #: The revision's timeoutSeconds: how long Knative lets one request last.
    timeout: float = 600.0

    @property
    def url(self) -> str:
        return self.endpoint + "/"


def check_endpoint(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise KnativeError(f"ingress_endpoint {endpoint!r} in the `knative` config section is "
                           "not a URL; write it as http://HOST:PORT")
    return endpoint.rstrip("/")


def _port(ports: list[Any], scheme: str) -> Any:
    names, number = (_HTTPS_PORT_NAMES, 443) if scheme == "https" else (_HTTP_PORT_NAMES, 80)
    for port in ports:
        if port.name in names or port.port == number:
            return port
    return ports[0] if ports and scheme == "http" else None


def in_cluster() -> bool:
    """Whether this client runs in a Kubernetes pod (where cluster-local names resolve)."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def discover_endpoint(cluster: Cluster, layer: str, scheme: str = "http") -> str:
    """The gateway's URL for `scheme`, read from the cluster."""
    namespace, name = GATEWAYS[layer]
    hint = ("set `ingress_endpoint` in the `knative` config section to the gateway's "
            "address, or `networking_layer` to the layer the cluster runs")
    gateway = cluster.read_core_service(namespace, name)
    if gateway is None:
        raise KnativeError(f"cannot find the {layer} ingress gateway: there is no Service "
                           f"{namespace}/{name} on the cluster at {cluster.host}; {hint}")
    port = _port(list((gateway.spec.ports if gateway.spec else None) or []), scheme)
    if port is None:
        raise KnativeError(f"the {layer} gateway {namespace}/{name} exposes no {scheme} port; "
                           f"{hint}")
    balancer = gateway.status.load_balancer if gateway.status else None
    for entry in (balancer.ingress if balancer else None) or []:
        address = entry.ip or entry.hostname
        if address:
            return f"{scheme}://{address}:{port.port}"
    if port.node_port:
        found = dict(reversed(cluster.node_addresses()))
        for kind in _NODE_ADDRESS_ORDER:
            if found.get(kind):
                return f"{scheme}://{found[kind]}:{port.node_port}"
    raise KnativeError(f"the {layer} gateway {namespace}/{name} has no load-balancer address "
                       f"and no node port to reach it by; {hint}")


def _url(service: Mapping[str, Any]) -> Any:
    url = (service.get("status") or {}).get("url")
    parsed = urlparse(url) if url else None
    if parsed is None or not parsed.netloc:
        name = (service.get("metadata") or {}).get("name")
        raise KnativeError(f"the Knative Service {name!r} is ready but has no URL in its "
                           "status; check the cluster's Knative domain configuration")
    return parsed


def local_hint(layer: str) -> str:
    namespace, name = LOCAL_GATEWAYS[layer]
    return (f"`kubectl port-forward -n {namespace} svc/{name} 8081:80` and set "
            "`ingress_endpoint: http://127.0.0.1:8081` in the `knative` config section, or "
            "run the client in a pod of the cluster")


def plan_route(service: Mapping[str, Any], configured: str | None, layer: str,
               discover: Callable[[str], str], inside: bool) -> tuple[str, str]:
    """(endpoint, Host) for `service`: see the module's docstring. `discover(scheme)`
    finds the public gateway; `inside` says whether the client runs in the cluster."""
    parsed = _url(service)
    host = parsed.netloc
    local = parsed.hostname is not None and (
        parsed.hostname == CLUSTER_LOCAL_DOMAIN or
        parsed.hostname.endswith("." + CLUSTER_LOCAL_DOMAIN))
    if not local:
        return configured or discover(parsed.scheme), host
    if configured:
        return configured, host
    if inside:
        return f"{parsed.scheme}://{host}", host
    meta = service.get("metadata") or {}
    name = meta.get("name")
    if (meta.get("labels") or {}).get("networking.knative.dev/visibility") == "cluster-local":
        raise KnativeError(
            f"the runtime Service {name!r} is cluster-local (visibility: cluster-local): its "
            f"URL {parsed.geturl()} is served only inside the cluster, and this client runs "
            f"outside it. Reach Knative's local gateway: {local_hint(layer)}")
    raise KnativeError(
        f"the cluster gives Knative Service {name!r} the URL {parsed.geturl()}: no domain "
        "is configured, so Knative (1.9 and later) uses the cluster-local domain "
        f"{CLUSTER_LOCAL_DOMAIN}, which its ingress gateway does not serve outside the "
        "cluster (it answers 404). Configure a domain in the config-domain ConfigMap of "
        "knative-serving (e.g. `kubectl patch configmap/config-domain -n knative-serving "
        "--type merge -p '{\"data\":{\"example.com\":\"\"}}'`, or Knative's "
        "serving-default-domain job for sslip.io), or reach the local gateway: "
        f"{local_hint(layer)}")


def service_host(service: Mapping[str, Any]) -> str:
    """The `Host` a Knative Service answers to, from its `status.url`."""
    return str(_url(service).netloc)

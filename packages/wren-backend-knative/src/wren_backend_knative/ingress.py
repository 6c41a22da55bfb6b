"""Where requests to a runtime go: the ingress gateway's address and the Service's `Host`.

Knative routes by `Host` header: every request goes to the networking layer's gateway and
names the Service in `Host` (from the Service's `status.url`). The gateway is the configured
`ingress_endpoint`, or is found from the cluster: Kourier's `kourier` Service in
`kourier-system`, or Istio's `istio-ingressgateway` in `istio-system`. A load-balancer
address wins; without one, the gateway's node port on a node's address is used (minikube,
kind, bare metal). A `cluster-local` Service has no public route: requests go to its
cluster-local address (`status.address.url`, `<name>.<namespace>.svc.cluster.local`, served
by Knative's local gateway), unless `ingress_endpoint` names another way in. Each route
carries the runtime's bearer token (never shown in its repr).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import attrs

from wren_backend_knative.cluster import Cluster
from wren_backend_knative.errors import KnativeError

GATEWAYS = {"kourier": ("kourier-system", "kourier"),
            "istio": ("istio-system", "istio-ingressgateway")}
_HTTP_PORT_NAMES = ("http2", "http", "http80")
_NODE_ADDRESS_ORDER = ("ExternalIP", "InternalIP", "Hostname")


@attrs.frozen
class Route:
    """How to reach one runtime Service: gateway URL and the `Host` it answers to."""

    service: str
    endpoint: str
    host: str
    memory: int = 0
    token: str = attrs.field(default="", repr=False)

    @property
    def url(self) -> str:
        return self.endpoint + "/"


def check_endpoint(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise KnativeError(f"ingress_endpoint {endpoint!r} in the `knative` config section is "
                           "not a URL; write it as http://HOST:PORT")
    return endpoint.rstrip("/")


def _http_port(ports: list[Any]) -> Any:
    for port in ports:
        if port.name in _HTTP_PORT_NAMES or port.port == 80:
            return port
    return ports[0] if ports else None


def discover_endpoint(cluster: Cluster, layer: str) -> str:
    """The gateway's URL, read from the cluster."""
    namespace, name = GATEWAYS[layer]
    hint = ("set `ingress_endpoint` in the `knative` config section to the gateway's "
            "address, or `networking_layer` to the layer the cluster runs")
    gateway = cluster.read_core_service(namespace, name)
    if gateway is None:
        raise KnativeError(f"cannot find the {layer} ingress gateway: there is no Service "
                           f"{namespace}/{name} on the cluster at {cluster.host}; {hint}")
    port = _http_port(list((gateway.spec.ports if gateway.spec else None) or []))
    if port is None:
        raise KnativeError(f"the {layer} gateway {namespace}/{name} exposes no port; {hint}")
    balancer = gateway.status.load_balancer if gateway.status else None
    for entry in (balancer.ingress if balancer else None) or []:
        address = entry.ip or entry.hostname
        if address:
            return f"http://{address}:{port.port}"
    if port.node_port:
        found = dict(reversed(cluster.node_addresses()))
        for kind in _NODE_ADDRESS_ORDER:
            if found.get(kind):
                return f"http://{found[kind]}:{port.node_port}"
    raise KnativeError(f"the {layer} gateway {namespace}/{name} has no load-balancer address "
                       f"and no node port to reach it by; {hint}")


def cluster_local_endpoint(service: Mapping[str, Any]) -> str:
    """The URL a `cluster-local` Service is reached at from inside the cluster."""
    status = service.get("status") or {}
    url = (status.get("address") or {}).get("url") or status.get("url")
    parsed = urlparse(url) if url else None
    if parsed is None or not parsed.netloc:
        name = (service.get("metadata") or {}).get("name")
        raise KnativeError(f"the cluster-local Knative Service {name!r} is ready but has no "
                           "address in its status; check the cluster's Knative setup")
    return f"{parsed.scheme}://{parsed.netloc}"


def service_host(service: Mapping[str, Any]) -> str:
    """The `Host` a Knative Service answers to, from its `status.url`."""
    url = (service.get("status") or {}).get("url")
    host = urlparse(url).netloc if url else ""
    if not host:
        name = (service.get("metadata") or {}).get("name")
        raise KnativeError(f"the Knative Service {name!r} is ready but has no URL in its "
                           "status; check the cluster's Knative domain configuration")
    return host

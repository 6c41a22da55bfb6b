"""A TEST DOUBLE of the Kubernetes API server with Knative Serving installed.

No real kube-apiserver can run on these machines (see ../shared/SERVICES.md), so this stands
in for one, for tests only; it is not part of any wren package. It speaks the REST paths and
bodies the `kubernetes` Python client uses, over plain HTTP on 127.0.0.1 with bearer-token
auth: `GET /version/`, API discovery for `serving.knative.dev/v1`, Knative Services under
`/apis/serving.knative.dev/v1/namespaces/{ns}/services[/{name}]` (POST, GET, list with
`labelSelector`, PUT, PATCH as merge-patch, DELETE), core Secrets, Services and Nodes under
`/api/v1/...`, `batch/v1` Jobs and core Pods (list, get, delete, and `?watch=true` streams of
their changes, `tests.doubles.kube_watch`), and errors as Kubernetes `Status` bodies. Every
object a request writes is validated against the Kubernetes schema with `kubernetes-validate`
(`tests.doubles.kube_schema`). State lives in
`tests.doubles.kube_objects`; Knative's controller (revisions that turn Ready, running the real
runtimes/knative entry point as processes) in `tests.doubles.knative_serving`; the Job
controller and kubelet (indexed Jobs whose pods are real containers, OOMKilled and evicted
pods) in `tests.doubles.kube_batch`; the ingress
gateway that routes by `Host` in `tests.doubles.ingress`. Three paths are not Kubernetes':
`GET /_double/revisions` shows tests the revision processes, and `POST
/_double/ingress-faults` (`{"status": 503, "count": 3}`) makes the gateway fail requests,
and `POST /_double/pods/{ns}/{name}/terminate` (`{"reason": "OOMKilled"}` or `"Evicted"`)
kills a running pod the way the kernel or the kubelet would.

Run it as `python -m tests.doubles.kube_api --token T --image NAME ...`; it prints one JSON
line with its ports once it listens, and stops its processes on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.doubles.ingress import Gateways, QuietHandler
from tests.doubles.knative_serving import (
    CRASHING_COMMAND,
    KSERVICE,
    RUNTIME_ENTRY,
    SECRET,
    KnativeServing,
)
from tests.doubles.kube_batch import JOB, POD, BatchController
from tests.doubles.kube_objects import ApiError, Kind, ObjectStore
from tests.doubles.kube_schema import validate_object
from tests.doubles.kube_watch import stream_events

CORE_SERVICE = Kind("", "v1", "services", "Service", dns1035_names=True)
NODE = Kind("", "v1", "nodes", "Node", namespaced=False)
KINDS = {("serving.knative.dev/v1", "services"): KSERVICE, ("v1", "secrets"): SECRET,
         ("v1", "services"): CORE_SERVICE, ("v1", "nodes"): NODE, ("batch/v1", "jobs"): JOB,
         ("v1", "pods"): POD}
_TERMINATE = re.compile(r"^/_double/pods/(?P<ns>[^/]+)/(?P<name>[^/]+)/terminate$")
_PATH = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                   r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?/?$")
VERSION = {"major": "1", "minor": "31", "gitVersion": "v1.31.0-wren-test-double",
           "platform": "linux/amd64", "goVersion": "go1.22.0", "compiler": "gc",
           "gitCommit": "0000000", "gitTreeState": "clean", "buildDate": "2024-08-13T00:00:00Z"}
KNATIVE_RESOURCES = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "serving.knative.dev/v1",
    "resources": [{"name": plural, "singularName": plural[:-1], "namespaced": True,
                   "kind": kind, "verbs": ["delete", "get", "list", "patch", "create",
                                           "update", "watch"]}
                  for plural, kind in (("services", "Service"), ("revisions", "Revision"),
                                       ("configurations", "Configuration"),
                                       ("routes", "Route"))]}


class _ApiHandler(QuietHandler):
    server: KubeApiServer

    def _send(self, code: int, body: Any) -> None:
        self._answer(code, json.dumps(body).encode(), [("Content-Type", "application/json")])

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ApiError(400, "BadRequest", "the request body is not valid JSON") from None

    def _handle(self) -> None:
        try:
            body = self._body() if self.command in ("POST", "PUT", "PATCH", "DELETE") else None
            if self.headers.get("Authorization") != f"Bearer {self.server.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            code, answer = self._route(body)
            if code == 0:  # a watch: streamed already
                return
        except ApiError as error:
            code, answer = error.code, error.status()
        except Exception as error:  # a bug in the double must show, not hang the client
            code, answer = 500, ApiError(500, "InternalError",
                                         f"test double failed: {error!r}").status()
        self._send(code, answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _route(self, body: Any) -> tuple[int, Any]:
        url = urlparse(self.path)
        if url.path.rstrip("/") == "/version":
            return 200, VERSION
        if url.path.rstrip("/") == "/apis/serving.knative.dev/v1":
            return 200, KNATIVE_RESOURCES
        if url.path == "/_double/revisions":
            return 200, self.server.serving.revisions()
        if url.path == "/_double/ingress-faults" and self.command == "POST":
            self.server.ingress.inject(int(body["status"]), int(body["count"]))
            return 200, {"injected": body}
        terminate = _TERMINATE.match(url.path)
        if terminate and self.command == "POST":
            return 200, self.server.batch.terminate(terminate["ns"], terminate["name"],
                                                    str((body or {}).get("reason")))
        found = _PATH.match(url.path)
        kind = found and KINDS.get((found["core"] or f"{found['group']}/{found['version']}",
                                    found["plural"]))
        if not found or kind is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        store, ns, name = self.server.store, found["ns"] or "", found["name"]
        if kind.namespaced != bool(found["ns"]):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        method = self.command
        if name is None and method == "GET":
            query = parse_qs(url.query)
            selector = (query.get("labelSelector") or [""])[0]
            if (query.get("watch") or [""])[0] in ("true", "1"):
                timeout = float((query.get("timeoutSeconds") or ["1800"])[0])
                stream_events(self, store, kind, ns, selector, timeout)
                return 0, None
            return 200, store.list(kind, ns, selector)
        if name is None and method == "POST":
            return 201, store.create(kind, ns, self._object(body))
        if name is not None and method == "GET":
            return 200, store.get(kind, ns, name)
        if name is not None and method == "PUT":
            return 200, store.replace(kind, ns, name, self._object(body))
        if name is not None and method == "PATCH":
            content = self.headers.get("Content-Type", "")
            if content not in ("application/merge-patch+json",
                               "application/strategic-merge-patch+json"):
                raise ApiError(415, "UnsupportedMediaType",
                               f"the body of the request was in an unknown format - accepted "
                               f"media types include: application/merge-patch+json "
                               f"(got {content!r})")
            return 200, store.patch(kind, ns, name, body)
        if name is not None and method == "DELETE":
            deleted = store.delete(kind, ns, name)
            if kind not in (SECRET, JOB, POD):  # the API answers the object, or a Status
                return 200, deleted
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success", "details": {"name": name, "kind": kind.plural,
                                                          "uid": deleted["metadata"]["uid"]}}
        raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the "
                       f"requested resource ({method})")

    @staticmethod
    def _object(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON object")
        return body


class KubeApiServer(ThreadingHTTPServer):
    """The API server: an object store, Knative's controller, and the ingress gateway."""

    daemon_threads = True

    def __init__(self, token: str, images: dict[str, list[str]], workdir: Path,
                 registry: str | None = None, domain: str = "example.com",
                 http_protocol: str = "Enabled") -> None:
        super().__init__(("127.0.0.1", 0), _ApiHandler)
        self.token = token
        self.store = ObjectStore()
        self.serving = KnativeServing(self.store, images, workdir, registry=registry,
                                      domain=domain, http_protocol=http_protocol)
        self.batch = BatchController(self.store, images, workdir, registry=registry)
        self.store.schema = validate_object
        self.gateways = Gateways(self.serving, workdir)
        self.ingress = self.gateways.public
        self._seed()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def _seed(self) -> None:
        """What a cluster with Knative over Kourier has: the gateways' Services (the public
        one with a load-balancer address; here the ingress doubles) and one node."""
        self.store.create(NODE, "", {"metadata": {"name": "wren-double-node"}, "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": "localhost"}]}})
        for gateway in self.gateways.services():
            self.store.create(CORE_SERVICE, gateway["metadata"].pop("namespace"), gateway)

    def start(self) -> None:
        for server in (self, *self.gateways.servers()):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.batch.shutdown()
        self.serving.shutdown()
        self.gateways.shutdown()
        self.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--token", required=True, help="bearer token clients must send")
    parser.add_argument("--image", action="append", default=[], metavar="NAME[=SCRIPT]",
                        help="an image whose container runs SCRIPT with this interpreter "
                             "(default: the runtimes/knative entry point)")
    parser.add_argument("--crashing-image", action="append", default=[],
                        help="an image whose container exits at once")
    parser.add_argument("--workdir", default=None, help="where revision logs go")
    parser.add_argument("--registry", default=None, metavar="HOST:PORT",
                        help="images from this registry run in podman (its env configures it)")
    parser.add_argument("--domain", default="example.com",
                        help="Knative's domain (svc.cluster.local: none configured)")
    parser.add_argument("--http-protocol", default="Enabled", choices=("Enabled", "Redirected"),
                        help="config-network's http-protocol")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="wren-kube-double-"))
    images = {name: [sys.executable, script or str(RUNTIME_ENTRY)]
              for name, _, script in (item.partition("=") for item in args.image)}
    images.update({name: CRASHING_COMMAND for name in args.crashing_image})
    server = KubeApiServer(args.token, images, workdir, args.registry, args.domain,
                           args.http_protocol)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    gateways = server.gateways
    print(json.dumps({"api_port": server.port, "ingress_port": server.ingress.port,
                      "local_ingress_port": gateways.local.port,
                      "tls_ingress_port": gateways.tls.port if gateways.tls else None,
                      "ca_file": str(gateways.ca_file) if gateways.ca_file else None,
                      "workdir": str(workdir)}), flush=True)
    stop.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
